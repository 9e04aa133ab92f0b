"""Benchmark: ``grade --cluster local:W`` against ``grade --jobs W`` on one machine.

    python -m tests.benchmarks.cluster [WEEK] [--n N] [--workers 1 2] [--repeat R]

(default: week04_backprop, N = 20 copies of its solution, W = 1 and 2, R = 3.)

For each W, the two commands grade the same N submissions in turn, R times each (one course
folder, graded again each time), and the script prints a Markdown table for the README:
median seconds, submissions a minute, and cluster / one machine. A local cluster's workers
are processes on this machine, so this measures what Dask's path costs over the worker
pool's; a real cluster adds machines, each grading at about this rate per worker.
This is a script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.grading import ENV, ROOT, submit, timed


def course(folder: Path, week: str, n: int) -> list[str]:
    """A course folder with ``week`` released and N copies of its solution submitted; the command."""
    import shutil

    shutil.copytree(ROOT / "solutions" / week, folder / "solutions" / week)
    cli = [sys.executable, "-m", "autograder", "--course-dir", str(folder)]
    subprocess.run([*cli, "release", week], env=ENV, check=True, capture_output=True)
    submit(folder / ".grading" / "submitted", week, [f"student{i:03d}" for i in range(n)])
    return [*cli, "grade", week]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("week", nargs="?", default="week04_backprop")
    parser.add_argument("--n", type=int, default=20, help="submissions (default 20)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (default 3)")
    args = parser.parse_args(argv)
    rows = ["| workers | one machine (`--jobs W`) | cluster (`--cluster local:W`) | cluster / one machine |",
            "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="nnf-bench-cluster-") as tmp:
        grade = course(Path(tmp), args.week, args.n)
        timed((grade, tmp))  # the gradebook and the week's release made once, not timed
        for workers in args.workers:
            here, there = [], []
            for _ in range(args.repeat):
                here.append(timed(([*grade, "--jobs", str(workers)], tmp)))
                there.append(timed(([*grade, "--cluster", f"local:{workers}"], tmp)))
            a, b = statistics.median(here), statistics.median(there)
            rows.append(f"| {workers} | {a:.1f} s ({60 * args.n / a:.1f} a minute) | "
                        f"{b:.1f} s ({60 * args.n / b:.1f} a minute) | {b / a:.2f}x |")
            print(rows[-1], file=sys.stderr, flush=True)
    print(f"{args.week}, {args.n} submissions, median of {args.repeat} runs each:\n")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
