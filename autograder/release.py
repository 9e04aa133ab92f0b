"""Regenerate the student notebooks from the instructor source, and prove nothing leaked.

``notebooks/<week>/`` is always exactly what ``nbgrader generate_assignment`` makes from
``solutions/<week>/`` (:func:`release_week`). After generating, every line that sits between
a solution, hidden-test or mark-scheme marker (:mod:`autograder.markers`) in the source is
looked for in the released notebooks; any hit is a leak (:func:`find_leaks`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from autograder.config import RELEASE, SOURCE
from autograder.markers import MARKERS, REGION

MIN_SECRET_LENGTH = 12  # shorter lines ("return z", "pass") are too generic to call a leak


def weeks(source_dir: Path) -> list[str]:
    """The assignment folders in the source directory, in order."""
    return sorted(p.name for p in source_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def release_week(course, week: str) -> bool:
    """Generate <release>/<week>/ with nbgrader and check it for leaks; True on success.

    ``course`` is a :class:`autograder.course.Course`."""
    from autograder.preprocessors import gradebook_cells

    result = course.api.generate_assignment(week, force=True, create=True)
    gradebook_cells.cache_clear()  # the gradebook's cells may have changed, and the notebooks
    course.released_again(week)
    course.log(result)
    if not result["success"]:
        print(f"release {week}: nbgrader failed\n{result.get('error', '')}", file=sys.stderr)
        return False
    leaks = find_leaks(course.dir / SOURCE / week, course.dir / RELEASE / week)
    if leaks:
        print(f"release {week}: LEAK CHECK FAILED", *leaks, sep="\n  ", file=sys.stderr)
        return False
    print(f"release {week}: {RELEASE}/{week}/ regenerated ({', '.join(course.released(week))}); "
          f"no solution or hidden test leaked")
    return True


def secret_lines(notebook_path: Path) -> set[str]:
    """Stripped lines that appear in a source notebook only inside solution, hidden-test or
    mark-scheme regions (a line that is also in a visible cell is no secret)."""
    secret, public = set(), set()
    for cell in nbformat.read(notebook_path, as_version=4).cells:
        public.update(_lines(REGION.sub("", cell.source)))
        for region in REGION.finditer(cell.source):
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
