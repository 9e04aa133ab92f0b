"""Grade one homework exercise against a wrong (or a right) answer, the way `grade` does.

For each week, one student kernel is started in the grading sandbox and given the solution
notebook's setup and answer cells. For each case, the exercise's answer is replaced in that
kernel, and every test cell of the exercise (visible and hidden) is run by the grader's own
:class:`~autograder.trusted.TrustedTests`, in this process, calling into the kernel: the path
of ``python -m autograder grade`` without nbgrader's bookkeeping around it (restoring cells
from the gradebook, scoring a cell by its error output), which ``tests/test_grading.py`` and
the grading corpus cover. Then the solution's answer is put back.

A test cell earns its points when it raises nothing, so a wrong answer loses the whole
exercise when every test cell of the exercise fails, and a right one keeps it when none does.

    assert_rejected(WEEK, "softmax", "without the max shift", wrong_source)
    assert_kept(WEEK, "softmax", right_source_written_another_way)
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.kernel import CellTimeout, KernelDied, OutOfTime, StudentKernel
from autograder.preprocessors import InstructorCells
from autograder.sandbox import Limits, unavailable_reason
from autograder.trusted import TrustedTests
from tests.nbrun import ROOT, grade_id

CELL_TIMEOUT = 60.0  # seconds for one cell or one test cell's calls


@dataclass
class Verdict:
    """What the grader made of one answer to one exercise."""
    tests: list[str]           # the exercise's test cells, in order
    failed: dict[str, str]     # test cell -> the error it showed the student
    points: dict[str, float]   # test cell -> its points
    named: dict[str, list[str]] = field(default_factory=dict)  # failed test cell -> the mistakes it named

    @property
    def lost(self) -> float:
        return sum(self.points[t] for t in self.failed)

    @property
    def first_failure(self) -> str:
        return next((f"[{t}] {self.failed[t]}" for t in self.tests if t in self.failed), "")


class Homework:
    """A week's solution homework in a sandboxed student kernel, with the grader's test cells."""

    def __init__(self, week: str):
        if unavailable_reason():
            raise RuntimeError(f"the mistake tests grade in the sandbox, which is unavailable: {unavailable_reason()}")
        self.week = week
        nb = nbformat.read(ROOT / "solutions" / week / "homework.ipynb", as_version=4)
        self.cells = [c for c in nb.cells if c.cell_type == "code"]
        meta = [c.metadata.get("nbgrader", {}) for c in self.cells]
        self.instructor = InstructorCells.from_cells(
            [(grade_id(c), c.source, m.get("locked", False), m.get("grade", False) and not m.get("solution"))
             for c, m in zip(self.cells, meta)])
        self.points = {grade_id(c): float(m.get("points", 0)) for c, m in zip(self.cells, meta) if m.get("grade")}
        self.answers = {grade_id(c): c.source for c, m in zip(self.cells, meta) if m.get("solution")}
        self.folder = Path(tempfile.mkdtemp(prefix=f"mistakes-{week}-"))
        self.kernel = StudentKernel(self.folder, Limits(), CELL_TIMEOUT, budget=10**9)
        self.kernel.start()
        atexit.register(self.close)
        for source in [*self.instructor.setup, *self.answers.values()]:
            self._run(source, must_pass=True)

    def tests_of(self, exercise: str) -> list[str]:
        """The graded test cells between the answer cell ``exercise`` and the next answer cell."""
        ids = [grade_id(c) for c in self.cells]
        start = ids.index(exercise) + 1
        after = ids[start:]
        end = next((i for i, g in enumerate(after) if g in self.answers), len(after))
        tests = [g for g in after[:end] if g in self.instructor.tests]
        assert tests, f"{self.week}: no test cells after {exercise}"
        return tests

    def grade(self, exercise: str, answer: str) -> Verdict:
        """Every test of ``exercise`` run by the grader on ``answer``; the solution is put back after."""
        tests = self.tests_of(exercise)
        try:
            self._replace(exercise, answer)
            trusted = TrustedTests(self.kernel, CELL_TIMEOUT, self.instructor.setup, self.instructor.student_names)
            failed = {}
            for test in tests:
                try:
                    errors = [o for o in trusted.run(test, self.instructor.tests[test]).finish()
                              if o.output_type == "error"]
                except (CellTimeout, KernelDied, OutOfTime) as event:  # the grader's own events fail the cell too
                    errors = [nbformat.v4.new_output("error", ename=type(event).__name__, evalue=str(event), traceback=[])]
                if errors:
                    failed[test] = f"{errors[0].ename}: {errors[0].evalue}" if errors[0].ename != "CheckFailed" \
                        else errors[0].evalue
            named = dict(trusted.failed)
        finally:
            self.restore(exercise)
        return Verdict(tests, failed, {t: self.points[t] for t in tests}, named)

    def restore(self, exercise: str) -> None:
        """Put the solution's answer to ``exercise`` back in the kernel."""
        self._replace(exercise, self.answers[exercise], must_pass=True)

    def restore_setup(self) -> None:
        """Run the setup cells in the kernel again: names an answer redefined are the setup's again."""
        for source in self.instructor.setup:
            self._run(source, must_pass=True)

    def _replace(self, exercise: str, source: str, must_pass: bool = False) -> None:
        """The kernel forgets what the exercise's answer cell defined, then runs ``source``
        (so an answer that fails to define the function leaves none, as in a fresh kernel)."""
        names = sorted(InstructorCells.bound_names(self.answers[exercise]))
        self._run(f"for _name in {names!r}:\n    globals().pop(_name, None)\n", must_pass=True)
        self._run(source, must_pass)

    def _run(self, source: str, must_pass: bool = False) -> None:
        errors = [o for o in self.kernel.run_cell(source).finish() if o.output_type == "error"]
        assert not (must_pass and errors), f"{self.week}: a solution cell failed: {errors}\n{source}"

    def close(self) -> None:
        self.kernel.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@functools.cache
def homework(week: str) -> Homework:
    return Homework(week)


def assert_rejected(week: str, exercise: str, named: str, wrong_answer: str) -> Verdict:
    """``wrong_answer`` loses every point of ``exercise``, and the first message names ``named``."""
    verdict = homework(week).grade(exercise, wrong_answer)
    kept = [t for t in verdict.tests if t not in verdict.failed]
    assert not kept, (f"{week}: {exercise}'s test(s) {kept} passed the wrong answer "
                      f"(it keeps {sum(verdict.points[t] for t in kept):g} point(s)):\n{wrong_answer}\n"
                      f"first failure: {verdict.first_failure}")
    assert named in verdict.first_failure, verdict.first_failure
    first = next(t for t in verdict.tests if t in verdict.failed)
    assert "Hint:" not in verdict.failed[first] or verdict.named.get(first), (
        f"{week}: the hint of {first} has no id (write it as a constant of the test cell, or add its phrase to "
        f"nblib.checks.GENERIC_HINTS):\n{verdict.failed[first]}")
    return verdict


def assert_kept(week: str, exercise: str, right_answer: str) -> None:
    """``right_answer`` keeps every point of ``exercise``."""
    verdict = homework(week).grade(exercise, right_answer)
    assert not verdict.failed, f"{week}: a right answer to {exercise} lost {verdict.lost:g} point(s): " \
                               f"{verdict.first_failure}\n{right_answer}"


def assert_solution_passes(week: str, exercises) -> None:
    """The harness itself: the solution's own answer to each exercise keeps every point."""
    hw = homework(week)
    for exercise in sorted(set(exercises)):
        assert_kept(week, exercise, hw.answers[exercise])


def assert_independent(week: str, exercise: str, wrong_earlier: str) -> None:
    """``exercise``, answered right, keeps every point with ``wrong_earlier`` (wrong answers to
    the earlier exercises it calls, and maybe a right answer of its own that calls them) in the
    kernel: nblib's answers stand in for them. Without an answer of its own, the solution's."""
    hw = homework(week)
    defined = InstructorCells.bound_names(wrong_earlier)
    earlier = [name for name, answer in hw.answers.items()
               if name != exercise and InstructorCells.bound_names(answer) & defined]
    assert earlier, f"{week}: no earlier exercise is defined in:\n{wrong_earlier}"
    own = InstructorCells.bound_names(hw.answers[exercise]) & defined
    source = wrong_earlier if own else wrong_earlier + hw.answers[exercise]
    try:
        assert_kept(week, exercise, source)
    finally:  # the wrong earlier functions are still in the kernel: put the solution's back
        for name in earlier:
            hw.restore(name)


class WeekTests:
    """The tests of every ``tests/test_mistakes_weekNN.py``: a subclass named ``Test...`` sets

    - ``WEEK``: the week's folder name;
    - ``WRONG``: case name -> (exercise, text the first failure must contain, wrong answer cell);
    - ``RIGHT``: case name -> (exercise, a right answer cell written in an unusual way);
    - ``WRONG_EARLIER`` (optional): later exercise -> wrong answers to the earlier ones it calls.
    """

    WEEK: str
    WRONG: dict
    RIGHT: dict
    WRONG_EARLIER: dict = {}

    def pytest_generate_tests(self, metafunc):
        for argument, cases in (("wrong", self.WRONG), ("right", self.RIGHT), ("later", self.WRONG_EARLIER)):
            if argument in metafunc.fixturenames:
                metafunc.parametrize(argument, list(cases))

    def test_a_wrong_answer_loses_its_whole_exercise_and_is_named(self, wrong):
        assert_rejected(self.WEEK, *self.WRONG[wrong])

    def test_a_right_answer_written_another_way_keeps_every_point(self, right):
        assert_kept(self.WEEK, *self.RIGHT[right])

    def test_a_wrong_earlier_exercise_does_not_cost_a_later_one(self, later):
        assert_independent(self.WEEK, later, self.WRONG_EARLIER[later])

    def test_the_solution_keeps_every_point(self):
        assert_solution_passes(self.WEEK, homework(self.WEEK).answers)

    def test_every_exercise_has_wrong_and_right_answers_and_the_week_enough(self):
        assert len(self.WRONG) >= 30 and len(self.RIGHT) >= 3
        for exercise in homework(self.WEEK).answers:
            assert any(case[0] == exercise for case in self.WRONG.values()), f"no wrong answer for {exercise}"
            assert any(case[0] == exercise for case in self.RIGHT.values()), f"no right answer for {exercise}"
