"""A box for a student's kernel: no network, nothing secret on disk, bounded resources.

Linux namespaces, entered with util-linux's ``unshare`` (no root needed where unprivileged
user namespaces are allowed, the default on Debian, Fedora and most distributions):

- a new **network** namespace with only a loopback that is down: no network at all (the
  grader talks to the kernel over Unix sockets, ZeroMQ's ``ipc`` transport);
- a new **mount** namespace in which the solutions, the course's git history and the whole
  grading directory (gradebook, other students' work) are covered by empty ``tmpfs``
  mounts; only this submission's scratch folder is mounted back, at the same path;
- a new **PID** namespace with its own ``/proc``: no other process can be seen or signalled;
- ``setrlimit`` caps: address space (memory), CPU seconds, size of any file written, no core
  dumps.

``python -m autograder.sandbox --hide DIR ... --keep DIR --memory BYTES --cpu SECONDS
--fsize BYTES -- COMMAND ...`` runs inside the namespaces, sets all that up and ``exec``s
COMMAND (the kernel). :meth:`Sandbox.command` builds the full command line.

The kernel's sockets and connection file live in a short private folder under
:func:`socket_root` (a Unix socket path may not exceed 107 bytes), which every sandbox hides
but for its own: no kernel can reach another's.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

UNSHARE = ["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork",
           "--mount-proc", "--kill-child"]

MS_NOSUID, MS_NODEV, MS_BIND = 2, 4, 4096


@dataclass
class Limits:
    memory: int = 4 * 2**30   # bytes of address space (numpy and a kernel need about 1 GiB)
    cpu: int = 900            # CPU seconds for the whole notebook (per-cell wall time is the grader's)
    fsize: int = 64 * 2**20   # bytes in any one file the student's code writes


@dataclass
class Sandbox:
    """What the kernel must not see (``hide``), except the folders it works in (``keep``;
    the first is its working directory)."""
    keep: list[Path]
    hide: list[Path] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)

    def command(self, kernel_cmd: list[str]) -> list[str]:
        inside = [sys.executable, "-m", "autograder.sandbox", "--memory", str(self.limits.memory), "--cpu", str(self.limits.cpu),
                  "--fsize", str(self.limits.fsize)]
        for path in self.keep:
            inside += ["--keep", str(path)]
        for path in self.hide:
            inside += ["--hide", str(path)]
        return UNSHARE + ["--"] + inside + ["--"] + kernel_cmd


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
    """None when namespaces work here; otherwise why not (shown to the instructor)."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux namespaces; this is {sys.platform}"
    if shutil.which("unshare") is None:
        return "util-linux's `unshare` is not installed"
    probe = subprocess.run(UNSHARE + ["--", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return (f"`unshare` failed ({probe.stderr.strip() or probe.returncode}); unprivileged user "
                f"namespaces may be switched off (sysctl kernel.unprivileged_userns_clone=1, or on "
                f"Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0)")
    return None


# --- inside the namespaces ------------------------------------------------------------------

def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    if libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def enter(keep: list[Path], hide: list[Path], limits: Limits) -> None:
    """Cover ``hide`` with empty file systems, mount ``keep`` back, set the limits, cd to ``keep[0]``."""
    kept = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in keep}  # reachable once covered
    for path in hide:
        if path.is_dir():  # a folder inside one already covered has vanished: nothing to do
            _mount("tmpfs", str(path), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for path, fd in kept.items():
        if not path.is_dir():
            path.mkdir(parents=True)
            _mount(f"/proc/self/fd/{fd}", str(path), None, MS_BIND, None)
        os.close(fd)
    for which, value in ((resource.RLIMIT_AS, limits.memory), (resource.RLIMIT_CPU, limits.cpu),
                         (resource.RLIMIT_FSIZE, limits.fsize), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
    os.chdir(keep[0])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m autograder.sandbox")
    p.add_argument("--keep", type=Path, action="append", required=True)
    p.add_argument("--hide", type=Path, action="append", default=[])
    p.add_argument("--memory", type=int, default=Limits.memory)
    p.add_argument("--cpu", type=int, default=Limits.cpu)
    p.add_argument("--fsize", type=int, default=Limits.fsize)
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    enter([k.resolve() for k in args.keep], [h.resolve() for h in args.hide], Limits(args.memory, args.cpu, args.fsize))
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
