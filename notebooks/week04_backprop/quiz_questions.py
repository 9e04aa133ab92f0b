"""Week 4 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week04_backprop` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 4: backpropagation and the training loop", [
    Question(
        "In the network $z_1 = w_1 x$, $a_1 = \\sigma(z_1)$, $\\hat y = w_2 a_1$, the backward pass has "
        "reached $\\partial J / \\partial \\hat y = -2$. The forward pass cached $x = 3$ and $a_1 = 0.5$, "
        "and $w_2 = 0.5$. With the chain rule "
        "$\\frac{\\partial J}{\\partial w_1} = \\frac{\\partial J}{\\partial \\hat y}\\cdot"
        "\\frac{\\partial \\hat y}{\\partial z_1}\\cdot\\frac{\\partial z_1}{\\partial w_1}$, "
        "what is $\\partial J / \\partial w_1$?",
        ("-3", "-1", "-0.75", "-0.25"),
        2,
        ("That is -2 × 0.5 × 3: it skips the sigmoid. Between z₁ and ŷ sits σ, whose local gradient "
         "a₁(1 - a₁) = 0.25 belongs in the product too.",
         "That is ∂J/∂w₂ = ∂J/∂ŷ · a₁ = -2 × 0.5, the gradient of the other weight. The path to w₁ is "
         "longer: it goes through w₂, the sigmoid and x.",
         "Right: ∂ŷ/∂z₁ = w₂ · a₁(1 - a₁) = 0.5 × 0.25 and ∂z₁/∂w₁ = x = 3, so "
         "∂J/∂w₁ = -2 × 0.125 × 3 = -0.75. Every factor is a value the forward pass cached.",
         "That is ∂J/∂z₁ = -2 × 0.5 × 0.25, one step short: the last factor, ∂z₁/∂w₁ = x = 3, is missing."),
    ),
    Question(
        "In the forward pass a ReLU received the pre-activations $Z = (1.5, -0.5, 2)$. In the backward "
        "pass its upstream gradient is $dA = (2, -1, 3)$. What is $dZ$?",
        ("(2, 0, 3)", "(2, -1, 3)", "(3, 0.5, 6)", "5"),
        0,
        ("Right: dZ = dA ⊙ ReLU'(Z), and ReLU'(Z) = (1, 0, 1). The gradient passes unchanged through "
         "the active units and is blocked where the unit was off (z < 0).",
         "That treats the ReLU as the identity. The second unit was off (z = -0.5), so its output did "
         "not depend on its input at all: its derivative, and its gradient, is 0.",
         "That is dA ⊙ Z, multiplying by the cached input itself. The rule is dA ⊙ g'(Z): multiply by "
         "the activation's derivative at Z, which for ReLU is 1 or 0.",
         "That is a dot product, dA · ReLU'(Z) = 2 + 0 + 3. An activation acts on each entry "
         "separately, so its backward pass is elementwise too: dZ has the shape of Z."),
    ),
    Question(
        "For softmax with the <i>mean</i> cross-entropy over a batch of $N$ examples, the gradient with "
        "respect to the logits is $(P - Y)/N$. What does the $1/N$ achieve?",
        ("It turns each row of P into a probability distribution",
         "Nothing: leaving it out trains exactly the same",
         "It cancels the softmax's own derivative",
         "It keeps the gradient's scale independent of the batch size, so a change of batch size does not "
         "change every step by a factor of N"),
        3,
        ("That is the softmax's job, done in the forward pass. The 1/N comes from averaging the N "
         "per-example losses.",
         "Without it the gradient is N times larger (the gradient of the sum), so with the same learning "
         "rate every step is N times longer: 32 times with a batch of 32, enough to diverge.",
         "The softmax's derivative and the log's 1/p cancel each other, which is where P - Y comes from. "
         "The 1/N is a separate factor, from the mean over the batch.",
         "Right: the loss is a mean, so its gradient is an average over the examples. A batch of 32 "
         "and a batch of 256 then give gradients of the same size on average, only with different noise; "
         "the best learning rate can still change with the batch size, because the noise does (week 5)."),
    ),
    Question(
        "A training set has 1,000 examples. You train for 10 epochs with a batch size of 64, "
        "reshuffling every epoch; the last batch of each epoch is smaller. How many parameter updates "
        "does the optimizer make?",
        ("10", "156", "160", "640"),
        2,
        ("That is the number of epochs. Each epoch makes one update per mini-batch, not one in all.",
         "That is 10,000 / 64 rounded down, as if the examples ran on from one epoch into the next. "
         "Each epoch ends with its own short batch of 1,000 - 15 × 64 = 40 examples, which is an update too.",
         "Right: ceil(1000 / 64) = 16 updates per epoch (15 batches of 64 and one of 40), times 10 epochs.",
         "That is 64 × 10, the batch size times the epochs. The count of updates is the number of "
         "batches per epoch, 16, times the epochs."),
    ),
    Question(
        "In the lesson, one <code>partial_fit</code> step of <code>MLPClassifier(solver=\"sgd\", momentum=0, "
        "alpha=0)</code> on a batch of 32 digits changed <code>coefs_[1]</code>, of shape (64, 10). What is "
        "(the weights before the step - the weights after it) / the learning rate?",
        ("A numerical gradient: scikit-learn nudges each weight and measures how the loss changes",
         "Our gradient times 32: scikit-learn sums the loss over the batch instead of averaging it",
         "A matrix of shape (10, 64): scikit-learn stores the transpose of our dW₂",
         "Our backpropagated gradient dW₂ = A₁ᵀ (P - Y) / 32, equal to rounding error: fit runs "
         "backpropagation for you"),
        3,
        ("That would cost two forward passes per weight, 4,810 of them in this 64-64-10 network; scikit-learn "
         "backpropagates, and the lesson's comparison with our backward pass agrees to about 1e-16.",
         "MLPClassifier's loss is the mean over the batch, like ours: the 1/32 is in both, and the two "
         "gradients agree to rounding error.",
         "coefs_[l] has shape (D, M), like our W, so out = X @ W + b and the gradient has that shape too: (64, 10).",
         "Right: W <- W - lr dJ/dW, so the change divided by lr is the gradient, and it equals the one our "
         "hand-written backward pass gives. scikit-learn does the backpropagation and gradient descent; "
         "knowing what it computes lets you read and debug it."),
    ),
    Question(
        "In the forward pass, a dense layer followed by a ReLU keeps its input $X$ and its "
        "pre-activation $Z$ (its cache). What does the backward pass use them for?",
        ("X for dW = Xᵀ dZ, and Z for the ReLU's derivative, which tells which units were active",
         "X for dX = dZ Wᵀ, and Z for db",
         "Nothing essential: they help debugging, and the backward pass could do without them at no cost",
         "They are the inputs of the numerical gradient check"),
        0,
        ("Right: each local gradient is made of forward values. Keeping them means the backward pass "
         "never recomputes the forward pass, so it costs about as much as one forward pass.",
         "dX = dZ Wᵀ uses the weights, not X, and db = sum of dZ over the batch uses the upstream "
         "gradient, not Z. X is needed for dW, Z for the activation's derivative.",
         "Without the cache every layer would have to re-run the forward pass up to itself to get X "
         "and Z again: the cost would grow with the depth instead of staying at about one extra pass.",
         "The numerical gradient needs only the loss as a function of the weights; it re-runs the "
         "whole forward pass for every nudge. The cache serves backpropagation."),
    ),
    Question(
        "Gradient descent on $f(x) = x^2$, where $f'(x) = 2x$, starts at $x_0 = 2$ with learning rate "
        "$\\eta = 0.8$. What do the iterates $x_1, x_2, \\dots$ do?",
        ("They crawl towards 0 and are still far from it after many steps",
         "They land exactly on the minimum in one step",
         "They run off to infinity",
         "They jump from one side of the minimum to the other, closer each time"),
        3,
        ("That is a learning rate that is too small, such as 0.01, where each step multiplies x by 0.98. "
         "Here each step multiplies x by 1 - 2 × 0.8 = -0.6.",
         "That happens at η = 0.5, where 1 - 2η = 0. At 0.8 each step multiplies x by -0.6 instead.",
         "That needs |1 - 2η| > 1, which means η > 1. At 0.8, |1 - 2η| = 0.6 < 1, so the iterates still shrink.",
         "Right: x_{k+1} = (1 - 2η) x_k = -0.6 x_k, so x goes 2, -1.2, 0.72, -0.43, ...: it overshoots "
         "every time, yet converges because 0.6 < 1."),
    ),
    Question(
        "Gradient descent on the double well $f(x) = (x^2 - 1)^2 + 0.3x$ starts at $x_0 = 2$. The function "
        "has a local minimum at $x \\approx 0.96$ ($f \\approx 0.29$) and a lower one at $x \\approx -1.04$ "
        "($f \\approx -0.31$), with a hump between them. Where is it after 200 steps with learning rate 0.01?",
        ("At the lower minimum, x ≈ -1.04: with small enough steps gradient descent finds the lowest point",
         "At the local minimum, x ≈ 0.96: every step goes downhill into the nearer valley, and there the "
         "gradient is 0",
         "Nowhere: the iterates diverge",
         "Still at x ≈ 2: a learning rate of 0.01 is too small to move"),
        1,
        ("Small steps only ever go downhill from where they are; to reach x = -1.04 from x = 2 they would "
         "have to climb the hump first. In the lesson lr = 0.01 and 0.05 both stopped at 0.96.",
         "Right: a small learning rate follows the slope into the nearest valley and stays there, since "
         "f' = 0 at its bottom. In the lesson only lr = 0.1, whose first step of 2.43 jumped the hump, "
         "reached the lower minimum, and lr = 0.2 diverged.",
         "In the lesson it was lr = 0.2 that diverged; 0.01 is far below that.",
         "f'(2) = 24.3, so the very first step moves x by 0.243; after 200 steps it has reached the bottom "
         "of the right-hand valley."),
    ),
    Question(
        "Backpropagation runs on a <b>computational graph</b>: each elementary operation is a node, and "
        "the forward pass carries values along its edges from the inputs to the loss $J$. In the backward "
        "pass, a node receives the upstream gradient $\\partial J / \\partial(\\text{its output})$. "
        "What does it do with it?",
        ("It multiplies it by its local gradient with respect to each of its inputs, and sends each product "
         "to that input",
         "It nudges its output by h, re-runs the rest of the graph and measures the change in J",
         "It differentiates the whole expression for J with respect to its own inputs",
         "It multiplies it by its own output value from the forward pass, and sends that to every input"),
        0,
        ("Right: that is the chain rule, one node at a time. A multiply node z = w·x sends "
         "dJ/dz · x to w and dJ/dz · w to x; each local gradient is a small formula in cached forward "
         "values, and each upstream gradient is computed once and reused by everything below it.",
         "That is the numerical gradient: it works, but it costs two passes through the graph per value, "
         "where the backward pass costs about one pass for all of them together.",
         "That is what the graph saves you from: each node only needs the derivative of its own small "
         "formula, such as σ' = a(1 − a), and the chain rule assembles the rest.",
         "The local gradient is the derivative of the node's output with respect to an input, which is "
         "seldom the output itself: for z = w·x it is x (towards w) and w (towards x), not z."),
    ),
    Question(
        "In a tiny-autograd graph, $J = (0.5 \\cdot d) \\cdot d$ uses the value $d = -2$ in two multiply "
        "nodes. After <code>J.backward()</code>, what is the gradient collected by $d$?",
        ("−1: the gradient from its first use",
         "−2: −1 from each of the two nodes that use it, added up",
         "1: the product of the two nodes' contributions",
         "−4: the derivative of d², 2d"),
        1,
        ("That is one use's share: the outer node sends 1 × (0.5 d) = −1 and the inner one sends "
         "d × 0.5 = −1. A value used twice collects a gradient from each use: that is the += in backward().",
         "Right: J = ½d², so dJ/dd = d = −2, and the graph reaches it by adding the two contributions of −1. "
         "Where a value branches into several nodes, the gradients coming back from them add up.",
         "Along one path the local gradients multiply; across different paths the contributions add.",
         "That forgets the ½: J = ½d², so dJ/dd = d = −2."),
    ),
])
