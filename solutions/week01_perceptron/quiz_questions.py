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
])
