"""autograder.similar (``report --similar``): near-copies are listed, honest answers are not, the page is inert."""

import subprocess
import sys
from html.parser import HTMLParser

import nbformat
import pytest

from autograder.course import Course
from autograder.similar import THRESHOLD, compare, find, format_table, normalise, write_html
from tests.nbrun import ROOT, grade_id

WEEK = "week01_perceptron"

# Two students who solved week 1 honestly, each in their own way (both right).
HONEST_A = {
    "predict": '''def predict(X, w, b):
    scores = X.dot(w) + b
    return np.where(scores >= 0, 1, 0)
''',
    "sigmoid_neuron": '''def sigmoid_neuron(X, w, b):
    a = X @ w + b
    out = np.empty_like(a, dtype=float)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    ea = np.exp(a[~pos])
    out[~pos] = ea / (1.0 + ea)
    return out
''',
    "train_perceptron": '''def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
    n, d = X.shape
    w = np.zeros(d) if w0 is None else np.asarray(w0, dtype=float).copy()
    b = b0
    errs = []
    for epoch in range(epochs):
        count = 0
        for i in range(n):
            pred = int(X[i] @ w + b >= 0)
            if pred != y[i]:
                w = w + lr * (y[i] - pred) * X[i]
                b += lr * (y[i] - pred)
                count += 1
        errs.append(count)
        if count == 0:
            break
    return w, b, errs
''',
    "converges": '''def converges(X, y, *, max_epochs=100):
    return train_perceptron(X, y, epochs=max_epochs)[2][-1] == 0
''',
    "multi_output_forward": '''def multi_output_forward(X, W, b):
    return np.dot(X, W) + b
''',
}

HONEST_B = {
    "predict": '''def predict(X, w, b):
    return np.array([1 if x @ w + b >= 0 else 0 for x in X])
''',
    "sigmoid_neuron": '''def sigmoid_neuron(X, w, b):
    z = np.clip(X @ w + b, -500, 500)
    return 1 / (1 + np.exp(-z))
''',
    "train_perceptron": '''def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
    w = np.array(w0, dtype=float) if w0 is not None else np.zeros(X.shape[1])
    b = float(b0)
    history = []
    epoch = 0
    while epoch < epochs:
        wrong = 0
        for xi, target in zip(X, y):
            out = 1 if np.dot(w, xi) + b >= 0 else 0
            update = lr * (target - out)
            if update:
                w += update * xi
                b += update
                wrong += 1
        history.append(wrong)
        epoch += 1
        if not wrong:
            break
    return w, b, history
''',
    "converges": '''def converges(X, y, *, max_epochs=100):
    w, b, errs = train_perceptron(X, y, lr=1.0, epochs=max_epochs)
    return len(errs) > 0 and errs[-1] == 0
''',
    "multi_output_forward": '''def multi_output_forward(X, W, b):
    return np.dot(X, W) + b
''',
}

# HONEST_A copied, then disguised: names changed, comments and a docstring added, the layout redone.
DISGUISED_COPY_OF_A = {
    "predict": '''def predict(X, w, b):
    # my own predictions
    s = X.dot(w)   +   b


    return np.where(s >= 0,
                    1, 0)
''',
    "sigmoid_neuron": '''def sigmoid_neuron(X, w, b):
    """Stable sigmoid of the neuron."""
    act = X @ w + b   # activations
    result = np.empty_like(act, dtype=float)
    positive = act >= 0
    result[positive] = 1.0 / (1.0 + np.exp(-act[positive])); expneg = np.exp(act[~positive])
    result[~positive] = expneg / (1.0 + expneg)
    return result
''',
    "train_perceptron": '''def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
    """Rosenblatt's rule."""
    num, dim = X.shape
    weights = np.zeros(dim) if w0 is None else np.asarray(w0, dtype=float).copy()
    bias = b0
    mistakes_per_epoch = []
    for ep in range(epochs):
        mistakes = 0  # count them
        for k in range(num):
            guess = int(X[k] @ weights + bias >= 0)
            if guess != y[k]:
                weights = weights + lr * (y[k] - guess) * X[k]
                bias += lr * (y[k] - guess)
                mistakes += 1
        mistakes_per_epoch.append(mistakes)
        if mistakes == 0:
            break  # converged
    return weights, bias, mistakes_per_epoch
''',
    "converges": '''def converges(X, y, *, max_epochs=100):
    # last epoch error-free?
    return train_perceptron(X, y, epochs=max_epochs)[2][-1] == 0
''',
    "multi_output_forward": '''def multi_output_forward(X, W, b):
    return np.dot(X, W) + b
''',
}

SCRIPT = "<script>window.__pwned = 1</script>"


def solutions(week=WEEK):
    from tests.test_grading import solutions as answers
    return answers(week)


def submit(workdir, student, answers, week=WEEK):
    nb = nbformat.read(ROOT / "notebooks" / week / "homework.ipynb", as_version=4)
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    folder = workdir / "submitted" / student / week
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "homework.ipynb")


@pytest.fixture
def course(tmp_path):
    return Course(ROOT, tmp_path)


def test_normalising_sets_aside_names_comments_and_layout():
    plain = normalise("def f(x):\n    y = x * 2\n    return y\n")
    assert normalise("def g(a):  # twice\n    '''Doubles.'''\n\n    b = a   *   2\n    return b") == plain
    assert normalise("def f(x):\n    y = x * 2; return y") == plain
    assert normalise("def f(x):\n    y = x * 3\n    return y\n") != plain  # a constant is not layout
    assert normalise("def f(x):\n    y = np.sum(x)\n    return y") != normalise("def f(x):\n    y = np.mean(x)\n    return y")
    assert normalise("def f(x):\n    return len(x)") != normalise("def f(x):\n    return abs(x)")  # builtins kept
    assert normalise("%timeit f(") == ["%", "v", "v", "("]  # not Python: words and symbols, never an error


def test_near_copies_are_listed_and_honest_answers_are_not(course, tmp_path):
    submit(tmp_path, "ada", HONEST_A)
    submit(tmp_path, "bob", HONEST_B)
    submit(tmp_path, "cyd", DISGUISED_COPY_OF_A)
    submit(tmp_path, "dee", solutions())  # the instructor's answers: evidence of nothing
    submit(tmp_path, "eve", {k: v for k, v in solutions().items() if k == "predict"})
    submit(tmp_path, "fay", {})  # untouched
    pairs = find(course, [WEEK])
    assert [(p.a, p.b) for p in pairs] == [("ada", "cyd")]
    (pair,) = pairs
    assert pair.similarity == pytest.approx(1.0)
    assert [gid for gid, *_ in pair.exercises] == ["predict", "sigmoid_neuron", "train_perceptron", "converges",
                                                  "multi_output_forward"]
    # the honest pair is well below the line: alike only where the exercise leaves one way to write it
    everyone = find(course, [WEEK], threshold=0.0, min_tokens=0)
    honest = {(p.a, p.b): p.similarity for p in everyone}
    assert honest[("ada", "bob")] < 0.7 and honest[("bob", "cyd")] < 0.7
    assert not any("dee" in (p.a, p.b) or "fay" in (p.a, p.b) for p in everyone)


def test_one_shared_one_liner_is_not_enough_to_list_a_pair():
    from autograder.similar import Answer
    short = {"multi_output_forward": Answer("return np.dot(X, W) + b", normalise("return np.dot(X, W) + b"))}
    assert compare(WEEK, {"ada": short, "bob": dict(short)}) == []
    assert len(compare(WEEK, {"ada": short, "bob": dict(short)}, min_tokens=5)) == 1


def test_the_table_states_the_threshold_and_that_similar_is_not_copied(course, tmp_path):
    submit(tmp_path, "ada", HONEST_A)
    submit(tmp_path, "cyd", DISGUISED_COPY_OF_A)
    table = format_table(find(course, [WEEK]))
    assert f"at least {THRESHOLD:.0%} alike" in table and "Similar is not copied" in table
    assert table.splitlines()[-1].split() == [WEEK, "ada", "cyd", "100%", "5", table.splitlines()[-1].split()[-1]]
    assert "No pair reaches that." in format_table([])


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.handlers = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def test_the_side_by_side_page_escapes_what_students_wrote(course, tmp_path):
    evil = "<img src=x onerror=window.__pwned=1>"  # a student folder name can be anything but '/'
    submit(tmp_path, "ada", {**HONEST_A, "predict": HONEST_A["predict"] + f"# {SCRIPT}\n"})
    submit(tmp_path, evil, {**DISGUISED_COPY_OF_A, "predict": DISGUISED_COPY_OF_A["predict"] + f"x = '{SCRIPT}'\n"})
    pairs = find(course, [WEEK])
    assert len(pairs) == 1
    page = tmp_path / "similar.html"
    write_html(pairs, page)
    text = page.read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(text)
    assert "script" not in parser.tags and "img" not in parser.tags and parser.handlers == []
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=window.__pwned=1&gt;" in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text


def test_report_similar_on_the_command_line(tmp_path):
    submit(tmp_path, "ada", HONEST_A)
    submit(tmp_path, "bob", HONEST_B)
    submit(tmp_path, "cyd", DISGUISED_COPY_OF_A)
    page = tmp_path / "pairs.html"
    result = subprocess.run([sys.executable, "-m", "autograder", "--workdir", str(tmp_path), "report", WEEK,
                             "--similar", "--html", str(page)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ada      cyd      100%" in result.stdout and "bob" not in result.stdout.split("-----")[-1]
    assert page.exists() and "ada and cyd" in page.read_text()
    bad = subprocess.run([sys.executable, "-m", "autograder", "--workdir", str(tmp_path), "report", "--similar",
                          "--threshold", "90"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "expected a number from 0 to 1" in bad.stderr
