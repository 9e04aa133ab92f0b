"""See your own function at work: the hook that puts a student's functions into a demo.

Every demo that can show a student's work takes ``yours=``, their functions by name::

    SoftmaxExplorer(yours={"softmax": softmax})

For each drawing the demo calls nblib's function and the student's on the same input,
through :meth:`Yours.compare`, draws both (nblib's solid, the student's dashed or beside it),
and shows one line: the two agree, or where they first differ and by how much. A student's
function that raises, returns the wrong shape or is not written yet (it still raises
``NotImplementedError``) never breaks the demo: the line says so and nblib's result is drawn
alone. The student's function gets copies of the inputs, so it cannot change what nblib sees.

A demo lists the names it accepts in its class attribute ``YOURS``; an unknown name is an
error, so a typo does not silently show the reference only.
"""

from __future__ import annotations

import copy
import html
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Comparison", "Yours", "difference", "RTOL", "ATOL"]

RTOL, ATOL = 1e-6, 1e-9  # "agrees": |yours - nblib's| <= ATOL + RTOL |nblib's|, elementwise


@dataclass(frozen=True)
class Comparison:
    """What one call gave: nblib's result, the student's (``None`` when unusable) and the line.

    ``theirs`` has the structure of ``reference`` (an array, or a tuple of arrays) whenever it
    is not ``None``, so a demo can draw it the way it draws the reference.
    """
    name: str
    reference: Any
    theirs: Any | None
    line: str
    agrees: bool

    @property
    def html(self) -> str:
        """The line, coloured: green when the two agree, red when they differ, grey otherwise."""
        colour = "#067647" if self.agrees else ("#b42318" if self.theirs is not None else "#667085")
        mark = "✓" if self.agrees else ("✗" if self.theirs is not None else "…")
        return f'<span style="color:{colour}">{mark} {html.escape(self.line)}</span>'


class Yours:
    """The student's functions a demo draws next to nblib's.

    Parameters
    ----------
    functions : mapping of str to callable, or None
        The student's functions by name; None (or an empty mapping) shows nblib's only.
    accepted : sequence of str
        The names the demo knows how to draw (its ``YOURS``).
    demo : str
        The demo's name, for error messages.

    Example
    -------
    >>> from nblib import losses
    >>> def my_softmax(z):
    ...     e = np.exp(z)          # no max shift
    ...     return e / e.sum()
    >>> yours = Yours({"softmax": my_softmax}, accepted=("softmax",), demo="SoftmaxExplorer")
    >>> yours.compare("softmax", losses.softmax, np.array([1.0, 2.0])).line
    "your softmax agrees with nblib's (largest difference 0)"
    >>> yours.compare("softmax", losses.softmax, np.array([1000.0, 0.0])).line
    "your softmax first differs at [0]: nan against nblib's 1 (nan or inf in yours)"
    """

    def __init__(self, functions: Mapping[str, Callable] | None, *, accepted, demo: str):
        functions = dict(functions or {})
        unknown = sorted(set(functions) - set(accepted))
        if unknown:
            raise ValueError(f"{demo} can show your {', '.join(accepted)}, not {', '.join(map(repr, unknown))}")
        for name, function in functions.items():
            if function is not None and not callable(function):
                raise TypeError(f"yours[{name!r}] must be your function {name}, got {type(function).__name__}")
        self.functions = functions

    def __bool__(self) -> bool:
        return bool(self.functions)

    def __contains__(self, name: str) -> bool:
        return name in self.functions

    def compare(self, name: str, reference: Callable, *args, **kwargs) -> Comparison:
        """Call nblib's ``reference`` and the student's ``name`` on the same arguments, and compare.

        The student's function gets deep copies of the arguments; whatever it raises or prints
        as a warning is caught and described in the line.
        """
        expected = reference(*args, **kwargs)
        if name not in self.functions:
            return Comparison(name, expected, None, "", False)
        function = self.functions[name]
        if function is None:
            return Comparison(name, expected, None, f"your {name} is not defined yet: run its exercise's cell first", False)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                got = function(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        except NotImplementedError:
            return Comparison(name, expected, None,
                              f"your {name} is not written yet (it raises NotImplementedError): nblib's is drawn alone", False)
        except Exception as error:  # a student's bug: described, never raised into the demo
            return Comparison(name, expected, None, f"your {name} raised {type(error).__name__}: {_short(error)}", False)
        theirs, problem = _like(expected, got)
        if problem:
            return Comparison(name, expected, None, f"your {name} {problem}", False)
        where = difference(expected, theirs)
        if where is None:
            return Comparison(name, expected, theirs,
                              f"your {name} agrees with nblib's (largest difference {_largest(expected, theirs):.2g})", True)
        return Comparison(name, expected, theirs, f"your {name} {where}", False)


def difference(expected, theirs) -> str | None:
    """None when ``theirs`` agrees with ``expected`` (same structure), else where it first differs.

    Example
    -------
    >>> difference(np.array([0.5, 0.5]), np.array([0.5, 0.4]))
    "first differs at [1]: 0.4 against nblib's 0.5 (largest difference 0.1)"
    """
    if isinstance(expected, tuple):
        for k, (e, t) in enumerate(zip(expected, theirs), 1):
            where = difference(e, t)
            if where is not None:
                return f"(output {k} of {len(expected)}) {where}"
        return None
    theirs, expected = np.asarray(theirs, dtype=float), np.asarray(expected, dtype=float)  # a float is an array of ()
    close = np.isclose(theirs, expected, rtol=RTOL, atol=ATOL)
    if close.all():
        return None
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    at = f" at {list(first)}" if first else ""
    got, want = theirs[first], expected[first]
    if not np.isfinite(theirs).all():
        return f"first differs{at}: {got:.4g} against nblib's {want:.4g} (nan or inf in yours)"
    return f"first differs{at}: {got:.4g} against nblib's {want:.4g} (largest difference {_largest(expected, theirs):.2g})"


def _like(expected, got) -> tuple[Any, str | None]:
    """``got`` in the structure of ``expected`` (arrays of floats), or None and what is wrong."""
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return None, f"returned {_kind(got)}; nblib's returns {len(expected)} values"
        parts = [_like(e, g) for e, g in zip(expected, got)]
        for k, (_, problem) in enumerate(parts, 1):
            if problem:
                return None, f"(output {k} of {len(expected)}) {problem}"
        return tuple(p for p, _ in parts), None
    if got is None:
        return None, "returned None: is a return missing?"
    try:
        array = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None, f"returned {_kind(got)}, not numbers"
    want = np.shape(expected)
    if array.shape != want:
        return None, f"returned shape {array.shape}; nblib's has shape {want}"
    return array, None


def _largest(expected, theirs) -> float:
    if isinstance(expected, tuple):
        return max((_largest(e, t) for e, t in zip(expected, theirs)), default=0.0)
    return float(np.max(np.abs(np.asarray(theirs) - np.asarray(expected)), initial=0.0))


def _kind(value) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def _short(error: Exception, limit: int = 120) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else "(no message)"
    return text if len(text) <= limit else text[:limit - 1] + "…"
