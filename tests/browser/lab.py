"""Drive JupyterLab in a real browser: open a notebook, run it, read what the page shows.

Everything a student does goes through the page (menus, sliders, radio buttons, the
Validate button). What a student cannot see goes through Lab's own JavaScript API (exposed
with ``--LabApp.expose_app_in_browser``): whether the kernel is ready, asking it a question
or keeping it busy without adding a cell, and reading a cell's source back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Locator, Page

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
ERROR_MIME = "application/vnd.jupyter.stderr"  # Lab renders tracebacks and stderr with this type

# True once the current notebook's file is loaded and its kernel is connected and idle.
_KERNEL_READY = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return Boolean(panel && panel.context && panel.context.isReady && kernel && kernel.connectionStatus === 'connected'
                 && kernel.status === 'idle');
}"""

# Run `code` in the current notebook's kernel; resolves to its stdout, or "ERROR name: value".
_KERNEL_EXEC = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, store_history: false});
  let out = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += `ERROR ${msg.content.ename}: ${msg.content.evalue}`;
  };
  await future.done;
  return out;
}"""


class Notebook:
    """One open notebook in Lab."""

    def __init__(self, page: Page, path: str):
        self.page, self.path = page, path
        self.panel = page.locator(PANEL)

    # -- running -------------------------------------------------------------------------------

    def wait_for_kernel(self, timeout: float = 90) -> None:
        """Wait until the notebook is loaded and its kernel is connected and idle."""
        self.page.wait_for_function(_KERNEL_READY, timeout=timeout * 1000)

    def menu(self, *labels: str) -> None:
        """Click through the menu bar: menu("Run", "Run All Cells")."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{labels[0]}$")).click()
        for label in labels[1:]:
            self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).click()

    def run_all(self, timeout: float = 180) -> None:
        """Run > Run All Cells, then wait until no cell is queued or running."""
        self.menu("Run", "Run All Cells")
        started = f"{PANEL} .jp-CodeCell .jp-InputPrompt"
        self.page.wait_for_function(
            "(sel) => [...document.querySelectorAll(sel)].some(p => /[*0-9]/.test(p.textContent))",
            arg=started, timeout=30_000)
        self.wait_until_done(timeout)

    def wait_until_done(self, timeout: float = 180) -> None:
        """Wait until every code cell shows an execution count ([3]:), or one raised and Lab
        cleared the queue behind it; and the kernel is idle."""
        deadline = time.monotonic() + timeout
        while True:
            prompts = self.panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            queued = any("*" in p for p in prompts)
            unrun = any(not re.search(r"\d", p) for p in prompts)
            if not queued and (not unrun or self.error_outputs()) and self.kernel_status() == "idle":
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.path}: cells still running after {timeout:.0f} s: {prompts}")
            time.sleep(0.25)

    def run_cell(self, index: int, *, wait: bool = True, timeout: float = 120) -> None:
        """Run cell ``index`` (Run > Run Selected Cell, on that cell); with ``wait``, until it shows
        its new execution count and the kernel is idle."""
        prompt = self.panel.locator(".jp-Cell").nth(index).locator(".jp-InputPrompt")
        before = prompt.inner_text()
        self.page.evaluate("(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }", index)
        self.page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-cell'); }")  # not awaited
        deadline = time.monotonic() + timeout
        while wait and not (re.search(r"\[\d+\]", now := prompt.inner_text()) and now != before
                            and self.kernel_status() == "idle"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.path}: cell {index} still running after {timeout:.0f} s ({now})")
            time.sleep(0.2)

    def kernel_status(self) -> str | None:
        indicator = self.panel.locator(".jp-Notebook-ExecutionIndicator")
        return indicator.get_attribute("data-status") if indicator.count() else None

    @contextlib.contextmanager
    def kernel_held(self, longest: float = 120.0):
        """Keep the kernel busy until the ``with`` block ends: a slow kernel.

        Everything the block does on the page is sent while the kernel is busy, however slow
        the machine (a fixed sleep let a late change be sent after the kernel was free). The
        kernel waits for a file that this side creates when the block ends, and gives up after
        ``longest`` seconds so that a failed test cannot leave it stuck.

        Sent is not received: ipywidgets' front end sends a control's first change at once and
        keeps the later ones until the kernel answers it, after the hold (ipykernel 7 answers a
        widget on the thread that last wrote to it, usually the main one, even with Lab's subshells).
        So the changes can reach the kernel in two parts, a round trip apart; see
        ``test_slow_kernels.at_most``.
        """
        release = Path(tempfile.mkdtemp(prefix="nnf-hold-")) / "release"   # the kernel removes it
        code = (f"import os, shutil, time\n_end = time.monotonic() + {longest}\n"
                f"while not os.path.exists({str(release)!r}) and time.monotonic() < _end:\n"
                f"    time.sleep(0.02)\n"
                f"shutil.rmtree({str(release.parent)!r}, ignore_errors=True)")
        self.page.evaluate("""(code) => { window.jupyterapp.shell.currentWidget.sessionContext.session.kernel
                                          .requestExecute({code, store_history: false}); }""", code)
        try:
            yield
        finally:
            release.touch()

    def kernel(self, code: str) -> str:
        """Run ``code`` in this notebook's kernel (no cell is added); returns what it printed."""
        return self.page.evaluate(_KERNEL_EXEC, code)

    # -- reading ---------------------------------------------------------------------------------

    def error_outputs(self) -> list[str]:
        """Text of every traceback or stderr output, and every widget or figure that failed to render."""
        texts = self.panel.locator(f".jp-OutputArea-output[data-mime-type='{ERROR_MIME}']").all_inner_texts()
        broken = self.panel.locator(".jp-OutputArea-output", has_text=re.compile(
            r"Error displaying widget|Loading widget\.\.\.|Model not found")).all_inner_texts()
        # A figure whose picture failed to render shows only its text form.
        figures_as_text = self.panel.locator(".jp-OutputArea-output",
                                             has_text=re.compile(r"^<Figure size .* Axes>$")).all_inner_texts()
        return texts + broken + figures_as_text

    def widget_roots(self) -> list[Locator]:
        """Every output that shows a widget (not counting widgets shown inside an Output widget)."""
        return self.panel.locator(".jp-OutputArea-output:not(.widget-output *) > .jupyter-widgets").all()

    def cell_source(self, index: int) -> str:
        return self.page.evaluate(
            "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.sharedModel.getSource()", index)


def look(root: Locator) -> str:
    """A fingerprint of what a widget shows: its images and its visible text."""
    images = root.locator("img").evaluate_all("imgs => imgs.map(i => i.src)")
    return hashlib.sha1(json.dumps([images, root.inner_text()]).encode()).hexdigest()


def wait_for_change(root: Locator, before: str, timeout: float = 60) -> str:
    """Wait until the widget shows something other than ``before``; returns the new look."""
    deadline = time.monotonic() + timeout
    while (now := look(root)) == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"the widget did not change within {timeout:.0f} s")
        time.sleep(0.2)
    return now


def screenshot(locator: Locator, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path))
    return path
