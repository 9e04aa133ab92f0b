"""Put a week's downloaded submissions where nbgrader wants them: ``<submitted>/<student>/<week>/``.

The layout (Moodle folders; Canvas, Blackboard or plain flat files) is detected per file;
``normalise_folder`` then gives the notebooks their released names without deleting anything.
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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat

UNGRADED = ("lesson.ipynb", "quiz.ipynb")
JUNK_DIRS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__"}
JUNK_FILES = {".DS_Store", "Thumbs.db"}
_MOODLE = re.compile(r"^(.+?)_\d+_assignsubmission_")  # "Ada Lovelace_123456_assignsubmission_file_"
_CANVAS = re.compile(r"^([^_]+)(?:_LATE)?_\d+_\d+_(.+)$")  # "lovelaceada_LATE_12345_67890_homework-1.ipynb"
_BLACKBOARD = re.compile(r"^.+_([^_]+)_attempt_(\d{4}(?:-\d\d){5})(?:_(.+)|\.txt)$")
_COPY = re.compile(r"^copy of |(?: ?\(\d+\)|[-_]\d+| copy| - copy)$")  # one copy marker


@dataclass
class Collected:
    student: str  # normalised id
    files: list[str]  # paths written, relative to <submitted_dir>/<student>/<week>/
    notes: list[str]  # human-readable lines: renames, ambiguities, skipped files


def student_id(raw: str) -> str:
    """Normalise a name to an nbgrader-safe id, e.g. ``"Zoë O'Brien" -> "zoe_o_brien"``.

    Accents are folded to ASCII, the text is lowercased and every run of characters other than
    ``[a-z0-9]`` becomes ``_``. Raises ``ValueError`` if nothing is left.
    """
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    if not (sid := re.sub(r"[^a-z0-9]+", "_", folded).strip("_")):
        raise ValueError(f"no usable characters for a student id in {raw!r}")
    return sid


def collect(source: Path, submitted_dir: Path, week: str, expected: list[str]) -> list[Collected]:
    """Write each student's files from ``source`` (a .zip or a folder) to
    ``submitted_dir/<student>/<week>/``, normalised; one ``Collected`` per student, sorted.

    A student's old folder for ``week`` is swapped for the new one only once that is complete.
    Unsafe zip entries (absolute or with ``..``) are never written; each is noted for the student
    it names, or for everyone. ``ValueError`` for a bad ``week``, ``source`` or no submissions.
    """
    if week in ("", ".", "..") or re.search(r"[/\\]", week):
        raise ValueError(f"not a week folder name: {week!r}")
    entries, unsafe = _read(Path(source), expected)
    known = {_assign(p, expected)[0] for p, _, _ in entries if p[-1].lower().endswith(".ipynb")}
    students: dict[str, tuple[list, list[str], set[str]]] = {}  # id -> (files, notes, raw names)
    for parts, data, mtime in entries:
        raw, inner, when = _assign(parts, expected, known)
        files, notes, names = students.setdefault(_safe_id(raw), ([], [], set()))
        names.add(raw)
        if inner:
            files.append((inner, data, when or mtime))
        else:
            notes.append(f"skipped Blackboard receipt '{parts[-1]}'")
    if not students:
        raise ValueError(f"no submissions found in {source}" + "".join(f"; {n}" for _, n in unsafe))
    for parts, note in unsafe:
        sid = _safe_id(_assign(parts, expected)[0]) if parts else ""
        for s in [sid] if sid in students else students:
            students[s][1].append(note)
    results = []
    for sid, (files, notes, names) in sorted(students.items()):
        if len(names) > 1 or re.fullmatch(r"student_[0-9a-f]{8}", sid):  # merged, or a made-up id
            notes.insert(0, "submitted as " + ", ".join(f"'{n}'" for n in sorted(names)))
        target = Path(submitted_dir) / sid / week
        notes += _write(target, _place(files, notes), expected)
        written = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
        results.append(Collected(sid, written, notes))
    return results


def normalise_folder(folder: Path, expected: list[str]) -> list[str]:
    """Fix one student's week folder in place and return notes.

    Each ``*.ipynb`` directly in ``folder`` is matched to a released name (ignoring case, copy
    suffixes and student prefixes) and renamed to it. Of several copies the exactly named one,
    else the newest, is kept and the others become ``<name>.duplicate``; unreadable notebooks
    become ``<name>.invalid``. Nothing is deleted, and a second run changes nothing.
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
        if name != "lesson.ipynb" and name not in groups and not (Path(folder) / name).exists():
            bad = [p for p in sorted(Path(folder).glob("*.invalid")) if _match(p.stem, expected) == name]
            notes.append(f"{bad[0].stem} is not a readable notebook ({_unreadable(bad[0])}); graded as an empty "
                         f"submission" if bad else f"{name} is missing")  # the same words every time
    return notes


# --- reading a download --------------------------------------------------------------------------

def _read(source: Path, expected: list[str]) -> tuple[list[tuple[tuple[str, ...], bytes, float]], list]:
    """Useful files as (path parts, content, modification time) and unsafe zip entries as
    (their harmless parts, a note), both without a wrapper folder."""
    entries, unsafe = [], []
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            entries.append((path.relative_to(source).parts, path.read_bytes(), path.stat().st_mtime))
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in (i for i in archive.infolist() if not i.is_dir()):
                parts = tuple(p for p in re.split(r"[/\\]", info.filename) if p not in ("", "."))
                if ".." in parts or re.match(r"[/\\]|[A-Za-z]:", info.filename):
                    harmless = tuple(p for p in parts if p != ".." and not p.endswith(":"))
                    unsafe.append((harmless, f"rejected unsafe zip entry '{info.filename}'"))
                elif parts:
                    entries.append((parts, archive.read(info), datetime(*info.date_time).timestamp()))
    else:
        raise ValueError(f"{source} is neither a folder nor a zip file")
    entries = [e for e in entries if not (JUNK_DIRS.intersection(e[0]) or e[0][-1] in JUNK_FILES
                                          or e[0][-1].startswith("._"))]
    tops = {p[:1] for p, _, _ in entries}
    inner = [p[1:] for p, _, _ in entries]
    if len(tops) == 1 and all(inner) and _is_class(inner, expected):
        entries = [(p[1:], d, m) for p, d, m in entries]  # one wrapper folder around everything
        unsafe = [(p[1:] if p[:1] in tops else p, n) for p, n in unsafe]
    return entries, unsafe


def _is_class(paths: list[tuple[str, ...]], expected: list[str]) -> bool:
    """Whether these paths are a class's files rather than one student's folder."""
    if any(rx.match(p[0]) for p in paths for rx in (_MOODLE, _CANVAS, _BLACKBOARD)):
        return True
    released = {e.lower() for e in expected}
    if any(len(p) == 1 and any(v + ".ipynb" in released for v in _variants(p[0])) for p in paths):
        return False  # "homework.ipynb" carries no student name: a student's own folder
    return len({_assign(p, expected)[0] for p in paths if p[-1].lower().endswith(".ipynb")}) > 1


def _assign(parts: tuple[str, ...], expected: list[str], known: frozenset[str] | set[str] = frozenset()
            ) -> tuple[str, str, float | None]:
    """(raw student name, path in the student's folder or "" to skip, submission time if named)."""
    if len(parts) > 1:
        moodle = _MOODLE.match(parts[0])
        return (moodle.group(1) if moodle else parts[0]), "/".join(parts[1:]), None
    name, stem = parts[0], os.path.splitext(parts[0])[0]
    if m := _BLACKBOARD.match(name):
        return m.group(1), m.group(3) or "", datetime.strptime(m.group(2), "%Y-%m-%d-%H-%M-%S").timestamp()
    if m := _CANVAS.match(name):
        return m.group(1), m.group(2), None
    for e in expected:  # "ada_homework.ipynb", "ada_homework (1).ipynb"
        if (i := stem.lower().rfind("_" + Path(e).stem.lower())) > 0:
            return stem[:i], name[i + 1:], None
    owner = max((k for k in known if stem.startswith(k + "_")), key=len, default=None)
    if owner and not name.lower().endswith(".ipynb"):  # "ada_lovelace_data.csv" by "ada_lovelace.ipynb"
        return owner, name[len(owner) + 1:], None
    return stem, name, None


def _safe_id(raw: str) -> str:
    try:
        return student_id(raw)
    except ValueError:  # e.g. a name in a non-Latin script: a stable made-up id, never a lost file
        return "student_" + hashlib.sha1(raw.encode()).hexdigest()[:8]


# --- writing a student's folder -----------------------------------------------------------------

def _place(files: list[tuple[str, bytes, float]], notes: list[str]) -> dict[str, tuple[bytes, float]]:
    """Paths in the week folder: a leading folder common to all is dropped, and of files with the
    same path the newest keeps it while older ones get a copy suffix (for normalise_folder)."""
    split = [f[0].split("/") for f in files]
    depth = 0
    while split and all(len(s) > depth + 1 and s[depth] == split[0][depth] for s in split):
        depth += 1
    placed: dict[str, tuple[bytes, float]] = {}
    for parts, (_, data, mtime) in sorted(zip(split, files), key=lambda x: -x[1][2]):
        path = original = "/".join(parts[depth:])
        stem, ext = os.path.splitext(original)
        for n in range(2, len(files) + 2):
            if path not in placed:
                break
            path = f"{stem} ({n}){ext}"
        if path != original:
            notes.append(f"'{original}' was submitted more than once; an older copy is '{path}'")
        placed[path] = (data, mtime)
    return placed


def _write(target: Path, files: dict[str, tuple[bytes, float]], expected: list[str]) -> list[str]:
    """Build the folder beside ``target``, normalise it, then swap it in; returns the notes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        for rel, (data, mtime) in files.items():
            (new / rel).parent.mkdir(parents=True, exist_ok=True)
            (new / rel).write_bytes(data)
            os.utime(new / rel, (mtime, mtime))
        notes = normalise_folder(new, expected)
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        if target.exists():
            target.rename(old / target.name)
        new.rename(target)
        shutil.rmtree(old)
    finally:
        shutil.rmtree(new, ignore_errors=True)  # only still there if something failed
    return notes


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
    """``path``, or ``path`` with a number appended if that name is taken."""
    free, n = path, 1
    while free.exists():
        n += 1
        free = path.with_name(f"{path.name}{n}")
    return free
