"""python -m autograder: the instructor's commands, thin wrappers over nbgrader.

    release   [WEEK ...]                   regenerate notebooks/ from solutions/, check for leaks
    grade     [WEEK ...] [--student ID]    autograde everything in <workdir>/submitted/
    feedback  [WEEK ...] [--student ID]    HTML feedback per student and week
    export    [--to grades.csv]            all grades as CSV

Run from anywhere; ``--course-dir`` defaults to this repository and ``--workdir`` to
``<course-dir>/.grading``. Exit status: 0 on success, 1 when nbgrader itself failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from functools import cached_property
from pathlib import Path

from autograder import release
from autograder.config import RELEASE, REPO_ROOT, SOURCE, course_config, default_workdir


class Course:
    """One course directory and its grading working directory, with nbgrader's API on top."""

    def __init__(self, course_dir: Path, workdir: Path | None = None):
        self.dir = Path(course_dir).resolve()
        self.workdir = Path(workdir).resolve() if workdir else default_workdir(self.dir)
        self.config = course_config(self.dir, self.workdir)

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

    def submissions(self, weeks, students=()) -> list[tuple[str, str]]:
        """(student, week) pairs that have a folder <workdir>/submitted/<student>/<week>/."""
        folders = sorted((self.workdir / "submitted").glob("*/*"))
        return [(f.parent.name, f.name) for f in folders
                if f.is_dir() and f.name in weeks and (not students or f.parent.name in students)]

    def log(self, result: dict) -> None:
        with open(self.workdir / "nbgrader.log", "a", encoding="utf-8") as fh:
            fh.write(result.get("log", "") + result.get("error", ""))


# --- commands ----------------------------------------------------------------------------------

def cmd_release(course: Course, args) -> int:
    failed = [week for week in course.weeks(args.weeks) if not release_week(course, week)]
    return 1 if failed else 0


def release_week(course: Course, week: str) -> bool:
    """Generate <release>/<week>/ with nbgrader and check it for leaks; True on success."""
    result = course.api.generate_assignment(week, force=True, create=True)
    course.log(result)
    if not result["success"]:
        print(f"release {week}: nbgrader failed\n{result.get('error', '')}", file=sys.stderr)
        return False
    released = course.dir / RELEASE / week
    leaks = release.find_leaks(course.dir / SOURCE / week, released)
    if leaks:
        print(f"release {week}: LEAK CHECK FAILED", *leaks, sep="\n  ", file=sys.stderr)
        return False
    names = ", ".join(sorted(p.name for p in released.glob("*.ipynb")))
    print(f"release {week}: {RELEASE}/{week}/ regenerated ({names}); no solution or hidden test leaked")
    return True


def cmd_grade(course: Course, args) -> int:
    weeks = course.weeks(args.weeks)
    todo = course.submissions(weeks, args.student)
    if not todo:
        print(f"Nothing to grade: no submissions in {course.workdir / 'submitted'}/<student>/<week>/ "
              f"for {', '.join(weeks)}.")
        return 0
    _ensure_in_gradebook(course, sorted({w for _, w in todo}))
    failed = set()
    for i, (student, week) in enumerate(todo, 1):
        start = time.perf_counter()
        result = course.api.autograde(week, student, force=True, create=True)
        course.log(result)
        seconds = time.perf_counter() - start
        if result["success"]:
            score, max_score = _score(course, week, student)
            print(f"[{i}/{len(todo)}] {student:<20} {week:<28} {score:6.1f} / {max_score:<6.1f} ({seconds:.1f} s)", flush=True)
        else:
            failed.add((student, week))
            print(f"[{i}/{len(todo)}] {student:<20} {week:<28} GRADER FAILED ({seconds:.1f} s); see {course.workdir / 'nbgrader.log'}",
                  flush=True)
    print()
    print(_summary(course, todo, failed))
    return 1 if failed else 0


def cmd_feedback(course: Course, args) -> int:
    weeks = course.weeks(args.weeks)
    todo = course.submissions(weeks, args.student)
    failures = 0
    for student, week in todo:
        result = course.api.generate_feedback(week, student, force=True)
        course.log(result)
        if result["success"]:
            print(f"feedback {student} {week}: {course.workdir / 'feedback' / student / week}")
        else:
            failures += 1
            print(f"feedback {student} {week}: FAILED (grade it first?)", file=sys.stderr)
    return 1 if failures else 0


def cmd_export(course: Course, args) -> int:
    from nbgrader.plugins import CsvExportPlugin

    destination = Path(args.to).resolve()
    plugin = CsvExportPlugin(config=course.config)
    plugin.to = str(destination)
    with course.gradebook() as gradebook:
        plugin.export(gradebook)
    print(f"grades exported to {destination}")
    return 0


# --- helpers ------------------------------------------------------------------------------------

def _ensure_in_gradebook(course: Course, weeks) -> None:
    """Autograding needs each week's source cells in the gradebook; a fresh workdir has none."""
    with course.gradebook() as gradebook:
        known = {a.name for a in gradebook.assignments}
    for week in weeks:
        if week not in known:
            print(f"{week} is not in the gradebook yet: releasing it first.")
            release_week(course, week)


def _score(course: Course, week: str, student: str) -> tuple[float, float]:
    with course.gradebook() as gradebook:
        submission = gradebook.find_submission(week, student)
        return submission.score, submission.max_score


def _summary(course: Course, todo, failed) -> str:
    rows = [("student", "week", "score", "max", "auto", "needs manual grading")]
    with course.gradebook() as gradebook:
        for student, week in todo:
            if (student, week) in failed:
                rows.append((student, week, "-", "-", "-", "grader failed"))
                continue
            s = gradebook.find_submission(week, student)
            rows.append((student, week, f"{s.score:.1f}", f"{s.max_score:.1f}", f"{s.code_score:.1f}",
                         "yes" if s.needs_manual_grade else "no"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


EXAMPLES = """examples:
  python -m autograder release week01_perceptron
  python -m autograder grade week01_perceptron            # everything in .grading/submitted/
  python -m autograder grade --student ada
  python -m autograder feedback week01_perceptron
  python -m autograder export --to grades.csv
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0],
                                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--course-dir", type=Path, default=REPO_ROOT, help="course directory (default: this repository)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="where submissions, grades and feedback go (default: <course-dir>/.grading or $NNF_GRADING_DIR)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("release", help="regenerate notebooks/ from solutions/ and check for leaks")
    r.add_argument("weeks", nargs="*", metavar="WEEK", help="e.g. week01_perceptron (default: all)")
    r.set_defaults(run=cmd_release)

    for name, run, help_text in (("grade", cmd_grade, "autograde submitted work"),
                                 ("feedback", cmd_feedback, "write HTML feedback for graded work")):
        s = sub.add_parser(name, help=help_text)
        s.add_argument("weeks", nargs="*", metavar="WEEK", help="default: all weeks")
        s.add_argument("--student", action="append", default=[], metavar="ID", help="only this student (repeatable)")
        s.set_defaults(run=run)

    e = sub.add_parser("export", help="export grades to CSV")
    e.add_argument("--to", default="grades.csv", help="CSV file to write (default: grades.csv)")
    e.set_defaults(run=cmd_export)
    return p


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # student kernels inherit a quiet TensorFlow
    # nbgrader runs `alembic` and kernels by name: find this environment's, even when the
    # virtual environment was not activated (.venv/bin/python -m autograder ...).
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy session chatter from nbgrader's gradebook
    args = parser().parse_args(argv)
    course = Course(args.course_dir, args.workdir)
    return args.run(course, args)
