"""A student's kernel seen from the grader: run a cell, call a function, survive anything.

:class:`StudentKernel` starts an IPython kernel (in the :mod:`~autograder.sandbox` unless
grading runs without one), runs the student's cells with a wall-clock limit per cell and one
for the whole submission, and sends requests to :mod:`autograder.agent`. A cell that times
out, or code that kills the kernel (``os._exit``, a crash, the memory limit), costs only
that cell: the kernel is restarted and the cells that had finished are run again, silently,
before grading goes on. Replays count against the submission's budget, so cells that each
stay just under the cell limit cannot stall the class.

What the kernel sends is untrusted. Outputs are rebuilt field by field from the message
(a message that does not fit is dropped and counted, never raised); while the grader waits
on a request, only capped ``stream`` text and the agent's one reply are taken, never an
``execute_result``, ``error`` or display; and no message over ``MAX_MESSAGE_BYTES`` is even
received.
"""

from __future__ import annotations

import json
import math
import os
import queue
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client import KernelManager
from nbformat.v4 import new_output

from autograder.agent import MIME
from autograder.sandbox import HOME, Limits, Sandbox, TaskCgroup, socket_dir

# exit() would end the kernel once its cell is over, blaming the next cell: make it harmless.
SETUP = "get_ipython().ask_exit = lambda: print('exit() is switched off while your notebook is graded')"
MAX_OUTPUT_BYTES = 100_000         # text a cell may print before the rest is cut (one line counts too)
MAX_MESSAGE_BYTES = 128 * 2**20    # a larger message from the kernel is refused by ZeroMQ
IDLE_GRACE = 2.0                   # seconds to wait for "idle" once the shell channel says the code is done


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

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        return self.sandbox.command(command) if self.sandbox else command


class StudentKernel:
    """``folder`` holds the submission's files; ``limits`` None means no sandbox (the kernel
    then works in ``folder`` itself, which must be a copy)."""

    def __init__(self, folder: Path, limits: Limits | None, timeout: float, budget: float = math.inf,
                 env: dict | None = None):
        self.folder, self.limits, self.timeout = Path(folder), limits, timeout
        self.budget, self.ends = budget, time.monotonic() + budget
        self.env = env or {}
        self.history: list[str] = []  # cells that ran to the end, replayed after a restart
        self.manager = self.client = self.sockets = self.cgroup = None
        self.malformed = 0  # messages from the kernel that the grader dropped

    # --- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        sockets = socket_dir()
        self.sockets, self.cgroup = sockets, None
        sandbox = None
        if self.limits is not None:
            if os.geteuid() == 0:
                self.cgroup = TaskCgroup.create(sockets.name, self.limits.tasks)
            sandbox = Sandbox(self.folder, sockets, self.limits, self.cgroup)
        manager = _SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / "k"),
                                          connection_file=str(sockets / "kernel.json"))
        manager.sandbox = sandbox
        manager.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)  # for every socket made from here on
        self.manager = manager
        try:
            manager.start_kernel(cwd=str(sockets if sandbox else self.folder), env=self._environment(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.client = manager.client(context=manager.context)  # with its size limit
            self.client.start_channels()
            self.client.wait_for_ready(timeout=60)
        except Exception as error:  # noqa: BLE001 - whatever it was, this kernel is no use
            self.stop()
            raise KernelDied(f"the kernel did not start: {error}") from None
        self._execute(SETUP, 60, Outputs(limit=0), replaying=True)

    def stop(self) -> None:
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
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        home = HOME if self.limits is not None else str(self.folder)
        env.update(HOME=home, IPYTHONDIR=f"{home}/.ipython", MPLCONFIGDIR=f"{home}/.matplotlib",
                   MPLBACKEND="Agg", PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1",
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   TF_CPP_MIN_LOG_LEVEL="2", NBGRADER_EXECUTION="autograde")
        env.update(self.env)
        return env

    # --- running code ------------------------------------------------------------------------
    def run_cell(self, source: str) -> Outputs:
        """Run one of the student's cells and return its outputs (an error is one of them)."""
        outputs = Outputs()
        self._guarded(source, self.timeout, outputs)
        self.history.append(source)
        return outputs

    def request(self, op: str, deadline: float, outputs: Outputs, **args):
        """Ask the agent for something; returns the reply dict (``ok`` or ``error``)."""
        code = f"__import__('autograder.agent').agent.handle({json.dumps({'op': op, 'args': args})!r})"
        replies = []
        self._guarded(code, max(deadline - time.monotonic(), 0.1), outputs, replies)
        if len(replies) != 1 or not isinstance(replies[0], dict):
            why = ("no answer from your kernel (did your code replace or break Python's machinery, e.g. builtins "
                   "or IPython's display?)") if not replies else "your kernel answered more than once"
            return {"error": {"ename": "GraderError", "module": "", "evalue": why, "traceback": []}}
        return replies[0]

    def _guarded(self, code: str, timeout: float, outputs: Outputs, replies=None) -> None:
        """Run ``code``; after a timeout or a death, restart (and replay) before raising."""
        try:
            self._execute(code, timeout, outputs, replies=replies)
        except (CellTimeout, KernelDied):
            self.recover()
            raise

    def _execute(self, code: str, timeout: float, outputs: Outputs, replaying=False, replies=None) -> None:
        if time.monotonic() >= self.ends:
            self.stop()
            raise OutOfTime(self._out_of_time())
        msg_id = self.client.execute(code, store_history=replies is None, allow_stdin=False)
        deadline = min(time.monotonic() + timeout, self.ends)
        replied = None  # when the shell channel said the code had finished
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if deadline >= self.ends:
                    self.stop()
                    raise OutOfTime(self._out_of_time())
                raise CellTimeout(f"your code was stopped after {timeout:.0f} s")
            if replied is not None and time.monotonic() - replied > IDLE_GRACE:  # "idle" was lost
                raise KernelDied(f"your code sent a message larger than the grader accepts "
                                 f"({MAX_MESSAGE_BYTES // 2**20} MiB), which cut its line to the grader")
            try:
                msg = self.client.get_iopub_msg(timeout=min(remaining, 0.5))
            except queue.Empty:
                if not self.manager.is_alive():
                    raise KernelDied("your code ended the Python process (os._exit, exit(), a crash, or more "
                                     "memory than the grader allows)") from None
                if replied is None and self._finished(msg_id):
                    replied = time.monotonic()
                continue
            except Exception:  # noqa: BLE001 - a message that does not even parse
                self.malformed += 1
                continue
            try:
                if self._take(msg, msg_id, outputs, replaying, replies):
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
    def _take(msg, msg_id, outputs: Outputs, replaying: bool, replies) -> bool:
        """File one IOPub message; True when it says the code has finished."""
        if msg["parent_header"].get("msg_id") != msg_id:
            return False
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status":
            return content["execution_state"] == "idle"
        if replies is not None:  # a request: the agent's reply, and the student's prints
            if kind == "display_data" and MIME in content["data"]:  # only the first is kept
                replies.append(None if replies else content["data"][MIME])
            elif kind == "stream":
                outputs.add_output(output_from(kind, content))
        elif kind in ("stream", "display_data", "execute_result", "error") and not replaying:
            outputs.add_output(output_from(kind, content))
        return False

    def _out_of_time(self) -> str:
        return f"your notebook used up the grader's time budget of {self.budget:.0f} s; nothing more of it was run"
