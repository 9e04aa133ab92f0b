"""Bad (and a few good) week-1 submissions, each with the score its valid work earns.

Week 1's automatic points, from the homework's own table: predict 3, sigmoid_neuron 4,
logic_weights 3, train_perceptron 6, converges 3, multi_output_forward 4; 23 in all. Each
exercise is graded on its own: converges is tested with nblib's train_perceptron standing in
for the student's, so a wrong or missing train_perceptron costs its own 6 points and no more.
``expected`` below is worked out from that table, never read from a grading run. ``what`` is a
piece of the one-line summary the grader must print.

Attacks that would pass with stock nbgrader (test cells in the student's kernel) start from
the released stubs or from wrong answers: if the attack worked they would score 23.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

WEEK = "week01_perceptron"
FULL = 23.0
POINTS = {"predict": 3, "sigmoid_neuron": 4, "logic_weights": 3, "train_perceptron": 6, "converges": 3,
          "multi_output_forward": 4}

WRONG = {  # plausible-looking wrong answers: every test of the exercise fails on them
    "predict": "def predict(X, w, b):\n    return np.zeros(len(X), dtype=int)\n",
    "sigmoid_neuron": "def sigmoid_neuron(X, w, b):\n    return np.zeros(len(X))\n",
    "logic_weights": "def logic_weights(gate):\n    return np.zeros(2), 0.0\n",
    "train_perceptron": "def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):\n"
                        "    return np.zeros(X.shape[1]), 0.0, [0]\n",
    "converges": "def converges(X, y, *, max_epochs=100):\n    return True\n",
    "multi_output_forward": "def multi_output_forward(X, W, b):\n    return np.zeros((len(X), W.shape[1]))\n",
}


@dataclass
class Case:
    student: str
    expected: float
    what: str                                    # must appear in the grader's summary line
    files: dict[str, bytes] = field(default_factory=dict)


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _with(nb, **sources):
    """A copy of ``nb`` with the given cells' sources replaced."""
    nb = copy.deepcopy(nb)
    for grade_id, source in sources.items():
        _cell(nb, grade_id).source = source
    return nb


def _insert_after(nb, grade_id, source):
    nb = copy.deepcopy(nb)
    index = nb.cells.index(_cell(nb, grade_id))
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return nb


def _without(nb, *grade_ids):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") not in grade_ids]
    return nb


def _bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


def _function_body(nb, grade_id, body):
    """The solution's function with ``body`` run first (e.g. a loop or an exit)."""
    return _cell(nb, grade_id).source.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION\n    " + body, 1)


def cases(course_dir: Path, workdir: Path, repo_dir: Path) -> list[Case]:
    solution = nbformat.read(course_dir / "solutions" / WEEK / "homework.ipynb", as_version=4)
    blank = nbformat.read(course_dir / "notebooks" / WEEK / "homework.ipynb", as_version=4)
    wrong = _with(blank, **WRONG)
    minus = lambda *exercises: FULL - sum(POINTS[e] for e in exercises)  # noqa: E731
    hw = "homework.ipynb"
    secrets = [f"{course_dir}/solutions/{WEEK}/{hw}", f"{repo_dir}/solutions/{WEEK}/{hw}",
               f"{workdir}/gradebook.db", f"{workdir}/submitted/ada/{WEEK}/{hw}", f"{repo_dir}/.git/HEAD",
               f"{repo_dir}/.cache/browser-course-gw0/solutions/{WEEK}/{hw}",  # a browser-test worker's copy
               f"{course_dir.parent}/another-clone/solutions/{WEEK}/{hw}"]  # a clone the grader never heard of
    steal = (f"import json\nfor path in {secrets!r}:\n"
             "    try:\n        print(path, 'READ', len(open(path, 'rb').read()))\n"
             "    except OSError as error:\n        print(path, 'blocked:', type(error).__name__)\n"
             "try:\n    for cell in json.load(open(" + repr(secrets[0]) + "))['cells']:\n"
             "        if 'BEGIN SOLUTION' in ''.join(cell['source']):\n            exec(''.join(cell['source']))\n"
             "except OSError:\n    pass\n")
    tamper = ("import sqlite3\ntry:\n    db = sqlite3.connect(" + repr(secrets[2]) + ")\n"
              "    db.execute('UPDATE grade SET auto_score = 100')\n    db.commit()\n"
              "except Exception as error:\n    print('gradebook:', error)\n"
              f"open({str(workdir / 'autograded' / 'ada' / WEEK / hw)!r}, 'w').write('{{}}')\n")
    good = _bytes(solution)
    restyled = _bytes(_with(solution, multi_output_forward=_cell(solution, "multi_output_forward").source
                            .replace("return X @ W + b", "Z = X @ W + b\n    return Z")))
    return [
        Case("ada", FULL, "same answers", {hw: good}),
        Case("zed_copy_of_ada", FULL, "same answers", {hw: good}),
        Case("eve", FULL, "all automatic tests passed", {hw: restyled}),
        Case("untouched", 0.0, "lost points in", {hw: _bytes(blank)}),
        # --- attacks on the checks: each would score 23 if the tests ran in the student's kernel
        Case("neutralise_cells", 0.0, "lost points in", {hw: _bytes(_insert_after(blank, "setup", (
            "ip = get_ipython()\n"
            "ip.input_transformers_post.append(lambda lines: ['pass\\n'] if any('checks.' in l for l in lines) else lines)")))}),
        Case("hide_errors", 0.0, "lost points in", {hw: _bytes(_insert_after(blank, "setup", (
            "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\nip._showtraceback = lambda *a, **k: None")))}),
        Case("patch_checks", 0.0, "lost points in", {hw: _bytes(_insert_after(wrong, "setup", (
            "import contextlib\nfor name in dir(checks):\n    if name.startswith('assert_'):\n"
            "        setattr(checks, name, lambda *a, **k: None)\n"
            "checks.own_work = checks.no_overflow = lambda *a, **k: contextlib.nullcontext()")))}),
        Case("patch_numpy", 0.0, "lost points in", {hw: _bytes(_insert_after(wrong, "setup", (
            "np.allclose = np.array_equal = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
            "np.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)")))}),
        Case("steal_solutions", 0.0, "lost points in", {hw: _bytes(_insert_after(blank, "setup", steal))}),
        Case("forged_result", 0.0, "lost points in", {hw: _bytes(_insert_after(blank, "setup", FORGED_RESULT))}),
        Case("rebind_checks", 0.0, "lost points in", {hw: _bytes(_insert_after(
            _with(blank, logic_weights=WRONG["logic_weights"]), "setup", REBIND_CHECKS))}),
        Case("patch_library", 0.0, "lost points in", {hw: _bytes(_insert_after(wrong, "setup", PATCH_LIBRARY))}),
        Case("plant_pth", FULL, "all automatic tests passed", {hw: _bytes(_insert_after(solution, "setup", PLANT_PTH))}),
        Case("zz_honest_partial", minus("train_perceptron", "converges", "multi_output_forward"), "lost points in",
             {hw: _bytes(_with(blank, **{k: _cell(solution, k).source for k in ("predict", "sigmoid_neuron", "logic_weights")}))}),
        Case("tamper_gradebook", FULL, "all automatic tests passed", {hw: _bytes(_insert_after(solution, "setup", tamper))}),
        Case("network", FULL, "all automatic tests passed", {hw: _bytes(_insert_after(solution, "setup", (
            "import socket\nsocket.create_connection(('pypi.org', 443), timeout=3)")))}),
        # --- w0 changed in place: caught when graded as in the notebook, by the visible and the hidden
        # test of train_perceptron (both pass the test's own w0 and check it after): all 6 of its points
        Case("in_place_w0", minus("train_perceptron"), "lost points in", {hw: _bytes(_with(solution, train_perceptron=_cell(
            solution, "train_perceptron").source.replace("np.array(w0, dtype=float)  # a copy", "w0")
            .replace("w = w + lr * delta * x_i", "w += lr * delta * x_i")))}),
        # --- nblib's own answer, copied with other names: full marks, and a note for the instructor
        Case("copied_reference", FULL, "`multi_output_forward` matches nblib.", {hw: _bytes(_with(
            solution, multi_output_forward=COPIED_REFERENCE))}),
        # --- attacks on the instructor: live HTML, a forged grader event, a formula, broken messages and flags
        Case("html_outputs", FULL, "all automatic tests passed", {hw: _bytes(_with(_insert_after(
            solution, "setup", HTML_OUTPUTS), xor_explanation=HTML_ANSWER))}),
        Case("forged_timeout", FULL, "all automatic tests passed", {hw: _bytes(_insert_after(solution, "setup", (
            "class CellTimeout(Exception):\n    pass\n\nraise CellTimeout('your code was stopped after 1 s')")))}),
        Case("=SUM(1+1)", FULL, "renamed", {"=HYPERLINK(1).ipynb": good}),
        Case("malformed_message", FULL, "could not read", {hw: _bytes(_insert_after(solution, "setup", MALFORMED))}),
        Case("reflagged_hidden", FULL, "same answers", {hw: _bytes(_reflag(solution, "predict_hidden"))}),
        Case("retyped_test", FULL, "same answers", {hw: _bytes(_retype(solution, "predict_visible"))}),
        Case("many_replies", minus("predict"), "lost points in", {hw: _bytes(_with(
            solution, predict=_function_body(solution, "predict", MANY_REPLIES)))}),
        # --- a submission is bounded in what it can cost
        Case("fork_bomb", FULL, "all automatic tests passed", {hw: _bytes(_insert_after(solution, "intro", FORK_BOMB))}),
        Case("disk_filler", FULL, "all automatic tests passed", {hw: _bytes(_insert_after(solution, "setup", DISK_FILLER))}),
        Case("slow_cells", 0.0, "time budget", {hw: _bytes(_insert_cells_after(
            solution, "setup", ["import time\ntime.sleep(SLEEP)".replace("SLEEP", str(SLOW_CELL))] * SLOW_CELLS))}),
        # --- code that hangs, exits or crashes: only its own exercise is lost (the cell that hangs defines
        # train_perceptron and is dropped; converges still earns its 3 with nblib's train_perceptron standing in)
        Case("sigint_loop", minus("train_perceptron"), "stopped after", {hw: _bytes(_with(
            solution, train_perceptron=_cell(solution, "train_perceptron").source
            + "\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"))}),
        Case("loop_in_function", minus("predict"), "stopped after", {hw: _bytes(_with(
            solution, predict=_function_body(solution, "predict", "while True:\n        pass")))}),
        Case("os_exit", minus("sigmoid_neuron"), "ended the Python process", {hw: _bytes(_with(
            solution, sigmoid_neuron=_function_body(solution, "sigmoid_neuron", "import os; os._exit(3)")))}),
        Case("exit_cell", FULL, "all automatic tests passed", {hw: _bytes(_insert_after(solution, "setup", "exit()"))}),
        Case("sys_exit", minus("predict"), "lost points in", {hw: _bytes(_with(
            solution, predict=_function_body(solution, "predict", "import sys; sys.exit(0)")))}),
        Case("exception", minus("predict"), "lost points in", {hw: _bytes(_with(
            solution, predict=_function_body(solution, "predict", "raise ValueError('oops')")))}),
        Case("memory_hog", FULL, "all automatic tests passed", {hw: _bytes(_insert_after(
            solution, "setup", "hog = np.ones(2**32)"))}),
        # --- wrong numbers, types and shapes
        Case("nan_results", minus("sigmoid_neuron"), "lost points in", {hw: _bytes(_with(
            solution, sigmoid_neuron="def sigmoid_neuron(X, w, b):\n    return np.full(len(X), np.nan)\n"))}),
        Case("inf_results", minus("multi_output_forward"), "lost points in", {hw: _bytes(_with(
            solution, multi_output_forward="def multi_output_forward(X, W, b):\n"
                                           "    return np.full((len(X), W.shape[1]), np.inf)\n"))}),
        Case("float_labels", minus("predict"), "lost points in", {hw: _bytes(_with(
            solution, predict="def predict(X, w, b):\n    return (X @ w + b >= 0).astype(float)\n"))}),
        Case("transposed", minus("multi_output_forward"), "lost points in", {hw: _bytes(_with(
            solution, multi_output_forward="def multi_output_forward(X, W, b):\n    return (X @ W + b).T\n"))}),
        Case("calls_reference", minus("train_perceptron"), "lost points in", {hw: _bytes(_with(
            solution, train_perceptron="def train_perceptron(X, y, **kwargs):\n"
                                       "    fit = perceptron.train(X, y, **kwargs)\n    return fit.w, fit.b, fit.errors\n"))}),
        Case("stderr_noise", FULL, "all automatic tests passed", {hw: _bytes(_with(
            solution, predict=_function_body(solution, "predict",
                                             "import sys, warnings; print('debug', file=sys.stderr); "
                                             "warnings.warn('careful')")))}),
        # --- huge outputs
        Case("huge_line", FULL, "output was cut", {hw: _bytes(_insert_after(solution, "setup", "print('x' * 20_000_000)"))}),
        Case("chatty_function", FULL, "output was cut", {hw: _bytes(_with(
            solution, predict=_function_body(solution, "predict", "print('y' * 3_000_000)")))}),
        # --- edited, deleted and duplicated cells
        Case("deleted_tests", FULL, "had been deleted", {hw: _bytes(_without(solution, "predict_hidden", "train_visible"))}),
        Case("edited_tests", minus("predict"), "lost points in", {hw: _bytes(_with(
            solution, predict=WRONG["predict"], predict_visible="pass", predict_hidden="pass"))}),
        Case("deleted_answer", minus("predict"), "lost points in", {hw: _bytes(_without(solution, "predict"))}),
        Case("duplicated_cells", FULL, "all automatic tests passed", {hw: _bytes(_duplicate(solution, "predict", "predict_visible"))}),
        # --- files: renamed, broken, missing, extra
        Case("renamed", FULL, "renamed", {"homework (1).ipynb": good}),
        Case("broken_json", 0.0, "not a readable notebook", {hw: good[: len(good) // 2]}),
        Case("missing", 0.0, "missing", {"notes.txt": b"I forgot to attach it, sorry\n"}),
        Case("extra_files", FULL, "all automatic tests passed",
             {hw: restyled.replace(b"Z = X @ W + b", b"Z = X @ W + b  # (N, M)"), "helpers.py": b"def sign(x):\n    return 1 if x >= 0 else 0\n", "data.csv": b"x,y\n1,2\n"}),
    ]


COPIED_REFERENCE = """from nblib._validation import as_layer


def multi_output_forward(inputs, weights, bias):
    inputs, weights, bias = as_layer(inputs, weights, bias)
    return inputs @ weights + bias
"""

BUDGET = 40      # seconds a submission may take in the corpus batch (python -m autograder grade --budget)
SLOW_CELL, SLOW_CELLS = 8, 6  # cells that each stay under the 10 s cell limit, 48 s in all

# The kernel's agent is replaced: it serves the grader, and also sends a result of -1 for the
# test cell's request, which stock nbgrader would read as full points for the test cell.
FORGED_RESULT = """import autograder.agent as agent
honest = agent.serve
def serve(address):
    get_ipython().display_pub.session.send(get_ipython().display_pub.pub_socket, 'execute_result',
        {'data': {'text/plain': '-1'}, 'metadata': {}, 'execution_count': 1},
        parent=get_ipython().display_pub.parent_header)
    honest(address)
agent.serve = serve
"""

REBIND_CHECKS = """import contextlib, types
noop = lambda *a, **k: None
checks = types.SimpleNamespace(**{name: noop for name in dir(checks) if not name.startswith('_')})
checks.own_work = checks.no_overflow = lambda *a, **k: contextlib.nullcontext()
"""

# Appends no-op asserts to the course's own library, for everyone graded after.
PATCH_LIBRARY = """import nblib, autograder, os
for path in [os.path.join(os.path.dirname(nblib.__file__), 'checks.py'),
             os.path.join(os.path.dirname(autograder.__file__), 'trusted.py')]:
    try:
        with open(path, 'a') as f:
            f.write('\\ndef assert_close(*a, **k):\\n    pass\\n')
        print(path, 'PATCHED')
    except OSError as error:
        print(path, 'blocked:', type(error).__name__)
"""

# A .pth file runs at every Python start-up: this one would zero the gradebook for everyone.
PLANT_PTH = """import site
for folder in site.getsitepackages():
    try:
        open(folder + '/zz_grades.pth', 'w').write("import sqlite3, glob; [sqlite3.connect(p).execute('UPDATE grade SET auto_score = 0') for p in glob.glob('/**/gradebook.db', recursive=True)]\\n")
        print(folder, 'PLANTED')
    except OSError as error:
        print(folder, 'blocked:', type(error).__name__)
"""

HTML_OUTPUTS = """from IPython.display import HTML, SVG, Javascript, display
display(HTML('<script>window.__pwned_script = 1</script><img src=x onerror="window.__pwned_img = 1">'))
display(HTML('<a href="javascript:window.__pwned_link = 1" id=link>click</a>'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned_svg = 1"><circle r="4"/></svg>'))
display(Javascript('window.__pwned_js = 1'))
"""

HTML_ANSWER = """A perceptron draws one line. <img src=x onerror="window.__pwned_answer = 1"><script>window.__pwned_answer = 1</script>"""

MALFORMED = """session, socket = get_ipython().display_pub.session, get_ipython().display_pub.pub_socket
parent = get_ipython().display_pub.parent_header
session.send(socket, 'display_data', {'data': 7, 'metadata': None}, parent=parent)
session.send(socket, 'stream', {'name': ['x'], 'text': None}, parent=parent)
session.send(socket, 'error', {'ename': 1}, parent=parent)
"""

# predict answers each request 30 times on the grader's line, 4 MB each, with the id of the
# request it is answering (found in the agent's frame): the grader takes one of them as predict's
# answer, so predict's own tests fail, and nothing else does.
MANY_REPLIES = ("import sys, json, autograder.agent as agent\n"
                "    frame = sys._getframe(1)\n"
                "    while frame is not None and 'message' not in frame.f_locals:\n"
                "        frame = frame.f_back\n"
                "    for _ in range(30 if frame is not None else 0):\n"
                "        agent._line.send(json.dumps({'id': frame.f_locals['message']['id'], 'ok': 'x' * 4_000_000}).encode())")

# A fork bomb in a Python of its own, started from the notebook: the box's task limit stops it, and
# grading goes on. (Not in the kernel itself: a kernel with numpy and scikit-learn loaded, as the
# fork server's kernels always are, takes milliseconds a fork, and 250 of them on a busy machine
# came near the corpus's 10 s a cell. The kernel's own fork bomb is in test_safe_execution.py.)
# Its children wait on a pipe until it has made all it can, so they are all alive at once.
FORK_BOMB = """import subprocess, sys
BOMB = '''
import os
read, write = os.pipe()
started = 0
try:
    for _ in range(1000):
        if os.fork() == 0:
            os.close(write)
            os.read(read, 1)
            os._exit(0)
        started += 1
except OSError as error:
    print('the box stopped the fork bomb after', started, 'children:', error)
os.close(write)
for _ in range(started):
    os.wait()  # the children are gone, and their places free again
'''
print(subprocess.run([sys.executable, '-c', BOMB], capture_output=True, text=True, timeout=60).stdout)
"""

DISK_FILLER = """written = 0
try:
    for i in range(1000):
        open(f'filler{i}', 'wb').write(b'x' * 2**20)
        written += 1
except OSError as error:
    print('the box stopped the disk filler after', written, 'MiB:', error)
import os
for i in range(written):
    os.remove(f'filler{i}')
"""


def _reflag(nb, grade_id):
    """A copy of ``nb`` with a hidden test cell flagged as a solution the student may edit."""
    nb = copy.deepcopy(nb)
    _cell(nb, grade_id).metadata.nbgrader.update(solution=True, locked=False)
    return nb


def _retype(nb, grade_id):
    """A copy of ``nb`` with a test cell turned into a markdown cell, so that it would not run."""
    nb = copy.deepcopy(nb)
    cell = _cell(nb, grade_id)
    cell.cell_type = "markdown"
    del cell["outputs"], cell["execution_count"]
    return nb


def _insert_cells_after(nb, grade_id, sources):
    for source in reversed(sources):
        nb = _insert_after(nb, grade_id, source)
    return nb


def _duplicate(nb, *grade_ids):
    nb = copy.deepcopy(nb)
    for grade_id in grade_ids:
        cell = _cell(nb, grade_id)
        twin = copy.deepcopy(cell)
        twin.id = f"{cell.get('id', 'cell')}-copy"
        nb.cells.insert(nb.cells.index(cell) + 1, twin)
    return nb


def write(cases_: list[Case], submitted_dir: Path) -> None:
    for case in cases_:
        folder = submitted_dir / case.student / WEEK
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in case.files.items():
            (folder / name).write_bytes(content)


if __name__ == "__main__":  # python -m tests.grading_corpus DIR: write the corpus for a look
    import sys

    from autograder.config import REPO_ROOT
    target = Path(sys.argv[1]).resolve()
    write(cases(REPO_ROOT, target, REPO_ROOT), target / "submitted")
    print(json.dumps({c.student: c.expected for c in cases(REPO_ROOT, target, REPO_ROOT)}, indent=1))
