"""nblib.data: shapes, determinism, the promises each generator makes, and offline MNIST."""

import numpy as np
import pytest

from nblib import data, perceptron


def test_logic_gates_are_their_truth_tables():
    X, y = data.logic_gate("xor")
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    # each table computed from the definition of the gate on the same rows
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    for name, truth in {"and": a & b, "or": a | b, "nand": ~(a & b), "nor": ~(a | b), "xor": a ^ b}.items():
        np.testing.assert_array_equal(data.logic_gate(name)[1], truth.astype(int))
    with pytest.raises(ValueError, match=r"name must be one of .* got 'xnor'"):
        data.logic_gate("xnor")


def test_digits_split_is_stratified_scaled_and_reproducible():
    split = data.digits()
    X_train, X_test, y_train, y_test = split  # unpacks like train_test_split
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0
    assert y_train.dtype == np.int64
    # stratified: every digit keeps its share (about 10%) in the test set
    assert np.bincount(y_test, minlength=10).min() >= 43
    np.testing.assert_array_equal(data.digits().X_test, X_test)
    assert not np.array_equal(data.digits(seed=1).X_test, X_test)


def test_iris_is_standardized_with_training_statistics():
    split = data.iris()
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(split.X_train.std(axis=0), 1.0, rtol=1e-12)
    assert not np.allclose(split.X_test.mean(axis=0), 0.0, atol=1e-3)  # test set not re-centred
    raw = data.iris(scale=False)
    assert raw.X_train.min() > 0  # centimetres


def test_standardize_leaves_constant_features_finite():
    train = np.array([[1.0, 5.0], [3.0, 5.0]])
    scaled_train, scaled_test = data.standardize(train, np.array([[2.0, 6.0]]))
    np.testing.assert_allclose(scaled_train, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(scaled_test, [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"X_test must have shape \(N, 2\), got shape \(1, 3\)"):
        data.standardize(train, np.ones((1, 3)))


@pytest.mark.parametrize("seed", range(5))
def test_linearly_separable_keeps_its_margin(seed):
    X, y = data.linearly_separable(80, margin=0.2, seed=seed)
    assert X.shape == (80, 2) and set(np.unique(y)) == {0, 1}
    assert perceptron.converges(X, y, max_epochs=2000)  # separable => the perceptron converges


def test_generated_sets_are_deterministic_and_shaped():
    for make in (data.moons, data.circles, data.blobs):
        X1, y1 = make(50, seed=4)
        X2, y2 = make(50, seed=4)
        np.testing.assert_array_equal(X1, X2)
        assert X1.shape == (50, 2) and y1.dtype == np.int64
    X, y = data.blobs(60, centers=3, n_features=5, seed=1)
    assert X.shape == (60, 5) and set(y) == {0, 1, 2}


def test_split_checks_its_arguments():
    with pytest.raises(ValueError, match="test_size must be a fraction in"):
        data.split(np.zeros((10, 2)), np.zeros(10, dtype=int), test_size=3)
    with pytest.raises(ValueError, match=r"y must have shape \(10,\) to match"):
        data.split(np.zeros((10, 2)), np.zeros(9, dtype=int))


# --- MNIST, offline -----------------------------------------------------------------------------

def fake_mnist(path, n_train=6, n_test=3):
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, size=n_train, dtype=np.uint8),
        x_test=rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, size=n_test, dtype=np.uint8),
    )


def test_mnist_from_a_file_in_data(tmp_path):
    file = tmp_path / "mnist.npz"
    fake_mnist(file)
    split = data.mnist(path=file, download=False)
    assert split.X_train.shape == (6, 28, 28) and split.X_test.shape == (3, 28, 28)
    assert split.X_train.dtype == np.float32 and 0 <= split.X_train.min() and split.X_train.max() <= 1
    assert split.y_train.dtype == np.int64
    with np.load(file) as raw:
        np.testing.assert_allclose(split.X_train * 255, raw["x_train"], atol=1e-3)


def test_mnist_offline_without_file_says_what_to_do(tmp_path):
    with pytest.raises(data.DatasetUnavailable, match=r"mnist is not available: there is no file at .*missing\.npz.*data/README\.md"):
        data.mnist(path=tmp_path / "missing.npz", download=False)


def test_mnist_download_failure_becomes_a_clear_error(tmp_path, monkeypatch, keras):
    def offline(*args, **kwargs):  # what keras raises when the URL cannot be fetched
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(data.DatasetUnavailable, match="the download failed .*URL fetch failure") as info:
        data.mnist(kind="fashion_mnist", path=tmp_path / "fashion_mnist.npz")
    assert isinstance(info.value, FileNotFoundError)


def test_mnist_file_with_wrong_arrays_is_named(tmp_path):
    file = tmp_path / "mnist.npz"
    np.savez(file, images=np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match=r"missing \['x_test', 'x_train', 'y_test', 'y_train'\]"):
        data.mnist(path=file)
    with pytest.raises(ValueError, match="kind must be one of"):
        data.mnist(kind="cifar10")


# --- 28x28 digits for CNNs ----------------------------------------------------------------------

def find_offset(canvas, image):
    """The (row, column) where the 20x20 ``image`` sits in the 28x28 ``canvas``, or None."""
    for dy in range(9):
        for dx in range(9):
            if np.allclose(canvas[dy:dy + 20, dx:dx + 20], image, atol=1e-6):
                return dy, dx
    return None


def test_digits_28x28_are_the_8x8_digits_enlarged_by_tensorflow_bilinear_and_shifted(tf):
    # Independently of nblib's interpolation: tf.image.resize (bilinear, half-pixel centres) of
    # each 8x8 digit to 20x20 must appear, unchanged, somewhere in its 28x28 canvas, the rest
    # black, at most 4 pixels from the centre; the split is digits()'s.
    small = data.digits()
    split = data.digits_28x28(source="digits")
    assert split.X_train.shape == (1347, 28, 28, 1) and split.X_test.shape == (450, 28, 28, 1)
    assert split.X_train.dtype == np.float32 and 0 <= split.X_train.min() and split.X_train.max() <= 1
    np.testing.assert_array_equal(split.y_train, small.y_train)
    np.testing.assert_array_equal(split.y_test, small.y_test)
    n = 40
    enlarged = tf.image.resize(small.X_train[:n].reshape(n, 8, 8, 1), (20, 20), method="bilinear").numpy()[..., 0]
    offsets = []
    for canvas, image in zip(split.X_train[:n, :, :, 0], enlarged):
        offset = find_offset(canvas, image)
        assert offset is not None
        assert canvas.sum() == pytest.approx(image.sum(), rel=1e-5)  # nothing outside the 20x20 image
        offsets.append(offset)
    assert len(set(offsets)) > 10  # shifted, and not all alike


def test_digits_28x28_are_reproducible_and_the_shift_is_a_parameter():
    a, b = data.digits_28x28(source="digits"), data.digits_28x28(source="digits")
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(data.digits_28x28(source="digits", seed=1).X_train, a.X_train)
    centred = data.digits_28x28(source="digits", max_shift=0).X_train
    assert not centred[:, :4].any() and not centred[:, 24:].any()  # the 20x20 image at rows/cols 4..23
    assert not centred[:, :, :4].any() and not centred[:, :, 24:].any()
    with pytest.raises(ValueError, match="max_shift must be at most 4"):
        data.digits_28x28(source="digits", max_shift=5)
    with pytest.raises(ValueError, match=r"images must have shape \(N, 8, 8\), got shape \(3, 64\)"):
        data.resample_digits(np.zeros((3, 64)), rng=np.random.default_rng(0))


def test_resample_digits_interpolates_a_ramp_linearly():
    # bilinear interpolation reproduces a linear function exactly away from the edges:
    # pixel i of the 20 samples the 8 at u = (i + 0.5) * 8/20 - 0.5, so a ramp 0..7 becomes u
    ramp = np.tile(np.arange(8.0) / 7, (1, 8, 1))           # (1, 8, 8), value = column / 7
    out = data.resample_digits(ramp, max_shift=0, rng=np.random.default_rng(0))[0, 4:24, 4:24, 0]
    u = (np.arange(20) + 0.5) * 0.4 - 0.5
    np.testing.assert_allclose(out[10, 2:18], u[2:18] / 7, atol=1e-6)
    np.testing.assert_allclose(out[:, 0], 0.0, atol=1e-7)  # clamped at the edge: u < 0 samples column 0
    np.testing.assert_allclose(out[:, 19], 1.0, atol=1e-6)


def test_digits_28x28_take_mnist_from_data_when_it_is_there(tmp_path, monkeypatch, keras):
    def no_download(*args, **kwargs):
        raise AssertionError("digits_28x28 must never download")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_download)
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    assert data.digits_28x28().X_train.shape == (1347, 28, 28, 1)  # no file: the digits
    with pytest.raises(data.DatasetUnavailable, match="mnist is not available"):
        data.digits_28x28(source="mnist")
    fake_mnist(tmp_path / "mnist.npz")
    split = data.digits_28x28()  # "auto" finds the file
    assert split.X_train.shape == (6, 28, 28, 1) and split.X_test.shape == (3, 28, 28, 1)
    assert split.X_train.dtype == np.float32 and split.y_train.dtype == np.int64
    with np.load(tmp_path / "mnist.npz") as raw:
        np.testing.assert_allclose(split.X_test[..., 0] * 255, raw["x_test"], atol=1e-3)
    assert data.digits_28x28(source="digits").X_train.shape == (1347, 28, 28, 1)
    with pytest.raises(ValueError, match=r"source must be one of \['auto', 'digits', 'mnist'\], got 'cifar'"):
        data.digits_28x28(source="cifar")



# --- sequences (week 8) ----------------------------------------------------------------------------

def test_memory_task_shows_the_class_at_step_1_then_noise_and_follows_its_recipe():
    x, y = data.memory_task(2000, 30, rng=4)
    assert x.shape == (2000, 30, 2) and x.dtype == np.float64 and y.shape == (2000,) and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0, 0], 2 * y - 1)
    np.testing.assert_array_equal(x[:, :, 1], np.eye(30)[np.zeros(2000, dtype=int)])   # the marker: step 1 only
    assert abs(x[:, 1:, 0].std() - 4.0) < 0.05 and abs(x[:, 1:, 0].mean()) < 0.05 and abs(y.mean() - 0.5) < 0.05
    rng = np.random.default_rng(4)                     # the documented draws, in order
    expected_y = rng.integers(0, 2, size=2000)
    noise = rng.normal(0.0, 4.0, size=(2000, 30))
    np.testing.assert_array_equal(y, expected_y)
    np.testing.assert_array_equal(x[:, 1:, 0], noise[:, 1:])
    x1, _ = data.memory_task(3, 1, noise=0.5, rng=np.random.default_rng(0))          # T = 1: no noise at all
    assert x1.shape == (3, 1, 2) and set(np.abs(x1[:, 0, 0])) == {1.0}


def test_noisy_sine_windows_predict_the_next_value():
    x, y = data.noisy_sine(50, 12, noise=0.0, period=20.0, rng=1)
    assert x.shape == (50, 12, 1) and y.shape == (50, 1)
    steps = np.arange(13)
    for window, target in zip(x[:, :, 0], y[:, 0]):   # a clean sine of period 20: the next value continues it
        phase = np.arcsin(np.clip(window[0], -1, 1))
        candidates = [np.sin(2 * np.pi * steps / 20 + p) for p in (phase, np.pi - phase)]
        best = min(candidates, key=lambda s: np.abs(s[:12] - window).max())
        assert np.abs(best[:12] - window).max() < 1e-9 and best[12] == pytest.approx(target, abs=1e-9)
    noisy, _ = data.noisy_sine(2000, 5, noise=0.1, rng=1)
    clean, _ = data.noisy_sine(2000, 5, noise=0.0, rng=1)
    assert np.std(noisy - clean) > 0     # the same phases are not promised, but the noise shows
    assert 0.9 < np.abs(noisy).max() < 1.6


@pytest.mark.parametrize("call, error, message", [
    (lambda: data.memory_task(0, 5, rng=0), ValueError, "n must be >= 1"),
    (lambda: data.memory_task(3, 5, noise=0.0, rng=0), ValueError, "noise must be a positive number"),
    (lambda: data.noisy_sine(3, 5, noise=-1.0, rng=0), ValueError, "noise must be >= 0"),
    (lambda: data.noisy_sine(3, 2.5, rng=0), TypeError, "T must be an integer"),
])
def test_sequence_generators_check_their_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
