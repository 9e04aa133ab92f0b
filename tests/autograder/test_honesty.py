"""autograder.honesty: nblib's reference functions pasted into an answer are flagged, honest
answers (the instructor's own among them) are not."""

import ast
import glob
import importlib.util
from pathlib import Path

import nbformat
import pytest

from autograder import honesty
from autograder.honesty import MIN_SIZE, copied_references, fingerprint, notes, references

ROOT = Path(__file__).resolve().parents[2]
NBLIB = Path(importlib.util.find_spec("nblib").origin).parent
HOMEWORKS = sorted(glob.glob(str(ROOT / "solutions" / "week*" / "homework.ipynb")))
BIG = sorted(name for name, fn in references().items() if honesty._size(fn) >= MIN_SIZE)
SMALL = sorted(set(references()) - set(BIG))

# What the instructor's solutions match, by notebook. Empty: none is a copy of nblib.
INSTRUCTOR_MATCHES = {path: [] for path in HOMEWORKS}


def nblib_source(name: str) -> str:
    """The text of reference ``name`` as it stands in nblib's file, decorator included."""
    module, function = name.rsplit(".", 1)
    path = NBLIB.joinpath(*module.split(".")[1:]).with_suffix(".py")
    lines = path.read_text(encoding="utf-8").splitlines()
    node = references()[name]
    return "\n".join(lines[node.decorator_list[0].lineno - 1:node.end_lineno]) + "\n"


def solution_cells(path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def renamed(name: str) -> str:
    """Reference ``name`` as a student who disguises a copy writes it: every parameter and
    local renamed, docstring and comments gone, the layout ``ast.unparse``'s."""
    fn = ast.parse(ast.unparse(references()[name])).body[0]
    own = {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)}
    own |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    own |= {h.name for h in ast.walk(fn) if isinstance(h, ast.ExceptHandler) and h.name}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id in own:
            node.id = f"my_{node.id}"
        elif isinstance(node, ast.arg):
            node.arg = f"my_{node.arg}"
        elif isinstance(node, ast.ExceptHandler) and node.name:
            node.name = f"my_{node.name}"
    fn.name, fn.decorator_list = f"my_{fn.name}", []
    if isinstance(fn.body[0], ast.Expr) and isinstance(fn.body[0].value, ast.Constant):
        fn.body = fn.body[1:]
    return ast.unparse(fn)


SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.MatMult: ast.Mult,
        ast.Pow: ast.Mult, ast.FloorDiv: ast.Div, ast.Mod: ast.Div}


def one_operation_changed(name: str) -> str:
    """Reference ``name`` with its first arithmetic operator swapped (``+`` -> ``-``, ...), or
    where it has none, its first comparison or negation changed, or else its first number, or
    else the first two arguments of its first call swapped."""
    fn = ast.parse(nblib_source(name)).body[0]
    nodes = list(ast.walk(fn))
    for node in nodes:
        if isinstance(node, ast.BinOp) and type(node.op) in SWAP:
            node.op = SWAP[type(node.op)]()
            return ast.unparse(fn)
    for node in nodes:
        if isinstance(node, ast.Compare):
            node.ops[0] = ast.Lt() if isinstance(node.ops[0], (ast.GtE, ast.Gt)) else ast.GtE()
            return ast.unparse(fn)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            node.op = ast.UAdd()
            return ast.unparse(fn)
    for node in nodes:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            node.value += 1
            return ast.unparse(fn)
    for node in nodes:  # a thin wrapper (week 8's homework functions): its call's first two arguments swapped
        if isinstance(node, ast.Call) and len(node.args) >= 2:
            node.args[:2] = node.args[1::-1]
            return ast.unparse(fn)
    raise AssertionError(f"{name} has no operator to change")


# --- references() -------------------------------------------------------------------------------

def test_references_are_the_decorated_functions_found_by_parsing():
    found = references()
    assert {"nblib.perceptron.train", "nblib.losses.softmax", "nblib.optim.adam_step",
            "nblib.activations.softplus_derivative", "nblib.mlp.backward"} <= set(found)
    assert "nblib.perceptron.step" not in found  # undecorated
    assert "nblib.activations.swish" not in found
    assert all(isinstance(fn, ast.FunctionDef) and fn.name == name.rsplit(".", 1)[1] for name, fn in found.items())
    assert references() is found  # cached


def test_every_reference_in_nblib_is_found():
    # (a class marked @reference, EarlyStopping, is no function a student could paste: not compared)
    decorated = sum(text.count("\n@reference\ndef ") for text in
                    (p.read_text(encoding="utf-8") for p in NBLIB.rglob("*.py")))
    assert len(references()) == decorated > 30


def test_fingerprinting_leaves_the_cached_references_unchanged():
    fn = references()["nblib.perceptron.train"]
    before = ast.dump(fn)
    assert fingerprint(fn) == fingerprint(fn)
    assert ast.dump(fn) == before and fn.args.args[0].arg == "X"


# --- copies are flagged ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", BIG)
def test_a_verbatim_copy_is_flagged(name):
    source = nblib_source(name)
    assert (name.rsplit(".", 1)[1], name) in copied_references(source)


@pytest.mark.parametrize("name", BIG)
def test_a_copy_with_every_local_renamed_and_reformatted_is_flagged(name):
    source = renamed(name)
    assert "my_" in source and '"""' not in source
    assert (f"my_{name.rsplit('.', 1)[1]}", name) in copied_references(source)


@pytest.mark.parametrize("name", BIG)
def test_one_operation_changed_is_not_flagged(name):
    assert copied_references(one_operation_changed(name)) == []


@pytest.mark.parametrize("name", SMALL)
def test_a_reference_too_small_to_be_evidence_is_never_flagged(name):
    assert copied_references(nblib_source(name)) == []


TRAIN_DISGUISED = '''
import numpy as np
from nblib.perceptron import PerceptronFit
from nblib._validation import as_labels, as_matrix, as_scalar, as_vector, check_int, check_positive


def train_perceptron(inputs, labels, *, rate=1, passes=100, start=None, bias0=0):
    # my own perceptron!
    inputs = as_matrix(inputs, "X")
    count, width = inputs.shape
    labels = as_labels(labels, "y", n_classes=2, length=count)
    rate = check_positive(rate, "lr")
    passes = check_int(passes, "epochs", minimum=1)
    weights = (np.zeros(width) if start is None
               else as_vector(start, "w0", length=width).astype(float))
    bias = as_scalar(bias0, "b0")
    ws, bs, errs = [weights.copy()], [bias], []
    for epoch in range(passes):
        wrong = 0
        for row, target in zip(inputs, labels):
            d = target - (1 if row @ weights + bias >= 0 else 0)
            if d:
                weights = weights + rate * d * row
                bias = bias + rate * d
                wrong += 1
        errs.append(wrong)
        ws.append(weights.copy())
        bs.append(bias)
        if wrong == 0:
            break
    return PerceptronFit(w=weights, b=float(bias), errors=np.array(errs),
                         weights=np.array(ws), biases=np.array(bs))
'''

SOFTMAX_DISGUISED = '''
def stable_softmax(logits, dim: int=-1) -> "np.ndarray":
    logits = as_float_array(logits, "z")
    _check_axis(logits, dim)
    ex = np.exp(logits - logits.max(axis=dim, keepdims=True))
    return ex / ex.sum(axis = dim, keepdims = True)
'''

ADAM_DISGUISED = '''
from nblib import optim

def adam(weights, grad, m1, m2, step, lr, beta1=.9, beta2=0.999, eps=1e-07):
    weights, grad = optim._pair(weights, grad)
    step = check_int(step, "t", minimum=1)
    m1 = beta1 * optim._state(m1, weights, "m") + (1 - beta1) * grad
    m2 = beta2 * optim._state(m2, weights, "v") + (1 - beta2) * grad ** 2
    a = lr * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    return weights - a * m1 / (np.sqrt(m2) + eps), m1, m2
'''


@pytest.mark.parametrize("source, expected", [
    (TRAIN_DISGUISED, ("train_perceptron", "nblib.perceptron.train")),
    (SOFTMAX_DISGUISED, ("stable_softmax", "nblib.losses.softmax")),
    # keyword-only marker dropped, 0.9 spelled .9, helpers reached through the module
    (ADAM_DISGUISED, ("adam", "nblib.optim.adam_step")),
], ids=["train", "softmax", "adam"])
def test_a_copy_disguised_by_hand_is_flagged(source, expected):
    assert copied_references(source) == [expected]


@pytest.mark.parametrize("source, old, new", [
    (TRAIN_DISGUISED, "bias = bias + rate * d", "bias = bias - rate * d"),
    (TRAIN_DISGUISED, "row @ weights + bias >= 0", "row @ weights + bias > 0"),
    (TRAIN_DISGUISED, "for epoch in range(passes):", "for epoch in range(passes + 1):"),
    (SOFTMAX_DISGUISED, "ex.sum(axis = dim", "ex.sum(axis = 0"),
    (SOFTMAX_DISGUISED, "logits - logits.max", "logits + logits.max"),
    (ADAM_DISGUISED, "(np.sqrt(m2) + eps)", "np.sqrt(m2 + eps)"),
    (ADAM_DISGUISED, "eps=1e-07", "eps=1e-08"),  # a different default, not a different spelling
    (ADAM_DISGUISED, "    step = check_int(step, \"t\", minimum=1)\n", ""),  # a check deleted
], ids=["sign", "comparison", "range", "axis", "shift", "eps-inside", "default", "deleted-line"])
def test_the_same_copies_with_one_thing_changed_are_not_flagged(source, old, new):
    assert old in source
    assert copied_references(source.replace(old, new)) == []


def test_only_top_level_functions_are_compared():
    nested = "class Mine:\n" + "".join(f"    {line}\n" for line in SOFTMAX_DISGUISED.splitlines())
    assert copied_references(nested) == []
    assert copied_references(SOFTMAX_DISGUISED + "\nx = 1\n") == [("stable_softmax", "nblib.losses.softmax")]


def test_a_function_equal_to_two_references_names_both(monkeypatch):
    # nblib has no two references alike today (mlp.dense now calls layers.dense_forward), so two
    # are made: multi_output_forward under a second name
    from autograder import honesty

    known = honesty._reference_fingerprints()
    key = fingerprint(references()["nblib.perceptron.multi_output_forward"])
    monkeypatch.setattr(honesty, "_reference_fingerprints",
                        lambda: {**known, key: (*known[key], "nblib.other.layer_forward")})
    source = "def layer(a, b, c):\n    a, b, c = as_layer(a, b, c)\n    return a @ b + c\n"
    assert sorted(copied_references(source)) == [("layer", "nblib.other.layer_forward"),
                                                  ("layer", "nblib.perceptron.multi_output_forward")]


def test_a_global_where_the_reference_has_a_local_is_not_a_copy():
    source = SOFTMAX_DISGUISED.replace("ex = np.exp", "EX = np.exp").replace("ex / ex.sum", "ex / EX.sum")
    assert copied_references(source) == []


# --- cells that are not plain Python -------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "def broken(:\n    return 1\n",
    SOFTMAX_DISGUISED + "\nif True\n",
    "%timeit x = (\n",
    "",
    "\x00",
])
def test_a_cell_that_does_not_parse_gives_no_match_and_no_error(source):
    assert copied_references(source) == []
    assert notes([source]) == []


def test_magics_are_set_aside_before_comparing():
    cell = "%matplotlib inline\n!pip list\n" + SOFTMAX_DISGUISED + "\nx = %pwd\n"
    assert copied_references(cell) == [("stable_softmax", "nblib.losses.softmax")]


# --- notes() ----------------------------------------------------------------------------------------

def test_notes_give_one_line_per_copy_for_the_instructor():
    cells = ["import numpy as np", TRAIN_DISGUISED, "def broken(:", SOFTMAX_DISGUISED, TRAIN_DISGUISED]
    assert notes(cells) == [
        "`train_perceptron` matches nblib.perceptron.train line for line (names, comments and whitespace "
        "aside): review it for academic honesty",
        "`stable_softmax` matches nblib.losses.softmax line for line (names, comments and whitespace "
        "aside): review it for academic honesty",
    ]
    assert notes([]) == []


# --- the instructor's own solutions -------------------------------------------------------------------

def test_every_homework_is_checked():
    assert len(HOMEWORKS) >= 5


@pytest.mark.parametrize("path", HOMEWORKS, ids=lambda p: Path(p).parent.name)
def test_the_instructor_solutions_are_not_flagged(path):
    cells = solution_cells(path)
    functions = [node for cell in cells for node in ast.parse(cell).body if isinstance(node, ast.FunctionDef)]
    assert len(functions) >= 3  # the check below has something to judge
    assert notes(cells) == INSTRUCTOR_MATCHES[path]


@pytest.fixture
def no_size_floor(monkeypatch):
    monkeypatch.setattr(honesty, "MIN_SIZE", 0)
    honesty._reference_fingerprints.cache_clear()
    yield
    honesty._reference_fingerprints.cache_clear()


def test_only_the_size_floor_spares_the_instructors_one_line_answer(no_size_floor):
    # softplus'(z) = sigmoid(z) is the exercise's formula; nblib writes it the same way. The
    # floor keeps it (and every honest student who writes it) from being flagged.
    matches = [m for path in HOMEWORKS for cell in solution_cells(path) for m in copied_references(cell)]
    assert {function for function, _ in matches} == {"softplus_derivative"}   # `return sigmoid(z)`, and only it
    assert ("softplus_derivative", "nblib.activations.softplus_derivative") in matches
