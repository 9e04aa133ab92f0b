"""``grade --cluster``: submissions graded on Dask workers, recorded by the instructor's process alone.

Every grading here goes through ``python -m autograder grade`` with real nbgrader, the sandbox
and Dask worker processes on this machine (loopback only). Each writes a fresh working folder
holding copies of one set of submissions, so that a cluster that recorded nothing could not
borrow an earlier grading's scores.
"""

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import cli, grading
from tests.autograder.test_late import POLICY  # 10% a day, at most 50%
from tests.nbrun import ROOT
from tests.test_grading import solutions, submit

WEEK = "week01_perceptron"
DEADLINES = POLICY + """
[weeks.week01_perceptron]
due = "2026-11-20 23:59 UTC"
"""
NOISY_CELL = "print('log line ' * 20_000)"  # more than a cell may print: a note, which must appear once
EXPECTED = {  # week 1's automatic points (26 in all, 3 of them graded by hand): see tests/test_grading.py
    "ada": 23,    # every answer right
    "bob": 0,     # nothing done
    "cyd": 8,     # predict (3), sigmoid_neuron (4), logic_weights (3): 10, handed in 26 hours late, which
                  # DEADLINES makes 2 days started at 10% a day: 10 - 2 (the penalty the instructor's process adds)
    "dee": 23,    # every answer right, and a cell that prints too much: a note, no points lost
    "noshow": 0,  # no notebook at all
}


def env(**extra) -> dict:
    """The grader's environment as an instructor's shell has it (see tests/test_grading.run_cli)."""
    return {**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}, **extra}


def autograder(course, *args, python=(), workdir=None):
    where = ["--workdir", str(workdir)] if workdir else []
    return [sys.executable, *python, "-m", "autograder", "--course-dir", str(course), *where, *args]


def fresh(course, name) -> Path:
    """A new working folder with copies of the class's submissions and its due dates."""
    workdir = course / name
    shutil.copytree(course / ".grading" / "submitted", workdir / "submitted")
    (workdir / "deadlines.toml").write_text(DEADLINES)
    return workdir


def grade_into(course, name, *args, python=()):
    """Grade copies of the class's submissions in a fresh working folder; (its folder, the run)."""
    workdir = fresh(course, name)
    run = subprocess.run(autograder(course, "grade", WEEK, *args, python=python, workdir=workdir),
                         capture_output=True, text=True, timeout=600, env=env())
    assert run.returncode == 0, f"grade {args} failed:\n{run.stdout}\n{run.stderr}"
    export(course, workdir)
    return workdir, run


def export(course, workdir) -> None:
    subprocess.run(autograder(course, "export", "--to", str(workdir / "grades.csv"), workdir=workdir),
                   check=True, capture_output=True, env=env())


def totals(workdir) -> dict[str, float]:
    return {row["student"]: float(row["total"]) for row in csv.DictReader((workdir / "grades.csv").open())}


def progress_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(r"\[[# ]{20}\] \d+/\d+ ", line)]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("cluster")
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(autograder(course, "release", WEEK), check=True, capture_output=True, env=env())
    answers = solutions()
    submit(course, "ada", answers)
    submit(course, "bob", {})
    submit(course, "cyd", {k: answers[k] for k in ("predict", "sigmoid_neuron", "logic_weights")})
    submit(course, "dee", answers)
    _add_cell(course / ".grading" / "submitted" / "dee" / WEEK / "homework.ipynb", NOISY_CELL)
    (course / ".grading" / "submitted" / "noshow" / WEEK).mkdir(parents=True)
    (course / ".grading" / "submitted" / "noshow" / WEEK / "notes.txt").write_text("I ran out of time\n")
    (course / ".grading" / "submitted" / "cyd" / WEEK / "timestamp.txt").write_text("2026-11-22 01:59:00 UTC\n")
    return course


def _add_cell(path: Path, source: str) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def on_one_machine(course):
    """The class graded without --cluster (the reference), with Python reporting every import."""
    return grade_into(course, "one-machine", python=("-X", "importtime"))


def test_without_cluster_nothing_changes_and_dask_is_not_imported(on_one_machine):
    workdir, run = on_one_machine
    assert totals(workdir) == EXPECTED
    imported = {line.split("|")[-1].strip().split(".")[0] for line in run.stderr.splitlines() if "import time:" in line}
    assert "numpy" in imported  # the report is there: nbgrader's imports are in it
    assert not imported & {"dask", "distributed"}, "grade without --cluster imported Dask"


def test_one_two_and_three_workers_give_the_csv_of_one_machine(course, on_one_machine, tmp_path):
    reference, _ = on_one_machine
    one, _ = grade_into(course, "local-1", "--cluster", "local:1")
    two, run = grade_into(course, "local-2", "--cluster", "local:2")
    assert "on 2 Dask worker(s) at tcp://127.0.0.1:" in run.stdout
    with scheduler_and_workers(tmp_path, 3) as address:  # started as the README says, with Dask's own commands
        three, run = grade_into(course, "cluster-3", "--cluster", address)
    assert "on 3 Dask worker(s) at " + address in run.stdout and "note: the scheduler retries" not in run.stdout
    csvs = {w.name: (w / "grades.csv").read_bytes() for w in (reference, one, two, three)}
    assert len(set(csvs.values())) == 1, csvs
    assert totals(three) == EXPECTED
    # what the formgrader and feedback read (the graded notebooks), and the notes and named
    # mistakes the report reads: byte for byte those of one machine
    for place in ("autograded", "notes"):
        for workdir in (one, two, three):
            assert files(workdir / place) == files(reference / place), (workdir.name, place)
    notes = (three / "notes" / "dee" / f"{WEEK}.json").read_text()
    assert notes.count("printed too much") == 1, notes


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class scheduler_and_workers:
    """``dask scheduler`` and ``dask worker --nworkers N``, as an instructor starts them by hand."""

    def __init__(self, folder: Path, workers: int):
        self.file, self.workers = folder / "scheduler.json", workers

    def __enter__(self) -> str:
        from distributed import Client

        dask = Path(sys.executable).parent / "dask"
        environment = env(DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="2", OMP_NUM_THREADS="1")
        self.processes = [subprocess.Popen([dask, "scheduler", "--scheduler-file", self.file, "--host", "127.0.0.1",
                                            "--port", "0", "--no-dashboard"], env=environment,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        for _ in range(300):
            if self.file.exists():
                break
            time.sleep(0.1)
        self.processes.append(subprocess.Popen([dask, "worker", "--scheduler-file", self.file, "--nworkers",
                                                str(self.workers), "--nthreads", "1", "--memory-limit", "0",
                                                "--no-dashboard"], env=environment,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(scheduler_file=str(self.file), timeout=60) as client:
            client.wait_for_workers(self.workers, timeout=120)
            return client.scheduler.address

    def __exit__(self, *_):
        for process in reversed(self.processes):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_worker_killed_mid_submission_has_it_graded_again_elsewhere(course, on_one_machine, tmp_path):
    """The worker process grading ``slow`` is killed (as the out-of-memory killer would): the
    scheduler gives the submission to another worker, the batch finishes, each submission is
    recorded once."""
    reference, _ = on_one_machine
    workdir = fresh(course, "killed")
    slow = workdir / "submitted" / "slow" / WEEK
    shutil.copytree(workdir / "submitted" / "dee" / WEEK, slow)
    _add_cell(slow / "homework.ipynb", "import time\ntime.sleep(4)")
    temp = tmp_path / "tmp"  # where the workers make their private folders, nnf-worker-<pid>-*
    temp.mkdir()
    grading_run = subprocess.Popen(autograder(course, "grade", WEEK, "--cluster", "local:2", workdir=workdir),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(TMPDIR=str(temp)))
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and grading_run.poll() is None and time.monotonic() < deadline:
        for busy in temp.glob("nnf-worker-*/submitted/slow"):
            killed = int(busy.parent.parent.name.split("-")[2])
            os.kill(killed, signal.SIGKILL)
            break
        time.sleep(0.05)
    output, errors = grading_run.communicate(timeout=600)
    assert killed is not None, f"no worker was seen grading slow:\n{output}\n{errors}"
    assert grading_run.returncode == 0, f"{output}\n{errors}"
    lines = progress_lines(output)
    assert len(lines) == len(EXPECTED) + 1 and sum(" slow " in line for line in lines) == 1, output
    export(course, workdir)
    rows = {row["student"]: row for row in csv.DictReader((workdir / "grades.csv").open())}
    before = {row["student"]: row for row in csv.DictReader((reference / "grades.csv").open())}
    assert {name: rows[name] for name in before} == before
    assert {**rows["slow"], "student": "dee"} == before["dee"]  # dee's work, and its note once
    assert rows["slow"]["notes"].count("printed too much") == 1


def die_for_killer(course_dir, workdir, options, student, week):
    """Stands in for grading.autograde on the workers: a submission that kills its worker
    every time (counting its attempts in $NNF_ATTEMPTS); the others graded for real."""
    if student == "killer":
        with open(os.environ["NNF_ATTEMPTS"], "a") as attempts:
            attempts.write(f"{os.getpid()}\n")
        os.kill(os.getpid(), signal.SIGKILL)
    return grading.autograde(course_dir, workdir, options, student, week)


def test_a_submission_that_kills_every_worker_fails_alone_after_two_retries(course, tmp_path):
    workdir = course / "killer"
    for name in ("ada", "killer", "bob"):
        shutil.copytree(course / ".grading" / "submitted" / ("ada" if name == "killer" else name) / WEEK,
                        workdir / "submitted" / name / WEEK)
    attempts = tmp_path / "attempts"
    program = ("import sys\nfrom autograder import course, grading\nfrom tests.autograder.test_cluster import die_for_killer\n"
               "course.quiet_environment()  # as python -m autograder does\n"
               f"c = course.Course({str(course)!r}, {str(workdir)!r})\n"
               f"sys.exit(grading.grade(c, [{WEEK!r}], cluster='local:2', grade=die_for_killer))\n")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=600, cwd=ROOT,
                         env=env(NNF_ATTEMPTS=str(attempts)))
    assert run.returncode == 1, f"{run.stdout}\n{run.stderr}"  # a grader failure
    pids = attempts.read_text().split()
    assert len(pids) == 3 and len(set(pids)) == 3, pids  # tried once, then twice more, each in a new process
    assert "GRADER FAILED" in run.stdout and len(progress_lines(run.stdout)) == 3, run.stdout
    export(course, workdir)
    rows = {row["student"]: row for row in csv.DictReader((workdir / "grades.csv").open())}
    assert float(rows["ada"]["total"]) == 23 and float(rows["bob"]["total"]) == 0
    notes = (workdir / "notes" / "killer" / f"{WEEK}.json").read_text()  # never graded: no row, a note
    assert "killer" not in rows and notes.count("the grader failed on this submission (the grader's worker died 3 times") == 1


def session_processes(session: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getsid(int(entry.name)) == session:
                found.append(int(entry.name))
        except (ProcessLookupError, PermissionError):
            pass
    return found


def at_a_terminal() -> None:
    """Ctrl-C as a shell's foreground command gets it: a test run in the background (nohup, CI)
    starts with SIGINT ignored, and a child would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_batch_and_keeps_what_was_graded(course):
    workdir = fresh(course, "interrupted")
    slow = workdir / "submitted" / "zed" / WEEK
    shutil.copytree(workdir / "submitted" / "ada" / WEEK, slow)
    _add_cell(slow / "homework.ipynb", "import time\ntime.sleep(60)")
    grading_run = subprocess.Popen(autograder(course, "grade", WEEK, "--cluster", "local:2", workdir=workdir),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
                                   start_new_session=True,  # a terminal's Ctrl-C reaches its whole group
                                   preexec_fn=at_a_terminal)
    seen = []
    for line in grading_run.stdout:
        seen.append(line)
        if len(progress_lines("".join(seen))) == len(EXPECTED):  # all but zed, who sleeps a minute
            break
    pressed = time.monotonic()
    os.killpg(grading_run.pid, signal.SIGINT)
    rest, errors = grading_run.communicate(timeout=120)
    output = "".join(seen) + rest
    assert grading_run.returncode == 130 and "Traceback" not in errors, f"{output}\n{errors}"
    assert time.monotonic() - pressed < 30, "Ctrl-C should not wait for the sleeping submission"
    assert f"Stopped (Ctrl-C) after {len(EXPECTED)} of {len(EXPECTED) + 1}" in output, output
    time.sleep(2)
    assert not session_processes(grading_run.pid), "processes of the batch outlived it"
    export(course, workdir)
    kept = totals(workdir)
    assert {name: kept[name] for name in EXPECTED} == EXPECTED  # what was graded is kept
    assert kept.get("zed", 0) == 0 and not (workdir / "autograded" / "zed").exists()  # zed was never graded


def test_a_worker_with_another_version_of_the_course_refuses(course):
    from autograder import cluster

    with pytest.raises(RuntimeError, match="differs from the instructor's for week01_perceptron"):
        cluster.grade_on_worker(str(course), {}, {"limits": None}, b"", cluster.fingerprint(course, WEEK) + "0",
                                {}, "ada", WEEK)
    other = course.parent / "other-version"  # the same course with one hidden test changed
    shutil.copytree(course / "solutions" / WEEK, other / "solutions" / WEEK)
    shutil.copytree(course / "notebooks" / WEEK, other / "notebooks" / WEEK)
    (other / "solutions" / WEEK / "homework.ipynb").write_text(
        (other / "solutions" / WEEK / "homework.ipynb").read_text().replace("### END HIDDEN TESTS", "#\n### END HIDDEN TESTS", 1))
    assert cluster.fingerprint(other, WEEK) != cluster.fingerprint(course, WEEK)


def test_cluster_addresses_are_checked_before_anything_starts(capsys):
    for wrong in ("local:0", "local:two", "local:"):
        with pytest.raises(SystemExit):
            cli.main(["grade", WEEK, "--cluster", wrong])
        assert "expected local:N" in capsys.readouterr().err


def test_without_dask_installed_cluster_says_how_to_install_it(tmp_path):
    program = ("import sys\nsys.modules['distributed'] = None  # as if it were not installed\n"
               f"from autograder import cli\nsys.exit(cli.main(['--workdir', {str(tmp_path)!r}, 'grade', {WEEK!r}, "
               "'--cluster', 'local:2']))\n")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, env=env())
    assert run.returncode == 1 and 'pip install -e ".[cluster]"' in run.stderr, run.stderr
