"""One course directory and its grading working directory, with nbgrader's API on top.

Every command works on a :class:`Course`: the weeks it has, the notebooks each week
releases and grades, the submissions collected so far, the gradebook, the grader's notes
(:mod:`autograder.notes`) and ``nbgrader.log``. Its configuration is :mod:`autograder.config`'s,
with the command's options (``--timeout``, ``--budget``, ``--no-sandbox``) on top.
"""

from __future__ import annotations

import os
import sys
import warnings
from functools import cached_property
from pathlib import Path

from autograder import release
from autograder.config import RELEASE, SOURCE, course_config, default_workdir
from autograder.notes import Notes


class Course:
    """One course directory and its grading working directory, with nbgrader's API on top."""

    def __init__(self, course_dir: Path, workdir: Path | None = None, options: dict | None = None):
        self.dir = Path(course_dir).resolve()
        self.workdir = Path(workdir).resolve() if workdir else default_workdir(self.dir)
        self.options = options or {}
        self.notes = Notes(Notes.in_workdir(self.workdir).folder)
        self._graded: dict[str, list[str]] = {}

    @cached_property
    def config(self):
        """nbgrader's configuration, with the command's options on top. Made when first needed:
        it loads nbgrader's converters (a second), which ``grade`` lets its workers start on first."""
        config = course_config(self.dir, self.workdir)
        for name, value in self.options.items():  # e.g. {"timeout": 10, "sandbox": False}
            setattr(config.SafeExecute, name, value)
        return config

    def option(self, name: str, default=None):
        """A grading option (``--timeout``, ``--budget``, ``--no-sandbox``), without loading the configuration."""
        return self.options.get(name, default)

    @cached_property
    def api(self):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        return NbGraderAPI(CourseDirectory(config=self.config), config=self.config)

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(self.config.CourseDirectory.db_url, self.config.CourseDirectory.course_id)

    def weeks(self, requested=()) -> list[str]:
        known = release.weeks(self.dir / SOURCE)
        unknown = sorted(set(requested) - set(known))
        if unknown:
            raise SystemExit(f"error: unknown week(s) {', '.join(unknown)}; the course has: {', '.join(known)}")
        return list(requested) or known

    def released(self, week: str) -> list[str]:
        return sorted(p.name for p in (self.dir / RELEASE / week).glob("*.ipynb"))

    def graded(self, week: str) -> list[str]:
        """The released notebooks of a week that carry graded cells (usually homework.ipynb);
        read once per Course (a grading worker keeps one for all its submissions)."""
        import nbformat

        def has_grades(path: Path) -> bool:
            return any(c.get("metadata", {}).get("nbgrader", {}).get("grade")
                       for c in nbformat.read(path, as_version=4).cells)
        if week not in self._graded:
            self._graded[week] = [name for name in self.released(week) if has_grades(self.dir / RELEASE / week / name)]
        return list(self._graded[week])

    def released_again(self, week: str) -> None:
        """The week was released again: read its notebooks afresh."""
        self._graded.pop(week, None)

    def submitted(self, student: str, week: str) -> Path:
        return self.workdir / "submitted" / student / week

    def submissions(self, weeks, students=()) -> list[tuple[str, str]]:
        """(student, week) pairs that have a folder <workdir>/submitted/<student>/<week>/."""
        folders = sorted((self.workdir / "submitted").glob("*/*"))
        return [(f.parent.name, f.name) for f in folders
                if f.is_dir() and f.name in weeks and (not students or f.parent.name in students)]

    def log(self, result: dict) -> None:
        with open(self.workdir / "nbgrader.log", "a", encoding="utf-8") as fh:
            fh.write(result.get("log", "") + result.get("error", ""))


def quiet_environment() -> None:
    """The environment nbgrader and the student kernels need, in this process and its workers."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # student kernels inherit a quiet TensorFlow
    # nbgrader runs `alembic` and kernels by name: find this environment's, even when the
    # virtual environment was not activated (.venv/bin/python -m autograder ...).
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy session chatter from nbgrader's gradebook
