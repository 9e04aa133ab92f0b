"""data/objectives.csv: every seed objective of weeks 1-9, the lesson cell that teaches it, the item that checks it.

Each row is ``week,seed,objective,taught_in,checked_by``:

- ``taught_in`` is ``solutions/weekNN_<topic>/lesson.ipynb#<cell id>``, an nbformat cell id (stable when
  cells move), in the row's own week;
- ``checked_by`` is ``homework:<grade_id>``, a graded cell (tests or a hand-graded written answer) of that
  week's homework, or ``quiz:<first words>``, the start of exactly one question of that week's
  ``quiz_questions.py``.

The table is only worth having while it is true, so this test reads it and fails on any reference that
does not resolve, any objective without a teaching cell or a check, and any week without rows. The last
tests break a copy of the table on purpose and make sure each kind of break is caught.
"""

import csv
import importlib.util
import re
from collections import Counter
from functools import cache
from pathlib import Path

import nbformat
import pytest

from tests.nbrun import ROOT

TABLE = ROOT / "data" / "objectives.csv"
COLUMNS = ["week", "seed", "objective", "taught_in", "checked_by"]
WEEKS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
TAUGHT_IN = re.compile(r"^solutions/(week(\d\d)_[a-z0-9_]+)/lesson\.ipynb#(\S+)$")


def week_dir(week: int) -> Path:
    """The solutions/ folder of a week, e.g. 1 -> solutions/week01_perceptron."""
    found = sorted((ROOT / "solutions").glob(f"week{week:02d}_*"))
    if len(found) != 1:
        raise LookupError(f"expected one solutions/week{week:02d}_* folder, found {len(found)}")
    return found[0]


@cache
def cell_ids(notebook: Path) -> frozenset:
    return frozenset(cell.id for cell in nbformat.read(notebook, as_version=4).cells)


@cache
def graded_ids(notebook: Path) -> frozenset:
    """grade_ids of the cells that carry points: visible and hidden tests, hand-graded answers."""
    ids = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id"):
            ids.add(meta["grade_id"])
    return frozenset(ids)


@cache
def quiz_prompts(path: Path) -> tuple:
    spec = importlib.util.spec_from_file_location(f"objectives_quiz_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(" ".join(q.prompt.split()) for q in module.QUIZ.questions)


def check_row(row: dict) -> list[str]:
    """What is wrong with one row of the table (nothing: an empty list)."""
    where = f"week {row.get('week')!r}, {(row.get('objective') or '')[:60]!r}"
    missing = [c for c in ("week", "seed", "objective") if not (row.get(c) or "").strip()]
    if missing:
        return [f"{where}: empty {', '.join(missing)}"]
    try:
        week = int(row["week"])
    except ValueError:
        return [f"{where}: week must be a whole number, got {row['week']!r}"]
    if week not in WEEKS:
        return [f"{where}: week must be one of {WEEKS}, got {week}"]
    folder = week_dir(week)
    problems = []

    taught = (row.get("taught_in") or "").strip()
    match = TAUGHT_IN.match(taught)
    if not taught:
        problems.append(f"{where}: no teaching cell (taught_in is empty)")
    elif not match:
        problems.append(f"{where}: taught_in must look like solutions/weekNN_topic/lesson.ipynb#<cell id>, "
                        f"got {taught!r}")
    elif match.group(1) != folder.name:
        problems.append(f"{where}: taught_in points into {match.group(1)}, not this week's {folder.name}")
    elif match.group(3) not in cell_ids(folder / "lesson.ipynb"):
        problems.append(f"{where}: {folder.name}/lesson.ipynb has no cell with id {match.group(3)!r}")

    check = (row.get("checked_by") or "").strip()
    kind, _, ref = check.partition(":")
    ref = " ".join(ref.split())
    if not check:
        problems.append(f"{where}: no check (checked_by is empty)")
    elif kind == "homework":
        if ref not in graded_ids(folder / "homework.ipynb"):
            problems.append(f"{where}: {folder.name}/homework.ipynb has no graded cell with grade_id {ref!r}")
    elif kind == "quiz":
        hits = [p for p in quiz_prompts(folder / "quiz_questions.py") if p.startswith(ref)] if ref else []
        if len(hits) != 1:
            problems.append(f"{where}: {len(hits)} questions of {folder.name}/quiz_questions.py start with "
                            f"{ref!r}; it must name exactly one")
    else:
        problems.append(f"{where}: checked_by must be homework:<grade_id> or quiz:<first words>, got {check!r}")
    return problems


def table_problems(path: Path) -> list[str]:
    """Everything wrong with the table at `path`."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            return [f"the header must be {','.join(COLUMNS)}, got {reader.fieldnames}"]
        rows = list(reader)
    problems = [p for row in rows for p in check_row(row)]
    if any(None in row or None in row.values() for row in rows):
        problems.append("a row has more or fewer fields than the header")
    seen = set()
    for row in rows:
        key = ((row.get("week") or "").strip(), " ".join((row.get("objective") or "").split()).lower())
        if key in seen:
            problems.append(f"week {key[0]}: objective listed twice: {key[1][:60]!r}")
        seen.add(key)
    weeks = {(row.get("week") or "").strip() for row in rows}
    problems += [f"week {w} has no objectives in the table" for w in WEEKS if str(w) not in weeks]
    return problems


def test_every_objective_is_taught_and_checked_by_cells_that_exist():
    problems = table_problems(TABLE)
    assert not problems, "data/objectives.csv:\n" + "\n".join(problems)


def test_every_week_has_objectives_in_every_form_of_check():
    with open(TABLE, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for week in WEEKS:
        kinds = {r["checked_by"].partition(":")[0] for r in rows if r["week"] == str(week)}
        assert kinds == {"homework", "quiz"}, f"week {week} is checked only by {kinds}"


# The test above must be able to fail: break a copy of the table in each way it can be wrong.
BREAKS = {
    "unknown cell id": ({"taught_in": "solutions/week01_perceptron/lesson.ipynb#no-such-cell"}, "no cell with id"),
    "no teaching cell": ({"taught_in": ""}, "no teaching cell"),
    "cell of another week": ({"taught_in": "solutions/week02_activations_forward/lesson.ipynb#cell-000"},
                             "not this week's"),
    "not a lesson path": ({"taught_in": "solutions/week01_perceptron/quiz.ipynb#cell-000"}, "must look like"),
    "unknown grade_id": ({"checked_by": "homework:no_such_exercise"}, "no graded cell"),
    "ungraded homework cell": ({"checked_by": "homework:ex1_text"}, "no graded cell"),
    "no check": ({"checked_by": ""}, "no check"),
    "unknown quiz question": ({"checked_by": "quiz:Which planet is largest"}, "0 questions"),
    "ambiguous quiz start": ({"checked_by": "quiz:<a start two questions share>"}, "must name exactly one"),
    "unknown kind of check": ({"checked_by": "exam:question 1"}, "must be homework"),
    "week out of range": ({"week": "10"}, "week must be one of"),
    "empty objective": ({"objective": ""}, "empty objective"),
}


def copy_with(tmp_path: Path, change=None, drop_week=None, repeat_first=False) -> Path:
    with open(TABLE, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    first = next(r for r in rows if r["week"] == "1")
    if change == BREAKS["ambiguous quiz start"][0]:
        letters = Counter(p[0] for p in quiz_prompts(week_dir(1) / "quiz_questions.py"))
        change = {"checked_by": "quiz:" + letters.most_common(1)[0][0]}   # a first letter two questions share
    if change:
        first.update(change)
    if repeat_first:
        rows.append(dict(first))
    if drop_week:
        rows = [r for r in rows if r["week"] != drop_week]
    path = tmp_path / "objectives.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("change, message", BREAKS.values(), ids=BREAKS.keys())
def test_a_broken_row_is_caught(tmp_path, change, message):
    assert not table_problems(copy_with(tmp_path)), "an unchanged copy must pass"
    problems = table_problems(copy_with(tmp_path, change))
    assert any(message in p for p in problems), problems


def test_a_week_without_rows_and_a_repeated_objective_are_caught(tmp_path):
    assert "week 5 has no objectives in the table" in table_problems(copy_with(tmp_path, drop_week="5"))
    assert any("listed twice" in p for p in table_problems(copy_with(tmp_path, repeat_first=True)))


def test_a_wrong_header_is_caught(tmp_path):
    path = tmp_path / "objectives.csv"
    path.write_text(TABLE.read_text(encoding="utf-8").replace("checked_by", "checked", 1), encoding="utf-8")
    assert any("the header must be" in p for p in table_problems(path))
