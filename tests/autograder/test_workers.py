"""Grading workers and the grader's terminal output: a dying worker costs only its submission; student text prints inert."""

import os
import subprocess
import sys

from autograder import grading
from autograder.course import Course


def grade_or_die(course_dir, workdir, options, student, week):
    """Stands in for one submission's grading in a worker process."""
    if student == "killer":
        os._exit(9)  # as the kernel's OOM killer or a segfault would end the worker
    if student == "hog":
        bytearray(8 * 2**30)  # more than the worker's address space
    return {"success": True, "seconds": 0.0, "student": student}


def test_a_worker_that_dies_or_runs_out_of_memory_costs_only_its_submission(tmp_path):
    course = Course(tmp_path / "course", tmp_path / "work")
    todo = [(name, "week01") for name in ("ada", "killer", "bob", "hog", "cyd", "dan")]
    results = dict(grading.autograde_all(course, todo, 2, grade=grade_or_die))
    assert sorted(results) == sorted(todo)  # everyone got a result, once
    assert {k[0] for k, r in results.items() if r["success"]} == {"ada", "bob", "cyd", "dan"}
    assert "worker process died" in results[("killer", "week01")]["error"]
    assert "MemoryError" in results[("hog", "week01")]["error"]


def test_student_text_reaches_the_terminal_without_control_characters():
    # A file name or note with an escape sequence would clear the screen or hide lines.
    assert grading.printable("renamed '\x1b[2Jhomework\r.ipynb'") == "renamed '\ufffd[2Jhomework\ufffd.ipynb'"
    assert grading.printable("Zoë O'Brien") == "Zoë O'Brien"


def test_a_grader_failure_is_noted_for_the_instructor(tmp_path):
    course = Course(tmp_path / "course", tmp_path / "work")
    result = {"success": False, "error": "Traceback ...\nMemoryError: out of memory\n"}
    grading.note_failure(course, "ada", "week01", result)
    assert course.notes.read("ada", "week01") == [
        "the grader failed on this submission (MemoryError: out of memory): grade it again, or by hand"]


def add_student_together(course_dir, workdir, options, student, week):
    """Stands in for nbgrader's first write: both workers add the same student at the same moment."""
    import time

    with Course(course_dir, workdir, options).gradebook() as gradebook:
        (workdir / f"arrived-{week}").write_text("")
        while len(list(workdir.glob("arrived-*"))) < 2:  # a barrier: wait for the other worker
            time.sleep(0.001)
        gradebook.update_or_create_student(student)
    return {"success": True, "seconds": 0.0}


def test_two_workers_grading_one_new_student_do_not_collide_in_the_gradebook(tmp_path, monkeypatch):
    # Unseen, two workers each insert the new student and SQLite's unique id fails one of them.
    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))  # nbgrader runs alembic
    course = Course(tmp_path / "course", tmp_path / "work")
    with course.gradebook() as gradebook:
        for week in ("week01", "week02"):
            gradebook.update_or_create_assignment(week)
    todo = [("ada", "week01"), ("ada", "week02")]
    grading.ensure_in_gradebook(course, todo)
    results = dict(grading.autograde_all(course, todo, 2, grade=add_student_together))
    assert all(r["success"] for r in results.values()), results
    with course.gradebook() as gradebook:
        assert [s.id for s in gradebook.students] == ["ada"]


def test_what_a_test_cell_changes_in_the_grader_is_put_back_before_the_next_submission(tmp_path, monkeypatch):
    # A warm worker runs the test cells of one submission after another in its own process:
    # what one test cell changes there must not reach the next submission's.
    import warnings

    import numpy as np

    from autograder.trusted import GraderState
    from nblib import _reference

    monkeypatch.chdir(tmp_path)
    GraderState.remember()
    before = (np.geterr(), np.get_printoptions()["precision"], np.random.get_state()[1].copy(), list(warnings.filters),
              dict(os.environ), os.getcwd())
    np.seterr(all="raise")
    np.set_printoptions(precision=2)
    np.random.seed(7)
    warnings.simplefilter("error")
    os.environ["LEFT_BY_A_TEST"] = "1"
    os.chdir("/")
    _reference._disabled["some.function"] = "an exercise"
    GraderState.restore()
    after = (np.geterr(), np.get_printoptions()["precision"], np.random.get_state()[1], list(warnings.filters),
             dict(os.environ), os.getcwd())
    assert after[:2] == before[:2] and np.array_equal(after[2], before[2])
    assert after[3:] == before[3:] and not _reference._disabled


def test_putting_the_grader_back_leaves_a_half_imported_keras_alone(monkeypatch):
    # A warm worker imports TensorFlow and Keras in a thread while its first submission starts:
    # a Keras half imported (no `backend` yet) must not be touched, or that submission fails.
    import threading
    import types

    from autograder import trusted

    release = threading.Event()
    loading = threading.Thread(target=release.wait)
    loading.start()
    monkeypatch.setattr(trusted, "_loading", loading)
    monkeypatch.setitem(sys.modules, "keras", types.ModuleType("keras"))  # as Python shows it mid-import
    try:
        trusted.GraderState.remember()
        trusted.GraderState.restore()
    finally:
        release.set()
        loading.join()


def test_a_worker_leaves_at_once_after_closing_its_spare_kernel_and_flushing_its_output(tmp_path):
    # Python takes about a second to tear down a loaded TensorFlow, and `grade` waits for its
    # workers to end: a worker's exit skips that, but not its spare kernel or its last words.
    script = f"""
import atexit
from autograder import grading, kernel

class Spare:
    def close(self):
        open({str(tmp_path / 'closed')!r}, 'w').write('yes')

kernel._spare = Spare()
atexit.register(lambda: open({str(tmp_path / 'teardown')!r}, 'w').write('ran'))
atexit.register(grading._leave)  # as the worker registers it: last, so it runs first
print('the last result was sent', end='')
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as a worker's pipe is
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert (done.returncode, done.stdout) == (0, "the last result was sent"), done.stderr
    assert (tmp_path / "closed").read_text() == "yes"
    assert not (tmp_path / "teardown").exists()  # the rest of the interpreter's exit was skipped
