"""nblib: the course's small neural-network library, written to be read.

One module per topic, added week by week:

- ``activations``: activation functions, their derivatives, a name registry
- ``perceptron``: the neuron, the perceptron learning rule, multi-output forward pass
- ``losses``: stable softmax / log-softmax and the classification and regression losses
- ``mlp``: an MLP's forward pass with its cache, and backpropagation through it, in
  scikit-learn's layout (lists of weights and biases)
- ``layers``: one contract for every operation (``op_forward`` -> ``(out, cache)``,
  ``op_backward`` -> gradients), the layers that wrap them, the losses, and ``Sequential``
- ``optim``: SGD, momentum, Nesterov, RMSProp, Adam and AdamW, in Keras's conventions
- ``schedules``: learning-rate schedules (step, exponential, cosine, warm-up)
- ``training``: ``fit``, the one mini-batch training loop, with callbacks, early stopping and L2
- ``init``: weight initializers (zeros, random, LeCun, Glorot, He) with Keras's fans
- ``regularization``: L2 penalty, dropout, gradient clipping, shifted-digit augmentation
- ``norm``: batch, layer and group normalization, forward and backward
- ``conv``: 2-D convolution and pooling, as loops to read and vectorised to use
- ``recurrent``: simple RNN, LSTM and GRU cells and backpropagation through time
- ``attention``: scaled dot-product and multi-head attention (forward and backward, Keras's
  layout), masks, positional encoding and the transformer encoder block
- ``homework``: nblib's answers in the homeworks' own signatures, to stand in for a student's
  earlier exercise while a later one is tested
- ``gradcheck``: numerical gradients and relative error
- ``data``: offline datasets and train/test splits
- ``checks``: the comparisons behind the homework tests, with explanatory messages
- ``plots``, ``widgets``, ``quiz``: figures and interactive demos for the notebooks
  (import them explicitly; they pull in matplotlib and ipywidgets)

The core is plain numpy. Names are looked up in registries (``activations.get("relu")``,
``optim.get("adam")``), one canonical name per entry. Nothing here imports TensorFlow at import time.
"""

from nblib import (activations, attention, checks, conv, gradcheck, homework, init, layers, losses, mlp, norm,
                   optim, perceptron, recurrent, regularization, schedules, training)

__version__ = "0.1.0"
__all__ = ["activations", "attention", "checks", "conv", "gradcheck", "homework", "init", "layers", "losses", "mlp",
           "norm", "optim", "perceptron", "recurrent", "regularization", "schedules", "training"]
