"""python -m autograder: the course's commands, thin wrappers over nbgrader.

    release   [WEEK ...]                       regenerate notebooks/ from solutions/, check for leaks
    collect   WEEK SOURCE                      LMS zip or folder -> <workdir>/submitted/<student>/WEEK/
    grade     [WEEK ...] [--student ID]        autograde submissions, sandboxed, several at once
    feedback  [WEEK ...] [--student ID]        HTML per student: hidden tests' results, never their code
    export    [WEEK ...] [--to grades.csv]     CSV: per-exercise scores, totals and grader notes
    report    [WEEK ...] [--png report.png]    per-exercise statistics, as a table and a plot
    validate  NOTEBOOK                         a student's self-check of the visible tests

Run from anywhere; ``--course-dir`` defaults to this repository and ``--workdir`` to
``<course-dir>/.grading``. Exit status: 0 on success, 1 when a command (or nbgrader) failed,
and for ``validate`` 1 when a visible test fails; a low grade is not a failure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from functools import cached_property
from multiprocessing import get_context
from pathlib import Path

from autograder import release
from autograder.config import CELL_TIMEOUT, RELEASE, REPO_ROOT, SOURCE, course_config, default_workdir
from autograder.kernel import BUDGET


class Course:
    """One course directory and its grading working directory, with nbgrader's API on top."""

    def __init__(self, course_dir: Path, workdir: Path | None = None, options: dict | None = None):
        self.dir = Path(course_dir).resolve()
        self.workdir = Path(workdir).resolve() if workdir else default_workdir(self.dir)
        self.options = options or {}
        self.config = course_config(self.dir, self.workdir)
        for name, value in self.options.items():  # e.g. {"timeout": 10, "sandbox": False}
            setattr(self.config.SafeExecute, name, value)

    @cached_property
    def api(self):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        return NbGraderAPI(CourseDirectory(config=self.config), config=self.config)

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(self.config.CourseDirectory.db_url, self.config.CourseDirectory.course_id)

    def weeks(self, requested=()) -> list[str]:
        known = release.weeks(self.dir / SOURCE)
        unknown = sorted(set(requested) - set(known))
        if unknown:
            raise SystemExit(f"error: unknown week(s) {', '.join(unknown)}; the course has: {', '.join(known)}")
        return list(requested) or known

    def released(self, week: str) -> list[str]:
        return sorted(p.name for p in (self.dir / RELEASE / week).glob("*.ipynb"))

    def graded(self, week: str) -> list[str]:
        """The released notebooks of a week that carry graded cells (usually homework.ipynb)."""
        import nbformat

        def has_grades(path: Path) -> bool:
            return any(c.get("metadata", {}).get("nbgrader", {}).get("grade")
                       for c in nbformat.read(path, as_version=4).cells)
        return [name for name in self.released(week) if has_grades(self.dir / RELEASE / week / name)]

    def submissions(self, weeks, students=()) -> list[tuple[str, str]]:
        """(student, week) pairs that have a folder <workdir>/submitted/<student>/<week>/."""
        folders = sorted((self.workdir / "submitted").glob("*/*"))
        return [(f.parent.name, f.name) for f in folders
                if f.is_dir() and f.name in weeks and (not students or f.parent.name in students)]

    def notes_file(self, student: str, week: str) -> Path:
        return self.workdir / "notes" / student / f"{week}.json"

    def file_notes(self, student: str, week: str, new: list[str], reset: bool = False) -> list[str]:
        """Notes about a submission's files, kept from collection on: a file renamed when it was
        collected is still reported when it is graded again."""
        path = self.workdir / "notes" / student / f"{week}.files.json"
        earlier = [] if reset or not path.exists() else json.loads(path.read_text())
        notes = earlier + [n for n in new if n not in earlier]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(notes, indent=1))
        return notes

    def add_note(self, student: str, week: str, note: str) -> None:
        path = self.notes_file(student, week)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.notes(student, week) + [note], indent=1))

    def notes(self, student: str, week: str) -> list[str]:
        path = self.notes_file(student, week)
        return json.loads(path.read_text()) if path.exists() else []

    def log(self, result: dict) -> None:
        with open(self.workdir / "nbgrader.log", "a", encoding="utf-8") as fh:
            fh.write(result.get("log", "") + result.get("error", ""))


# --- release and collect -------------------------------------------------------------------------

def cmd_release(course: Course, args) -> int:
    failed = [week for week in course.weeks(args.weeks) if not release_week(course, week)]
    return 1 if failed else 0


def release_week(course: Course, week: str) -> bool:
    """Generate <release>/<week>/ with nbgrader and check it for leaks; True on success."""
    result = course.api.generate_assignment(week, force=True, create=True)
    course.log(result)
    if not result["success"]:
        print(f"release {week}: nbgrader failed\n{result.get('error', '')}", file=sys.stderr)
        return False
    released = course.dir / RELEASE / week
    leaks = release.find_leaks(course.dir / SOURCE / week, released)
    if leaks:
        print(f"release {week}: LEAK CHECK FAILED", *leaks, sep="\n  ", file=sys.stderr)
        return False
    print(f"release {week}: {RELEASE}/{week}/ regenerated ({', '.join(course.released(week))}); "
          f"no solution or hidden test leaked")
    return True


def cmd_collect(course: Course, args) -> int:
    from autograder.collect import collect

    (week,) = course.weeks([args.week])
    source = Path(args.source).expanduser().resolve()
    if not source.exists():
        print(f"error: {source} does not exist", file=sys.stderr)
        return 1
    collected = collect(source, course.workdir / "submitted", week, course.released(week))
    for item in collected:
        course.file_notes(item.student, week, item.notes, reset=True)
        print(f"{item.student:<24} {', '.join(item.files) or '(no files)'}")
        for note in item.notes:
            print(f"{'':<24}   note: {note}")
    print(f"\n{len(collected)} students collected into {course.workdir / 'submitted'}/<student>/{week}/")
    return 0


# --- grade ---------------------------------------------------------------------------------------

def cmd_grade(course: Course, args) -> int:
    from autograder.sandbox import unavailable_reason

    weeks = course.weeks(args.weeks)
    todo = course.submissions(weeks, args.student)
    if not todo:
        print(f"Nothing to grade: no submissions in {course.workdir / 'submitted'}/<student>/<week>/ "
              f"for {', '.join(weeks)}.")
        return 0
    if course.config.SafeExecute.sandbox and unavailable_reason():
        print(f"error: cannot sandbox student code: {unavailable_reason()}.\n"
              f"Fix that, or pass --no-sandbox (only where student code may read everything you can).",
              file=sys.stderr)
        return 1
    _ensure_in_gradebook(course, todo)
    _prepare(course, todo)
    jobs = max(1, min(args.jobs or os.cpu_count() or 1, len(todo)))
    print(f"Grading {len(todo)} submission(s), {jobs} at a time, "
          f"{'sandboxed' if course.config.SafeExecute.sandbox else 'WITHOUT the sandbox'}; "
          f"at most {course.config.SafeExecute.timeout:g} s a cell and "
          f"{course.config.SafeExecute.budget:g} s a submission.")
    failed = set()
    for done, ((student, week), result) in enumerate(_autograde_all(course, todo, jobs), 1):
        course.log(result)
        bar = "#" * round(20 * done / len(todo))
        if result["success"]:
            status = "{:6.1f} / {:<6.1f}".format(*_score(course, week, student))
        else:
            failed.add((student, week))
            note_failure(course, student, week, result)
            status = f"GRADER FAILED: see {course.workdir / 'nbgrader.log'}"
        print(f"[{bar:<20}] {done}/{len(todo)} {printable(student):<20} {week:<24} {status} ({result['seconds']:.1f} s)",
              flush=True)
    print()
    print(_summary(course, todo, failed))
    return 1 if failed else 0


def note_failure(course: Course, student: str, week: str, result: dict) -> None:
    """Say in the student's notes (and so in the CSV) that the grader, not the work, failed."""
    lines = str(result.get("error") or "").strip().splitlines() or ["see nbgrader.log"]
    course.add_note(student, week, f"the grader failed on this submission ({lines[-1][:200]}): grade it again, or by hand")


def _prepare(course: Course, todo) -> None:
    """Fix names in each submission folder and start its notes; flag identical submissions."""
    from autograder.collect import normalise_folder

    fingerprints: dict[str, list[str]] = {}
    blanks = {week: _blank_answers(course.dir / RELEASE / week) for week in {w for _, w in todo}}
    for student, week in todo:
        folder = course.workdir / "submitted" / student / week
        notes = course.file_notes(student, week, normalise_folder(folder, course.graded(week)))
        notes += _copied_references(folder, course.graded(week))
        course.notes_file(student, week).write_text(json.dumps(notes, indent=1))
        fingerprint = _answers_fingerprint(folder, blanks[week])
        if fingerprint:
            fingerprints.setdefault(f"{week}/{fingerprint}", []).append(student)
    for key, students in fingerprints.items():
        for student in students if len(students) > 1 else []:
            others = ", ".join(s for s in students if s != student)
            course.add_note(student, key.split("/")[0], f"same answers, character for character, as: {others}")


def _copied_references(folder: Path, notebooks: list[str]) -> list[str]:
    """Notes for the instructor on functions that are nblib's reference answers, copied."""
    import nbformat

    from autograder import honesty

    sources = []
    for name in notebooks:
        try:
            sources += [c.source for c in nbformat.read(folder / name, as_version=4).cells if c.cell_type == "code"]
        except Exception:  # noqa: BLE001 - missing or unreadable: noted already
            continue
    return honesty.notes(sources)


def _blank_answers(released: Path) -> dict[str, set[str]]:
    """Every cell text of each released notebook of a week, by file name."""
    import nbformat

    return {p.name: {c.source for c in nbformat.read(p, as_version=4).cells} for p in released.glob("*.ipynb")}


def _answers_fingerprint(folder: Path, blanks: dict[str, set[str]]) -> str | None:
    """A hash of the whole notebook's text, or None when the answers are still the blanks."""
    import nbformat

    digest, changed = hashlib.sha256(), False
    for path in sorted(folder.glob("*.ipynb")):
        try:
            cells = nbformat.read(path, as_version=4).cells
        except Exception:  # noqa: BLE001 - unreadable files are the normaliser's business
            continue
        blank = blanks.get(path.name, set())
        for cell in cells:
            digest.update(cell.source.encode() + b"\0")
            changed |= cell.get("metadata", {}).get("nbgrader", {}).get("solution", False) and cell.source not in blank
    return digest.hexdigest() if changed else None


GRADER_MEMORY = 6 * 2**30  # bytes of address space for one grading worker (TensorFlow takes about 1.3)


def _autograde_all(course: Course, todo, jobs: int, grade=None):
    """Yield ((student, week), result) as each submission finishes, in worker processes.

    A worker that dies (a crash, the memory cap) takes down the pool and every submission in
    it. Those it had not begun are graded again as before; those it had begun are graded
    again one at a time, and one that kills its worker again is a grader failure for that
    student alone: the batch goes on.
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
            for key, result in _grade_in_pool(course, remaining, jobs, began, grade):
                if result is None:
                    broken.append(key)
                else:
                    yield key, result
            started = {tuple(json.loads(p.read_text())) for p in began.iterdir() if not p.name.startswith(".")}
            remaining = [key for key in broken if key not in started]
            alone += [key for key in broken if key in started]
        for key in alone:
            for _, result in _grade_in_pool(course, [key], 1, began, grade):
                yield key, result or {"success": False, "seconds": 0.0,
                                      "error": f"the grader's worker process died while grading {key[0]}/{key[1]} "
                                               f"(a crash, or more than {GRADER_MEMORY / 2**30:.0f} GiB of memory)\n"}
    finally:
        shutil.rmtree(began, ignore_errors=True)


def _grade_in_pool(course: Course, keys, jobs: int, began, grade=None):
    """(key, result) for each key; result None when its worker process died."""
    arguments = {key: (grade or _autograde, course.dir, course.workdir, course.options, *key) for key in keys}
    with ProcessPoolExecutor(min(jobs, len(keys)), mp_context=get_context("spawn"), initializer=_worker_start,
                             initargs=(began,)) as pool:
        futures = {pool.submit(_in_worker, *args): key for key, args in arguments.items()}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except BrokenProcessPool:
                yield futures[future], None
            except Exception as error:  # noqa: BLE001 - an error in the worker is a grader failure
                yield futures[future], {"success": False, "error": f"worker failed: {error!r}\n", "seconds": 0.0}


_began: Path | None = None  # in a worker: the folder where it says which submission it is on


def _worker_start(began: Path) -> None:
    global _began
    _began = began
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = GRADER_MEMORY if hard == resource.RLIM_INFINITY else min(GRADER_MEMORY, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))  # kernels set their own below `hard`


def _in_worker(grade, course_dir, workdir, options, student, week) -> dict:
    """Say which submission this worker begins (a file per worker), then grade it."""
    draft = _began / f".{os.getpid()}"  # written whole, then renamed: a worker killed meanwhile leaves no half file
    draft.write_text(json.dumps([student, week]))
    os.replace(draft, _began / str(os.getpid()))
    return grade(course_dir, workdir, options, student, week)


def _autograde(course_dir: Path, workdir: Path, options: dict, student: str, week: str) -> dict:
    """Grade one submission with nbgrader (in a worker process)."""
    _quiet_environment()
    start = time.perf_counter()
    course = Course(course_dir, workdir, options)
    folder = course.workdir / "submitted" / student / week
    if any((folder / name).is_file() for name in course.graded(week)):
        result = course.api.autograde(week, student, force=True, create=True)
    else:
        result = _zero_without_notebooks(course, student, week)
    return {**result, "seconds": time.perf_counter() - start}


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


def _ensure_in_gradebook(course: Course, todo) -> None:
    """Autograding needs each week's source cells in the gradebook (a fresh workdir has none)
    and each student in it: two workers adding one new student at once break SQLite's
    unique id, so the students are added here, before the workers start."""
    with course.gradebook() as gradebook:
        known = {a.name for a in gradebook.assignments}
    for week in sorted({w for _, w in todo}):
        if week not in known:
            print(f"{week} is not in the gradebook yet: releasing it first.")
            release_week(course, week)
    with course.gradebook() as gradebook:
        for student in sorted({s for s, _ in todo}):
            gradebook.update_or_create_student(student)


def _score(course: Course, week: str, student: str) -> tuple[float, float]:
    with course.gradebook() as gradebook:
        submission = gradebook.find_submission(week, student)
        return submission.score, submission.max_score


def _summary(course: Course, todo, failed) -> str:
    rows = [("student", "week", "score", "max", "manual", "what happened")]
    with course.gradebook() as gradebook:
        for student, week in todo:
            if (student, week) in failed:
                rows.append((student, week, "-", "-", "-", f"grader failed: {course.notes(student, week)[-1]}"))
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
    notes = course.notes(student, week)
    if not notes:
        lost = [g.name for nb in submission.notebooks for g in nb.grades
                if g.cell_type == "code" and g.max_score and (g.score or 0) < g.max_score]
        notes = [f"lost points in: {', '.join(lost)}"] if lost else ["all automatic tests passed"]
    line = notes[0] + (f" (+{len(notes) - 1} more notes)" if len(notes) > 1 else "")
    return line if len(line) <= width else line[:width - 3] + "..."


# --- feedback, export, report ------------------------------------------------------------------

def cmd_feedback(course: Course, args) -> int:
    weeks = course.weeks(args.weeks)
    failures = 0
    for student, week in course.submissions(weeks, args.student):
        folder = course.workdir / "feedback" / student / week
        with course.gradebook() as gradebook:
            graded = student in {s.student_id for s in gradebook.find_assignment(week).submissions} \
                if week in {a.name for a in gradebook.assignments} else False
        if not graded:
            print(f"feedback {student} {week}: not graded yet; run `grade` first", file=sys.stderr)
            failures += 1
            continue
        if list((course.workdir / "autograded" / student / week).glob("*.ipynb")):
            result = course.api.generate_feedback(week, student, force=True)
            course.log(result)
        else:
            result = {"success": True}
        if not result["success"]:
            failures += 1
            print(f"feedback {student} {week}: nbgrader failed; see {course.workdir / 'nbgrader.log'}", file=sys.stderr)
            continue
        _feedback_for_missing(course, student, week, folder)
        print(f"feedback {student} {week}: {folder}")
    return 1 if failures else 0


def _feedback_for_missing(course: Course, student: str, week: str, folder: Path) -> None:
    """nbgrader writes nothing for a notebook that was missing or unreadable: say why instead."""
    import html

    for name in course.graded(week):
        page = folder / name.replace(".ipynb", ".html")
        if page.exists() or (course.workdir / "autograded" / student / week / name).exists():
            continue
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in course.notes(student, week)) or "<li>not submitted</li>"
        folder.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<!doctype html><meta charset='utf-8'><title>{week}: {name}</title>"
                        f"<h1>{html.escape(week)}: {html.escape(name)}</h1><p>This notebook was not graded; "
                        f"it scored 0.</p><ul>{notes}</ul>", encoding="utf-8")


def _rows(course: Course, weeks):
    from autograder import results

    return results.collect_rows(course.config.CourseDirectory.db_url, course.config.CourseDirectory.course_id,
                                course.dir / SOURCE, weeks, course.workdir / "notes")


def cmd_export(course: Course, args) -> int:
    from autograder import results

    rows = _rows(course, course.weeks(args.weeks))
    destination = Path(args.to).resolve()
    results.write_csv(rows, destination)
    print(f"{len(rows)} grades exported to {destination}")
    return 0


def cmd_report(course: Course, args) -> int:
    from autograder import results

    rows = _rows(course, course.weeks(args.weeks))
    if not rows:
        print("Nothing graded yet.")
        return 0
    stats = results.statistics(rows)
    print(results.format_table(stats))
    destination = Path(args.png).resolve()
    results.plot(stats, destination)
    print(f"\nplot: {destination}")
    return 0


# --- validate (for students) ---------------------------------------------------------------------

def cmd_validate(course: Course, args) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbgrader.utils import compute_checksum, determine_grade, is_grade, is_locked, is_solution

    from autograder.preprocessors import StderrIsNotFailure

    path = Path(args.notebook).resolve()
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001
        print(f"FAIL  {path.name} cannot be read as a notebook: {error}")
        return 1
    print(f"Running {path.name} from the top, in a new kernel, as the grader will ...", flush=True)
    NotebookClient(nb, timeout=args.timeout, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    failed = passed = 0
    for cell in nb.cells:
        if not is_grade(cell) or is_solution(cell) or cell.cell_type != "code":
            continue
        name = cell.metadata.nbgrader.get("grade_id", "?")
        if is_locked(cell) and cell.metadata.nbgrader.get("checksum") not in (None, compute_checksum(cell)):
            print(f"  note  {name}: you changed this test cell; the grader uses the original")
        if cell.source.lstrip().lower().startswith("# hidden tests") and "BEGIN HIDDEN TESTS" not in cell.source:
            print(f"  ----  {name}: hidden tests, run when your work is graded")  # the course's convention
            continue
        StderrIsNotFailure().preprocess_cell(cell, {}, 0)  # the grader's rule: only an error fails
        score, max_score = determine_grade(cell)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if score is not None and score >= max_score and not errors:
            passed += 1
            print(f"  PASS  {name}")
        else:
            failed += 1
            message = f"{errors[0].ename}: {errors[0].evalue}" if errors else "stderr output"
            print(f"  FAIL  {name}: {message.splitlines()[0] if message else ''}")
    print(f"\n{passed} of {passed + failed} tests in this notebook pass." + (" Hidden tests run when your work is graded."
                                                                   if not failed else ""))
    return 1 if failed else 0


# --- command line ----------------------------------------------------------------------------------

EXAMPLES = """examples:
  python -m autograder release week01_perceptron
  python -m autograder collect week01_perceptron ~/Downloads/submissions.zip
  python -m autograder grade week01_perceptron            # everything in .grading/submitted/
  python -m autograder grade --student ada
  python -m autograder feedback week01_perceptron
  python -m autograder export --to grades.csv
  python -m autograder report week01_perceptron --png week01.png
  python -m autograder validate notebooks/week01_perceptron/homework.ipynb
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0],
                                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--course-dir", type=Path, default=REPO_ROOT, help="course directory (default: this repository)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="where submissions, grades and feedback go (default: <course-dir>/.grading or $NNF_GRADING_DIR)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def weeks_and_students(s):
        s.add_argument("weeks", nargs="*", metavar="WEEK", help="e.g. week01_perceptron (default: all weeks)")
        s.add_argument("--student", action="append", default=[], metavar="ID", help="only this student (repeatable)")

    r = sub.add_parser("release", help="regenerate notebooks/ from solutions/ and check for leaks")
    r.add_argument("weeks", nargs="*", metavar="WEEK", help="e.g. week01_perceptron (default: all)")
    r.set_defaults(run=cmd_release)

    c = sub.add_parser("collect", help="copy an LMS zip or a folder of submissions into submitted/")
    c.add_argument("week", metavar="WEEK")
    c.add_argument("source", metavar="ZIP_OR_FOLDER")
    c.set_defaults(run=cmd_collect)

    g = sub.add_parser("grade", help="autograde submitted work")
    weeks_and_students(g)
    g.add_argument("-j", "--jobs", type=int, default=0, help="submissions graded at once (default: one per core)")
    g.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help=f"seconds per cell (default: {CELL_TIMEOUT})")
    g.add_argument("--budget", type=float, default=BUDGET,
                   help=f"seconds for a whole submission, restarts included (default: {BUDGET})")
    g.add_argument("--no-sandbox", action="store_true", help="run student code without the Linux sandbox (unsafe)")
    g.set_defaults(run=cmd_grade)

    f = sub.add_parser("feedback", help="write HTML feedback for graded work")
    weeks_and_students(f)
    f.set_defaults(run=cmd_feedback)

    e = sub.add_parser("export", help="export grades, per exercise, to CSV")
    e.add_argument("weeks", nargs="*", metavar="WEEK", help="default: all weeks")
    e.add_argument("--to", default="grades.csv", help="CSV file to write (default: grades.csv)")
    e.set_defaults(run=cmd_export)

    rp = sub.add_parser("report", help="per-exercise statistics as a table and a PNG plot")
    rp.add_argument("weeks", nargs="*", metavar="WEEK", help="default: all weeks")
    rp.add_argument("--png", default="report.png", help="plot to write (default: report.png)")
    rp.set_defaults(run=cmd_report)

    v = sub.add_parser("validate", help="check your notebook like the grader: which visible tests pass")
    v.add_argument("notebook", metavar="NOTEBOOK")
    v.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help="seconds per cell")
    v.set_defaults(run=cmd_validate)
    return p


def _quiet_environment() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # student kernels inherit a quiet TensorFlow
    # nbgrader runs `alembic` and kernels by name: find this environment's, even when the
    # virtual environment was not activated (.venv/bin/python -m autograder ...).
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy session chatter from nbgrader's gradebook


def main(argv=None) -> int:
    _quiet_environment()
    args = parser().parse_args(argv)
    options = {}
    if args.command == "grade":
        options = {"timeout": args.timeout, "budget": args.budget, "sandbox": not args.no_sandbox}
    course = Course(args.course_dir, args.workdir, options)
    return args.run(course, args)
