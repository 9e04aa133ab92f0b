"""Values that cross between the grader and a student's kernel, as plain JSON.

Nothing from a student's kernel is ever unpickled: the grader only accepts what this codec
can describe — None, bools, numbers, strings, numeric numpy arrays and scalars, and lists,
tuples and dicts of those. Anything else stays in the student's kernel and is referred to by
a handle (``{"ref": 3, "type": "Perceptron"}``), which the grader wraps in a proxy.

The same module runs on both sides, so it imports nothing but the standard library and numpy.
"""

from __future__ import annotations

import base64
import importlib
import math

import numpy as np

MAX_DEPTH = 20
NUMERIC_KINDS = "biufc"  # bool, int, unsigned, float, complex: fixed-size, no Python objects


# What stands for an object that is not plain data: a handle to one in the other process
# ("ref"), a library object to import by name ("import": nblib's functions, week 4's setup
# helpers among them), or a library dataclass rebuilt from its fields ("dataclass").
REFERENCES = {"ref", "import", "dataclass"}


class NotEncodable(TypeError):
    """The value is not plain data (the caller may hand out a reference instead)."""


def encode(value, ref=None, depth: int = 0):
    """``value`` as JSON-ready data; objects that are not plain data go through ``ref(value)``."""
    if depth > MAX_DEPTH:
        raise NotEncodable("nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) is int:
        return value if abs(value) < 2**53 else {"bigint": str(value)}
    if type(value) is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in NUMERIC_KINDS:
        array = np.array(value, copy=True, order="C")  # (a scalar keeps its shape ())
        return {"array" if isinstance(value, np.ndarray) else "scalar": array.dtype.str,
                "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode("ascii")}
    if type(value) in (list, tuple) or (isinstance(value, tuple) and hasattr(value, "_fields")):
        items = [encode(v, ref, depth + 1) for v in value]
        return items if type(value) is list else {"tuple": items}
    if type(value) is dict and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, ref, depth + 1) for k, v in value.items()}}
    if ref is None:
        raise NotEncodable(f"a {type(value).__name__} is not plain data")
    return ref(value)


def import_by_name(module: str, qualname: str = ""):
    """``import_by_name("sklearn.linear_model", "Perceptron")``: the object, found afresh by name."""
    value = importlib.import_module(module)
    for part in filter(None, qualname.split(".")):
        value = getattr(value, part)
    return value


def decode(data, remote=None, depth: int = 0):
    """The inverse of :func:`encode`; ``remote(handle_dict)`` builds proxies for references."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, remote, depth + 1) for v in data]
    if not isinstance(data, dict):
        raise ValueError(f"unexpected {type(data).__name__}")
    if "array" in data or "scalar" in data:
        dtype = np.dtype(data.get("array") or data.get("scalar"))
        if dtype.kind not in NUMERIC_KINDS:
            raise ValueError(f"refused dtype {dtype}")
        shape = tuple(int(n) for n in data["shape"])
        array = np.frombuffer(base64.b64decode(data["data"]), dtype=dtype).reshape(shape).copy()
        return array if "array" in data else array[()]
    if "tuple" in data:
        return tuple(decode(v, remote, depth + 1) for v in data["tuple"])
    if "dict" in data:
        return {str(k): decode(v, remote, depth + 1) for k, v in data["dict"].items()}
    if "float" in data:
        return float(data["float"])
    if "bigint" in data:
        return int(data["bigint"])
    if remote is not None and REFERENCES.intersection(data):
        return remote(data)
    raise ValueError(f"unexpected value {sorted(data)}")
