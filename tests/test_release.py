"""notebooks/ is exactly what nbgrader generates from solutions/, and hides what it must."""

import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.release import find_leaks
from tests.nbrun import ROOT, grade_id

WEEKS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """A fresh course directory released by the real nbgrader through our command line."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    result = subprocess.run([sys.executable, "-m", "autograder", "--course-dir", str(course), "release"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no solution or hidden test leaked" in result.stdout
    return course / "notebooks"


def files(top):
    return sorted(p.relative_to(top) for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def test_committed_notebooks_equal_a_fresh_release(regenerated):
    committed = ROOT / "notebooks"
    assert files(committed) == files(regenerated)
    for rel in files(committed):
        assert (committed / rel).read_bytes() == (regenerated / rel).read_bytes(), (
            f"notebooks/{rel} differs from what nbgrader generates: run `python -m autograder release`"
        )


def region_lines(source: str, what: str) -> set[str]:
    """Non-trivial lines between '### BEGIN <what>' and '### END <what>'."""
    blocks = re.findall(rf"### BEGIN {what}\n(.*?)### END {what}", source, re.S)
    return {line.strip() for block in blocks for line in block.splitlines() if len(line.strip()) > 15}


@pytest.mark.parametrize("week", WEEKS)
def test_no_solution_or_hidden_test_reaches_students(week):
    source = nbformat.read(ROOT / "solutions" / week / "homework.ipynb", as_version=4)
    released = {grade_id(c): c for c in nbformat.read(ROOT / "notebooks" / week / "homework.ipynb", as_version=4).cells}
    checked = 0
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        student_sees = released[meta["grade_id"]].source if meta else ""
        for what in ("SOLUTION", "HIDDEN TESTS"):
            secrets = region_lines(cell.source, what)
            public = {line.strip() for line in re.sub(rf"### BEGIN {what}\n.*?### END {what}", "", cell.source, flags=re.S).splitlines()}
            for line in secrets - public:
                assert line not in student_sees, f"{week}: {meta['grade_id']} shows students {line!r}"
                checked += 1
    assert checked > 50  # the homework really has solutions and hidden tests to hide
    text = (ROOT / "notebooks" / week / "homework.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text


def test_leak_check_catches_a_leaked_line(tmp_path):
    week = WEEKS[0]
    (tmp_path / "src").mkdir()
    (tmp_path / "rel").mkdir()
    shutil.copy(ROOT / "solutions" / week / "homework.ipynb", tmp_path / "src" / "homework.ipynb")
    nb = nbformat.read(ROOT / "notebooks" / week / "homework.ipynb", as_version=4)
    nbformat.write(nb, tmp_path / "rel" / "homework.ipynb")
    assert find_leaks(tmp_path / "src", tmp_path / "rel") == []

    solution_cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    solution_cell.source += "\n    return (z >= 0).astype(int)"  # a line of the real solution
    nbformat.write(nb, tmp_path / "rel" / "homework.ipynb")
    leaks = find_leaks(tmp_path / "src", tmp_path / "rel")
    assert any("return (z >= 0).astype(int)" in leak for leak in leaks)
