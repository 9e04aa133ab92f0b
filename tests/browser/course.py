"""A student's copy of the course, opened with the README's own command.

The browser saves notebooks (nbgrader's Validate button saves before it validates), so the
tests never serve the repository itself: they copy the course into ``.cache/browser-course``
and run the README's course command there, exactly as written, with only the flags a
scripted run needs appended (port, token, no browser window). The copy keeps its ``.venv``
between runs; like the README says, the command then installs only what is missing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ROOT / ".cache" / "browser-course"
ARTIFACTS = ROOT / ".artifacts" / "browser"
NOT_COPIED = {".git", ".venv", ".cache", ".artifacts", ".grading", ".pytest_cache", "__pycache__",
              ".ipynb_checkpoints", "build", "dist"}


def readme_command(marker: str) -> str:
    """The first line of the code block after ``<!-- ci: MARKER -->`` in the README."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- ci: {marker} -->")
    fence = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    return lines[fence + 1].strip()


def copy_course(dest: Path = SCRATCH) -> Path:
    """Refresh ``dest`` from the working tree, keeping only its ``.venv``."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        if old.name != ".venv":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    ignore = shutil.ignore_patterns(*NOT_COPIED, "*.egg-info")
    for item in ROOT.iterdir():
        if item.name in NOT_COPIED or item.name.endswith(".egg-info"):
            continue
        if item.is_dir():
            shutil.copytree(item, dest / item.name, ignore=ignore)
        else:
            shutil.copy2(item, dest / item.name)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Course:
    """JupyterLab serving the student's copy; ``url(path)`` opens a file in Lab."""

    root: Path
    port: int
    token: str
    process: subprocess.Popen
    log: Path

    def url(self, path: str = "") -> str:
        # "reset" starts from an empty workspace: only the opened notebook, no tabs from earlier.
        return f"http://127.0.0.1:{self.port}/lab/tree/{path}?token={self.token}&reset"

    def api(self, path: str) -> int:
        """HTTP status of a server API call (0 while the server is not up)."""
        url = f"http://127.0.0.1:{self.port}/api/{path}?token={self.token}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except OSError:
            return 0

    def shut_down_kernels(self) -> None:
        """End every notebook session, so the next notebook opened gets a fresh kernel."""
        base = f"http://127.0.0.1:{self.port}/api/sessions"
        with urllib.request.urlopen(f"{base}?token={self.token}", timeout=10) as response:
            sessions = json.load(response)
        for session in sessions:
            request = urllib.request.Request(f"{base}/{session['id']}?token={self.token}", method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()

    def refresh(self) -> None:
        """No kernel running, and the course's files as in the repository again (the ``.venv`` kept)."""
        self.shut_down_kernels()
        copy_course(self.root)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # jupyter shuts its kernels down
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def start(*, name: str = SCRATCH.name, timeout: float = 900) -> Course:
    """Copy the course to ``.cache/<name>``, run the README's course command in the copy, wait
    until Lab answers. Each name is a copy, a user and a log of its own: two can run at once."""
    root = copy_course(SCRATCH.with_name(name))
    port, token = free_port(), secrets.token_hex(16)
    extra = [f"--port={port}", f"--IdentityProvider.token={token}", "--no-browser",
             "--ServerApp.ip=127.0.0.1", "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        extra.append("--allow-root")  # as the README says for containers that run as root
    command = readme_command("course command") + " " + " ".join(extra)
    home = SCRATCH.with_name(name.replace("course", "home"))  # a fresh user: no settings, workspaces or kernels
    shutil.rmtree(home, ignore_errors=True)
    write_settings(home / "settings")
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    # Nothing of the test run leaks into the student's Lab (MPLBACKEND=Agg would turn every
    # plot into "<Figure size ...>" text).
    for variable in ("VIRTUAL_ENV", "PYTHONPATH", "MPLBACKEND", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER",
                     "PYTEST_XDIST_TESTRUNUID", "PYTEST_XDIST_WORKER_COUNT"):
        env.pop(variable, None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"jupyterlab{name.removeprefix(SCRATCH.name)}.log"
    with open(log, "w") as out:
        out.write(f"$ cd {root} && {command}\n")
        out.flush()
        process = subprocess.Popen(["bash", "-c", command], cwd=root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    course = Course(root, port, token, process, log)
    deadline = time.monotonic() + timeout
    while course.api("status") != 200:
        if process.poll() is not None:
            raise RuntimeError(f"the course command exited with {process.returncode}:\n{tail(log)}")
        if time.monotonic() > deadline:
            course.stop()
            raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{tail(log)}")
        time.sleep(1)
    return course


def write_settings(folder: Path) -> None:
    """Lab settings for the test user: every cell kept on the page, no news pop-up.

    By default Lab 4 only attaches the cells near the viewport; the tests read outputs and
    widgets all over the notebook, so they switch that windowing off. Lab also asks whether
    to fetch Jupyter news, in a pop-up over the page's corner (and the screenshots)."""
    settings = {("notebook-extension", "tracker"): {"windowingMode": "none"},
                ("apputils-extension", "notification"): {"fetchNews": "false", "checkForUpdates": False}}
    for (extension, plugin), values in settings.items():
        path = folder / "@jupyterlab" / extension / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
