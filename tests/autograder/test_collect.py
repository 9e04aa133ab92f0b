"""autograder.collect: LMS downloads become <submitted>/<student>/<week>/ with the released names."""

import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.collect import collect, normalise_folder, student_id

WEEK = "week01_perceptron"
EXPECTED = ["homework.ipynb", "lesson.ipynb", "quiz.ipynb"]
TWO_GRADED = ["homework.ipynb", "project.ipynb"]  # no single-notebook fallback: names must match


def notebook(source="x = 1"):
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]))


def make_zip(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


def make_dir(path, files):
    for name, content in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(content, encoding="utf-8")
    return path


def cell(path):
    return nbformat.read(path, as_version=4).cells[0].source


def by_student(results):
    return {r.student: r for r in results}


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- student ids -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, sid", [
    ("Ada Lovelace", "ada_lovelace"), ("Zoë O'Brien", "zoe_o_brien"),
    ("  __José--María  ", "jose_maria"), ("lovelaceada", "lovelaceada"), ("Ünal 2", "unal_2"),
])
def test_student_id(raw, sid):
    assert student_id(raw) == sid


@pytest.mark.parametrize("raw", ["", "  ", "!!!", "李"])
def test_student_id_rejects_names_without_usable_characters(raw):
    with pytest.raises(ValueError):
        student_id(raw)


# --- layouts -----------------------------------------------------------------------------------

def test_moodle_zip_inside_a_wrapper_folder(tmp_path):
    source = make_zip(tmp_path / "subs.zip", {
        "week01 submissions/Ada Lovelace_123456_assignsubmission_file_/homework.ipynb": notebook("ada"),
        "week01 submissions/Alan Turing_654321_assignsubmission_file_/Homework (1).ipynb": notebook("alan"),
    })
    results = collect(source, tmp_path / "submitted", WEEK, EXPECTED)
    assert [r.student for r in results] == ["ada_lovelace", "alan_turing"]
    assert all(r.files == ["homework.ipynb"] for r in results)
    assert cell(tmp_path / "submitted/alan_turing" / WEEK / "homework.ipynb") == "alan"
    assert "renamed 'Homework (1).ipynb' to 'homework.ipynb'" in results[1].notes
    assert not any("quiz.ipynb" in n for r in results for n in r.notes)  # ungraded: never missing


def test_lone_moodle_folder_is_the_student_not_a_wrapper(tmp_path):
    source = make_zip(tmp_path / "one.zip", {"Ada Lovelace_1_assignsubmission_file_/homework.ipynb": notebook()})
    assert [r.student for r in collect(source, tmp_path / "out", WEEK, EXPECTED)] == ["ada_lovelace"]


def test_flat_files_inside_a_wrapper_folder(tmp_path):
    source = make_zip(tmp_path / "subs.zip", {"Homework 1/ada.ipynb": notebook("ada"),
                                              "Homework 1/bob.ipynb": notebook("bob")})
    results = collect(source, tmp_path / "submitted", WEEK, EXPECTED)
    assert [(r.student, r.files) for r in results] == [("ada", ["homework.ipynb"]), ("bob", ["homework.ipynb"])]
    assert cell(tmp_path / "submitted/bob" / WEEK / "homework.ipynb") == "bob"


def test_folder_per_student_from_a_directory_drops_a_common_subfolder(tmp_path):
    source = make_dir(tmp_path / "download", {
        "Ada Lovelace/homework.ipynb": notebook("ada"),
        "bob/week01/homework.ipynb": notebook("bob"),
        "bob/week01/data/points.csv": "x,y\n",
    })
    results = by_student(collect(source, tmp_path / "submitted", WEEK, EXPECTED))
    assert results["ada_lovelace"].files == ["homework.ipynb"]
    assert results["bob"].files == ["data/points.csv", "homework.ipynb"]
    assert cell(tmp_path / "submitted/bob" / WEEK / "homework.ipynb") == "bob"


def test_canvas_flat_files(tmp_path):
    source = make_zip(tmp_path / "canvas.zip", {
        "lovelaceada_12345_67890_homework.ipynb": notebook("ada"),
        "turingalan_LATE_22222_33333_homework-1.ipynb": notebook("alan"),
        "turingalan_LATE_22222_33333_helpers.py": "def f(): pass\n",
    })
    results = by_student(collect(source, tmp_path / "submitted", WEEK, EXPECTED))
    assert set(results) == {"lovelaceada", "turingalan"}
    assert results["lovelaceada"].files == ["homework.ipynb"]
    assert results["turingalan"].files == ["helpers.py", "homework.ipynb"]
    assert "renamed 'homework-1.ipynb' to 'homework.ipynb'" in results["turingalan"].notes
    assert cell(tmp_path / "submitted/turingalan" / WEEK / "homework.ipynb") == "alan"


def test_blackboard_flat_files_skip_receipts_and_keep_the_latest_attempt(tmp_path):
    source = make_zip(tmp_path / "bb.zip", {
        "Homework 1_ada_attempt_2026-11-20-10-15-00_homework.ipynb": notebook("second"),
        "Homework 1_ada_attempt_2026-11-19-09-00-00_homework.ipynb": notebook("first"),
        "Homework 1_ada_attempt_2026-11-20-10-15-00.txt": "receipt",
    })
    [ada] = collect(source, tmp_path / "submitted", WEEK, EXPECTED)
    folder = tmp_path / "submitted/ada" / WEEK
    assert ada.student == "ada"
    assert ada.files == ["homework (2).ipynb.duplicate", "homework.ipynb"]
    assert cell(folder / "homework.ipynb") == "second"
    assert cell(folder / "homework (2).ipynb.duplicate") == "first"
    assert "skipped Blackboard receipt 'Homework 1_ada_attempt_2026-11-20-10-15-00.txt'" in ada.notes


def test_plain_flat_files(tmp_path):
    source = make_dir(tmp_path / "download", {
        "ada.ipynb": notebook("ada"),
        "bob_homework.ipynb": notebook("bob"),
        "bob_helpers.py": "",
        "carl_lovelace_homework (1).ipynb": notebook("carl"),
    })
    results = by_student(collect(source, tmp_path / "submitted", WEEK, EXPECTED))
    assert set(results) == {"ada", "bob", "carl_lovelace"}
    assert "renamed 'ada.ipynb' to 'homework.ipynb'" in results["ada"].notes
    assert results["bob"].files == ["helpers.py", "homework.ipynb"]
    assert results["bob"].notes == []  # nothing renamed, and the ungraded quiz is not missed
    assert cell(tmp_path / "submitted/carl_lovelace" / WEEK / "homework.ipynb") == "carl"


def test_junk_is_skipped_and_extra_files_kept(tmp_path):
    source = make_zip(tmp_path / "subs.zip", {
        "ada/homework.ipynb": notebook(),
        "ada/data.csv": "1,2\n",
        "ada/helpers.py": "x = 1\n",
        "ada/.ipynb_checkpoints/homework-checkpoint.ipynb": notebook(),
        "ada/__pycache__/helpers.cpython-312.pyc": "",
        "ada/.DS_Store": "", "ada/Thumbs.db": "",
        "__MACOSX/ada/._homework.ipynb": "",
        "bob/homework.ipynb": notebook(),
    })
    results = by_student(collect(source, tmp_path / "submitted", WEEK, EXPECTED))
    assert set(results) == {"ada", "bob"}
    assert results["ada"].files == ["data.csv", "helpers.py", "homework.ipynb"]
    assert listing(tmp_path / "submitted/ada") == [f"{WEEK}/data.csv", f"{WEEK}/helpers.py", f"{WEEK}/homework.ipynb"]


def test_zip_slip_entries_are_rejected(tmp_path):
    source = make_zip(tmp_path / "evil.zip", {
        "ada/homework.ipynb": notebook(),
        "ada/../../escaped.py": "boom",
        "../outside.ipynb": notebook(),
        "/etc/absolute.py": "boom",
        "..\\windows.py": "boom",
        "bob/homework.ipynb": notebook(),
    })
    submitted = tmp_path / "deep/submitted"
    results = by_student(collect(source, submitted, WEEK, EXPECTED))
    assert set(results) == {"ada", "bob"}
    assert listing(tmp_path) == ["deep/submitted/ada/week01_perceptron/homework.ipynb",
                                 "deep/submitted/bob/week01_perceptron/homework.ipynb", "evil.zip"]
    assert "rejected unsafe zip entry 'ada/../../escaped.py'" in results["ada"].notes
    assert "rejected unsafe zip entry 'ada/../../escaped.py'" not in results["bob"].notes
    for r in results.values():  # an entry that names nobody concerns everyone
        assert "rejected unsafe zip entry '../outside.ipynb'" in r.notes
        assert "rejected unsafe zip entry '/etc/absolute.py'" in r.notes
        assert "rejected unsafe zip entry '..\\windows.py'" in r.notes


def test_recollecting_replaces_the_old_week_folder_only(tmp_path):
    submitted = tmp_path / "submitted"
    first = make_zip(tmp_path / "first.zip", {"ada/homework.ipynb": notebook("old"), "ada/old.csv": ""})
    second = make_zip(tmp_path / "second.zip", {"ada/homework.ipynb": notebook("new")})
    collect(first, submitted, WEEK, EXPECTED)
    collect(first, submitted, "week02_mlp", ["homework.ipynb"])
    [ada] = collect(second, submitted, WEEK, EXPECTED)
    assert ada.files == ["homework.ipynb"]
    assert cell(submitted / "ada" / WEEK / "homework.ipynb") == "new"
    assert sorted(p.name for p in (submitted / "ada").iterdir()) == ["week01_perceptron", "week02_mlp"]
    assert listing(submitted / "ada/week02_mlp") == ["homework.ipynb", "old.csv"]


def test_a_failed_collection_leaves_the_old_folder_alone(tmp_path, monkeypatch):
    submitted = tmp_path / "submitted"
    collect(make_zip(tmp_path / "a.zip", {"ada/homework.ipynb": notebook("old")}), submitted, WEEK, EXPECTED)

    def broken(folder, expected):
        raise OSError("disk full")

    monkeypatch.setattr("autograder.collect.normalise_folder", broken)
    with pytest.raises(OSError):
        collect(make_zip(tmp_path / "b.zip", {"ada/homework.ipynb": notebook("new")}), submitted, WEEK, EXPECTED)
    assert listing(submitted) == [f"ada/{WEEK}/homework.ipynb"]  # no half-written or temporary folder
    assert [p.name for p in (submitted / "ada").iterdir()] == [WEEK]
    assert cell(submitted / "ada" / WEEK / "homework.ipynb") == "old"


def test_names_without_usable_characters_get_a_stable_id(tmp_path):
    source = make_dir(tmp_path / "download", {"李/homework.ipynb": notebook()})
    [first] = collect(source, tmp_path / "a", WEEK, EXPECTED)
    [again] = collect(source, tmp_path / "b", WEEK, EXPECTED)
    assert first.student == again.student and first.student.startswith("student_")
    assert "submitted as '李'" in first.notes


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="no submissions"):
        collect(make_zip(tmp_path / "empty.zip", {"__MACOSX/x": ""}), tmp_path / "s", WEEK, EXPECTED)
    with pytest.raises(ValueError, match="week"):
        collect(make_zip(tmp_path / "a.zip", {"ada.ipynb": notebook()}), tmp_path / "s", "../x", EXPECTED)
    with pytest.raises(ValueError, match="neither"):
        collect(make_dir(tmp_path, {"notes.txt": ""}) / "notes.txt", tmp_path / "s", WEEK, EXPECTED)



# --- who a file belongs to -----------------------------------------------------------------------

TRAP = "eve_attempt_2099-01-01-00-00-00_homework.ipynb"  # a name a student may give their own file


@pytest.mark.parametrize("honest, crafted, uploader", [
    ("Homework 1_eve_attempt_2026-11-20-10-15-00_homework.ipynb",
     f"Homework 1_mallory_attempt_2026-11-20-11-00-00_x_{TRAP}", "mallory"),
    ("Homework 1_eve_attempt_2026-11-20-10-15-00_homework.ipynb",
     "Homework 1_mallory_attempt_2026-11-20-11-00-00_eve_attempt_2099-01-01-00-00-00.txt", "mallory"),
    ("eve_11_12_homework.ipynb", f"mallory_21_22_{TRAP}", "mallory"),
    ("eve_11_12_homework.ipynb", f"mallory_LATE_21_22_{TRAP}", "mallory"),
    ("eve_11_12_homework.ipynb", "mallory_21_22_eve_11_12_homework.ipynb", "mallory"),
    # read as Blackboard's, the username is the field Canvas wrote before it (a submission id), never a chosen name
    ("eve_11_12_homework.ipynb", "mallory_21_22_attempt_2099-01-01-00-00-00_homework.ipynb", "22"),
    ("Eve Adams_11_assignsubmission_file_homework.ipynb",
     f"Mallory Smith_21_assignsubmission_file_Eve Adams_11_assignsubmission_file_{TRAP}", "mallory_smith"),
    ("Eve Adams_11_assignsubmission_file_/homework.ipynb",
     f"Mallory Smith_21_assignsubmission_file_/Eve Adams_11_assignsubmission_file_/{TRAP}", "mallory_smith"),
])
def test_a_name_the_student_chose_never_decides_whose_file_it_is(tmp_path, honest, crafted, uploader):
    source = make_zip(tmp_path / "download.zip", {honest: notebook("eve's"), crafted: notebook("not eve's")})
    results = by_student(collect(source, tmp_path / "submitted", WEEK, EXPECTED))
    eve = next(sid for sid in results if sid.startswith("eve"))
    assert set(results) == {eve, uploader}
    assert results[eve].files == ["homework.ipynb"]
    assert cell(tmp_path / "submitted" / eve / WEEK / "homework.ipynb") == "eve's"
    assert len(results[uploader].files) == 1


def test_blackboard_assignment_named_like_canvas_fields(tmp_path):
    source = make_zip(tmp_path / "bb.zip", {  # "Week_1" and numeric usernames: also a Canvas name's shape
        "Week_1_2024001_attempt_2026-11-20-10-15-00_homework.ipynb": notebook("first"),
        "Week_1_2024001_attempt_2026-11-20-10-15-00.txt": "receipt",
        "Week_1_2024002_attempt_2026-13-45-99-00-00_homework.ipynb": notebook("second"),  # no such date
    })
    results = by_student(collect(source, tmp_path / "submitted", WEEK, EXPECTED))
    assert {sid: r.files for sid, r in results.items()} == {"2024001": ["homework.ipynb"],
                                                             "2024002": ["homework.ipynb"]}
    assert cell(tmp_path / "submitted/2024002" / WEEK / "homework.ipynb") == "second"
    assert "skipped Blackboard receipt 'Week_1_2024001_attempt_2026-11-20-10-15-00.txt'" in results["2024001"].notes


def test_names_that_normalise_alike_are_never_merged(tmp_path):
    moodle = make_zip(tmp_path / "moodle.zip", {
        "Zoë Martin_111_assignsubmission_file_/homework.ipynb": notebook("zoë"),
        "Zoë Martin_111_assignsubmission_file_/data.csv": "1\n",
        "Zoë Martin_111_assignsubmission_onlinetext_/onlinetext.html": "<p>hi</p>",
        "Zoe Martin_222_assignsubmission_file_/homework.ipynb": notebook("zoe"),
        "Ada Lovelace_333_assignsubmission_file_/homework.ipynb": notebook("ada"),
    })
    results = by_student(collect(moodle, tmp_path / "moodle", WEEK, EXPECTED))
    assert set(results) == {"ada_lovelace", "zoe_martin_111", "zoe_martin_222"}  # one id per person
    assert results["zoe_martin_111"].files == ["data.csv", "homework.ipynb", "onlinetext.html"]
    assert cell(tmp_path / "moodle/zoe_martin_111" / WEEK / "homework.ipynb") == "zoë"
    assert cell(tmp_path / "moodle/zoe_martin_222" / WEEK / "homework.ipynb") == "zoe"
    assert results["zoe_martin_111"].notes[0] == (
        "submitted as 'Zoë Martin'; another student's name also gives the id 'zoe_martin', "
        "so this one ends in the LMS user id 111")
    assert results["ada_lovelace"].notes == []

    folders = make_dir(tmp_path / "folders", {"Zoë Martin/homework.ipynb": notebook("zoë"),
                                              "Zoe Martin/homework.ipynb": notebook("zoe")})
    first = collect(folders, tmp_path / "a", WEEK, EXPECTED)
    assert [r.student for r in first] == [r.student for r in collect(folders, tmp_path / "b", WEEK, EXPECTED)]
    assert len({r.student for r in first}) == 2 and all(r.student.startswith("zoe_martin_") for r in first)
    assert all(r.notes[0].endswith("so this one ends in a hash of the name") for r in first)
    assert sorted(cell(tmp_path / "a" / r.student / WEEK / "homework.ipynb") for r in first) == ["zoe", "zoë"]


def test_two_canvas_students_with_one_name_stay_apart(tmp_path):
    source = make_zip(tmp_path / "canvas.zip", {"smithjohn_1_10_homework.ipynb": notebook("first"),
                                                "smithjohn_1_11_helpers.py": "",
                                                "smithjohn_2_20_homework.ipynb": notebook("second")})
    results = by_student(collect(source, tmp_path / "submitted", WEEK, EXPECTED))
    assert {sid: r.files for sid, r in results.items()} == {
        "smithjohn_1": ["helpers.py", "homework.ipynb"], "smithjohn_2": ["homework.ipynb"]}
    assert cell(tmp_path / "submitted/smithjohn_2" / WEEK / "homework.ipynb") == "second"


# --- hostile or broken downloads -----------------------------------------------------------------

def test_a_file_that_cannot_be_written_is_skipped_and_the_rest_collected(tmp_path):
    long = "x" * 300 + ".csv"  # too long a name for any file system
    copies = "Copy of " * 30 + "homework.ipynb"  # 254 bytes: its ".duplicate" name would be too long
    source = make_zip(tmp_path / "canvas.zip", {
        "lovelaceada_1_2_homework.ipynb": notebook("ada"),
        f"lovelaceada_1_2_{long}": "1\n",
        f"lovelaceada_1_2_{copies}": notebook("copy"),
        "lovelaceada_1_2_helpers.py": "",
        "turingalan_3_4_homework.ipynb": notebook("alan"),
        "y" * 300 + "/homework.ipynb": notebook("long name"),
    })
    results = by_student(collect(source, tmp_path / "submitted", WEEK, EXPECTED))
    ada = results["lovelaceada"]
    assert f"skipped '{long}': it could not be copied (File name too long)" in ada.notes
    assert [f for f in ada.files if not f.endswith(".duplicate")] == ["helpers.py", "homework.ipynb"]
    [spare] = [f for f in ada.files if f.endswith(".duplicate")]
    assert len(spare.encode()) <= 255 and spare.startswith("Copy of Copy of")
    assert cell(tmp_path / "submitted/lovelaceada" / WEEK / "homework.ipynb") == "ada"
    assert results["turingalan"].files == ["homework.ipynb"]
    [other] = set(results) - {"lovelaceada", "turingalan"}
    assert other.startswith("yyyy") and len(other) <= 100
    assert results[other].notes == ["submitted as '" + "y" * 300 + "'"]


def test_an_entry_that_cannot_be_read_is_skipped(tmp_path):
    source = make_zip(tmp_path / "subs.zip", {"ada/homework.ipynb": notebook(), "ada/data.csv": "MARKER" * 100,
                                              "bob/homework.ipynb": notebook()})
    with zipfile.ZipFile(source, "a") as archive:  # a zeroed DOS date: month 0, day 0
        archive.writestr(zipfile.ZipInfo("bob/notes.txt", (1980, 0, 0, 0, 0, 0)), "hi")
    raw = source.read_bytes()
    source.write_bytes(raw.replace(b"MARKERMARKER", b"MARKERMARKEX", 1))  # stored data no longer matches its CRC
    results = by_student(collect(source, tmp_path / "submitted", WEEK, EXPECTED))
    assert results["ada"].files == ["homework.ipynb"] and results["bob"].files == ["homework.ipynb", "notes.txt"]
    assert any(n.startswith("skipped 'data.csv': it could not be read from the zip (BadZipFile")
               for n in results["ada"].notes)


def test_files_over_the_size_caps_are_skipped_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr("autograder.collect.MAX_FILE_BYTES", 2 * 2**20)
    monkeypatch.setattr("autograder.collect.MAX_STUDENT_BYTES", 5 * 2**20)
    big, part = os.urandom(2 * 2**20 + 1), os.urandom(2 * 2**20)  # random bytes do not compress
    source = make_zip(tmp_path / "subs.zip", {
        "ada/homework.ipynb": notebook(), "ada/big.bin": big,
        "bob/homework.ipynb": notebook(), "bob/a.bin": part, "bob/b.bin": part, "bob/c.bin": part,
    })
    results = by_student(collect(source, tmp_path / "zip", WEEK, EXPECTED))
    assert results["ada"].files == ["homework.ipynb"]
    assert "skipped 'big.bin': larger than the 2 MiB limit for one file" in results["ada"].notes
    assert results["bob"].files == ["a.bin", "b.bin", "homework.ipynb"]  # notebooks first, then small to large
    assert ("skipped 'c.bin': with it this student's files would pass the 5 MiB limit for one student"
            in results["bob"].notes)
    folder = make_dir(tmp_path / "download", {"ada/homework.ipynb": notebook(), "bob/homework.ipynb": notebook()})
    (folder / "ada/big.bin").write_bytes(big)
    results = by_student(collect(folder, tmp_path / "folder", WEEK, EXPECTED))  # the same caps for a folder
    assert results["ada"].files == ["homework.ipynb"]
    assert "skipped 'big.bin': larger than the 2 MiB limit for one file" in results["ada"].notes


def test_an_overcompressed_entry_is_refused(tmp_path):
    source = tmp_path / "subs.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ada/homework.ipynb", notebook())
        archive.writestr("ada/zeros.bin", bytes(5 * 2**20))  # 5 MiB in about 5 KB: about 1000 to 1
        archive.writestr("ada/small_zeros.bin", bytes(2**20))  # as compressed, but only 1 MiB
    [ada] = collect(source, tmp_path / "submitted", WEEK, EXPECTED)
    assert ada.files == ["homework.ipynb", "small_zeros.bin"]
    [note] = [n for n in ada.notes if "zeros.bin" in n]
    assert note.startswith("skipped 'zeros.bin': it unpacks to over 200 times its size in the zip")


def test_a_stream_longer_than_its_header_says_is_cut_off(tmp_path, monkeypatch):
    from autograder import collect as module

    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = bytes(len(buffer))
            return len(buffer)

    monkeypatch.setattr(module, "MAX_FILE_BYTES", 3 * 2**20)
    liar = module._Entry(("ada", "x.bin"), lambda: io.BufferedReader(Endless()), 0.0, size=10)
    with pytest.raises(module._Skip, match="limit for one file"):
        module._copy(liar, tmp_path / "x.bin", budget=2**30)
    assert not (tmp_path / "x.bin").exists()


BOMB_RUN = """
import json, sys
from pathlib import Path
from autograder.collect import collect
results = collect(Path(sys.argv[1]), Path(sys.argv[2]), "week01", ["homework.ipynb"])
# VmHWM: this program's own peak (getrusage's ru_maxrss would also count the forking pytest worker's)
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"peak_kib": int(peak.split()[1]),
                  "notes": {r.student: r.notes for r in results}}))
"""


def test_a_zip_bomb_is_streamed_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ada/homework.ipynb", notebook())
        with archive.open("ada/zeros.bin", "w", force_zip64=True) as entry:
            for _ in range(1024):
                entry.write(bytes(2**20))  # 1 GiB of zeros, about 1 MB in the zip
    assert bomb.stat().st_size < 2 * 2**20

    def cap_address_space():  # a collection that reads it all fails here instead of taking the machine
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    run = subprocess.run([sys.executable, "-c", BOMB_RUN, str(bomb), str(tmp_path / "out")], capture_output=True,
                         text=True, timeout=300, preexec_fn=cap_address_space, cwd=Path(__file__).parents[2])
    assert run.returncode == 0, run.stderr[-2000:]  # reading it all into memory would raise MemoryError
    from autograder.collect import MAX_FILE_BYTES

    report = json.loads(run.stdout)
    assert report["peak_kib"] < 300 * 1024
    assert "skipped 'zeros.bin': larger than the 64 MiB limit for one file" in report["notes"]["ada"]
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert [p.name for p in written] == ["homework.ipynb"]
    assert all(p.stat().st_size <= MAX_FILE_BYTES for p in written)

# --- normalise_folder --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["homework (1).ipynb", "Homework.ipynb", "Copy of homework.ipynb",
                                  "homework-2.ipynb", "homework copy.ipynb", "Homework - Copy (2).ipynb",
                                  "lovelaceada_LATE_1_2_homework-1.ipynb", "HOMEWORK.IPYNB"])
def test_copy_and_case_variants_get_the_released_name(tmp_path, name):
    make_dir(tmp_path, {name: notebook("mine"), "project.ipynb": notebook()})
    notes = normalise_folder(tmp_path, TWO_GRADED)
    assert notes == [f"renamed '{name}' to 'homework.ipynb'"]
    assert listing(tmp_path) == ["homework.ipynb", "project.ipynb"]
    assert cell(tmp_path / "homework.ipynb") == "mine"


def test_unrecognised_names_use_the_single_graded_notebook_or_are_left_alone(tmp_path):
    make_dir(tmp_path / "one", {"my_work.ipynb": notebook()})
    assert normalise_folder(tmp_path / "one", EXPECTED) == [
        "renamed 'my_work.ipynb' to 'homework.ipynb'"]
    make_dir(tmp_path / "two", {"my_work.ipynb": notebook(), "homework.ipynb": notebook()})
    assert normalise_folder(tmp_path / "two", TWO_GRADED) == [
        "'my_work.ipynb' matches no released notebook; left as is", "project.ipynb is missing"]
    assert listing(tmp_path / "two") == ["homework.ipynb", "my_work.ipynb"]


def test_missing_notebooks_are_noted_except_ungraded_ones(tmp_path):
    assert normalise_folder(tmp_path, EXPECTED) == ["homework.ipynb is missing"]
    make_dir(tmp_path, {"homework.ipynb": notebook()})
    assert normalise_folder(tmp_path, EXPECTED) == []  # neither lesson.ipynb nor quiz.ipynb is asked for


def test_duplicates_keep_the_exact_name(tmp_path):
    make_dir(tmp_path, {"homework.ipynb": notebook("exact"), "homework (1).ipynb": notebook("copy")})
    os.utime(tmp_path / "homework.ipynb", (1_000, 1_000))  # older, but exactly named
    notes = normalise_folder(tmp_path, TWO_GRADED)
    assert listing(tmp_path) == ["homework (1).ipynb.duplicate", "homework.ipynb"]
    assert cell(tmp_path / "homework.ipynb") == "exact"
    assert any("homework (1).ipynb" in n and "duplicate" in n for n in notes)


def test_duplicates_without_an_exact_name_keep_the_newest(tmp_path):
    make_dir(tmp_path, {"Homework.ipynb": notebook("new"), "homework (1).ipynb": notebook("old"),
                        "Copy of homework.ipynb": notebook("older")})
    for name, mtime in [("Homework.ipynb", 3_000), ("homework (1).ipynb", 2_000), ("Copy of homework.ipynb", 1_000)]:
        os.utime(tmp_path / name, (mtime, mtime))
    notes = normalise_folder(tmp_path, TWO_GRADED)
    assert cell(tmp_path / "homework.ipynb") == "new"
    assert listing(tmp_path) == ["Copy of homework.ipynb.duplicate", "homework (1).ipynb.duplicate", "homework.ipynb"]
    assert "renamed 'Homework.ipynb' to 'homework.ipynb'" in notes


@pytest.mark.parametrize("text, reason", [
    ('{\n "cells": [\n  {\n    ,\n', "JSON error at line 4 column 5"),
    (notebook()[:60], "JSON error at line"),  # truncated upload
    ("", "JSON error at line 1 column 1"),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 5}', "TypeError"),
])
def test_unreadable_notebook_is_kept_as_invalid(tmp_path, text, reason):
    make_dir(tmp_path, {"homework.ipynb": text})
    notes = normalise_folder(tmp_path, TWO_GRADED)
    assert listing(tmp_path) == ["homework.ipynb.invalid"]
    assert (tmp_path / "homework.ipynb.invalid").read_text(encoding="utf-8") == text
    assert notes[0].startswith(f"homework.ipynb is not a readable notebook ({reason}")
    assert notes[0].endswith("); graded as an empty submission")
    assert notes[1:] == ["project.ipynb is missing"]  # no second note about homework.ipynb


def test_an_unreadable_copy_does_not_beat_a_readable_one(tmp_path):
    make_dir(tmp_path, {"homework.ipynb": notebook()[:50], "homework (1).ipynb": notebook("good")})
    notes = normalise_folder(tmp_path, ["homework.ipynb"])
    assert listing(tmp_path) == ["homework.ipynb", "homework.ipynb.invalid"]
    assert cell(tmp_path / "homework.ipynb") == "good"
    assert notes[-1] == "renamed 'homework (1).ipynb' to 'homework.ipynb'"


def test_normalise_is_idempotent(tmp_path):
    make_dir(tmp_path, {"Homework (1).ipynb": notebook("a"), "homework-2.ipynb": notebook("b"),
                        "quiz.ipynb": "{not json", "data.csv": "1\n"})
    first = normalise_folder(tmp_path, EXPECTED)
    before = {name: (tmp_path / name).read_bytes() for name in listing(tmp_path)}
    second = normalise_folder(tmp_path, EXPECTED)
    assert any(n.startswith("renamed") for n in first)
    assert not any("renamed" in n or "copy" in n for n in second)
    # the unreadable quiz is reported in the same words each time, so grading twice gives the same notes
    assert second == [n for n in first if n.startswith("quiz.ipynb is not a readable notebook")]
    assert len(second) == 1 and second[0].endswith("graded as an empty submission")
    assert {name: (tmp_path / name).read_bytes() for name in listing(tmp_path)} == before
