"""Week 1 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week01_perceptron` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 1: the perceptron", [
    Question(
        "The lecture's neuron has bias $w_0 = 1$ and weights $W = (5, -3)$. "
        "What is the weighted sum $z$ for the input $X = (-3, 2)$?",
        ("-20", "-21", "10", "2.06e-9"),
        0,
        ("Right: z = 1 + 5(-3) + (-3)(2) = 1 - 15 - 6 = -20.",
         "That is W . X = -15 - 6 without the bias. Add w0 = 1.",
         "Check the signs: 5 times -3 is -15 and -3 times 2 is -6.",
         "That is sigmoid(z), the neuron's output, not the weighted sum z."),
    ),
    Question(
        "In the perceptron learning rule $w \\leftarrow w + \\eta\\,(t - \\hat y)\\,x$, "
        "what happens when the prediction $\\hat y$ is already correct?",
        ("Nothing changes", "The weights of the active inputs grow",
         "The learning rate shrinks", "The weights are reset to zero"),
        0,
        ("Right: t - y_hat = 0, so the update is zero. The perceptron learns only from mistakes.",
         "That happens after a mistake where the target was 1 and the prediction 0.",
         "The rule has a fixed learning rate; nothing in it changes eta.",
         "Nothing in the rule resets the weights; they only move after mistakes."),
    ),
    Question(
        "Which of these two-input gates can a single perceptron <i>not</i> compute?",
        ("AND", "OR", "NAND", "XOR"),
        3,
        ("AND is separable: w = (1, 1), b = -1.5 works.",
         "OR is separable: w = (1, 1), b = -0.5 works.",
         "NAND is separable: w = (-1, -1), b = 1.5 works.",
         "Right: XOR's two 1s sit on opposite corners; no single line puts them on one side and the 0s on the other."),
    ),
    Question(
        "You train a perceptron on data that a line <i>can</i> separate. "
        "What happens to the number of mistakes per epoch?",
        ("It reaches 0 after a finite number of epochs", "It decreases but never reaches 0",
         "It is 0 from the first epoch", "It oscillates forever"),
        0,
        ("Right: the perceptron convergence theorem (Novikoff, 1962) bounds the total number of mistakes.",
         "That is typical of gradient descent on a smooth loss, not of the perceptron on separable data.",
         "Only if the starting weights happen to separate the data already.",
         "That is what happens on XOR, where no separating line exists."),
    ),
    Question(
        "For a perceptron with two inputs, weights $(w_1, w_2)$ and bias $b$, "
        "what shape is the decision boundary?",
        ("The line w₁x₁ + w₂x₂ + b = 0", "A circle around the origin",
         "A parabola", "The points where the sigmoid equals 1"),
        0,
        ("Right: the prediction flips where z = 0, and z is linear in x.",
         "A circle needs squared terms such as x1^2, which a single neuron does not have.",
         "A parabola needs a squared term too.",
         "The sigmoid never equals 1; the boundary is where it equals 0.5, i.e. z = 0."),
    ),
    Question(
        "Why do networks trained by gradient descent use the sigmoid (or ReLU, and the like) instead of the step?",
        ("The step's derivative is 0 wherever it exists, so gradients carry no information",
         "The sigmoid is faster to compute", "The sigmoid outputs only 0 or 1",
         "The step function cannot be applied to arrays"),
        0,
        ("Right: gradient descent needs to know which way to nudge each weight; a flat step says nothing. "
         "Smoothness is not the point: ReLU has a corner at 0 and trains well, since its slope is 1 for z > 0.",
         "The step is cheaper; the reason is its derivative.",
         "That describes the step; the sigmoid outputs values in (0, 1).",
         "np.where(z >= 0, 1, 0) applies it to a whole array at once."),
    ),
    Question(
        "A multi-output perceptron maps 4 inputs to 3 outputs. How many parameters does it have?",
        ("12", "15", "7", "16"),
        1,
        ("That counts the weights W (4 x 3) but not the 3 biases.",
         "Right: W has 4 x 3 = 12 weights and b has 3 biases.",
         "That adds the inputs and outputs; parameters connect every input to every output.",
         "That would be (4 + 1) x 3 + 1; there is one bias per output, not an extra one."),
    ),
    Question(
        "Training starts from $w = 0$, $b = 0$. You double the learning rate. What happens to the "
        "perceptron's predictions during training?",
        ("They are exactly the same", "It converges in half as many epochs",
         "It may now diverge", "It needs twice as many epochs"),
        0,
        ("Right: every update adds lr times +-x or +-1, so w and b are just lr times what they would be; "
         "the sign of z, and so every prediction, is unchanged. Try it in the lesson's widget.",
         "The epochs are identical: w and b are only rescaled by the learning rate.",
         "The perceptron's updates have a fixed size per mistake; nothing can blow up.",
         "The sequence of mistakes does not change at all."),
    ),
    Question(
        "In the analogy between a biological and an artificial neuron, what plays the role of the "
        "strength of a synapse?",
        ("The input x", "The weight w", "The activation function g", "The output y_hat"),
        1,
        ("The input is the incoming signal itself, not how strongly the connection passes it on.",
         "Right: each weight scales one input, as a synapse sets how much one incoming signal counts; "
         "learning adjusts the weights, as experience strengthens or weakens synapses.",
         "The activation function plays the firing decision in the cell body, not a connection.",
         "The output plays the impulse sent down the axon to the next neurons."),
    ),
    Question(
        "Which of these does the artificial neuron of this course <i>leave out</i> of the biological one?",
        ("Inputs with different strengths", "A threshold that decides the output",
         "Adding up the incoming signals", "Communicating by the timing of all-or-nothing spikes"),
        3,
        ("Kept: every input has its own weight.",
         "Kept: the bias plays the threshold, and the step fires when z >= 0.",
         "Kept: that is the weighted sum z.",
         "Right: biological neurons send brief spikes whose timing and rate carry information; "
         "an artificial neuron passes on one number, its activation g(z)."),
    ),
    Question(
        "What is a <b>layer</b> in a neural network?",
        ("One full pass over the training data",
         "A group of neurons that read the same inputs and compute at the same stage",
         "A single weight between two neurons", "The set of examples used for testing"),
        1,
        ("That is an epoch.",
         "Right: M neurons reading D inputs form a layer, computed at once as XW + b followed by the "
         "activation; its outputs are the next layer's inputs.",
         "A layer holds many weights: D x M of them, plus M biases.",
         "That is the test set; it has nothing to do with the network's structure."),
    ),
    Question(
        "What makes <b>deep learning</b> deep?",
        ("Training for many epochs", "Using a very large data set",
         "Networks with many layers, each learning features from the previous layer's outputs",
         "Very large weights"),
        2,
        ("The number of epochs says how long you train, not what you train.",
         "Large data sets help deep networks, but a single neuron on a million examples is not deep.",
         "Right: depth is the number of layers with weights; hidden layers learn their own features "
         "instead of relying on hand-made ones such as x1*x2 for XOR.",
         "The size of the weights has nothing to do with depth."),
    ),
    Question(
        "A batch of 32 colour (RGB) images of 28 x 28 pixels is stored the way Keras expects. "
        "What is the shape of this <b>tensor</b>, and its rank?",
        ("(32, 28, 28, 3), rank 4", "(28, 28, 3, 32), rank 4", "(32, 2352), rank 2", "(3, 28, 28), rank 3"),
        0,
        ("Right: batch first, then height, width and channels (N, H, W, C); four axes, so rank 4.",
         "The batch axis comes first in the course and in Keras: one image per index of axis 0.",
         "That is the same numbers flattened (28 x 28 x 3 = 2352 per image): a valid matrix, "
         "but not the image layout Keras's image layers expect.",
         "That is one image, channels first; the batch axis is missing and Keras puts channels last."),
    ),
    Question(
        "The lecture's applications (reading digits, recognising speech, diagnosing from X-rays, "
        "detecting fraud, steering a car) have what in common?",
        ("Each learns a function from input numbers to an answer, from examples",
         "Each takes images as input", "Each predicts a number, never a class",
         "Each is solved by a single perceptron"),
        0,
        ("Right: the input becomes an array of numbers (pixels, a spectrogram, transaction records), "
         "and the network learns the mapping to the answer from labelled examples instead of hand-written rules.",
         "Speech comes in as a spectrogram and fraud detection as transaction records.",
         "Reading a digit or a spoken word is classification; a steering angle is regression. Both occur.",
         "A single perceptron draws one straight cut; these tasks need networks of many neurons."),
    ),
    Question(
        "You add a third input, x3 = x1 * x2, to the four XOR examples. Can a perceptron now learn XOR?",
        ("No: XOR is never linearly separable", "Yes: in (x1, x2, x3) a plane separates the two classes",
         "Only with a learning rate below 1", "Only if the weights start at zero"),
        1,
        ("XOR is not separable in (x1, x2); with the extra feature it is.",
         "Right: for example w = (1, 1, -2), b = -0.5 gives z = -0.5 for the 0s and +0.5 for the 1s, "
         "so the rule is guaranteed to converge. Seen in (x1, x2), the boundary is no longer "
         "one straight line.",
         "Separability does not depend on the learning rate, and neither does convergence.",
         "The convergence theorem holds from any starting weights."),
    ),
])
