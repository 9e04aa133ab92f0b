"""``grade --cluster``: submissions graded on a Dask cluster, recorded by this process alone.

How a submission travels (one Dask task each)::

    the instructor's process                      a Dask worker (any machine with the course)
    ------------------------                      -------------------------------------------
    prepare, notes, release (grading.grade)
    seed(week): a gradebook of the week's     ──► a private working folder per week, with
      cells and no student, once per week           that gradebook
    the submission's files, as bytes          ──► grading.autograde, sandboxed, as on one machine
    record(): autograded/, the gradebook,     ◄── a result, plain data: each test cell's score,
      the notes (and grade: nbgrader.log)           comments, the graded files, notes, mistakes, log

Workers never see the instructor's gradebook or ``.grading/``; only :func:`record`, here,
writes them, so no two processes write one SQLite file at once. Scores go into the gradebook
as nbgrader's ``SaveAutoGrades`` puts them, and the late penalty is nbgrader's own
``AssignLatePenalties``, run here where the due dates and extensions are.

Faults: the scheduler hands a task whose worker died to another worker, and gives up after
``ALLOWED_FAILURES`` retries (Dask's ``distributed.scheduler.allowed-failures``); a task given
up is a grader failure for its student alone. Each result is recorded once, when its future
first completes.

Dask is imported only here, and this module only for ``--cluster`` (and by the workers).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import signal
import sqlite3
import tempfile
import threading
import uuid
from multiprocessing.util import Finalize
from pathlib import Path

import dask
from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, as_completed

from autograder import grading
from autograder.course import Course
from autograder.notes import Notes

ALLOWED_FAILURES = 2  # a submission whose worker dies is tried at most twice more
LOCAL = "local:"      # --cluster local:N starts N worker processes on this machine


# --- in the instructor's process ---------------------------------------------------------------------

def grade_all(course: Course, todo, address: str, meanwhile=None, grade=None):
    """Yield ((student, week), result) as each submission is graded on the cluster at
    ``address`` and recorded here. ``meanwhile(where)`` runs while the workers start;
    ``grade`` stands in for :func:`grading.autograde` in tests.

    As many submissions are out as the workers have threads, the next sent as one comes
    back: a submission never waits on a worker behind another, so a worker that dies takes
    only the submission it was grading (Dask counts a death against every task the worker
    held), and the submissions' files are read as they are sent."""
    with _client(address) as client:
        warm = grading.warm_up(course, todo)
        warming = [client.submit(_warm, warm, workers=[worker], pure=False, key=f"warm-{uuid.uuid4().hex}")
                   for worker in client.nthreads()]  # each worker loads while this process prepares
        if meanwhile is not None:
            meanwhile(f"on {len(client.nthreads())} Dask worker(s) at {client.scheduler.address}")
        # sent with every task, not scattered once: scattered data is lost with the workers holding it
        material = {week: (seed(course, week), fingerprint(course.dir, week)) for week in sorted({w for _, w in todo})}
        waiting, out = list(reversed(todo)), {}

        def send():
            while waiting and len(out) < max(1, sum(client.nthreads().values())):  # asked now: workers come and go
                student, week = waiting.pop()
                files = submission_files(course.submitted(student, week))
                future = client.submit(grade_on_worker, str(course.dir), course.options, warm, *material[week],
                                       files, student, week, grade, key=f"grade-{uuid.uuid4().hex}", pure=False)
                out[future] = (student, week)
                arrived.add(future)

        arrived, pressed = as_completed(), []
        try:
            send()
            for future in arrived:
                key = out.pop(future)
                send()  # the worker's next submission first: it need not wait for the record
                yield key, _result(course, *key, future, pressed)
                if pressed:  # Ctrl-C while that submission was being recorded
                    raise KeyboardInterrupt
        finally:
            client.cancel(list(out) + warming)


@contextlib.contextmanager
def _client(address: str):
    """A Dask client for ``address``, or for a new local cluster of N workers (``local:N``)."""
    if not address.startswith(LOCAL):
        with Client(address, timeout=30) as client:
            allowed = client.run_on_scheduler(lambda: dask.config.get("distributed.scheduler.allowed-failures"))
            if allowed != ALLOWED_FAILURES:
                print(f"note: the scheduler retries a submission whose worker died {allowed} time(s), not "
                      f"{ALLOWED_FAILURES}: start it with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="
                      f"{ALLOWED_FAILURES}", flush=True)
            if not client.scheduler_info()["workers"]:
                print(f"Waiting for a worker to join the scheduler at {address} ...", flush=True)
                client.wait_for_workers(1)
            yield client
        return
    workers = int(address[len(LOCAL):])  # cli checked it is a number from 1
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")  # as grading.autograde_all: one BLAS thread a worker
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                         memory_limit=0, silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as client:
        client.register_plugin(_CtrlCIsTheInstructors())
        yield client


class _CtrlCIsTheInstructors(WorkerPlugin):
    """Local workers ignore the terminal's Ctrl-C: this process stops them, after it has
    recorded what they sent (a Dask worker would die of it, printing a traceback)."""

    name = "nnf-ctrl-c-is-the-instructors"

    def setup(self, worker) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _result(course: Course, student: str, week: str, future, pressed: list) -> dict:
    """The future's outcome recorded here, as grading's result dict; a failure when the task
    failed. A Ctrl-C meanwhile waits for the record to be whole, and is put in ``pressed``."""
    try:
        outcome = future.result()
    except KilledWorker as error:
        return {"success": False, "seconds": 0.0,
                "error": f"the grader's worker died {error.allowed_failures + 1} times while grading {student}/{week} "
                         f"(killed, a crash, or out of memory)\n"}
    except Exception as error:  # noqa: BLE001 - an error on the worker is a grader failure for this student
        return {"success": False, "seconds": 0.0, "error": f"worker failed: {error!r}\n"}
    if outcome["success"]:
        with _uninterrupted(pressed):
            record(course, student, week, outcome)
    return {k: outcome[k] for k in ("success", "seconds", "log", "error") if k in outcome}


@contextlib.contextmanager
def _uninterrupted(pressed: list):
    """Ctrl-C (SIGINT) only noted in ``pressed`` meanwhile."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def seed(course: Course, week: str) -> bytes:
    """The instructor's gradebook with ``week``'s notebooks and cells only: no student, no
    other week (an SQLite file, as bytes)."""
    from nbgrader.api import Comment, Gradebook, Grade, Student, SubmittedAssignment, SubmittedNotebook

    with tempfile.TemporaryDirectory(prefix="nnf-seed-") as folder:
        path = Path(folder) / "gradebook.db"
        with contextlib.closing(sqlite3.connect(course.workdir / "gradebook.db")) as source, \
                contextlib.closing(sqlite3.connect(path)) as copy:
            source.backup(copy)
        with Gradebook(f"sqlite:///{path}", course.config.CourseDirectory.course_id) as gradebook:
            for table in (Comment, Grade, SubmittedNotebook, SubmittedAssignment, Student):
                gradebook.db.query(table).delete()
            gradebook.db.commit()
            for assignment in [a.name for a in gradebook.assignments if a.name != week]:
                gradebook.remove_assignment(assignment)
        with contextlib.closing(sqlite3.connect(path)) as copy:
            copy.execute("VACUUM")
        return path.read_bytes()


def submission_files(folder: Path) -> dict[str, bytes]:
    """Every file of a submission folder, by its path inside it."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def record(course: Course, student: str, week: str, outcome: dict) -> None:
    """Write what a worker graded: the autograded folder, the scores (as nbgrader's
    SaveAutoGrades would, a manual score kept for review), the late penalty, the notes."""
    import nbformat
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import AssignLatePenalties

    from autograder.mistakes import Mistakes

    graded = course.workdir / "autograded" / student / week
    shutil.rmtree(graded, ignore_errors=True)
    for name, data in outcome["files"].items():
        (graded / name).parent.mkdir(parents=True, exist_ok=True)
        (graded / name).write_bytes(data)
    timestamp = CourseDirectory(config=course.config).get_existing_timestamp(str(course.submitted(student, week)))
    with course.gradebook() as gradebook:
        submission = gradebook.update_or_create_submission(week, student, **({"timestamp": timestamp} if timestamp else {}))
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score, needs_review = outcome["grades"][notebook.name][grade.name]
                grade.needs_manual_grade = needs_review or grade.manual_score is not None
            for comment in notebook.comments:
                comment.auto_comment = outcome["comments"][notebook.name][comment.name]
        gradebook.db.commit()
    late = AssignLatePenalties(config=course.config)
    for name in outcome["notebooks"]:
        resources = {"nbgrader": {"notebook": name, "assignment": week, "student": student,
                                  "db_url": course.config.CourseDirectory.db_url}}
        late.preprocess(nbformat.reads(outcome["files"][f"{name}.ipynb"].decode(), as_version=4), resources)
    course.notes.add(student, week, *outcome["notes"])
    for notebook, failed in outcome["mistakes"].items():
        Mistakes(course.notes.folder).keep(student, week, notebook, failed)


def fingerprint(course_dir: Path | str, week: str) -> str:
    """A hash of what grading a week depends on: its instructor and released notebooks (and
    their files) and the nblib and autograder code this process runs."""
    import nblib

    import autograder

    course_dir = Path(course_dir)
    folders = [course_dir / "solutions" / week, course_dir / "notebooks" / week,
               Path(nblib.__file__).parent, Path(autograder.__file__).parent]
    digest = hashlib.sha256()
    for i, folder in enumerate(folders):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                           and ".ipynb_checkpoints" not in p.parts):
            digest.update(f"{i}/{path.relative_to(folder)}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# --- on a Dask worker ---------------------------------------------------------------------------------

_warmed: set[str] = set()             # the warm_up dicts this worker process has loaded
_private: dict[tuple, Path] = {}      # (course folder, seed's hash) -> this worker's working folder
_checked: dict[tuple, str] = {}       # (course folder, week) -> its fingerprint here


def grade_on_worker(course_dir: str, options: dict, warm: dict, seed: bytes, expected: str,
                    files: dict[str, bytes], student: str, week: str, grade=None) -> dict:
    """One Dask task: grade a submission in this worker's private working folder and return
    the result as plain data (see :func:`record`)."""
    from autograder.config import REPO_ROOT
    from autograder.mistakes import Mistakes
    from autograder.sandbox import unavailable_reason

    folder = Path(course_dir) if Path(course_dir, "solutions", week).is_dir() else REPO_ROOT
    if (folder, week) not in _checked:
        _checked[folder, week] = fingerprint(folder, week)
    if _checked[folder, week] != expected:
        raise RuntimeError(f"this worker's course ({folder}) differs from the instructor's for {week}: "
                           f"give every worker the same checkout of the course, installed with pip install -e")
    if warm["limits"] is not None and unavailable_reason():
        raise RuntimeError(f"this worker cannot sandbox student code: {unavailable_reason()}")
    _warm(warm)
    workdir = _workdir(folder, seed)
    _forget(workdir, student)
    submitted = workdir / "submitted" / student / week
    for name, data in files.items():
        (submitted / name).parent.mkdir(parents=True, exist_ok=True)
        (submitted / name).write_bytes(data)
    try:
        result = (grade or grading.autograde)(folder, workdir, {**options, "prestart": True}, student, week)
        result.pop("score", None)  # the instructor's gradebook says the score, late penalty and all
        if result["success"]:
            result.update(_scores(workdir, student, week))
            graded = workdir / "autograded" / student / week
            result["files"] = submission_files(graded)
            result["notebooks"] = sorted(p.stem for p in graded.glob("*.ipynb"))
            notes = Notes.in_workdir(workdir)
            result["notes"] = notes.read(student, week)
            result["mistakes"] = Mistakes(notes.folder).read(student, week)
        return result
    finally:
        with contextlib.suppress(Exception), _gradebook(workdir) as gradebook:
            gradebook.remove_student(student)  # the private gradebook keeps no student's work
        _forget(workdir, student)


def _forget(workdir: Path, student: str) -> None:
    """Remove a student's folders from this worker's working folder."""
    for place in ("submitted", "autograded", "notes"):
        shutil.rmtree(workdir / place / student, ignore_errors=True)


def _warm(warm: dict) -> None:
    """Load, once per worker process, what grading needs (``grading.warm_worker``)."""
    if repr(warm) not in _warmed:
        grading.warm_worker(warm)
        _warmed.add(repr(warm))


def _workdir(course_dir: Path, seed: bytes) -> Path:
    """This worker's working folder for a week: the seed gradebook, and nothing of the instructor's."""
    key = (str(course_dir), hashlib.sha256(seed).hexdigest())
    if key not in _private:
        workdir = Path(tempfile.mkdtemp(prefix=f"nnf-worker-{os.getpid()}-"))  # whose it is, for the instructor
        (workdir / "gradebook.db").write_bytes(seed)
        _private[key] = workdir
        # removed when the worker ends: Dask's worker processes run multiprocessing's finalizers, not atexit
        Finalize(None, shutil.rmtree, args=(workdir, True), exitpriority=5)
    return _private[key]


def _scores(workdir: Path, student: str, week: str) -> dict:
    """{"grades": {notebook: {cell: [auto_score, needs_manual_grade]}}, "comments": {notebook: {cell: text}}}."""
    with _gradebook(workdir) as gradebook:
        submission = gradebook.find_submission(week, student)
        return {"grades": {nb.name: {g.name: [g.auto_score, g.needs_manual_grade] for g in nb.grades}
                           for nb in submission.notebooks},
                "comments": {nb.name: {c.name: c.auto_comment for c in nb.comments} for nb in submission.notebooks}}


def _gradebook(workdir: Path):
    from nbgrader.api import Gradebook

    from autograder.config import COURSE_ID

    return Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID)
