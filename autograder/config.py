"""nbgrader configuration for the course, shared by ``python -m autograder`` and plain ``nbgrader``.

Layout::

    <course>/solutions/<week>/      instructor source: solutions and hidden tests ("source")
    <course>/notebooks/<week>/      what students get, generated from solutions ("release")
    <workdir>/submitted/<student>/<week>/    collected submissions
    <workdir>/autograded/..., feedback/..., gradebook.db, nbgrader.log
    <workdir>/notes/<student>/<week>.json    the grader's notes (autograder.notes)

``<workdir>`` defaults to ``<course>/.grading`` (git-ignored); set ``NNF_GRADING_DIR`` or pass
``--workdir`` to keep grades elsewhere, e.g. outside a shared clone.
"""

from __future__ import annotations

import os
from pathlib import Path

from traitlets.config import Config

from autograder.markers import CLEARED_BY
from autograder.notes import Notes

REPO_ROOT = Path(__file__).resolve().parents[1]
COURSE_ID = "nn-fundamentals"
SOURCE = "solutions"
RELEASE = "notebooks"

# What a student sees in place of each solution. The message is what a released notebook
# fails with when run before the exercise is done.
CODE_STUB = '# YOUR CODE HERE\nraise NotImplementedError("Not done yet: replace this line with your code.")'
TEXT_STUB = "YOUR ANSWER HERE"

# Grading's time limits, used by every command and preprocessor (the kernel enforces them).
CELL_TIMEOUT = 120  # seconds per cell while grading; an endless loop costs its student, not the class
BUDGET = 600        # seconds for a whole submission, kernel restarts and replays included


def default_workdir(course_dir: Path) -> Path:
    return Path(os.environ.get("NNF_GRADING_DIR") or Path(course_dir) / ".grading").resolve()


def course_config(course_dir: Path | str = REPO_ROOT, workdir: Path | str | None = None) -> Config:
    """The nbgrader ``Config`` for a course directory (the repository root by default)."""
    course_dir = Path(course_dir).resolve()
    workdir = Path(workdir).resolve() if workdir else default_workdir(course_dir)
    workdir.mkdir(parents=True, exist_ok=True)

    c = Config()
    c.CourseDirectory.root = str(course_dir)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.source_directory = SOURCE
    c.CourseDirectory.release_directory = RELEASE
    # Absolute paths: nbgrader joins them to the root, and os.path.join keeps an absolute path.
    for step in ("submitted", "autograded", "feedback", "solution", "source_with_tests"):
        setattr(c.CourseDirectory, f"{step}_directory", str(workdir / step))
    c.CourseDirectory.db_url = f"sqlite:///{workdir / 'gradebook.db'}"
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".virtual_documents"]
    # A local exchange, so JupyterLab's Nbgrader > Assignment List works on one machine (empty
    # until an instructor runs `nbgrader release_assignment`). JupyterHub: see the README.
    (workdir / "exchange").mkdir(exist_ok=True)
    c.Exchange.root = str(workdir / "exchange")

    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    for step, trait, kind in CLEARED_BY:  # nbgrader's defaults, stated: the markers the course reads too
        setattr(c[step], f"begin_{trait}_delimeter", f"BEGIN {kind}")
        setattr(c[step], f"end_{trait}_delimeter", f"END {kind}")

    c.Execute.timeout = CELL_TIMEOUT  # plain nbgrader's executor, used by `nbgrader validate`
    c.Autograde.sanitize_preprocessors = _sanitize_steps()
    c.Autograde.autograde_preprocessors = _autograde_steps()
    c.OverwriteCells.add_missing_cells = True  # a deleted test cell is put back, not skipped
    c.SafeExecute.timeout = CELL_TIMEOUT
    c.SafeExecute.budget = BUDGET
    c.SafeExecute.scratch_dir = str(workdir / "scratch")  # used only by --no-sandbox
    c.SafeExecute.notes_dir = str(Notes.in_workdir(workdir).folder)
    c.GenerateFeedback.preprocessors = _feedback_steps()
    # The formgrader shows a submission through its own HTMLExporter, which runs these too
    # (GenerateFeedback's exporter then has them twice, which is harmless).
    c.HTMLExporter.preprocessors = ["autograder.inert.InertOutputs", "autograder.inert.InertMarkdown"]
    c.NbGrader.logfile = str(workdir / "nbgrader.log")
    from autograder import late  # due dates and the late policy: <workdir>/deadlines.toml

    late.configure(c, workdir)
    return c


def _sanitize_steps() -> list:
    """nbgrader's steps before running a submission, with every cell's flags taken from the
    gradebook first and duplicated cells made ordinary."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import DeduplicateIds

    from autograder.preprocessors import DropDuplicateMetadata, RestoreFlags

    steps = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    steps.insert(steps.index(DeduplicateIds), RestoreFlags)
    steps.insert(steps.index(DeduplicateIds) + 1, DropDuplicateMetadata)
    return steps


def _autograde_steps() -> list:
    """nbgrader's own autograding steps, with SafeExecute in place of its Execute and the
    outputs made inert before the autograded notebook (which the formgrader shows) is saved."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from autograder.inert import InertOutputs
    from autograder.preprocessors import SafeExecute, StderrIsNotFailure

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    steps[steps.index(Execute):steps.index(Execute) + 1] = [SafeExecute, StderrIsNotFailure, InertOutputs]
    return steps


def _feedback_steps() -> list:
    """nbgrader's feedback steps, with the hidden tests' code taken out and the student's
    outputs and markdown made inert first, then a line on the due date (``late.LateNote``)."""
    from nbgrader.converters import GenerateFeedback

    from autograder.inert import InertMarkdown, InertOutputs
    from autograder.latesteps import LateNote
    from autograder.preprocessors import HideHiddenTests

    return [HideHiddenTests, InertOutputs, InertMarkdown, LateNote,
            *GenerateFeedback.class_traits()["preprocessors"].default()]
