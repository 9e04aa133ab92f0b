"""A class of bad submissions (tests/grading_corpus.py) graded in one batch, twice.

Each must get the score its valid work earns and a summary line saying what happened; none
may change another's grade; attacks that stock nbgrader would reward get nothing; no hidden
test's code reaches any feedback; and a second grading, on a Dask cluster of two local workers
(``grade --cluster local:2``), gives a byte-identical CSV.
"""

import csv
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests import grading_corpus
from tests.nbrun import ROOT

WEEK = grading_corpus.WEEK
HIDDEN = r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS"
TIMEOUT = "10"  # seconds per cell: the corpus's endless loops cost 10 s each, not 2 minutes


def cli(course, *args, check=True):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    result = subprocess.run([sys.executable, "-m", "autograder", "--course-dir", str(course), *args],
                            capture_output=True, text=True, timeout=1500, env=env)
    assert not check or result.returncode == 0, f"autograder {args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = tmp_path_factory.mktemp("corpus")
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    cli(course, "release", WEEK)
    workdir = course / ".grading"
    clone = course.parent / "another-clone" / "solutions"  # a copy of the course the grader never heard of
    shutil.copytree(ROOT / "solutions" / WEEK, clone / WEEK)
    cases = grading_corpus.cases(course, workdir, ROOT)
    grading_corpus.write(cases, workdir / "submitted")
    # graded twice: here, then on a Dask cluster of two local workers, from a copy of the
    # submissions as they came in a fresh working folder: the same grades, and twice over
    again = course / "on-a-cluster"
    shutil.copytree(workdir / "submitted", again / "submitted", symlinks=True)
    library = library_fingerprint()
    limits = ("--timeout", TIMEOUT, "--budget", str(grading_corpus.BUDGET))
    first = cli(course, "grade", WEEK, *limits)
    cli(course, "export", "--to", str(course / "first.csv"))
    second = cli(course, "--workdir", str(again), "grade", WEEK, *limits, "--cluster", "local:2")
    after = library_fingerprint()
    changed = sorted(path for path in set(library) | set(after) if library.get(path) != after.get(path))
    cli(course, "--workdir", str(again), "export", "--to", str(course / "second.csv"))
    cli(course, "feedback", WEEK)
    return course, workdir, {c.student: c for c in cases}, first, second, changed


def library_fingerprint() -> dict[str, str]:
    """A hash of every file of nblib, autograder and the environment's site-packages top level."""
    import hashlib
    import site

    folders = [ROOT / "nblib", ROOT / "autograder", *map(Path, site.getsitepackages())]
    files = [p for folder in folders for p in (folder.glob("*") if "site-packages" in str(folder) else folder.rglob("*.py"))
             if p.is_file()]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def outputs_text(workdir, student) -> str:
    nb = nbformat.read(workdir / "autograded" / student / WEEK / "homework.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def summary_lines(output: str) -> dict[str, str]:
    table = output[output.index("what happened"):].splitlines()[2:]
    return {line.split()[0]: line for line in table if line.strip()}


def test_the_corpus_is_big_enough(batch):
    _, _, cases, _, _, _ = batch
    assert len(cases) >= 25 + 3  # 25 bad ones at least, plus good students to compare with


def test_every_submission_gets_what_its_valid_work_earns(batch):
    _, workdir, cases, _, _, _ = batch
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gradebook:
        scores = {s.student.id: s.score for s in gradebook.find_assignment(WEEK).submissions}
    assert scores == {name: case.expected for name, case in cases.items()}


def test_every_submission_gets_a_line_saying_what_happened(batch):
    _, _, cases, first, second, _ = batch
    for output in (first, second):
        lines = summary_lines(output)
        assert set(lines) == set(cases)
        for name, case in cases.items():
            assert case.what in lines[name], f"{name}: expected '{case.what}' in: {lines[name]}"
    assert "grader failed" not in first and "GRADER FAILED" not in first


def test_grading_twice_on_one_machine_and_on_a_cluster_gives_identical_csv(batch):
    course, _, cases, _, _, _ = batch
    first, second = (course / "first.csv").read_bytes(), (course / "second.csv").read_bytes()
    assert first == second
    rows = list(csv.DictReader(first.decode().splitlines()))
    assert len(rows) == len(cases)
    assert "predict (/3)" in rows[0] and "train_perceptron (/6)" in rows[0]  # per-exercise columns


def test_student_code_saw_no_secret_and_changed_no_file(batch):
    _, workdir, _, _, _, changed = batch
    assert not changed, f"a submission changed the course's code or its environment: {changed}"
    printed = outputs_text(workdir, "steal_solutions")
    assert printed.count("blocked") == 7 and "READ" not in printed, printed
    patched = outputs_text(workdir, "patch_library")
    assert patched.count("blocked: OSError") == 2 and "PATCHED" not in patched, patched  # read-only
    planted = outputs_text(workdir, "plant_pth")
    assert "blocked: OSError" in planted and "PLANTED" not in planted, planted
    # the tamperer tried to overwrite ada's graded notebook and the gradebook: both intact
    assert nbformat.read(workdir / "autograded" / "ada" / WEEK / "homework.ipynb", as_version=4).cells


def hidden_test_lines(path) -> set[str]:
    """Distinctive lines that only hidden tests contain (not also a visible cell)."""
    cells = nbformat.read(path, as_version=4).cells
    hidden = {line.strip() for c in cells for region in re.findall(HIDDEN, c.source, re.S) for line in region.splitlines()}
    visible = {line.strip() for c in cells for line in re.sub(HIDDEN, "", c.source, flags=re.S).splitlines()}
    return {line for line in hidden - visible if len(line) > 20 and not any(line in v for v in visible)}


def page_text(path) -> str:
    """What a reader of the HTML sees: tags (syntax highlighting included) stripped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def test_feedback_shows_hidden_results_but_never_hidden_code(batch):
    course, workdir, cases, _, _, _ = batch
    secrets = hidden_test_lines(course / "solutions" / WEEK / "homework.ipynb")
    assert len(secrets) > 30
    for name in cases:
        page = page_text(workdir / "feedback" / name / WEEK / "homework.html")
        leaked = [line for line in secrets if line in page]
        assert not leaked, f"{name}'s feedback shows hidden code: {leaked[:3]}"
    untouched = page_text(workdir / "feedback" / "untouched" / WEEK / "homework.html")
    assert "the code is not shown" in untouched and "In a hidden test" in untouched
    assert "Not done yet" in untouched  # the message of each failed test is there
    # and the check above can see code: a visible test's line is on the page
    assert 'checks.assert_equal(y_hat, expected, name="predict(X, w, b)"' in untouched
    broken = page_text(workdir / "feedback" / "broken_json" / WEEK / "homework.html")
    assert "not a readable notebook" in broken


def test_report_makes_a_table_and_a_plot(batch):
    course, _, _, _, _, _ = batch
    png = course / "report.png"
    output = cli(course, "report", WEEK, "--png", str(png))
    assert "predict" in output and "multi_output_forward" in output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_counts_the_named_mistakes_and_feedback_shows_each_with_its_lesson(batch):
    """Of the corpus, only "transposed" returns Z.T from multi_output_forward and only "calls_reference" calls
    nblib's perceptron.train: each mistake is counted once, and each student's page names it."""
    course, workdir, _, _, _, _ = batch
    output = cli(course, "report", WEEK, "--png", str(course / "mistakes.png"))
    counts = {line.split()[1]: int(line.split()[0]) for line in output.splitlines()
              if re.match(r"\s+\d+\s+\S+\.\S+$", line)}
    assert counts.get("multi_output_forward.transposed") == 1, output
    assert counts.get("train_perceptron.reference_called") == 1, output
    page = page_text(workdir / "feedback" / "transposed" / WEEK / "homework.html")
    assert "multi_output_forward.transposed" in page and "your result is the transpose of the expected one" in page
    assert "Read again: lesson.ipynb" in page, page[:2000]
    assert "named-mistakes" not in (workdir / "feedback" / "ada" / WEEK / "homework.html").read_text()


def test_a_submission_is_bounded_in_processes_and_disk(batch):
    _, workdir, _, _, _, _ = batch
    forks = outputs_text(workdir, "fork_bomb")
    assert "the box stopped the fork bomb after" in forks, forks
    assert int(forks.split("after")[1].split()[0]) < 256
    disk = outputs_text(workdir, "disk_filler")
    assert "the box stopped the disk filler after" in disk, disk
    assert int(disk.split("after")[1].split()[0]) <= 256


def test_the_csv_carries_no_formula(batch):
    course, _, _, _, _, _ = batch
    rows = list(csv.reader((course / "first.csv").read_text().splitlines()))
    cells = [cell for row in rows for cell in row]
    assert "'=SUM(1+1)" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_feedback_pages_run_no_student_script(batch):
    from tests.browser.inert import fired_markers

    _, workdir, cases, _, _, _ = batch
    for name in ("html_outputs", "forged_result", "malformed_message"):
        page = workdir / "feedback" / name / WEEK / "homework.html"
        assert fired_markers(page) == [], name
