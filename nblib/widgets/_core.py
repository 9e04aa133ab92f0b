"""The machinery every demo shares: :class:`Debouncer`, :class:`Run` and :class:`Demo`.

The package docstring (:mod:`nblib.widgets`) explains why they exist: a slow kernel, a
dragged slider, a long training, and JupyterLab's second thread for widget messages.
"""

from __future__ import annotations

import asyncio
import html
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython import get_ipython
from IPython.display import display

from nblib._validation import check_int
from nblib.widgets.yours import Comparison, Yours

__all__ = ["Debouncer", "Run", "Demo", "WIDE"]

WIDE = {"description_width": "initial"}  # a control's style that shows its whole label


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running this code (a kernel's), or None in plain Python."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _at_home(home: asyncio.AbstractEventLoop | None, function: Callable, *args) -> bool:
    """Whether this code runs on ``home``; if not, ``function(*args)`` is sent there to run.

    Widget messages may arrive on another thread (a JupyterLab subshell); the demo's own
    work must stay on the loop it was made on.
    """
    if home is None or _running_loop() is home:
        return True
    home.call_soon_threadsafe(function, *args)
    return False


# -- debouncing ---------------------------------------------------------------------------------


class Debouncer:
    """Call ``action`` once calls have stopped coming for ``wait`` seconds, with the last arguments.

    Parameters
    ----------
    action : callable
        What to do, e.g. draw the plot for a slider position.
    wait : float
        Seconds without a new call before ``action`` runs.

    Notes
    -----
    A dragged slider sends the kernel a new position many times a second. A slow kernel
    that draws every position falls behind: the drawings pile up, and the plot keeps moving
    long after the mouse has stopped. Debouncing cuts the pile. Each call only (re)starts a
    timer, ``loop.call_later(wait, ...)``, which costs next to nothing; when the timer runs
    out, no newer position has come, and ``action`` runs once, for the last one.

    The timer needs the running event loop of a kernel. In plain Python there is none, and
    each call runs ``action`` at once. A call from another thread (a JupyterLab subshell)
    is handed to the loop the debouncer was made on, and waits there.

    Example
    -------
    >>> drawn = []
    >>> draw = Debouncer(drawn.append, wait=0.15)
    >>> draw(1); draw(2)  # no event loop here, so no waiting
    >>> drawn
    [1, 2]
    """

    def __init__(self, action: Callable, wait: float = 0.15):
        if not wait >= 0:
            raise ValueError(f"wait must be a number of seconds >= 0, got {wait!r}")
        self.action = action
        self.wait = wait
        self._home = _running_loop()  # where the action runs (None: made in plain Python)
        self._timer: asyncio.TimerHandle | None = None  # the pending call's timer
        self._args: tuple = ()                          # ... and its arguments

    def __call__(self, *args) -> None:
        loop = self._home or _running_loop()
        if loop is None:  # plain Python: nothing to wait for
            self.action(*args)
            return
        if not _at_home(loop, self, *args):
            return  # sent home; it comes back through here
        self.cancel()  # a newer call replaces the pending one and starts the wait afresh
        self._args = args
        self._timer = loop.call_later(self.wait, self._fire)

    @property
    def pending(self) -> bool:
        """True while a call waits for its timer."""
        return self._timer is not None

    def flush(self) -> None:
        """Run the pending call now instead of when its timer runs out."""
        if self._timer is not None:
            self._timer.cancel()
            self._fire()

    def cancel(self) -> None:
        """Forget the pending call, if any."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._args = None, ()

    def _fire(self) -> None:
        args = self._args
        self._timer, self._args = None, ()
        self.action(*args)


# -- long runs ----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Job:
    """One ``Run.start``: the steps still to take and whom to tell."""

    steps: Iterator
    on_step: Callable | None
    on_progress: Callable | None
    on_done: Callable | None
    task: asyncio.Task | None = None  # None: runs synchronously, in plain Python


class Run:
    """A long computation taken one step at a time, with a progress bar and a Stop button.

    ``self.widget`` is a row: the progress bar, Stop (enabled while running) and a status
    line ("epoch 3 of 25", "stopped after 7 epochs").

    Parameters
    ----------
    unit : str
        What one step is called in the status line.

    Attributes
    ----------
    count : int
        Steps taken by the current (or last) run.
    total : int
        Steps the current (or last) run was asked for.
    error : Exception or None
        What made the last run fail, if anything did.

    Notes
    -----
    A demo runs on one thread of the kernel. A plain loop over 1000 epochs would hold it for the
    whole training: no click on Stop, not even the progress bar's updates, would get
    through until the end. So in a kernel the run is an asyncio *task*, and it cooperates:
    it takes steps for at most ``slice_seconds`` (always at least one), updates the progress
    bar, then awaits a short sleep. The ``await`` hands control back to the event loop, which
    handles the messages that came in meanwhile (a click on Stop calls :meth:`stop`) and
    then resumes the task, which notices whether it was stopped. Nothing interrupts a step,
    so one step that takes two seconds still holds the kernel for two seconds: keep steps
    short (an epoch, not a whole training).

    In plain Python (no event loop) :meth:`start` takes all the steps before it returns.

    Example
    -------
    >>> run = Run()
    >>> run.start(iter(["a", "b", "c", "d"]), total=3,
    ...           on_step=lambda result, k: print(k, result),
    ...           on_done=lambda stopped: print("stopped" if stopped else "finished"))
    1 a
    2 b
    3 c
    finished
    >>> run.status.value
    'finished after 3 epochs'
    """

    slice_seconds = 0.05  # work this long, then let the kernel handle its messages ...
    pause_seconds = 0.001  # ... for this long. One message takes the kernel a few turns of
    # its event loop. A pause of 0 gives it one turn per slice, and a click on Stop took
    # ~170 ms to land (measured); with 1 ms it lands in about 20 ms.

    def __init__(self, *, unit: str = "epoch"):
        self.unit = unit
        self.progress = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="200px"))
        self.stop_button = W.Button(description="Stop", icon="stop", disabled=True,
                                    tooltip="Stop here; what was done so far is kept",
                                    layout=W.Layout(width="80px"))
        self.status = W.HTML()
        self.widget = W.HBox([self.progress, self.stop_button, self.status],
                             layout=W.Layout(align_items="center"))
        self.widget.add_class("nnf-run")
        self.stop_button.add_class("nnf-run-stop")
        self.progress.add_class("nnf-run-progress")
        self._home = _running_loop()  # the loop the steps run on (None: plain Python)
        self.stop_button.on_click(lambda _button: self._at_home_stop())
        self.count, self.total, self.error = 0, 0, None
        self._job: _Job | None = None

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the run finishes, fails or is stopped."""
        return self._job is not None

    def start(self, steps: Iterator, total: int, *, on_step: Callable | None = None,
              on_progress: Callable | None = None, on_done: Callable | None = None) -> None:
        """Take up to ``total`` steps, each one ``next(steps)``; a run in progress stops first.

        Parameters
        ----------
        steps : iterator
            Each ``next(steps)`` does one unit of work and returns its result. Running out
            (``StopIteration``) before ``total`` ends the run as finished, not stopped.
        total : int
            Steps for a full run (the progress bar's end).
        on_step : callable, optional
            ``on_step(result, k)`` after step k (1, 2, ...): record the result.
        on_progress : callable, optional
            ``on_progress(k)`` after each slice of a background run: time to redraw.
        on_done : callable, optional
            ``on_done(stopped)`` once at the end; ``stopped`` is True after :meth:`stop`
            (or Stop, or a new :meth:`start`) and after an error in a step.
        """
        total = check_int(total, "total", minimum=1)
        self.stop()  # the old run reports first, so it cannot overwrite the new one later
        job = _Job(iter(steps), on_step, on_progress, on_done)
        self._job, self.count, self.total, self.error = job, 0, total, None
        self.progress.max, self.progress.value, self.progress.bar_style = total, 0, ""
        self.stop_button.disabled = False
        self.status.value = f"{self.unit} 0 of {total}"
        loop = self._home or _running_loop()
        if loop is None:
            self._work(job, seconds=math.inf)  # plain Python: the whole run, now
        else:
            job.task = loop.create_task(self._work_in_background(job))

    def stop(self) -> None:
        """End the run now; its ``on_done(True)`` has run when this returns."""
        if self._job is not None:
            self._end(self._job, "stopped")

    def _at_home_stop(self) -> None:
        """The Stop button: its click may arrive on another thread; stop on the run's own."""
        if _at_home(self._home, self._at_home_stop):
            self.stop()

    def _take_step(self, steps: Iterator):
        """One unit of work. Every step goes through here (a test can slow it down)."""
        return next(steps)

    async def _work_in_background(self, job: _Job) -> None:
        while self._work(job, seconds=self.slice_seconds):
            # Hand control back to the event loop: the kernel now handles the messages that
            # came in during the slice. A click on Stop runs stop() right here, in between.
            await asyncio.sleep(self.pause_seconds)
            if self._job is not job:  # stopped, or replaced by a newer start()
                return

    def _work(self, job: _Job, seconds: float) -> bool:
        """Take steps for about ``seconds`` (at least one); True while the run goes on."""
        deadline = time.perf_counter() + seconds
        try:
            while self._step(job):
                if time.perf_counter() >= deadline:
                    self._report_progress(job)
                    return self._job is job
            return False
        except Exception as error:
            if self._job is not job:
                raise  # the run was already over: on_done itself failed
            self._end(job, "failed", error)
            if job.task is None:
                raise  # plain Python: the caller gets the traceback, as from any loop
            return False  # a background task has no caller: the error stays in self.error

    def _step(self, job: _Job) -> bool:
        """Take one step and report it; True while the run goes on."""
        try:
            result = self._take_step(job.steps)
        except StopIteration:  # no more steps before total: that is finishing early
            self._end(job, "finished")
            return False
        self.count += 1
        if job.on_step is not None:
            job.on_step(result, self.count)
        if self.count >= self.total and self._job is job:
            self._end(job, "finished")
        return self._job is job  # on_step may have stopped the run

    def _report_progress(self, job: _Job) -> None:
        self.progress.value = self.count
        self.status.value = f"{self.unit} {self.count} of {self.total}"
        if job.on_progress is not None:
            job.on_progress(self.count)

    def _end(self, job: _Job, outcome: str, error: Exception | None = None) -> None:
        if self._job is not job:  # already over
            return
        self._job, self.error = None, error
        self.stop_button.disabled = True
        done = f"{self.count} {self.unit}s"
        if outcome == "finished":
            self.progress.value, self.progress.bar_style = self.total, "success"
            self.status.value = f"finished after {done}"
        elif outcome == "stopped":
            self.progress.value, self.progress.bar_style = self.count, "warning"
            self.status.value = f"stopped after {done}"
        else:
            self.progress.value, self.progress.bar_style = self.count, "danger"
            message = html.escape(f"{type(error).__name__}: {error}")
            self.status.value = f'<span style="color:#b42318">failed after {done}: {message}</span>'
        if job.on_done is not None:
            job.on_done(outcome != "finished")


# -- demos --------------------------------------------------------------------------------------


class Demo:
    """What every lesson demo shares: a root widget, one figure, and an output that shows it.

    A subclass builds its controls into ``self.widget``, draws on ``self.figure`` and calls
    ``self._render()`` to put the new picture on the page. All drawing reaches the page
    through ``_render``, so subclasses must not override it: it is the one place to count,
    time or slow down drawing (the tests do).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The demo's figure; it is shown in ``self.output`` only.
    yours : mapping of str to callable, optional
        The student's functions to draw beside nblib's (names from ``YOURS``; see
        :mod:`nblib.widgets.yours`). A subclass compares them with ``self.yours.compare``,
        draws both, and shows the comparisons with ``self._say`` in ``self.yours_line``.

    Attributes
    ----------
    renders : int
        How often the figure was put on the page.
    """

    YOURS: tuple[str, ...] = ()  # the student's functions this demo can draw beside nblib's

    def __init__(self, figure, yours=None):
        plt.close(figure)  # shown through self.output only, never twice
        self.figure = figure
        self.output = W.Output()
        self.widget: W.Box | None = None  # the root box: controls and self.output, built by a subclass
        self.renders = 0
        # The hook of nblib.widgets.yours: the student's functions, and the line comparing them.
        self.yours = Yours(yours, accepted=self.YOURS, demo=type(self).__name__)
        self.yours_line = W.HTML(layout=W.Layout(display="flex" if self.yours else "none"))

    def _say(self, *comparisons: Comparison) -> None:
        """Show how the student's functions compared with nblib's in this drawing, a line each."""
        self.yours_line.value = "<br>".join(c.html for c in comparisons if c.line)

    def _render(self) -> None:
        """Show the figure as it is now in ``self.output``, replacing the picture before."""
        self.renders += 1
        shell = get_ipython()
        if shell is None:  # plain Python (tests): the figure is updated, nothing to show
            return
        # Not `with self.output: display(...)`: that output is addressed to the browser's
        # request being handled, and a debounced call or a background run draws after that
        # request is done, so JupyterLab would drop the picture. Setting the widget's own
        # `outputs` reaches the page whenever it happens (ipywidgets' advice for threads).
        data, metadata = shell.display_formatter.format(self.figure)  # PNG, as display() makes
        self.output.outputs = ({"output_type": "display_data", "data": data, "metadata": metadata},)

    def _ipython_display_(self) -> None:
        display(self.widget)
