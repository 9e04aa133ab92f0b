"""Grades per exercise out of nbgrader's gradebook: a CSV, a statistics table and a plot.

An *exercise* is a solution cell together with the test cells after it (``predict`` with
``predict_visible`` and ``predict_hidden``); a manually graded answer is its own exercise.
"""

from __future__ import annotations

import csv
import statistics as stats_
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.notes import Notes


def exercises(source_notebook: Path) -> dict[str, str]:
    """grade_id of every grade cell -> exercise name, in notebook order.

    A test cell belongs to the nearest preceding solution cell's grade_id; a manual answer
    cell is its own exercise; a grade cell before any solution cell belongs to itself.
    """
    mapping: dict[str, str] = {}
    current: str | None = None
    for cell in nbformat.read(source_notebook, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("solution"):
            current = gid
        if meta.get("grade"):
            mapping[gid] = gid if meta.get("solution") else current or gid
    return mapping


@dataclass
class Row:
    """One student's grades for one week."""

    student: str
    week: str
    exercises: dict[str, tuple[float | None, float]]  # exercise -> (score or None if ungraded, max)
    score: float
    max_score: float
    needs_manual_grade: bool
    notes: list[str]
    due: str | None = None  # the student's due date (extension included), ISO 8601 UTC, if the week has one
    hours_late: float | None = None  # hours after that due date, 0 when on time; None without a due date or time
    late_penalty: float = 0.0  # points nbgrader's late-submission plugin deducted (autograder.late)


def _sum_exercises(mapping: dict[str, str], grades: list) -> dict[str, tuple[float | None, float]]:
    """Sum a submitted notebook's grades per exercise, in notebook order (unknown cells last)."""
    order = {gid: i for i, gid in enumerate(mapping)}
    out: dict[str, tuple[float | None, float]] = {}
    for g in sorted(grades, key=lambda g: (order.get(g.name, len(order)), g.name)):
        name = mapping.get(g.name, g.name)
        score, max_score = out.get(name, (0.0, 0.0))
        score = None if score is None or g.needs_manual_grade else score + g.score
        out[name] = (score, max_score + g.max_score)
    return out


def collect_rows(db_url: str, course_id: str, source_dir: Path, weeks: list[str], notes_dir: Path) -> list[Row]:
    """Every submission in the gradebook for these weeks, sorted by (week, student).

    Exercises are in notebook order; an exercise's score is the sum over its grade cells,
    None while any of them still needs manual grading.
    """
    from nbgrader.api import Gradebook, MissingEntry

    mappings: dict[Path, dict[str, str]] = {}
    notes, rows = Notes(notes_dir), []
    with Gradebook(db_url, course_id) as gb:
        for week in sorted(set(weeks)):
            try:
                submissions = gb.find_assignment(week).submissions
            except MissingEntry:
                continue  # nothing collected for this week yet
            for sub in submissions:
                graded = sorted((nb for nb in sub.notebooks if nb.grades), key=lambda nb: nb.name)
                found: dict[str, tuple[float | None, float]] = {}
                for nb in graded:
                    source = Path(source_dir) / week / f"{nb.name}.ipynb"
                    if source not in mappings:
                        mappings[source] = exercises(source) if source.exists() else {}
                    prefix = f"{nb.name}:" if len(graded) > 1 else ""
                    for name, value in _sum_exercises(mappings[source], nb.grades).items():
                        found[prefix + name] = value
                due = sub.duedate
                rows.append(Row(sub.student.id, week, found, float(sub.score), float(sub.max_score),
                                bool(sub.needs_manual_grade), notes.read(sub.student.id, week),
                                due.isoformat() + "+00:00" if due else None,
                                round(sub.total_seconds_late / 3600, 4) if due and sub.timestamp else None,
                                float(sub.late_submission_penalty or 0.0)))
    return sorted(rows, key=lambda r: (r.week, r.student))


def _num(x: float) -> str:
    """A score as text, stable across runs: 4 decimals at most, no trailing zeros."""
    return format(round(x, 4), "g")


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """A text cell that no spreadsheet runs as a formula: a leading ``'`` where it would be one.

    OWASP's advice for CSV injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return gets a single quote in front, which Excel and LibreOffice show as text.
    Only text columns go through this; scores are written as numbers (``-0.5`` stays a number).

    >>> spreadsheet_text("=SUM(1+1)*cmd|' /C calc'!A0"), spreadsheet_text("ada")
    ("'=SUM(1+1)*cmd|' /C calc'!A0", 'ada')
    """
    return "'" + value if value.startswith(FORMULA_START) else value


def write_csv(rows: list[Row], path: Path) -> None:
    """One line per row: student, week, one column per exercise, total, max, needs_manual_grading, notes.

    When a week exported has a due date (``autograder.late``), two columns come before the notes:
    ``hours_late`` (empty without a submission time) and ``late_penalty`` (points deducted), and
    ``total`` is the score after that penalty. Without due dates the file is as it always was.

    Text that a student or a file name controls (student, week, headers, notes) cannot start
    a formula (:func:`spreadsheet_text`)."""
    late = any(r.due for r in rows)
    multi = len({r.week for r in rows}) > 1
    columns: dict[tuple[str, str], str] = {}  # (week, exercise) -> header, first-seen order
    for r in rows:
        for name, (_, max_score) in r.exercises.items():
            prefix = f"{r.week}:" if multi else ""
            columns.setdefault((r.week, name), f"{prefix}{name} (/{_num(max_score)})")
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow([spreadsheet_text(h) for h in
                      ["student", "week", *columns.values(), "total", "max", "needs_manual_grading",
                       *(["hours_late", "late_penalty"] if late else []), "notes"]])
        for r in rows:
            cells = []
            for week, name in columns:
                score = r.exercises.get(name, (None, 0.0))[0] if week == r.week else None
                cells.append("" if score is None else _num(score))
            lateness = [] if not late else [
                "" if r.hours_late is None else format(r.hours_late, ".1f"), _num(r.late_penalty)]
            total = max(0.0, r.score - r.late_penalty) if late else r.score
            out.writerow([spreadsheet_text(r.student), spreadsheet_text(r.week), *cells, _num(total),
                          _num(r.max_score), "yes" if r.needs_manual_grade else "no", *lateness,
                          spreadsheet_text(" | ".join(r.notes))])


@dataclass
class ExerciseStats:
    """How the class did on one exercise (over graded submissions only)."""

    week: str
    exercise: str
    max_score: float
    n: int  # graded submissions
    mean: float
    median: float
    full: float  # share with full marks, 0..1
    zero: float  # share with 0
    ungraded: int


def statistics(rows: list[Row]) -> list[ExerciseStats]:
    """Per (week, exercise) statistics, in first-seen (notebook) order; nan when nothing is graded."""
    found: dict[tuple[str, str], tuple[float, list[float | None]]] = {}
    for r in rows:
        for name, (score, max_score) in r.exercises.items():
            found.setdefault((r.week, name), (max_score, []))[1].append(score)
    result = []
    for (week, name), (max_score, scores) in found.items():
        graded = [s for s in scores if s is not None]
        n, nan = len(graded), float("nan")
        result.append(ExerciseStats(
            week, name, max_score, n,
            stats_.mean(graded) if n else nan, stats_.median(graded) if n else nan,
            sum(s >= max_score for s in graded) / n if n else nan,
            sum(s == 0 for s in graded) / n if n else nan,
            len(scores) - n))
    return result


def _label(s: ExerciseStats, multi: bool) -> str:
    return f"{s.week}:{s.exercise}" if multi else s.exercise


def _pct(part: float, whole: float) -> float:
    return 100 * part / whole if whole else float("nan")


def format_table(stats: list[ExerciseStats]) -> str:
    """An aligned plain-text table: header, then one line per exercise."""
    multi = len({s.week for s in stats}) > 1
    header = ["exercise", "max", "mean", "mean %", "median", "median %", "full %", "zero %", "n", "ungraded"]
    lines = [header] + [
        [_label(s, multi), _num(s.max_score), f"{s.mean:.2f}", f"{_pct(s.mean, s.max_score):.0f}",
         f"{s.median:.2f}", f"{_pct(s.median, s.max_score):.0f}", f"{100 * s.full:.0f}",
         f"{100 * s.zero:.0f}", str(s.n), str(s.ungraded)]
        for s in stats]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
        for line in lines)


def plot(stats: list[ExerciseStats], path: Path, mistakes: dict | None = None) -> None:
    """PNG at 100 dpi: mean per exercise as % of max (bar), median (marker), share of zeros (red bar);
    below it, with ``mistakes`` ({week: {exercise: Counter}}), the named mistakes most students made."""
    from matplotlib.figure import Figure

    multi = len({s.week for s in stats}) > 1
    y = list(range(len(stats)))
    common = _most_common(mistakes or {}, multi)
    fig = Figure(figsize=(8, 2 + 0.5 * len(stats) + (1 + 0.3 * len(common) if common else 0)), dpi=100,
                 layout="constrained")
    ax, ax_mistakes = (fig.subplots(2, 1, height_ratios=[len(stats) + 2, len(common) + 1]) if common
                       else (fig.add_subplot(), None))
    ax.barh(y, [_pct(s.mean, s.max_score) for s in stats], height=0.55, color="tab:blue", label="mean")
    ax.barh([i + 0.36 for i in y], [100 * s.zero for s in stats], height=0.14, color="tab:red",
            label="scored 0 (% of students)")
    ax.plot([_pct(s.median, s.max_score) for s in stats], y, "kD", label="median")
    ax.set_yticks(y, [_label(s, multi) for s in stats])
    ax.invert_yaxis()  # notebook order, top to bottom
    ax.set_xlim(0, 105)
    ax.set_xlabel("% of the exercise's points")
    weeks = ", ".join(dict.fromkeys(s.week for s in stats))
    students = max((s.n + s.ungraded for s in stats), default=0)
    ax.set_title(f"{weeks}: mean score per exercise (n = {students} students)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3, fontsize="small")
    if ax_mistakes is not None:
        labels, counts = zip(*common)
        ax_mistakes.barh(range(len(common)), counts, height=0.6, color="tab:orange")
        ax_mistakes.set_yticks(range(len(common)), labels, fontsize="small")
        ax_mistakes.invert_yaxis()
        ax_mistakes.set_xlabel("students")
        ax_mistakes.xaxis.get_major_locator().set_params(integer=True)
        ax_mistakes.set_title("the named mistakes most students made")
    fig.savefig(path, format="png", dpi=100)


def _most_common(mistakes: dict, multi: bool, top: int = 12) -> list[tuple[str, int]]:
    """[(label, students)] of the ``top`` named mistakes over every week and exercise, most first."""
    found = [(f"{week}:{exercise}.{key}" if multi else f"{exercise}.{key}", n)
             for week, by_exercise in mistakes.items() for exercise, counter in by_exercise.items()
             for key, n in counter.items() if not key.startswith("(")]
    return sorted(found, key=lambda item: -item[1])[:top]
