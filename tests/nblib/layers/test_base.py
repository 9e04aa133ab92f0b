"""nblib.layers._base: the Layer contract every layer class follows, shown on a small layer
written here and checked on Dense, Activation and Flatten."""

import numpy as np
import pytest

from nblib import layers


class Affine1(layers.Layer):
    """out = a * x + c elementwise with scalar parameters, written here for the contract's sake."""

    def __init__(self, a, c):
        super().__init__()
        self.params = {"a": np.array(a), "c": np.array(c)}

    def _forward(self, x):
        return self.params["a"] * x + self.params["c"], x

    def _backward(self, dout, x):
        # d/dx = a dout; d/da = sum(dout * x); d/dc = sum(dout), in the order of params
        return self.params["a"] * dout, np.sum(dout * x), np.sum(dout)


def test_a_new_layer_trains_and_holds_empty_dicts():
    layer = layers.Layer()
    assert layer.training is True
    assert layer.params == {} and layer.grads == {} and layer.state == {}
    with pytest.raises(NotImplementedError):
        layer.forward(np.ones((2, 2)))


def test_backward_fills_grads_by_the_keys_of_params():
    # a = 2, c = 5 on x = (1, 3) with dout = (10, 100): dx = (20, 200), da = 10 + 300, dc = 110
    layer = Affine1(2.0, 5.0)
    np.testing.assert_array_equal(layer.forward(np.array([1.0, 3.0])), [7.0, 11.0])
    np.testing.assert_array_equal(layer.backward(np.array([10.0, 100.0])), [20.0, 200.0])
    assert list(layer.grads) == ["a", "c"]
    assert layer.grads["a"] == 310.0 and layer.grads["c"] == 110.0


@pytest.mark.parametrize("layer", [layers.Dense(3, 2, rng=np.random.default_rng(0)), layers.Activation("relu"),
                                   layers.Flatten(), Affine1(1.0, 0.0)], ids=repr)
def test_backward_before_forward_raises(layer):
    with pytest.raises(RuntimeError, match="call forward before backward"):
        layer.backward(np.ones((2, 2)))
