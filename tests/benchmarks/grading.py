"""Benchmark: the safe grading path against plain `nbgrader autograde`, on week 1.

    python -m tests.benchmarks.grading [N]        (N submissions in the batch, default 50)

Both graders get the same N copies of the solution homework. "Plain" is stock nbgrader with
its default configuration in a course folder of its own: every cell, tests included, in the
student's kernel, one submission after another. "Safe" is `python -m autograder grade`:
the student's kernel in the sandbox, test cells in the grader, one submission per core.
Prints a Markdown table for the README. Target (issue 3): safe <= 1.5 x plain per submission.
"""

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.nbrun import ROOT

WEEK = "week01_perceptron"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def timed(command, cwd) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def submit(submitted: Path, students: list[str]) -> None:
    for student in students:
        folder = submitted / student / WEEK
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "solutions" / WEEK / "homework.ipynb", folder)


def safe(tmp: Path, students: list[str]) -> tuple[float, float]:
    course = tmp / "safe"
    shutil.copytree(ROOT / "solutions", course / "solutions")
    cli = [sys.executable, "-m", "autograder", "--course-dir", str(course)]
    subprocess.run([*cli, "release", WEEK], env=ENV, check=True, capture_output=True)
    submit(course / ".grading" / "submitted", students)
    alone = timed([*cli, "grade", WEEK, "--student", students[0]], course)
    return alone, timed([*cli, "grade", WEEK], course) / len(students)


def plain(tmp: Path, students: list[str]) -> tuple[float, float]:
    course = tmp / "plain"
    shutil.copytree(ROOT / "solutions" / WEEK, course / "source" / WEEK)
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n")
    nbgrader = [str(BIN / "nbgrader")]
    subprocess.run([*nbgrader, "generate_assignment", WEEK, "--force"], cwd=course, env=ENV, check=True,
                   capture_output=True)
    submit(course / "submitted", students)
    alone = timed([*nbgrader, "autograde", WEEK, "--student", students[0], "--force"], course)
    return alone, timed([*nbgrader, "autograde", WEEK, "--force"], course) / len(students)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    students = [f"s{i:03d}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        plain_alone, plain_batch = plain(Path(tmp), students)
        safe_alone, safe_batch = safe(Path(tmp), students)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()}; week 1 homework, batch of {n}\n")
    print("| seconds per submission | plain `nbgrader autograde` | `python -m autograder grade` (safe) | safe / plain |")
    print("|---|---|---|---|")
    print(f"| one submission graded alone | {plain_alone:.1f} | {safe_alone:.1f} | {safe_alone / plain_alone:.2f}x |")
    print(f"| batch of {n} | {plain_batch:.2f} | {safe_batch:.2f} | {safe_batch / plain_batch:.2f}x |")


if __name__ == "__main__":
    main()
