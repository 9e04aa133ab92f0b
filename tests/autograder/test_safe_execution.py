"""The pieces of safe grading, one at a time: the sandbox, the student kernel, the codec and
the trusted test runner. (tests/test_grading_corpus.py runs them together on a whole class.)"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from nbgrader.utils import determine_grade
from nbformat.v4 import new_code_cell

from autograder import codec
from autograder.forkserver import Forked
from autograder.kernel import (MAX_MESSAGE_BYTES, CellTimeout, KernelDied, Outputs, OutOfTime, StudentKernel,
                               start_forking, stop_forking)
from autograder.sandbox import Limits, unavailable_reason
from autograder.trusted import TrustedTests


@pytest.fixture(scope="module", params=["bwrap", "forked"])
def sandbox_works(request):
    """The sandbox must work where the tests run (the README's setup installs bubblewrap).
    Every test runs twice: kernels boxed by bwrap, and kernels forked from a fork server
    (what grading workers use) that box themselves."""
    reason = unavailable_reason()
    assert reason is None, f"no sandbox: {reason}"
    if request.param == "forked":
        start_forking(["numpy"])
    yield request.param
    stop_forking()


def launched_as(box: StudentKernel) -> str:
    return "forked" if isinstance(box.manager.provisioner.process, Forked) else "bwrap"


@pytest.fixture
def box(tmp_path, sandbox_works):
    """A sandboxed kernel for a submission folder holding one data file, with secrets around it."""
    submission = tmp_path / "course" / ".grading" / "submitted" / "ada" / "week01"
    submission.mkdir(parents=True)
    (submission / "data.csv").write_text("x,y\n1,2\n")
    (submission / "homework.ipynb").write_text("{}")
    box = StudentKernel(submission, Limits(memory=3 * 2**30, disk=8 * 2**20, tasks=64), timeout=5)
    box.start()
    assert launched_as(box) == sandbox_works  # a fork server that failed would leave bwrap's kernels
    yield box
    box.stop()


def text(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs.finish())


def errors(outputs) -> list[str]:
    return [o.ename for o in outputs.items if o.output_type == "error"]


def probe(kernel, path, mode="r") -> str:
    """What the kernel gets when it opens ``path``: "ok" or the error's name."""
    code = (f"try:\n    open({str(path)!r}, {mode!r}).close()\n    print('ok')\n"
            f"except OSError as error:\n    print(type(error).__name__, error.errno)")
    return text(kernel.run_cell(code)).strip()


def test_the_kernel_works_in_a_copy_of_its_own_submission(box):
    out = text(box.run_cell("import os\nprint(os.getcwd(), sorted(os.listdir('.')), open('data.csv').read())"))
    assert out.startswith("/home/student") and "data.csv" in out and "homework.ipynb" not in out
    assert "1,2" in out
    assert text(box.run_cell("open('mine.txt', 'w').write('ok'); print(open('mine.txt').read())")).strip() == "ok"


def test_the_kernel_cannot_read_the_course_homes_or_the_machines_tmp(box, tmp_path):
    from autograder.config import REPO_ROOT

    secret = Path(tempfile.gettempdir()) / f"nnf-secret-{os.getpid()}.txt"  # the machine's /tmp
    secret.write_text("42")
    clone = tmp_path / "another-clone" / "solutions"  # a copy of the course the sandbox has never heard of
    clone.mkdir(parents=True)
    (clone / "homework.ipynb").write_text("{}")
    cached = REPO_ROOT / ".cache" / f"sandbox-probe-{os.getpid()}" / "solutions" / "homework.ipynb"
    cached.parent.mkdir(parents=True)  # as the browser tests' copy of the course in .cache/
    cached.write_text("{}")
    home = Path.home() / f".nnf-sandbox-probe-{os.getpid()}"
    home.write_text("42")
    try:
        for path in [REPO_ROOT / "solutions" / "week01_perceptron" / "homework.ipynb", REPO_ROOT / ".git" / "HEAD",
                     REPO_ROOT / "README.md", cached, secret, clone / "homework.ipynb", home, box.folder / "data.csv"]:
            assert path.exists() and probe(box, path).startswith("FileNotFoundError"), path
    finally:
        secret.unlink()
        home.unlink()
        shutil.rmtree(cached.parents[1])
    assert text(box.run_cell("import os; print(sorted(os.listdir('/home')))")).strip() == "['student']"


def test_the_kernel_cannot_write_the_library_the_environment_or_the_gradebook(box):
    import site

    import nblib
    from autograder.config import REPO_ROOT

    for path in [Path(nblib.__file__).parent / "checks.py", REPO_ROOT / "autograder" / "trusted.py",
                 Path(site.getsitepackages()[0]) / "evil.pth", Path(sys.prefix) / "pyvenv.cfg"]:
        assert probe(box, path, "a").startswith("OSError 30"), path  # EROFS: read-only file system
    for path in [REPO_ROOT / ".grading" / "gradebook.db", box.folder / "data.csv"]:
        assert probe(box, path, "a").startswith("FileNotFoundError"), path
    # no capability is left to make a read-only mount writable again, or to make a new namespace
    remount = text(box.run_cell(f"import subprocess\nprint(subprocess.run(['mount', '-o', 'remount,rw', "
                                f"{str(Path(nblib.__file__).parent)!r}]).returncode)"))
    assert remount.strip().splitlines()[-1] != "0"
    unshare = text(box.run_cell("print(subprocess.run(['unshare', '--user', 'true']).returncode)"))
    assert unshare.strip().splitlines()[-1] != "0"


def test_no_network_and_no_other_process(box):
    outputs = box.run_cell("import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)")
    assert errors(outputs) and errors(outputs)[0] in ("OSError", "TimeoutError", "ConnectionRefusedError")
    count = text(box.run_cell("import os; print(len([p for p in os.listdir('/proc') if p.isdigit()]))"))
    assert int(count) <= 3  # its own PID namespace: bwrap's init, the kernel


def test_memory_is_bounded(box):
    assert errors(box.run_cell("import numpy as np\nhog = np.ones(2**32)")) == ["MemoryError"]  # 32 GiB


def test_a_bounded_fork_bomb_stops_at_the_task_limit(box):
    # 300 children that each sleep 3 s: the box allows 64 tasks (the kernel's own threads included)
    code = ("import os, time\nstarted = 0\ntry:\n    for _ in range(300):\n        if os.fork() == 0:\n"
            "            time.sleep(3)\n            os._exit(0)\n        started += 1\n"
            "except OSError as error:\n    print('stopped', error.errno)\nprint('started', started)")
    out = text(box.run_cell(code))
    assert "stopped 11" in out  # EAGAIN
    assert int(out.split("started")[-1]) < 64


def test_the_working_folder_is_bounded(box):
    code = ("chunk = b'x' * 2**20\ntry:\n    for i in range(64):\n        open(f'f{i}', 'wb').write(chunk)\n"
            "except OSError as error:\n    print(f'stopped {error.errno} {i}')")
    # one write, so IPython's own "database or disk is full" (its history thread, writing to the
    # same full home) cannot land in the middle of the line, as it once did between print's pieces
    assert "stopped 28 " in text(box.run_cell(code))  # ENOSPC after about 8 MiB


def test_a_loop_that_ignores_sigint_costs_only_its_cell(box):
    box.run_cell("x = 41")
    with pytest.raises(CellTimeout):
        box.run_cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
    assert text(box.run_cell("print(x + 1)")).strip() == "42"  # a fresh kernel, earlier cells replayed


def test_os_exit_costs_only_its_cell(box):
    box.run_cell("y = 'kept'")
    with pytest.raises(KernelDied, match="ended the Python process"):
        box.run_cell("import os; os._exit(1)")
    assert text(box.run_cell("print(y)")).strip() == "kept"


def test_a_20_mb_line_is_cut(box):
    outputs = box.run_cell("print('x' * 20_000_000)")
    out = text(outputs)
    assert 90_000 < len(out) < 110_000 and outputs.cut > 19_000_000
    assert "19,9" in out and "cut by the grader" in out


def test_the_submission_budget_bounds_cells_that_stay_under_the_cell_limit(sandbox_works, tmp_path):
    # Each cell sleeps just under the 3 s cell limit; every timeout replays the finished ones.
    kernel = StudentKernel(tmp_path, Limits(), timeout=3, budget=8)
    kernel.start()
    start = time.monotonic()
    try:
        with pytest.raises(OutOfTime, match="time budget of 8 s"):
            for _ in range(10):
                kernel.run_cell("import time; time.sleep(2.5)")
    finally:
        kernel.stop()
    assert time.monotonic() - start < 10


def test_during_a_request_only_prints_and_the_reply_to_it_are_taken(box):
    # The student's function, called by the grader, also sends a result, a display and two
    # forged replies on the agent's line (one with no id, one with another request's id).
    box.run_cell("import json\nimport autograder.agent as agent\nfrom IPython.display import display, HTML\n"
                 "def noisy():\n    print('hello from the kernel')\n    display(HTML('<b>x</b>'))\n"
                 "    get_ipython().display_pub.publish({'text/plain': '-1'})\n"
                 "    agent._line.send(b'[1, 2]')\n"
                 "    agent._line.send(json.dumps({'id': -5, 'ok': {'dict': {'forged': True}}}).encode())\n"
                 "    return 'honest'")
    outputs = Outputs()
    described = box.request("describe", time.monotonic() + 5, outputs, names=["noisy"])
    reply = box.request("call", time.monotonic() + 5, outputs, target=described["ok"]["noisy"]["value"],
                        args=[], kwargs=codec.encode({}), disabled={}, errstate={}, standing_in=codec.encode({}))
    assert "ok" in reply and codec.decode(reply["ok"]["result"]) == "honest", reply
    box.end_session(time.monotonic() + 5, outputs)
    kept = outputs.finish()
    assert [o.output_type for o in kept] == ["stream"] and "hello from the kernel" in kept[0].text, kept
    assert box.malformed == 1  # the reply that was not even a dict; the one with another id is just not taken


def test_an_agent_that_does_not_serve_is_an_answer_not_a_wait(box):
    # A student's cell that replaces the agent's loop: the grader hears the session end at
    # once and says so, instead of waiting for the cell's time limit.
    box.run_cell("import autograder.agent as agent\nagent.serve = lambda address: print('not serving')")
    outputs = Outputs()
    start = time.monotonic()
    reply = box.request("describe", time.monotonic() + 5, outputs, names=["agent"])
    assert "no answer from your kernel" in reply["error"]["evalue"] and time.monotonic() - start < 2
    assert "not serving" in text(outputs)
    assert text(box.run_cell("print('still here')")) == "still here\n"


def test_a_call_that_runs_too_long_costs_its_cell_and_the_kernel_is_restarted(box):
    box.run_cell("import time\nkept = 1\ndef slow():\n    time.sleep(60)")
    tests = TrustedTests(box, timeout=1.5, student_names={"slow", "kept"})
    with pytest.raises(CellTimeout):
        tests.run("slow", "slow()")
    outputs = tests.run("after", "print(kept)").finish()  # the cells that had finished are replayed
    assert [o.get("text") for o in outputs] == ["1\n"], outputs


def test_malformed_messages_are_dropped_and_counted(box):
    code = ("from IPython.display import publish_display_data\n"
            "get_ipython().display_pub.session.send(get_ipython().display_pub.pub_socket, 'display_data',\n"
            "    {'data': 7, 'metadata': None}, parent=get_ipython().display_pub.parent_header)\nprint('after')")
    outputs = box.run_cell(code)
    assert text(outputs).strip() == "after" and box.malformed == 1


def test_a_message_over_the_size_limit_never_reaches_the_grader(sandbox_works, tmp_path):
    assert MAX_MESSAGE_BYTES <= 128 * 2**20
    box = StudentKernel(tmp_path, Limits(), timeout=120)  # making 200 MiB of text takes a while on a busy machine
    box.start()
    box.run_cell("kept = 'yes'")
    # 200 MiB: ZeroMQ drops it with the connection, so the cell's end is never heard on that
    # channel; the shell channel says it finished, and the grader restarts the kernel. (Were
    # the message received, the cell would pass, its output cut to 100 kB.)
    with pytest.raises(KernelDied, match="larger than the grader accepts"):
        box.run_cell("from IPython.display import display\nbig = {'text/plain': 'x' * (200 * 2**20)}\n"
                     "display(big, raw=True)")
    try:
        assert text(box.run_cell("print('still here', kept)")).strip() == "still here yes"
    finally:
        box.stop()


def test_outputs_keep_every_error_even_past_the_limit():
    outputs = Outputs(limit=10)
    outputs.add_output(__import__("nbformat").v4.new_output("stream", name="stdout", text="a" * 50))
    outputs.add_output(__import__("nbformat").v4.new_output("error", ename="E", evalue="v" * 5000, traceback=[]))
    kept = outputs.finish()
    assert [o.output_type for o in kept] == ["stream", "error", "stream"]
    assert kept[0].text == "a" * 10 and len(kept[1].evalue) == 2000 and "40 more characters" in kept[2].text


@pytest.mark.parametrize("value", [None, True, 3, -2**60, 2.5, float("nan"), float("-inf"), "s",
                                   np.float64(1.5), np.bool_(True), np.int32(7), np.arange(6.0).reshape(2, 3),
                                   np.array([1, 2], dtype=np.uint8), [1, (2.0, "x")], {"a": [np.zeros(2)]}])
def test_codec_round_trips_plain_data_with_types(value):
    back = codec.decode(__import__("json").loads(__import__("json").dumps(codec.encode(value))))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)
    elif isinstance(value, float) and np.isnan(value):
        assert np.isnan(back)
    elif not isinstance(value, dict):
        assert back == value


def test_codec_never_carries_objects():
    with pytest.raises(codec.NotEncodable):
        codec.encode(object())
    with pytest.raises(codec.NotEncodable):
        codec.encode(np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        codec.decode({"array": "|O", "shape": [1], "data": ""})  # object arrays are refused
    assert codec.encode(object(), ref=lambda v: {"ref": 1}) == {"ref": 1}


class _NoKernel:
    """Stands in for a student's kernel that defines nothing (the tests below need none)."""

    def request(self, op, deadline, outputs, **args):
        return {"ok": {}}

    def end_session(self, deadline, outputs):
        pass


def _graded(source, points=2):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": points,
                                 "locked": True, "schema_version": 3}
    cell.outputs = TrustedTests(_NoKernel(), timeout=5).run("t", source).finish()
    return cell


def test_partial_credit_from_a_numpy_float_is_read_as_a_number():
    # nbgrader parses the text of the cell's value: "np.float64(1.5)" would not parse and
    # would count as full credit; the grader writes it as "1.5".
    assert determine_grade(_graded("import numpy as np\nnp.float64(1.5)"))[0] == 1.5
    assert determine_grade(_graded("print('fine')"))[0] == 2
    assert determine_grade(_graded("assert 1 + 1 == 3, 'arithmetic'"))[0] == 0


def test_a_failing_hidden_line_is_not_shown():
    source = "x = 1\n### BEGIN HIDDEN TESTS\nassert x == 2, 'x should be 2'\n### END HIDDEN TESTS\n"
    error = _graded(source).outputs[-1]
    assert error.evalue == "x should be 2" and "In a hidden test" in "".join(error.traceback)
    assert "assert x == 2" not in "".join(error.traceback)
    visible = _graded("assert 1 == 2, 'visible'").outputs[-1]
    assert "line 1: assert 1 == 2" in "".join(visible.traceback)


def test_an_argument_changed_in_place_in_the_kernel_is_changed_in_the_grader_too(box):
    # The grader sends copies; without this, `w += ...` in a student's function would pass every
    # "must not change its inputs" test when graded, and fail it in the notebook.
    box.run_cell("def update(w, ws, *, scale):\n    w += 1\n    ws[1] *= scale\n    return 'done'\n"
                 "def pure(w):\n    return w + 1")
    tests = TrustedTests(box, timeout=5)
    source = ("import numpy as np\nw, ws, frozen = np.zeros(3), [np.ones(2), np.ones(2)], np.zeros(3)\n"
              "frozen.flags.writeable = False\n"
              "assert update(w, ws, scale=3.0) == 'done'\n"
              "assert w.tolist() == [1, 1, 1] and ws[0].tolist() == [1, 1] and ws[1].tolist() == [3, 3], (w, ws)\n"
              "update(frozen, ws, scale=1.0)\nassert frozen.tolist() == [0, 0, 0]\n"
              "kept = np.arange(3.0)\npure(kept)\nassert kept.tolist() == [0, 1, 2]\nprint('ok')")
    outputs = tests.run("inplace", source).finish()
    assert [o.output_type for o in outputs] == ["stream"] and outputs[0].text == "ok\n", outputs


STAND_IN_CELLS = ("import numpy as np\nfrom nblib import activations, checks\n"
                  "def sigmoid(z):\n    return 0 * z          # exercise 1, wrong\n"
                  "def neuron(x, w, b):\n    return sigmoid(x @ w + b)   # exercise 2 calls exercise 1\n")
STAND_IN_TEST = ("x, w = np.zeros((1, 2)), np.ones(2)\n"
                 "with checks.standing_in(sigmoid=activations.sigmoid):\n"
                 "    assert neuron(x, w, 0.0).tolist() == [0.5], 'with nblib standing in, neuron is right'\n"
                 "assert neuron(x, w, 0.0).tolist() == [0.0], 'after the block the student\\'s sigmoid is back'\n"
                 "print('ok')")


def test_a_stand_in_replaces_an_earlier_exercise_in_the_kernel_only_during_the_call(box):
    # Exercise 2 calls the student's exercise 1; with nblib's standing in, a wrong exercise 1
    # costs exercise 2 nothing, when graded (test cell here, functions in the kernel) ...
    box.run_cell(STAND_IN_CELLS)
    outputs = TrustedTests(box, timeout=5, setup=["import numpy as np\nfrom nblib import activations, checks"],
                           student_names={"sigmoid", "neuron"}).run("stand_in", STAND_IN_TEST).finish()
    assert [o.get("text") for o in outputs] == ["ok\n"], outputs
    # ... and in the notebook, where the test cell runs in the kernel itself.
    assert text(box.run_cell(STAND_IN_TEST)) == "ok\n"
    assert text(box.run_cell("print(sigmoid(np.ones(2)))")) == "[0. 0.]\n"


def test_a_cache_changed_in_place_in_the_kernel_is_changed_in_the_grader_too(box):
    # Week 4's mlp_backward gets nblib's Cache (a dataclass of tuples of arrays): writing into
    # cache.z[0] must show in the grader's cache, as it would in the notebook.
    box.run_cell("def backward(cache):\n    cache.z[0][cache.z[0] < 0] = 0\n    return 1.0")
    source = ("import numpy as np\nfrom nblib import mlp\n"
              "cache = mlp.Cache(inputs=(np.ones((1, 2)),), z=(np.array([[-1.0, 2.0]]),), a=(np.ones((1, 2)),), "
              "activation='relu', output='softmax')\n"
              "backward(cache)\nassert cache.z[0].tolist() == [[0.0, 2.0]], cache.z\nprint('ok')")
    outputs = TrustedTests(box, timeout=5).run("cache", source).finish()
    assert [o.get("text") for o in outputs] == ["ok\n"], outputs
