"""Due dates, extensions and the late policy, applied through nbgrader's own mechanism.

Configured once, in ``<workdir>/deadlines.toml`` (the grading folder, which git ignores: the
extensions name students)::

    [policy]
    kind = "per_day"        # "none" (the default), "zero", or "per_day"
    percent_per_day = 10    # per_day: this share of the notebook's score per day started ...
    max_percent = 50        # ... and never more than this

    [weeks.week01_perceptron]
    due = "2026-11-20 23:59 Europe/Berlin"    # a time zone is required: UTC, +01:00 or a name
    extensions = { ada = "2026-11-22 23:59 Europe/Berlin", bob = "48h" }   # a new due date, or hours

Where each part lives in nbgrader:

- the due date is nbgrader's ``Assignment.duedate`` and an extension its
  ``SubmittedAssignment.extension`` (``Gradebook.grant_extension``): :func:`apply` writes both
  into the gradebook before ``grade`` runs, so the formgrader shows them too;
- the submission time is nbgrader's ``timestamp.txt`` in the submission's folder, which
  ``collect`` writes from the LMS's download and nbgrader's autograde reads;
- the penalty is computed by nbgrader's ``AssignLatePenalties`` step, which autograde runs
  after the tests, with ``latesteps.LatePolicy`` as its ``plugin_class`` (``config``); nbgrader
  stores it as each notebook's ``late_submission_penalty`` and its feedback page shows it;
- ``latesteps.LateNote`` adds a line to the feedback on how late and what was deducted;
  ``results`` puts both in the export.

The nbgrader pieces (the plugin and the feedback step) are in ``latesteps``, which loads
nbgrader; this module does not, so every command starts as fast as before.

Example (the per-day rule, 10% per day started, at most 50%):

>>> percent("per_day", 10, 50, 26 * 3600)   # 26 hours: 2 days started
20
>>> percent("per_day", 10, 50, 30 * 86400)  # a month: capped
50
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

FILE = "deadlines.toml"  # in the grading working directory
KINDS = ("none", "zero", "per_day")
_DATE = re.compile(r"(?P<date>\d{4}-\d\d-\d\d)[ T](?P<time>\d\d:\d\d(?::\d\d)?)\s+(?P<zone>\S+)")
_HOURS = re.compile(r"(?P<hours>\d+(?:\.\d+)?)\s*h")


class DeadlineError(ValueError):
    """``deadlines.toml`` says something that cannot be used; the message says where and what."""


def percent(kind: str, per_day: float, cap: float, seconds_late: float) -> float:
    """The share of the score deducted, in percent."""
    if seconds_late <= 0 or kind == "none":
        return 0.0
    if kind == "zero":
        return 100.0
    return min(cap, per_day * math.ceil(seconds_late / 86400))


@dataclass
class Deadlines:
    """The parsed ``deadlines.toml``."""

    kind: str = "none"
    percent_per_day: float = 0.0
    max_percent: float = 100.0
    due: dict[str, datetime] = field(default_factory=dict)  # week -> due date (aware)
    extensions: dict[str, dict[str, datetime]] = field(default_factory=dict)  # week -> student -> new due date

    def describe(self) -> str:
        """The policy in words, e.g. "10% of the score per day started, at most 50%"."""
        if self.kind == "none":
            return "no penalty"
        if self.kind == "zero":
            return "a late submission scores 0"
        return f"{self.percent_per_day:g}% of the score per day started, at most {self.max_percent:g}%"

    def due_for(self, week: str, student: str) -> datetime | None:
        return self.extensions.get(week, {}).get(student) or self.due.get(week)


def path(workdir: Path | str) -> Path:
    return Path(workdir) / FILE


def load(workdir: Path | str) -> Deadlines | None:
    """The deadlines configured in ``<workdir>/deadlines.toml``, None when there is no such file.
    ``DeadlineError`` names the first thing wrong in it."""
    file = path(workdir)
    if not file.exists():
        return None
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise DeadlineError(f"{file}: reading it needs Python 3.11, or `pip install tomli`") from None
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise DeadlineError(f"{file}: not valid TOML ({e})") from None
    return parse(data, str(file))


def parse(data: dict, where: str = FILE) -> Deadlines:
    """:class:`Deadlines` from the TOML's table; ``DeadlineError`` for anything unexpected.

    >>> d = parse({"policy": {"kind": "zero"}, "weeks": {"w1": {"due": "2026-11-20 23:59 +01:00",
    ...            "extensions": {"ada": "24h"}}}})
    >>> d.due["w1"].isoformat(), d.extensions["w1"]["ada"].isoformat()
    ('2026-11-20T23:59:00+01:00', '2026-11-21T23:59:00+01:00')
    >>> parse({"weeks": {"w1": {"due": "20.11.2026"}}})
    Traceback (most recent call last):
    ...
    autograder.late.DeadlineError: deadlines.toml, weeks.w1.due: '20.11.2026' is not a date like "2026-11-20 23:59 Europe/Berlin" (a time zone is required: UTC, +01:00 or a zone name)
    """
    unknown = set(data) - {"policy", "weeks"}
    if unknown:
        raise DeadlineError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}; expected [policy] and [weeks.WEEK]")
    policy = _table(data.get("policy", {}), f"{where}, policy")
    _only(policy, {"kind", "percent_per_day", "max_percent"}, f"{where}, [policy]")
    kind = policy.get("kind", "none")
    if kind not in KINDS:
        raise DeadlineError(f"{where}, policy.kind: {kind!r} is not one of {', '.join(KINDS)}")
    numbers = {}
    for key, default in (("percent_per_day", 0.0), ("max_percent", 100.0)):
        value = policy.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise DeadlineError(f"{where}, policy.{key}: expected a number from 0 to 100, got {value!r}")
        numbers[key] = float(value)
    if kind == "per_day" and "percent_per_day" not in policy:
        raise DeadlineError(f"{where}, policy: kind = \"per_day\" needs percent_per_day")
    deadlines = Deadlines(kind, numbers["percent_per_day"], numbers["max_percent"])
    for week, table in _table(data.get("weeks", {}), f"{where}, weeks").items():
        table = _table(table, f"{where}, weeks.{week}")
        _only(table, {"due", "extensions"}, f"{where}, [weeks.{week}]")
        if "due" not in table:
            raise DeadlineError(f"{where}, [weeks.{week}]: no due date (due = \"2026-11-20 23:59 Europe/Berlin\")")
        due = deadlines.due[week] = parse_date(table["due"], f"{where}, weeks.{week}.due")
        for student, value in _table(table.get("extensions", {}), f"{where}, weeks.{week}.extensions").items():
            key = f"{where}, weeks.{week}.extensions.{student}"
            hours = _HOURS.fullmatch(value.strip()) if isinstance(value, str) else None
            new = due + timedelta(hours=float(hours["hours"])) if hours else parse_date(value, key, hours=True)
            if new <= due:
                raise DeadlineError(f"{key}: {value!r} is not after the week's due date {due.isoformat(' ')}")
            deadlines.extensions.setdefault(week, {})[student] = new
    return deadlines


def parse_date(value, where: str, hours: bool = False) -> datetime:
    """``"2026-11-20 23:59 Europe/Berlin"`` (or ``UTC``, ``+01:00``) as an aware datetime."""
    example = '"2026-11-20 23:59 Europe/Berlin"' + (' or a number of hours, "48h"' if hours else "")
    m = _DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    problem = f"{where}: {value!r} is not a date like {example} (a time zone is required: UTC, +01:00 or a zone name)"
    if not m:
        raise DeadlineError(problem)
    try:
        naive = datetime.fromisoformat(f"{m['date']}T{m['time']}")
    except ValueError:
        raise DeadlineError(problem) from None
    return naive.replace(tzinfo=_zone(m["zone"], where))


def _zone(name: str, where: str) -> tzinfo:
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    if m := re.fullmatch(r"([+-])(\d\d):?(\d\d)", name):
        sign = 1 if m[1] == "+" else -1
        return timezone(sign * timedelta(hours=int(m[2]), minutes=int(m[3])))
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DeadlineError(f"{where}: unknown time zone {name!r} (use UTC, +01:00 or a name like Europe/Berlin)") from None


def _table(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise DeadlineError(f"{where}: expected a table, got {value!r}")
    return value


def _only(table: dict, allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise DeadlineError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(allowed))}")


def utc(when: datetime) -> datetime:
    """An aware datetime as nbgrader keeps it: UTC without a zone."""
    return when.astimezone(timezone.utc).replace(tzinfo=None)


# --- into nbgrader's configuration and gradebook ------------------------------------------

def configure(config, workdir: Path | str) -> None:
    """Put ``latesteps.LatePolicy``, with the policy of ``deadlines.toml``, in nbgrader's ``config``."""
    config.AssignLatePenalties.plugin_class = "autograder.latesteps.LatePolicy"
    deadlines = load(workdir)
    if deadlines is not None:
        config.LatePolicy.kind = deadlines.kind
        config.LatePolicy.percent_per_day = deadlines.percent_per_day
        config.LatePolicy.max_percent = deadlines.max_percent


def apply(course, weeks: list[str], students=()) -> list[str]:
    """Write the due dates and extensions of ``weeks`` into nbgrader's gradebook, before grading;
    lines for the terminal. Without ``deadlines.toml`` the gradebook is left as it is (a due
    date set with ``nbgrader db assignment add --duedate`` still counts)."""
    from autograder.lms import Identities
    from autograder.release import release_week

    deadlines = load(course.workdir)
    if deadlines is None:
        return []
    todo = course.submissions(weeks, students)
    with course.gradebook() as gradebook:
        known = {a.name for a in gradebook.assignments}
    for week in sorted({w for _, w in todo} - known):  # as `grade` does: the week's cells first
        print(f"{week} is not in the gradebook yet: releasing it first.")
        release_week(course, week)
    lines, identities = [], Identities(course.workdir)
    with course.gradebook() as gradebook:
        for week in sorted({w for _, w in todo}):
            due = deadlines.due.get(week)
            gradebook.update_or_create_assignment(week, duedate=utc(due) if due else None)
            submitted = sorted(s for s, w in todo if w == week)
            for student in submitted:
                gradebook.update_or_create_student(student)
                gradebook.update_or_create_submission(week, student)
                new = deadlines.extensions.get(week, {}).get(student)
                minutes = (new - due).total_seconds() / 60 if due and new else 0
                gradebook.grant_extension(week, student, minutes=minutes)
                identity = identities.read(student, week)
                timestamp = course.submitted(student, week) / "timestamp.txt"
                if due and identity.late and not timestamp.exists():
                    lines.append(f"{student} {week}: {identity.lms or 'the LMS'} marked this submission late, but its "
                                 f"download gives no time: no late penalty unless its time is in {timestamp}")
            for student in sorted(set(deadlines.extensions.get(week, {})) - set(submitted)):
                if not students or student in students:
                    lines.append(f"{week}: the extension for '{student}' matches no submission of this week")
            if due:
                lines.append(f"{week}: due {due.isoformat(' ', 'minutes')}, late policy: {deadlines.describe()}")
    return lines


def table(deadlines: Deadlines) -> str:
    """The ``deadlines`` command's listing."""
    lines = [f"late policy: {deadlines.describe()}"]
    for week, due in sorted(deadlines.due.items()):
        lines.append(f"{week:<28} due {due.isoformat(' ', 'minutes')}  ({utc(due).isoformat(' ', 'minutes')} UTC)")
        for student, new in sorted(deadlines.extensions.get(week, {}).items()):
            lines.append(f"{'':<28}   {student}: extended to {new.isoformat(' ', 'minutes')} "
                         f"(+{(new - due).total_seconds() / 3600:g} h)")
    return "\n".join(lines)


# --- what the student reads ------------------------------------------------------------------

def late_line(submission, penalty: float, deadlines: Deadlines | None) -> str | None:
    """The sentence the student reads on timeliness, or None when the week has no due date."""
    due = submission.duedate
    if due is None:
        return None
    configured = deadlines.due_for(submission.assignment.name, submission.student.id) if deadlines else None
    shown = configured.isoformat(" ", "minutes") if configured and utc(configured) == due else \
        f"{due.isoformat(' ', 'minutes')} UTC"
    when = shown + (" (with your extension)" if submission.extension else "")
    if submission.timestamp is None:
        return f"Due {when}. The submission time is not known, so no late penalty was applied."
    seconds = submission.total_seconds_late
    if seconds <= 0:
        return f"Due {when}; submitted on time."
    policy = f" (late policy: {deadlines.describe()})" if deadlines else ""
    deducted = f"{penalty:.4g} points were deducted{policy}" if penalty else f"no points were deducted{policy}"
    return f"Due {when}; submitted {seconds / 3600:.1f} hours late: {deducted}."
