"""Interactive demos for the lessons (ipywidgets + matplotlib) that keep up with a slow kernel.

Each demo is a small class: it builds its controls, keeps the matplotlib artists it moves,
and shows itself when it is the last expression of a cell. The drawing code is separate from
the widget plumbing, so tests can move a slider and inspect the plot without a browser.

A kernel runs one piece of Python at a time. While it draws a plot or trains a model, every
message from the browser (a slider position, a click) waits in line. Two tools keep the
demos responsive on a slow kernel anyway:

- :class:`Debouncer` lets a control settle before acting: a dragged slider sends dozens of
  positions, and only the last one is drawn.
- :class:`Run` does a long computation (training, one epoch at a time) in short slices in
  the background, with a progress bar and a Stop button the kernel answers between slices.

Both use the kernel's event loop (:mod:`asyncio`): inside Jupyter, the code a widget calls
runs in a loop that can also run timers and background tasks. Plain Python (a script,
pytest) has no running loop; there both tools simply act at once, so results are the same.
Drawing that happens later like this reaches the page through :meth:`Demo._render`.

One more wrinkle: JupyterLab 4.6 sends widget messages to a kernel *subshell*, a second
thread with its own event loop, so that a control can answer while a cell runs. A demo's
figure and state are not safe to touch from two threads at once, so both tools hand their
work to the loop of the thread the demo was made on (its "home"), with
``loop.call_soon_threadsafe``; that loop runs it as soon as it is free.
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
import numpy as np
from IPython import get_ipython
from IPython.display import display
from matplotlib.ticker import MaxNLocator

from nblib import perceptron, plots
from nblib._validation import check_int

__all__ = ["Debouncer", "Run", "Demo", "PerceptronPlayground"]


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

    Attributes
    ----------
    renders : int
        How often the figure was put on the page.
    """

    def __init__(self, figure):
        plt.close(figure)  # shown through self.output only, never twice
        self.figure = figure
        self.output = W.Output()
        self.widget: W.Box | None = None  # the root box: controls and self.output, built by a subclass
        self.renders = 0

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


class _History:
    """A perceptron's weights before training and after each epoch so far."""

    def __init__(self, w0, b0):
        self.weights, self.biases, self.errors = [np.array(w0, dtype=float)], [float(b0)], []

    def add(self, epoch: perceptron.PerceptronFit) -> None:
        """Append one epoch, trained from the weights of the previous one."""
        self.weights.append(epoch.w)
        self.biases.append(epoch.b)
        self.errors.extend(epoch.errors)

    def fit(self) -> perceptron.PerceptronFit:
        """The epochs so far, as :func:`perceptron.train` would report them."""
        return perceptron.PerceptronFit(
            w=self.weights[-1], b=self.biases[-1], errors=np.array(self.errors, dtype=np.int64),
            weights=np.array(self.weights), biases=np.array(self.biases),
        )


class PerceptronPlayground(Demo):
    """Train a perceptron epoch by epoch and step through the epochs.

    Controls: the dataset, the learning rate, whether training starts from zero weights;
    below them the training's progress bar and Stop button; then the epoch (with a play
    button). Left: the data and the decision line w . x + b = 0 after the chosen epoch.
    Right: mistakes per epoch, the chosen epoch highlighted.

    Parameters
    ----------
    datasets : dict of str -> (X, y)
        2-D datasets to choose from; X (N, 2), y (N,) in {0, 1}.
    lr : float
        Initial learning rate.
    max_epochs : int
        Training stops here if the data are not separated earlier (XOR never is).
    start : (w0, b0)
        The initial weights used unless "start from zero" is ticked.

    Notes
    -----
    From zero weights, every update is lr times a sum of +-x and +-1 terms, so w and b
    are just scaled by lr and the line never changes: the learning rate has no effect.
    From other starting weights it matters. Try both.

    Changing a setting retrains, one epoch per step of a :class:`Run`: the plot follows the
    newest epoch, and Stop keeps the epochs trained so far. Settings and the epoch slider
    act through a :class:`Debouncer`, so a slow kernel draws only where they come to rest.
    """

    def __init__(self, datasets: dict, *, lr: float = 0.1, max_epochs: int = 25, start=((1.0, -0.5), 0.5)):
        if not datasets:
            raise ValueError("datasets must name at least one (X, y) pair")
        figure, (self.ax, self.ax_errors) = plt.subplots(1, 2, figsize=(9, 3.8))
        super().__init__(figure)
        self.datasets = datasets
        self.max_epochs = check_int(max_epochs, "max_epochs", minimum=1)
        self.start = (np.asarray(start[0], dtype=float), float(start[1]))

        wide = {"description_width": "initial"}  # show the whole label, e.g. "learning rate"
        self.dataset = W.Dropdown(options=list(datasets), description="data", style=wide)
        self.lr = W.FloatLogSlider(value=lr, base=10, min=-3, max=1, step=0.25, description="learning rate",
                                   continuous_update=False, readout_format=".3f", style=wide)
        self.from_zero = W.Checkbox(value=False, description="start from zero weights", indent=False, style=wide)
        self.epoch = W.IntSlider(value=0, min=0, max=0, description="epoch", continuous_update=True, style=wide)
        self.play = W.Play(interval=700, min=0, max=0, description="play")
        W.jslink((self.play, "value"), (self.epoch, "value"))
        self.run = Run(unit="epoch")
        self.status = W.HTML()

        self.line, self.bars, self.shown_epoch = None, [], 0
        self._retrain_soon = Debouncer(lambda: self.retrain())
        self._show_soon = Debouncer(self._show_if_moved)
        for control in (self.dataset, self.lr, self.from_zero):
            control.observe(lambda _change: self._retrain_soon(), "value")
        self.epoch.observe(lambda change: self._show_soon(change["new"]), "value")
        self.widget = W.VBox([
            W.HBox([self.dataset, self.lr, self.from_zero]),
            self.run.widget,
            W.HBox([self.play, self.epoch]),
            self.status,
            self.output,
        ])
        self.retrain()

    # -- state ---------------------------------------------------------------------------------

    def retrain(self) -> None:
        """Train afresh on the selected dataset with the current settings.

        In a kernel the training runs in the background and this returns at once; in plain
        Python it has finished when this returns.
        """
        X, y = self.datasets[self.dataset.value]
        w0, b0 = (np.zeros(X.shape[1]), 0.0) if self.from_zero.value else self.start
        self._show_soon.cancel()  # a slider position from the old training means nothing now
        history = self.history = _History(w0, b0)
        self.fit = history.fit()
        self.outcome = "training &hellip;"
        self._draw_data(X, y, w0, b0)
        self._follow(0)
        self.run.start(self._epochs(X, y, self.lr.value, w0, b0), self.max_epochs,
                       on_step=self._record, on_progress=self._follow,
                       on_done=lambda stopped: self._training_over(history, stopped))

    def show(self, epoch: int) -> None:
        """Draw the line after ``epoch`` epochs (0 = before training)."""
        epochs = len(self.fit.errors)
        if not 0 <= epoch <= epochs:
            raise ValueError(f"epoch must be between 0 and {epochs} (the epochs trained), got {epoch}")
        w, b = self.fit.weights[epoch], self.fit.biases[epoch]
        plots.set_boundary_line(self.line, w, b)
        if len(self.bars) != epochs:
            self._draw_errors()
        for i, bar in enumerate(self.bars):
            bar.set_alpha(1.0 if i + 1 == epoch else 0.35)
        self.ax.set_title(f"After epoch {epoch}: w = [{w[0]:.2f}, {w[1]:.2f}], b = {b:.2f}")
        mistakes = "" if epoch == 0 else f", {self.fit.errors[epoch - 1]} mistake(s) in this epoch"
        self.status.value = f"<b>epoch {epoch}</b>{mistakes} &mdash; {self.outcome}"
        self.shown_epoch = epoch
        self._render()

    @staticmethod
    def _epochs(X, y, lr, w, b):
        """One epoch per ``next()``, each from the weights the previous one ended with.

        Stops after the first epoch without a mistake, as :func:`perceptron.train` does, and
        makes the same updates: chaining ``epochs=1`` calls is one call with more epochs.
        """
        while True:
            fit = perceptron.train(X, y, lr=lr, epochs=1, w0=w, b0=b)
            yield fit
            if fit.converged:
                return
            w, b = fit.w, fit.b

    def _record(self, epoch_fit: perceptron.PerceptronFit, _k: int) -> None:
        self.history.add(epoch_fit)
        self.fit = self.history.fit()

    def _follow(self, epoch: int) -> None:
        """Show ``epoch`` and move the epoch slider there, its range ending at the newest epoch."""
        self.show(epoch)
        self.epoch.max = self.play.max = len(self.fit.errors)
        self.epoch.value = epoch  # no second drawing: _show_if_moved sees it is shown

    def _show_if_moved(self, epoch: int) -> None:
        if epoch != self.shown_epoch:
            self.show(epoch)

    def _training_over(self, history: _History, stopped: bool) -> None:
        if history is not self.history:  # a newer training has replaced this one
            return
        epochs = len(self.fit.errors)
        if stopped:
            self.outcome = f"stopped after {epochs} epochs"
        elif self.fit.converged:
            self.outcome = f"training converged after {epochs} epochs: every point ends on its side"
        else:
            self.outcome = f"not converged after {epochs} epochs"
        self._follow(epochs)

    # -- drawing ----------------------------------------------------------------------------------

    def _draw_data(self, X, y, w0, b0) -> None:
        self.ax.clear()
        plots.scatter_classes(X, y, ax=self.ax)
        pad = 0.3
        self.ax.set_xlim(X[:, 0].min() - pad, X[:, 0].max() + pad)
        self.ax.set_ylim(X[:, 1].min() - pad, X[:, 1].max() + pad)
        self.line = plots.boundary_line(w0, b0, ax=self.ax)
        self._draw_errors()
        self.figure.tight_layout()

    def _draw_errors(self) -> None:
        ax, errors = self.ax_errors, self.fit.errors
        ax.clear()
        self.bars = ax.bar(np.arange(1, len(errors) + 1), errors, color="#d62728")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mistakes (updates)")
        ax.set_title("Mistakes per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
