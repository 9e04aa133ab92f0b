"""A student's kernel seen from the grader: run a cell, call a function, survive anything.

:class:`StudentKernel` starts an IPython kernel (in the :mod:`~autograder.sandbox` unless
grading runs without one; forked from the worker's :mod:`~autograder.forkserver` when it has
one, otherwise run by bwrap), runs the student's cells with a wall-clock limit per cell and one
for the whole submission, and sends requests to :mod:`autograder.agent`. A cell that times
out, or code that kills the kernel (``os._exit``, a crash, the memory limit), costs only
that cell: the kernel is restarted and the cells that had finished are run again, silently,
before grading goes on. Replays count against the submission's budget, so cells that each
stay just under the cell limit cannot stall the class.

Requests travel on a line of their own, not as execute requests (about 5 ms each). The
grader binds a ZeroMQ ``PAIR`` socket in the kernel's private socket folder before any
student code runs; for each test cell, one execute request starts ``agent.serve``, which
connects to it and answers requests (``{"id", "op", "args"}`` -> ``{"id", "ok" | "error"}``,
JSON of :mod:`autograder.codec`'s plain data) until the grader says ``done``. The student's
prints during the calls still arrive on IOPub as that execute request's output.

What the kernel sends is untrusted. Outputs are rebuilt field by field from the message
(a message that does not fit is dropped and counted, never raised); while a test cell
talks to the agent, only capped ``stream`` text is taken from IOPub, never an
``execute_result``, ``error`` or display, and a reply counts only with the id of the
request it answers; no message over ``MAX_MESSAGE_BYTES`` is even received.
"""

from __future__ import annotations

import json
import math
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client import KernelManager
from nbformat.v4 import new_output

from autograder.forkserver import ForkFailed, ForkServer
from autograder.sandbox import HOME, NOT_COPIED, Limits, Sandbox, TaskCgroup, socket_dir

# exit() would end the kernel once its cell is over, blaming the next cell: make it harmless.
SETUP = "get_ipython().ask_exit = lambda: print('exit() is switched off while your notebook is graded')"
MAX_OUTPUT_BYTES = 100_000         # text a cell may print before the rest is cut (one line counts too)
MAX_MESSAGE_BYTES = 128 * 2**20    # a larger message from the kernel is refused by ZeroMQ
IDLE_GRACE = 2.0                   # seconds to wait for "idle" once the shell channel says the code is done
COPY_IN = "__import__('autograder.sandbox').sandbox.copy_in()"  # a spare kernel's first step
SERVE = "__import__('autograder.agent').agent.serve({address!r})"  # one execute request per test cell
TOO_LARGE = (f"your code sent a message larger than the grader accepts ({MAX_MESSAGE_BYTES // 2**20} MiB), "
             f"which cut its line to the grader")
LINE_CUT = (f"the line between your kernel and the grader was cut: a value larger than the grader accepts "
            f"({MAX_MESSAGE_BYTES // 2**20} MiB), or your code closed it")
NO_ANSWER = ("no answer from your kernel (did your code replace or break Python's machinery, e.g. builtins, "
             "sys.modules or the grader's agent?)")


DIED = ("your code ended the Python process (os._exit, exit(), a crash, or more memory than the grader "
        "allows)")


def _grader_error(why: str) -> dict:
    return {"error": {"ename": "GraderError", "module": "", "evalue": why, "traceback": []}}


class KernelDied(Exception):
    """The student's kernel stopped during a cell or a call (it has been restarted)."""


class CellTimeout(Exception):
    """The student's code ran past the time limit (the kernel has been restarted)."""


class OutOfTime(Exception):
    """The submission used up its whole time budget; nothing more of it is run."""


@dataclass
class Outputs:
    """A cell's outputs as nbformat nodes, with at most ``limit`` bytes of text kept."""
    limit: int = MAX_OUTPUT_BYTES
    items: list = field(default_factory=list)
    kept: int = 0
    cut: int = 0

    def add_output(self, output) -> None:
        if output.output_type == "error":  # always kept, since it decides the grade; but bounded
            output.evalue = output.evalue[:2000]
            output.traceback = [line[:2000] for line in output.traceback[-40:]]
            self.items.append(output)
            return
        size = len(json.dumps(output))
        if self.kept + size > self.limit:
            if output.output_type == "stream" and self.kept < self.limit:  # keep what fits
                room = self.limit - self.kept
                self.cut += len(output.text) - room
                output.text = output.text[:room]
                size = room
            else:
                self.cut += size
                return
        self.kept += size
        if output.output_type == "stream" and self.items and self.items[-1].get("name") == output.name:
            self.items[-1].text += output.text  # merge consecutive prints, as Jupyter shows them
        else:
            self.items.append(output)

    def finish(self) -> list:
        if self.cut:
            self.items.append(new_output("stream", name="stdout",
                                         text=f"\n[... {self.cut:,} more characters of output were cut by the grader ...]\n"))
        return self.items


def output_from(kind: str, content: dict):
    """An nbformat output rebuilt from an IOPub message's content, only from fields of the
    right type; ValueError when it is not one (the caller drops the message)."""
    def text(value) -> str:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return "".join(value)
        if not isinstance(value, str):
            raise ValueError("not text")
        return value

    if kind == "stream":
        name = content["name"]
        if name not in ("stdout", "stderr"):
            raise ValueError(f"stream {name!r}")
        return new_output("stream", name=name, text=text(content["text"]))
    if kind == "error":
        return new_output("error", ename=text(content["ename"]), evalue=text(content["evalue"]),
                          traceback=[text(line) for line in content["traceback"]])
    data = {str(mime): value if isinstance(value, dict) and mime.endswith("json") else text(value)
            for mime, value in dict(content["data"]).items()}
    if kind == "display_data":
        return new_output("display_data", data=data)
    count = content.get("execution_count")
    return new_output("execute_result", data=data, execution_count=count if isinstance(count, int) else None)


class _SandboxedKernelManager(KernelManager):
    sandbox: Sandbox | None = None
    forks: ForkServer | None = None  # when set, a sandboxed kernel is forked from it instead of run by bwrap

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        return self.sandbox.command(command) if self.sandbox and not self.forks else command

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if not (self.sandbox and self.forks):
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        env = {k: v for k, v in kw["env"].items() if k != "JPY_PARENT_PID"}  # as bwrap's --unsetenv
        process = self.forks.spawn(self.sandbox.view(), self.sandbox.inside(), kernel_cmd, env, self.sandbox.cgroup)
        self.provisioner.process, self.provisioner.pid, self.provisioner.pgid = process, process.pid, None
        self._reconcile_connection_info(self.provisioner.connection_info)


class StudentKernel:
    """``folder`` holds the submission's files; ``limits`` None means no sandbox (the kernel
    then works in ``folder`` itself, which must be a copy)."""

    def __init__(self, folder: Path, limits: Limits | None, timeout: float, budget: float = math.inf,
                 env: dict | None = None):
        self.folder, self.limits, self.timeout = Path(folder), limits, timeout
        self.budget, self.ends = budget, time.monotonic() + budget
        self.env = env or {}
        self.history: list[str] = []  # cells that ran to the end, replayed after a restart
        self.staged = False           # whether ``folder`` is the grader's own copy (a spare's), removed at the end
        self.manager = self.client = self.sockets = self.cgroup = None
        self.line = self.line_events = None  # the agent's socket, and its connection events
        self.session = None                  # the execute request in which the agent serves, if any
        self.sequence = 0                    # the id of the last request sent
        self.malformed = 0  # messages from the kernel that the grader dropped

    # --- life cycle ----------------------------------------------------------------------
    @classmethod
    def spare(cls, limits: Limits, timeout: float) -> "StudentKernel":
        """A sandboxed kernel launched now, for a submission to come (:meth:`take`): its
        Python boots while the grader is busy with another submission."""
        kernel = cls(Path(tempfile.mkdtemp(prefix="nnf-spare-")), limits, timeout)
        kernel.staged = True
        kernel.launch()
        return kernel

    def take(self, folder: Path, budget: float) -> None:
        """Give this spare kernel the submission in ``folder``: its files are copied in (as a
        fresh kernel's are at start) and its time budget starts now."""
        shutil.copytree(folder, self.folder, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
        self.budget, self.ends = budget, time.monotonic() + budget
        self.ready()
        self._execute(COPY_IN, 60, Outputs(limit=0), replaying=True)

    def start(self) -> None:
        self.launch()
        self.ready()

    def launch(self) -> None:
        """Start the kernel's process and bind the agent's socket; :meth:`ready` waits for it."""
        sockets = socket_dir()
        self.sockets, self.cgroup = sockets, None
        manager = _SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / "k"),
                                          connection_file=str(sockets / "kernel.json"))
        manager.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)  # for every socket made from here on
        self.manager = manager
        try:
            if self.limits is not None:
                if os.geteuid() == 0:
                    self.cgroup = TaskCgroup.create(sockets.name, self.limits.tasks)
                manager.sandbox = Sandbox(self.folder, sockets, self.limits, self.cgroup)
            sandbox = manager.sandbox
            manager.forks = _forks if sandbox else None
            manager.start_kernel(cwd=str(sockets if sandbox else self.folder), env=self._environment(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.client = manager.client(context=manager.context)  # with its size limit
            self.client.start_channels()
        except ForkFailed as error:
            self.stop()
            stop_forking(f"a kernel could not be forked ({error})")
            return self.launch()  # with bwrap
        except Exception as error:  # noqa: BLE001 - whatever it was, this kernel is no use
            self.stop()
            raise KernelDied(f"the kernel did not start: {error}") from None
        self._open_line()

    def ready(self) -> None:
        """Wait until the launched kernel answers, and make it ready for the student's cells."""
        try:
            self.client.wait_for_ready(timeout=60)
        except Exception as error:  # noqa: BLE001 - whatever it was, this kernel is no use
            self.stop()
            raise KernelDied(f"the kernel did not start: {error}") from None
        self._execute(SETUP, 60, Outputs(limit=0), replaying=True)

    def _open_line(self) -> None:
        """Bind the agent's socket before any student code runs, so that none can bind it first."""
        self.line = self.manager.context.socket(zmq.PAIR)  # with the context's size limit
        self.line.linger = 0
        self.line_events = self.line.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self.line.bind(f"ipc://{self.sockets}/agent")
        self.session = None

    def stop(self) -> None:
        if self.line is not None:
            self.line.disable_monitor()
            self.line_events.close(linger=0)
            self.line.close(linger=0)
            self.line = self.line_events = self.session = None
        if self.manager is not None:
            if self.client is not None:
                self.client.stop_channels()
            self.manager.shutdown_kernel(now=True)
            self.manager = self.client = None
        if self.sockets is not None:
            shutil.rmtree(self.sockets, ignore_errors=True)
        if self.cgroup is not None:
            TaskCgroup.remove(self.cgroup)
            self.cgroup = None

    def close(self) -> None:
        """Stop the kernel for good, and remove the spare's copy of the submission."""
        self.stop()
        if self.staged:
            shutil.rmtree(self.folder, ignore_errors=True)

    def recover(self) -> None:
        """A fresh kernel in the state the finished cells left: replay them, dropping any that fail now."""
        self.stop()
        self.start()
        for source in list(self.history):
            try:
                self._execute(source, self.timeout, Outputs(limit=0), replaying=True)
            except (CellTimeout, KernelDied):
                self.history.remove(source)
                self.stop()
                self.start()

    def _environment(self) -> dict:
        return {**environment(HOME if self.limits is not None else str(self.folder)), **self.env}

    # --- running code ------------------------------------------------------------------------
    def run_cell(self, source: str) -> Outputs:
        """Run one of the student's cells and return its outputs (an error is one of them)."""
        outputs = Outputs()
        self._guarded(source, self.timeout, outputs)
        self.history.append(source)
        return outputs

    def request(self, op: str, deadline: float, outputs: Outputs, **args):
        """Ask the agent for something; returns the reply dict (``ok`` or ``error``).

        The first request opens a session (``agent.serve`` in an execute request); it stays
        open for the next requests until :meth:`end_session` (a test cell's end, or a cell)."""
        deadline = min(deadline, self.ends)
        try:
            if self.session is None:
                self._check_budget()
                self.session = self.client.execute(SERVE.format(address=f"ipc://{self.sockets}/agent"),
                                                   store_history=False, allow_stdin=False)
            self.sequence += 1
            message = json.dumps({"id": self.sequence, "op": op, "args": args}).encode()
            if not self._wait_on_line(zmq.POLLOUT, deadline, outputs):  # until the agent has connected
                return _grader_error(NO_ANSWER)
            self.line.send(message)
            while self._wait_on_line(zmq.POLLIN, deadline, outputs):
                reply = self._receive()
                if reply is not None and reply.get("id") == self.sequence:
                    return reply
            return _grader_error(NO_ANSWER)
        except (CellTimeout, KernelDied):
            self.recover()
            raise

    def end_session(self, deadline: float, outputs: Outputs) -> None:
        """Tell the agent to stop serving, and take the session's last prints."""
        if self.session is None:
            return
        session, self.session = self.session, None
        if self.line.poll(0, zmq.POLLOUT):
            self.line.send(b'{"op": "done"}')
        self._guarded_wait(session, max(deadline - time.monotonic(), 0.1), outputs, request=True)

    def _receive(self) -> dict | None:
        """The next message on the line, if it is a dict; anything else is dropped and counted."""
        try:
            reply = json.loads(self.line.recv(zmq.NOBLOCK))
        except (zmq.Again, ValueError, UnicodeDecodeError):
            reply = None
        if not isinstance(reply, dict):
            self.malformed += 1
            return None
        return reply

    def _wait_on_line(self, event: int, deadline: float, outputs: Outputs) -> bool:
        """Wait until the line can ``event`` (POLLIN, POLLOUT), taking the session's prints
        meanwhile; False when the session has ended without it (the agent is not serving)."""
        iopub = self.client.iopub_channel.socket
        poller = zmq.Poller()
        poller.register(self.line, event)
        poller.register(iopub, zmq.POLLIN)
        poller.register(self.line_events, zmq.POLLIN)
        while True:
            remaining = deadline - time.monotonic()
            self._check_time(remaining, deadline, self.timeout)
            ready = dict(poller.poll(int(min(remaining, 0.5) * 1000) + 1))
            if ready.get(self.line, 0) & event:
                return True
            if self.line_events in ready:  # the agent's end of the line closed: its process ended, or not
                self.line_events.recv_multipart()
                raise KernelDied(DIED if self._ends_within(IDLE_GRACE) else LINE_CUT)
            if iopub in ready and self._drain(self.session, outputs):
                self.session = None  # the agent stopped serving: the next request starts it again
                return False
            elif not ready and not self.manager.is_alive():
                raise KernelDied(DIED)

    def _ends_within(self, seconds: float) -> bool:
        """Whether the kernel's process ends within ``seconds`` (a dying process closes its
        sockets a moment before it can be seen to have ended)."""
        ends = time.monotonic() + seconds
        while self.manager.is_alive():
            if time.monotonic() > ends:
                return False
            time.sleep(0.02)
        return True

    def _drain(self, msg_id: str, outputs: Outputs) -> bool:
        """File every IOPub message waiting; True when one says ``msg_id`` has finished."""
        finished = False
        while True:
            try:
                msg = self.client.get_iopub_msg(timeout=0)
            except queue.Empty:
                return finished
            except Exception:  # noqa: BLE001 - a message that does not even parse
                self.malformed += 1
                continue
            try:
                finished |= self._take(msg, msg_id, outputs, replaying=False, request=True)
            except (KeyError, TypeError, ValueError, AttributeError):
                self.malformed += 1

    def _guarded(self, code: str, timeout: float, outputs: Outputs) -> None:
        """Run ``code``; after a timeout or a death, restart (and replay) before raising."""
        self.end_session(time.monotonic() + timeout, Outputs(limit=0))  # the agent must be done serving first
        self._check_budget()
        self._guarded_wait(self.client.execute(code, store_history=True, allow_stdin=False), timeout, outputs)

    def _guarded_wait(self, msg_id: str, timeout: float, outputs: Outputs, request=False) -> None:
        try:
            self._wait(msg_id, timeout, outputs, request=request)
        except (CellTimeout, KernelDied):
            self.recover()
            raise

    def _execute(self, code: str, timeout: float, outputs: Outputs, replaying=False) -> None:
        self._check_budget()
        self._wait(self.client.execute(code, store_history=not replaying, allow_stdin=False), timeout, outputs,
                   replaying=replaying)

    def _check_budget(self) -> None:
        if time.monotonic() >= self.ends:
            self.stop()
            raise OutOfTime(self._out_of_time())

    def _check_time(self, remaining: float, deadline: float, timeout: float) -> None:
        if remaining <= 0:
            if deadline >= self.ends:
                self.stop()
                raise OutOfTime(self._out_of_time())
            raise CellTimeout(f"your code was stopped after {timeout:.0f} s")

    def _wait(self, msg_id: str, timeout: float, outputs: Outputs, replaying=False, request=False) -> None:
        """Take ``msg_id``'s outputs until the kernel says it is idle again."""
        deadline = min(time.monotonic() + timeout, self.ends)
        replied = None  # when the shell channel said the code had finished
        while True:
            remaining = deadline - time.monotonic()
            self._check_time(remaining, deadline, timeout)
            if replied is not None and time.monotonic() - replied > IDLE_GRACE:  # "idle" was lost
                raise KernelDied(TOO_LARGE)
            try:
                msg = self.client.get_iopub_msg(timeout=min(remaining, 0.5))
            except queue.Empty:
                if not self.manager.is_alive():
                    raise KernelDied(DIED) from None
                if replied is None and self._finished(msg_id):
                    replied = time.monotonic()
                continue
            except Exception:  # noqa: BLE001 - a message that does not even parse
                self.malformed += 1
                continue
            try:
                if self._take(msg, msg_id, outputs, replaying, request):
                    return
            except (KeyError, TypeError, ValueError, AttributeError):
                self.malformed += 1

    def _finished(self, msg_id: str) -> bool:
        """Whether the shell channel has the reply to ``msg_id`` (older replies are dropped)."""
        while True:
            try:
                msg = self.client.get_shell_msg(timeout=0)
            except queue.Empty:
                return False
            except Exception:  # noqa: BLE001 - unreadable: not the reply we wait for
                continue
            if isinstance(msg, dict) and isinstance(msg.get("parent_header"), dict) \
                    and msg["parent_header"].get("msg_id") == msg_id:
                return True

    @staticmethod
    def _take(msg, msg_id, outputs: Outputs, replaying: bool, request: bool) -> bool:
        """File one IOPub message; True when it says the code has finished."""
        if msg["parent_header"].get("msg_id") != msg_id:
            return False
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status":
            return content["execution_state"] == "idle"
        if request:  # the agent serving: the student's prints only
            if kind == "stream":
                outputs.add_output(output_from(kind, content))
        elif kind in ("stream", "display_data", "execute_result", "error") and not replaying:
            outputs.add_output(output_from(kind, content))
        return False

    def _out_of_time(self) -> str:
        return f"your notebook used up the grader's time budget of {self.budget:.0f} s; nothing more of it was run"


def environment(home: str) -> dict:
    """A student's kernel's environment variables, with ``home`` as its $HOME."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(HOME=home, IPYTHONDIR=f"{home}/.ipython", MPLCONFIGDIR=f"{home}/.matplotlib",
               MPLBACKEND="Agg", PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               TF_CPP_MIN_LOG_LEVEL="2", NBGRADER_EXECUTION="autograde")
    return env


# --- per grading worker: a fork server, and one spare kernel ------------------------------------------

_forks: ForkServer | None = None  # sandboxed kernels are forked from it (see autograder.forkserver)


def start_forking(modules) -> None:
    """Start a fork server with ``modules`` imported (it loads while the worker does)."""
    global _forks
    if _forks is None:
        _forks = ForkServer(["ipykernel.kernelapp", "autograder.agent", "autograder.sandbox", *modules],
                            environment(HOME))


def stop_forking(why: str | None = None) -> None:
    """Box kernels with bwrap from now on (saying ``why`` when it is a failure)."""
    global _forks
    if why and _forks is not None:
        print(f"grader: {why}; kernels start without the fork server from now on (slower)", file=sys.stderr, flush=True)
    forks, _forks = _forks, None
    if forks is not None:
        forks.close()


_spare: StudentKernel | None = None  # launched for the next submission this process grades


def kernel_for(folder: Path, limits: Limits, timeout: float, budget: float) -> StudentKernel:
    """A ready sandboxed kernel holding the submission in ``folder``: the spare launched
    ahead of time when there is one with these settings, otherwise a new one."""
    global _spare
    spare, _spare = _spare, None
    if spare is not None and (spare.limits, spare.timeout) == (limits, timeout):
        try:
            spare.take(folder, budget)
            return spare
        except (KernelDied, OutOfTime, CellTimeout):
            pass
    if spare is not None:
        spare.close()
    kernel = StudentKernel(folder, limits, timeout, budget)
    kernel.start()
    return kernel


def launch_spare(limits: Limits, timeout: float) -> None:
    """Launch a kernel now for the next submission (see :func:`kernel_for`)."""
    global _spare
    if _spare is None:
        if not _spare_closes_at_exit:
            _close_spare_at_exit()
        _spare = StudentKernel.spare(limits, timeout)


_spare_closes_at_exit = False


def _close_spare_at_exit() -> None:
    """A worker process of multiprocessing ends without running atexit; its finalizers do run."""
    global _spare_closes_at_exit
    from multiprocessing import util
    util.Finalize(None, close_spare, exitpriority=10)
    _spare_closes_at_exit = True


def close_spare() -> None:
    """The worker's kernels end: its spare, and the fork server it would have forked more from."""
    global _spare
    if _spare is not None:
        _spare.close()
        _spare = None
    stop_forking()
