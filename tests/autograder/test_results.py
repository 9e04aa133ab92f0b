"""autograder.results on a real nbgrader gradebook built in a temporary directory."""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from sqlalchemy.exc import SAWarning

from autograder.results import (
    ExerciseStats, Row, collect_rows, exercises, format_table, plot, statistics, write_csv,
)

ROOT = Path(__file__).resolve().parents[2]


def _cell(kind, grade_id, grade=False, solution=False, points=None):
    """A cell with nbgrader metadata."""
    meta = {"grade_id": grade_id, "grade": grade, "solution": solution, "locked": not solution,
            "schema_version": 3, "task": False}
    if points is not None:
        meta["points"] = points
    cell = (new_code_cell if kind == "code" else new_markdown_cell)("pass" if kind == "code" else "text")
    cell.metadata["nbgrader"] = meta
    return cell


def _write_source(path: Path) -> None:
    """Two exercises (add: 1 + 2 points, mul: 3 points) and one manual answer (essay: 2 points)."""
    nb = new_notebook(cells=[
        _cell("markdown", "intro"),
        _cell("code", "add", solution=True),
        _cell("code", "add_visible", grade=True, points=1),
        _cell("code", "add_hidden", grade=True, points=2),
        _cell("code", "mul", solution=True),
        _cell("code", "mul_test", grade=True, points=3),
        _cell("markdown", "essay", grade=True, solution=True, points=2),
    ])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


# week01/hw: scores per student (None = manual answer not graded yet)
WEEK01 = {
    "alice": {"add_visible": 1, "add_hidden": 2, "mul_test": 3, "essay": 2},
    "bob": {"add_visible": 1, "add_hidden": 0, "mul_test": 2, "essay": 0},
    "carol": {"add_visible": 0, "add_hidden": 0, "mul_test": 0, "essay": None},
}


@pytest.fixture
def course(tmp_path, monkeypatch):
    """(db_url, source_dir, notes_dir): week01 with one notebook, week02 with two (one without source)."""
    from nbgrader.api import Gradebook

    # a new gradebook runs `alembic`: this environment's, even when it is not activated
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))

    source, notes = tmp_path / "source", tmp_path / "notes"
    _write_source(source / "week01" / "hw.ipynb")
    db_url = "sqlite:///" + str(tmp_path / "gb.db")
    with Gradebook(db_url, "course") as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # session chatter from nbgrader's add_submission
        gb.add_assignment("week01")
        gb.add_notebook("hw", "week01")
        for name, points in [("add_visible", 1), ("add_hidden", 2), ("mul_test", 3)]:
            gb.add_grade_cell(name, "hw", "week01", max_score=points, cell_type="code")
        gb.add_grade_cell("essay", "hw", "week01", max_score=2, cell_type="markdown")
        for name in ("add", "mul", "essay"):
            gb.add_solution_cell(name, "hw", "week01")
        gb.add_assignment("week02")
        for nb in ("a", "b"):
            gb.add_notebook(nb, "week02")
            gb.add_grade_cell(f"{nb}_test", nb, "week02", max_score=1.5, cell_type="code")
        gb.add_notebook("lesson", "week02")  # no grade cells: not a graded notebook
        for student in ("carol", "alice", "bob"):  # not in sorted order on purpose
            gb.add_student(student)
            gb.add_submission("week01", student)
            for grade_id, score in WEEK01[student].items():
                grade = gb.find_grade(grade_id, "hw", "week01", student)
                if grade_id == "essay":
                    grade.manual_score = score
                else:
                    grade.auto_score = score
                grade.needs_manual_grade = score is None
        gb.add_submission("week02", "alice")
        for nb, score in (("a", 1.5), ("b", 1 / 3)):
            grade = gb.find_grade(f"{nb}_test", nb, "week02", "alice")
            grade.auto_score, grade.needs_manual_grade = score, False
        gb.db.commit()
    (notes / "bob").mkdir(parents=True)
    (notes / "bob" / "week01.json").write_text(json.dumps(["late by 2 days", "used a loop"]))
    return db_url, source, notes


def test_exercises_of_the_real_homework():
    mapping = exercises(ROOT / "solutions" / "week01_perceptron" / "homework.ipynb")
    assert mapping["predict_visible"] == "predict"
    assert mapping["predict_hidden"] == "predict"
    assert mapping["sigmoid_visible"] == "sigmoid_neuron"
    assert mapping["xor_explanation"] == "xor_explanation"
    assert list(mapping)[:3] == ["predict_visible", "predict_hidden", "sigmoid_visible"]
    assert list(mapping)[-1] == "xor_explanation"
    assert len(mapping) == 13


def test_exercises_of_a_small_notebook(tmp_path):
    _write_source(tmp_path / "hw.ipynb")
    assert exercises(tmp_path / "hw.ipynb") == {
        "add_visible": "add", "add_hidden": "add", "mul_test": "mul", "essay": "essay"}
    nb = new_notebook(cells=[_cell("code", "early", grade=True, points=1)])
    nbformat.write(nb, tmp_path / "early.ipynb")
    assert exercises(tmp_path / "early.ipynb") == {"early": "early"}


def test_collect_rows_sums_per_exercise(course):
    db_url, source, notes = course
    rows = collect_rows(db_url, "course", source, ["week01"], notes)
    assert [(r.week, r.student) for r in rows] == [("week01", "alice"), ("week01", "bob"), ("week01", "carol")]
    alice, bob, carol = rows
    assert list(alice.exercises) == ["add", "mul", "essay"]
    assert alice.exercises == {"add": (3.0, 3.0), "mul": (3.0, 3.0), "essay": (2.0, 2.0)}
    assert bob.exercises == {"add": (1.0, 3.0), "mul": (2.0, 3.0), "essay": (0.0, 2.0)}
    assert carol.exercises == {"add": (0.0, 3.0), "mul": (0.0, 3.0), "essay": (None, 2.0)}
    assert (alice.score, alice.max_score, alice.needs_manual_grade) == (8.0, 8.0, False)
    assert (bob.score, bob.needs_manual_grade) == (3.0, False)
    assert (carol.score, carol.needs_manual_grade) == (0.0, True)


def test_notes_are_read_from_json(course):
    db_url, source, notes = course
    rows = {r.student: r for r in collect_rows(db_url, "course", source, ["week01"], notes)}
    assert rows["bob"].notes == ["late by 2 days", "used a loop"]
    assert rows["alice"].notes == []


def test_several_graded_notebooks_are_prefixed(course):
    db_url, source, notes = course
    rows = collect_rows(db_url, "course", source, ["week02", "week01", "week03"], notes)
    assert [(r.week, r.student) for r in rows][-2:] == [("week01", "carol"), ("week02", "alice")]
    week02 = rows[-1]
    assert week02.exercises == {"a:a_test": (1.5, 1.5), "b:b_test": (pytest.approx(1 / 3), 1.5)}
    assert week02.max_score == 3.0


def test_csv_single_week(course, tmp_path):
    db_url, source, notes = course
    path = tmp_path / "grades.csv"
    write_csv(collect_rows(db_url, "course", source, ["week01"], notes), path)
    assert path.read_bytes().decode().split("\r\n") == [
        "student,week,add (/3),mul (/3),essay (/2),total,max,needs_manual_grading,notes",
        "alice,week01,3,3,2,8,8,no,",
        "bob,week01,1,2,0,3,8,no,late by 2 days | used a loop",
        "carol,week01,0,0,,0,8,yes,",
        "",
    ]


def test_csv_several_weeks(course, tmp_path):
    db_url, source, notes = course
    path = tmp_path / "grades.csv"
    write_csv(collect_rows(db_url, "course", source, ["week01", "week02"], notes), path)
    lines = path.read_bytes().decode().split("\r\n")
    assert lines[0] == ("student,week,week01:add (/3),week01:mul (/3),week01:essay (/2),"
                        "week02:a:a_test (/1.5),week02:b:b_test (/1.5),total,max,needs_manual_grading,notes")
    assert lines[1] == "alice,week01,3,3,2,,,8,8,no,"
    assert lines[4] == "alice,week02,,,,1.5,0.3333,1.8333,3,no,"
    assert len(lines) == 6


def test_csv_is_byte_identical_when_written_twice(course, tmp_path):
    db_url, source, notes = course
    first, second = tmp_path / "1.csv", tmp_path / "2.csv"
    write_csv(collect_rows(db_url, "course", source, ["week01", "week02"], notes), first)
    write_csv(collect_rows(db_url, "course", source, ["week02", "week01"], notes), second)
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_bytes()) > 100


def test_statistics_by_hand(course):
    db_url, source, notes = course
    stats = statistics(collect_rows(db_url, "course", source, ["week01"], notes))
    assert [s.exercise for s in stats] == ["add", "mul", "essay"]
    add, mul, essay = stats
    # mul: scores 0, 2, 3 of 3
    assert (mul.week, mul.max_score, mul.n, mul.ungraded) == ("week01", 3.0, 3, 0)
    assert mul.mean == pytest.approx(5 / 3)
    assert mul.median == 2.0
    assert (mul.full, mul.zero) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    # add: 3, 1, 0 of 3
    assert (add.mean, add.median) == (pytest.approx(4 / 3), 1.0)
    # essay: 2, 0 graded, carol ungraded
    assert (essay.n, essay.ungraded, essay.mean, essay.median, essay.full, essay.zero) == (2, 1, 1.0, 1.0, 0.5, 0.5)


def test_statistics_with_nothing_graded():
    rows = [Row("x", "w", {"e": (None, 2.0)}, 0.0, 2.0, True, [])]
    (s,) = statistics(rows)
    assert (s.n, s.ungraded, s.max_score) == (0, 1, 2.0)
    assert math.isnan(s.mean) and math.isnan(s.full)


def test_format_table(course):
    db_url, source, notes = course
    table = format_table(statistics(collect_rows(db_url, "course", source, ["week01"], notes)))
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[0].split() == ["exercise", "max", "mean", "mean", "%", "median", "median", "%",
                                "full", "%", "zero", "%", "n", "ungraded"]
    assert lines[2].split() == ["mul", "3", "1.67", "56", "2.00", "67", "33", "33", "3", "0"]
    assert lines[3].split() == ["essay", "2", "1.00", "50", "1.00", "50", "50", "50", "2", "1"]
    assert [line.split()[0] for line in lines[1:]] == ["add", "mul", "essay"]
    assert len({len(line) for line in lines}) == 1  # aligned


def test_plot_writes_a_png(tmp_path):
    import matplotlib.image

    stats = [ExerciseStats("week01", "add", 3.0, 3, 4 / 3, 1.0, 1 / 3, 1 / 3, 0),
             ExerciseStats("week01", "essay", 2.0, 2, 1.0, 1.0, 0.5, 0.5, 1)]
    path = tmp_path / "stats.png"
    plot(stats, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (300, 800)  # 8 x (2 + 0.5 * 2) inches at 100 dpi


# A cell a spreadsheet would run as a formula (OWASP's list: = + - @ tab CR), in every text column.
FORMULAS = ["=SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"]


def test_csv_text_cannot_start_a_formula(tmp_path):
    rows = [Row(student, week, {exercise: (1.0, 2.0)}, -0.5, 2.0, False, [note, "fine"])
            for student, week, exercise, note in zip(FORMULAS, FORMULAS[1:] + FORMULAS[:1],
                                                     FORMULAS[2:] + FORMULAS[:2], FORMULAS[3:] + FORMULAS[:3])]
    path = tmp_path / "grades.csv"
    write_csv(rows, path)
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    header, lines = table[0], table[1:]
    assert len(lines) == len(FORMULAS)
    for text in header + [cell for line in lines for cell in (line[0], line[1], line[-1])]:
        assert not text.startswith(("=", "+", "-", "@", "\t", "\r")), text
    # the original text follows the quote, whole
    assert [line[0] for line in lines] == ["'" + s for s in FORMULAS]
    assert lines[0][-1] == "'" + FORMULAS[3] + " | fine"
    assert header[2].startswith("'") and FORMULAS[2] in header[2]
    # numbers stay numbers: a negative total is not quoted
    totals = {line[header.index("total")] for line in lines}
    assert totals == {"-0.5"}


def test_csv_ordinary_text_is_unchanged(tmp_path):
    path = tmp_path / "grades.csv"
    write_csv([Row("zoe_o_brien", "week01", {"add": (3.0, 3.0)}, 3.0, 3.0, False, ["late by 2 days"])], path)
    assert path.read_text(encoding="utf-8").splitlines() == [
        "student,week,add (/3),total,max,needs_manual_grading,notes",
        "zoe_o_brien,week01,3,3,3,no,late by 2 days",
    ]


def test_csv_exercise_header_of_a_single_week(tmp_path):
    path = tmp_path / "grades.csv"
    write_csv([Row("ada", "week01", {"=HYPERLINK(\"http://x\")": (1.0, 1.0)}, 1.0, 1.0, False, [])], path)
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header[2] == "'=HYPERLINK(\"http://x\") (/1)"
