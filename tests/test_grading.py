"""The grading pipeline end to end, with the real nbgrader, through `python -m autograder`.

A temporary course directory gets the instructor's source, is released, receives five
students' homework and is graded, exported and given feedback:

    ada  the solution                           23/23 automatic points, 26/26 after manual grading
    bob  the untouched released notebook        0
    cyd  exercises 1-3 done                     3 + 4 + 3 = 10
    dee  everything, but exercise 4 calls nblib's reference: exercise 4 earns nothing; exercise 5 is
         graded with nblib's train_perceptron standing in for dee's, so it keeps its 3: 23 - 6 = 17
    eve  the solution, but noisy: warnings, stderr prints and TensorFlow's start-up log  23
"""

import csv
import importlib
import itertools
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import determine_grade
from nbformat.v4 import new_code_cell, new_output

from autograder.preprocessors import StderrIsNotFailure
from tests.nbrun import ROOT, error_outputs, grade_id

WEEK = "week01_perceptron"
AUTO_POINTS = {"predict": 3, "sigmoid_neuron": 4, "logic_weights": 3, "train_perceptron": 6,
               "converges": 3, "multi_output_forward": 4}
MANUAL_POINTS = 3


def run_cli(course, *args):
    # ipykernel stops relaying C++-level stderr (TensorFlow's log) into cells when it sees
    # PYTEST_CURRENT_TEST; grade the way an instructor's shell would, without it.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    result = subprocess.run([sys.executable, "-m", "autograder", "--course-dir", str(course), *args],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, f"autograder {args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def solutions(week=WEEK) -> dict[str, str]:
    """What a student who solved everything would have typed in each answer cell."""
    nb = nbformat.read(ROOT / "solutions" / week / "homework.ipynb", as_version=4)
    return {grade_id(c): re.sub(r"[ \t]*### (BEGIN|END) SOLUTION\n", "", c.source)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def submit(course, student, answers: dict[str, str], extra_cells=(), week=WEEK):
    """Write the released homework with some answer cells filled in as <student>'s submission."""
    nb = nbformat.read(course / "notebooks" / week / "homework.ipynb", as_version=4)
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    nb.cells[2:2] = [new_code_cell(src) for src in extra_cells]
    folder = course / ".grading" / "submitted" / student / week
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "homework.ipynb")


NOISY_PREDICT = '''
def predict(X, w, b):
    import os, sys, warnings
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"     # let TensorFlow log its start-up banner
    import tensorflow as tf
    tf.constant([1.0]) + 1.0                   # first op: oneDNN / CPU feature messages
    warnings.warn("a harmless warning from a correct answer")
    print("debug output on stderr", file=sys.stderr)
    return (X @ w + b >= 0).astype(int)
'''

CALLS_NBLIB = '''
def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
    fit = perceptron.train(X, y, lr=lr, epochs=epochs, w0=w0, b0=b0)
    return fit.w, fit.b, list(fit.errors)
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    run_cli(course, "release", WEEK)
    answers = solutions()
    submit(course, "ada", answers)
    submit(course, "bob", {})
    submit(course, "cyd", {k: answers[k] for k in ("predict", "sigmoid_neuron", "logic_weights")})
    submit(course, "dee", {**answers, "train_perceptron": CALLS_NBLIB})
    submit(course, "eve", {**answers, "predict": NOISY_PREDICT}, extra_cells=["import warnings; warnings.warn('top-level warning')"])
    output = run_cli(course, "grade", WEEK)
    return course, output


def scores(course, week=WEEK) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course / '.grading' / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.find_assignment(week).submissions}


WEEKS = sorted(p.parent.name for p in (ROOT / "solutions").glob("week*/homework.ipynb"))


def automatic_points(week) -> float:
    """The homework's automatic points, checked against the table in its first cell."""
    source = nbformat.read(ROOT / "solutions" / week / "homework.ipynb", as_version=4)
    graded = [c.metadata["nbgrader"] for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    auto = sum(m["points"] for m in graded if not m.get("solution"))
    manual = sum(m["points"] for m in graded if m.get("solution"))
    table_total = int(re.search(r"\*\*total\*\* \| \*\*(\d+)\*\*", source.cells[0].source).group(1))
    assert auto + manual == table_total, f"{week}: the points in the cells and in the homework's table differ"
    return auto


def demo_ids(week) -> list[str]:
    """The grade_ids of the homework's "see your function at work" cells."""
    nb = nbformat.read(ROOT / "solutions" / week / "homework.ipynb", as_version=4)
    return [grade_id(c) for c in nb.cells if c.cell_type == "code" and (grade_id(c) or "").startswith("yours_")]


def first_case_of_each_exercise(cases: dict) -> dict[str, str]:
    """One answer cell per exercise, from a week's mistake tests: {exercise: source}."""
    answers = {}
    for exercise, *_, source in cases.values():
        answers.setdefault(exercise, source)
    return answers


def test_every_week_solution_earns_every_automatic_point_in_a_busy_batch(tmp_path):
    """Hidden tests included: every week's reference answers, graded together in one batch with
    two jobs (so TensorFlow loads while the other job keeps the machine busy), run clean and earn everything;
    the untouched released notebooks earn nothing (grading twice is the corpus's test). And the mistake tests' verdicts hold
    through `grade` too: a notebook of the week's wrong answers (the first of each exercise in
    tests/test_mistakes_weekNN.py) earns nothing, one of its right answers written another
    way earns everything."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    run_cli(course, "release", *WEEKS)
    for week in WEEKS:
        cases = importlib.import_module(f"tests.test_mistakes_{week[:6]}")
        submit(course, "ada", solutions(week), week=week)
        submit(course, "bob", {}, week=week)
        submit(course, "cat", first_case_of_each_exercise(cases.WRONG), week=week)
        rewritten_demos = dict.fromkeys(demo_ids(week), "import time; time.sleep(300)  # would time out if it ran")
        submit(course, "dan", {**solutions(week), **first_case_of_each_exercise(cases.RIGHT), **rewritten_demos},
               week=week)
    expected = {week: {"ada": automatic_points(week), "bob": 0, "cat": 0, "dan": automatic_points(week)}
                for week in WEEKS}
    output = run_cli(course, "grade", "--jobs", "2")
    assert {week: scores(course, week) for week in WEEKS} == expected, output
    # Each "see your function at work" cell is skipped: it shows the grader's line, nothing it would
    # draw; dan's, rewritten to sleep, got the instructor's source back and was skipped too.
    for week, student in itertools.product(WEEKS, ("ada", "dan")):
        graded_nb = nbformat.read(course / ".grading" / "autograded" / student / week / "homework.ipynb", as_version=4)
        demos = [c for c in graded_nb.cells if grade_id(c) in demo_ids(week)]
        assert demos, f"{week}: a homework shows the student's functions in a demo"
        for cell in demos:
            assert "sleep" not in cell.source and [(o.output_type, o.get("text", "")[:28]) for o in cell.outputs] == \
                [("stream", "(not run by the grader: this")], (week, student, cell.outputs)
    # This is where the solutions run (tests/test_notebooks.py runs the released copies): through
    # the grader, ada's cells raised nothing and each visible test printed its "passed" line.
    for week in WEEKS:
        assert_ran_clean(nbformat.read(course / ".grading" / "autograded" / "ada" / week / "homework.ipynb",
                                       as_version=4), week)


def assert_ran_clean(nb, week) -> None:
    """No cell of ``nb`` raised; each visible test cell printed "Exercise <n>: visible tests passed."
    (n like 4a, 4b for the parts of one exercise), and the exercises are numbered 1, 2, ..."""
    assert not error_outputs(nb), f"{week}: {error_outputs(nb)[:1]}"
    printed = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)
    visible_tests = [c for c in nb.cells if (grade_id(c) or "").endswith("_visible")]
    assert visible_tests, week
    passed = [re.search(r"Exercise ((\d+)[a-z]?): visible tests passed\.", c.source) for c in visible_tests]
    assert all(passed), f"{week}: a visible test cell prints no 'Exercise <n>: visible tests passed.' line"
    for found in passed:
        assert found.group(0) in printed, f"{week}: {found.group(0)!r} not printed"
    numbers = sorted({int(found.group(2)) for found in passed})
    assert numbers == list(range(1, len(numbers) + 1)), f"{week}: the exercises are not numbered 1, 2, ...: {numbers}"


def test_every_submission_gets_the_score_its_work_earns(graded):
    course, output = graded
    auto = sum(AUTO_POINTS.values())
    assert scores(course) == {"ada": auto, "bob": 0, "cyd": 10, "dee": auto - 6, "eve": auto}
    assert "5/5" in output and "what happened" in output  # progress and the summary table


def test_solution_reaches_full_marks_after_manual_grading(graded):
    course, _ = graded
    with Gradebook(f"sqlite:///{course / '.grading' / 'gradebook.db'}") as gb:
        submission = gb.find_submission(WEEK, "ada")
        assert submission.max_score == sum(AUTO_POINTS.values()) + MANUAL_POINTS
        assert submission.needs_manual_grade
        grade = gb.find_grade("xor_explanation", "homework", WEEK, "ada")
        grade.manual_score = MANUAL_POINTS  # what the instructor enters in the formgrader
        gb.db.commit()
        assert gb.find_submission(WEEK, "ada").score == submission.max_score


def test_noisy_correct_code_really_wrote_to_stderr(graded):
    course, _ = graded
    nb = nbformat.read(course / ".grading" / "autograded" / "eve" / WEEK / "homework.ipynb", as_version=4)
    test_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    printed = "".join(out.get("text", "") for c in test_cells for out in c.outputs)
    assert "a harmless warning" in printed and "debug output on stderr" in printed
    # TensorFlow logs from C++, relayed by ipykernel into whichever test cell is running
    assert re.search(r"oneDNN|cpu_feature_guard|absl", printed), "TensorFlow's start-up log was expected in a test cell"


def test_calling_the_reference_is_explained(graded):
    course, _ = graded
    nb = nbformat.read(course / ".grading" / "autograded" / "dee" / WEEK / "homework.ipynb", as_version=4)
    test_cell = next(c for c in nb.cells if grade_id(c) == "train_visible")
    error = next(out for out in test_cell.outputs if out.output_type == "error")
    assert error.ename == "ReferenceDisabled"
    assert "Exercise 4 (train_perceptron) asks you to write this yourself" in error.evalue


def test_export_writes_a_csv_of_grades(graded):
    course, _ = graded
    run_cli(course, "export", "--to", str(course / "grades.csv"))
    with open(course / "grades.csv", newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert set(rows) == {"ada", "bob", "cyd", "dee", "eve"}
    assert float(rows["cyd"]["total"]) == 10 and float(rows["cyd"]["max"]) == 26
    assert rows["bob"]["week"] == WEEK
    # per exercise: cyd did exercises 1-3 (3 + 4 + 3 points) and nothing after
    assert [rows["cyd"][f"{name} (/{points})"] for name, points in AUTO_POINTS.items()] == ["3", "4", "3", "0", "0", "0"]
    assert rows["dee"]["train_perceptron (/6)"] == "0" and rows["dee"]["predict (/3)"] == "3"
    assert rows["dee"]["converges (/3)"] == "3"  # graded with nblib's train_perceptron standing in
    assert rows["ada"]["xor_explanation (/3)"] == "" and rows["ada"]["needs_manual_grading"] == "yes"


def test_feedback_html_is_generated_for_each_student(graded):
    course, _ = graded
    run_cli(course, "feedback", WEEK)
    for student in ("ada", "bob", "cyd", "dee", "eve"):
        html = (course / ".grading" / "feedback" / student / WEEK / "homework.html").read_text()
        assert "Exercise 1" in html
    cyd = (course / ".grading" / "feedback" / "cyd" / WEEK / "homework.html").read_text()
    assert "Not done yet: replace this line with your code." in cyd  # why exercise 4 earned nothing


def test_stderr_alone_does_not_zero_a_test_cell():
    cell = new_code_cell("print('hi', file=sys.stderr)")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 2, "locked": True,
                                 "schema_version": 3}
    cell.outputs = [new_output("stream", name="stderr", text="UserWarning: careful\n")]
    assert determine_grade(cell)[0] == 0  # nbgrader's own rule
    StderrIsNotFailure().preprocess_cell(cell, {}, 0)
    assert determine_grade(cell)[0] == 2 and cell.outputs[0].text == "UserWarning: careful\n"
    cell.outputs.append(new_output("error", ename="AssertionError", evalue="wrong", traceback=[]))
    assert determine_grade(cell)[0] == 0  # an error still fails the test


def test_validate_lists_each_visible_test_and_fails_on_unfinished_work(tmp_path):
    for name, expected_exit in (("notebooks", 1), ("solutions", 0)):
        result = subprocess.run([sys.executable, "-m", "autograder", "--workdir", str(tmp_path), "validate",
                                 str(ROOT / name / WEEK / "homework.ipynb")], capture_output=True, text=True, timeout=300)
        assert result.returncode == expected_exit, result.stdout + result.stderr
        lines = [line.split()[:2] for line in result.stdout.splitlines() if line.strip().startswith(("PASS", "FAIL"))]
        if expected_exit:  # the student's copy has only the visible tests; the hidden ones are named
            assert result.stdout.count("hidden tests, run when your work is graded") == 6
        assert [grade.rstrip(":") for _, grade in lines if "hidden" not in grade] == ["predict_visible", "sigmoid_visible", "logic_visible",
                                                            "train_visible", "converges_visible", "forward_visible"] and {verdict for verdict, _ in lines} == ({"FAIL"} if expected_exit else {"PASS"})
        assert ("Not done yet" in result.stdout) == bool(expected_exit)


def test_collect_unpacks_an_lms_zip(tmp_path):
    import zipfile
    download = tmp_path / "submissions.zip"
    with zipfile.ZipFile(download, "w") as zf:
        zf.writestr("lovelaceada_12345_67890_homework-1.ipynb", (ROOT / "notebooks" / WEEK / "homework.ipynb").read_text())
        zf.writestr("__MACOSX/._junk", "x")
    output = subprocess.run([sys.executable, "-m", "autograder", "--workdir", str(tmp_path / "w"), "collect", WEEK,
                        str(download)], capture_output=True, text=True, timeout=120).stdout
    assert (tmp_path / "w" / "submitted" / "lovelaceada" / WEEK / "homework.ipynb").exists(), output
    assert "1 students collected" in output


# A submission that leaves traces everywhere it can, and one that looks for them: graded one
# after the other by the same warm worker (--jobs 1), the second must see none of them.
LEAVES_TRACES = '''
import os, sys, types
import numpy as np
LEFT_BEHIND = 1                                          # a name
for path in ("left.txt", "/tmp/left.txt", os.path.expanduser("~/left.txt")):
    open(path, "w").write("left behind")                 # files, here, in /tmp and at home
sys.modules["left_behind_module"] = types.ModuleType("left_behind_module")   # a module
np.seterr(all="raise")                                   # numpy's state
np.random.seed(123)
os.environ["LEFT_BEHIND"] = "1"                          # the environment
'''

LOOKS_FOR_TRACES = '''

def _traces():
    """Whatever the submission graded before this one could have left here."""
    import os, sys
    found = ["a name"] if "LEFT_BEHIND" in globals() else []
    found += [path for path in ("left.txt", "/tmp/left.txt", os.path.expanduser("~/left.txt")) if os.path.exists(path)]
    found += ["a module"] if "left_behind_module" in sys.modules else []
    found += ["numpy's error state"] if np.geterr()["divide"] == "raise" else []
    found += ["numpy's random state"] if np.array_equal(np.random.get_state()[1], np.random.RandomState(123).get_state()[1]) else []
    found += ["the environment"] if "LEFT_BEHIND" in os.environ else []
    return found


_honest_predict = predict


def predict(X, w, b):
    if _traces():
        raise RuntimeError(f"this kernel holds what another submission left: {_traces()}")
    return _honest_predict(X, w, b)
'''


@pytest.mark.parametrize("kernels", [[], ["--no-fork"]], ids=["forked", "bwrap"])
def test_a_warm_worker_grades_each_submission_as_if_it_were_the_first(tmp_path, sandbox_kernel, kernels):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    run_cli(course, "release", WEEK)
    answers = solutions()
    submit(course, "a_leaves", answers, extra_cells=[LEAVES_TRACES])
    submit(course, "b_looks", {**answers, "predict": answers["predict"] + LOOKS_FOR_TRACES})
    output = run_cli(course, "grade", WEEK, "--jobs", "1", *kernels)  # one worker: b_looks comes second, warm
    full = sum(AUTO_POINTS.values())
    assert scores(course) == {"a_leaves": full, "b_looks": full}, output
    # The look can fail: in one kernel, after the traces are left, predict refuses to answer.
    sandbox_kernel.run_cell("import numpy as np")
    sandbox_kernel.run_cell(LEAVES_TRACES)
    sandbox_kernel.run_cell(answers["predict"] + LOOKS_FOR_TRACES)
    outputs = sandbox_kernel.run_cell("predict(np.zeros((1, 2)), np.zeros(2), 0.0)").finish()
    error = [o for o in outputs if o.output_type == "error"]
    assert error and "another submission left" in error[0].evalue, outputs
    for trace in ("a name", "left.txt", "a module", "numpy's error state", "numpy's random state", "the environment"):
        assert trace in error[0].evalue, error[0].evalue


@pytest.fixture
def sandbox_kernel(tmp_path):
    from autograder.kernel import StudentKernel
    from autograder.sandbox import Limits

    (tmp_path / "submission").mkdir()
    kernel = StudentKernel(tmp_path / "submission", Limits(), timeout=30)
    kernel.start()
    yield kernel
    kernel.stop()
