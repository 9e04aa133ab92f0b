"""Regenerate the student notebooks from the instructor source, and prove nothing leaked.

``notebooks/<week>/`` is always exactly what ``nbgrader generate_assignment`` makes from
``solutions/<week>/``. After generating, every line that sits between a solution or
hidden-test marker in the source is looked for in the released notebooks; any hit is a leak.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME", "END MARK SCHEME")
_REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS|MARK SCHEME)\n(.*?)### END \1", re.S)
HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)  # a whole hidden region
MIN_SECRET_LENGTH = 12  # shorter lines ("return z", "pass") are too generic to call a leak


def weeks(source_dir: Path) -> list[str]:
    """The assignment folders in the source directory, in order."""
    return sorted(p.name for p in source_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def secret_lines(notebook_path: Path) -> set[str]:
    """Stripped lines that appear in a source notebook only inside solution, hidden-test or
    mark-scheme regions (a line that is also in a visible cell is no secret)."""
    secret, public = set(), set()
    for cell in nbformat.read(notebook_path, as_version=4).cells:
        public.update(_lines(_REGION.sub("", cell.source)))
        for region in _REGION.finditer(cell.source):
            secret.update(line for line in _lines(region.group(2)) if len(line) >= MIN_SECRET_LENGTH)
    return secret - public


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


def find_leaks(source_dir: Path, release_dir: Path) -> list[str]:
    """Problems found in ``release_dir``: markers left in, or source secrets that appear in it."""
    problems = []
    for released in sorted(release_dir.glob("*.ipynb")):
        text_lines = set().union(*(_lines(cell.source) for cell in nbformat.read(released, as_version=4).cells))
        for marker in MARKERS:
            if any(marker in line for line in text_lines):
                problems.append(f"{released}: still contains the marker '{marker}'")
        source = source_dir / released.name
        if source.exists():
            for line in sorted(secret_lines(source) & text_lines):
                problems.append(f"{released}: contains a solution/hidden-test line: {line!r}")
    return problems
