"""The grader's notes: one owner for the file every step writes and the CSV reads."""

from pathlib import Path

from autograder.course import Course
from autograder.notes import Notes


def test_notes_are_added_in_order_and_start_afresh(tmp_path):
    notes = Notes(tmp_path)
    assert notes.read("ada", "week01") == []
    notes.add("ada", "week01", "one", "two")
    notes.add("ada", "week01", "three")
    assert notes.read("ada", "week01") == ["one", "two", "three"]
    notes.start("ada", "week01", ["fresh"])
    assert notes.read("ada", "week01") == ["fresh"] and notes.path("ada", "week01") == tmp_path / "ada" / "week01.json"


def test_file_notes_are_kept_from_collection_until_the_next_collection(tmp_path):
    notes = Notes(tmp_path)
    assert notes.files("ada", "week01", ["renamed 'hw.ipynb'"], reset=True) == ["renamed 'hw.ipynb'"]
    assert notes.files("ada", "week01", []) == ["renamed 'hw.ipynb'"]             # graded again: still said
    assert notes.files("ada", "week01", ["renamed 'hw.ipynb'", "x"]) == ["renamed 'hw.ipynb'", "x"]  # no repeat
    assert notes.files("ada", "week01", [], reset=True) == []                     # collected again
    assert notes.read("ada", "week01") == []                                      # a separate file from the notes


def test_the_commands_and_the_grading_step_keep_notes_in_one_place(tmp_path):
    course = Course(tmp_path / "course", tmp_path / "work")
    assert course.notes.folder == Path(course.config.SafeExecute.notes_dir) == Notes.in_workdir(tmp_path / "work").folder
