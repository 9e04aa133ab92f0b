"""Benchmark: what one call from a test cell into the student's kernel costs.

    python -m tests.benchmarks.calls [N]        (N calls, default 1000)

A sandboxed kernel (as ``python -m autograder grade`` starts one) defines ``def f(x): return x``;
a test cell, run in the grader as every test cell is, calls ``f(1)`` N times and times each
call. Prints the median, 90th percentile and maximum per call, and the same for a call with a
(100, 100) float64 array, for the README. Issue 16's target: a median of at most 0.5 ms for the
trivial call. This is a script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from autograder.config import CELL_TIMEOUT  # noqa: E402
from autograder.kernel import StudentKernel  # noqa: E402
from autograder.sandbox import Limits, unavailable_reason  # noqa: E402
from autograder.trusted import TrustedTests  # noqa: E402

TIMED = """
import time
import numpy as np

def per_call(arg, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        f(arg)
        times.append(time.perf_counter() - start)
    return times

TIMES = {"f(1)": per_call(1, N), "f(array (100, 100))": per_call(np.ones((100, 100)), N)}
"""


def measure(n: int) -> dict[str, list[float]]:
    """Per-call seconds for each kind of call, from one sandboxed kernel."""
    with tempfile.TemporaryDirectory() as folder:
        sandboxed = unavailable_reason() is None
        kernel = StudentKernel(Path(folder), Limits() if sandboxed else None, CELL_TIMEOUT, budget=10**9)
        kernel.start()
        try:
            kernel.run_cell("def f(x):\n    return x")
            tests = TrustedTests(kernel, timeout=max(CELL_TIMEOUT, n), setup=[f"N = {n}"], student_names={"f"})
            outputs = tests.run("calls", TIMED)
            errors = [o for o in outputs.items if o.get("output_type") == "error"]
            if errors:
                raise RuntimeError(f"the timing cell failed: {errors[0].get('evalue')}")
            return tests.namespace["TIMES"], sandboxed
        finally:
            kernel.stop()


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 1000
    times, sandboxed = measure(n)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()}; kernel {'in the sandbox' if sandboxed else 'NOT sandboxed (no bubblewrap)'}\n")
    print(f"| call from a test cell ({n} calls) | median | 90th percentile | max |")
    print("|---|---|---|---|")
    for kind, seconds in times.items():
        ms = sorted(s * 1e3 for s in seconds)
        print(f"| `{kind}` | {statistics.median(ms):.2f} ms | {ms[int(0.9 * len(ms))]:.2f} ms | {ms[-1]:.2f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
