"""Look things up by name, the way scikit-learn and Keras let you write ``activation="relu"``.

Every family of named things in nblib (activations, output functions, losses, optimizers,
schedules, and later initializers) is a :class:`Registry`: one canonical name per entry, a
few documented aliases for the names other libraries use, and one error message on a typo:

>>> colours = Registry("colour", {"red": 1, "green": 2}, aliases={"rouge": "red"})
>>> colours.get("Rouge")
1
>>> colours.get("gren")
Traceback (most recent call last):
...
ValueError: unknown colour 'gren'; expected one of ['green', 'red']. Did you mean 'green'?
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

__all__ = ["Registry"]

_REQUIRED = object()


class Registry(Mapping):
    """A read-only mapping from canonical names to entries, with aliases and typo hints.

    Parameters
    ----------
    kind : str
        What the entries are, for messages ("activation", "optimizer", ...).
    entries : dict
        Canonical name -> entry. Iterating the registry gives these names only.
    aliases : dict, optional
        Other spellings -> canonical name (scikit-learn's "logistic" for "sigmoid").
    """

    def __init__(self, kind: str, entries: dict, *, aliases: dict | None = None):
        self.kind = kind
        self._entries = {name.lower(): entry for name, entry in entries.items()}   # names are case-insensitive
        self.aliases = {alias.lower(): name.lower() for alias, name in (aliases or {}).items()}
        unknown = set(self.aliases.values()) - set(self._entries)
        if unknown:
            raise ValueError(f"aliases point to unknown {kind} names {sorted(unknown)}")

    def canonical(self, name: str) -> str:
        """The canonical name for ``name`` (case-insensitive, aliases resolved)."""
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a string, got {type(name).__name__}")
        key = self.aliases.get(name.lower(), name.lower())
        if key not in self._entries:
            close = difflib.get_close_matches(key, [*self._entries, *self.aliases], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown {self.kind} {name!r}; expected one of {sorted(self._entries)}.{hint}")
        return key

    def get(self, name: str, default=_REQUIRED):
        """The entry for ``name``; a ``ValueError`` naming the closest name on a typo.

        Given a ``default`` (as ``dict.get``), an unknown name returns it instead.
        """
        if default is not _REQUIRED and name not in self:
            return default
        return self._entries[self.canonical(name)]

    def __getitem__(self, name: str):
        return self.get(name)

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and self.aliases.get(name.lower(), name.lower()) in self._entries

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {sorted(self._entries)})"
