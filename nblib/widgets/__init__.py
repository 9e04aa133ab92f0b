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

One more wrinkle: JupyterLab 4.6 can send widget messages to a kernel *subshell*, a second
thread with its own event loop, so that a control can answer while a cell runs. (ipykernel 7
hands a widget's messages to the thread that last wrote to that widget, usually the main
one for a demo made by a cell, but not always.) A demo's figure and state are not safe to
touch from two threads at once, so both tools hand their work to the loop of the thread the
demo was made on (its "home"), with ``loop.call_soon_threadsafe``; that loop runs it as soon
as it is free. Every control's observer therefore goes through a Debouncer, even one that
only redraws.

The package holds one module per topic:

- ``_core``: :class:`Debouncer`, :class:`Run` and :class:`Demo`, which every demo builds on;
- ``perceptron``: :class:`PerceptronPlayground` (week 1);
- ``activations``: :class:`ActivationExplorer` (week 2);
- ``approximation``: :class:`UniversalApproximation` (week 2);
- ``softmax``: :class:`SoftmaxExplorer` (week 3);
- ``descent``: :class:`GradientDescent` (week 4);
- ``progress``: :class:`TrainingProgress` and :func:`plot_history`, for :func:`nblib.training.fit`, and
  :class:`TrainingCurve`, the loss curve of week 4's training loop (week 4);
- ``race``: :class:`OptimizerRace` (week 5);
- ``init_explorer``: :class:`InitExplorer` (week 6);
- ``filter_explorer``: :class:`FilterExplorer` (week 7);
- ``gate_viewer``: :class:`LSTMGateViewer` (week 8);
- ``attention_explorer``: :class:`AttentionExplorer` (week 9).

Everything is imported here, so ``from nblib.widgets import ActivationExplorer`` works.
"""

from nblib.widgets._core import WIDE, Debouncer, Demo, Run
from nblib.widgets.activations import ActivationExplorer
from nblib.widgets.attention_explorer import AttentionExplorer
from nblib.widgets.approximation import UniversalApproximation
from nblib.widgets.descent import GradientDescent
from nblib.widgets.filter_explorer import FilterExplorer
from nblib.widgets.gate_viewer import LSTMGateViewer
from nblib.widgets.init_explorer import InitExplorer
from nblib.widgets.perceptron import PerceptronPlayground
from nblib.widgets.progress import TrainingCurve, TrainingProgress, plot_history
from nblib.widgets.race import OptimizerRace
from nblib.widgets.softmax import SoftmaxExplorer

__all__ = ["Debouncer", "Run", "Demo", "WIDE", "PerceptronPlayground", "ActivationExplorer", "SoftmaxExplorer",
           "UniversalApproximation", "GradientDescent", "TrainingProgress", "plot_history", "TrainingCurve", "OptimizerRace",
           "InitExplorer", "FilterExplorer", "LSTMGateViewer", "AttentionExplorer"]
