"""Benchmark: how long every notebook takes to run, and grading one submission.

    python -m tests.benchmarks.notebooks

Prints a Markdown table for the README. Targets (DESIGN.md): each solution notebook under
60 s, the whole course under 8 minutes, grading a homework at most its own run time + 5 s.
This is a script, not a test: timings depend on the machine.
"""

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.nbrun import ROOT, execute  # noqa: E402


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def grade_one(week: str) -> float:
    """Seconds for `python -m autograder grade` on one solution submission (after release)."""
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        cli = [sys.executable, "-m", "autograder", "--course-dir", str(course)]
        subprocess.run([*cli, "release", week], check=True, capture_output=True)
        folder = course / ".grading" / "submitted" / "student" / week
        folder.mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / week / "homework.ipynb", folder)
        return timed(subprocess.run, [*cli, "grade", week], check=True, capture_output=True)


def main() -> None:
    rows, total = [], 0.0
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        seconds = timed(execute, path)
        total += seconds
        rows.append((str(path.relative_to(ROOT)), f"{seconds:.1f} s"))
    for week in sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()):
        rows.append((f"grade one {week} homework (`python -m autograder grade`)", f"{grade_one(week):.1f} s"))
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}\n")
    print("| what | wall time |\n|---|---|")
    for what, seconds in rows:
        print(f"| {what} | {seconds} |")
    print(f"| whole course, every notebook once | {total:.1f} s |")


if __name__ == "__main__":
    main()
