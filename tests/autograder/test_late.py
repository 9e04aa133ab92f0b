"""Due dates, extensions and the late policy: deadlines.toml, nbgrader's late-submission plugin, and
the whole path with real nbgrader through `python -m autograder` (collect, grade, export, feedback)."""

import csv
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.late import DeadlineError, parse, percent
from autograder.latesteps import LatePolicy
from tests.nbrun import ROOT, grade_id

WEEK = "week01_perceptron"
AUTO = 23.0  # week 1's automatic points

POLICY = """
[policy]
kind = "per_day"
percent_per_day = 10
max_percent = 50
"""
DEADLINES = POLICY + """
[weeks.week01_perceptron]
due = "2026-11-20 23:59 Europe/Berlin"     # 22:59 UTC
extensions = { cyd = "48h" }
"""


# --- the configuration -------------------------------------------------------------------------

def test_a_full_configuration():
    d = parse({"policy": {"kind": "per_day", "percent_per_day": 10, "max_percent": 50},
               "weeks": {WEEK: {"due": "2026-11-20 23:59 Europe/Berlin",
                                "extensions": {"ada": "2026-11-22 12:00 UTC", "bob": "36h"}}}})
    assert (d.kind, d.percent_per_day, d.max_percent) == ("per_day", 10.0, 50.0)
    assert d.due[WEEK] == datetime(2026, 11, 20, 22, 59, tzinfo=timezone.utc)
    assert d.extensions[WEEK]["ada"] == datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    assert d.extensions[WEEK]["bob"] - d.due[WEEK] == timedelta(hours=36)
    assert d.due_for(WEEK, "bob") == d.extensions[WEEK]["bob"] and d.due_for(WEEK, "eve") == d.due[WEEK]
    assert d.describe() == "10% of the score per day started, at most 50%"
    assert parse({}).kind == "none" and parse({}).due == {}


@pytest.mark.parametrize("data, message", [
    ({"weeks": {WEEK: {"due": "2026-11-20 23:59"}}}, r"a time zone is required"),
    ({"weeks": {WEEK: {"due": "20/11/2026 23:59 UTC"}}}, r"'20/11/2026 23:59 UTC' is not a date like"),
    ({"weeks": {WEEK: {"due": "2026-02-30 23:59 UTC"}}}, r"weeks.week01_perceptron.due: '2026-02-30 23:59 UTC'"),
    ({"weeks": {WEEK: {"due": "2026-11-20 23:59 Mars/Olympus"}}}, r"unknown time zone 'Mars/Olympus'"),
    ({"weeks": {WEEK: {"due": 20261120}}}, r"20261120 is not a date"),
    ({"weeks": {WEEK: {}}}, r"\[weeks.week01_perceptron\]: no due date"),
    ({"weeks": {WEEK: {"due": "2026-11-20 23:59 UTC", "extension": {}}}}, r"unknown key\(s\) extension"),
    ({"weeks": {WEEK: {"due": "2026-11-20 23:59 UTC", "extensions": {"ada": "2026-11-19 23:59 UTC"}}}},
     r"extensions.ada: '2026-11-19 23:59 UTC' is not after the week's due date"),
    ({"weeks": {WEEK: {"due": "2026-11-20 23:59 UTC", "extensions": {"ada": "two days"}}}},
     r'or a number of hours, "48h"'),
    ({"policy": {"kind": "half"}}, r"policy.kind: 'half' is not one of none, zero, per_day"),
    ({"policy": {"kind": "per_day"}}, r"needs percent_per_day"),
    ({"policy": {"kind": "per_day", "percent_per_day": 150}}, r"expected a number from 0 to 100, got 150"),
    ({"policy": {"kind": "per_day", "percent_per_day": "10%"}}, r"got '10%'"),
    ({"deadline": {}}, r"unknown section\(s\) deadline"),
])
def test_bad_configurations_are_refused_with_where_and_what(data, message):
    with pytest.raises(DeadlineError, match=message):
        parse(data)


def test_the_policies():
    day = 86400
    assert percent("none", 10, 50, 5 * day) == 0
    assert percent("zero", 10, 50, 1) == 100
    assert [percent("per_day", 10, 50, s) for s in (0, 1, day, day + 1, 3 * day, 10 * day)] == [0, 10, 10, 20, 30, 50]
    policy = LatePolicy(kind="per_day", percent_per_day=10, max_percent=50)
    assert policy.late_submission_penalty("ada", 23.0, 25.5 * 3600) == pytest.approx(4.6)
    assert policy.late_submission_penalty("ada", 23.0, 0) is None
    assert LatePolicy(kind="zero").late_submission_penalty("ada", 23.0, 60) == 23.0
    assert LatePolicy().late_submission_penalty("ada", 23.0, 10 * day) is None  # the default: none


# --- with real nbgrader, through the command line ------------------------------------------------

def run_cli(course, *args, check=True):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    result = subprocess.run([sys.executable, "-m", "autograder", "--course-dir", str(course), *args],
                            capture_output=True, text=True, timeout=900, env=env)
    if check:
        assert result.returncode == 0, f"autograder {args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def solution_notebook(course) -> str:
    from tests.test_grading import solutions
    answers = solutions()
    nb = nbformat.read(course / "notebooks" / WEEK / "homework.ipynb", as_version=4)
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return nbformat.writes(nb)


def blackboard(student, when):
    return f"Homework 1_{student}_attempt_{when:%Y-%m-%d-%H-%M-%S}_homework.ipynb"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Four students' solutions, collected from a Blackboard download (times in UTC) and graded
    against a due date of 2026-11-20 23:59 Europe/Berlin (22:59 UTC), 10% a day, at most 50%."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "solutions" / WEEK, course / "solutions" / WEEK, ignore=shutil.ignore_patterns("__pycache__"))
    run_cli(course, "release", WEEK)
    due = datetime(2026, 11, 20, 22, 59)
    times = {"ada": due - timedelta(hours=2),                  # on time
             "bob": due + timedelta(hours=25, minutes=30),     # 2 days started: -20%
             "cyd": due + timedelta(hours=25, minutes=30),     # as late, with a 48 h extension: on time
             "dan": due + timedelta(days=9)}                   # capped: -50%
    download = course / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        for student, when in times.items():
            archive.writestr(blackboard(student, when), solution_notebook(course))
    (course / ".grading").mkdir(exist_ok=True)
    (course / ".grading" / "deadlines.toml").write_text(DEADLINES, encoding="utf-8")
    collected = run_cli(course, "collect", WEEK, str(download), "--timezone", "UTC").stdout
    graded = run_cli(course, "grade", WEEK, "--jobs", "2").stdout
    return course, collected, graded


def gradebook(course):
    return Gradebook(f"sqlite:///{course / '.grading' / 'gradebook.db'}", "nn-fundamentals")


def test_collect_keeps_the_submission_times(graded):
    course, collected, _ = graded
    assert "ada                      homework.ipynb  (submitted 2026-11-20 20:59 UTC)" in collected
    stamp = course / ".grading" / "submitted" / "bob" / WEEK / "timestamp.txt"
    assert stamp.read_text() == "2026-11-22 00:29:00 UTC\n"


def test_the_due_date_and_extension_are_nbgraders(graded):
    course, _, output = graded
    assert "week01_perceptron: due 2026-11-20 23:59+01:00, late policy: 10% of the score per day started" in output
    with gradebook(course) as gb:
        assert gb.find_assignment(WEEK).duedate == datetime(2026, 11, 20, 22, 59)
        assert gb.find_submission(WEEK, "cyd").extension == timedelta(hours=48)
        assert gb.find_submission(WEEK, "ada").extension is None


def test_the_penalty_is_applied_by_nbgraders_plugin(graded):
    course, _, _ = graded
    with gradebook(course) as gb:
        found = {s: gb.find_submission(WEEK, s) for s in ("ada", "bob", "cyd", "dan")}
        seconds = {s: sub.total_seconds_late for s, sub in found.items()}
        penalty = {s: sub.late_submission_penalty for s, sub in found.items()}
        scores = {s: sub.score for s, sub in found.items()}
    assert scores == dict.fromkeys(found, AUTO)  # the tests' points, as graded
    assert seconds == {"ada": 0, "bob": 25.5 * 3600, "cyd": 0, "dan": 9 * 86400}
    assert penalty == {"ada": 0, "bob": pytest.approx(0.2 * AUTO), "cyd": 0, "dan": pytest.approx(0.5 * AUTO)}


def test_the_export_says_how_late_and_what_was_deducted(graded):
    course, _, _ = graded
    out = run_cli(course, "export", WEEK, "--to", str(course / "grades.csv")).stdout
    assert "bob week01_perceptron: submitted 25.5 h after the due date: -4.6 points late penalty" in out
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert {s: (r["total"], r["hours_late"], r["late_penalty"]) for s, r in rows.items()} == {
        "ada": ("23", "0.0", "0"), "bob": ("18.4", "25.5", "4.6"), "cyd": ("23", "0.0", "0"), "dan": ("11.5", "216.0", "11.5")}
    moodle = run_cli(course, "export", WEEK, "--format", "moodle", "--to", str(course / "moodle.csv")).stdout
    assert "4 grades exported" in moodle
    text = (course / "moodle.csv").read_text(encoding="utf-8")
    assert "Submitted 25.5 h after the due date: -4.6 points late penalty." in text


def test_the_feedback_says_how_late_and_what_was_deducted(graded):
    course, _, _ = graded
    run_cli(course, "feedback", WEEK)
    page = {s: (course / ".grading" / "feedback" / s / WEEK / "homework.html").read_text(encoding="utf-8")
            for s in ("ada", "bob", "cyd", "dan")}
    assert "Due 2026-11-20 23:59+01:00; submitted on time." in page["ada"]
    assert ("Due 2026-11-20 23:59+01:00; submitted 25.5 hours late: 4.6 points were deducted "
            "(late policy: 10% of the score per day started, at most 50%).") in page["bob"]
    assert "Due 2026-11-22 23:59+01:00 (with your extension); submitted on time." in page["cyd"]
    assert "submitted 216.0 hours late: 11.5 points were deducted" in page["dan"]
    assert "Late submission penalty (Score: -4.6)" in page["bob"]  # nbgrader's own line, from the same number


def test_another_policy_configured_once_applies_at_the_next_grading(graded, tmp_path):
    course, _, _ = graded
    config = course / ".grading" / "deadlines.toml"
    original = config.read_text()
    try:
        config.write_text(original.replace('kind = "per_day"', 'kind = "zero"'))
        run_cli(course, "grade", WEEK, "--student", "bob", "--student", "cyd", "--jobs", "2")
        with gradebook(course) as gb:
            assert gb.find_submission(WEEK, "bob").late_submission_penalty == AUTO  # late: zero
            assert gb.find_submission(WEEK, "cyd").late_submission_penalty == 0  # the extension holds
    finally:
        config.write_text(original)


def test_malformed_deadlines_stop_grading_with_a_clear_error(graded):
    course, _, _ = graded
    config = course / ".grading" / "deadlines.toml"
    original = config.read_text()
    try:
        config.write_text(original.replace("2026-11-20 23:59 Europe/Berlin", "Friday at noon"))
        for command in (["grade", WEEK], ["deadlines"]):
            result = run_cli(course, *command, check=False)
            assert result.returncode == 1, result.stdout
            assert "weeks.week01_perceptron.due: 'Friday at noon' is not a date like" in result.stderr
            assert "Traceback" not in result.stderr
    finally:
        config.write_text(original)
    listing = run_cli(course, "deadlines").stdout
    assert listing.splitlines() == [
        "late policy: 10% of the score per day started, at most 50%",
        "week01_perceptron            due 2026-11-20 23:59+01:00  (2026-11-20 22:59 UTC)",
        "                               cyd: extended to 2026-11-22 23:59+01:00 (+48 h)",
    ]
