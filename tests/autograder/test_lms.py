"""Grades for the LMS: what `collect` keeps of each student, and Canvas's and Moodle's import files.

The layouts tested are the documented ones (autograder/lms.py says where each comes from):
Canvas's gradebook import, a header ``Student, ID, SIS User ID, SIS Login ID, Section`` then
one column per assignment, a ``Points Possible`` row, one row per student; Moodle's grading
worksheet, found by its column names ``Identifier`` ("Participant <id>"), ``Grade``,
``Last modified (grade)`` and ``Feedback comments``.
"""

import csv
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone

import nbformat
import pytest

from autograder.collect import STUDENT_TIMESTAMP, TIMESTAMP, collect
from autograder.lms import (
    CANVAS_COLUMNS, MOODLE_COLUMNS, Identities, Identity, from_collected, write, write_canvas, write_moodle,
)
from autograder.results import Row

WEEK = "week01_perceptron"
EXPECTED = ["homework.ipynb", "lesson.ipynb", "quiz.ipynb"]


def notebook(source="x = 1"):
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]))


def make_zip(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def row(student, week=WEEK, score=20.0, max_score=26.0, **late):
    return Row(student, week, {"predict": (3.0, 3.0)}, score, max_score, False, ["a note for the instructor"], **late)


# --- what collect keeps ------------------------------------------------------------------------

def test_collect_keeps_the_lms_ids_and_canvas_late_flag(tmp_path):
    source = make_zip(tmp_path / "canvas.zip", {
        "lovelaceada_12345_67890_homework.ipynb": notebook("ada"),
        "turingalan_LATE_22222_33333_homework-1.ipynb": notebook("alan"),
    })
    found = {c.student: c for c in collect(source, tmp_path / "submitted", WEEK, EXPECTED)}
    ada, alan = found["lovelaceada"], found["turingalan"]
    assert (ada.name, ada.lms, ada.lms_id, ada.late, ada.submitted_at) == ("lovelaceada", "canvas", "12345", False, None)
    assert (alan.lms, alan.lms_id, alan.late) == ("canvas", "22222", True)
    assert not (tmp_path / "submitted/turingalan" / WEEK / TIMESTAMP).exists()  # Canvas names carry no time


def test_collect_keeps_moodle_participant_ids(tmp_path):
    source = make_zip(tmp_path / "moodle.zip", {
        "Ada Lovelace_123456_assignsubmission_file_/homework.ipynb": notebook("ada"),
        "Alan Turing_654321_assignsubmission_file_homework.ipynb": notebook("alan"),
    })
    found = {c.student: c for c in collect(source, tmp_path / "submitted", WEEK, EXPECTED)}
    assert (found["ada_lovelace"].name, found["ada_lovelace"].lms, found["ada_lovelace"].lms_id) == \
        ("Ada Lovelace", "moodle", "123456")
    assert (found["alan_turing"].lms, found["alan_turing"].lms_id) == ("moodle", "654321")


def test_collect_writes_blackboards_attempt_time_as_nbgraders_timestamp(tmp_path):
    source = make_zip(tmp_path / "bb.zip", {
        "Homework 1_ada_attempt_2026-11-20-10-15-00_homework.ipynb": notebook("second"),
        "Homework 1_ada_attempt_2026-11-19-09-00-00_homework.ipynb": notebook("first"),
    })
    [ada] = collect(source, tmp_path / "submitted", WEEK, EXPECTED, timezone(timedelta(hours=1)))
    assert ada.submitted_at == datetime(2026, 11, 20, 9, 15, tzinfo=timezone.utc)  # the newest attempt, in UTC
    stamp = tmp_path / "submitted/ada" / WEEK / TIMESTAMP
    assert stamp.read_text() == "2026-11-20 09:15:00 UTC\n"
    assert TIMESTAMP not in ada.files  # the grader's, not the student's
    from nbgrader.utils import parse_utc
    assert parse_utc(stamp.read_text().strip()) == datetime(2026, 11, 20, 9, 15)  # as nbgrader reads it


def test_a_students_own_timestamp_file_is_set_aside(tmp_path):
    source = make_zip(tmp_path / "canvas.zip", {
        "lovelaceada_12345_67890_homework.ipynb": notebook("ada"),
        "lovelaceada_12345_67890_timestamp.txt": "2000-01-01 00:00:00 UTC",  # "I was early"
    })
    [ada] = collect(source, tmp_path / "submitted", WEEK, EXPECTED)
    folder = tmp_path / "submitted/lovelaceada" / WEEK
    assert not (folder / TIMESTAMP).exists()
    assert (folder / STUDENT_TIMESTAMP).read_text() == "2000-01-01 00:00:00 UTC"
    assert any("set aside" in note for note in ada.notes)


def test_identities_are_kept_per_student_and_week(tmp_path):
    source = make_zip(tmp_path / "canvas.zip", {"turingalan_LATE_22222_33333_homework.ipynb": notebook()})
    [alan] = collect(source, tmp_path / "submitted", WEEK, EXPECTED)
    identities = Identities(tmp_path)
    identities.remember(alan.student, WEEK, from_collected(alan))
    assert identities.read("turingalan", WEEK) == Identity("turingalan", "canvas", "22222", None, True)
    assert identities.latest("turingalan", "canvas").lms_id == "22222"
    assert identities.read("nobody", WEEK) == Identity(name="nobody")


# --- Canvas --------------------------------------------------------------------------------------

def test_canvas_layout(tmp_path):
    identities = Identities(tmp_path)
    identities.remember("lovelace_ada", WEEK, Identity('Lovelace, Ada "Countess"', "canvas", "12345"))
    identities.remember("turing", WEEK, Identity("=HYPERLINK(\"http://x\")", "canvas", "22222"))
    rows = [row("lovelace_ada", score=20.0), row("turing", score=10.0, due="2026-11-20T22:59:00+00:00",
                                                    hours_late=25.5, late_penalty=2.0),
            row("lovelace_ada", week="week02_activations_forward", score=27.0, max_score=27.0)]
    path = tmp_path / "canvas.csv"
    warnings = write_canvas(rows, path, identities, {"week02_activations_forward": "Homework 2 (4567)"})
    assert warnings == []
    table = read(path)
    assert table[0] == CANVAS_COLUMNS + [WEEK, "Homework 2 (4567)"]
    assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert table[1] == ["Points Possible", "", "", "", "", "26", "27"]
    assert table[2] == ['Lovelace, Ada "Countess"', "12345", "", "", "", "20", "27"]
    assert table[3] == ["'=HYPERLINK(\"http://x\")", "22222", "", "", "", "8", ""]  # 10 - 2 late; no week 2
    raw = path.read_text(encoding="utf-8")
    assert '"Lovelace, Ada ""Countess"""' in raw  # the comma and quotes quoted, as CSV wants
    assert "a note for the instructor" not in raw  # any extra column would become a Canvas assignment


def test_canvas_warns_about_students_without_a_canvas_id(tmp_path):
    warnings = write_canvas([row("ada")], tmp_path / "canvas.csv", Identities(tmp_path))
    assert warnings == ["ada: no Canvas user id (not collected from a Canvas download); "
                        "Canvas cannot match this row until its ID is filled in"]
    assert read(tmp_path / "canvas.csv")[2][:2] == ["ada", ""]  # the row is still there


# --- Moodle --------------------------------------------------------------------------------------

def test_moodle_layout(tmp_path):
    identities = Identities(tmp_path)
    identities.remember("ada_lovelace", WEEK, Identity("Ada Lovelace", "moodle", "123456"))
    identities.remember("zed", WEEK, Identity("@Zed, the \"admin\"", "moodle", "7"))
    rows = [row("ada_lovelace", score=20.0, due="2026-11-20T22:59:00+00:00", hours_late=25.5, late_penalty=4.0),
            row("zed", score=26.0, due="2026-11-20T22:59:00+00:00", hours_late=0.0)]
    path = tmp_path / "moodle.csv"
    now = datetime(2026, 12, 6, 14, 0, tzinfo=timezone.utc)
    assert write_moodle(rows, path, identities, now) == []
    table = read(path)
    assert table[0] == MOODLE_COLUMNS
    assert {"Identifier", "Grade", "Last modified (grade)", "Feedback comments"} <= set(table[0])
    assert table[1] == ["Participant 123456", "Ada Lovelace", "16", "26", "2026-12-06 14:00:00 UTC",
                        "Automatic grading: 16 / 26. Submitted 25.5 h after the due date: -4 points late penalty."]
    assert table[2][:3] == ["Participant 7", "'@Zed, the \"admin\"", "26"]
    assert "a note for the instructor" not in path.read_text()  # the students read Feedback comments


def test_moodle_is_one_week_at_a_time(tmp_path):
    with pytest.raises(ValueError, match="one assignment; export one week at a time"):
        write_moodle([row("ada"), row("ada", week="week02_activations_forward")], tmp_path / "m.csv",
                     Identities(tmp_path))


def test_moodle_warns_about_students_without_a_participant_id(tmp_path):
    warnings = write_moodle([row("ada")], tmp_path / "m.csv", Identities(tmp_path))
    assert warnings and "no Moodle participant id" in warnings[0]
    assert read(tmp_path / "m.csv")[1][:3] == ["", "ada", "20"]


# --- the plain CSV -------------------------------------------------------------------------------

def test_csv_gains_late_columns_only_when_a_week_has_a_due_date(tmp_path):
    write([row("ada")], tmp_path / "plain.csv", "csv", Identities(tmp_path))
    assert read(tmp_path / "plain.csv")[0] == ["student", "week", "predict (/3)", "total", "max",
                                                "needs_manual_grading", "notes"]
    late = [row("ada", due="2026-11-20T22:59:00+00:00", hours_late=25.5, late_penalty=4.0),
            row("bob", due="2026-11-20T22:59:00+00:00", hours_late=None)]
    write(late, tmp_path / "late.csv", "csv", Identities(tmp_path))
    header, ada, bob = read(tmp_path / "late.csv")
    assert header == ["student", "week", "predict (/3)", "total", "max", "needs_manual_grading",
                      "hours_late", "late_penalty", "notes"]
    assert ada[3] == "16" and ada[6:8] == ["25.5", "4"]
    assert bob[3] == "20" and bob[6:8] == ["", "0"]  # no submission time: nothing known, nothing deducted


def test_an_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'xlsx'"):
        write([row("ada")], tmp_path / "x", "xlsx", Identities(tmp_path))
    result = subprocess.run([sys.executable, "-m", "autograder", "--workdir", str(tmp_path), "export",
                             "--format", "xlsx"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "invalid choice: 'xlsx'" in result.stderr


# --- submission times from the LMS's report ------------------------------------------------------

def collect_cli(workdir, *args):
    return subprocess.run([sys.executable, "-m", "autograder", "--workdir", str(workdir), "collect", WEEK, *args],
                          capture_output=True, text=True, timeout=300)


def test_times_from_moodles_grading_worksheet(tmp_path):
    source = make_zip(tmp_path / "moodle.zip", {
        "Ada Lovelace_123456_assignsubmission_file_/homework.ipynb": notebook("ada"),
        "Alan Turing_654321_assignsubmission_file_/homework.ipynb": notebook("alan"),
    })
    worksheet = tmp_path / "worksheet.csv"  # as Moodle's "Download grading worksheet" writes it
    worksheet.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
        "Last modified (submission),Last modified (grade),Feedback comments\n"
        'Participant 123456,Ada Lovelace,ada@example.org,Submitted for grading,,26,Yes,'
        '"Friday, 20 November 2026, 11:45 PM",-,\n'
        "Participant 654321,Alan Turing,alan@example.org,No submission,,26,Yes,-,-,\n", encoding="utf-8")
    result = collect_cli(tmp_path / "work", str(source), "--times", str(worksheet), "--timezone", "Europe/Berlin")
    assert result.returncode == 0, result.stderr
    assert "ada_lovelace             homework.ipynb  (submitted 2026-11-20 22:45 UTC)" in result.stdout
    assert "no submission time for: alan_turing" in result.stdout
    folder = tmp_path / "work" / "submitted"
    assert (folder / "ada_lovelace" / WEEK / TIMESTAMP).read_text() == "2026-11-20 22:45:00 UTC\n"
    assert not (folder / "alan_turing" / WEEK / TIMESTAMP).exists()
    assert Identities(tmp_path / "work").read("ada_lovelace", WEEK).submitted_at == "2026-11-20T22:45:00+00:00"


def test_times_from_a_plain_file_by_id_or_name_and_bad_times_refused(tmp_path):
    source = make_zip(tmp_path / "canvas.zip", {
        "lovelaceada_12345_67890_homework.ipynb": notebook("ada"),
        "turingalan_LATE_22222_33333_homework.ipynb": notebook("alan"),
    })
    times = tmp_path / "times.csv"
    times.write_text("student,submitted\nlovelaceada,2026-11-20 21:00 UTC\n22222,2026-11-22T00:29:00+00:00\n")
    result = collect_cli(tmp_path / "work", str(source), "--times", str(times))
    assert result.returncode == 0, result.stderr
    assert "turingalan               homework.ipynb  (submitted 2026-11-22 00:29 UTC)  (canvas marks it late)" \
        in result.stdout
    times.write_text("student,submitted\nlovelaceada,next Tuesday-ish\n")
    bad = collect_cli(tmp_path / "work", str(source), "--times", str(times))
    assert bad.returncode == 1 and "line 2: 'next Tuesday-ish' is not a time" in bad.stderr
    times.write_text("who,when\nada,2026-11-20\n")
    bad = collect_cli(tmp_path / "work", str(source), "--times", str(times))
    assert bad.returncode == 1 and "expected the columns Identifier and Last modified (submission)" in bad.stderr
