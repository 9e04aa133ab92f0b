"""The pieces of safe grading, one at a time: the sandbox, the student kernel, the codec and
the trusted test runner. (tests/test_grading_corpus.py runs them together on a whole class.)"""

import numpy as np
import pytest
from nbgrader.utils import determine_grade
from nbformat.v4 import new_code_cell

from autograder import codec
from autograder.kernel import CellTimeout, KernelDied, Outputs, StudentKernel
from autograder.sandbox import Limits, Sandbox, unavailable_reason
from autograder.trusted import TrustedTests

needs_sandbox = pytest.mark.skipif(unavailable_reason() is not None, reason=f"no sandbox: {unavailable_reason()}")


@pytest.fixture
def box(tmp_path):
    """A kernel that works in tmp/work and must not see tmp/secret (nor tmp itself)."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answers.txt").write_text("42")
    work = tmp_path / "grading" / "work"
    work.mkdir(parents=True)
    sandbox = Sandbox(keep=[work], hide=[secret, tmp_path / "grading"], limits=Limits(memory=3 * 2**30))
    kernel = StudentKernel(work, sandbox, timeout=5)
    kernel.start()
    yield kernel, secret
    kernel.stop()


def text(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs)


@needs_sandbox
def test_the_sandbox_hides_files_and_the_network(box):
    kernel, secret = box
    outputs, error = kernel.run_cell(f"import os\nprint(sorted(os.listdir({str(secret)!r})))\n"
                                     f"open({str(secret / 'answers.txt')!r})")
    assert text(outputs).strip() == "[]" and error["ename"] == "FileNotFoundError"
    outputs, error = kernel.run_cell("open('mine.txt', 'w').write('ok'); print(open('mine.txt').read())")
    assert text(outputs).strip() == "ok" and error is None  # its own folder works
    _, error = kernel.run_cell("import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)")
    assert error["ename"] in ("OSError", "TimeoutError", "ConnectionRefusedError")  # "Network is unreachable"
    outputs, _ = kernel.run_cell("import os; print(len([p for p in os.listdir('/proc') if p.isdigit()]))")
    assert int(text(outputs)) <= 3  # its own PID namespace: the kernel and the sandbox's init


@needs_sandbox
def test_memory_is_bounded(box):
    kernel, _ = box
    _, error = kernel.run_cell("import numpy as np\nhog = np.ones(2**32)")  # 32 GiB
    assert error["ename"] == "MemoryError"


@needs_sandbox
def test_a_loop_that_ignores_sigint_costs_only_its_cell(box):
    kernel, _ = box
    kernel.run_cell("x = 41")
    with pytest.raises(CellTimeout):
        kernel.run_cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
    outputs, error = kernel.run_cell("print(x + 1)")  # a fresh kernel, earlier cells replayed
    assert text(outputs).strip() == "42" and error is None


@needs_sandbox
def test_os_exit_costs_only_its_cell(box):
    kernel, _ = box
    kernel.run_cell("y = 'kept'")
    with pytest.raises(KernelDied, match="ended the Python process"):
        kernel.run_cell("import os; os._exit(1)")
    assert text(kernel.run_cell("print(y)")[0]).strip() == "kept"


@needs_sandbox
def test_a_20_mb_line_is_cut(box):
    kernel, _ = box
    outputs, _ = kernel.run_cell("print('x' * 20_000_000)")
    assert 90_000 < len(text(outputs)) < 110_000
    assert "19,9" in text(outputs) and "cut by the grader" in text(outputs)


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


def _graded(source, points=2):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": points,
                                 "locked": True, "schema_version": 3}
    cell.outputs = TrustedTests(_NoKernel(), timeout=5).run("t", source)
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
