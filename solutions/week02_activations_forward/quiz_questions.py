"""Week 2 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week02_activations_forward` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 2: activations and the forward pass", [
    Question(
        "Which of these activations has the largest derivative at $x = 0$?",
        ("sigmoid", "tanh", "softplus", "swish"),
        1,
        ("sigmoid'(0) = sigmoid(0) (1 - sigmoid(0)) = 0.5 x 0.5 = 0.25, the smallest of the four.",
         "Right: tanh'(0) = 1 - tanh(0)^2 = 1, four times the sigmoid's 0.25.",
         "softplus'(x) = sigmoid(x), so softplus'(0) = 0.5: more than the sigmoid's, less than tanh's 1.",
         "swish'(x) = sigmoid(x) + x sigmoid'(x), which is 0.5 + 0 = 0.5 at x = 0; tanh's is 1."),
    ),
    Question(
        "A batch $X$ has shape (32, 64) and a dense layer has weights $W$ of shape (64, 100) "
        "and biases $b$ of shape (100,). What is the shape of $XW + b$?",
        ("(32, 100)", "(64, 100)", "(100, 32)", "(32, 64)"),
        0,
        ("Right: (N, D) @ (D, M) -> (N, M): one row per example, one column per unit; b is added to every row.",
         "That is the shape of W. The product keeps X's rows (the 32 examples), not W's.",
         "That is the transpose: with the batch first, the examples stay the rows of the result.",
         "That is the shape of the input X; the layer turns 64 features into 100 unit outputs."),
    ),
    Question(
        "How many parameters (weights and biases) does an MLP with layer sizes 64 -> 100 -> 50 -> 10 have?",
        ("11,900", "12,060", "224", "12,124"),
        1,
        ("That counts the weights only: 6,400 + 5,000 + 500. Each layer also has one bias per unit, 160 in all.",
         "Right: (64 x 100 + 100) + (100 x 50 + 50) + (50 x 10 + 10) = 6,500 + 5,050 + 510 = 12,060.",
         "That adds up the layer sizes, 64 + 100 + 50 + 10: the number of units, not of parameters.",
         "That gives the 64 inputs biases too. The input layer computes nothing: biases belong to the "
         "100 + 50 + 10 units."),
    ),
    Question(
        "A network has five dense layers, all with the identity activation $g(z) = z$. "
        "What can it compute?",
        ("Exactly what a single linear layer XW + b can",
         "Any continuous function, if its layers are wide enough",
         "Everything a five-layer ReLU network can",
         "Only functions with f(0) = 0"),
        0,
        ("Right: (XW1 + b1)W2 + b2 = X(W1 W2) + (b1 W2 + b2), and so on for every layer: "
         "the product of the matrices is one matrix. It cannot even learn XOR.",
         "Universal approximation needs a non-polynomial activation (Leshno et al., 1993); with none at "
         "all, any width stays linear.",
         "The ReLU between the layers is what stops them from collapsing into one; remove it and the "
         "power goes with it.",
         "The biases shift the output: the collapsed layer XW + b need not pass through the origin."),
    ),
    Question(
        "During training, a ReLU unit's pre-activation $z$ becomes negative for <i>every</i> training "
        "example. What happens to it?",
        ("It outputs 0 on every example and gets zero gradient, so its weights stop changing",
         "Its gradient becomes very large and training diverges",
         "It behaves like a linear unit from then on",
         "It outputs negative values, which the next layer can still use"),
        0,
        ("Right: ReLU'(z) = 0 for z < 0, so no gradient reaches its weights: the unit is dead. "
         "Leaky ReLU or ELU keep a small slope there.",
         "The opposite: ReLU'(z) = 0 for negative z, so the gradient is zero, not large.",
         "ReLU is linear only for positive input; on negative input it is constant 0.",
         "ReLU never outputs negative values: max(0, z) = 0 for every negative z. Leaky ReLU would."),
    ),
    Question(
        "A gradient flows back through 10 sigmoid layers and is multiplied by each layer's sigmoid "
        "derivative. Ignoring the weights, what is the largest factor these 10 derivatives can multiply it by?",
        ("0.25^10 ≈ 9.5 × 10^-7", "0.25 × 10 = 2.5", "0.25", "1"),
        0,
        ("Right: sigmoid' is at most 1/4 (at z = 0), and the 10 factors multiply: "
         "0.25^10 is about a millionth. That is the vanishing gradient.",
         "The chain rule multiplies the layers' derivatives; it does not add them.",
         "That is the most a single sigmoid layer lets through; ten layers multiply ten such factors.",
         "That would need a derivative of 1, like tanh'(0); sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)) is never above 0.25."),
    ),
    Question(
        "Which activation is zero-centred with output range $(-1, 1)$?",
        ("sigmoid", "tanh", "ReLU", "ELU with α = 1"),
        1,
        ("The sigmoid's range is (0, 1): always positive, with sigmoid(0) = 0.5.",
         "Right: tanh(z) = 2 sigmoid(2z) - 1 runs from -1 to 1 and tanh(0) = 0.",
         "ReLU's range is [0, infinity): no negative outputs at all.",
         "ELU's outputs are above -1 but unbounded above: its range is (-1, infinity)."),
    ),
    Question(
        "What does the universal approximation theorem <i>not</i> promise?",
        ("That gradient descent will find weights that approximate the function",
         "That one hidden layer suffices for any continuous function on a closed, bounded interval",
         "That the error can be made smaller than any tolerance you choose",
         "That a finite number of hidden units is enough for a given tolerance"),
        0,
        ("Right: the theorem says good weights exist; it says nothing about training finding them, "
         "nor how many units it takes, nor how well the network generalises.",
         "That is exactly what it promises: one hidden layer, with a non-polynomial activation such as "
         "the sigmoid or ReLU, is enough.",
         "It does promise this: for every tolerance epsilon > 0 some network is within epsilon everywhere.",
         "It does promise finitely many units for each tolerance; it does not say how many, and it can be a lot."),
    ),
    Question(
        "Which describes <code>MLPClassifier(hidden_layer_sizes=(100, 50))</code> trained on the 64-pixel "
        "digits (10 classes)?",
        ("Feed-forward, depth 2: hidden_layer_sizes lists two layers",
         "Feed-forward, depth 3: each layer reads only the previous layer's output, and three layers have weights",
         "Feed-forward, depth 4: input, two hidden layers and output",
         "Recurrent, depth 3: each layer also reads its own output from the step before"),
       1,
        ("hidden_layer_sizes lists only the hidden layers; the output layer of 10 units has weights too, "
         "so three layers have weights.",
         "Right: 64 -> 100 -> 50 -> 10 has three weight matrices, (64, 100), (100, 50) and (50, 10), and "
         "information flows one way, input to output, with no loops.",
         "The input layer computes nothing and has no weights: depth counts the layers with weights, three here.",
         "An MLP has no loops: no layer reads its own or a later layer's output. Networks with such loops are "
         "recurrent (week 8)."),
    ),
    Question(
        "A PReLU unit has slope $a = 0.25$ for negative inputs. What does it output for $z = -2$, "
        "and what sets $a$?",
        ("-0.5; a is fixed by hand before training",
         "0; like ReLU, it outputs 0 for every negative input",
         "-0.5; a is learned in training, like the weights",
         "-0.02; the slope for negative inputs is always 0.01"),
       2,
        ("The value is right, but a slope fixed by hand is leaky ReLU; PReLU learns its slope in training.",
         "That is ReLU, which is PReLU with a = 0. With a = 0.25 the output is 0.25 x (-2) = -0.5.",
         "Right: PReLU(z) = a z = 0.25 x (-2) = -0.5 for z < 0. The P is for parametric: a is a parameter "
         "(a weight of keras.layers.PReLU, one per unit by default), moved by its gradient, z for z < 0.",
         "0.01 is leaky ReLU's usual fixed slope. This unit's slope is a = 0.25, so it outputs -0.5."),
    ),
    Question(
        "You build a Keras model with <code>keras.Sequential([...])</code>. Which call chooses its "
        "optimizer, loss and metrics, before any training?",
        ("model.compile(optimizer=..., loss=..., metrics=[...])",
         "keras.Sequential([...]) itself",
         "model.fit(X_train, y_train, epochs=...)",
         "model.evaluate(X_test, y_test)"),
        0,
        ("Right: the order is Sequential (the layers) -> compile (optimizer, loss, metrics) -> fit (train for "
         "some epochs) -> evaluate or predict.",
         "Sequential only defines the architecture: the list of layers, applied in order. How to train it "
         "is chosen by compile.",
         "fit trains with the optimizer and loss that compile chose; calling fit before compile raises "
         "\"You must call `compile()` before using the model.\"",
         "evaluate reports the loss and metrics on data after training; they were chosen earlier, in compile."),
    ),
    Question(
        "The lecture's recipe runs <code>make_classification</code> -> <code>train_test_split</code> -> "
        "<code>StandardScaler</code> -> <code>MLPClassifier</code>. Where should the scaler learn its "
        "means and standard deviations?",
        ("On the whole data set, before the split",
         "On the training set only; the same numbers then scale the test set too",
         "On the test set, since that is the set being scored",
         "On each set separately, each with its own means and standard deviations"),
        1,
        ("Then the test set's statistics leak into training, and the test accuracy no longer measures "
         "how the model does on data it has never seen.",
         "Right: fit on the training set, transform both. make_pipeline(StandardScaler(), MLPClassifier(...)) "
         "does exactly that in fit and in score.",
         "The test set must play no part in training, scaling included; otherwise its score is optimistic.",
         "Then one raw value would become different inputs in training and in testing: the test data would "
         "reach the network on a scale it was not trained on. Use the training statistics for both."),
    ),
    Question(
        "An <code>MLPRegressor</code> scores $R^2 = 0$ on its test set. What does that mean?",
        ("Every prediction is exactly right",
         "Every prediction is wrong by 100%",
         "Its squared error on the test set is 0",
         "It predicts no better than guessing the mean of the test targets every time"),
        3,
        ("That would be R^2 = 1, the best possible score.",
         "R^2 is not a percentage error: 0 means the squared error equals that of the constant guess, the mean.",
         "A squared error of 0 gives R^2 = 1 - 0 = 1, not 0.",
         "Right: R^2 = 1 - (squared error) / (squared error of predicting the mean), so R^2 = 0 means the "
         "two are equal. A model worse than the mean scores below 0."),
    ),
])
