"""Week 1 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week01_perceptron` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 1: the perceptron", [
    Question(
        "The lecture's neuron has bias $w_0 = 1$ and weights $W = (5, -3)$. What is its weighted sum "
        "$z$ for the input $X = (-3, 2)$, and where does its prediction flip from one class to the other?",
        ("z = -20; along the line 1 + 5x₁ - 3x₂ = 0", "z = -21; along the line 1 + 5x₁ - 3x₂ = 0",
         "z = -20; on a circle around the origin", "z = 2.06e-9; where the sigmoid equals 1"),
        0,
        ("Right: z = 1 + 5(-3) + (-3)(2) = 1 - 15 - 6 = -20, and the prediction flips where z = 0. "
         "z is linear in x, so that boundary is a straight line in the (x₁, x₂) plane.",
         "That is W . X = -15 - 6 without the bias. Add w0 = 1.",
         "A circle needs squared terms such as x1^2, which a single neuron does not have: z is linear in x.",
         "2.06e-9 is sigmoid(-20), the neuron's output, not z. And the sigmoid never equals 1; the "
         "boundary is where it equals 0.5, i.e. z = 0."),
    ),
    Question(
        "In the perceptron learning rule $w \\leftarrow w + \\eta\\,(t - \\hat y)\\,x$, training starts from "
        "$w = 0$, $b = 0$. What does an example that is already classified correctly change, and what "
        "does doubling the learning rate $\\eta$ change about the predictions made during training?",
        ("Nothing; it converges in half as many epochs",
         "It nudges the weights towards its target; the predictions stay exactly the same",
         "Nothing; the predictions stay exactly the same",
         "Nothing; it may now diverge"),
        2,
        ("A correct example does change nothing, but the epochs are identical: w and b are only rescaled "
         "by the learning rate.",
         "When y_hat = t the factor t - y_hat is 0: a correct prediction moves nothing.",
         "Right: t - y_hat = 0, so the update is zero: the perceptron learns only from mistakes. Every "
         "update adds eta times +-x or +-1, so from zero w and b are just eta times what they would be; "
         "the sign of z, and so every prediction, is unchanged. Try it in the lesson's widget.",
         "A correct example does change nothing, and nothing can blow up either: the updates have a "
         "fixed size per mistake, and a larger eta only rescales w and b."),
    ),
    Question(
        "Which two-input gate can a single perceptron on the inputs $(x_1, x_2)$ <i>not</i> compute, and "
        "what happens if you add a third input $x_3 = x_1 x_2$?",
        ("XOR; x₃ does not help, since XOR is never linearly separable",
         "XOR; with x₃ a plane separates its classes, so the perceptron can learn it",
         "AND; with x₃ it becomes separable",
         "XOR; with x₃ it is learned only with a learning rate below 1"),
        1,
        ("XOR is not separable in (x1, x2); with the extra feature it is: try w = (1, 1, -2), b = -0.5.",
         "Right: XOR's two 1s sit on opposite corners; no single line puts them on one side and the 0s "
         "on the other. With x3, w = (1, 1, -2), b = -0.5 gives z = -0.5 for the 0s and +0.5 for the 1s, "
         "so the rule is guaranteed to converge. Seen in (x1, x2), the boundary is no longer one straight line.",
         "AND is separable already: w = (1, 1), b = -1.5 works. So are OR and NAND; XOR is the one that is not.",
         "Separability does not depend on the learning rate, and neither does convergence."),
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
        "In the analogy between a biological and an artificial neuron, what plays the role of the "
        "strength of a synapse, and what does the artificial neuron of this course <i>leave out</i>?",
        ("The input x; communicating by the timing of all-or-nothing spikes",
         "The weight w; adding up the incoming signals",
         "The activation function g; a threshold that decides the output",
         "The weight w; communicating by the timing of all-or-nothing spikes"),
        3,
        ("The input is the incoming signal itself, not how strongly the connection passes it on.",
         "The weight is right, but adding up the signals is kept: that is the weighted sum z.",
         "The activation function plays the firing decision in the cell body, not a connection; and the "
         "threshold is kept: the bias plays it, and the step fires when z >= 0.",
         "Right: each weight scales one input, as a synapse sets how much one incoming signal counts, and "
         "learning adjusts the weights. Biological neurons send brief spikes whose timing and rate carry "
         "information; an artificial neuron passes on one number, its activation g(z)."),
    ),
    Question(
        "What is a <b>layer</b> in a neural network, and what makes <b>deep learning</b> deep?",
        ("One full pass over the training data; training for many such passes",
         "A single weight between two neurons; very large weights",
         "A group of neurons that read the same inputs and compute at the same stage; many such layers, "
         "each learning features from the previous layer's outputs",
         "A group of neurons that read the same inputs and compute at the same stage; a very large data set"),
        2,
        ("One full pass over the data is an epoch; the number of epochs says how long you train, not what you train.",
         "A layer holds many weights, D x M of them plus M biases, and the size of the weights has nothing "
         "to do with depth.",
         "Right: M neurons reading D inputs form a layer, computed at once as XW + b followed by the "
         "activation; its outputs are the next layer's inputs. Depth is the number of layers with weights; "
         "hidden layers learn their own features instead of relying on hand-made ones such as x1*x2 for XOR.",
         "The layer is right, but large data sets only help deep networks: a single neuron trained on a "
         "million examples is not deep."),
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
])
