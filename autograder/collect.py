"""Put a week's downloaded submissions where nbgrader wants them: ``<submitted>/<student>/<week>/``.

The layout (Moodle folders; Canvas, Blackboard, Moodle or plain flat files) is detected per file,
from the fields the LMS writes and never from the part of a name the student chose;
``normalise_folder`` then gives the notebooks their released names without deleting anything.
A download is untrusted: its files are streamed one at a time under size caps, and a file that is
too big, unreadable or unwritable is skipped with a note while everything else is collected.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo
from functools import partial
from pathlib import Path
from typing import BinaryIO, NamedTuple

import nbformat

UNGRADED = ("lesson.ipynb", "quiz.ipynb")  # released, never graded, so never reported missing
JUNK_DIRS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__"}
JUNK_FILES = {".DS_Store", "Thumbs.db"}
MAX_FILE_BYTES = 64 * 2**20  # one file; the same as the grader's per-file write limit (sandbox.Limits.fsize)
MAX_STUDENT_BYTES = 256 * 2**20  # all of one student's files in one collection
MAX_RATIO = 200  # unpacked / packed size allowed for a zip entry that unpacks to over RATIO_FLOOR bytes
RATIO_FLOOR = 2**20
MAX_ID_CHARS = 100  # nbgrader keeps 128; the rest is room for a suffix that tells two students apart
NAME_MAX = 255  # bytes in one file name on common file systems
_CHUNK = 2**20  # bytes read at a time from a file being copied

_DATE = r"\d{4}(?:-\d\d){5}"
# A Moodle folder: "Ada Lovelace_123456_assignsubmission_file_" (full name, participant id)
_MOODLE = re.compile(r"(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_", re.S)
# Flat file names: the LMS's own fields, then the name the student gave the file.
# Canvas: "lovelaceada_LATE_12345_67890_homework-1.ipynb" (name, user id, submission id)
_CANVAS = re.compile(r"(?P<name>[^_]+)(?P<late>_LATE)?_(?P<uid>\d+)_\d+_(?P<file>.+)", re.S)
# Moodle without folders: "Ada Lovelace_123456_assignsubmission_file_homework.ipynb"
_MOODLE_FLAT = re.compile(r"(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_[a-z]+_(?P<file>.+)", re.S)
# Blackboard: "Homework 1_ada_attempt_2026-11-20-10-15-00_homework.ipynb", the receipt ending ".txt" after the
# date; the assignment name runs to the first "_attempt_<date>" only, so a later one cannot move the username
_BLACKBOARD = re.compile(rf"(?:(?!_attempt_{_DATE}).)+_(?P<name>[^_]+)_attempt_(?P<when>{_DATE})"
                         r"(?:_(?P<file>.+)|\.txt)", re.S)
_ATTEMPT = re.compile(rf"attempt_{_DATE}(?:_|\.txt$)")
_COPY = re.compile(r"^copy of |(?: ?\(\d+\)|[-_]\d+| copy| - copy)$")  # one copy marker
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)  # RuntimeError: encrypted


TIMESTAMP = "timestamp.txt"  # nbgrader reads a submission's time from this file in its folder
STUDENT_TIMESTAMP = "timestamp (from the submission).txt"  # a student's own file of that name, set aside


@dataclass
class Collected:
    student: str  # normalised id
    files: list[str]  # paths written, relative to <submitted_dir>/<student>/<week>/ (TIMESTAMP aside)
    notes: list[str]  # human-readable lines: renames, ambiguities, skipped files
    name: str = ""  # the name as the LMS (or the path) gave it
    lms: str | None = None  # "canvas", "moodle", "blackboard", or None for plain folders and files
    lms_id: str | None = None  # the LMS's id for the student (Canvas user id, Moodle participant id)
    submitted_at: datetime | None = None  # the submission time the LMS gives (UTC), if it gives one
    late: bool = False  # the LMS marked the submission late (Canvas's "_LATE_" in its file names)


class _Owner(NamedTuple):
    """Whose a file is: the name the LMS (or else the path) gives, and the LMS's user id if any."""
    raw: str
    uid: str | None = None


@dataclass(frozen=True)
class _Entry:
    """One file of a download, read only when it is written."""
    parts: tuple[str, ...]  # path in the download
    open: Callable[[], BinaryIO]  # a new stream of its content
    mtime: float
    size: int  # bytes, as the file system or the zip's header says
    packed: int | None = None  # bytes compressed in the zip; None for a folder's file


class _Skip(Exception):
    """A file over a cap; the message says which."""


def student_id(raw: str) -> str:
    """Normalise a name to an nbgrader-safe id, e.g. ``"Zoë O'Brien" -> "zoe_o_brien"``.

    Accents are folded to ASCII, the text is lowercased and every run of characters other than
    ``[a-z0-9]`` becomes ``_``. Raises ``ValueError`` if nothing is left.
    """
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    if not (sid := re.sub(r"[^a-z0-9]+", "_", folded).strip("_")):
        raise ValueError(f"no usable characters for a student id in {raw!r}")
    return sid


def collect(source: Path, submitted_dir: Path, week: str, expected: list[str], zone: tzinfo | None = None
            ) -> list[Collected]:
    """Write each student's files from ``source`` (a .zip or a folder) to
    ``submitted_dir/<student>/<week>/``, normalised; one ``Collected`` per student, sorted.

    A student's old folder for ``week`` is swapped for the new one only once that is complete.
    Unsafe zip entries (absolute or with ``..``) are never written; each is noted for the student
    it names, or for everyone. Files are streamed in under ``MAX_FILE_BYTES`` each,
    ``MAX_STUDENT_BYTES`` per student and ``MAX_RATIO`` for zip entries; a file over a cap, or one
    that cannot be read or written, is skipped with a note. Different names never share an id.
    ``ValueError`` for a bad ``week``, ``source`` or no submissions.

    What the LMS says of each student is kept in the result: their name, the LMS's id for them,
    whether it marked the submission late, and the submission time where the download carries
    one (Blackboard's attempt time, read in ``zone``, default this computer's). That time is
    written as nbgrader's ``timestamp.txt`` in the student's folder, which nbgrader's
    autograde reads for late penalties; a file of that name in the student's own files is set
    aside as ``STUDENT_TIMESTAMP``, so a student never chooses their own submission time.
    """
    if week in ("", ".", "..") or re.search(r"[/\\]", week):
        raise ValueError(f"not a week folder name: {week!r}")
    with _download(Path(source), expected) as (entries, unsafe):
        facts: dict[_Owner, dict] = {}
        students = _group(entries, expected, facts, zone)
        if not students:
            raise ValueError(f"no submissions found in {source}" + "".join(f"; {n}" for _, n in unsafe))
        _note_unsafe(students, unsafe, expected)
        results = []
        for owner, (sid, note) in sorted(_ids(students).items(), key=lambda item: item[1][0]):
            files, notes = students[owner]
            notes[:0] = [note] if note else []
            target = Path(submitted_dir) / sid / week
            placed = _place(files, notes)
            if TIMESTAMP in placed:  # the time comes from the LMS, never from the student's files
                placed[STUDENT_TIMESTAMP] = placed.pop(TIMESTAMP)
                notes.append(f"the submission's own '{TIMESTAMP}' was set aside as '{STUDENT_TIMESTAMP}': "
                             f"the submission time comes from the LMS")
            notes += _write(target, placed, expected)
            written = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
            fact = facts.get(owner, {})
            when = fact.get("when")
            if when is not None:
                (target / TIMESTAMP).write_text(when.strftime("%Y-%m-%d %H:%M:%S UTC") + "\n", encoding="utf-8")
            results.append(Collected(sid, written, notes, owner.raw, fact.get("lms"), owner.uid, when,
                                     fact.get("late", False)))
    return results


def normalise_folder(folder: Path, expected: list[str]) -> list[str]:
    """Fix one student's week folder in place and return notes.

    Each ``*.ipynb`` directly in ``folder`` is matched to a released name (ignoring case, copy
    suffixes and student prefixes) and renamed to it. Of several copies the exactly named one,
    else the newest, is kept and the others become ``<name>.duplicate``; unreadable notebooks
    become ``<name>.invalid``. A missing notebook is noted unless it is in ``UNGRADED``. Nothing is
    deleted, and a second run changes nothing.
    """
    notes: list[str] = []
    groups: dict[str, list[Path]] = {}
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() == ".ipynb"):
        if target := _match(path.name, expected):
            groups.setdefault(target, []).append(path)
        else:
            notes.append(f"'{path.name}' matches no released notebook; left as is")
    for target, paths in groups.items():
        notes += _settle(Path(folder), target, paths)
    for name in expected:  # a name in groups but absent had only unreadable files, noted already
        if name in groups or (Path(folder) / name).exists():
            continue
        bad = [p for p in sorted(Path(folder).glob("*.invalid")) if _match(p.stem, expected) == name]
        if bad:  # the same words every time
            notes.append(f"{bad[0].stem} is not a readable notebook ({_unreadable(bad[0])}); graded as an empty "
                         f"submission")
        elif name not in UNGRADED:
            notes.append(f"{name} is missing")
    return notes


# --- reading a download --------------------------------------------------------------------------

@contextmanager
def _download(source: Path, expected: list[str]) -> Iterator[tuple[list[_Entry], list[tuple[tuple[str, ...], str]]]]:
    """The useful files of a download and its unsafe zip entries as (their harmless parts, a note),
    both without a wrapper folder; a zip stays open until the block ends."""
    if source.is_dir():
        yield _unwrap(_folder_entries(source), [], expected)
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            yield _unwrap(*_zip_entries(archive), expected)
    else:
        raise ValueError(f"{source} is neither a folder nor a zip file")


def _folder_entries(folder: Path) -> list[_Entry]:
    """Every file under ``folder``."""
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    return [_Entry(p.relative_to(folder).parts, partial(p.open, "rb"), p.stat().st_mtime, p.stat().st_size)
            for p in paths]


def _zip_entries(archive: zipfile.ZipFile) -> tuple[list[_Entry], list[tuple[tuple[str, ...], str]]]:
    """The files of ``archive`` and, apart, its entries that would be written outside the folder."""
    entries, unsafe = [], []
    for info in (i for i in archive.infolist() if not i.is_dir()):
        parts = tuple(p for p in re.split(r"[/\\]", info.filename) if p not in ("", "."))
        if ".." in parts or re.match(r"[/\\]|[A-Za-z]:", info.filename):
            harmless = tuple(p for p in parts if p != ".." and not p.endswith(":"))
            unsafe.append((harmless, f"rejected unsafe zip entry '{info.filename}'"))
        elif parts:
            entries.append(_Entry(parts, partial(archive.open, info), _zip_time(info), info.file_size,
                                  info.compress_size))
    return entries, unsafe


def _zip_time(info: zipfile.ZipInfo) -> float:
    """An entry's modification time; 0 for a date that does not exist (a zeroed header has month 0)."""
    try:
        return datetime(*info.date_time).timestamp()
    except ValueError:
        return 0.0


def _unwrap(entries: list[_Entry], unsafe: list, expected: list[str]) -> tuple[list[_Entry], list]:
    """``entries`` without junk, and both lists without a wrapper folder around everything."""
    entries = [e for e in entries if not (JUNK_DIRS.intersection(e.parts) or e.parts[-1] in JUNK_FILES
                                          or e.parts[-1].startswith("._"))]
    tops = {e.parts[:1] for e in entries}
    inner = [e.parts[1:] for e in entries]
    if len(tops) == 1 and all(inner) and _is_class(inner, expected):
        entries = [replace(e, parts=e.parts[1:]) for e in entries]
        unsafe = [(p[1:] if p[:1] in tops else p, n) for p, n in unsafe]
    return entries, unsafe


def _is_class(paths: list[tuple[str, ...]], expected: list[str]) -> bool:
    """Whether these paths are a class's files rather than one student's folder."""
    if any(_MOODLE.match(p[0]) or _lms(p[0]) for p in paths):
        return True
    released = {e.lower() for e in expected}
    if any(len(p) == 1 and any(v + ".ipynb" in released for v in _variants(p[0])) for p in paths):
        return False  # "homework.ipynb" carries no student name: a student's own folder
    return len({_assign(p, expected)[0] for p in paths if p[-1].lower().endswith(".ipynb")}) > 1


# --- whose files ---------------------------------------------------------------------------------

def _lms(name: str) -> re.Match | None:
    """How an LMS named this flat file, or None.

    Of several readings the one whose LMS fields end first wins: what the student chose comes
    after the LMS's fields, so a reading found in it ends later and can never win. One exception:
    a Canvas reading whose file part starts with ``attempt_<date>`` is Blackboard's, as in
    ``Week_1_2024001_attempt_...`` (assignment ``Week_1``, username ``2024001``); the username is
    then the field before ``attempt``, which in a real Canvas name is the LMS's submission id, so
    a student cannot choose it there either.
    """
    found = [m for m in (rx.fullmatch(name) for rx in (_CANVAS, _MOODLE_FLAT, _BLACKBOARD)) if m]
    best = min(found, key=lambda m: m.start("file") if m["file"] is not None else m.end(), default=None)
    if best and best.re is _CANVAS and _ATTEMPT.match(best["file"]):
        return _BLACKBOARD.fullmatch(name) or best
    return best


def _assign(parts: tuple[str, ...], expected: list[str], known: frozenset[str] | set[str] = frozenset()
            ) -> tuple[_Owner, str, float | None]:
    """(whose file, path in the student's folder or "" to skip, submission time if named)."""
    if len(parts) > 1:
        moodle = _MOODLE.match(parts[0])
        return (_Owner(moodle["name"], moodle["uid"]) if moodle else _Owner(parts[0])), "/".join(parts[1:]), None
    name, stem = parts[0], os.path.splitext(parts[0])[0]
    if m := _lms(name):
        fields = m.groupdict()
        return _Owner(fields["name"], fields.get("uid")), fields["file"] or "", _attempt_time(fields.get("when"))
    for e in expected:  # "ada_homework.ipynb", "ada_homework (1).ipynb"
        if (i := stem.lower().rfind("_" + Path(e).stem.lower())) > 0:
            return _Owner(stem[:i]), name[i + 1:], None
    owner = max((k for k in known if stem.startswith(k + "_")), key=len, default=None)
    if owner and not name.lower().endswith(".ipynb"):  # "ada_lovelace_data.csv" by "ada_lovelace.ipynb"
        return _Owner(owner), name[len(owner) + 1:], None
    return _Owner(stem), name, None


def _attempt_time(when: str | None) -> float | None:
    """A Blackboard attempt's "2026-11-20-10-15-00" as a timestamp; None if absent or not a real date."""
    try:
        return datetime.strptime(when, "%Y-%m-%d-%H-%M-%S").timestamp() if when else None
    except ValueError:
        return None


def _group(entries: list[_Entry], expected: list[str], facts: dict | None = None, zone: tzinfo | None = None
           ) -> dict[_Owner, tuple[list, list[str]]]:
    """Each student's files as (path in their folder, entry, time) and their notes; ``facts``, if
    given, gets what the LMS says of each student (:func:`_lms_facts`)."""
    known = {_assign(e.parts, expected)[0].raw for e in entries if e.parts[-1].lower().endswith(".ipynb")}
    students: dict[_Owner, tuple[list, list[str]]] = {}
    for entry in entries:
        owner, inner, when = _assign(entry.parts, expected, known)
        if facts is not None:
            _lms_facts(facts.setdefault(owner, {}), entry.parts, zone)
        files, notes = students.setdefault(owner, ([], []))
        if inner:
            files.append((inner, entry, when or entry.mtime))
        else:
            notes.append(f"skipped Blackboard receipt '{entry.parts[-1]}'")
    return students


def _lms_facts(fact: dict, parts: tuple[str, ...], zone: tzinfo | None) -> None:
    """Add what the LMS's fields in one file's path say to ``fact``: which LMS ("lms"), whether it
    marked the submission late ("late"), and the newest submission time it names ("when", UTC)."""
    if len(parts) > 1:
        if _MOODLE.match(parts[0]):
            fact.setdefault("lms", "moodle")
        return
    m = _lms(parts[0])
    if not m:
        return
    fact.setdefault("lms", {_CANVAS: "canvas", _MOODLE_FLAT: "moodle", _BLACKBOARD: "blackboard"}[m.re])
    fact["late"] = fact.get("late", False) or bool(m.groupdict().get("late"))
    when = m.groupdict().get("when")
    if when:
        with suppress(ValueError):
            local = datetime.strptime(when, "%Y-%m-%d-%H-%M-%S")
            utc = (local.replace(tzinfo=zone) if zone else local.astimezone()).astimezone(timezone.utc)
            fact["when"] = max(fact.get("when") or utc, utc)


def _note_unsafe(students: dict[_Owner, tuple[list, list[str]]], unsafe: list, expected: list[str]) -> None:
    """Note each unsafe zip entry for the student it names, or for everyone if it names nobody."""
    for parts, note in unsafe:
        owner = _assign(parts, expected)[0] if parts else None
        for o in [owner] if owner in students else students:
            students[o][1].append(note)


def _ids(owners: Iterable[_Owner]) -> dict[_Owner, tuple[str, str | None]]:
    """A distinct id for each student, and a note if it is not simply their name made safe.

    Names that give the same id (``Zoë Martin``, ``Zoe Martin``) are told apart by the LMS's user
    id, else by a short hash of the name; should a suffixed id meet another, both get a hash more.
    """
    base = {o: _safe_id(o.raw) for o in owners}
    ids = dict(base)
    for tag in (lambda o: o.uid or _hash(o.raw), lambda o: _hash(repr(o))):
        taken = Counter(ids.values())
        ids = {o: f"{sid}_{tag(o)}" if taken[sid] > 1 else sid for o, sid in ids.items()}
    return {o: (sid, _id_note(o, base[o], sid)) for o, sid in ids.items()}


def _id_note(owner: _Owner, base: str, sid: str) -> str | None:
    """Why ``sid`` is not just the name made safe, or None if it is."""
    if sid != base:
        why = f"the LMS user id {owner.uid}" if sid == f"{base}_{owner.uid}" else "a hash of the name"
        return (f"submitted as '{owner.raw}'; another student's name also gives the id '{base}', "
                f"so this one ends in {why}")
    with suppress(ValueError):
        if student_id(owner.raw) == sid:
            return None
    return f"submitted as '{owner.raw}'"  # a made-up or shortened id


def _safe_id(raw: str) -> str:
    """``student_id(raw)``, shortened to ``MAX_ID_CHARS``; a stable made-up id if nothing is left."""
    try:
        sid = student_id(raw)
    except ValueError:  # e.g. a name in a non-Latin script: a stable made-up id, never a lost file
        return "student_" + _hash(raw)
    return sid if len(sid) <= MAX_ID_CHARS else f"{sid[:MAX_ID_CHARS - 9]}_{_hash(raw)}"


def _hash(text: str) -> str:
    """A short stable hash of ``text``: 8 hex digits."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


# --- writing a student's folder -----------------------------------------------------------------

def _place(files: list[tuple[str, _Entry, float]], notes: list[str]) -> dict[str, tuple[_Entry, float]]:
    """Paths in the week folder: a leading folder common to all is dropped, and of files with the
    same path the newest keeps it while older ones get a copy suffix (for normalise_folder)."""
    split = [f[0].split("/") for f in files]
    depth = 0
    while split and all(len(s) > depth + 1 and s[depth] == split[0][depth] for s in split):
        depth += 1
    placed: dict[str, tuple[_Entry, float]] = {}
    for parts, (_, entry, mtime) in sorted(zip(split, files), key=lambda x: -x[1][2]):
        path = original = "/".join(parts[depth:])
        stem, ext = os.path.splitext(original)
        for n in range(2, len(files) + 2):
            if path not in placed:
                break
            path = f"{stem} ({n}){ext}"
        if path != original:
            notes.append(f"'{original}' was submitted more than once; an older copy is '{path}'")
        placed[path] = (entry, mtime)
    return placed


def _write(target: Path, files: dict[str, tuple[_Entry, float]], expected: list[str]) -> list[str]:
    """Build the folder beside ``target``, normalise it, then swap it in; returns the notes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        notes = _fill(new, files)
        notes += normalise_folder(new, expected)
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        if target.exists():
            target.rename(old / target.name)
        new.rename(target)
        shutil.rmtree(old)
    finally:
        shutil.rmtree(new, ignore_errors=True)  # only still there if something failed
    return notes


def _fill(folder: Path, files: dict[str, tuple[_Entry, float]]) -> list[str]:
    """Stream ``files`` into ``folder``, notebooks first and then the smallest, within
    ``MAX_STUDENT_BYTES`` in all; returns a note for each file skipped."""
    notes, budget = [], MAX_STUDENT_BYTES
    order = sorted(files.items(), key=lambda f: (not f[0].lower().endswith(".ipynb"), f[1][0].size, f[0]))
    for rel, (entry, mtime) in order:
        try:
            budget -= _copy(entry, folder / rel, budget, mtime)
        except _Skip as e:
            notes.append(f"skipped '{rel}': {e}")
        except OSError as e:  # e.g. a name too long for the file system
            notes.append(f"skipped '{rel}': it could not be copied ({e.strerror or e})")
        except _UNREADABLE as e:
            notes.append(f"skipped '{rel}': it could not be read from the zip ({type(e).__name__}: {e})")
    return notes


def _copy(entry: _Entry, dest: Path, budget: int, mtime: float | None = None) -> int:
    """Stream ``entry`` to ``dest`` and return its size; ``_Skip`` once it passes a cap.

    The size a zip's header claims is checked first and the bytes actually read as they come,
    so a header that lies gains nothing; a file not copied whole is removed.
    """
    limit, why = _limit(entry, budget)
    if entry.size > limit:
        raise _Skip(why)
    dest.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with entry.open() as stream, open(dest, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise _Skip(why)
                out.write(chunk)
        if mtime is not None:
            os.utime(dest, (mtime, mtime))
    except BaseException:
        with suppress(OSError):
            dest.unlink()
        raise
    return size


def _limit(entry: _Entry, budget: int) -> tuple[int, str]:
    """The most bytes ``entry`` may unpack to, and why if it has more."""
    caps = [(MAX_FILE_BYTES, f"larger than the {_mib(MAX_FILE_BYTES)} limit for one file"),
            (budget, f"with it this student's files would pass the {_mib(MAX_STUDENT_BYTES)} limit for one student")]
    if entry.packed is not None:  # a zip bomb: little compressed data that unpacks to a lot
        caps.append((max(RATIO_FLOOR, MAX_RATIO * entry.packed), f"it unpacks to over {MAX_RATIO} times its size "
                     f"in the zip and to over {_mib(RATIO_FLOOR)}, as a zip bomb does"))
    return min(caps, key=lambda cap: cap[0])


def _mib(n: int) -> str:
    """``n`` bytes in MiB, e.g. ``"64 MiB"``."""
    return f"{n / 2**20:g} MiB"


# --- notebook names ------------------------------------------------------------------------------

def _variants(name: str) -> Iterator[str]:
    """The lowercase stem of ``name``, then with copy markers stripped one at a time."""
    stem = name.lower().removesuffix(".ipynb").strip()
    while stem:
        yield stem
        stem, previous = _COPY.sub("", stem, count=1).strip(), stem
        if stem == previous:
            return


def _match(name: str, expected: list[str]) -> str | None:
    """The released name a notebook file stands for, or None."""
    by_stem = {e.lower().removesuffix(".ipynb"): e for e in expected}
    for stem in _variants(name):
        for low, real in by_stem.items():  # exact, or after a student or Canvas prefix
            if stem == low or re.search(r"[ _-]" + re.escape(low) + "$", stem):
                return real
    graded = [e for e in expected if e not in UNGRADED]
    return graded[0] if len(graded) == 1 else None


def _settle(folder: Path, target: str, paths: list[Path]) -> list[str]:
    """Leave one readable notebook named ``target``; set aside unreadable ones and duplicates."""
    notes, reasons = [], {p: _unreadable(p) for p in paths}
    valid = [p for p in paths if not reasons[p]]
    for p in (p for p in paths if reasons[p]):
        p.rename(_free(p.with_name(p.name + ".invalid")))
        fate = f"{target} is graded from another file" if valid else "graded as an empty submission"
        notes.append(f"{p.name} is not a readable notebook ({reasons[p]}); {fate}")
    if not valid:
        return notes
    keep = next((p for p in valid if p.name == target), None) or max(valid, key=lambda p: (p.stat().st_mtime, p.name))
    for p in (p for p in valid if p != keep):
        spare = _free(p.with_name(p.name + ".duplicate"))
        p.rename(spare)
        notes.append(f"'{p.name}' is another copy of {target}: kept '{keep.name}', this one is now '{spare.name}'")
    if keep.name != target:
        keep.rename(folder / target)
        notes.append(f"renamed '{keep.name}' to '{target}'")
    return notes


def _unreadable(path: Path) -> str | None:
    """Why ``path`` is not a valid nbformat-4 notebook, or None if it is one."""
    try:
        json.loads(path.read_bytes())
        nbformat.validate(nbformat.read(path, as_version=4))
    except json.JSONDecodeError as e:
        return f"JSON error at line {e.lineno} column {e.colno}"
    except Exception as e:  # nbformat raises many kinds; any of them means "cannot grade"
        return f"{type(e).__name__}: {str(e).strip()[:80]}".splitlines()[0].rstrip(": ")
    return None


def _free(path: Path) -> Path:
    """``path``, or ``path`` with a number appended if that name is taken; either made short enough
    for the file system (see ``_fit``)."""
    free, n = _fit(path), 1
    while free.exists():
        n += 1
        free = _fit(path.with_name(f"{path.name}{n}"))
    return free


def _fit(path: Path) -> Path:
    """``path`` with characters cut before the last 30 of its name until it has ``NAME_MAX`` bytes."""
    name = path.name
    while len(os.fsencode(name)) > NAME_MAX:
        name = name[:-31] + name[-30:]
    return path.with_name(name)
