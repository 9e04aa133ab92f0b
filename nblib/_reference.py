"""Reference answers that a homework test can switch off.

A homework exercise must not be passable by calling nblib's own implementation of the very
function it asks for. nblib marks such functions with ``@reference``; while a test runs the
student's function inside ``disabled(fn, exercise=...)``, calling ``fn`` from the student's
code (under any alias: the switch is checked inside the function, not on the module
attribute) raises ``ReferenceDisabled`` with a message that says why.

The guard looks at who calls: nblib calling its own functions is never stopped, so the
library can build on itself (``mlp.forward`` on ``layers.dense_forward``, a stand-in on the
function it stands in for) without private copies of the maths. A test that must also keep
the student away from a higher-level function that computes the answer switches that one
off too.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys

__all__ = ["reference", "disabled", "standing_in", "ReferenceDisabled"]

_disabled: dict[str, str] = {}  # reference name -> exercise that switched it off
_standing_in: dict[str, object] = {}  # notebook global name -> nblib function used in its place


class ReferenceDisabled(AssertionError):
    """Raised when a student's code calls the reference answer of the exercise under test."""


def reference(obj):
    """Mark a function as a homework exercise's reference answer (a decorator).

    A class is marked through its constructor: while it is switched off, making one outside
    nblib raises, and its methods need an instance, so they are out of reach too.
    """
    if isinstance(obj, type):
        obj.__init__ = _guarded(obj.__init__, f"{obj.__module__}.{obj.__qualname__}")
        obj.reference_name = obj.__init__.reference_name
        return obj
    return _guarded(obj, f"{obj.__module__}.{obj.__name__}")


def _guarded(fn, name: str):
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        if name in _disabled and not _called_by_nblib():
            raise ReferenceDisabled(
                f"{_disabled[name]} asks you to write this yourself, so {name}() is switched "
                f"off while your function is tested. Write the computation with numpy instead."
            )
        return fn(*args, **kwargs)

    guarded.__signature__ = inspect.signature(fn)  # keep help() readable ...
    del guarded.__wrapped__  # ... without handing out the unguarded function
    guarded.reference_name = name
    return guarded


_NBLIB = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _called_by_nblib() -> bool:
    """Whether the guarded function's caller is nblib's own code (frames: this, guarded, caller).

    Like every check in the student's kernel this can be fooled; the grader does not rely on it
    (honesty notes and the hidden tests do the judging), it only explains a shortcut early.
    """
    return sys._getframe(2).f_code.co_filename.startswith(_NBLIB)


@contextlib.contextmanager
def disabled(*functions, exercise: str):
    """Switch off the given ``@reference`` functions inside the ``with`` block."""
    names = []
    for fn in functions:
        name = getattr(fn, "reference_name", None)
        if name is None:
            raise TypeError(f"{fn!r} is not an nblib reference function")
        names.append(name)
    previous = {n: _disabled[n] for n in names if n in _disabled}
    _disabled.update({n: exercise for n in names})
    try:
        yield
    finally:
        for n in names:
            _disabled.pop(n, None)
        _disabled.update(previous)


@contextlib.contextmanager
def standing_in(**functions):
    """Inside the ``with`` block, the notebook's globals of these names are nblib's functions.

    So a later exercise is tested on its own: while ``converges`` is tested, the
    ``train_perceptron`` it calls is nblib's, and a mistake in the student's
    ``train_perceptron`` costs only that exercise. The functions must be nblib functions
    with the homework's signature (module-level, so the grader can name them to the kernel).
    """
    namespace = sys.modules["__main__"].__dict__
    saved = {name: namespace.get(name, _MISSING) for name in functions}
    previous = dict(_standing_in)
    namespace.update(functions)
    _standing_in.update(functions)
    try:
        yield
    finally:
        _standing_in.clear()
        _standing_in.update(previous)
        for name, value in saved.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value


_MISSING = object()
