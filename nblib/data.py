"""Datasets for the course, all available offline.

- Truth tables: ``logic_gate("xor")``.
- scikit-learn's bundled sets, split and scaled: ``digits()`` (8x8 images, 10 classes),
  ``iris()``, ``breast_cancer()``.
- Generated 2-D sets with a fixed seed: ``linearly_separable()``, ``blobs()``, ``moons()``,
  ``circles()``.
- MNIST / Fashion-MNIST (28x28), optional: from ``data/<kind>.npz`` or Keras' downloader.
- 28x28 digit images for CNNs, offline: ``digits_28x28()``, the 8x8 digits enlarged and
  shifted, or MNIST when ``data/mnist.npz`` is there (never downloaded).
- Sequences: ``memory_task()``, a long-dependency task (the class is shown at step 1 of T,
  then only noise); ``noisy_sine()``, windows of a noisy sine wave for next-step prediction.

Splits come back as a :class:`Split`, which unpacks like scikit-learn's ``train_test_split``:
``X_train, X_test, y_train, y_test = digits()``. Features are float64 (MNIST: float32),
labels int64, shapes (N, D) and (N,).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn import datasets as _sk
from sklearn.model_selection import train_test_split

from nblib._reference import reference
from nblib._validation import as_labels, as_matrix, check_choice, check_int, check_positive

__all__ = [
    "Split", "split", "standardize", "logic_gate", "LOGIC_GATES", "digits", "iris", "breast_cancer",
    "linearly_separable", "blobs", "moons", "circles", "mnist", "DatasetUnavailable", "DATA_DIR",
    "digits_28x28", "resample_digits", "memory_task", "noisy_sine",
]

# The repository's data/ folder; override with the NBLIB_DATA_DIR environment variable.
DATA_DIR = Path(os.environ.get("NBLIB_DATA_DIR", Path(__file__).resolve().parents[1] / "data"))


@dataclass(frozen=True)
class Split:
    """A train/test split. Unpacks as ``X_train, X_test, y_train, y_test``."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    def __iter__(self):
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))

    def __repr__(self) -> str:
        return (
            f"Split(X_train {self.X_train.shape}, X_test {self.X_test.shape}, "
            f"y_train {self.y_train.shape}, y_test {self.y_test.shape})"
        )


def split(X, y, *, test_size: float = 0.25, seed: int = 0, stratify: bool = True) -> Split:
    """Shuffle and split into train and test parts, keeping class proportions (stratified)."""
    X = np.asarray(X)
    y = as_labels(y, "y", length=len(X))
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size!r}")
    parts = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y if stratify else None)
    return Split(*parts)


def standardize(X_train, X_test):
    """Scale features to mean 0, standard deviation 1 using the *training* statistics only.

    Returns
    -------
    X_train_scaled, X_test_scaled : ndarray
        Constant features (std 0) are centred but not divided.
    """
    X_train = as_matrix(X_train, "X_train")
    X_test = as_matrix(X_test, "X_test", n_cols=X_train.shape[1])
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_test - mean) / std


# --- truth tables ------------------------------------------------------------------------------

LOGIC_GATES = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
    "xor": [0, 1, 1, 0],
}


def logic_gate(name: str):
    """The truth table of a two-input gate.

    Returns
    -------
    X : ndarray, shape (4, 2)
        Rows (0, 0), (0, 1), (1, 0), (1, 1) as floats.
    y : ndarray of int, shape (4,)
        The gate's output for each row.
    """
    check_choice(name, "name", LOGIC_GATES)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    return X, np.array(LOGIC_GATES[name], dtype=np.int64)


# --- scikit-learn's bundled datasets -----------------------------------------------------------

def digits(*, test_size: float = 0.25, seed: int = 0) -> Split:
    """scikit-learn's 1,797 handwritten digits: X (N, 64) pixel values scaled to [0, 1], y in 0..9.

    Each row is an 8x8 image flattened row by row; ``X[i].reshape(8, 8)`` shows it.
    """
    bunch = _sk.load_digits()
    return split(bunch.data / 16.0, bunch.target, test_size=test_size, seed=seed)


def iris(*, test_size: float = 0.25, seed: int = 0, scale: bool = True) -> Split:
    """Fisher's 150 irises: X (N, 4) in cm (standardized when ``scale``), y in 0..2."""
    bunch = _sk.load_iris()
    return _scaled(split(bunch.data, bunch.target, test_size=test_size, seed=seed), scale)


def breast_cancer(*, test_size: float = 0.25, seed: int = 0, scale: bool = True) -> Split:
    """569 tumour measurements: X (N, 30) (standardized when ``scale``), y = 1 for benign."""
    bunch = _sk.load_breast_cancer()
    return _scaled(split(bunch.data, bunch.target, test_size=test_size, seed=seed), scale)


def _scaled(parts: Split, scale: bool) -> Split:
    if not scale:
        return parts
    X_train, X_test = standardize(parts.X_train, parts.X_test)
    return Split(X_train, X_test, parts.y_train, parts.y_test)


# --- generated 2-D datasets -------------------------------------------------------------------

def linearly_separable(n: int = 100, *, margin: float = 0.3, seed: int = 0):
    """Points in [-1, 1]^2 on either side of a random line, none closer to it than ``margin``.

    Guaranteed separable, so the perceptron is guaranteed to converge.

    Returns
    -------
    X : ndarray, shape (n, 2)
    y : ndarray of int, shape (n,)
        1 on the side the line's normal points to, else 0.
    """
    n = check_int(n, "n", minimum=2)
    margin = check_positive(margin, "margin")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)])
    offset = rng.uniform(-0.3, 0.3)
    points = []
    while len(points) < n:
        candidates = rng.uniform(-1, 1, size=(4 * n, 2))
        distance = candidates @ normal + offset  # signed distance to the line (|normal| = 1)
        points.extend(candidates[np.abs(distance) >= margin])
    X = np.array(points[:n])
    y = (X @ normal + offset > 0).astype(np.int64)
    if y.min() == y.max():  # both classes must appear
        return linearly_separable(n, margin=margin, seed=seed + 1)
    return X, y


def blobs(n: int = 200, *, centers: int = 2, std: float = 1.0, n_features: int = 2, seed: int = 0):
    """Gaussian clusters: X (n, n_features), y in 0..centers-1 (``sklearn.datasets.make_blobs``)."""
    X, y = _sk.make_blobs(n_samples=n, centers=centers, cluster_std=std, n_features=n_features, random_state=seed)
    return X, y.astype(np.int64)


def moons(n: int = 200, *, noise: float = 0.2, seed: int = 0):
    """Two interleaving half-circles: not linearly separable (``make_moons``)."""
    X, y = _sk.make_moons(n_samples=n, noise=noise, random_state=seed)
    return X, y.astype(np.int64)


def circles(n: int = 200, *, noise: float = 0.1, factor: float = 0.5, seed: int = 0):
    """A ring around a disc: class 1 inside, not linearly separable (``make_circles``)."""
    X, y = _sk.make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    return X, y.astype(np.int64)


# --- MNIST (optional) --------------------------------------------------------------------------

class DatasetUnavailable(FileNotFoundError):
    """The dataset is neither in data/ nor downloadable right now."""


def mnist(*, kind: str = "mnist", path=None, download: bool = True) -> Split:
    """MNIST or Fashion-MNIST: 70,000 28x28 grey images in 10 classes.

    Looks for ``path`` (default ``data/<kind>.npz``: the file Keras downloads, with arrays
    x_train, y_train, x_test, y_test); otherwise, when ``download`` is true, uses
    ``keras.datasets.<kind>.load_data()``, which needs the internet once and then caches.

    Returns
    -------
    Split
        X_train (60000, 28, 28) and X_test (10000, 28, 28), float32 in [0, 1];
        y_train (60000,) and y_test (10000,), int64.

    Raises
    ------
    DatasetUnavailable
        Offline with no file: the message says where to put one.
    """
    check_choice(kind, "kind", ("mnist", "fashion_mnist"))
    file = Path(path) if path is not None else DATA_DIR / f"{kind}.npz"
    if file.exists():
        with np.load(file) as arrays:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays.files)
            if missing:
                raise ValueError(f"{file} must hold arrays x_train, y_train, x_test, y_test; missing {sorted(missing)}")
            parts = (arrays["x_train"], arrays["x_test"], arrays["y_train"], arrays["y_test"])
    elif download:
        parts = _download(kind, file)
    else:
        raise DatasetUnavailable(_unavailable_message(kind, file, "downloading is switched off (download=False)"))
    x_train, x_test, y_train, y_test = parts
    return Split(_images(x_train), _images(x_test), y_train.astype(np.int64), y_test.astype(np.int64))


def _download(kind: str, file: Path):
    try:
        import keras  # imported here: nblib never imports TensorFlow/Keras at import time

        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, kind).load_data()
    except Exception as error:  # offline, proxy, corrupt cache...: all mean "not available"
        raise DatasetUnavailable(_unavailable_message(kind, file, f"the download failed ({error})")) from error
    return x_train, x_test, y_train, y_test


def _unavailable_message(kind: str, file: Path, reason: str) -> str:
    return (
        f"{kind} is not available: there is no file at {file} and {reason}. "
        f"To use it offline, make the file once on a machine with internet access "
        f"(data/README.md shows the one-line command) and copy it to {file}; "
        f"or use nblib.data.digits(), which is bundled with scikit-learn."
    )


def _images(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"images must have shape (N, 28, 28), got {x.shape}")
    return (x / 255.0).astype(np.float32) if x.dtype == np.uint8 else x.astype(np.float32)


# --- 28x28 digit images for convolutional networks ------------------------------------------------

def digits_28x28(*, source: str = "auto", test_size: float = 0.25, seed: int = 0, max_shift: int = 4) -> Split:
    """28x28 handwritten digits as images (N, 28, 28, 1) for a CNN, offline.

    ``source="digits"``: scikit-learn's 1,797 8x8 digits (:func:`digits`), each enlarged to
    20x20 by bilinear interpolation and placed in a 28x28 black canvas, centred and then moved
    by a random shift of up to ``max_shift`` pixels in each direction (:func:`resample_digits`,
    shifts drawn from ``np.random.default_rng(seed)``). MNIST's digits are likewise about
    20x20 in a 28x28 frame, but these keep the 8x8 originals' blockiness: no new detail is
    made up. The split is :func:`digits`'s with the same ``test_size`` and ``seed``, so
    ``y_train`` equals ``digits().y_train`` and ``X_train[i]`` is ``digits().X_train[i]`` enlarged.

    ``source="mnist"``: the real MNIST from ``data/mnist.npz`` (:data:`DATA_DIR`; the file Keras
    downloads, as data/README.md shows: a NumPy ``.npz`` with uint8 arrays x_train (60000, 28, 28),
    y_train (60000,), x_test (10000, 28, 28), y_test (10000,)), with its own fixed split
    (``test_size``, ``seed`` and ``max_shift`` do not apply). Never downloaded: without the
    file this raises :class:`DatasetUnavailable`.

    ``source="auto"`` (the default): MNIST if ``data/mnist.npz`` exists, else the digits.

    Returns
    -------
    Split
        X_train (N_train, 28, 28, 1) and X_test (N_test, 28, 28, 1), float32 in [0, 1], ink
        bright on black; y_train and y_test int64 in 0..9. Digits: 1,347 and 450 images.

    Examples
    --------
    >>> X_train, X_test, y_train, y_test = digits_28x28(source="digits")
    >>> X_train.shape, X_test.shape, X_train.dtype, bool((y_test == digits().y_test).all())
    ((1347, 28, 28, 1), (450, 28, 28, 1), dtype('float32'), True)
    """
    check_choice(source, "source", ("auto", "digits", "mnist"))
    if source == "mnist" or (source == "auto" and (DATA_DIR / "mnist.npz").exists()):
        parts = mnist(download=False)
        return Split(parts.X_train[..., None], parts.X_test[..., None], parts.y_train, parts.y_test)
    bunch = _sk.load_digits()
    images = resample_digits(bunch.images / 16.0, max_shift=max_shift, rng=np.random.default_rng(seed))
    return split(images, bunch.target, test_size=test_size, seed=seed)


def resample_digits(images, *, max_shift: int = 4, rng: np.random.Generator) -> np.ndarray:
    """8x8 images (N, 8, 8) -> 28x28 images (N, 28, 28, 1): enlarged to 20x20, then shifted.

    Each image is enlarged by bilinear interpolation with half-pixel centres, as
    ``tf.image.resize(..., (20, 20), "bilinear")`` does: output pixel i samples the input at
    (i + 0.5) * 8 / 20 - 0.5, clamped to the edge. It is then placed at rows and columns
    4 + dy and 4 + dx of a zero canvas, dy and dx drawn uniformly from -max_shift..max_shift.

    Parameters
    ----------
    images : array_like, shape (N, 8, 8)
    max_shift : int
        0 to 4 (a 20x20 image fits in 28x28 with 4 pixels to spare on each side).
    rng : np.random.Generator
        Draws the shifts, two integers per image.

    Returns
    -------
    ndarray of float32, shape (N, 28, 28, 1)

    Examples
    --------
    >>> out = resample_digits(np.ones((1, 8, 8)), max_shift=0, rng=np.random.default_rng(0))
    >>> out.shape, out.sum(), out[0, 4:24, 4:24, 0].min()       # a 20x20 square of ones
    ((1, 28, 28, 1), np.float32(400.0), np.float32(1.0))
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"images must have shape (N, 8, 8), got shape {images.shape}")
    max_shift = check_int(max_shift, "max_shift")
    if max_shift > 4:
        raise ValueError(f"max_shift must be at most 4 (20 + 2 * 4 = 28), got {max_shift}")
    A = _bilinear_matrix(8, 20)                                   # (20, 8)
    big = np.einsum("ip,npq,jq->nij", A, images, A)               # (20, 8) (N, 8, 8) (20, 8) -> (N, 20, 20)
    shifts = 4 + rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))
    canvas = np.zeros((len(images), 28, 28, 1), dtype=np.float32)
    for image, (dy, dx), out in zip(big, shifts, canvas):
        out[dy:dy + 20, dx:dx + 20, 0] = image
    return np.clip(canvas, 0.0, 1.0)


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in): row i holds the weights of bilinear interpolation at (i + 0.5) * n_in / n_out - 0.5."""
    position = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    below = np.floor(position)
    weight = position - below                                     # how far past the cell below
    lower = np.clip(below, 0, n_in - 1).astype(int)
    upper = np.clip(below + 1, 0, n_in - 1).astype(int)
    A = np.zeros((n_out, n_in))
    np.add.at(A, (np.arange(n_out), lower), 1.0 - weight)
    np.add.at(A, (np.arange(n_out), upper), weight)
    return A


# --- sequences ----------------------------------------------------------------------------------

@reference
def memory_task(n: int, T: int, *, noise: float = 4.0, rng) -> tuple[np.ndarray, np.ndarray]:
    """A long-dependency task: the class is shown at the first of T steps, then only noise.

    Each of the ``n`` sequences has two features per step. Feature 0 is noise drawn from
    N(0, noise^2), except at step 1, where it is +1 for class 1 and -1 for class 0; feature 1 is
    a marker, 1 at step 1 and 0 after it. A network that reads the whole sequence and answers
    at the end must carry one bit across T - 1 steps of noise that is larger than the signal.

    The draws, in this order: ``y = rng.integers(0, 2, size=n)``, then
    ``rng.normal(0.0, noise, size=(n, T))`` for feature 0 (its first column is overwritten).

    Parameters
    ----------
    n : int
        Sequences.
    T : int
        Steps per sequence, at least 1.
    noise : float
        The standard deviation of the distractors.
    rng : int or np.random.Generator

    Returns
    -------
    x : ndarray of float64, shape (n, T, 2)
    y : ndarray of int64, shape (n,)
        The class, 0 or 1.

    Week 8's homework asks for this function (``@reference``: switched off while it is tested).

    Example
    -------
    >>> x, y = memory_task(4, 5, rng=0)
    >>> x.shape, y.tolist(), x[:, 0, 0].tolist(), x[:, :, 1].sum(axis=1).tolist()
    ((4, 5, 2), [1, 1, 1, 0], [1.0, 1.0, 1.0, -1.0], [1.0, 1.0, 1.0, 1.0])
    """
    n, T = check_int(n, "n", minimum=1), check_int(T, "T", minimum=1)
    noise = check_positive(noise, "noise")
    rng = np.random.default_rng(rng)
    y = rng.integers(0, 2, size=n)                       # (n,)
    x = np.zeros((n, T, 2))
    x[:, :, 0] = rng.normal(0.0, noise, size=(n, T))     # (n, T): the distractors
    x[:, 0, 0] = 2 * y - 1                               # step 1: the class, as -1 or +1
    x[:, 0, 1] = 1.0                                     # step 1: the marker
    return x, y.astype(np.int64)


def noisy_sine(n: int, T: int, *, noise: float = 0.1, period: float = 25.0, rng) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a noisy sine wave and the value that follows each: next-step prediction.

    Each window starts at a random phase: ``s_t = sin(2 pi (t + t0) / period) + e_t`` with
    ``e_t ~ N(0, noise^2)``, t = 0..T; the input is s_0..s_{T-1}, the target s_T.

    Parameters
    ----------
    n, T : int
        Windows, and steps per window.
    noise : float
        The standard deviation of the noise (0 for a clean sine).
    period : float
        Steps per period.
    rng : int or np.random.Generator

    Returns
    -------
    x : ndarray of float64, shape (n, T, 1)
    y : ndarray of float64, shape (n, 1)

    Example
    -------
    >>> x, y = noisy_sine(4, 10, noise=0.0, rng=0)
    >>> x.shape, y.shape, bool(np.all(np.abs(x) <= 1))
    ((4, 10, 1), (4, 1), True)
    """
    n, T = check_int(n, "n", minimum=1), check_int(T, "T", minimum=1)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    period = check_positive(period, "period")
    rng = np.random.default_rng(rng)
    start = rng.uniform(0.0, period, size=(n, 1))                       # (n, 1): a random phase
    s = np.sin(2 * np.pi * (np.arange(T + 1) + start) / period)         # (n, T + 1)
    s = s + rng.normal(0.0, noise, size=s.shape) if noise else s
    return s[:, :T, None], s[:, T:]
