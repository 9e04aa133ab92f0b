"""Grades as an LMS imports them: Canvas's gradebook CSV and Moodle's grading worksheet.

``collect`` keeps what the LMS's download says of each student (:class:`Identities`): the name
it gave, which LMS, the LMS's own id and, where it says so, the submission time and its late
flag. ``export --format canvas`` and ``--format moodle`` put those ids back, so the LMS knows
whose grade each line is without anyone editing a spreadsheet.

Where the layouts come from
---------------------------
Canvas, gradebook import (Canvas Instructor Guide, "How do I import grades in the Gradebook?";
the file is Canvas's own gradebook export, which the import reads back): a header row
``Student, ID, SIS User ID, SIS Login ID, Section`` and one column per assignment, then a
``Points Possible`` row, then one row per student. Canvas finds the student by ``ID`` (the
Canvas user id, the first number in a submission download's file names,
``lovelaceada_12345_67890_homework.ipynb``) or by the SIS ids; a column named ``Title (id)``
fills that existing assignment, any other name makes a new one. Any extra column would
become an assignment too, so this file holds grades only.

Moodle, assignment grading worksheet ("Upload grading worksheet", plugin
``assignfeedback_offline``, ``mod/assign/feedback/offline/importgradeslib.php``): the import
finds its columns by their English names, ``Identifier`` (``"Participant <id>"``, the id in a
submission download's folder names, ``Ada Lovelace_123456_assignsubmission_file_``),
``Grade`` and ``Last modified (grade)`` (a grade older than the one Moodle holds is skipped),
and each feedback plugin's column, ``Feedback comments``. The other columns of Moodle's own
worksheet (``Full name``, ``Maximum Grade``) are read by people only. One worksheet per
assignment, so one week per file.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from autograder.results import Row, _num, spreadsheet_text

FOLDER = "lms"  # inside the grading working directory: <workdir>/lms/<student>/<week>.json
FORMATS = ("csv", "canvas", "moodle")


@dataclass
class Identity:
    """What the LMS's download said of one student's submission for one week."""

    name: str = ""  # as the LMS wrote it ("Ada Lovelace", "lovelaceada")
    lms: str | None = None  # "canvas", "moodle", "blackboard" or None (plain folders)
    lms_id: str | None = None  # Canvas user id, Moodle participant id
    submitted_at: str | None = None  # ISO 8601, UTC, where the download gives a time
    late: bool = False  # the LMS marked the submission late


class Identities:
    """The identities kept in ``<workdir>/lms/``, one file per student and week."""

    def __init__(self, workdir: Path | str):
        self.folder = Path(workdir) / FOLDER

    def path(self, student: str, week: str) -> Path:
        return self.folder / student / f"{week}.json"

    def remember(self, student: str, week: str, identity: Identity) -> None:
        path = self.path(student, week)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(identity), indent=1), encoding="utf-8")

    def read(self, student: str, week: str) -> Identity:
        """The identity kept for a submission; an empty one (name = id) when none was kept."""
        path = self.path(student, week)
        if not path.exists():
            return Identity(name=student)
        data = json.loads(path.read_text(encoding="utf-8"))
        return Identity(**{k: data.get(k) for k in Identity.__dataclass_fields__ if k in data})

    def latest(self, student: str, lms: str) -> Identity | None:
        """The student's identity in ``lms`` from any week (Canvas's user id is the same in all)."""
        for path in sorted((self.folder / student).glob("*.json"), reverse=True):
            identity = self.read(student, path.stem)
            if identity.lms == lms and identity.lms_id:
                return identity
        return None


def from_collected(item) -> Identity:
    """An :class:`Identity` from ``collect.Collected``."""
    when = item.submitted_at.astimezone(timezone.utc).isoformat() if item.submitted_at else None
    return Identity(item.name, item.lms, item.lms_id, when, bool(item.late))


# --- submission times from an LMS report --------------------------------------------------------

TIME_COLUMNS = ("Last modified (submission)", "submitted")  # Moodle's grading worksheet; ours
WHO_COLUMNS = ("Identifier", "student")


def read_times(path: Path, zone=None) -> dict[str, datetime]:
    """Submission times from a CSV, by who: Moodle's grading worksheet (``Identifier`` =
    ``"Participant 123456"``, ``Last modified (submission)``, as Moodle writes it, e.g. "Friday,
    20 November 2026, 11:45 PM") or a file of two columns, ``student`` (the id ``collect``
    prints, the name the LMS gave, or its user id) and ``submitted`` ("2026-11-20 23:45", with a
    zone as in ``deadlines.toml`` or not).
    A time without a zone is read in ``zone`` (default: this computer's). Keys are the
    participant id (Moodle) or the ``student`` text; a row without a time is left out.
    ``ValueError`` names a file it cannot read and the first time it cannot parse."""
    from dateutil import parser as dates

    from autograder.late import DeadlineError, parse_date

    with open(path, newline="", encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    columns = set(table[0]) if table else set()
    who = next((c for c in WHO_COLUMNS if c in columns), None)
    when = next((c for c in TIME_COLUMNS if c in columns), None)
    if not who or not when:
        raise ValueError(f"{path}: expected the columns Identifier and Last modified (submission) (Moodle's grading "
                         f"worksheet) or student and submitted; found {', '.join(sorted(columns)) or 'none'}")
    found = {}
    for line, entry in enumerate(table, 2):
        key, text = (entry.get(who) or "").strip(), (entry.get(when) or "").strip()
        if not key or text in ("", "-"):
            continue
        if who == "Identifier":
            key = key.removeprefix(MOODLE_PARTICIPANT.strip()).strip()
        try:
            moment = parse_date(text, "")  # "2026-11-20 23:45 Europe/Berlin", as in deadlines.toml
        except DeadlineError:
            try:
                moment = dates.parse(text)
            except (ValueError, OverflowError):
                raise ValueError(f"{path}, line {line}: {text!r} is not a time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone) if zone else moment.astimezone()
        found[key] = moment.astimezone(timezone.utc)
    return found


def time_for(times: dict[str, datetime], item) -> datetime | None:
    """The time ``read_times`` gives a collected student: by LMS id, id or LMS name."""
    for key in (item.lms_id, item.student, item.name):
        if key and key in times:
            return times[key]
    return None


def final_score(row: Row) -> float:
    """The week's score after the late penalty, never below 0."""
    return max(0.0, row.score - (row.late_penalty or 0.0))


def late_text(row: Row) -> str:
    """One sentence on lateness for the student, or "" when on time or without a due date."""
    if not row.hours_late:
        return ""
    text = f"submitted {row.hours_late:.1f} h after the due date"
    return text + (f": -{_num(row.late_penalty)} points late penalty" if row.late_penalty else ": no late penalty")


# --- Canvas -------------------------------------------------------------------------------

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def write_canvas(rows: list[Row], path: Path, identities: Identities, titles: dict[str, str] | None = None
                 ) -> list[str]:
    """Canvas's gradebook-import CSV: one row per student, one column per week (the score after
    any late penalty). ``titles`` names a week's column (``"Homework 1 (4567)"`` fills Canvas's
    assignment 4567); the default is the week's folder name. Returns warnings for the terminal."""
    titles = titles or {}
    weeks = list(dict.fromkeys(r.week for r in rows))
    by_student: dict[str, dict[str, Row]] = {}
    for r in rows:
        by_student.setdefault(r.student, {})[r.week] = r
    warnings = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(CANVAS_COLUMNS + [spreadsheet_text(titles.get(w, w)) for w in weeks])
        max_scores = {w: next(r.max_score for r in rows if r.week == w) for w in weeks}
        out.writerow(["Points Possible", "", "", "", ""] + [_num(max_scores[w]) for w in weeks])
        for student, found in by_student.items():
            identity = identities.latest(student, "canvas")
            if identity is None:
                warnings.append(f"{student}: no Canvas user id (not collected from a Canvas download); "
                                f"Canvas cannot match this row until its ID is filled in")
                identity = Identity(name=student)
            out.writerow([spreadsheet_text(identity.name or student), identity.lms_id or "", "", "", ""]
                         + [_num(final_score(found[w])) if w in found else "" for w in weeks])
    return warnings


# --- Moodle -------------------------------------------------------------------------------

MOODLE_COLUMNS = ["Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments"]
MOODLE_PARTICIPANT = "Participant "  # mod/assign/lang/en/assign.php: $string['hiddenuser']


def write_moodle(rows: list[Row], path: Path, identities: Identities, now: datetime | None = None) -> list[str]:
    """Moodle's grading worksheet for one week: the score after any late penalty, and the late
    penalty said in ``Feedback comments`` (which Moodle shows the student; the grader's notes,
    meant for the instructor, are left out). Returns warnings for the terminal."""
    weeks = sorted({r.week for r in rows})
    if len(weeks) > 1:
        raise ValueError(f"Moodle's grading worksheet holds one assignment; export one week at a time "
                         f"(these rows are from {', '.join(weeks)})")
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    warnings = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(MOODLE_COLUMNS)
        for r in rows:
            identity = identities.read(r.student, r.week)
            if identity.lms != "moodle" or not identity.lms_id:
                warnings.append(f"{r.student}: no Moodle participant id (not collected from a Moodle download); "
                                f"Moodle skips this row until its Identifier is filled in")
            comments = [f"Automatic grading: {_num(final_score(r))} / {_num(r.max_score)}."]
            if late_text(r):
                comments.append(late_text(r)[0].upper() + late_text(r)[1:] + ".")
            if r.needs_manual_grade:
                comments.append("Written answers not graded yet.")
            ident = MOODLE_PARTICIPANT + identity.lms_id if identity.lms == "moodle" and identity.lms_id else ""
            out.writerow([ident, spreadsheet_text(identity.name or r.student), _num(final_score(r)),
                          _num(r.max_score), stamp, spreadsheet_text(" ".join(comments))])
    return warnings


def write(rows: list[Row], path: Path, fmt: str, identities: Identities, titles: dict[str, str] | None = None
          ) -> list[str]:
    """Write ``rows`` in ``fmt`` (one of ``FORMATS``); warnings for the terminal."""
    from autograder.results import write_csv

    if fmt == "csv":
        write_csv(rows, path)
        return []
    if fmt == "canvas":
        return write_canvas(rows, path, identities, titles)
    if fmt == "moodle":
        return write_moodle(rows, path, identities)
    raise ValueError(f"unknown export format {fmt!r}; expected one of: {', '.join(FORMATS)}")


def print_warnings(warnings: list[str]) -> None:
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
