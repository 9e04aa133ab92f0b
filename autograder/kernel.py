"""A student's kernel seen from the grader: run a cell, call a function, survive anything.

:class:`StudentKernel` starts an IPython kernel (in the :mod:`~autograder.sandbox` when one
is given), runs the student's cells with a wall-clock limit and an output-size limit, and
sends requests to :mod:`autograder.agent`. A cell that times out, or code that kills the
kernel (``os._exit``, a crash, the memory limit), costs only that cell: the kernel is
restarted and the cells that had finished are run again, silently, before grading goes on.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from jupyter_client import KernelManager
from nbformat.v4 import new_output, output_from_msg

from autograder.agent import MIME
from autograder.sandbox import Sandbox, socket_dir

# exit() would end the kernel once its cell is over, blaming the next cell: make it harmless.
SETUP = "get_ipython().ask_exit = lambda: print('exit() is switched off while your notebook is graded')"
MAX_OUTPUT_BYTES = 100_000  # text a cell may print before the rest is cut (one line counts too)


class KernelDied(Exception):
    """The student's kernel stopped during a cell or a call (it has been restarted)."""


class CellTimeout(Exception):
    """The student's code ran past the time limit (the kernel has been restarted)."""


@dataclass
class Outputs:
    """A cell's outputs as nbformat nodes, with at most ``limit`` bytes of text kept."""
    limit: int = MAX_OUTPUT_BYTES
    items: list = field(default_factory=list)
    kept: int = 0
    cut: int = 0

    def add(self, msg) -> None:
        self.add_output(output_from_msg(msg))

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


class _SandboxedKernelManager(KernelManager):
    sandbox: Sandbox | None = None

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        return self.sandbox.command(command) if self.sandbox else command


class StudentKernel:
    def __init__(self, workdir: Path, sandbox: Sandbox | None, timeout: float, env: dict | None = None):
        self.workdir, self.sandbox, self.timeout = Path(workdir), sandbox, timeout
        self.env = env or {}
        self.history: list[str] = []  # cells that ran to the end, replayed after a restart
        self.manager = self.client = None

    # --- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        sockets = socket_dir()
        sandbox = replace(self.sandbox, keep=[self.workdir, sockets]) if self.sandbox else None
        manager = _SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / "k"),
                                          connection_file=str(sockets / "kernel.json"))
        manager.sandbox = sandbox
        try:
            manager.start_kernel(cwd=str(self.workdir), env=self._environment())
            client = manager.client()
            client.start_channels()
            client.wait_for_ready(timeout=60)
        except Exception as error:  # noqa: BLE001 - whatever it was, this kernel is no use
            manager.shutdown_kernel(now=True)
            shutil.rmtree(sockets, ignore_errors=True)
            raise KernelDied(f"the kernel did not start: {error}") from None
        self.manager, self.client, self.sockets = manager, client, sockets
        self._execute(SETUP, 60, Outputs(limit=0), replaying=True)

    def stop(self) -> None:
        if self.manager is not None:
            self.client.stop_channels()
            self.manager.shutdown_kernel(now=True)
            shutil.rmtree(self.sockets, ignore_errors=True)
            self.manager = self.client = None

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
        home = str(self.workdir)
        env.update(HOME=home, IPYTHONDIR=f"{home}/.ipython", MPLCONFIGDIR=f"{home}/.matplotlib",
                   MPLBACKEND="Agg", PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1",
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   TF_CPP_MIN_LOG_LEVEL="2", NBGRADER_EXECUTION="autograde")
        env.update(self.env)
        return env

    # --- running code ------------------------------------------------------------------------
    def run_cell(self, source: str) -> tuple[list, dict | None]:
        """Run one of the student's cells: (outputs, error content or None)."""
        outputs = Outputs()
        try:
            error = self._execute(source, self.timeout, outputs)
        except (CellTimeout, KernelDied):
            self.recover()
            raise
        self.history.append(source)
        return outputs.finish(), error

    def request(self, op: str, deadline: float, outputs: Outputs, **args):
        """Ask the agent for something; returns the reply dict (``ok`` or ``error``)."""
        code = f"__import__('autograder.agent').agent.handle({json.dumps({'op': op, 'args': args})!r})"
        replies = []
        try:
            self._execute(code, max(deadline - time.monotonic(), 0.1), outputs, replies=replies)
        except (CellTimeout, KernelDied):
            self.recover()
            raise
        if not replies:
            return {"error": {"ename": "GraderError", "module": "",
                              "evalue": "no answer from your kernel (did your code replace or break Python's "
                                        "machinery, e.g. builtins or IPython's display?)", "traceback": []}}
        return replies[-1]

    def _execute(self, code: str, timeout: float, outputs: Outputs, replaying=False, replies=None):
        msg_id = self.client.execute(code, store_history=replies is None, allow_stdin=False)
        deadline = time.monotonic() + timeout
        error = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CellTimeout(f"your code was stopped after {timeout:.0f} s")
            try:
                msg = self.client.get_iopub_msg(timeout=min(remaining, 0.5))
            except queue.Empty:
                if not self.manager.is_alive():
                    raise KernelDied("your code ended the Python process (os._exit, exit(), a crash, or more "
                                     "memory than the grader allows)") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                return error
            if kind == "display_data" and replies is not None and MIME in content.get("data", {}):
                replies.append(content["data"][MIME])
            elif kind in ("stream", "display_data", "execute_result", "error"):
                if kind == "error":
                    error = content
                if not replaying:
                    outputs.add(msg)
