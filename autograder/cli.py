"""python -m autograder: the course's commands, thin wrappers over nbgrader.

    release   [WEEK ...]                       regenerate notebooks/ from solutions/, check for leaks
    collect   WEEK SOURCE                      LMS zip or folder -> <workdir>/submitted/<student>/WEEK/
    grade     [WEEK ...] [--student ID]        autograde submissions, sandboxed, several at once
    feedback  [WEEK ...] [--student ID]        HTML per student: hidden tests' results, never their code
    export    [WEEK ...] [--to grades.csv]     CSV: per-exercise scores, totals and grader notes;
              [--format csv|canvas|moodle]     or the LMS's own grade-import file
    report    [WEEK ...] [--png report.png]    per-exercise statistics, as a table and a plot;
              [--similar]                      or pairs of students with near-identical answers
    deadlines                                  the due dates, extensions and late policy configured
    validate  NOTEBOOK                         a student's self-check of the visible tests

Run from anywhere; ``--course-dir`` defaults to this repository and ``--workdir`` to
``<course-dir>/.grading``. Exit status: 0 on success, 1 when a command (or nbgrader) failed,
and for ``validate`` 1 when a visible test fails; a low grade is not a failure.

This module only parses the command line: each ``cmd_*`` calls the module that does the work
(the map is in ``autograder/__init__.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder import feedback, grading, late, lms, mistakes, results, validate
from autograder.config import BUDGET, CELL_TIMEOUT, REPO_ROOT, SOURCE
from autograder.course import Course, quiet_environment
from autograder.release import release_week


def cmd_release(course: Course, args) -> int:
    failed = [week for week in course.weeks(args.weeks) if not release_week(course, week)]
    return 1 if failed else 0


def cmd_collect(course: Course, args) -> int:
    from autograder.collect import TIMESTAMP, collect

    (week,) = course.weeks([args.week])
    source = Path(args.source).expanduser().resolve()
    for path in [source] + ([Path(args.times).expanduser()] if args.times else []):
        if not path.exists():
            print(f"error: {path} does not exist", file=sys.stderr)
            return 1
    zone = late._zone(args.timezone, "--timezone") if args.timezone else None
    try:
        times = lms.read_times(Path(args.times).expanduser(), zone) if args.times else {}
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    collected = collect(source, course.workdir / "submitted", week, course.released(week), zone)
    identities = lms.Identities(course.workdir)
    for item in collected:
        given = lms.time_for(times, item)
        if given is not None and item.submitted_at is None:  # the LMS's report, where its download has no time
            item.submitted_at = given
            stamp = course.workdir / "submitted" / item.student / week / TIMESTAMP
            stamp.write_text(given.strftime("%Y-%m-%d %H:%M:%S UTC") + "\n", encoding="utf-8")
        course.notes.files(item.student, week, item.notes, reset=True)
        identities.remember(item.student, week, lms.from_collected(item))
        when = f"  (submitted {item.submitted_at:%Y-%m-%d %H:%M} UTC)" if item.submitted_at else ""
        flag = f"  ({item.lms or 'the LMS'} marks it late)" if item.late else ""
        print(f"{item.student:<24} {', '.join(item.files) or '(no files)'}{when}{flag}")
        for note in item.notes:
            print(f"{'':<24}   note: {note}")
    print(f"\n{len(collected)} students collected into {course.workdir / 'submitted'}/<student>/{week}/")
    if args.times:
        missing = [item.student for item in collected if item.submitted_at is None]
        if missing:
            print(f"no submission time for: {', '.join(missing)} (not in {args.times})")
    return 0


def cmd_grade(course: Course, args) -> int:
    weeks = course.weeks(args.weeks)
    for line in late.apply(course, weeks, args.student):  # due dates and extensions into the gradebook
        print(line)
    return grading.grade(course, weeks, args.student, args.jobs, args.cluster)


def cmd_deadlines(course: Course, args) -> int:
    deadlines = late.load(course.workdir)
    if deadlines is None:
        print(f"No due dates: {late.path(course.workdir)} does not exist (see the README, 'Due dates and late work').")
        return 0
    unknown = sorted(set(deadlines.due) - set(course.weeks()))
    if unknown:
        print(f"error: {late.path(course.workdir)} names week(s) the course does not have: {', '.join(unknown)}",
              file=sys.stderr)
        return 1
    print(late.table(deadlines))
    return 0


def cmd_feedback(course: Course, args) -> int:
    return 1 if feedback.write_all(course, course.weeks(args.weeks), args.student) else 0


def _rows(course: Course, weeks) -> list[results.Row]:
    return results.collect_rows(course.config.CourseDirectory.db_url, course.config.CourseDirectory.course_id,
                                course.dir / SOURCE, weeks, course.notes.folder)


def cmd_export(course: Course, args) -> int:
    titles = {}
    for item in args.column:
        week, sep, title = item.partition("=")
        if not sep or not title.strip():
            print(f"error: --column wants WEEK=TITLE, got {item!r}", file=sys.stderr)
            return 1
        titles[course.weeks([week.strip()])[0]] = title.strip()
    rows = _rows(course, course.weeks(args.weeks))
    destination = Path(args.to).resolve()
    try:
        warnings = lms.write(rows, destination, args.format, lms.Identities(course.workdir), titles)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    lms.print_warnings(warnings)
    print(f"{len(rows)} grades exported to {destination} ({args.format})")
    for r in rows:
        if r.hours_late:
            print(f"  {r.student} {r.week}: {lms.late_text(r)}")
    return 0


def cmd_report(course: Course, args) -> int:
    if args.similar:
        from autograder import similar

        pairs = similar.find(course, course.weeks(args.weeks), args.threshold)
        print(similar.format_table(pairs, args.threshold))
        destination = Path(args.html).resolve()
        similar.write_html(pairs, destination, args.threshold)
        print(f"\nside by side: {destination}")
        return 0
    rows = _rows(course, course.weeks(args.weeks))
    if not rows:
        print("Nothing graded yet.")
        return 0
    stats = results.statistics(rows)
    print(results.format_table(stats))
    counts, kept = {}, mistakes.Mistakes(course.notes.folder)
    for week in dict.fromkeys(r.week for r in rows):
        students = [r.student for r in rows if r.week == week]
        counts[week], table = mistakes.of_class(kept, week, students, course.dir / SOURCE / week / "homework.ipynb")
        if counts[week]:
            print("\n" + table)
    destination = Path(args.png).resolve()
    results.plot(stats, destination, counts)
    print(f"\nplot: {destination}")
    return 0


def cmd_validate(course: Course, args) -> int:
    return validate.run(args.notebook, args.timeout)


# --- command line ----------------------------------------------------------------------------------

EXAMPLES = """examples:
  python -m autograder release week01_perceptron
  python -m autograder collect week01_perceptron ~/Downloads/submissions.zip
  python -m autograder grade week01_perceptron            # everything in .grading/submitted/
  python -m autograder grade --student ada
  python -m autograder feedback week01_perceptron
  python -m autograder export --to grades.csv
  python -m autograder export week01_perceptron --format canvas --to canvas.csv
  python -m autograder report week01_perceptron --png week01.png
  python -m autograder report week01_perceptron --similar --html similar.html
  python -m autograder deadlines
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
    c.add_argument("--timezone", default=None, metavar="ZONE",
                   help="the zone of submission times the LMS writes without one, e.g. Europe/Berlin or +01:00 "
                        "(default: this computer's)")
    c.add_argument("--times", default=None, metavar="CSV",
                   help="submission times where the download has none: Moodle's grading worksheet, or a CSV "
                        "with the columns student and submitted")
    c.set_defaults(run=cmd_collect)

    g = sub.add_parser("grade", help="autograde submitted work")
    weeks_and_students(g)
    g.add_argument("-j", "--jobs", type=int, default=0, help="submissions graded at once (default: one per core)")
    g.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help=f"seconds per cell (default: {CELL_TIMEOUT})")
    g.add_argument("--budget", type=float, default=BUDGET,
                   help=f"seconds for a whole submission, restarts included (default: {BUDGET})")
    g.add_argument("--cluster", default=None, metavar="ADDRESS", type=_cluster,
                   help="grade on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786), or "
                        "on N worker processes here with local:N; needs pip install -e '.[cluster]' (README: 'A large class')")
    g.add_argument("--no-sandbox", action="store_true", help="run student code without the Linux sandbox (unsafe)")
    g.add_argument("--no-fork", action="store_true",
                   help="start each student's kernel with bwrap instead of forking it from a warm server (slower)")
    g.set_defaults(run=cmd_grade)

    f = sub.add_parser("feedback", help="write HTML feedback for graded work")
    weeks_and_students(f)
    f.set_defaults(run=cmd_feedback)

    e = sub.add_parser("export", help="export grades, per exercise, to CSV")
    e.add_argument("weeks", nargs="*", metavar="WEEK", help="default: all weeks")
    e.add_argument("--to", default="grades.csv", help="CSV file to write (default: grades.csv)")
    e.add_argument("--format", default="csv", choices=lms.FORMATS,
                   help="csv (default): every exercise and the notes; canvas: Canvas's gradebook import; "
                        "moodle: Moodle's grading worksheet (one week)")
    e.add_argument("--column", action="append", default=[], metavar="WEEK=TITLE",
                   help="canvas: the column for WEEK, e.g. 'week01_perceptron=Homework 1 (4567)' to fill "
                        "Canvas's assignment 4567 (default: the week's name, a new assignment)")
    e.set_defaults(run=cmd_export)

    rp = sub.add_parser("report", help="per-exercise statistics as a table and a PNG plot")
    rp.add_argument("weeks", nargs="*", metavar="WEEK", help="default: all weeks")
    rp.add_argument("--png", default="report.png", help="plot to write (default: report.png)")
    rp.add_argument("--similar", action="store_true",
                    help="instead: pairs of students whose answer cells are nearly the same, and an HTML page "
                         "with their cells side by side")
    rp.add_argument("--threshold", type=_fraction, default=0.9,
                    help="--similar: the similarity from which a pair is listed, 0 to 1 (default: 0.9)")
    rp.add_argument("--html", default="similar.html", help="--similar: the page to write (default: similar.html)")
    rp.set_defaults(run=cmd_report)

    d = sub.add_parser("deadlines", help="show the due dates, extensions and late policy (<workdir>/deadlines.toml)")
    d.set_defaults(run=cmd_deadlines)

    v = sub.add_parser("validate", help="check your notebook like the grader: which visible tests pass")
    v.add_argument("notebook", metavar="NOTEBOOK")
    v.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help="seconds per cell")
    v.set_defaults(run=cmd_validate)
    return p


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def _cluster(text: str) -> str:
    """A scheduler's address, or local:N with N >= 1."""
    count = text.removeprefix("local:")
    if text.startswith("local:") and not (count.isdigit() and int(count) >= 1):
        raise argparse.ArgumentTypeError(f"expected local:N with N the number of worker processes, e.g. local:2; got {text!r}")
    return text


def main(argv=None) -> int:
    quiet_environment()
    args = parser().parse_args(argv)
    options = {}
    if args.command == "grade":
        options = {"timeout": args.timeout, "budget": args.budget, "sandbox": not args.no_sandbox,
                   "fork": not args.no_fork}
    course = Course(args.course_dir, args.workdir, options)
    try:
        return args.run(course, args)
    except late.DeadlineError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
