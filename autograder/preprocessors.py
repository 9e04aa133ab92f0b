"""Grading rules where the course departs from nbgrader's defaults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Float, Int, List, Unicode

from autograder.kernel import CellTimeout, KernelDied, StudentKernel
from autograder.release import HIDDEN_TESTS
from autograder.sandbox import Limits, Sandbox, socket_root, unavailable_reason
from autograder.trusted import TrustedTests, preload

MISSING_CELL = "was missing from the submission"


class SafeExecute(NbGraderPreprocessor):
    """Run a submission with its test cells outside the student's reach (replaces nbgrader's Execute).

    The student's cells run in a sandboxed kernel (:mod:`autograder.sandbox`); each test cell
    whose grade_id the gradebook knows runs in this process (:mod:`autograder.trusted`), with
    the instructor's source from the gradebook, whatever the notebook says. What happened that
    the student should know (a timeout, a crash, cut output, a restored cell) is written to a
    "Grader notes" cell at the top and to ``<notes_dir>/<student>/<week>.json``.
    """

    timeout = Float(120, help="seconds a cell (or one test cell's calls) may run").tag(config=True)
    sandbox = Bool(True, help="run student kernels in the Linux sandbox").tag(config=True)
    scratch_dir = Unicode(help="where each submission's working folder is made").tag(config=True)
    notes_dir = Unicode(help="where grader notes are kept, per student and week").tag(config=True)
    hide = List(Unicode(), help="folders student code must not see").tag(config=True)
    memory = Int(Limits.memory).tag(config=True)
    cpu = Int(Limits.cpu).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        student, week, notebook = info["student"], info["assignment"], info["notebook"]
        tests = _test_sources(info["db_url"], notebook, week)
        preload(tests.values())  # TensorFlow loads while the student's cells run
        scratch = Path(self.scratch_dir) / f"{student}--{week}--{notebook}"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(resources["metadata"]["path"], scratch, symlinks=True,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        kernel = StudentKernel(scratch, self._sandbox(scratch), self.timeout)
        notes = []
        try:
            kernel.start()
            self._run(nb, kernel, TrustedTests(kernel, self.timeout), tests, notes)
        finally:
            kernel.stop()
            shutil.rmtree(scratch, ignore_errors=True)
        if notes:
            nb.cells.insert(0, new_markdown_cell("**Grader notes**\n\n" + "\n".join(f"- {n}" for n in notes)))
        self._save_notes(student, week, notes)
        return nb, resources

    def _run(self, nb, kernel, trusted, tests, notes) -> None:
        done = set()
        for number, cell in enumerate(nb.cells, 1):
            if cell.cell_type != "code":
                continue
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in tests and grade_id not in done:
                done.add(grade_id)
                if MISSING_CELL in cell.source:
                    notes.append(f"test cell `{grade_id}` had been deleted; the grader put it back")
                cell.outputs = trusted.run(grade_id, tests[grade_id])
            else:
                cell.outputs = self._run_student_cell(kernel, cell, number, notes)
            cell.execution_count = number
            if any("were cut by the grader" in o.get("text", "") for o in cell.outputs):
                notes.append(f"cell {number} printed too much; its output was cut")
            for output in cell.outputs:
                if output.output_type == "error" and output.ename in ("CellTimeout", "KernelDied"):
                    notes.append(f"cell {number}{f' (`{grade_id}`)' if grade_id else ''}: {output.evalue}")

    @staticmethod
    def _run_student_cell(kernel, cell, number, notes) -> list:
        try:
            outputs, _ = kernel.run_cell(cell.source)
            return outputs
        except (CellTimeout, KernelDied) as error:
            return [new_output("error", ename=type(error).__name__, evalue=str(error),
                               traceback=[f"{type(error).__name__}: {error}"])]

    def _sandbox(self, scratch: Path) -> Sandbox | None:
        if not self.sandbox:
            return None
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(f"cannot sandbox student code: {reason}. Fix that, or grade with "
                               f"--no-sandbox on a machine where student code may read your files.")
        return Sandbox(keep=[scratch], hide=[Path(p) for p in self.hide] + [socket_root()],
                       limits=Limits(memory=self.memory, cpu=self.cpu))

    def _save_notes(self, student: str, week: str, notes: list[str]) -> None:
        path = Path(self.notes_dir) / student / f"{week}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        earlier = json.loads(path.read_text()) if path.exists() else []
        path.write_text(json.dumps(earlier + notes, indent=1))


def _test_sources(db_url: str, notebook: str, week: str) -> dict[str, str]:
    """grade_id -> instructor source of every autograded test cell of the notebook."""
    with Gradebook(db_url) as gradebook:
        nb = gradebook.find_notebook(notebook, week)
        graded = {c.name for c in nb.grade_cells} - {c.name for c in nb.solution_cells}
        return {c.name: c.source for c in nb.source_cells if c.cell_type == "code" and c.name in graded}


class DropDuplicateMetadata(NbGraderPreprocessor):
    """A duplicated cell keeps no grading metadata, so it is graded as an ordinary cell.

    nbgrader's DeduplicateIds removes only the duplicate's ``grade_id``, and the next step
    (OverwriteCells) then fails on the half-empty metadata: the whole submission would need
    manual grading."""

    def preprocess_cell(self, cell, resources, cell_index):
        if "nbgrader" in cell.metadata and "grade_id" not in cell.metadata.nbgrader:
            del cell.metadata["nbgrader"]
        return cell, resources


class StderrIsNotFailure(NbGraderPreprocessor):
    """Only an error fails a test cell; text on stderr does not.

    nbgrader gives a test cell zero points if anything reaches stderr, so a correct answer
    that triggers a ``RuntimeWarning``, a scikit-learn ``ConvergenceWarning`` or TensorFlow's
    start-up log would lose its points. We keep that text, relabelled as ordinary output, so
    the student still reads it in the feedback.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
        return cell, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback shows each hidden test's result and message, never its code."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell):
            cell.source = HIDDEN_TESTS.sub("# (hidden tests: the code is not shown; the result is below)", cell.source)
        return cell, resources
