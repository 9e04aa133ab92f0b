"""Benchmark: the safe grading path against plain `nbgrader autograde`, for every week.

    python -m tests.benchmarks.grading [WEEK ...] [--n N] [--repeat R]

(default: every week with a homework, N = 50 submissions, R = 3 runs of the single submission.)

    python -m tests.benchmarks.grading WEEK --growth 10 25 50 100

measures instead how the safe path's batch time grows with the number of submissions.

Both graders get the same N copies of the week's solution homework.

- **Plain** is stock nbgrader with its default configuration, in course folders of its own:
  every cell, tests included, in the student's kernel. Alone: `nbgrader autograde --student`
  on one submission. Batch: the N submissions split in two course folders of N/2 (nbgrader
  grades one after another, and two processes on one gradebook would fight over SQLite),
  graded by two `nbgrader autograde` processes at once, as many as the safe path's workers.
- **Safe** is `python -m autograder grade`: the student's kernel in the sandbox, test cells in
  the grader, one worker per core (two here). Alone: `grade --student` on one submission.

The single submission is graded R times by each, plain and safe taking turns.

Prints a Markdown table for the README: seconds per submission alone (median of R runs) and in
the batch (wall time / N), safe / plain, and a class of 200 at the batch's rate. Targets
(issue 16): safe no slower than plain, alone and in a batch; a class of 200 in 10 minutes.
This is a script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.nbrun import ROOT

BIN = Path(sys.executable).parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
WEEKS = sorted(p.parent.name for p in (ROOT / "solutions").glob("week*/homework.ipynb"))


def timed(*jobs) -> float:
    """Wall seconds for the (command, folder) ``jobs`` started together, until the last one ends."""
    start = time.perf_counter()
    processes = [subprocess.Popen(command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True) for command, cwd in jobs]
    for (command, _), process in zip(jobs, processes):
        _, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{err[-2000:]}")
    return time.perf_counter() - start


def submit(submitted: Path, week: str, students) -> None:
    for student in students:
        folder = submitted / student / week
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "solutions" / week / "homework.ipynb", folder)


def plain_course(folder: Path, week: str, students) -> list[str]:
    """A stock nbgrader course with the week generated and ``students`` submitted; its command."""
    shutil.copytree(ROOT / "solutions" / week, folder / "source" / week)
    (folder / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(folder)!r}\n")
    nbgrader = str(BIN / "nbgrader")
    subprocess.run([nbgrader, "generate_assignment", week, "--force"], cwd=folder, env=ENV, check=True,
                   capture_output=True)
    submit(folder / "submitted", week, students)
    return [nbgrader, "autograde", week, "--force"]


def plain(tmp: Path, week: str, students) -> tuple[list, list]:
    """Plain nbgrader's jobs: one submission alone, and the batch as two processes of N/2."""
    half = len(students) // 2
    one = plain_course(tmp / "plain-1", week, students[:half])
    two = plain_course(tmp / "plain-2", week, students[half:])
    return [([*one, "--student", students[0]], tmp / "plain-1")], [(one, tmp / "plain-1"), (two, tmp / "plain-2")]


def safe(tmp: Path, week: str, students) -> tuple[list, list]:
    """The safe path's jobs: ``grade --student`` alone, and ``grade`` on the whole batch."""
    course = tmp / "safe"
    shutil.copytree(ROOT / "solutions" / week, course / "solutions" / week)
    cli = [sys.executable, "-m", "autograder", "--course-dir", str(course)]
    subprocess.run([*cli, "release", week], env=ENV, check=True, capture_output=True)
    submit(course / ".grading" / "submitted", week, students)
    return [([*cli, "grade", week, "--student", students[0]], course)], [([*cli, "grade", week], course)]


def measure(tmp: Path, week: str, students, repeat: int) -> tuple[float, float, float, float]:
    """Seconds per submission: plain and safe alone (medians, the two taking turns, so that
    the machine's drift hits both alike), then plain and safe in the batch."""
    plain_alone, plain_batch = plain(tmp, week, students)
    safe_alone, safe_batch = safe(tmp, week, students)
    runs = [(timed(*plain_alone), timed(*safe_alone)) for _ in range(repeat)]
    return (statistics.median(p for p, _ in runs), statistics.median(s for _, s in runs),
            timed(*plain_batch) / len(students), timed(*safe_batch) / len(students))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.grading", description=__doc__.split("\n\n")[0])
    parser.add_argument("weeks", nargs="*", default=WEEKS, help="weeks to measure (default: all)")
    parser.add_argument("--n", type=int, default=50, help="submissions in the batch (default 50)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the single submission (default 3)")
    parser.add_argument("--growth", type=int, nargs="+", metavar="N",
                        help="instead: the safe batch's wall time at each of these sizes, e.g. 10 25 50 100")
    args = parser.parse_args(argv)
    if args.growth:
        return growth(args.weeks, args.growth)
    students = [f"s{i:03d}" for i in range(args.n)]
    rows = []
    for week in args.weeks:
        with tempfile.TemporaryDirectory() as tmp:
            plain_alone, safe_alone, plain_batch, safe_batch = measure(Path(tmp), week, students, args.repeat)
        rows.append((week, plain_alone, safe_alone, plain_batch, safe_batch))
        print(f"{week}: alone {plain_alone:.1f} s plain, {safe_alone:.1f} s safe; batch {plain_batch:.2f} s plain, "
              f"{safe_batch:.2f} s safe per submission", file=sys.stderr, flush=True)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()}; {args.n} copies of each week's solution; alone: median of {args.repeat} runs\n")
    print("| week | alone: plain | alone: safe | safe / plain | batch of {n}: plain | batch: safe | safe / plain "
          "| class of 200, safe |".format(n=args.n))
    print("|---|---|---|---|---|---|---|---|")
    for week, plain_alone, safe_alone, plain_batch, safe_batch in rows:
        print(f"| {week} | {plain_alone:.1f} s | {safe_alone:.1f} s | {safe_alone / plain_alone:.2f}x "
              f"| {plain_batch:.2f} s | {safe_batch:.2f} s | {safe_batch / plain_batch:.2f}x "
              f"| {200 * safe_batch / 60:.1f} min |")
    return 0


def growth(weeks, sizes) -> int:
    """How the safe path's time grows with the class: one batch per size, in a fresh course."""
    print("| week | submissions | wall time | per submission |\n|---|---|---|---|")
    for week in weeks:
        for n in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                _, batch = safe(Path(tmp), week, [f"s{i:03d}" for i in range(n)])
                seconds = timed(*batch)
            print(f"| {week} | {n} | {seconds:.1f} s | {seconds / n:.2f} s |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
