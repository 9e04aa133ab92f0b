"""Benchmark: how long every notebook takes to run, and grading one submission.

    python -m tests.benchmarks.notebooks [WEEK ...] [--no-grading]

(default: every week, and grading one solution of each.) Prints a Markdown table for the README. Targets (DESIGN.md): each solution notebook under
60 s, the whole course under 8 minutes, grading a homework at most its own run time + 5 s.
This is a script, not a test: timings depend on the machine.
"""

import argparse
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


def main(argv=None) -> None:
    weeks_found = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and p.name.startswith("week"))
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.notebooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("weeks", nargs="*", metavar="WEEK", help="weeks to measure (default: all)")
    parser.add_argument("--no-grading", action="store_true", help="only the notebooks' run times")
    args = parser.parse_args(argv)
    if unknown := sorted(set(args.weeks) - set(weeks_found)):
        parser.error(f"no such week: {', '.join(unknown)} (the weeks: {', '.join(weeks_found)})")
    args.weeks = args.weeks or weeks_found
    rows, total = [], 0.0
    for week in args.weeks:
        for path in sorted((ROOT / "solutions" / week).glob("*.ipynb")):
            seconds = timed(execute, path)
            total += seconds
            rows.append((str(path.relative_to(ROOT)), f"{seconds:.1f} s"))
            print(f"{rows[-1][0]}: {rows[-1][1]}", file=sys.stderr, flush=True)
    for week in [] if args.no_grading else args.weeks:
        rows.append((f"grade one {week} homework (`python -m autograder grade`)", f"{grade_one(week):.1f} s"))
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}\n")
    print("| what | wall time |\n|---|---|")
    for what, seconds in rows:
        print(f"| {what} | {seconds} |")
    print(f"| {'whole course' if args.weeks == weeks_found else ', '.join(args.weeks)}, every notebook once | {total:.1f} s |")


if __name__ == "__main__":
    main()
