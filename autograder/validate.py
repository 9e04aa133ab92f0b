"""``python -m autograder validate NOTEBOOK``: a student's self-check, the way the grader runs it.

The notebook runs from the top in a new kernel (nbclient, no sandbox: it is the student's
own machine); then each visible test cell passes or fails by the grader's rule (only an
error fails, ``preprocessors.StderrIsNotFailure``). A released hidden-test cell
(``markers.hidden_tests_removed``) is named, not run: its tests run when the work is graded.
"""

from __future__ import annotations

from pathlib import Path

from autograder import markers


def run(notebook: Path, timeout: float) -> int:
    """Run and check ``notebook``, printing a line per test cell; 1 when a visible test fails."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(notebook).resolve()
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001
        print(f"FAIL  {path.name} cannot be read as a notebook: {error}")
        return 1
    print(f"Running {path.name} from the top, in a new kernel, as the grader will ...", flush=True)
    NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    verdicts = [_verdict(cell) for cell in nb.cells]
    passed, failed = verdicts.count("PASS"), verdicts.count("FAIL")
    print(f"\n{passed} of {passed + failed} tests in this notebook pass." + (" Hidden tests run when your work is graded."
                                                                   if not failed else ""))
    return 1 if failed else 0


def _verdict(cell) -> str | None:
    """"PASS", "FAIL" or None (not a visible test cell) for one executed cell, printed."""
    from nbgrader.utils import compute_checksum, determine_grade, is_grade, is_locked, is_solution

    from autograder.preprocessors import StderrIsNotFailure

    if not is_grade(cell) or is_solution(cell) or cell.cell_type != "code":
        return None
    name = cell.metadata.nbgrader.get("grade_id", "?")
    if is_locked(cell) and cell.metadata.nbgrader.get("checksum") not in (None, compute_checksum(cell)):
        print(f"  note  {name}: you changed this test cell; the grader uses the original")
    if markers.hidden_tests_removed(cell.source):
        print(f"  ----  {name}: hidden tests, run when your work is graded")
        return None
    StderrIsNotFailure().preprocess_cell(cell, {}, 0)  # the grader's rule: only an error fails
    score, max_score = determine_grade(cell)
    errors = [o for o in cell.outputs if o.output_type == "error"]
    if score is not None and score >= max_score and not errors:
        print(f"  PASS  {name}")
        return "PASS"
    message = f"{errors[0].ename}: {errors[0].evalue}" if errors else "stderr output"
    print(f"  FAIL  {name}: {message.splitlines()[0] if message else ''}")
    return "FAIL"
