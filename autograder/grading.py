"""``python -m autograder grade``: how a submission becomes a row of grades.csv.

Step by step, for one student's week, and the module that does each step:

1. **Collected** (``collect``): an LMS download or a folder is copied to
   ``<workdir>/submitted/<student>/<week>/``; notes on its files start (``notes``).
2. **Prepared** (:func:`prepare`, here): the notebooks get their released names again
   (``collect.normalise_folder``) and the submission's notes start afresh: its files' notes,
   functions copied from nblib's references and answers identical to another student's
   (``honesty``).
3. **In the gradebook** (:func:`ensure_in_gradebook`): a week nbgrader has not seen is
   released first (``release``), so the gradebook holds the instructor's cells; each student
   is added before the workers start.
4. **Graded in a worker** (:func:`autograde_all`): several submissions at once, in worker
   processes with a memory cap; a worker that dies costs only its own submission. A worker
   is warmed once (:func:`_worker_start`: nbgrader and the test cells' imports loaded, a
   fork server holding the kernels' imports (``forkserver``), a sandboxed kernel launched)
   and grades one submission after another, each with a fresh kernel (forked while the one
   before was graded) and the grader's state put back. With ``--cluster``, Dask workers do
   this instead (``cluster``): each grades in a working folder of its own and sends back
   plain data, which this process alone writes into the gradebook.
5. **Autograded by nbgrader** (``course.api.autograde``), with the steps ``config`` puts in
   place of its own (``preprocessors``): every cell's flags come from the gradebook
   (``RestoreFlags``); ``SafeExecute`` runs the student's cells in a ``kernel`` boxed by
   ``sandbox`` and each test cell in the grader's process (``trusted``), reaching the
   student's functions through the ``agent`` in their kernel with plain data only
   (``codec``); what happened goes to the notes; outputs are made ``inert``. nbgrader
   scores each test cell (an error: no points) into the gradebook.
6. **Summarised** (:func:`summary`): a table, one line per submission, on the terminal.
7. **Exported** (``results``, by ``python -m autograder export``): the gradebook's scores,
   summed per exercise, and the notes -> one CSV row per student and week.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from autograder import honesty
from autograder.config import BUDGET, CELL_TIMEOUT, RELEASE, SOURCE
from autograder.course import Course, quiet_environment
from autograder.release import release_week

GRADER_MEMORY = 6 * 2**30  # bytes of address space for one grading worker (TensorFlow takes about 1.3)


def grade(course: Course, weeks: list[str], students=(), jobs: int = 0, cluster: str | None = None,
          grade=None) -> int:
    """Grade every submission of ``weeks`` (of ``students``, default all), here in ``jobs``
    worker processes or on the Dask ``cluster`` at that address (``autograder.cluster``);
    the exit status. ``grade`` stands in for :func:`autograde` in tests."""
    from autograder.sandbox import unavailable_reason

    if cluster and importlib.util.find_spec("distributed") is None:
        print("error: --cluster needs Dask: .venv/bin/python -m pip install -e \".[cluster]\"", file=sys.stderr)
        return 1
    todo = course.submissions(weeks, students)
    if not todo:
        print(f"Nothing to grade: no submissions in {course.workdir / 'submitted'}/<student>/<week>/ "
              f"for {', '.join(weeks)}.")
        return 0
    remote = cluster and not cluster.startswith("local:")  # each worker checks its own sandbox
    if sandboxed(course) and not remote and unavailable_reason():
        print(f"error: cannot sandbox student code: {unavailable_reason()}.\n"
              f"Fix that, or pass --no-sandbox (only where student code may read everything you can).",
              file=sys.stderr)
        return 1
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))

    def meanwhile(where=f"{jobs} at a time"):  # while the workers start: the gradebook and submissions made ready
        ensure_in_gradebook(course, todo)
        prepare(course, todo)
        print(f"Grading {len(todo)} submission(s), {where}, "
              f"{'sandboxed' if sandboxed(course) else 'WITHOUT the sandbox'}; "
              f"at most {course.option('timeout', CELL_TIMEOUT):g} s a cell and "
              f"{course.option('budget', BUDGET):g} s a submission.", flush=True)

    if cluster:
        from autograder import cluster as dask_cluster  # Dask is imported for --cluster alone
        results = dask_cluster.grade_all(course, todo, cluster, meanwhile=meanwhile, grade=grade)
    else:
        results = autograde_all(course, todo, jobs, grade=grade, meanwhile=meanwhile)
    failed, graded = set(), []
    try:
        for done, ((student, week), result) in enumerate(results, 1):
            course.log(result)
            if result["success"]:
                status = "{:6.1f} / {:<6.1f}".format(*result.get("score") or score(course, week, student))
            else:
                failed.add((student, week))
                note_failure(course, student, week, result)
                status = f"GRADER FAILED: see {course.workdir / 'nbgrader.log'}"
            graded.append((student, week))
            print(f"[{'#' * round(20 * done / len(todo)):<20}] {done}/{len(todo)} {printable(student):<20} {week:<24} "
                  f"{status} ({result['seconds']:.1f} s)", flush=True)
    except KeyboardInterrupt:
        results.close()  # its workers stopped, before the summary
        print(f"\nStopped (Ctrl-C) after {len(graded)} of {len(todo)} submission(s); their grades are kept. "
              f"Grade again to finish: every submission is graded afresh.")
        print(summary(course, graded, failed))
        return 130
    print()
    print(summary(course, todo, failed))
    return 1 if failed else 0


def note_failure(course: Course, student: str, week: str, result: dict) -> None:
    """Say in the student's notes (and so in the CSV) that the grader, not the work, failed."""
    lines = str(result.get("error") or "").strip().splitlines() or ["see nbgrader.log"]
    course.notes.add(student, week, f"the grader failed on this submission ({lines[-1][:200]}): grade it again, or by hand")


# --- before grading ------------------------------------------------------------------------------

def prepare(course: Course, todo) -> None:
    """Fix names in each submission folder and start its notes; flag identical submissions."""
    from autograder.collect import normalise_folder

    fingerprints: dict[tuple[str, str], list[str]] = {}
    blanks = {week: honesty.blank_answers(course.dir / RELEASE / week) for week in {w for _, w in todo}}
    for student, week in todo:
        folder = course.submitted(student, week)
        notes = course.notes.files(student, week, normalise_folder(folder, course.graded(week)))
        course.notes.start(student, week, notes + honesty.notes_for_folder(folder, course.graded(week)))
        fingerprint = honesty.answers_fingerprint(folder, blanks[week])
        if fingerprint:
            fingerprints.setdefault((week, fingerprint), []).append(student)
    for (week, _), students in fingerprints.items():
        for student in students if len(students) > 1 else []:
            others = ", ".join(s for s in students if s != student)
            course.notes.add(student, week, f"same answers, character for character, as: {others}")


def ensure_in_gradebook(course: Course, todo) -> None:
    """Autograding needs each week's source cells in the gradebook (a fresh workdir has none)
    and each student in it: two workers adding one new student at once break SQLite's
    unique id, so the students are added here, before the workers start."""
    with course.gradebook() as gradebook:
        known = {a.name for a in gradebook.assignments}
        for student in sorted({s for s, _ in todo}):
            gradebook.update_or_create_student(student)
    for week in sorted({w for _, w in todo} - known):
        print(f"{week} is not in the gradebook yet: releasing it first.")
        release_week(course, week)


# --- grading, in worker processes ------------------------------------------------------------------

def autograde_all(course: Course, todo, jobs: int, grade=None, meanwhile=None):
    """Yield ((student, week), result) as each submission finishes, in worker processes.

    ``meanwhile()`` runs while the first workers start (they take seconds to load), before
    any submission is handed out.

    A worker that dies (a crash, the memory cap) takes down the pool and every submission in
    it. Those it had not begun are graded again as before; those it had begun are graded
    again one at a time, and one that kills its worker again is a grader failure for that
    student alone: the batch goes on. ``grade`` stands in for :func:`autograde` in tests.
    """
    # Each worker is a fresh Python ("spawn"): no TensorFlow or kernel state is forked. Its
    # test cells (a scikit-learn fit, say) get one BLAS thread, as the kernels do: with one
    # job per core, more threads only fight over the cores (a fit measured 8x slower).
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    began = Path(tempfile.mkdtemp(prefix="nnf-workers-"))  # each worker's current submission, by pid
    remaining, alone = list(todo), []
    try:
        while remaining:
            broken = []
            for key, result in _grade_in_pool(course, remaining, jobs, began, grade, meanwhile):
                if result is None:
                    broken.append(key)
                else:
                    yield key, result
            started = {tuple(json.loads(p.read_text())) for p in began.iterdir() if not p.name.startswith(".")}
            unstarted = [key for key in broken if key not in started]
            alone += [key for key in broken if key in started]
            # A pool that broke before any submission began (a worker that cannot even start)
            # would break again: grade those one at a time too, rather than round and round.
            remaining = unstarted if len(unstarted) < len(remaining) else []
            alone += unstarted if not remaining else []
            meanwhile = None
        for key in alone:
            for _, result in _grade_in_pool(course, [key], 1, began, grade):
                yield key, result or {"success": False, "seconds": 0.0,
                                      "error": f"the grader's worker process died while grading {key[0]}/{key[1]} "
                                               f"(a crash, or more than {GRADER_MEMORY / 2**30:.0f} GiB of memory)\n"}
    finally:
        shutil.rmtree(began, ignore_errors=True)


def _grade_in_pool(course: Course, keys, jobs: int, began, grade=None, meanwhile=None):
    """(key, result) for each key; result None when its worker process died.

    Workers take the submissions in order, so each of the first len(keys) - jobs can have
    its worker launch a kernel for the next one while it is graded."""
    arguments = {key: (grade or autograde, course.dir, course.workdir,
                       {**course.options, "prestart": i < len(keys) - jobs}, *key) for i, key in enumerate(keys)}
    workers = min(jobs, len(keys))
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_start,
                             initargs=(began, warm_up(course, keys))) as pool:
        if meanwhile is not None:
            for _ in range(workers):  # a pool starts its workers as work arrives: start them now
                pool.submit(int)
            meanwhile()
        futures = {pool.submit(_in_worker, *args): key for key, args in arguments.items()}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except BrokenProcessPool:
                yield futures[future], None
            except Exception as error:  # noqa: BLE001 - an error in the worker is a grader failure
                yield futures[future], {"success": False, "error": f"worker failed: {error!r}\n", "seconds": 0.0}


_began: Path | None = None  # in a worker: the folder where it says which submission it is on


def sandboxed(course: Course) -> bool:
    return course.option("sandbox", True)


def warm_up(course: Course, keys) -> dict:
    """What a worker loads before its first submission: a kernel with the course's limits
    (when sandboxed) and the modules the weeks' test cells import. (Read from the
    configuration and the instructor's notebooks: the main process need not load nbgrader's
    converters for this.)"""
    from autograder.sandbox import Limits

    limits = Limits(**{name: course.options[name] for name in ("memory", "cpu", "disk", "tasks") if name in course.options})
    weeks = {w for _, w in keys}
    return {"limits": limits if sandboxed(course) else None, "timeout": course.option("timeout", CELL_TIMEOUT),
            "fork": course.option("fork", True),
            "imports": sorted(set().union(*(modules_tests_import(course, week) for week in weeks))),
            "kernel_imports": sorted(set().union(*(modules_students_import(course, week) for week in weeks)))}


def modules_students_import(course: Course, week: str) -> set[str]:
    """The modules the week's graded notebooks import in the student's kernel (their cells
    that are not tests), for the fork server to load once."""
    from autograder.trusted import imported_modules

    return {module for cell in _cells(course, week, course.graded(week))
            if cell.cell_type == "code" and not _is_test(cell) for module in imported_modules(cell.source)}


def _cells(course: Course, week: str, names=None) -> list:
    """The code and text cells of the week's instructor notebooks (of those ``names``, if given)."""
    import nbformat

    return [cell for path in sorted((course.dir / SOURCE / week).glob("*.ipynb")) if names is None or path.name in names
            for cell in nbformat.read(path, as_version=4).cells]


def _is_test(cell) -> bool:
    flags = cell.get("metadata", {}).get("nbgrader", {})
    return bool(flags.get("grade") and not flags.get("solution"))


def modules_tests_import(course: Course, week: str) -> set[str]:
    """The modules the week's autograded test cells and setup cells import (a hint: a module
    that is missing or fails to load here fails where the test imports it)."""
    from autograder.trusted import imported_modules

    modules = set()
    for cell in _cells(course, week):
        flags = cell.get("metadata", {}).get("nbgrader", {})
        setup = flags.get("locked") and str(flags.get("grade_id", "")).startswith("setup")
        if cell.cell_type == "code" and (_is_test(cell) or setup):
            modules |= imported_modules(cell.source)
    return modules


def _worker_start(began: Path, warm: dict) -> None:
    """A worker process of the pool: it says in ``began`` which submission it is on."""
    global _began
    _began = began
    warm_worker(warm)
    atexit.register(_leave)  # registered last, so it runs first


def warm_worker(warm: dict) -> None:
    """Set this process's memory cap, then load once what every submission needs (``warm_up``'s
    dict): a fork server with the kernels' imports, nbgrader, the tests' imports, a spare kernel."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = GRADER_MEMORY if hard == resource.RLIM_INFINITY else min(GRADER_MEMORY, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))  # kernels set their own below `hard`
    quiet_environment()
    from autograder import kernel, trusted
    if warm["limits"] is not None and warm["fork"]:
        kernel.start_forking(warm["kernel_imports"])  # it loads them while this worker loads the rest
    import nbgrader.converters  # noqa: F401 - loaded once per worker, not once per submission

    import autograder.preprocessors  # noqa: F401
    trusted.preload(warm["imports"])
    if warm["limits"] is not None:
        with contextlib.suppress(Exception):  # no spare: the first submission starts its own kernel
            kernel.launch_spare(warm["limits"], warm["timeout"])
    trusted.GraderState.remember()


def _leave() -> None:
    """A worker's exit, without the second it takes Python to tear down a loaded TensorFlow
    (the command waits for its workers to end). Its results are sent by then."""
    from autograder import kernel
    kernel.close_spare()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _in_worker(grade, course_dir, workdir, options, student, week) -> dict:
    """Say which submission this worker begins (a file per worker), then grade it."""
    draft = _began / f".{os.getpid()}"  # written whole, then renamed: a worker killed meanwhile leaves no half file
    draft.write_text(json.dumps([student, week]))
    os.replace(draft, _began / str(os.getpid()))
    return grade(course_dir, workdir, options, student, week)


def autograde(course_dir: Path, workdir: Path, options: dict, student: str, week: str) -> dict:
    """Grade one submission with nbgrader (in a worker process): steps 5 above."""
    from autograder.trusted import GraderState

    quiet_environment()
    start = time.perf_counter()
    GraderState.restore()  # nothing a test cell of the submission before changed is seen by this one
    course = _course(course_dir, workdir, options)
    if any((course.submitted(student, week) / name).is_file() for name in course.graded(week)):
        result = course.api.autograde(week, student, force=True, create=True)
    else:
        result = _zero_without_notebooks(course, student, week)
    if result["success"]:
        result["score"] = score(course, week, student)  # for the progress line: the gradebook is warm here
    return {**result, "seconds": time.perf_counter() - start}


_courses: dict = {}  # in a worker: one Course (and nbgrader API) per course, workdir and options


def _course(course_dir: Path, workdir: Path, options: dict) -> Course:
    key = (str(course_dir), str(workdir), tuple(sorted((k, v) for k, v in options.items() if k != "prestart")))
    if key not in _courses:
        _courses[key] = Course(course_dir, workdir, options)
    course = _courses[key]
    course.config.SafeExecute.prestart = bool(options.get("prestart"))
    return course


def _zero_without_notebooks(course: Course, student: str, week: str) -> dict:
    """Nothing gradable was submitted: record zeros, as nbgrader does for one missing notebook
    (nbgrader itself refuses a submission without any notebook)."""
    shutil.rmtree(course.workdir / "autograded" / student / week, ignore_errors=True)
    with course.gradebook() as gradebook:
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(week, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score, grade.needs_manual_grade = 0, False
        gradebook.db.commit()
    return {"success": True, "log": f"[INFO] {student}/{week}: no notebook to grade; recorded zeros\n"}


# --- after grading -------------------------------------------------------------------------------

def score(course: Course, week: str, student: str) -> tuple[float, float]:
    with course.gradebook() as gradebook:
        submission = gradebook.find_submission(week, student)
        return submission.score, submission.max_score


def summary(course: Course, todo, failed) -> str:
    """The table printed at the end: score, manual grading left, and what happened, per submission."""
    rows = [("student", "week", "score", "max", "manual", "what happened")]
    with course.gradebook() as gradebook:
        for student, week in todo:
            if (student, week) in failed:
                rows.append((student, week, "-", "-", "-", f"grader failed: {course.notes.read(student, week)[-1]}"))
                continue
            s = gradebook.find_submission(week, student)
            rows.append((student, week, f"{s.score:.1f}", f"{s.max_score:.1f}",
                         "to do" if s.needs_manual_grade else "-", feedback_line(course, s, student, week)))
    rows = [tuple(map(printable, row)) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def printable(text: str) -> str:
    """Student text made safe for a terminal: no escape sequences or other control characters."""
    return "".join(c if c.isprintable() else "\ufffd" for c in str(text))


def feedback_line(course: Course, submission, student: str, week: str, width: int = 90) -> str:
    """One line on what happened: the grader's notes, else which tests lost points."""
    notes = course.notes.read(student, week)
    if not notes:
        lost = [g.name for nb in submission.notebooks for g in nb.grades
                if g.cell_type == "code" and g.max_score and (g.score or 0) < g.max_score]
        notes = [f"lost points in: {', '.join(lost)}"] if lost else ["all automatic tests passed"]
    line = notes[0] + (f" (+{len(notes) - 1} more notes)" if len(notes) > 1 else "")
    return line if len(line) <= width else line[:width - 3] + "..."
