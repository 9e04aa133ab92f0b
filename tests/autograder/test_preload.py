"""autograder.trusted's preload: the test cells' imports load in a thread while the student's
cells run, and a test cell waits for that thread only if it may import something itself.

Two threads importing TensorFlow and Keras at once hand one of them a half-initialised module,
so a cell that may import waits; one that only uses what is loaded already runs at once (a
week's first visible tests run while Keras is still loading for its hidden ones).
"""

import sys
import threading
import types

import pytest

from autograder import trusted
from autograder.trusted import TrustedTests, imported_modules, may_import, preload


class _NoKernel:
    """A student's kernel that defines nothing (these cells need none)."""

    def request(self, op, deadline, outputs, **args):
        return {"ok": {}}

    def end_session(self, deadline, outputs):
        pass


def test_imported_modules_names_every_module_a_cell_may_import():
    source = ("import os\nimport xml.dom.minidom as md\nfrom collections import abc, OrderedDict\n"
              "from . import sibling\nfrom json import *\ndef f():\n    import csv\n")
    assert imported_modules(source) == {"os", "xml", "xml.dom", "xml.dom.minidom", "collections",
                                        "collections.abc", "collections.OrderedDict", "json", "csv"}
    assert imported_modules("import (") == set()


@pytest.mark.parametrize("source", [
    "x = sum(range(3))",
    "import os\nimport os.path",
    "from collections import OrderedDict",   # an attribute of a loaded module
    "import numpy as np\nnp.zeros(2)",
    "import (",                              # a syntax error fails before it imports anything
])
def test_a_cell_that_imports_only_what_is_loaded_need_not_wait(source):
    assert not may_import(source)


@pytest.mark.parametrize("source", [
    "import nnf_no_such_module",
    "from nnf_no_such_module import x",
    "import os.nnf_no_such_submodule",
    "from collections import nnf_not_there",   # could be a submodule, imported on the spot
    "from . import sibling",                   # relative: cannot tell
    "from json import *",                      # a star may import the package's submodules
    "importlib.import_module('csv')",
    "__import__('csv')",
    "def later():\n    import nnf_no_such_module",
])
def test_a_cell_that_may_import_must_wait(source):
    assert may_import(source)


def test_a_module_still_being_imported_is_not_loaded(monkeypatch):
    half = types.ModuleType("nnf_half")
    half.__spec__ = types.SimpleNamespace(_initializing=True)  # what importlib marks while it runs the module
    monkeypatch.setitem(sys.modules, "nnf_half", half)
    assert may_import("import nnf_half")
    half.__spec__._initializing = False
    assert not may_import("import nnf_half")


def test_looking_does_not_trigger_a_modules_lazy_import(monkeypatch):
    asked = []
    lazy = types.ModuleType("nnf_lazy")
    lazy.__getattr__ = lambda name: asked.append(name)  # as numpy's does for np.testing
    monkeypatch.setitem(sys.modules, "nnf_lazy", lazy)
    assert may_import("from nnf_lazy import testing") and asked == []


@pytest.fixture(params=["slow"])
def slow_import(request, tmp_path, monkeypatch):
    """A module whose import blocks until the test opens the gate, preloaded in the thread
    (as one of the slow frameworks, like TensorFlow, unless the test asks for "fast")."""
    gate = types.ModuleType("nnf_gate")
    gate.event = threading.Event()
    monkeypatch.setitem(sys.modules, "nnf_gate", gate)
    (tmp_path / "nnf_slow.py").write_text("import nnf_gate\nnnf_gate.event.wait(20)\nVALUE = 42\n")
    (tmp_path / "nnf_fresh.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    if request.param == "slow":
        monkeypatch.setattr(trusted, "SLOW_IMPORTS", (*trusted.SLOW_IMPORTS, "nnf_slow"))
    thread = preload(["nnf_slow"])
    yield gate.event, thread
    gate.event.set()
    thread.join()
    for name in ("nnf_slow", "nnf_fresh"):
        sys.modules.pop(name, None)


def test_a_test_runs_while_the_preload_loads_and_a_test_that_imports_waits(slow_import):
    gate, thread = slow_import
    tests = TrustedTests(_NoKernel(), timeout=10, setup=["import threading"], ready=thread)
    alive = "print(any(t.name == 'preload-test-imports' and t.is_alive() for t in threading.enumerate()))"
    assert [o["text"] for o in tests.run("first", alive).finish()] == ["True\n"]  # did not wait
    assert thread.is_alive()
    threading.Timer(0.3, gate.set).start()
    outputs = tests.run("second", f"{alive}\nimport nnf_fresh\nimport nnf_slow\nprint(nnf_slow.VALUE)").finish()
    assert "".join(o["text"] for o in outputs) == "False\n42\n"  # it waited before the cell began
    assert not thread.is_alive() and tests.ready is None


@pytest.mark.parametrize("slow_import", ["fast"], indirect=True)
def test_a_test_waits_while_the_preload_loads_a_library_it_may_call_into(slow_import):
    # scikit-learn, say, imports parts of itself when first called: a test calling it while the
    # preload imports other parts could meet the preload in scikit-learn's circular imports
    gate, thread = slow_import
    tests = TrustedTests(_NoKernel(), timeout=10, ready=thread)
    threading.Timer(0.3, gate.set).start()
    assert [o["text"] for o in tests.run("first", "print(1 + 1)").finish()] == ["2\n"]
    assert not thread.is_alive()


def test_the_grader_waits_before_importing_a_library_function_it_is_handed(slow_import):
    gate, thread = slow_import
    trusted.settle("collections")  # loaded: no wait
    assert thread.is_alive()
    threading.Timer(0.3, gate.set).start()
    trusted.settle("nnf_fresh")
    assert not thread.is_alive()


def test_finish_waits_for_the_preload(slow_import):
    gate, thread = slow_import
    tests = TrustedTests(_NoKernel(), timeout=10, ready=thread)
    threading.Timer(0.3, gate.set).start()
    tests.finish()
    assert not thread.is_alive()
