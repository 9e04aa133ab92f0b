"""nblib.init: fan-in and fan-out by Keras's rule (by hand and against keras's compute_fans); each
initializer's statistics (standard deviation, mean, largest value, truncation bound, quantiles)
against the formula written out here and against keras.initializers on large dense and conv
kernels; the truncated normals' scale correction; reproducibility from the rng with the global
RNG untouched; the registry; bad input."""

import math

import numpy as np
import pytest

from nblib import init

DENSE, CONV = (400, 300), (3, 3, 128, 96)  # 120 000 and 110 592 values


def expected_std(name, shape):
    """The standard deviation each scheme aims at, from the papers' formulas (fans by hand)."""
    if len(shape) == 2:
        fan_in, fan_out = shape
    else:  # (KH, KW, C, M): the window times the channels
        fan_in, fan_out = shape[0] * shape[1] * shape[2], shape[0] * shape[1] * shape[3]
    variance = {"lecun": 1 / fan_in, "glorot": 2 / (fan_in + fan_out), "he": 2 / fan_in}[name.split("_")[0]]
    return math.sqrt(variance)


def keras_initializer(keras, name):
    return {
        "lecun_normal": keras.initializers.LecunNormal, "lecun_uniform": keras.initializers.LecunUniform,
        "glorot_normal": keras.initializers.GlorotNormal, "glorot_uniform": keras.initializers.GlorotUniform,
        "he_normal": keras.initializers.HeNormal, "he_uniform": keras.initializers.HeUniform,
    }[name](seed=1)


def largest_value(name, std):
    # uniform on [-a, a] has variance a^2 / 3, so a = sqrt(3) std; Keras's truncated normal is
    # drawn with stddev std / 0.8796... and cut at two of those
    return math.sqrt(3) * std if name.endswith("uniform") else 2 * std / 0.87962566103423978


# --- fans -----------------------------------------------------------------------------------------------

def test_fans_by_hand():
    assert init.fans((64, 10)) == (64, 10)  # dense (D, M)
    # a 3x3 convolution from 16 to 32 channels: each output sees 3 * 3 * 16 inputs, and each input
    # feeds 3 * 3 * 32 outputs
    assert init.fans((3, 3, 16, 32)) == (144, 288)
    assert init.fans((5, 3, 8)) == (15, 40)  # 1-D convolution (K, C, M)


@pytest.mark.parametrize("shape", [(7, 5), (3, 3, 2, 4), (5, 3, 8), (2, 3, 4, 5, 6)])
def test_fans_match_keras(shape):
    from keras.src.initializers.random_initializers import compute_fans

    assert init.fans(shape) == compute_fans(shape)


# --- statistics against the formulas and Keras --------------------------------------------------------------

SCHEMES = ["lecun_normal", "lecun_uniform", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform"]


@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
@pytest.mark.parametrize("name", SCHEMES)
def test_initializer_statistics_match_the_formula_and_keras(keras, name, shape):
    W = getattr(init, name)(shape, rng=np.random.default_rng(0))
    K = np.asarray(keras_initializer(keras, name)(shape, dtype="float64"))
    std, bound = expected_std(name, shape), largest_value(name, expected_std(name, shape))
    assert W.shape == shape and W.dtype == np.float64
    # the standard deviation is the scheme's (the truncated normals' correction included), as Keras's
    assert W.std() == pytest.approx(std, rel=0.015)
    assert K.std() == pytest.approx(std, rel=0.015)  # the formula is Keras's too
    assert abs(W.mean()) < 0.02 * std
    # nothing beyond the bound, and the bound is reached: truncation at 2 / 0.8796 std, or the limit
    assert np.abs(W).max() <= bound and np.abs(K).max() <= bound * (1 + 1e-6)
    assert np.abs(W).max() > 0.98 * bound and np.abs(K).max() > 0.98 * bound
    # the same shape of distribution: a few quantiles of both samples agree with scipy's
    # truncated normal (cut at 2 of its sigmas, sigma = std / 0.8796...) or uniform
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    expected = theoretical_quantiles(name, q)  # in units of std
    np.testing.assert_allclose(np.quantile(W, q) / std, expected, atol=0.025)
    np.testing.assert_allclose(np.quantile(K, q) / std, expected, atol=0.025)


def theoretical_quantiles(name, q):
    from scipy import stats

    if name.endswith("uniform"):
        return stats.uniform(loc=-math.sqrt(3), scale=2 * math.sqrt(3)).ppf(q)
    return stats.truncnorm(-2, 2, scale=1 / 0.87962566103423978).ppf(q)


def test_keras_normals_are_truncated_and_rescaled():
    # N(0, 1) cut at +-2 has standard deviation 0.8796...: the raw truncated normal is that much
    # narrower, and the initializers divide by it, so they do not come out 12% too small
    z = init.truncated_normal((500, 400), rng=np.random.default_rng(0), stddev=1.0)
    assert z.std() == pytest.approx(0.87962566103423978, rel=0.01)
    assert np.abs(z).max() <= 2.0
    W = init.he_normal((500, 400), rng=np.random.default_rng(0))
    assert W.std() == pytest.approx(math.sqrt(2 / 500), rel=0.01)
    # a truncated normal has lighter tails than a normal of the same std: 97.5% of it lies below
    # z sigma with Phi(z) = Phi(-2) + 0.975 (Phi(2) - Phi(-2)) = 0.0228 + 0.975 * 0.9545 = 0.9534,
    # z = 1.679 sigmas of the normal before the cut, which is 1.679 / 0.8796 = 1.908 stds of W (not 1.96)
    assert np.quantile(W, 0.975) / W.std() == pytest.approx(1.909, rel=0.02)
    # untruncated, for contrast
    U = init.variance_scaling((500, 400), rng=np.random.default_rng(0), scale=2.0, distribution="untruncated_normal")
    assert np.abs(U).max() > 4 * U.std()


def test_random_normal_and_uniform_match_keras_defaults(keras):
    shape = (300, 200)
    N = init.random_normal(shape, rng=np.random.default_rng(0))
    K = np.asarray(keras.initializers.RandomNormal(seed=1)(shape, dtype="float64"))
    assert N.std() == pytest.approx(0.05, rel=0.01) and K.std() == pytest.approx(0.05, rel=0.01)
    assert np.abs(N).max() > 4 * 0.05  # untruncated
    U = init.random_uniform(shape, rng=np.random.default_rng(0))
    KU = np.asarray(keras.initializers.RandomUniform(seed=1)(shape, dtype="float64"))
    for A in (U, KU):
        assert -0.05 <= A.min() < -0.0499 and 0.0499 < A.max() <= 0.05
        assert A.std() == pytest.approx(0.05 / math.sqrt(3), rel=0.01)
    M = init.random_normal(shape, rng=np.random.default_rng(0), mean=3.0, stddev=0.5)
    assert M.mean() == pytest.approx(3.0, abs=0.01) and M.std() == pytest.approx(0.5, rel=0.01)


def test_zeros_and_the_symmetry_it_keeps(keras):
    np.testing.assert_array_equal(init.zeros((3, 2)), np.asarray(keras.initializers.Zeros()((3, 2))))
    assert init.zeros(4).shape == (4,)


def test_variance_scaling_modes():
    # fan_out: Var = scale / fan_out; fan_avg: scale / ((in + out) / 2)
    W = init.variance_scaling((100, 900), rng=np.random.default_rng(0), scale=3.0, mode="fan_out",
                              distribution="uniform")
    assert W.std() == pytest.approx(math.sqrt(3.0 / 900), rel=0.01)
    W = init.variance_scaling((100, 900), rng=np.random.default_rng(0), mode="fan_avg")
    assert W.std() == pytest.approx(math.sqrt(1 / 500), rel=0.01)


# --- randomness ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCHEMES + ["random_normal", "random_uniform", "truncated_normal"])
def test_reproducible_from_the_rng_and_the_global_rng_untouched(name):
    state = np.random.get_state()
    f = init.get(name)
    a, b = f((20, 10), rng=np.random.default_rng(5)), f((20, 10), rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, f((20, 10), rng=np.random.default_rng(6)))
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


# --- registry -------------------------------------------------------------------------------------------------

def test_registry_names_and_aliases():
    assert set(SCHEMES) | {"zeros", "random_normal", "random_uniform", "truncated_normal", "orthogonal"} == set(init.INITIALIZERS)
    assert init.get("xavier_uniform") is init.glorot_uniform
    assert init.get("Xavier_Normal") is init.glorot_normal
    assert init.get("kaiming_normal") is init.he_normal
    with pytest.raises(ValueError, match=r"unknown initializer 'he_norml'.*Did you mean 'he_normal'"):
        init.get("he_norml")


# --- bad input ---------------------------------------------------------------------------------------------------

def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"fans needs a kernel shape \(D, M\) or \(KH, KW, C, M\), got \(5,\)"):
        init.fans((5,))
    with pytest.raises(ValueError, match=r"shape must be a tuple of positive integers, got \(3, 0\)"):
        init.he_normal((3, 0), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"positive integers, got \(3.0, 2\)"):
        init.glorot_uniform((3.0, 2), rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="shape must be a tuple"):
        init.zeros(None)


def test_bad_rng_and_options_are_named():
    with pytest.raises(TypeError, match=r"rng must be a np.random.Generator.*got int"):
        init.he_uniform((3, 2), rng=0)
    with pytest.raises(ValueError, match=r"mode must be one of \['fan_avg', 'fan_in', 'fan_out'\], got 'fan'"):
        init.variance_scaling((3, 2), rng=np.random.default_rng(0), mode="fan")
    with pytest.raises(ValueError, match=r"stddev must be a finite number >= 0, got -1"):
        init.random_normal((3, 2), rng=np.random.default_rng(0), stddev=-1)
    with pytest.raises(ValueError, match=r"minval must be <= maxval, got minval=1 and maxval=0"):
        init.random_uniform((3, 2), rng=np.random.default_rng(0), minval=1, maxval=0)
