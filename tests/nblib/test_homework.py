"""nblib.homework: the stand-ins for a student's earlier exercises.

Each stand-in must (1) have exactly the signature its homework asks for, read here from the
released notebook's ``def`` line; (2) compute what the library function it wraps computes,
checked against that function and against hand-worked examples, TensorFlow, Keras and
numerical gradients; (3) be switched off by ``disabled(...)`` while its own exercise is tested;
and (4) keep working while the library functions it calls are switched off, since nblib
calling nblib is never stopped (a later exercise runs with the earlier ones disabled).
"""

import inspect
import json
import math
from pathlib import Path

import numpy as np
import pytest

from nblib import activations, data, homework, init, layers, losses, mlp, optim, perceptron, recurrent, training
from nblib._reference import ReferenceDisabled, disabled
from nblib.gradcheck import check_gradient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

# stand-in -> the week whose homework asks for it (and whose notebook holds its signature)
STAND_INS = {
    "train_perceptron": "week01_perceptron",
    "sigmoid": "week02_activations_forward",
    "relu": "week02_activations_forward",
    "leaky_relu": "week02_activations_forward",
    "elu": "week02_activations_forward",
    "softplus": "week02_activations_forward",
    "softmax": "week03_softmax_cross_entropy",
    "categorical_cross_entropy": "week03_softmax_cross_entropy",
    "dense_backward": "week04_backprop",
    "activation_backward": "week04_backprop",
    "sgd_train_step": "week04_backprop",
    "train": "week04_backprop",
    "rnn_step": "week08_rnn_lstm",
    "rnn_forward": "week08_rnn_lstm",
    "rnn_backward": "week08_rnn_lstm",
    "lstm_bias": "week08_rnn_lstm",
    "lstm_step": "week08_rnn_lstm",
    "lstm_forward": "week08_rnn_lstm",
    "memory_task": "week08_rnn_lstm",
}

TF_TIGHT = dict(rtol=1e-10, atol=1e-13)
ACTIVATIONS = ["relu", "tanh", "sigmoid", "logistic", "identity", "elu", "leaky_relu", "softplus", "gelu", "swish"]


def homework_signature(week: str, name: str) -> inspect.Signature:
    """The signature of the first ``def name(...)`` in the week's released homework notebook."""
    notebook = json.loads((NOTEBOOKS / week / "homework.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        for i, line in enumerate(lines):
            if line.startswith(f"def {name}("):
                header = [line]
                while not header[-1].rstrip().endswith(":"):  # a def line broken over several lines
                    i += 1
                    header.append(lines[i])
                namespace = {}
                exec("\n".join(header) + "\n    pass\n", {"np": np}, namespace)
                return inspect.signature(namespace[name])
    raise AssertionError(f"no `def {name}(` in {week}/homework.ipynb")


def shape_of(signature: inspect.Signature):
    """Names, kinds and defaults: what a caller sees (annotations do not matter)."""
    return [(p.name, p.kind.name, p.default) for p in signature.parameters.values()]


def tf_activation(tf, name):
    """The same activation written with TensorFlow ops, exact in float64.

    Two TensorFlow float64 traps: ``tf.nn.leaky_relu``'s alpha is a float32 op attribute
    (0.01 becomes 0.0099999998), so leaky ReLU is written with tf.where (with nblib's slope
    0.01, not TF's 0.2); ``tf.nn.gelu`` is off by ~4e-9 in float64, so GELU is written out as
    x Phi(x) with erf.
    """
    return {
        "relu": tf.nn.relu, "tanh": tf.math.tanh, "sigmoid": tf.math.sigmoid, "logistic": tf.math.sigmoid,
        "identity": tf.identity, "elu": tf.nn.elu,
        "leaky_relu": lambda z: tf.where(z > 0, z, np.float64(0.01) * z),
        "softplus": tf.math.softplus, "gelu": lambda z: 0.5 * z * (1.0 + tf.math.erf(z / np.sqrt(2.0))),
        "swish": tf.nn.silu,
    }[name]


def assert_gradient_checks(f, x, analytic):
    """Centred differences agree with the analytic gradient (and it has x's shape)."""
    assert analytic.shape == x.shape
    result = check_gradient(f, x.copy(), analytic, tol=1e-6)
    assert result.ok, str(result)


def sample(rng, n=400):
    """Points spread over the interesting range, none exactly at a kink (0)."""
    x = rng.normal(scale=4.0, size=n)
    return x[np.abs(x) > 1e-3]


@pytest.fixture
def dense_problem(rng):
    N, D, M = 6, 5, 4
    return rng.normal(size=(N, M)), rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M)


# --- every stand-in: the homework's signature, the library's values, the two switches -------------

def test_every_stand_in_is_listed_here_and_is_a_module_level_reference():
    assert set(homework.__all__) == set(STAND_INS)
    for name in STAND_INS:
        fn = getattr(homework, name)
        assert fn.__name__ == name and fn.__module__ == "nblib.homework"  # the grader names it to the kernel
        assert fn.reference_name == f"nblib.homework.{name}"


@pytest.mark.parametrize("name", sorted(STAND_INS))
def test_stand_in_has_the_homeworks_signature(name):
    expected = homework_signature(STAND_INS[name], name)
    assert shape_of(inspect.signature(getattr(homework, name))) == shape_of(expected)


def library_examples(rng):
    """name -> (call of the stand-in, what the library computes for it, the references it calls)."""
    z = np.concatenate([sample(rng, 50), [-1000.0, -700.0, 0.0, 1000.0]])
    Z, labels = rng.normal(scale=3.0, size=(6, 4)), rng.integers(0, 4, size=6)
    Y = np.eye(4)[labels]
    dZ, X, W, b = rng.normal(size=(6, 3)), rng.normal(size=(6, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    X_gate, y_gate = data.logic_gate("or")
    classes = rng.integers(0, 3, size=6)  # labels for the 5 -> 4 -> 3 network
    weights, biases = [rng.normal(size=(5, 4)), rng.normal(size=(4, 3))], [rng.normal(size=4), rng.normal(size=3)]

    def perceptron_fit():
        fit = perceptron.train(X_gate, y_gate, lr=0.5, epochs=10, w0=np.array([0.2, -0.1]), b0=0.3)
        return fit.w, fit.b, fit.errors.tolist()

    def sequential_step():
        # the same step through the library's classes: Sequential, SoftmaxCrossEntropy, SGD
        model = layers.Sequential.mlp([5, 4, 3], activation="tanh", rng=np.random.default_rng(0))
        params = model.parameters()
        for key, value in zip(("0.W", "0.b", "2.W", "2.b"), (weights[0], biases[0], weights[1], biases[1])):
            params[key][...] = value
        head = layers.SoftmaxCrossEntropy()
        loss = head.forward(model.forward(X), classes)
        model.backward(head.backward())
        optim.SGD(lr=0.3).step(params, model.gradients())
        return loss, [params["0.W"], params["2.W"]], [params["0.b"], params["2.b"]]

    def library_training():
        # the same training through the library: Glorot weights, a Sequential, fit with SGD
        generator, C = np.random.default_rng(5), int(classes.max()) + 1
        W1, W2 = init.glorot_uniform((5, 7), rng=generator), init.glorot_uniform((7, C), rng=generator)
        model = layers.Sequential.from_weights([W1, W2], [np.zeros(7), np.zeros(C)])
        history = training.fit(model, X, classes, optimizer=optim.SGD(0.3), epochs=3, batch_size=4, rng=generator)
        params = model.parameters()
        return [params["0.W"], params["2.W"]], [params["0.b"], params["2.b"]], list(history.loss)

    # week 8: sequences (N, T, D) = (3, 4, 2), H = 5
    xs, h0, c0 = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    Wx, Wh, bh = rng.normal(size=(2, 5)), rng.normal(size=(5, 5)) / 2, rng.normal(size=5)
    kernel, recurrent_kernel, bias = rng.normal(size=(2, 20)), rng.normal(size=(5, 20)) / 2, rng.normal(size=20)
    hs = recurrent.rnn_forward(xs, Wx, Wh, bh, h0=h0)[0]
    dhs = rng.normal(size=(3, 4, 5))

    def lstm_forward_library():
        out, (h, c), _ = recurrent.lstm_forward(xs, kernel, recurrent_kernel, bias, h0=h0, c0=c0,
                                                return_sequences=False)
        return out, h, c

    week8 = {
        "rnn_step": (lambda: homework.rnn_step(xs[:, 0], h0, Wx, Wh, bh),
                     lambda: recurrent.rnn_step(xs[:, 0], h0, Wx, Wh, bh)[0], (recurrent.rnn_step,)),
        "rnn_forward": (lambda: homework.rnn_forward(xs, Wx, Wh, bh, h0=h0, return_sequences=False),
                        lambda: recurrent.rnn_forward(xs, Wx, Wh, bh, h0=h0, return_sequences=False)[0],
                        (recurrent.rnn_forward,)),
        "rnn_backward": (lambda: homework.rnn_backward(dhs, xs, hs, h0, Wx, Wh),
                         lambda: recurrent.rnn_backward(dhs, recurrent.rnn_forward(xs, Wx, Wh, bh, h0=h0)[1]),
                         (recurrent.rnn_backward, recurrent.rnn_forward)),
        "lstm_bias": (lambda: homework.lstm_bias(3), lambda: recurrent.lstm_bias(3), (recurrent.lstm_bias,)),
        "lstm_step": (lambda: homework.lstm_step(xs[:, 0], h0, c0, kernel, recurrent_kernel, bias),
                      lambda: recurrent.lstm_step(xs[:, 0], h0, c0, kernel, recurrent_kernel, bias)[0],
                      (recurrent.lstm_step,)),
        "lstm_forward": (lambda: homework.lstm_forward(xs, kernel, recurrent_kernel, bias, h0=h0, c0=c0,
                                                       return_sequences=False),
                         lstm_forward_library, (recurrent.lstm_forward,)),
        "memory_task": (lambda: homework.memory_task(5, 4, rng=3), lambda: data.memory_task(5, 4, rng=3),
                        (data.memory_task,)),
    }

    return week8 | {
        "train_perceptron": (lambda: homework.train_perceptron(X_gate, y_gate, lr=0.5, epochs=10,
                                                               w0=np.array([0.2, -0.1]), b0=0.3),
                             perceptron_fit, (perceptron.train,)),
        "sigmoid": (lambda: homework.sigmoid(z), lambda: activations.sigmoid(z), (activations.sigmoid,)),
        "relu": (lambda: homework.relu(z), lambda: activations.relu(z), (activations.relu,)),
        "leaky_relu": (lambda: homework.leaky_relu(z, 0.2), lambda: activations.leaky_relu(z, negative_slope=0.2),
                       (activations.leaky_relu,)),
        "elu": (lambda: homework.elu(z, 1.5), lambda: activations.elu(z, alpha=1.5), (activations.elu,)),
        "softplus": (lambda: homework.softplus(z), lambda: activations.softplus(z), (activations.softplus,)),
        "softmax": (lambda: homework.softmax(Z), lambda: losses.softmax(Z, axis=1), (losses.softmax,)),
        "categorical_cross_entropy": (
            lambda: homework.categorical_cross_entropy(Y, Z, True),
            lambda: losses.categorical_cross_entropy(Y, Z, from_logits=True),
            (losses.categorical_cross_entropy, losses.log_softmax, losses.softmax)),
        "dense_backward": (lambda: homework.dense_backward(dZ, X, W),
                           lambda: layers.dense_backward(dZ, layers.dense_forward(X, W, b)[1]),
                           (layers.dense_backward, layers.dense_forward, mlp.backward)),
        "activation_backward": (
            lambda: homework.activation_backward(dZ, X[:, :3], "tanh"),
            lambda: layers.activation_backward(dZ, layers.activation_forward(X[:, :3], name="tanh")[1]),
            (activations.tanh, activations.tanh_derivative)),
        "train": (lambda: homework.train(X, classes, hidden=7, epochs=3, batch_size=4, lr=0.3, rng=5), library_training,
                  (init.glorot_uniform, init.variance_scaling)),
        "sgd_train_step": (lambda: homework.sgd_train_step(X, classes, weights, biases, lr=0.3, activation="tanh"),
                           sequential_step,
                           (mlp.forward, mlp.backward, layers.dense_forward, layers.dense_backward,
                            layers.softmax_cross_entropy, activations.tanh, activations.tanh_derivative,
                            optim.sgd_step)),
    }


def assert_same(got, expected, *, rtol=0.0):
    """Equal results, tuple for tuple and list for list."""
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e, rtol=rtol)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)


# The two computations take different but equally exact routes where a tolerance is given.
RTOL = {"categorical_cross_entropy": 1e-14, "sgd_train_step": 1e-12}


@pytest.mark.parametrize("name", sorted(STAND_INS))
def test_stand_in_computes_what_the_library_computes(name, rng):
    call, library, _ = library_examples(rng)[name]
    assert_same(call(), library(), rtol=RTOL.get(name, 0.0))


@pytest.mark.parametrize("name", sorted(STAND_INS))
def test_stand_in_is_switched_off_with_its_exercise_and_back_afterwards(name, rng):
    call, library, _ = library_examples(rng)[name]
    with disabled(getattr(homework, name), exercise=f"Exercise 9 ({name})"):
        with pytest.raises(ReferenceDisabled, match=rf"Exercise 9 \({name}\) asks you to write this yourself, "
                                                    rf"so nblib\.homework\.{name}\(\) is switched off"):
            call()
    assert_same(call(), library(), rtol=RTOL.get(name, 0.0))


@pytest.mark.parametrize("name", sorted(STAND_INS))
def test_stand_in_works_while_the_library_functions_it_calls_are_switched_off(name, rng):
    # A later exercise runs with the earlier exercises' references off and the stand-in in
    # their place: the stand-in calling nblib must not be stopped (the guard rule).
    call, library, references = library_examples(rng)[name]
    expected = library()
    with disabled(*references, exercise="a later exercise"):
        got = call()
        with pytest.raises(ReferenceDisabled):  # while the same functions, called from here, are off
            references[0](*_any_arguments(references[0]))
    assert_same(got, expected, rtol=RTOL.get(name, 0.0))


def _any_arguments(fn):
    """Some arguments for fn (the guard fires before they are looked at)."""
    return [None] * sum(p.default is inspect.Parameter.empty and p.kind.name == "POSITIONAL_OR_KEYWORD"
                        for p in inspect.signature(fn).parameters.values())


# A student could call the library function a stand-in wraps instead of writing the exercise;
# the exercise's test can only keep it away if that function is a reference too.
WRAPPED = {
    "train_perceptron": perceptron.train,
    "sigmoid": activations.sigmoid, "relu": activations.relu, "leaky_relu": activations.leaky_relu,
    "elu": activations.elu, "softplus": activations.softplus,
    "softmax": losses.softmax, "categorical_cross_entropy": losses.categorical_cross_entropy,
    "dense_backward": layers.dense_backward, "activation_backward": layers.activation_backward,
    "sgd_train_step": mlp.backward,
    "rnn_step": recurrent.rnn_step, "rnn_forward": recurrent.rnn_forward, "rnn_backward": recurrent.rnn_backward,
    "lstm_bias": recurrent.lstm_bias, "lstm_step": recurrent.lstm_step, "lstm_forward": recurrent.lstm_forward,
    "memory_task": data.memory_task,
}


@pytest.mark.parametrize("name", sorted(WRAPPED))
def test_the_library_function_a_stand_in_wraps_can_be_switched_off_too(name):
    fn = WRAPPED[name]
    assert hasattr(fn, "reference_name"), f"{fn.__module__}.{fn.__name__} is not an @reference"
    with disabled(fn, exercise="Exercise 3"), pytest.raises(ReferenceDisabled, match="Exercise 3"):
        fn(*_any_arguments(fn))


# --- week 1: train_perceptron ------------------------------------------------------------------------

def test_train_perceptron_is_train_with_the_homeworks_results():
    # the AND gate from w = (0, 0), b = 0, lr = 1: the hand trace of
    # test_perceptron.test_training_on_and_from_zero_matches_a_hand_trace ends at w = (2, 1), b = -3
    # after epochs with 2, 3, 3, 2, 1 and 0 mistakes
    w, b, errors = homework.train_perceptron(*data.logic_gate("and"))
    np.testing.assert_array_equal(w, [2.0, 1.0])
    assert b == -3.0 and type(b) is float
    assert errors == [2, 3, 3, 2, 1, 0] and all(type(e) is int for e in errors)
    X, y = data.moons(40, seed=2)
    w0 = np.array([0.5, -0.5])
    w, b, errors = homework.train_perceptron(X, y, lr=0.4, epochs=7, w0=w0, b0=0.3)
    fit = perceptron.train(X, y, lr=0.4, epochs=7, w0=w0, b0=0.3)
    np.testing.assert_array_equal(w, fit.w)
    assert b == fit.b and errors == fit.errors.tolist() and len(errors) == 7
    np.testing.assert_array_equal(w0, [0.5, -0.5])


def test_train_perceptron_is_a_reference_switched_off_by_exercise_4():
    X, y = data.logic_gate("or")
    with disabled(homework.train_perceptron, exercise="Exercise 4 (train_perceptron)"):
        with pytest.raises(ReferenceDisabled, match=r"Exercise 4 \(train_perceptron\) asks you to write this"):
            homework.train_perceptron(X, y)
    # perceptron.train off (exercise 4's own reference) does not stop the stand-in, which is how
    # exercise 5 (converges) runs on it: nblib calling nblib is never stopped
    with disabled(perceptron.train, exercise="Exercise 4"):
        assert homework.train_perceptron(X, y)[2][-1] == 0
        with pytest.raises(ReferenceDisabled):
            perceptron.train(X, y)
    assert homework.train_perceptron(X, y)[2][-1] == 0


# --- week 4: train -------------------------------------------------------------------------------------

def test_train_is_exercise_7s_loop_one_full_batch_by_hand_and_no_epochs():
    X, y = data.iris().X_train, data.iris().y_train                   # (112, 4), labels 0..2
    # epochs=0: W_1 (4, 5) then W_2 (5, 3) drawn as U(-r, r), r = sqrt(6 / (fan_in + fan_out)); zero biases
    weights, biases, losses = homework.train(X, y, hidden=5, epochs=0, rng=3)
    generator = np.random.default_rng(3)
    expected = [generator.uniform(-np.sqrt(6 / 9), np.sqrt(6 / 9), size=(4, 5)),
                generator.uniform(-np.sqrt(6 / 8), np.sqrt(6 / 8), size=(5, 3))]
    assert_same(weights, expected) and assert_same(biases, [np.zeros(5), np.zeros(3)])
    assert losses == []
    # one epoch in one batch of all 112 examples: one SGD step from those weights (the shuffled order
    # changes only the order of the sums), and the epoch's loss is that step's loss
    weights, biases, losses = homework.train(X, y, hidden=5, epochs=1, batch_size=len(X), lr=0.5, rng=3)
    loss, new_weights, new_biases = homework.sgd_train_step(X, y, expected, [np.zeros(5), np.zeros(3)], lr=0.5)
    assert_same(weights, new_weights, rtol=1e-12) and assert_same(biases, new_biases, rtol=1e-12)
    np.testing.assert_allclose(losses, [loss], rtol=1e-12)
    assert all(type(v) is float for v in losses)


# --- week 2: the activations -------------------------------------------------------------------------

ACTIVATION_STAND_INS = ["sigmoid", "relu", "leaky_relu", "elu", "softplus"]


@pytest.mark.parametrize("name", ACTIVATION_STAND_INS)
def test_activation_stand_ins_compute_the_same_as_the_library(name, rng):
    z = np.concatenate([sample(rng), [-1000.0, -700.0, 0.0, 1000.0]])
    np.testing.assert_array_equal(getattr(homework, name)(z), activations.ACTIVATIONS[name](z))
    assert list(inspect.signature(getattr(homework, name)).parameters)[0] == "z"


def test_activation_stand_ins_take_slope_and_alpha_by_position_with_the_homework_defaults():
    z = np.array([-2.0, 0.0, 3.0])
    # leaky ReLU: -2 * 0.01 by default, -2 * 0.2 with the slope given second
    np.testing.assert_allclose(homework.leaky_relu(z), [-0.02, 0.0, 3.0])
    np.testing.assert_allclose(homework.leaky_relu(z, 0.2), [-0.4, 0.0, 3.0])
    # ELU: alpha (e^-2 - 1) with alpha = 1 by default, 2 when given second
    np.testing.assert_allclose(homework.elu(z), [math.exp(-2) - 1, 0.0, 3.0])
    np.testing.assert_allclose(homework.elu(z, 2.0), [2 * (math.exp(-2) - 1), 0.0, 3.0])
    assert str(inspect.signature(homework.leaky_relu)) == "(z, negative_slope=0.01)"
    assert str(inspect.signature(homework.elu)) == "(z, alpha=1.0)"


def test_activation_stand_ins_are_switched_off_with_the_exercise():
    with disabled(homework.sigmoid, exercise="Exercise 1"), pytest.raises(ReferenceDisabled, match="Exercise 1"):
        homework.sigmoid(0.0)
    assert float(homework.sigmoid(0.0)) == 0.5


# --- week 3: softmax and categorical cross-entropy ------------------------------------------------------

def test_softmax_has_the_week3_homework_signature(rng):
    assert list(inspect.signature(homework.softmax).parameters) == ["Z"]
    z = rng.normal(scale=5.0, size=(6, 4))
    before = z.copy()
    np.testing.assert_array_equal(homework.softmax(z), losses.softmax(z, axis=1))
    np.testing.assert_array_equal(z, before)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # rows far apart, each shifted by its own max
        np.testing.assert_array_equal(homework.softmax(np.array([[1000.0, 1000.0], [-1000.0, -1000.0]])), 0.5)
    # exp(0) = 1 and exp(ln 3) = 3: the second row is (1/4, 3/4)
    np.testing.assert_allclose(homework.softmax(np.array([[0.0, 0.0], [0.0, math.log(3)]])),
                               [[0.5, 0.5], [0.25, 0.75]], rtol=1e-15)


def test_softmax_matches_keras_over_the_rows(rng, keras):
    z = rng.normal(scale=5.0, size=(20, 7))
    np.testing.assert_allclose(homework.softmax(z), keras.activations.softmax(z, axis=1), rtol=1e-12, atol=1e-15)


def test_categorical_cross_entropy_has_the_week3_homework_signature(rng):
    parameters = inspect.signature(homework.categorical_cross_entropy).parameters
    assert list(parameters) == ["Y", "P", "from_logits"] and parameters["from_logits"].default is False
    logits = rng.normal(scale=3.0, size=(16, 5))
    one_hot = np.eye(5)[rng.integers(0, 5, size=16)]
    probs = losses.softmax(logits)
    # from_logits by position, as a student's exercise 5 may call it; a float, as the homework returns
    got = homework.categorical_cross_entropy(one_hot, logits, True)
    assert type(got) is float
    assert got == pytest.approx(losses.categorical_cross_entropy(one_hot, logits, from_logits=True), rel=1e-14)
    assert homework.categorical_cross_entropy(one_hot, probs) == pytest.approx(
        losses.categorical_cross_entropy(one_hot, probs), rel=1e-14)
    # extremes: exact from logits (-log softmax(1000, -1000)_1 = 2000), clipped from probabilities
    # (p = 0 for the true class is clipped to eps = 1e-7: -log 1e-7 = 16.118)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert homework.categorical_cross_entropy(np.array([[0, 1]]), np.array([[1000.0, -1000.0]]), True) == 2000.0
        assert homework.categorical_cross_entropy(np.array([[0, 1]]), np.array([[1.0, 0.0]])) == pytest.approx(
            -math.log(1e-7))
    with pytest.raises(ValueError, match=r"Y and P must have the same shape, got \(1, 2\) and \(1, 3\)"):
        homework.categorical_cross_entropy(np.array([[0, 1]]), np.full((1, 3), 1 / 3))


def test_categorical_cross_entropy_matches_keras(rng, keras):
    logits = rng.normal(scale=3.0, size=(16, 5))
    one_hot = np.eye(5)[rng.integers(0, 5, size=16)]
    for from_logits, y_pred in ((True, logits), (False, losses.softmax(logits))):
        expected = keras.losses.CategoricalCrossentropy(from_logits=from_logits, dtype="float64")(one_hot, y_pred)
        assert homework.categorical_cross_entropy(one_hot, y_pred, from_logits) == pytest.approx(float(expected),
                                                                                                  rel=1e-7)


def test_categorical_cross_entropy_stands_in_while_the_references_are_off(rng):
    logits = rng.normal(scale=3.0, size=(16, 5))
    one_hot = np.eye(5)[rng.integers(0, 5, size=16)]
    before = logits.copy()
    with disabled(losses.categorical_cross_entropy, losses.log_softmax, losses.softmax, exercise="Exercise 5"):
        got = homework.categorical_cross_entropy(one_hot, logits, from_logits=True)
    np.testing.assert_array_equal(logits, before)  # inputs untouched
    assert got == pytest.approx(losses.categorical_cross_entropy(one_hot, logits, from_logits=True), rel=1e-14)
    with disabled(homework.categorical_cross_entropy, exercise="Exercise 4"), pytest.raises(ReferenceDisabled):
        homework.categorical_cross_entropy(one_hot, logits, True)


# --- week 4: dense_backward(dZ, X, W) -------------------------------------------------------------------

def test_dense_backward_by_hand():
    # One input, one output, two examples: Z = X W + b with X = [[2], [3]], W = [[0.5]].
    # With upstream gradient dZ = [[1], [-2]] (dL/dZ, L = sum(dZ * Z)):
    #   dW = sum_n x_n dZ_n = 2 * 1 + 3 * (-2) = -4      (X.T @ dZ)
    #   db = sum_n dZ_n     = 1 - 2 = -1                  (dZ.sum(0))
    #   dX_n = dZ_n * W     = [[0.5], [-1.0]]             (dZ @ W.T)
    dX, dW, db = homework.dense_backward(np.array([[1.0], [-2.0]]), np.array([[2.0], [3.0]]), np.array([[0.5]]))
    np.testing.assert_array_equal(dW, [[-4.0]])
    np.testing.assert_array_equal(db, [-1.0])
    np.testing.assert_array_equal(dX, [[0.5], [-1.0]])


def test_dense_backward_matches_tensorflow(tf, dense_problem):
    dZ, X, W, b = dense_problem
    Xv, Wv, bv = tf.Variable(X), tf.Variable(W), tf.Variable(b)
    with tf.GradientTape() as tape:
        Z = tf.matmul(Xv, Wv) + bv
    expected = tape.gradient(Z, [Xv, Wv, bv], output_gradients=tf.constant(dZ))
    for ours, theirs, wrt in zip(homework.dense_backward(dZ, X, W), expected, (X, W, b)):
        assert ours.shape == wrt.shape
        np.testing.assert_allclose(ours, theirs.numpy(), **TF_TIGHT)


def test_dense_backward_passes_a_gradient_check(dense_problem):
    dZ, X, W, b = dense_problem
    dX, dW, db = homework.dense_backward(dZ, X, W)
    assert_gradient_checks(lambda x: np.sum(dZ * (x @ W + b)), X, dX)
    assert_gradient_checks(lambda w: np.sum(dZ * (X @ w + b)), W, dW)
    assert_gradient_checks(lambda c: np.sum(dZ * (X @ W + c)), b, db)


def test_dense_backward_with_mismatched_shapes_names_them_all():
    with pytest.raises(ValueError, match=r"got dZ \(3, 2\), X \(4, 5\), W \(5, 2\)"):
        homework.dense_backward(np.ones((3, 2)), np.ones((4, 5)), np.ones((5, 2)))   # 3 rows of dZ, 4 of X
    with pytest.raises(ValueError, match=r"got dZ \(4, 2\), X \(4, 5\), W \(2, 5\)"):
        homework.dense_backward(np.ones((4, 2)), np.ones((4, 5)), np.ones((2, 5)))   # W transposed
    with pytest.raises(ValueError, match=r"X must have shape \(N, D\)"):
        homework.dense_backward(np.ones((4, 2)), np.ones(5), np.ones((5, 2)))


# --- week 4: activation_backward(dA, Z, activation) ----------------------------------------------------

def test_relu_backward_by_hand():
    # relu'(z) = 1 for z > 0, else 0: the gradient passes where the unit was on, stops elsewhere
    dZ = homework.activation_backward(np.array([[5.0, 7.0, 3.0]]), np.array([[-1.0, 2.0, -0.5]]), "relu")
    np.testing.assert_array_equal(dZ, [[0.0, 7.0, 0.0]])


def test_sigmoid_and_tanh_backward_by_hand():
    # sigmoid'(0) = sigma(0) (1 - sigma(0)) = 1/4 and tanh'(0) = 1 - tanh(0)^2 = 1, times dA = 2
    np.testing.assert_allclose(homework.activation_backward(np.array([[2.0]]), np.array([[0.0]]), "sigmoid"), [[0.5]])
    np.testing.assert_allclose(homework.activation_backward(np.array([[2.0]]), np.array([[0.0]]), "tanh"), [[2.0]])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_matches_tensorflow(tf, rng, name):
    Z, dA = rng.normal(scale=2.0, size=(7, 4)), rng.normal(size=(7, 4))
    Zv = tf.Variable(Z)
    with tf.GradientTape() as tape:
        A = tf_activation(tf, name)(Zv)
    expected = tape.gradient(A, Zv, output_gradients=tf.constant(dA)).numpy()
    ours = homework.activation_backward(dA, Z, name)
    assert ours.shape == Z.shape
    np.testing.assert_allclose(ours, expected, **TF_TIGHT)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_passes_a_gradient_check(rng, name):
    Z, dA = rng.normal(scale=2.0, size=(5, 3)), rng.normal(size=(5, 3))
    forward, _ = activations.get(name)
    assert_gradient_checks(lambda z: np.sum(dA * forward(z)), Z, homework.activation_backward(dA, Z, name))


def test_activation_backward_bad_input_is_named():
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'.*'relu'"):
        homework.activation_backward(np.ones((2, 2)), np.ones((2, 2)), "rleu")
    with pytest.raises(ValueError, match=r"dA and Z must have the same shape, got \(2, 2\) and \(2, 3\)"):
        homework.activation_backward(np.ones((2, 2)), np.ones((2, 3)), "relu")
    with pytest.raises(TypeError, match="must be a string"):
        homework.activation_backward(np.ones((2, 2)), np.ones((2, 2)), None)


def test_backward_stand_ins_do_not_modify_their_inputs(dense_problem):
    dZ, X, W, _ = dense_problem
    Z = X[:, :4].copy()
    arrays = (dZ, X, W, Z)
    originals = [a.copy() for a in arrays]
    homework.dense_backward(dZ, X, W)
    for name in ACTIVATIONS:
        homework.activation_backward(dZ, Z, name)
    for a, original in zip(arrays, originals):
        np.testing.assert_array_equal(a, original)


def test_the_references_can_be_switched_off(dense_problem):
    dZ, X, W, _ = dense_problem
    with disabled(homework.dense_backward, layers.dense_backward, mlp.backward,
                  exercise="Exercise 2 (dense_backward)"):
        with pytest.raises(ReferenceDisabled, match="Exercise 2"):
            homework.dense_backward(dZ, X, W)
        with pytest.raises(ReferenceDisabled, match="Exercise 2"):
            layers.dense_backward(dZ, layers.DenseCache(X, W))
    with disabled(homework.activation_backward, exercise="Exercise 3 (activation_backward)"):
        with pytest.raises(ReferenceDisabled, match="Exercise 3"):
            homework.activation_backward(dZ, X[:, :4], "relu")
    homework.dense_backward(dZ, X, W)
    homework.activation_backward(dZ, X[:, :4], "relu")


# --- week 4: sgd_train_step ------------------------------------------------------------------------------

def test_sgd_train_step_by_hand():
    # One example, 2 -> 1 (ReLU) -> 2: z_1 = 2 - 1 = 1, logits (2, -1), p = softmax(2, -1), loss = log(1 + e^-3).
    # dlogits = p - (1, 0) = (-q, q) with q = e^-3 / (1 + e^-3); dW_2 = a_1.T dlogits; dz_1 = dlogits . (2, -1) = -3q.
    X, y = np.array([[2.0, 1.0]]), np.array([0])
    weights, biases = [np.array([[1.0], [-1.0]]), np.array([[2.0, -1.0]])], [np.zeros(1), np.zeros(2)]
    loss, new_weights, new_biases = homework.sgd_train_step(X, y, weights, biases, lr=0.1)
    q = np.exp(-3) / (1 + np.exp(-3))
    assert isinstance(loss, float) and loss == pytest.approx(np.log1p(np.exp(-3)), rel=1e-12)
    np.testing.assert_allclose(new_weights[1], [[2 + 0.1 * q, -1 - 0.1 * q]], rtol=1e-12)
    np.testing.assert_allclose(new_biases[1], [0.1 * q, -0.1 * q], rtol=1e-12)
    np.testing.assert_allclose(new_weights[0], [[1 + 0.1 * 3 * q * 2], [-1 + 0.1 * 3 * q * 1]], rtol=1e-12)
    np.testing.assert_allclose(new_biases[0], [0.3 * q], rtol=1e-12)


@pytest.mark.parametrize("activation, sizes", [("relu", [4, 3]), ("tanh", [5, 8, 3]), ("sigmoid", [6, 5, 4, 3])])
def test_sgd_train_step_matches_one_keras_sgd_step(tf, keras, rng, activation, sizes):
    X, y = rng.normal(size=(10, sizes[0])), rng.integers(0, sizes[-1], size=10)
    weights = [rng.normal(size=(d, m)) for d, m in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=m) for m in sizes[1:]]
    model = keras.Sequential([keras.Input((sizes[0],), dtype="float64")]
                             + [keras.layers.Dense(m, activation=activation if i < len(sizes) - 2 else None, dtype="float64")
                                for i, m in enumerate(sizes[1:])])
    model.set_weights([p for pair in zip(weights, biases) for p in pair])
    scce = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    with tf.GradientTape() as tape:
        value = scce(y, model(X, training=True))
    keras.optimizers.SGD(learning_rate=0.5).apply_gradients(   # 0.5 is exact in float32
        zip(tape.gradient(value, model.trainable_variables), model.trainable_variables))
    loss, new_weights, new_biases = homework.sgd_train_step(X, y, weights, biases, lr=0.5, activation=activation)
    assert loss == pytest.approx(float(value), rel=1e-9)
    after = model.get_weights()
    for ours, theirs in zip(new_weights + new_biases, after[0::2] + after[1::2]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_sgd_train_step_leaves_its_inputs_alone_and_returns_new_lists(rng):
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    weights, biases = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))], [rng.normal(size=4), rng.normal(size=2)]
    saved = [p.copy() for p in weights + biases + [X, y]]
    _, new_weights, new_biases = homework.sgd_train_step(X, y, weights, biases, lr=0.1, activation="tanh")
    for before, after in zip(saved, weights + biases + [X, y]):
        np.testing.assert_array_equal(before, after)
    assert all(new is not old for new, old in zip(new_weights + new_biases, weights + biases))


def test_sgd_train_step_can_be_switched_off_for_the_exercise_that_asks_for_it():
    X, y = np.array([[2.0, 1.0]]), np.array([0])
    weights, biases = [np.array([[1.0], [-1.0]]), np.array([[2.0, -1.0]])], [np.zeros(1), np.zeros(2)]
    with disabled(homework.sgd_train_step, exercise="Exercise 6 (sgd_train_step)"):
        with pytest.raises(ReferenceDisabled, match="Exercise 6"):
            homework.sgd_train_step(X, y, weights, biases, lr=0.1)
    homework.sgd_train_step(X, y, weights, biases, lr=0.1)
