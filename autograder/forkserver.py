"""Kernels forked from a warm process: the heavy imports once per grading worker, not once per student.

A kernel started with ``bwrap ... python -m ipykernel_launcher`` spends seconds of CPU before
the student's first line runs: Python and IPython, then numpy and scikit-learn (through
nblib), and for weeks 7-9 TensorFlow and Keras (about 4 s on their own). The fork server is
a process that imports them once; each kernel is a fork of it, which builds its own box,
step by step as bubblewrap does, and then becomes the IPython kernel without an ``exec``::

    grading worker --request--> server (imports done, never runs student code)
                                  |  fork
                                  A  outside: setsid, joins the pids cgroup, unshares the user,
                                  |  mount, PID, network, IPC, UTS and cgroup namespaces, maps
                                  |  its uid and gid; waits for B; the worker holds A's pidfd
                                  |  fork
                                  B  PID 1: forbids new user namespaces; builds the file system
                                  |  of ``Sandbox.view()`` (the same bwrap arguments, read here)
                                  |  on an empty tmpfs and pivots into it; loopback up; drops
                                  |  every capability, no_new_privs; then only reaps orphans
                                  |  fork
                                  C  the kernel: the environment, ``sandbox.settle`` (the
                                     submission's files, the rlimits), then ipykernel

The server never runs a student's code and never takes anything back from a kernel, so each
kernel starts from the same clean state: nothing of one submission reaches the next. Killing
A (the worker's ``kill``) kills B (its parent-death signal), and the end of B ends its PID
namespace. A child forked from one thread has one thread, as ``unshare(CLONE_NEWUSER)``
requires; TensorFlow's own threads start later, in C. (The server imports TensorFlow but
never runs an operation, which would start thread pools a fork cannot carry.)
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib
import json
import os
import platform
import runpy
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from argparse import ArgumentParser

from autograder import sandbox

# Linux constants (<sched.h>, <sys/mount.h>, <sys/prctl.h>, <linux/capability.h>)
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_SILENT = 1024, 2048, 4096, 16384, 32768
MS_PRIVATE, MS_SLAVE, MS_STRICTATIME = 1 << 18, 1 << 19, 1 << 24
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_SECUREBITS, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 28, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SECURE_ALL_BITS_LOCKED = 0x2f  # no root privileges, no setuid fix-up, keep-caps off; all locked
CAPABILITY_VERSION_3 = 0x20080522
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
PROC_COVERED = ("sys", "sysrq-trigger", "irq", "bus")  # read-only, as bwrap leaves them

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result == -1:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")
    return result


def _mount(source, target, fstype, flags, data=None) -> None:
    encode = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {source} on {target}")


def _prctl(option: int, value: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


# --- the box, built by B from bwrap's own arguments ----------------------------------------

def read_view(args: list[str]) -> tuple[list, dict]:
    """The mount steps and the settings of ``Sandbox.view()``'s bwrap arguments. An option
    this reader does not know is an error: the two ways of boxing must not drift apart."""
    steps, settings, size, it = [], {}, None, iter(args)
    for flag in it:
        if flag in ("--unshare-all", "--unshare-user", "--die-with-parent"):
            continue  # what A and B do anyway
        if flag == "--disable-userns":
            settings["disable_userns"] = True
        elif flag == "--cap-drop":
            if next(it) != "ALL":
                raise ValueError("the fork server drops every capability or none")
        elif flag in ("--hostname", "--chdir"):
            settings[flag[2:]] = next(it)
        elif flag == "--unsetenv":
            next(it)  # the kernel's environment is given whole
        elif flag == "--size":
            size = int(next(it))
        elif flag == "--tmpfs":
            steps.append(("tmpfs", next(it), size))
            size = None
        elif flag in ("--proc", "--dev"):
            steps.append((flag[2:], next(it)))
        elif flag in ("--ro-bind", "--ro-bind-try", "--bind", "--symlink"):
            steps.append((flag[2:], next(it), next(it)))
        else:
            raise ValueError(f"the fork server does not know bwrap's {flag}")
    return steps, settings


def build(steps: list, settings: dict) -> None:
    """Make the view the only file system this process sees (as bwrap: a tmpfs as the new
    root, the host's as ``/oldroot`` while the binds are made, then dropped)."""
    steps = [(kind, os.path.realpath(step[0]), *step[1:]) if "bind" in kind else (kind, *step)
             for kind, *step in steps]  # a bind's source with its links followed on the host, as bwrap does
    _mount(None, "/", None, MS_SILENT | MS_SLAVE | MS_REC)  # nothing we mount propagates out
    _mount("tmpfs", "/tmp", "tmpfs", MS_NODEV | MS_NOSUID, "mode=0755")
    os.chdir("/tmp")
    os.mkdir("newroot", 0o755)
    _mount("newroot", "newroot", None, MS_BIND | MS_REC)
    os.mkdir("oldroot", 0o755)
    _pivot_root("/tmp", "oldroot")
    os.chdir("/")
    for step in steps:
        _STEPS[step[0]](*step[1:])
    _mount("oldroot", "oldroot", None, MS_REC | MS_PRIVATE)
    _check(_libc.umount2(b"oldroot", MNT_DETACH), "umount oldroot")
    os.chdir("/newroot")
    _pivot_root(".", ".")
    _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir(settings.get("chdir", "/"))


def _pivot_root(new: str, old: str) -> None:
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"the fork server does not know pivot_root on {platform.machine()}")
    _check(_libc.syscall(number, new.encode(), old.encode()), "pivot_root")


def _inside(path: str) -> str:
    return "/newroot" + path


def _bind(source: str, dest: str, readonly=True, optional=False) -> None:
    host, target = "/oldroot" + source, _inside(dest)
    if not os.path.exists(host):
        if optional:
            return
        raise FileNotFoundError(f"the sandbox's {source} does not exist")
    if os.path.isdir(host):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    _mount(host, target, None, MS_BIND | MS_REC)
    if readonly:
        for point in _mounts_at_or_under(target):
            _remount_readonly(point)


def _mounts_at_or_under(path: str) -> list[str]:
    points = []
    with open("/oldroot/proc/self/mountinfo") as table:  # the host's /proc, while the view is built
        for line in table:
            point = _unescape(line.split()[4])
            if point == path or point.startswith(path.rstrip("/") + "/"):
                points.append(point)
    return points


def _unescape(field: str) -> str:
    """mountinfo writes a space as \\040, a tab \\011, a newline \\012, a backslash \\134. (No codec
    here: while the view is built, Python can import nothing.)"""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _remount_readonly(point: str) -> None:
    """Read-only, keeping the flags a user namespace may not clear (nosuid, nodev, noexec, atime)."""
    have = os.statvfs(point).f_flag
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY
    for st, ms in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
                   (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME)):
        if have & st:
            flags |= ms
    if not have & (os.ST_RELATIME | os.ST_NOATIME):
        flags |= MS_STRICTATIME
    _mount(None, point, None, flags)


def _tmpfs(dest: str, size: int | None) -> None:
    os.makedirs(_inside(dest), exist_ok=True)
    _mount("tmpfs", _inside(dest), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" + (f",size={size}" if size else ""))


def _proc(dest: str) -> None:
    os.makedirs(_inside(dest), exist_ok=True)
    _mount("proc", _inside(dest), "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV)
    for name in PROC_COVERED:
        path = os.path.join(_inside(dest), name)
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _remount_readonly(path)


def _dev(dest: str) -> None:
    _tmpfs(dest, None)
    for name in DEVICES:
        _bind(f"/dev/{name}", f"{dest}/{name}", readonly=False, optional=True)
    for name, target in (("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("fd", "/proc/self/fd"), ("core", "/proc/kcore")):
        os.symlink(target, _inside(f"{dest}/{name}"))
    os.mkdir(_inside(f"{dest}/shm"))
    os.mkdir(_inside(f"{dest}/pts"))
    try:  # a private instance of pseudo-terminals, as bwrap's
        _mount("devpts", _inside(f"{dest}/pts"), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
        os.symlink("pts/ptmx", _inside(f"{dest}/ptmx"))
    except OSError:
        pass  # no terminals, then


def _symlink(target: str, dest: str) -> None:
    os.makedirs(os.path.dirname(_inside(dest)), exist_ok=True)
    os.symlink(target, _inside(dest))


_STEPS = {"tmpfs": _tmpfs, "proc": _proc, "dev": _dev, "symlink": _symlink,
          "ro-bind": lambda s, d: _bind(s, d), "ro-bind-try": lambda s, d: _bind(s, d, optional=True),
          "bind": lambda s, d: _bind(s, d, readonly=False)}


def _loopback_up() -> None:
    """The network namespace's own loopback, as bwrap brings it up (the kernel gives it 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, request))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1 | 0x40))  # SIOCSIFFLAGS: UP, RUNNING


def _drop_privileges() -> None:
    """No capability now or after any exec, and no way to gain one (no_new_privs)."""
    _prctl(PR_SET_SECUREBITS, SECURE_ALL_BITS_LOCKED)
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = struct.pack("Ii", CAPABILITY_VERSION_3, 0)
    data = ctypes.create_string_buffer(24)  # two (effective, permitted, inheritable) words, all zero
    _check(_libc.capset(ctypes.c_char_p(header), data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


# --- the three processes of one kernel -------------------------------------------------------

def _a(line: socket.socket, server: int, report: int) -> None:
    """Outside the namespaces: the grader's end of this kernel. It reads the request itself,
    so that no request (a submission's path names its student) is ever in the server's memory,
    which every later kernel is a copy of."""
    request = json.loads(line.recv(1 << 20))
    line.close()
    os.setsid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server:
        raise OSError("the server ended")
    if request.get("cgroup"):
        with open(os.path.join(request["cgroup"], "cgroup.procs"), "w") as procs:
            procs.write("0")  # this process, and so every process of the kernel
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(NAMESPACES), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as file:
            file.write(text)
    one = os.fork()
    if one == 0:
        _guarded(report, _b, request, report)
    os.close(report)
    _, status = os.waitpid(one, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _b(request: dict, report: int) -> None:
    """PID 1 of the kernel's namespace: builds the box, then reaps."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as init, it then ignores the signals of its namespace
    steps, settings = read_view(request["view"])
    if settings.get("disable_userns"):
        with open("/proc/sys/user/max_user_namespaces", "w") as limit:  # this namespace's, before caps go
            limit.write("0")
    build(steps, settings)
    if "hostname" in settings:
        name = settings["hostname"].encode()
        _check(_libc.sethostname(name, len(name)), "sethostname")
    _loopback_up()
    _drop_privileges()
    kernel = os.fork()
    if kernel == 0:
        _guarded(report, _c, request, report)
    os.close(report)
    while True:
        pid, status = os.wait()
        if pid == kernel:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _c(request: dict, report: int) -> None:
    """The kernel: its environment, the submission's files and the limits, then ipykernel."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(request["env"], PWD=os.getcwd())
    sandbox.settle(sandbox.inside_parser(ArgumentParser()).parse_args(request["inside"]))
    _fresh_randomness()
    _matplotlib_folders_from_environment()
    os.write(report, b"ok")
    os.close(report)
    command = request["command"]
    if command[1:2] != ["-m"]:
        raise ValueError(f"the fork server runs `python -m MODULE ...`, not {command}")
    sys.argv = [command[2], *command[3:]]
    try:
        runpy.run_module(command[2], run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else 0
    _flush()
    os._exit(code)


def _fresh_randomness() -> None:
    """Seeded from the system, as a new process would be (a fork copies the server's state)."""
    import random
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


def _matplotlib_folders_from_environment() -> None:
    """matplotlib (which ``import keras`` loads) remembers its configuration and cache folders
    from the first call, made at import in the server with the server's $HOME: make it look
    again, with the kernel's (``MPLCONFIGDIR``), as a kernel that imported it would."""
    matplotlib = sys.modules.get("matplotlib")
    for name in ("get_configdir", "get_cachedir"):
        function = getattr(matplotlib, name, None)
        cells = dict(zip(getattr(getattr(function, "__code__", None), "co_freevars", ()),
                         getattr(function, "__closure__", None) or ()))
        if "called" in cells:  # matplotlib's _logged_cached: (called, ret) in the closure
            cells["called"].cell_contents = False


def _guarded(report: int, step, *args) -> None:
    """Run a step that must not return; on any error, say why to the server and end."""
    try:
        step(*args)
    except BaseException as error:  # noqa: BLE001 - in a forked child, nothing may escape
        with contextlib.suppress(OSError):  # the report may be closed already
            os.write(report, f"{step.__name__[1:].upper()}: {error!r}".encode()[:4000])
    _flush()
    os._exit(1)


def _flush() -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()


# --- the server --------------------------------------------------------------------------------

def serve(fd: int, modules: list[str]) -> None:
    """Import ``modules``, say ready, then fork a kernel for each request until the worker leaves."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    line = socket.socket(fileno=fd)
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - a kernel that needs it fails there, as it would anyway
            pass
    line.send(json.dumps({"ready": sorted(m for m in modules if m in sys.modules)}).encode())
    while True:
        readable, _, _ = select.select([line], [], [], 1.0)
        _reap()
        if not readable:
            continue
        if not line.recv(1, socket.MSG_PEEK):  # the worker has gone; a request is read by its fork
            os._exit(0)
        reply, fds = _fork(line)
        socket.send_fds(line, [json.dumps(reply).encode()], fds)
        for fd_ in fds:
            os.close(fd_)


def _fork(line: socket.socket) -> tuple[dict, list[int]]:
    read, write, server = *os.pipe(), os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _guarded(write, _a, line, server, write)
    os.close(write)
    pidfd = os.pidfd_open(pid)
    said = _read_all(read, timeout=60)
    os.close(read)
    if said != b"ok":
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        os.close(pidfd)
        return {"error": said.decode(errors="replace") or "the kernel's box was not built (no answer)"}, []
    return {"pid": pid}, [pidfd]


def _read_all(fd: int, timeout: float) -> bytes:
    data, ends = b"", time.monotonic() + timeout
    while select.select([fd], [], [], max(ends - time.monotonic(), 0))[0]:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):  # no child left
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


# --- the worker's side -------------------------------------------------------------------------

class ForkFailed(Exception):
    """The fork server could not give a kernel (the worker then boxes kernels with bwrap)."""


class Forked:
    """A forked kernel as ``subprocess.Popen`` shows a process (what jupyter_client's
    provisioner uses), through a pidfd: it is the server's child, not ours."""
    stdin = stdout = stderr = None

    def __init__(self, pid: int, pidfd: int):
        self.pid, self.pidfd, self.returncode = pid, pidfd, None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.pidfd], [], [], 0)[0]:
            self.returncode = -signal.SIGKILL  # ended; its status went to the server
            os.close(self.pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        ends = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if ends is not None and time.monotonic() > ends:
                raise subprocess.TimeoutExpired("kernel", timeout)
            select.select([self.pidfd], [], [], 0.1 if ends is None else max(min(ends - time.monotonic(), 0.1), 0))
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                signal.pidfd_send_signal(self.pidfd, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """A server process with ``modules`` imported, in the kernels' environment ``env``."""

    def __init__(self, modules, env: dict):
        self.home = tempfile.mkdtemp(prefix="nnf-forkserver-")  # its $HOME for imports that write there
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        own = {**env, "HOME": self.home, "IPYTHONDIR": f"{self.home}/.ipython", "MPLCONFIGDIR": f"{self.home}/.mpl"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from autograder.forkserver import serve; "
                                   "serve(int(sys.argv[1]), sys.argv[2:])", str(theirs.fileno()), *modules],
            pass_fds=(theirs.fileno(),), env=own, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self.line, self.ready = ours, None

    def spawn(self, view: list[str], inside: list[str], command: list[str], env: dict, cgroup=None) -> Forked:
        """A kernel in the box that ``view`` describes (``Sandbox.view()``), running ``command``."""
        try:
            if self.ready is None:
                self.ready = json.loads(self._receive(timeout=300)[0])["ready"]
            self.line.send(json.dumps({"view": view, "inside": inside, "command": command, "env": env,
                                       "cgroup": str(cgroup) if cgroup else None}).encode())
            message, fds = self._receive(timeout=90)
        except (OSError, EOFError, ValueError, KeyError) as error:
            raise ForkFailed(f"the fork server did not answer: {error!r}") from None
        reply = json.loads(message)
        if "error" in reply:
            raise ForkFailed(reply["error"])
        return Forked(reply["pid"], fds[0])

    def _receive(self, timeout: float) -> tuple[bytes, list[int]]:
        if not select.select([self.line], [], [], timeout)[0]:
            raise TimeoutError(f"no answer in {timeout:g} s")
        message, fds, _, _ = socket.recv_fds(self.line, 1 << 16, 1)
        if not message:
            raise EOFError("the server ended")
        return message, fds

    def close(self) -> None:
        self.line.close()
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)
