"""Grading rules where the course departs from nbgrader's defaults (``config`` puts them in its steps).

Before a submission runs: :class:`RestoreFlags` and :class:`DropDuplicateMetadata` take every
cell's grading flags from the gradebook. Running it: :class:`SafeExecute` (in place of
nbgrader's Execute) and :class:`StderrIsNotFailure`. For feedback: :class:`HideHiddenTests`.
"""

from __future__ import annotations

import ast
import functools
import shutil
from dataclasses import dataclass
from pathlib import Path

from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Float, Int, Unicode

from autograder import markers
from autograder.config import BUDGET, CELL_TIMEOUT
from autograder.inert import markdown_text
from autograder.kernel import CellTimeout, KernelDied, OutOfTime, StudentKernel, kernel_for, launch_spare
from autograder.mistakes import Mistakes
from autograder.notes import Notes
from autograder.sandbox import NOT_COPIED, Limits, unavailable_reason
from autograder.trusted import TrustedTests, imported_modules, preload

MISSING_CELL = "was missing from the submission"
DEMO = "yours_"  # a locked cell whose grade_id starts so shows the student's functions in a demo: no points, not run
SKIPPED_DEMO = ("(not run by the grader: this cell shows your functions in an interactive demo and carries "
                "no points)\n")


class SafeExecute(NbGraderPreprocessor):
    """Run a submission with its test cells outside the student's reach (replaces nbgrader's Execute).

    The student's cells run in a sandboxed kernel (:mod:`autograder.sandbox`) that sees only
    this submission's files; each test cell whose grade_id the gradebook knows runs in this
    process (:mod:`autograder.trusted`), with the instructor's source from the gradebook,
    whatever the notebook says, after the locked setup cell has been run here too. What
    happened that the student should know (a timeout, a crash, cut output, a restored cell,
    the time budget) is written to a "Grader notes" cell at the top and to the submission's
    notes (:mod:`autograder.notes`): from what the grader itself saw, never from what the
    kernel printed.
    """

    timeout = Float(CELL_TIMEOUT, help="seconds a cell (or one test cell's calls) may run").tag(config=True)
    budget = Float(BUDGET, help="seconds the whole submission may take, replays included").tag(config=True)
    sandbox = Bool(True, help="run student kernels in the Linux sandbox").tag(config=True)
    fork = Bool(True, help="fork sandboxed kernels from the grading worker's warm server (read by the "
                           "worker, see autograder.forkserver); False: start each with bwrap").tag(config=True)
    scratch_dir = Unicode(help="where an unsandboxed submission's working copy is made").tag(config=True)
    notes_dir = Unicode(help="where grader notes are kept, per student and week").tag(config=True)
    memory = Int(Limits.memory, help="bytes of address space per kernel process").tag(config=True)
    cpu = Int(Limits.cpu, help="CPU seconds per kernel process").tag(config=True)
    disk = Int(Limits.disk, help="bytes the kernel may keep in its working folder").tag(config=True)
    tasks = Int(Limits.tasks, help="processes and threads the kernel may run at once").tag(config=True)
    prestart = Bool(False, help="launch the next submission's kernel while this one is graded").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        student, week, notebook = info["student"], info["assignment"], info["notebook"]
        cells = instructor_cells(info["db_url"], notebook, week)
        ready = preload(set().union(*map(imported_modules, [*cells.setup, *cells.tests.values()])))  # loads while the student's cells run
        folder = Path(resources["metadata"]["path"])
        notes = []
        if self.sandbox:
            reason = unavailable_reason()
            if reason:
                raise RuntimeError(f"cannot sandbox student code: {reason}. Fix that, or grade with "
                                   f"--no-sandbox on a machine where student code may read your files.")
            limits = self.limits()
            notes += _left_out(folder, limits.disk)
            kernel = kernel_for(folder, limits, self.timeout, self.budget)  # the spare, when there is one
            if self.prestart:
                launch_spare(limits, self.timeout)  # for the next submission: it boots while this one runs
        else:  # the kernel works in a copy, so that it cannot change the submitted files
            folder = self._copy(folder, f"{student}--{week}--{notebook}")
            kernel = StudentKernel(folder, None, self.timeout, self.budget)
            kernel.start()
        trusted = TrustedTests(kernel, self.timeout, cells.setup, cells.student_names, ready)
        try:
            self._run(nb, kernel, trusted, cells, notes)
        finally:
            kernel.close()
            trusted.finish()
            if not self.sandbox:
                shutil.rmtree(folder, ignore_errors=True)
        if kernel.malformed:
            notes.append(f"your kernel sent {kernel.malformed} message(s) the grader could not read; they were left out")
        if notes:
            text = "**Grader notes**\n\n" + "\n".join(f"- {markdown_text(n)}" for n in notes)
            taken, name = {c.get("id") for c in nb.cells}, "grader-notes"
            while name in taken:  # a student's cell may have it
                name += "-"
            nb.cells.insert(0, new_markdown_cell(text, id=name))  # not a random id: grading twice writes one file
        Notes(self.notes_dir).add(student, week, *notes)
        Mistakes(self.notes_dir).keep(student, week, notebook, trusted.failed)
        return nb, resources

    def _run(self, nb, kernel, trusted, cells, notes) -> None:
        tests, demos = cells.tests, cells.demos
        done, out_of_time = set(), None
        for number, cell in enumerate(nb.cells, 1):
            if cell.cell_type != "code":
                continue
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            where = f"cell {number}" + (f" (`{grade_id}`)" if grade_id else "")
            cell.execution_count = number
            if out_of_time:
                cell.outputs = [_grader_error(OutOfTime(out_of_time))]
                continue
            try:
                if grade_id in demos and grade_id not in done:  # the gradebook's demo cell: it costs no time
                    done.add(grade_id)
                    cell.outputs = [new_output("stream", name="stdout", text=SKIPPED_DEMO)]
                    continue
                if grade_id in tests and grade_id not in done:
                    done.add(grade_id)
                    if MISSING_CELL in cell.source:
                        notes.append(f"test cell `{grade_id}` had been deleted; the grader put it back")
                    outputs = trusted.run(grade_id, tests[grade_id])
                else:
                    outputs = kernel.run_cell(cell.source)
                cell.outputs = outputs.finish()
                if outputs.cut:
                    notes.append(f"{where} printed too much; its output was cut")
            except (CellTimeout, KernelDied, OutOfTime) as error:
                cell.outputs = [_grader_error(error)]
                notes.append(f"{where}: {error}")
                if isinstance(error, OutOfTime):
                    out_of_time = str(error)

    def limits(self) -> Limits:
        """The sandbox's limits for a kernel, as configured."""
        return Limits(memory=self.memory, cpu=self.cpu, disk=self.disk, tasks=self.tasks)

    def _copy(self, folder: Path, name: str) -> Path:
        scratch = Path(self.scratch_dir) / name
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(folder, scratch, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
        return scratch


def _grader_error(error: Exception):
    """An error output that the grader writes itself (the kernel never names one)."""
    name = type(error).__name__
    return new_output("error", ename=name, evalue=str(error), traceback=[f"{name}: {error}"])


def _left_out(folder: Path, disk: int) -> list[str]:
    """Notes for the submission's files that cannot fit in the kernel's working folder."""
    notes, total = [], 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".ipynb"):
        total += path.stat().st_size
        if total > disk:
            notes.append(f"'{path.relative_to(folder)}' and the files after it do not fit in the "
                         f"{disk / 2**20:.0f} MiB your code may use: they were left out")
            break
    return notes


@dataclass
class InstructorCells:
    """What the gradebook says about a notebook's code, whatever the submission says."""
    tests: dict[str, str]    # grade_id -> source of every autograded test cell
    setup: list[str]         # sources of the locked setup cells (grade_id "setup...")
    student_names: set[str]  # names the exercises ask for (bound by solution and other locked cells)
    demos: frozenset[str] = frozenset()  # grade_ids of the locked demo cells, which the grader skips

    @classmethod
    def from_cells(cls, cells) -> "InstructorCells":
        """From (grade_id, source, locked, autograded test) for each code cell of the notebook."""
        tests = {name: source for name, source, _, test in cells if test}
        setup = [source for name, source, locked, test in cells if locked and not test and name.startswith("setup")]
        demos = frozenset(name for name, _, locked, test in cells if locked and not test and name.startswith(DEMO))
        others = [source for name, source, _, test in cells
                  if not test and not name.startswith("setup") and name not in demos]
        return cls(tests, setup, set().union(*map(cls.bound_names, others)), demos)

    @staticmethod
    def bound_names(source: str) -> set[str]:
        """Names a cell binds at its top level (functions, classes, assignments, imports)."""
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return set()
        names = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
            else:
                names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        return names


@dataclass(frozen=True)
class SourceCell:
    """One cell of the instructor's notebook, as the gradebook knows it."""
    name: str
    cell_type: str
    source: str
    locked: bool
    points: float | None  # None: not graded
    solution: bool


@functools.lru_cache(maxsize=64)
def gradebook_cells(db_url: str, notebook: str, week: str) -> tuple[SourceCell, ...]:
    """The gradebook's cells of a notebook, read once per process (a release clears this)."""
    with Gradebook(db_url) as gradebook:
        nb = gradebook.find_notebook(notebook, week)
        points = {c.name: float(c.max_score) for c in nb.grade_cells}
        solutions = {c.name for c in nb.solution_cells}
        return tuple(SourceCell(c.name, c.cell_type, c.source, bool(c.locked), points.get(c.name), c.name in solutions)
                     for c in nb.source_cells)


def instructor_cells(db_url: str, notebook: str, week: str) -> InstructorCells:
    return InstructorCells.from_cells([(c.name, c.source, c.locked, c.points is not None and not c.solution)
                                       for c in gradebook_cells(db_url, notebook, week) if c.cell_type == "code"])


class RestoreFlags(NbGraderPreprocessor):
    """Every nbgrader flag of a cell comes from the gradebook, never from the submission.

    A cell whose grade_id the gradebook knows gets that cell's ``grade``, ``solution``,
    ``locked`` and ``points`` back (a hidden test cell re-flagged ``solution: true`` used to
    make nbgrader raise and the submission score 0); any other nbgrader metadata is removed,
    so the cell is graded as an ordinary one. nbgrader's OverwriteCells then restores each
    known cell's type and the sources of locked cells.
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        cells = gradebook_cells(info["db_url"], info["notebook"], info["assignment"])
        points = {c.name: c.points for c in cells if c.points is not None}
        solutions = {c.name for c in cells if c.solution}
        known = {c.name: c.locked for c in cells}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(grade_id, str) or grade_id not in known:
                del cell.metadata["nbgrader"]
                continue
            locked = known[grade_id]
            flags = {"grade": grade_id in points, "solution": grade_id in solutions, "locked": locked,
                     "grade_id": grade_id, "schema_version": 3}
            if grade_id in points:
                flags["points"] = points[grade_id]
            if "checksum" in meta:
                flags["checksum"] = meta["checksum"]
            cell.metadata["nbgrader"] = flags
        return nb, resources


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
            cell.source = markers.hide(cell.source)
        return cell, resources
