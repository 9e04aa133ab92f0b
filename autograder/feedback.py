"""``python -m autograder feedback``: an HTML page per graded notebook, for its student.

nbgrader's GenerateFeedback makes the page from the autograded notebook, with the steps
``config`` gives it: the hidden tests' code taken out (``preprocessors.HideHiddenTests``,
``markers``) and the student's outputs and markdown made inert (``inert``). A notebook that
was never graded (missing, unreadable) gets a short page of its own that says why, from the
submission's notes (``notes``). Each page then opens with the named mistakes its grading
found (``mistakes``): per exercise, the hint, and the lesson section that explains it.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

from autograder import mistakes, results
from autograder.config import REPO_ROOT, SOURCE
from autograder.course import Course


def write_all(course: Course, weeks: list[str], students=()) -> int:
    """Feedback for every graded submission of ``weeks``; the number that failed."""
    failures = 0
    for student, week in course.submissions(weeks, students):
        problem = write(course, student, week)
        if problem:
            failures += 1
            print(f"feedback {student} {week}: {problem}", file=sys.stderr)
        else:
            print(f"feedback {student} {week}: {course.workdir / 'feedback' / student / week}")
    return failures


def write(course: Course, student: str, week: str) -> str | None:
    """Write one submission's feedback; what went wrong, or None."""
    if not _graded(course, student, week):
        return "not graded yet; run `grade` first"
    if list((course.workdir / "autograded" / student / week).glob("*.ipynb")):
        result = course.api.generate_feedback(week, student, force=True)
        course.log(result)
        if not result["success"]:
            return f"nbgrader failed; see {course.workdir / 'nbgrader.log'}"
    folder = course.workdir / "feedback" / student / week
    _for_missing(course, student, week, folder)
    _add_mistakes(course, student, week, folder)
    return None


def _graded(course: Course, student: str, week: str) -> bool:
    with course.gradebook() as gradebook:
        if week not in {a.name for a in gradebook.assignments}:
            return False
        return student in {s.student_id for s in gradebook.find_assignment(week).submissions}


def _for_missing(course: Course, student: str, week: str, folder: Path) -> None:
    """nbgrader writes nothing for a notebook that was missing or unreadable: say why instead."""
    for name in course.graded(week):
        page = folder / name.replace(".ipynb", ".html")
        if page.exists() or (course.workdir / "autograded" / student / week / name).exists():
            continue
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in course.notes.read(student, week)) or "<li>not submitted</li>"
        folder.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<!doctype html><meta charset='utf-8'><title>{week}: {name}</title>"
                        f"<h1>{html.escape(week)}: {html.escape(name)}</h1><p>This notebook was not graded; "
                        f"it scored 0.</p><ul>{notes}</ul>", encoding="utf-8")


def _objectives_csv(course: Course) -> Path:
    """The course's data/objectives.csv, or this repository's when the course has none."""
    own = course.dir / "data" / "objectives.csv"
    return own if own.exists() else REPO_ROOT / "data" / "objectives.csv"


def _add_mistakes(course: Course, student: str, week: str, folder: Path) -> None:
    """Open each notebook's page with the mistakes its tests named and where the lesson explains them."""
    kept = mistakes.Mistakes(course.notes.folder).read(student, week)
    sections = mistakes.lesson_sections(_objectives_csv(course), course.dir / SOURCE / week / "lesson.ipynb")
    for notebook, failed in kept.items():
        page = folder / f"{notebook}.html"
        source = course.dir / SOURCE / week / f"{notebook}.ipynb"
        if not page.exists() or not source.exists() or not any(failed.values()):
            continue
        exercise_of = results.exercises(source)
        items = []
        for test, keys in failed.items():
            exercise = exercise_of.get(test, test)
            same = [test, exercise, *(t for t, e in exercise_of.items() if e == exercise)]
            where = next((sections[t] for t in same if t in sections), "")
            for key, hint in keys.items():
                read = f" <em>Read again: lesson.ipynb, &ldquo;{html.escape(where)}&rdquo;.</em>" if where else ""
                items.append(f"<li><code>{html.escape(mistakes.mistake_id(exercise, key))}</code>: "
                             f"{html.escape(hint)}.{read}</li>")
        block = ("<section id='named-mistakes' style='border:1px solid #c60;padding:0.5em 1em;margin:1em'>"
                 "<h2>Mistakes the tests recognised</h2><ul>" + "".join(dict.fromkeys(items)) + "</ul></section>")
        text = page.read_text(encoding="utf-8")
        at = text.find(">", text.find("<body")) + 1 if "<body" in text else 0
        page.write_text(text[:at] + block + text[at:], encoding="utf-8")
