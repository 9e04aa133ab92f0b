"""nblib.widgets._core (Debouncer, Run, Demo) and the package nblib.widgets: what every demo shares.

Plain tests run without an event loop: there a Debouncer acts at once and a Run finishes
before ``start`` returns. The tests named "..._in_a_loop_..." run inside ``asyncio.run``, as a
kernel runs widget code: timers wait, runs go on in the background, and a slow kernel is
simulated by slowing down ``Run._take_step`` (each training step) or ``Demo._render``
(each drawing) for the whole class (see helpers.py and conftest.py next to this file).
"""

import asyncio
import threading
import time
from types import SimpleNamespace

import ipywidgets as W
import numpy as np
import pytest
from scipy import special

import nblib.widgets
from nblib.widgets import _core
from nblib.widgets import (ActivationExplorer, Debouncer, GradientDescent, OptimizerRace, Run, SoftmaxExplorer,
                           TrainingProgress, UniversalApproximation)
from tests.nblib.widgets.helpers import WAIT, bar_heights, bowl_gradient, in_a_loop, keras_rules, until


# -- the package ------------------------------------------------------------------------------


def test_the_package_exports_every_demo_and_the_attributes_tests_patch():
    for name in ("PerceptronPlayground", "Debouncer", "Run", "Demo", "ActivationExplorer", "SoftmaxExplorer",
                 "UniversalApproximation"):
        assert name in nblib.widgets.__all__ and hasattr(nblib.widgets, name)
    for cls in (ActivationExplorer, SoftmaxExplorer, UniversalApproximation):
        assert issubclass(cls, nblib.widgets.Demo) and "_render" not in vars(cls), "never override _render"
    assert callable(nblib.widgets.Run._take_step) and callable(nblib.widgets.PerceptronPlayground.retrain)


def test_the_package_exports_the_new_demos():
    for name in ("GradientDescent", "OptimizerRace", "TrainingProgress", "plot_history"):
        assert name in nblib.widgets.__all__ and hasattr(nblib.widgets, name)
        assert f"{name}`" in nblib.widgets.__doc__  # listed in the package's module list
    for cls in (GradientDescent, OptimizerRace):
        assert issubclass(cls, nblib.widgets.Demo) and "_render" not in vars(cls), "never override _render"


# -- every demo -------------------------------------------------------------------------------


def labelled_controls(widget):
    """Every control below ``widget`` that shows a description label (buttons excepted)."""
    found = []
    if getattr(widget, "description", "") and hasattr(widget.style, "description_width"):
        found.append(widget)
    for child in getattr(widget, "children", ()):
        found += labelled_controls(child)
    return found


@pytest.mark.parametrize("make", [ActivationExplorer, SoftmaxExplorer, lambda: UniversalApproximation(steps=200)])
def test_labels_are_not_cut_off_and_the_output_is_shown(make):
    demo = make()
    controls = labelled_controls(demo.widget)
    assert len(controls) >= 3
    for control in controls:
        assert control.style.description_width == "initial", control.description
    assert demo.output in demo.widget.children and demo.renders >= 1


@pytest.mark.parametrize("make", [GradientDescent, OptimizerRace, lambda: TrainingProgress(5)])
def test_labels_are_not_cut_off(make):
    demo = make()
    controls = labelled_controls(demo.widget)
    assert controls
    for control in controls:
        assert control.style.description_width == "initial", control.description


def controls(widget):
    """Every slider, dropdown and checkbox below ``widget``."""
    found = [widget] if isinstance(widget, (W.FloatLogSlider, W.FloatSlider, W.IntSlider, W.Dropdown,
                                            W.Checkbox)) else []
    for child in getattr(widget, "children", ()):
        found += controls(child)
    return found


def another_value(control):
    """A different value for ``control``, a few of its steps away, inside its range."""
    if isinstance(control, W.Checkbox):
        return not control.value
    if isinstance(control, W.Dropdown):
        return next(option for option in control.options if option != control.value)
    if isinstance(control, W.FloatLogSlider):
        exponent = np.log10(control.value)
        exponent += 4 * control.step if exponent + 4 * control.step <= control.max else -4 * control.step
        return control.base**exponent
    change = 4 * control.step
    return control.value + change if control.value + change <= control.max else control.value - change


def fingerprint(demo):
    """What the figure shows (every line's data and visibility, titles, limits, scales) and the status."""
    seen = [demo.status.value]
    for ax in demo.figure.axes:
        seen += [ax.get_title(), ax.get_xlim(), ax.get_ylim(), ax.get_yscale(), len(ax.collections)]
        seen += [(line.get_visible(), np.asarray(line.get_xydata(), dtype=float).tobytes())
                 for line in ax.get_lines()]
    return repr(seen)


@pytest.mark.parametrize("make", [GradientDescent, OptimizerRace], ids=["GradientDescent", "OptimizerRace"])
def test_every_control_changes_the_figure(make):
    demo = make()
    found = controls(demo.widget)
    assert len(found) >= (3 if make is GradientDescent else 10)
    for control in found:
        before, renders = fingerprint(demo), demo.renders
        control.value = another_value(control)
        assert demo.renders > renders, f"{control.description}: not redrawn"
        assert fingerprint(demo) != before, f"{control.description}: the figure did not change"


def test_render_replaces_the_picture_through_the_outputs_state(monkeypatch, playground):
    """In a kernel, _render sets the Output widget's outputs (no context manager: see _render)."""
    formatted = []

    def format(figure):  # what IPython's display formatter returns for a figure
        formatted.append(figure)
        return {"image/png": f"picture {len(formatted)}", "text/plain": "<Figure>"}, {"image/png": {"width": 900}}

    monkeypatch.setattr(_core, "get_ipython", lambda: SimpleNamespace(display_formatter=SimpleNamespace(format=format)))
    renders = playground.renders
    playground.epoch.value = 1
    playground.epoch.value = 2
    assert playground.renders == renders + 2 and formatted == [playground.figure] * 2
    assert playground.output.outputs == ({"output_type": "display_data", "metadata": {"image/png": {"width": 900}},
                                          "data": {"image/png": "picture 2", "text/plain": "<Figure>"}},)


# -- Debouncer --------------------------------------------------------------------------------


def test_debouncer_without_a_loop_acts_at_once():
    seen = []
    act = Debouncer(lambda *args: seen.append(args))
    act(1, "a")
    act(2, "b")
    assert seen == [(1, "a"), (2, "b")] and not act.pending


def test_debouncer_rejects_a_negative_wait():
    with pytest.raises(ValueError, match="wait must be"):
        Debouncer(print, wait=-1)


def test_debouncer_in_a_loop_acts_once_with_the_last_arguments():
    async def test():
        seen = []
        act = Debouncer(lambda *args: seen.append((time.perf_counter(), args)), wait=WAIT)
        for i in range(10):
            act(i, str(i))
            await asyncio.sleep(0)  # the loop runs, but calls come far quicker than the wait
        last_call = time.perf_counter()
        assert seen == [] and act.pending
        await until(lambda: seen)
        await asyncio.sleep(WAIT)  # nothing more comes
        assert [args for _, args in seen] == [(9, "9")]
        assert seen[0][0] - last_call >= WAIT - 0.01  # after the calls stopped, not before
        assert not act.pending

    in_a_loop(test)


def test_debouncer_in_a_loop_acts_on_each_call_spaced_wider_than_the_wait():
    async def test():
        seen = []
        act = Debouncer(seen.append, wait=0.03)
        for i in range(3):
            act(i)
            await asyncio.sleep(0.12)
        assert seen == [0, 1, 2]

    in_a_loop(test)


def test_debouncer_called_from_another_thread_waits_for_its_own_loop():
    """JupyterLab delivers widget messages on a subshell thread, even while a cell keeps the
    demo's own thread busy. The call waits for that thread, and merges with what follows."""
    async def test():
        seen = []
        act = Debouncer(lambda i: seen.append((i, threading.current_thread())), wait=WAIT)
        message = threading.Thread(target=act, args=(9,), name="subshell")
        message.start()
        message.join()
        time.sleep(3 * WAIT)     # a cell keeps the demo's thread busy for longer than the wait
        for _ in range(3):
            await asyncio.sleep(0)  # free again: a few turns of its loop take the message ...
        act(10)                     # ... then the next one comes, within the wait: one action
        await asyncio.sleep(WAIT + 0.15)
        assert seen == [(10, threading.main_thread())]

    in_a_loop(test)


def test_debouncer_flush_and_cancel():
    async def test():
        seen = []
        act = Debouncer(seen.append, wait=WAIT)
        act.flush()  # nothing pending: nothing to do
        act(1)
        act(2)
        act.flush()
        assert seen == [2] and not act.pending
        act(3)
        act.cancel()
        await asyncio.sleep(WAIT + 0.1)
        assert seen == [2]  # flushed calls do not come again, cancelled ones never

    in_a_loop(test)


# -- Run --------------------------------------------------------------------------------------


class Recorder:
    """Callbacks for Run.start that note what they were told."""

    def __init__(self, name=""):
        self.name, self.steps, self.progress, self.done = name, [], [], []

    def callbacks(self, log=None):
        def note(event):
            if log is not None:
                log.append(f"{self.name} {event}")
        return {
            "on_step": lambda result, k: (self.steps.append((result, k)), note("step")),
            "on_progress": self.progress.append,
            "on_done": lambda stopped: (self.done.append(stopped), note(f"done stopped={stopped}")),
        }


def test_run_widgets_carry_the_css_classes_the_browser_tests_find():
    run = Run()
    assert "nnf-run" in run.widget._dom_classes
    assert "nnf-run-stop" in run.stop_button._dom_classes and run.stop_button.icon == "stop"
    assert "nnf-run-progress" in run.progress._dom_classes
    assert run.stop_button.disabled and not run.running
    run.stop()  # idle: nothing to stop


def test_run_without_a_loop_finishes_before_start_returns():
    run, rec = Run(), Recorder()
    run.start(iter(range(100)), 7, **rec.callbacks())
    assert rec.steps == [(k - 1, k) for k in range(1, 8)] and rec.done == [False]
    assert not run.running and run.stop_button.disabled
    assert run.progress.value == run.progress.max == 7 and run.status.value == "finished after 7 epochs"


def test_run_out_of_steps_before_total_has_finished_not_stopped():
    run, rec = Run(unit="step"), Recorder()
    run.start(iter("abc"), 10, **rec.callbacks())
    assert rec.done == [False] and run.count == 3
    assert run.status.value == "finished after 3 steps" and run.progress.bar_style == "success"


def test_run_without_a_loop_raises_a_failing_steps_error_after_reporting_it():
    def steps():
        yield 1
        raise ZeroDivisionError("no can do")

    run, rec = Run(), Recorder()
    with pytest.raises(ZeroDivisionError):
        run.start(steps(), 5, **rec.callbacks())
    assert rec.done == [True] and isinstance(run.error, ZeroDivisionError)
    assert "ZeroDivisionError: no can do" in run.status.value and "color" in run.status.value


def test_run_in_a_loop_works_in_the_background_and_reports_per_slice(slow_steps):
    slow_steps(0.002)  # 200 steps of 2 ms: about 0.4 s, 8 slices of 0.05 s

    async def test():
        run, rec = Run(), Recorder()
        run.start(iter(range(1000)), 200, **rec.callbacks())
        assert run.running and rec.steps == []  # start returned before the first step
        assert not run.stop_button.disabled
        await until(lambda: 0 < run.progress.value < 200)  # the bar moves while it runs
        assert run.status.value == f"epoch {run.progress.value} of 200"
        await until(lambda: not run.running)
        assert len(rec.steps) == 200 and rec.steps[-1] == (199, 200) and rec.done == [False]
        assert run.progress.value == 200 and run.stop_button.disabled
        assert 2 <= len(rec.progress) < 50, "the bar moves once per slice, not once per step"
        assert rec.progress == sorted(rec.progress)

    in_a_loop(test)


def test_run_in_a_loop_stops_when_stop_is_clicked(slow_steps):
    slow_steps(0.01)

    async def test():
        run, rec = Run(), Recorder()
        run.start(iter(range(1000)), 1000, **rec.callbacks())
        await asyncio.sleep(0.2)
        assert run.running and rec.done == []
        run.stop_button.click()
        assert rec.done == [True] and not run.running  # on_done ran before click() returned
        k = run.count
        assert 0 < k < 1000 and run.progress.value == k
        assert run.status.value == f"stopped after {k} epochs" and run.stop_button.disabled
        await asyncio.sleep(0.2)
        assert run.count == k and len(rec.steps) == k and rec.done == [True]  # no step after Stop

    in_a_loop(test)


def test_run_stop_clicked_on_another_thread_stops_on_the_runs_own_loop(slow_steps):
    slow_steps(0.01)

    async def test():
        run, rec = Run(), Recorder()
        run.start(iter(range(1000)), 1000, **rec.callbacks())
        await asyncio.sleep(0.1)
        click = threading.Thread(target=run.stop_button.click, name="subshell")
        click.start()
        click.join()
        await until(lambda: rec.done == [True])
        k = run.count
        assert 0 < k < 1000 and run.status.value == f"stopped after {k} epochs"

    in_a_loop(test)


def test_run_in_a_loop_restarted_while_running_reports_the_old_run_first(slow_steps):
    slow_steps(0.01)

    async def test():
        run, log = Run(), []
        old, new = Recorder("old"), Recorder("new")
        run.start(iter(range(1000)), 1000, **old.callbacks(log))
        await asyncio.sleep(0.15)
        run.start(iter(range(5)), 5, **new.callbacks(log))
        assert log[-1] == "old done stopped=True"
        await until(lambda: not run.running)
        await asyncio.sleep(0.1)  # time for the old task to do something wrong
        assert log[log.index("old done stopped=True") + 1:] == ["new step"] * 5 + ["new done stopped=False"]
        assert old.done == [True] and new.done == [False]
        assert run.count == 5 and run.progress.value == run.progress.max == 5
        assert run.status.value == "finished after 5 epochs"

    in_a_loop(test)


def test_run_in_a_loop_a_failing_step_ends_the_run_and_keeps_the_error():
    def steps():
        yield from range(3)
        raise ValueError("diverged <badly>")

    async def test():
        run, rec = Run(), Recorder()
        run.start(steps(), 10, **rec.callbacks())
        await until(lambda: not run.running)
        assert rec.done == [True] and len(rec.steps) == 3
        assert isinstance(run.error, ValueError)
        assert "ValueError: diverged &lt;badly&gt;" in run.status.value and "color" in run.status.value
        assert run.progress.bar_style == "danger"

    in_a_loop(test)


# -- every demo in a loop: a dragged control is drawn once (Demo's Debouncer) -----------------


@pytest.mark.parametrize("demo_and_moves", ["softmax", "activation"])
def test_explorers_in_a_loop_draw_a_dragged_control_once(slow_drawing, demo_and_moves):
    async def test():
        if demo_and_moves == "softmax":
            demo = SoftmaxExplorer()
            control, values = demo.temperature, [0.1 * 1.1**i for i in range(40)]
        else:
            demo = ActivationExplorer(activation="sigmoid")
            control, values = demo.x_range, [(-6.0 + 0.1 * i, 6.0) for i in range(40)]
        slow_drawing.clear()
        for value in values:
            control.value = value
            await asyncio.sleep(0.005)
        assert not slow_drawing  # nothing drawn while the control moves
        await asyncio.sleep(WAIT + 0.2)
        assert 1 <= len(slow_drawing) <= 2
        if demo_and_moves == "softmax":
            z = np.array([2.0, 1.0, 0.1, -1.0])
            np.testing.assert_allclose(bar_heights(demo), special.softmax(z / control.value))
        else:
            assert demo.line.get_data()[0][0] == pytest.approx(control.value[0])

    in_a_loop(test)


@pytest.mark.parametrize("which", ["descent", "race"])
def test_demos_in_a_loop_draw_quick_moves_once_with_the_last_values(slow_drawing, which):
    async def test():
        if which == "descent":
            demo = GradientDescent()
            moves = [(demo.lr, 10 ** (-2 + 0.05 * i)) for i in range(20)] + [(demo.steps, 40 + i) for i in range(10)]
        else:
            demo = OptimizerRace()
            moves = [(demo.beta, 0.5 + 0.01 * i) for i in range(20)]
            moves += [(demo.beta2, 0.9 + 0.001 * i) for i in range(10)]
        slow_drawing.clear()
        for control, value in moves:
            control.value = value
            await asyncio.sleep(0.005)
        assert not slow_drawing  # nothing drawn while the controls move
        await asyncio.sleep(WAIT + 0.2)
        assert len(slow_drawing) == 1
        if which == "descent":  # the drawing is of the last lr and steps
            lr = 10 ** (-2 + 0.05 * 19)
            np.testing.assert_allclose(demo.iterates[:, 0], 2.0 * (1 - 2 * lr) ** np.arange(50), rtol=1e-12)
        else:
            rule, state = keras_rules(0.02, 0.69, 0.909)["Adam"]
            w = np.array([-4.5, 1.5])
            for t in range(1, 151):
                w, state = rule(w, bowl_gradient(w), state, t)
            np.testing.assert_allclose(demo.paths["Adam"][-1], w, rtol=1e-9)

    in_a_loop(test)
