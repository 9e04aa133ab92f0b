"""Test cells run here, in the grader's process, on the student's answers.

A test cell is instructor code (nbgrader restores it from the gradebook), so it is run with
the grader's own numpy, nblib and scikit-learn, which no student code has touched. Where its
names come from:

- the names the locked setup cell defines (``np``, ``checks``, ``perceptron``, week 4's
  ``forward`` and ``variance``, which are nblib's) are the grader's own: the setup cell's
  source, from the gradebook, is run here first, and nothing of the student's kernel is ever
  fetched under those names; handed to the student's function, such a library function is
  imported afresh in the kernel, never taken from the notebook's names;
- the names the exercises ask the student to define (those the instructor's solution cells
  and other locked cells bind) are fetched from the student's kernel: plain data (arrays,
  numbers, lists) is copied over by :mod:`autograder.codec`; functions and objects stay in
  the kernel and are called through a :class:`Remote` proxy, with nblib's references
  switched off as the test says (``own_work``) and numpy's error settings (``no_overflow``)
  carried over; modules and library objects are imported afresh here, from an allow-list;
- any other name is not looked up at all.

So the decisive comparison happens outside the student's reach: whatever their kernel
answers is only ever treated as their answer.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import functools
import importlib
import numbers
import os
import sys
import threading
import time
import traceback
import warnings

import numpy as np
from nbformat.v4 import new_output

from autograder import codec, markers, mistakes
from autograder.kernel import CellTimeout, KernelDied, Outputs, OutOfTime, StudentKernel

_MISSING = object()
TRUSTED_MODULES = {"numpy", "scipy", "sklearn", "nblib", "matplotlib", "keras", "tensorflow", "math",
                   "statistics", "random", "itertools", "functools", "collections", "warnings"}


class StudentCodeError(Exception):
    """An exception raised by the student's code in their kernel, carried over by name."""

    def __init__(self, ename: str, evalue: str, lines: list[str]):
        super().__init__(evalue)
        self.ename, self.evalue, self.lines = ename, evalue, lines


def student_error(info: dict) -> StudentCodeError:
    """A ``StudentCodeError`` that is also, where possible, the builtin class it was raised as,
    so that a test may catch ``ValueError`` from the student's function."""
    name = str(info.get("ename", "Error"))
    bases = (StudentCodeError,)
    if name == "ReferenceDisabled":
        from nblib._reference import ReferenceDisabled
        bases += (ReferenceDisabled,)
    elif isinstance(getattr(builtins, name, None), type) and issubclass(getattr(builtins, name), Exception):
        bases += (getattr(builtins, name),)
    try:
        cls = type(name, bases, {})
    except TypeError:  # incompatible layouts (OSError and friends)
        cls = type(name, (StudentCodeError,), {})
    return cls(name, str(info.get("evalue", "")), [str(line) for line in info.get("traceback", [])][-20:])


class Remote:
    """The student's function or object, living in their kernel."""

    __slots__ = ("_link", "_handle")

    def __init__(self, link: "Link", handle: dict):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_handle", {"ref": handle["ref"]})

    def __call__(self, *args, **kwargs):
        link = self._link
        reply = link.ask("call", target=self._handle, args=link.encode(list(args)), kwargs=link.encode(kwargs),
                         errstate=np.geterr(), disabled=_disabled_references(),
                         standing_in=link.encode(_stand_ins()))
        if not isinstance(reply, dict) or not isinstance(reply.get("changed"), list):
            raise ValueError("your kernel sent an answer the grader does not accept")
        inputs = {"args": args, "kwargs": kwargs}
        for path, value in reply["changed"]:  # what the call changed in place, changed here too
            _change_in_place(inputs, path, codec.decode(value))
        return codec.decode(reply.get("result"), link.remote)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._link.send("attribute", target=self._handle, name=name)

    def __repr__(self) -> str:
        return "<your object in the notebook's kernel>"


def _change_in_place(inputs: dict, path: list, value) -> None:
    """Write ``value`` into the grader's own array at ``path`` (e.g. ["args", 0]), as the
    student's function wrote into its copy; arrays the grader made read-only stay as they are."""
    target = inputs
    try:
        for key in path:
            if isinstance(key, dict):  # a dataclass field: only of the grader's own trusted classes
                if not dataclasses.is_dataclass(target) or not isinstance(key.get("attr"), str) \
                        or key["attr"] not in {f.name for f in dataclasses.fields(target)}:
                    return
                target = getattr(target, key["attr"])
            else:
                target = target[key]
    except (KeyError, IndexError, TypeError):
        return
    if isinstance(target, np.ndarray) and target.flags.writeable and np.shape(value) == target.shape:
        target[...] = value


def _disabled_references() -> dict:
    from nblib import _reference
    return dict(_reference._disabled)


def _stand_ins() -> dict:
    from nblib import _reference
    return dict(_reference._standing_in)


class Link:
    """Requests to the student's kernel on behalf of the test cell that is running."""

    def __init__(self, kernel: StudentKernel, timeout: float):
        self.kernel, self.timeout = kernel, timeout
        self.deadline, self.outputs = 0.0, Outputs()

    def begin(self, outputs: Outputs) -> None:
        self.deadline, self.outputs = time.monotonic() + self.timeout, outputs

    def ask(self, op: str, **args):
        """The agent's answer, still encoded; the student's exception raised as theirs."""
        reply = self.kernel.request(op, self.deadline, self.outputs, **args)
        if not isinstance(reply, dict) or "error" in reply:
            raise student_error(reply.get("error", {}) if isinstance(reply, dict) else {})
        return reply.get("ok")

    def send(self, op: str, **args):
        return codec.decode(self.ask(op, **args), self.remote)

    def remote(self, handle: dict) -> Remote:
        if not isinstance(handle.get("ref"), int):
            raise ValueError("your kernel sent a reference the grader does not accept")
        return Remote(self, handle)

    def encode(self, value):
        return codec.encode(value, self._reference)

    def _reference(self, value):
        """How an argument that is not plain data reaches the student's function: a library
        function (nblib's, week 4's setup helpers among them) is imported afresh by name in the
        kernel, never looked up among the notebook's names, which the student can redefine."""
        if isinstance(value, Remote):
            return object.__getattribute__(value, "_handle")
        module, qualname = getattr(value, "__module__", ""), getattr(value, "__qualname__", "")
        if module.split(".")[0] in TRUSTED_MODULES and qualname and "<" not in qualname:
            return {"import": [module, qualname]}
        cls = type(value)
        if dataclasses.is_dataclass(value) and cls.__module__.split(".")[0] in TRUSTED_MODULES:
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return {"dataclass": [cls.__module__, cls.__qualname__], "fields": self.encode(fields)}
        raise codec.NotEncodable(f"the grader cannot send a {type(value).__name__} to your kernel")


class TrustedTests:
    """One submission's test cells, run in order in one namespace of the grader's.

    ``setup``: the sources of the locked setup cells, run here before the first test;
    ``student_names``: the names that may be fetched from the student's kernel (None: any);
    ``ready``: the :func:`preload` thread, which a cell that may import must let finish first
    (no two threads import at once); :meth:`finish` waits for it in any case.
    """

    def __init__(self, kernel: StudentKernel, timeout: float, setup=(), student_names=None, ready=None):
        self.link = Link(kernel, timeout)
        self.namespace = {"__name__": "__grader__", "__builtins__": builtins}
        self.bound: set[str] = set()  # names the grader's own cells assigned: never fetched
        self.setup, self.student_names, self.ready = list(setup), student_names, ready
        self.failed: dict[str, dict[str, str]] = {}  # grade_id -> the mistakes its failure named (autograder.mistakes)

    def run(self, grade_id: str, source: str) -> list:
        outputs = Outputs()
        self.link.begin(outputs)
        try:
            self._prepare(outputs, source)
            statements, last, names = compiled(source, f"<test {grade_id}>")
            before = self._fetch(names)
            value = self._execute(statements, last, outputs)
            self.bound.update(k for k, v in self.namespace.items() if before.get(k, _MISSING) is not v)
            if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
                outputs.items.append(new_output("execute_result", {"text/plain": repr(float(value))},
                                                execution_count=None))
        except (CellTimeout, KernelDied, OutOfTime):
            raise  # the grader's own events: the caller notes them
        except Exception as error:  # noqa: BLE001 - any failure is this test's failure, never the grader's
            outputs.items.append(_error_output(error, grade_id, source))
            self.failed[grade_id] = mistakes.named(self.namespace, str(error))
        self.link.kernel.end_session(self.link.deadline, outputs)  # the agent stops serving; its last prints
        return outputs

    def finish(self) -> None:
        """After the last test: the preload is done too, before the grader goes on."""
        if self.ready is not None:
            self.ready.join()
            self.ready = None

    def _prepare(self, outputs: Outputs, source: str) -> None:
        """Before a test: wait for the preloaded imports (:func:`preload` says when not to),
        then run the setup cells here (before the first test). So a test that imports only
        what is loaded already runs while TensorFlow is still loading for a later one."""
        if self.ready is not None and not alongside(self.ready, [*self.setup, source]):
            self.ready.join()
            self.ready = None
        while self.setup:
            source = self.setup.pop(0)
            before = dict(self.namespace)
            self._execute(*compiled(source, "<setup>")[:2], outputs)
            self.bound.update(k for k, v in self.namespace.items() if before.get(k, _MISSING) is not v)

    def _fetch(self, names: set[str]) -> dict:
        """Put the student's current value of each name the cell uses into the namespace."""
        wanted = sorted(n for n in names if n not in self.bound and not hasattr(builtins, n)
                        and (self.student_names is None or n in self.student_names))
        found = self.link.kernel.request("describe", self.link.deadline, self.link.outputs, names=wanted)
        found = found.get("ok") if isinstance(found, dict) else None
        for name in wanted:
            self.namespace.pop(name, None)
            if isinstance(found, dict) and isinstance(found.get(name), dict):
                self.namespace[name] = self._adopt(found[name])
        return {n: self.namespace[n] for n in wanted if n in self.namespace}

    def _adopt(self, described: dict):
        if "module" in described or "import" in described:
            module, qualname = described.get("import") or (described.get("module"), "")
            if str(module).split(".")[0] in TRUSTED_MODULES:
                with contextlib.suppress(Exception):
                    settle(str(module))
                    return codec.import_by_name(str(module), str(qualname))
            return self.link.remote(described["fallback"]) if "fallback" in described else None
        return codec.decode(described.get("value"), self.link.remote)

    def _execute(self, statements, last, outputs: Outputs):
        """Run a cell's compiled code in the namespace; the value of its last expression, if any."""
        with contextlib.redirect_stdout(_Stream(outputs, "stdout")), \
                contextlib.redirect_stderr(_Stream(outputs, "stdout")):  # stderr is not failure
            exec(statements, self.namespace)
            if last is not None:
                return eval(last, self.namespace)
        return None


class _Stream:
    """A file-like object that appends what the test prints to the cell's outputs."""

    def __init__(self, outputs: Outputs, name: str):
        self.outputs, self.name = outputs, name

    def write(self, text: str) -> int:
        self.outputs.add_output(new_output("stream", name=self.name, text=str(text)))
        return len(text)

    def flush(self) -> None:
        pass

    def close(self) -> None:  # a logging handler (absl's, on `import keras`) closes its stream at exit
        pass


def _loaded_names(tree: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _error_output(error: Exception, grade_id: str, source: str):
    """An error output with the message, the student's own traceback, and the failing test line
    only when that line is not a hidden one."""
    ename = getattr(error, "ename", type(error).__name__)
    evalue = str(error)
    lines = []
    if getattr(error, "lines", None):
        lines += ["Traceback of your code (most recent call last):\n", *error.lines]
    test_frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == f"<test {grade_id}>"]
    if test_frames:
        lineno = test_frames[-1].lineno
        if lineno not in markers.hidden_lines(source):
            lines.append(f"In the test, line {lineno}: {source.splitlines()[lineno - 1].strip()}\n")
        else:
            lines.append("In a hidden test.\n")
    lines.append(f"{ename}: {evalue}")
    return new_output("error", ename=ename, evalue=evalue, traceback=lines)


# Frameworks a test cell may import that take seconds to load (TensorFlow about 4 s).
SLOW_IMPORTS = ("tensorflow", "keras")
_loading: threading.Thread | None = None  # the one thread that imports for this process


def imported_modules(source: str) -> set[str]:
    """The modules a cell's code imports, by full name: ``import a.b`` and ``from a import b``
    both give "a" and "a.b" (whether b is a module is found out when it is imported)."""
    tree = _tree(source)
    if tree is None:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {prefix for alias in node.names for prefix in _prefixes(alias.name)}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= _prefixes(node.module) | {f"{node.module}.{a.name}" for a in node.names if a.name != "*"}
    return names


def may_import(source: str) -> bool:
    """Whether running ``source`` could import a module that is not loaded yet: then it must
    wait for the preload (no two threads import at once). Conservative where it cannot see
    (relative or star imports, ``importlib``, ``__import__``)."""
    tree = _tree(source)
    if tree is None:
        return False  # it fails before it runs
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if not all(_loaded(p) for alias in node.names for p in _prefixes(alias.name)):
                return True
        elif isinstance(node, ast.ImportFrom):
            if node.level or not node.module or not all(map(_loaded, _prefixes(node.module))):
                return True
            known = vars(sys.modules[node.module])  # not getattr: a module's __getattr__ may import
            if any(a.name == "*" or (a.name not in known and not _loaded(f"{node.module}.{a.name}"))
                   for a in node.names):
                return True
        elif isinstance(node, ast.Name) and node.id in ("__import__", "importlib"):
            return True
    return False


@functools.lru_cache(maxsize=512)
def _tree(source: str) -> ast.Module | None:
    """A cell's syntax tree, parsed once per process (every submission has the same test cells);
    None for a syntax error. Read only: callers must not change it."""
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _prefixes(dotted: str) -> set[str]:
    parts = dotted.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def _loaded(name: str) -> bool:
    """Whether ``name`` is imported completely (not still being imported by some thread)."""
    module = sys.modules.get(name)
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)


def settle(module: str) -> None:
    """Before the grader's own thread imports ``module``: let the preload finish first."""
    if not _loaded(module) and _loading is not None and _loading.is_alive():
        _loading.join()


def preload(modules) -> threading.Thread | None:
    """Start importing ``modules`` in a thread; the slow frameworks among them load last.

    The import then overlaps the student's cells running in their kernel (a separate
    process), instead of adding its seconds to the first test cell that needs it. Two threads
    importing TensorFlow and Keras at once meet in their circular imports, and Python then
    hands one of them a half-initialised module (``dataset_ops has no attribute
    'DatasetV2'``), which is what a busy batch used to show. So there is one importing thread
    per process at a time (a new one waits for the one before), and the grader's own thread
    waits for it before it imports: a test cell waits unless it imports nothing new
    (:func:`may_import`) and the thread is on the slow frameworks already (``thread.on_slow``),
    not on libraries the test may call into; the grader waits before it imports a library
    function it is handed (:func:`settle`). An error here is left for the test cell's own
    import to raise where it belongs.
    """
    global _loading
    wanted = sorted(set(modules) - set(sys.modules), key=lambda name: (_slow(name), name))
    if not wanted:
        return _loading if _loading is not None and _loading.is_alive() else None
    before = _loading

    def load():
        if before is not None:
            before.join()
        for name in wanted:
            if _slow(name):
                thread.on_slow.set()
            with contextlib.suppress(Exception):
                importlib.import_module(name)

    thread = _loading = threading.Thread(target=load, name="preload-test-imports", daemon=True)
    thread.on_slow = threading.Event()
    thread.start()
    return thread


def _slow(name: str) -> bool:
    return name.split(".")[0] in SLOW_IMPORTS


def alongside(thread: threading.Thread, sources) -> bool:
    """Whether cells of ``sources`` may run while the preload ``thread`` still imports."""
    on_slow = getattr(thread, "on_slow", None)
    return thread.is_alive() and on_slow is not None and on_slow.is_set() and not any(map(may_import, sources))


@functools.lru_cache(maxsize=256)
def compiled(source: str, filename: str):
    """A cell's code compiled once per process: (its statements, its last expression or None)."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    return (compile(tree, filename, "exec"),
            None if last is None else compile(ast.Expression(last.value), filename, "eval"),
            frozenset(_loaded_names(tree) | (_loaded_names(last) if last is not None else set())))


class GraderState:
    """What a test cell can change in the grader's own process, put back before each
    submission a warm worker grades: numpy's error handling, print options and global random
    state, warnings filters, environment variables, the working folder, nblib's switched-off
    references and stand-ins, and Keras's session (layer names, its global seed)."""

    saved: dict | None = None

    @classmethod
    def remember(cls) -> None:
        cls.saved = {"errstate": np.geterr(), "print": np.get_printoptions(), "random": np.random.get_state(),
                     "warnings": list(warnings.filters), "environ": dict(os.environ), "cwd": os.getcwd()}

    @classmethod
    def restore(cls) -> None:
        if cls.saved is None:
            cls.remember()
            return
        saved = cls.saved
        np.seterr(**saved["errstate"])
        np.set_printoptions(**saved["print"])
        np.random.set_state(saved["random"])
        warnings.filters[:] = saved["warnings"]
        os.environ.clear()
        os.environ.update(saved["environ"])
        os.chdir(saved["cwd"])
        if "nblib._reference" in sys.modules:
            from nblib import _reference
            _reference._disabled.clear()
            _reference._standing_in.clear()
        if "keras" in sys.modules and not (_loading is not None and _loading.is_alive()):  # not half imported
            sys.modules["keras"].backend.clear_session()
