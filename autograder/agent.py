"""The grader's hands inside a student's kernel.

While a homework is graded, its test cells run in the grader's own process, never in the
student's kernel; they reach the student's functions through this module. For each test
cell the grader runs ``serve(address)`` in the kernel: it connects (once per kernel) to the
socket the grader has bound in the kernel's socket folder and answers one request after
another, ``{"id": 7, "op": "call", "args": {...}}`` -> ``{"id": 7, "ok": ...}`` or
``{"id": 7, "error": ...}``, until the grader sends ``{"op": "done"}``. A student's code can
break this module, but that only breaks its own answers: every verdict is reached in the
grader, on values decoded by :mod:`autograder.codec`.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import traceback

import numpy as np

from autograder import codec

_objects: dict[int, object] = {}  # handle -> object that is not plain data
_line = None                      # the connection to the grader, made by the first serve()


def serve(address: str) -> None:
    """Answer the grader's requests on ``address`` until it says it is done."""
    global _line
    if _line is None:
        import zmq
        _line = zmq.Context.instance().socket(zmq.PAIR)
        _line.connect(address)
    while True:
        message = json.loads(_line.recv())
        if message.get("op") == "done":
            return
        _line.send(_answer(message))


def _answer(message: dict) -> bytes:
    try:
        reply = {"id": message["id"], "ok": _OPS[message["op"]](**message["args"])}
        return json.dumps(reply).encode()
    except BaseException as error:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too: report, don't die
        return json.dumps({"id": message.get("id"), "error": _describe_error(error)}).encode()


def _ref(value) -> dict:
    handle = id(value)
    _objects[handle] = value
    return {"ref": handle, "type": type(value).__name__, "callable": callable(value)}


def _encode(value):
    return codec.encode(value, _ref)


def _lookup(data: dict):
    """The object a reference from the grader stands for (see ``codec.REFERENCES``)."""
    if "import" in data:
        return codec.import_by_name(*data["import"])
    if "dataclass" in data:  # e.g. nblib.mlp.Cache, made by the grader's own forward pass
        cls = codec.import_by_name(*data["dataclass"])
        return cls(**codec.decode(data["fields"], _lookup))
    return _objects[data["ref"]]


def describe(names: list[str]) -> dict:
    """How each global of the student's notebook can be handed to the grader."""
    namespace = sys.modules["__main__"].__dict__
    found = {}
    for name in names:
        if name not in namespace:
            continue
        value = namespace[name]
        module = getattr(value, "__module__", None) if callable(value) else None
        if type(value).__name__ == "module":
            found[name] = {"module": value.__name__}
        elif module not in (None, "__main__") and hasattr(value, "__qualname__"):
            found[name] = {"import": [module, value.__qualname__], "fallback": _ref(value)}
        else:
            found[name] = {"value": _encode(value)}
    return found


def call(target: dict, args: list, kwargs: dict, disabled: dict, errstate: dict, standing_in: dict | None = None):
    """``target(*args, **kwargs)`` with nblib's references for the exercise switched off, and
    nblib's functions standing in for the earlier exercises the test names.

    Returns the result and every array argument the call changed in place, by its path
    (``[0]``, ``["w0"]``, ``[1, 2]`` for the third array in a list passed second), so that
    the grader can change its own copy the same way: a test that checks an input is left
    alone then sees what it would see in the notebook.
    """
    from nblib import _reference

    function = _lookup(target)
    inputs = codec.decode({"dict": {"args": {"tuple": args}, "kwargs": kwargs}}, _lookup)
    arrays = list(_arrays(inputs))
    before = [(a.shape, a.dtype, a.tobytes()) for _, a in arrays]
    stand_ins = codec.decode(standing_in or {}, _lookup)
    previous = dict(_reference._disabled)
    _reference._disabled.update(disabled)
    try:
        with np.errstate(**errstate), _reference.standing_in(**stand_ins):
            result = function(*inputs["args"], **inputs["kwargs"])
    finally:
        _reference._disabled.clear()
        _reference._disabled.update(previous)
    changed = [[list(path), _encode(a)] for (path, a), was in zip(arrays, before) if (a.shape, a.dtype, a.tobytes()) != was]
    return {"result": _encode(result), "changed": changed}


def _arrays(value, path=(), depth=0):
    """(path, array) for every numpy array among the arguments, in lists, tuples, dicts and
    dataclasses (week 4's cache) too; a dataclass field is the step ``{"attr": name}``."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif depth < 4 and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _arrays(item, (*path, i), depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for key, item in value.items():
            yield from _arrays(item, (*path, key), depth + 1)
    elif depth < 4 and dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _arrays(getattr(value, field.name), (*path, {"attr": field.name}), depth + 1)


def attribute(target: dict, name: str):
    return _encode(getattr(_lookup(target), name))


def _describe_error(error: BaseException) -> dict:
    frames = traceback.extract_tb(error.__traceback__)
    student = [f for f in frames if f.filename != __file__]  # the student's frames only
    lines = traceback.format_list(student)
    return {"ename": type(error).__name__, "evalue": str(error), "traceback": lines,
            "module": type(error).__module__}


_OPS = {"describe": describe, "call": call, "attribute": attribute}
