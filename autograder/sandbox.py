"""A box for a student's kernel: it starts from an empty view and sees only what it needs.

The kernel runs under bubblewrap (``bwrap``, the sandbox Flatpak uses; Debian's package
``bubblewrap``), in new user, mount, PID, network, IPC and UTS namespaces with every
capability dropped. Its file system is built from nothing:

==========================  =====================================================
``/usr`` (and /bin, /lib)   the system's programs and libraries, read-only
a few files of ``/etc``     the dynamic linker's cache, time zone, users: read-only
the Python environment      the interpreter, the virtualenv and the course's own
                            packages (``nblib``, ``autograder``, ``data/``), read-only
``/home/student``           its working folder and ``$HOME``: a fresh ``tmpfs`` of
                            ``Limits.disk`` bytes, filled with the submission's files
``/tmp``, ``/dev/shm``      private ``tmpfs``, ``Limits.tmp`` bytes each
its socket folder           the one folder it shares with the grader (at the same path)
==========================  =====================================================

Everything else is absent: the course directory with its solutions and ``.git``, the
gradebook and other students' work, every home directory, the machine's ``/tmp`` and any
other copy of the course, wherever it lies. There is no network (only its own loopback),
no other process to see or signal, and no way to gain capabilities back
(``--disable-userns``, ``--cap-drop ALL``).

Inside, :func:`inside` (``python -m autograder.sandbox inside ...``) copies the submission's
files into the working folder, sets ``setrlimit`` caps (address space, CPU seconds, size of
a written file, processes and threads, no core dumps) and ``exec``s the kernel. Linux ignores
the process cap for root, so when the grader runs as root the kernel's tasks are counted in
a ``pids`` cgroup instead (:class:`TaskCgroup`).

``python -m autograder.sandbox install`` installs bubblewrap with apt-get when it is
missing (the README's setup runs it); ``python -m autograder.sandbox check`` says whether
the sandbox works here.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import os
import resource
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HOME = "/home/student"            # the kernel's working folder and $HOME, inside the box
SUBMISSION = "/grading/submission"  # the submission's files, read-only, copied into HOME at start
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf", "fonts",
             "hosts", "matplotlibrc")
NOT_COPIED = ("*.ipynb", ".ipynb_checkpoints")  # the notebook itself is fed cell by cell


@dataclass
class Limits:
    memory: int = 4 * 2**30   # bytes of address space per process (numpy and a kernel need about 1 GiB)
    cpu: int = 900            # CPU seconds per process (per-cell wall time is the grader's business)
    fsize: int = 64 * 2**20   # bytes in any one file the student's code writes
    disk: int = 256 * 2**20   # bytes in the working folder, the submission's files included
    tmp: int = 64 * 2**20     # bytes in /tmp and in /dev/shm, each
    tasks: int = 256          # processes and threads, the kernel's own (about 20) included


@dataclass
class Sandbox:
    """How to box one kernel: its submission folder (read-only, copied in), its socket folder
    (shared with the grader) and its limits."""
    submission: Path | None
    sockets: Path
    limits: Limits = field(default_factory=Limits)
    cgroup: Path | None = None  # a pids cgroup to start in (see TaskCgroup), when the grader is root

    def command(self, kernel_cmd: list[str]) -> list[str]:
        """``bwrap ... -- python -m autograder.sandbox inside ... -- KERNEL``, started inside
        ``cgroup`` when there is one."""
        stage = [sys.executable, "-m", "autograder.sandbox", "inside", *self.inside()]
        command = [bwrap(), *self.view(), "--", *stage, "--", *kernel_cmd]
        if self.cgroup is not None:  # "0" is the writing process, which then becomes bwrap
            command = ["sh", "-c", 'echo 0 > "$0" && exec "$@"', str(self.cgroup / "cgroup.procs"), *command]
        return command

    def inside(self) -> list[str]:
        """The arguments of the step inside the box (:func:`settle`): the limits, and where
        the submission's files are copied from."""
        args = ["--memory", str(self.limits.memory), "--cpu", str(self.limits.cpu), "--fsize", str(self.limits.fsize),
                "--tasks", str(self.limits.tasks)]
        return args + (["--copy-from", SUBMISSION] if self.submission is not None else [])

    def view(self) -> list[str]:
        """bwrap's arguments: the namespaces and the file system the kernel sees, in mount order."""
        args = ["--unshare-all", "--unshare-user", "--die-with-parent", "--disable-userns", "--cap-drop", "ALL",
                "--hostname", "grader",
                "--unsetenv", "JPY_PARENT_PID"]  # the grader is not the kernel's parent in here
        args += system_view()
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.limits.tmp), "--tmpfs", "/dev/shm",
                 "--size", str(self.limits.tmp), "--tmpfs", "/tmp"]
        for path in python_view():
            args += ["--ro-bind", path, path]
        args += ["--size", str(self.limits.disk), "--tmpfs", HOME, "--chdir", HOME]
        if self.submission is not None:
            args += ["--ro-bind", str(self.submission), SUBMISSION]
        args += ["--bind", str(self.sockets), str(self.sockets)]
        return args


def bwrap() -> str:
    return shutil.which("bwrap") or "bwrap"


def system_view() -> list[str]:
    """/usr read-only, the merged-/usr links (/bin -> usr/bin) as links, a few files of /etc."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


@functools.cache
def python_view() -> tuple[str, ...]:
    """The folders the kernel's Python needs, outermost first: interpreter, virtualenv, and the
    course's packages when they are installed in place (``pip install -e .``) with their data."""
    paths = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
             sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
             str(Path(os.path.realpath(sys.executable)).parent)}
    for package in ("nblib", "autograder"):
        spec = importlib.util.find_spec(package)
        if spec and spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations)))
            paths.add(str(folder))
            if package == "nblib" and (folder.parent / "data").is_dir():
                paths.add(str(folder.parent / "data"))  # nblib.data's offline files
    existing = sorted(os.path.realpath(p) for p in paths if p and os.path.isdir(p))
    # A folder inside another one already bound needs no mount of its own.
    return tuple(p for p in existing if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in existing))


class TaskCgroup:
    """A ``pids`` cgroup per kernel, for a grader running as root (Linux does not apply
    RLIMIT_NPROC to root). Works with cgroup v1's ``pids`` hierarchy or cgroup v2."""

    PARENT = "nnf-grader"

    @staticmethod
    def root() -> Path | None:
        """The pids hierarchy's folder we may create cgroups in, or None."""
        v1 = Path("/sys/fs/cgroup/pids")
        if (v1 / "cgroup.procs").exists() and os.access(v1, os.W_OK):
            return v1
        for v2 in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
            controllers = v2 / "cgroup.controllers"
            if controllers.exists() and "pids" in controllers.read_text().split() and os.access(v2, os.W_OK):
                return v2
        return None

    @classmethod
    def create(cls, name: str, tasks: int) -> Path:
        """A new cgroup ``name`` that holds at most ``tasks`` tasks (processes and threads)."""
        root = cls.root()
        if root is None:
            raise OSError("no writable pids cgroup")
        parent = root / cls.PARENT
        parent.mkdir(exist_ok=True)
        if (root / "cgroup.subtree_control").exists():  # cgroup v2: hand the controller down
            for folder in (root, parent):
                try:
                    (folder / "cgroup.subtree_control").write_text("+pids")
                except OSError:
                    pass  # already on, or delegated by whoever set up the hierarchy
        group = parent / name
        group.mkdir(exist_ok=True)
        (group / "pids.max").write_text(str(tasks))
        return group

    @staticmethod
    def remove(group: Path) -> None:
        """Delete the cgroup once it is empty (the kernel's PID namespace ends with the kernel)."""
        for _ in range(100):
            try:
                group.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


def socket_root() -> Path:
    return Path(tempfile.gettempdir()) / f"nnf-grader-{os.getuid()}"


def socket_dir() -> Path:
    """A new private folder for one kernel's sockets, e.g. /tmp/nnf-grader-0/3f9a1c2e."""
    root = socket_root()
    root.mkdir(mode=0o700, exist_ok=True)
    path = root / secrets.token_hex(4)
    path.mkdir(mode=0o700)
    return path


@functools.cache
def unavailable_reason() -> str | None:
    """None when the sandbox works here; otherwise why not (shown to the instructor)."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux namespaces; this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return ("bubblewrap (`bwrap`) is not installed: run `python -m autograder.sandbox install` "
                "(Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)")
    if os.geteuid() == 0 and TaskCgroup.root() is None:
        return ("the grader runs as root, for whom Linux does not cap processes (RLIMIT_NPROC), and "
                "there is no writable pids cgroup to cap them instead: grade as an ordinary user")
    with tempfile.TemporaryDirectory() as sockets:
        probe = subprocess.run([bwrap(), *Sandbox(None, Path(sockets)).view(), "--", sys.executable, "-c", "pass"],
                               capture_output=True, text=True)
    if probe.returncode != 0:
        return (f"`bwrap` failed ({probe.stderr.strip() or probe.returncode}); unprivileged user namespaces may "
                f"be switched off (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04+ "
                f"kernel.apparmor_restrict_unprivileged_userns=0)")
    return None


def apt_install(package: str, purpose: str) -> int:
    """Install a Debian package with apt-get, as root or through ``sudo -n``; the exit status."""
    if not shutil.which("apt-get"):
        print(f"{purpose}: {package} is missing; install it with your package manager", file=sys.stderr)
        return 1
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]):
        print(f"{purpose}:", " ".join(sudo + command), flush=True)
        if subprocess.run(sudo + command, env=env).returncode:
            print(f"{purpose}: `{' '.join(command)}` failed; install {package} by hand", file=sys.stderr)
            return 1
    return 0


def install() -> int:
    """Install Debian's bubblewrap when it is missing, then say whether the sandbox works."""
    if shutil.which("bwrap") is None and apt_install("bubblewrap", "sandbox"):
        return 1
    unavailable_reason.cache_clear()
    reason = unavailable_reason()
    version = subprocess.run([bwrap(), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"sandbox: {version}: " + (f"NOT usable: {reason}" if reason else "student kernels can be sandboxed"))
    return 1 if reason else 0


# --- inside the box ----------------------------------------------------------------------------

def inside(args) -> None:
    """Copy the submission in, set the limits, become the kernel."""
    settle(args)
    os.execvp(args.command[0], args.command)


def settle(args) -> None:
    """Copy the submission in and set the limits (a forked kernel does this too, see
    :mod:`autograder.forkserver`)."""
    if args.copy_from:
        copy_in(args.copy_from)
    for which, value in ((resource.RLIMIT_AS, args.memory), (resource.RLIMIT_CPU, args.cpu),
                         (resource.RLIMIT_FSIZE, args.fsize), (resource.RLIMIT_NPROC, args.tasks),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))


def copy_in(source: str = SUBMISSION) -> None:
    """Copy the submission's files into the working folder (a spare kernel does it when it is
    given a submission; a kernel started for one, before it starts)."""
    if os.path.isdir(source):
        shutil.copytree(source, HOME, symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(*NOT_COPIED), copy_function=_copy_or_skip)


def _copy_or_skip(source: str, target: str) -> None:
    """A file that does not fit the working folder is left out (the grader has noted it)."""
    try:
        shutil.copy2(source, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(target)


def inside_parser(box: argparse.ArgumentParser) -> argparse.ArgumentParser:
    for name, default in vars(Limits()).items():
        box.add_argument(f"--{name}", type=int, default=default)
    box.add_argument("--copy-from")
    box.add_argument("command", nargs=argparse.REMAINDER)
    return box


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder.sandbox", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    sub.add_parser("install", help="install bubblewrap with apt-get if it is missing, then check")
    sub.add_parser("check", help="say whether student kernels can be sandboxed here")
    inside_parser(sub.add_parser("inside", help="(the grader's own step inside the box)"))
    args = p.parse_args(argv)
    if args.what == "install":
        return install()
    if args.what == "check":
        reason = unavailable_reason()
        print(f"sandbox: NOT usable: {reason}" if reason else "sandbox: student kernels can be sandboxed")
        return 1 if reason else 0
    args.command = args.command[1:] if args.command[:1] == ["--"] else args.command
    inside(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
