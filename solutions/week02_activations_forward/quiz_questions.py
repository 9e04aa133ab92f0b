"""Week 2 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week02_activations_forward` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 2: activations and the forward pass", [
    Question(
        "Which of these statements about GELU, swish and SELU is true?",
        ("GELU and swish never output a negative number, like ReLU",
         "GELU has a kink at 0, like ReLU",
         "SELU's slope for negative inputs is learned in training, like PReLU's",
         "SELU's fixed constants (λ ≈ 1.0507, α ≈ 1.6733) keep activations near mean 0 and variance 1 "
         "from layer to layer, given weights of variance 1/D"),
        3,
        ("Both dip slightly below zero before they rise: GELU to about -0.17, swish to about -0.28 "
         "(the lesson's table and its 'min f' column).",
         "GELU(x) = x Φ(x) is smooth everywhere: it is a smooth version of ReLU, like softplus and swish.",
         "SELU's λ and α are constants fixed by Klambauer et al. (2017); a learned negative-side slope is PReLU.",
         "Right: the lesson sent standard-normal data through 30 such layers: SELU's activations kept mean "
         "about 0 and standard deviation about 1, while ReLU's faded to almost nothing and tanh's shrank."),
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
        "The lecture's classification recipe puts a <code>StandardScaler</code> before "
        "<code>MLPClassifier</code>; its regression example scores an <code>MLPRegressor</code> by $R^2$. "
        "Where should the scaler learn its means and standard deviations, and what does a test score "
        "of $R^2 = 0$ mean?",
        ("On the whole data set, before the split; R² = 0: every prediction is exactly right",
         "On the training set only, and the same numbers scale the test set; R² = 0: no better than "
         "always predicting the mean of the test targets",
         "On the training set only, and the same numbers scale the test set; R² = 0: every prediction "
         "is wrong by 100%",
         "On each set separately, with its own means and standard deviations; R² = 0: no better than "
         "always predicting the mean"),
        1,
        ("Fitting the scaler on all the data lets the test set's statistics leak into training; and "
         "R² = 1, not 0, is a perfect fit.",
         "Right: fit on the training set, transform both (make_pipeline(StandardScaler(), MLPClassifier(...)) "
         "does exactly that in fit and in score). R² = 1 - (squared error) / (squared error of predicting "
         "the mean), so 0 means the two are equal; a model worse than the mean scores below 0.",
         "The scaler is right, but R² is not a percentage error: 0 means the squared error equals that of "
         "the constant guess, the mean.",
         "R² is right, but then one raw value becomes different inputs in training and in testing: the test "
         "data reach the network on a scale it was not trained on. Use the training statistics for both."),
    ),
    Question(
        "The lecture deck's three snippets differ only in <code>MLPClassifier(activation=...)</code>: "
        "<code>'logistic'</code>, <code>'tanh'</code> or <code>'relu'</code>. What is <code>'logistic'</code>, "
        "and how does <code>'tanh'</code> differ from it?",
        ("The sigmoid, with range (0, 1); tanh is the same curve made four times steeper, with the same range",
         "The logistic-regression loss; tanh is a loss for targets in (-1, 1)",
         "The sigmoid, with range (0, 1); tanh has range (-1, 1) and is zero-centred: tanh(z) = 2σ(2z) - 1",
         "The sigmoid, with range (-1, 1); tanh is its version with range (0, 1)"),
        2,
        ("tanh's slope at 0 is 1, four times the sigmoid's 0.25, but its range is (-1, 1), not (0, 1): "
         "it is zero-centred.",
         "activation= chooses the hidden units' function, not the loss; MLPClassifier always trains on "
         "cross-entropy (log-loss).",
         "Right: 'logistic' is scikit-learn's name for the sigmoid, always positive with sigmoid(0) = 0.5; "
         "tanh runs from -1 to 1 with tanh(0) = 0. Either sets the hidden layers only; the output "
         "activation follows from the task.",
         "The other way round: the sigmoid's range is (0, 1), tanh's is (-1, 1)."),
    ),
    Question(
        "The deck says ReLU \"speeds up the calculations up to 6x compared to tanh\". What did "
        "Krizhevsky et al. (2012) measure, and what did the lesson's experiment on the digits find?",
        ("The paper: ReLU's formula is 6 times cheaper to evaluate; the lesson: the same 6 times, in epochs too",
         "The paper: a deep convolutional network on CIFAR-10 reached 25% training error in 6 times fewer "
         "epochs with ReLU; the lesson: ReLU cheaper to evaluate, but tanh reached the target loss in fewer epochs",
         "The paper: ReLU always needs 6 times fewer epochs than tanh, in any network; the lesson confirmed it",
         "The paper: tanh trains 6 times faster than ReLU; the lesson: the same"),
        1,
        ("The paper counted epochs to a training error, not the cost of the function; and in the lesson "
         "ReLU did not need fewer epochs than tanh with any seed.",
         "Right: the 6x is one measurement of one network on one data set. In the lesson max(0, z) was "
         "cheaper than tanh to compute, but our four-layer MLP reached a training loss of 0.25 in fewer "
         "epochs with tanh for all three seeds. Measure on your own problem.",
         "The paper reports one experiment, not a law, and the lesson found the opposite order on the digits.",
         "The paper found ReLU faster: its Figure 1 shows ReLU reaching 25% training error six times sooner."),
    ),
    Question(
        "A sawtooth with 1,024 straight pieces on $[0, 1]$ is computed exactly by 10 hidden layers of 2 ReLU "
        "units each (61 parameters). How many ReLU units does a network with <i>one</i> hidden layer need "
        "for it, and what does the universal approximation theorem say about that?",
        ("20, the same units in one layer: the theorem says width and depth are interchangeable",
         "None will do: the theorem covers only smooth functions, and a sawtooth has kinks",
         "At least 1,023, and the theorem promises that gradient descent finds those weights",
         "At least 1,023, since each unit bends the output at one point only; the theorem says one "
         "hidden layer can approximate it, not how many units that takes or how to find them"),
        3,
        ("20 units in one layer make at most 21 pieces. The theorem says nothing about the number of units.",
         "The theorem covers every continuous function on a closed, bounded set, kinks included; the "
         "lesson even builds the one-layer network for the sawtooth with 16 pieces exactly.",
         "The count is right, but the theorem only says good weights exist; it says nothing about training.",
         "Right: H units of one layer make at most H + 1 pieces, so 1,024 pieces need 1,023 units or more "
         "(over 3,000 parameters, against the deep network's 61). The theorem guarantees that a wide "
         "enough layer exists, not how wide, nor that training reaches it."),
    ),
])
