"""Kernels forked from the fork server: the same box as bwrap's, and nothing shared between two
kernels. (tests/autograder/test_safe_execution.py runs every attack on both kinds of kernel;
the grading corpus grades a whole class with them.)"""

import json
import os
import time

import pytest

from autograder import forkserver, kernel
from autograder.forkserver import Forked, ForkServer, read_view
from autograder.kernel import StudentKernel, start_forking, stop_forking
from autograder.sandbox import HOME, Limits, Sandbox, unavailable_reason

# What a kernel sees of its box, as plain data: the same cell runs in both kinds of kernel.
LOOK = r"""
import json, os, resource, socket, subprocess
def listing(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else None
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
seen = {
    "root": listing("/"), "dev": listing("/dev"), "etc": listing("/etc"), "tmp": listing("/tmp"),
    "home": listing("."), "cwd": os.getcwd(), "hostname": socket.gethostname(),
    "ids": [os.getuid(), os.getgid(), os.geteuid()],
    "caps": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")},
    "processes": len([p for p in os.listdir("/proc") if p.isdigit()]),
    "limits": [resource.getrlimit(getattr(resource, name)) for name in
               ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NPROC", "RLIMIT_CORE")],
    "read-only": {path: bool(os.statvfs(path).f_flag & os.ST_RDONLY) for path in ("/usr", "/etc/passwd", "/grading/submission")},
    "writable": {path: os.access(path, os.W_OK) for path in (".", "/tmp", "/dev/shm")},
    "tmpfs sizes": {path: os.statvfs(path).f_blocks * os.statvfs(path).f_frsize for path in (".", "/tmp", "/dev/shm")},
    "interfaces": [name for _, name in socket.if_nameindex()],
    "environment": {k: v for k, v in os.environ.items() if k != "JPY_PARENT_PID"},
    "matplotlib": [__import__("matplotlib").get_configdir(), __import__("matplotlib").get_cachedir()],
    "new user namespace": subprocess.run(["unshare", "--user", "true"], capture_output=True, text=True).stderr.strip(),
}
print(json.dumps(seen, sort_keys=True))
"""


@pytest.fixture(scope="module")
def forks():
    assert unavailable_reason() is None, unavailable_reason()
    start_forking(["numpy", "matplotlib.pyplot"])  # matplotlib: `import keras` loads it, in weeks 2-3 and 7-9
    yield kernel._forks
    stop_forking()


def started(folder, forked: bool, limits=None) -> StudentKernel:
    server, kernel._forks = kernel._forks, kernel._forks if forked else None
    try:
        box = StudentKernel(folder, limits or Limits(memory=3 * 2**30, disk=8 * 2**20, tasks=64), timeout=30)
        box.start()
    finally:
        kernel._forks = server
    assert isinstance(box.manager.provisioner.process, Forked) == forked
    return box


def output(box: StudentKernel, source: str) -> str:
    outputs = box.run_cell(source)
    errors = [o for o in outputs.items if o.output_type == "error"]
    assert not errors, errors[0].traceback
    return "".join(o.get("text", "") for o in outputs.finish())


def test_a_forked_kernel_sees_the_same_box_as_a_bwrap_kernel(forks, tmp_path):
    (tmp_path / "data.csv").write_text("x\n1\n")
    seen = {}
    for forked in (False, True):
        box = started(tmp_path, forked)
        try:
            seen[forked] = json.loads(output(box, LOOK))
        finally:
            box.stop()
    bwrap, fork = seen[False], seen[True]
    assert fork == bwrap, json.dumps({k: (bwrap[k], fork[k]) for k in bwrap if bwrap[k] != fork.get(k)})
    # and that box is the one the sandbox promises, not merely the same twice
    assert fork["caps"]["CapEff"] == fork["caps"]["CapBnd"] == "0000000000000000" and fork["caps"]["NoNewPrivs"] == "1"
    assert fork["processes"] <= 3 and fork["hostname"] == "grader" and fork["interfaces"] == ["lo"]
    assert all(fork["read-only"].values()) and all(fork["writable"].values())
    assert fork["matplotlib"] == ["/home/student/.matplotlib"] * 2
    assert fork["home"] == [".ipython", "data.csv"] and "No space left" in fork["new user namespace"]


def test_each_forked_kernel_starts_clean_whatever_the_one_before_did(forks, tmp_path):
    first = started(tmp_path, True)
    try:
        assert "numpy True" in output(first, "import sys\nprint('numpy', 'numpy' in sys.modules)")  # the server's
        output(first, "import numpy as np, sys, os\nnp.random.seed(7)\nsecret = 'ada'\nsys.modules['planted'] = sys\n"
                      "os.environ['PLANTED'] = '1'\nopen('/tmp/planted', 'w').write('x')\nopen('planted', 'w').write('x')\n"
                      "np.set_printoptions(precision=1)\nimport builtins; builtins.planted = True")
        drawn_after_seed_7 = output(first, "print(np.random.rand())")
    finally:
        first.stop()
    second = started(tmp_path, True)
    try:
        seen = output(second, "import numpy as np, sys, os, builtins\n"
                              "print('secret' in globals(), 'planted' in sys.modules, 'PLANTED' in os.environ,\n"
                              "      os.path.exists('/tmp/planted'), os.path.exists('planted'), hasattr(builtins, 'planted'),\n"
                              "      np.get_printoptions()['precision'])")
        drawn = output(second, "print(np.random.rand())")
    finally:
        second.stop()
    assert seen.split() == ["False"] * 6 + ["8"]
    assert drawn != drawn_after_seed_7


# Search every private writable region of the kernel's own memory (where Python's objects live)
# for HEAD followed by TAIL, without ever making HEAD + TAIL itself.
SEARCH_MEMORY = r"""
found = []
for line in open('/proc/self/maps'):
    fields = line.split()
    if fields[1].startswith('rw') and fields[1].endswith('p'):
        start, end = (int(x, 16) for x in fields[0].split('-'))
        with open('/proc/self/mem', 'rb') as memory:
            try:
                memory.seek(start)
                chunk = memory.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
        at = chunk.find(HEAD)
        while at >= 0 and chunk[at + len(HEAD):at + len(HEAD) + len(TAIL)] != TAIL:
            at = chunk.find(HEAD, at + 1)
        found += [fields[0]] if at >= 0 else []
print('found in', found if found else 'nothing')
"""


def test_a_forked_kernel_holds_nothing_of_the_request_for_the_kernel_before_it(forks, tmp_path):
    # The request for a kernel names its submission's folder, and so its student. The server
    # never reads a request (each fork reads its own), so the next fork cannot find it in memory.
    name = f"student-{time.monotonic_ns()}"
    ada = tmp_path / name / "week01"
    ada.mkdir(parents=True)
    started(ada, True).stop()
    (tmp_path / "other").mkdir()
    after = started(tmp_path / "other", True)
    try:
        seen = output(after, f"HEAD, TAIL = {name[:8].encode()!r}, {name[8:].encode()!r}\n" + SEARCH_MEMORY)
        check = output(after, "HEAD, TAIL = b'found in', b' nothing'\n" + SEARCH_MEMORY)  # the search finds what is there
    finally:
        after.stop()
    assert seen.strip() == "found in nothing", seen
    assert "found in [" in check, check


def test_stopping_a_forked_kernel_ends_every_process_it_started(forks, tmp_path):
    box = started(tmp_path, True)
    marker = f"nnf-orphan-{os.getpid()}-{time.monotonic_ns()}"
    try:  # a grandchild that outlives its parent, in a new session: not the kernel's process group
        output(box, f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', "
                    f"'{marker}'], start_new_session=True)")
        ends = time.monotonic() + 10
        while not running(marker) and time.monotonic() < ends:
            time.sleep(0.1)
        assert running(marker)
    finally:
        box.stop()
    ends = time.monotonic() + 10
    while running(marker) and time.monotonic() < ends:
        time.sleep(0.1)
    assert not running(marker)


def running(marker: str) -> bool:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                return True
        except OSError:
            pass
    return False


def test_the_fork_server_refuses_a_view_it_cannot_build_exactly(tmp_path):
    steps, settings = read_view(Sandbox(tmp_path, tmp_path).view())
    assert settings == {"disable_userns": True, "hostname": "grader", "chdir": "/home/student"}
    assert ("tmpfs", "/home/student", Limits().disk) in steps and ("bind", str(tmp_path), str(tmp_path)) in steps
    with pytest.raises(ValueError, match="--share-net"):
        read_view(["--unshare-all", "--share-net"])
    with pytest.raises(ValueError, match="every capability"):
        read_view(["--cap-drop", "CAP_SYS_ADMIN"])


def test_when_the_fork_server_fails_kernels_start_with_bwrap(tmp_path, capfd):
    assert unavailable_reason() is None, unavailable_reason()
    before, kernel._forks = kernel._forks, ForkServer(["numpy"], kernel.environment(HOME))
    try:
        kernel._forks.process.kill()  # the server is gone
        box = StudentKernel(tmp_path, Limits(), timeout=30)
        box.start()
        try:
            assert not isinstance(box.manager.provisioner.process, Forked)
            assert "42" in output(box, "print(6 * 7)")
        finally:
            box.stop()
        assert kernel._forks is None
        assert "could not be forked" in capfd.readouterr().err
    finally:
        stop_forking()
        kernel._forks = before


def test_a_forked_kernel_that_cannot_be_boxed_is_not_started(forks, tmp_path):
    with pytest.raises(forkserver.ForkFailed, match="does not exist"):
        forks.spawn(["--ro-bind", str(tmp_path / "missing"), "/x"], [], ["python", "-m", "ipykernel_launcher"], {})
