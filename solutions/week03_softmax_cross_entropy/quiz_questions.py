"""Week 3 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week03_softmax_cross_entropy` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 3: softmax and cross-entropy", [
    Question(
        "What does a numerically stable softmax return for the logits $z = (1000, 1000)$?",
        ("[nan, nan]", "[0.5, 0.5]", "[1, 1]", "[inf, inf]"),
        1,
        ("That is what the naive formula gives: exp(1000) overflows to inf, and inf / inf is nan. "
         "A stable softmax subtracts the largest logit first.",
         "Right: subtracting the maximum turns the logits into (0, 0), whose softmax is (0.5, 0.5), "
         "with no overflow. Equal logits always get equal shares.",
         "Softmax probabilities always sum to 1; two classes at 1 each would sum to 2.",
         "inf is what exp(1000) alone gives in float64; after normalising, every probability lies in [0, 1]."),
    ),
    Question(
        "What does $\\mathrm{softmax}(z / T)$ approach as the temperature $T \\to 0$, for the logits "
        "$z = (2, 1, 0.1)$?",
        ("(1/3, 1/3, 1/3): uniform", "(0.659, 0.242, 0.099): unchanged",
         "(1, 0, 0): one-hot on the largest logit", "(0, 0, 1): the order flips"),
        2,
        ("That is the limit T -> infinity, where the differences between the logits shrink to nothing.",
         "Scaling is not like adding a constant: dividing by a small T stretches the differences "
         "between the logits, and that changes the probabilities. (0.659, 0.242, 0.099) is the value at T = 1.",
         "Right: z / T blows the gaps between the logits up, so the largest logit takes all the "
         "probability: the softmax becomes an arg max.",
         "Dividing by a positive T never changes the order of the logits, so the largest stays largest."),
    ),
    Question(
        "A photo can be tagged with any of <i>beach</i>, <i>people</i> and <i>dog</i>: several at once, "
        "or none. Which output layer and loss fit this task?",
        ("3 units with a softmax, categorical cross-entropy",
         "1 unit with a sigmoid, binary cross-entropy",
         "3 units with a softmax, sparse categorical cross-entropy",
         "3 units with a sigmoid each, binary cross-entropy"),
        3,
        ("A softmax makes the 3 probabilities share a total of 1, so it cannot say yes to beach and "
         "dog at once. It suits tasks with exactly one answer per input.",
         "One sigmoid answers one yes/no question; this task asks three independent ones.",
         "Sparse labels give one class index per photo, but a photo here can have several tags, or none.",
         "Right: a multi-label task is C independent yes/no questions, so one sigmoid and one binary "
         "cross-entropy per tag (averaged over the tags)."),
    ),
    Question(
        "The labels of a 3-class batch are stored as integers, $y = (2, 0, 1)$; as one-hot rows they "
        "would be $(0, 0, 1), (1, 0, 0), (0, 1, 0)$. Compared with categorical cross-entropy on the "
        "one-hot rows, what does sparse categorical cross-entropy on $y$ give?",
        ("The same loss", "A smaller loss: it looks only at the true class",
         "An error: cross-entropy needs one-hot rows", "The same loss, but only with a sigmoid output layer"),
        0,
        ("Right: the two differ only in the label format. Both compute -ln p of the true class for "
         "each example, then the mean.",
         "Categorical cross-entropy also looks only at the true class: with a one-hot row, every "
         "other term of -sum y_k ln p_k is zero. The two give the same number.",
         "That is what categorical cross-entropy expects; the sparse version exists precisely to take "
         "integer labels, shape (N,), instead of one-hot rows, shape (N, C).",
         "The label format has nothing to do with the output layer: both formats go with a softmax "
         "over the C classes."),
    ),
    Question(
        "An untrained 4-class classifier predicts $p = (0.25, 0.25, 0.25, 0.25)$ for every example. "
        "What is its mean cross-entropy loss?",
        ("0.25", "0.1875", "0.602", "1.386"),
        3,
        ("That is the probability of the true class; the loss is minus its natural log.",
         "That is the mean squared error between a one-hot target and the uniform prediction: "
         "(0.75^2 + 3 x 0.25^2) / 4 = 0.1875.",
         "That is -log10(0.25), with the base-10 logarithm; cross-entropy uses the natural log.",
         "Right: -ln 0.25 = ln 4 = 1.386. A C-class model that knows nothing starts near ln C, a "
         "useful check on the loss of the first epoch."),
    ),
    Question(
        "A soft target is $p = (0.5, 0.5)$, whose entropy is $H(p) = \\ln 2 = 0.693$. A model predicts "
        "$q$, and the cross-entropy is $H(p, q) = H(p) + \\mathrm{KL}(p \\,\\|\\, q)$. What is the smallest "
        "cross-entropy any prediction $q$ can reach, and where?",
        ("0, at q = (1, 0) or q = (0, 1)", "0.693, at q = (0.5, 0.5)", "0, at q = (0.5, 0.5)",
         "0.693 at every q: the entropy of p does not depend on q"),
        1,
        ("A confident q is the worst choice here: half of the outcomes drawn from p fall on the class it "
         "gave probability 0, and each costs −ln 0 = ∞. A cross-entropy of 0 needs a one-hot target.",
         "Right: KL(p ‖ q) ≥ 0, with equality only at q = p, so H(p, q) ≥ H(p) = ln 2 = 0.693. The "
         "target's own uncertainty is a floor no prediction can go below; training can only remove the KL part.",
         "q = p is the best prediction, but the loss it leaves is not 0: the KL part vanishes and the "
         "entropy H(p) = 0.693, the target's own uncertainty, remains.",
         "H(p) is indeed fixed, but the KL part depends on q: at q = (0.75, 0.25) it is 0.144, so "
         "H(p, q) = 0.837. Only at q = p is the cross-entropy down to 0.693."),
    ),
    Question(
        "A softmax classifier trained with cross-entropy predicts $p = (0.7, 0.2, 0.1)$ for an example "
        "whose true class is the first. What is the gradient of the loss with respect to the logits, "
        "$\\partial L / \\partial z$?",
        ("(0.3, -0.2, -0.1)", "(-1.43, 0, 0)", "(-0.3, 0.2, 0.1)", "(-0.3, 0, 0)"),
        2,
        ("That is y - p, minus the gradient: the direction gradient descent moves the logits in, "
         "not the gradient itself.",
         "That is the derivative with respect to the probability, d(-ln p)/dp = -1/0.7 = -1.43; "
         "through the softmax, the gradient with respect to the logits is p - y.",
         "Right: the gradient is p - y = (0.7 - 1, 0.2 - 0, 0.1 - 0). A gradient descent step raises "
         "the true class's logit and lowers the others.",
         "The wrong classes' logits get a gradient too: raising them takes probability away from the "
         "true class, so their entries are p_k - 0 = 0.2 and 0.1."),
    ),
    Question(
        "A batch of 10 has 8 examples of class 0 and one each of classes 1 and 2. What are the balanced "
        "class weights $w_c = N / (C\\,n_c)$ (scikit-learn's <code>class_weight=\"balanced\"</code>), and "
        "what do they do to the cross-entropy?",
        ("(0.8, 0.1, 0.1): each class weighs as much as it is frequent",
         "(0.417, 3.333, 3.333): a rare example counts 8 times as much as a common one, so ignoring "
         "the rare classes costs more",
         "(0.417, 3.333, 3.333): the weighted loss then prefers a model that always bets on class 0",
         "(1, 1, 1): every class is present, so the weights change nothing"),
        1,
        ("Those are the class frequencies n_c / N. Weighting by them would make the common class count "
         "even more; balanced weights are the inverse.",
         "Right: w_0 = 10 / (3 x 8) = 0.417 and w_1 = w_2 = 10 / (3 x 1) = 3.333, so each class as a "
         "whole weighs the same. In the lesson the weighted loss preferred the fair model (0.693) to "
         "the lazy one that always bets on class 0 (1.609).",
         "The weights are right, but their effect is the opposite: the lazy model gets both rare examples "
         "wrong, and they now weigh 3.333 each. In the lesson it scored 1.609, the fair model 0.693.",
         "Balanced weights depend on how many examples each class has, not on whether it is present: "
         "N / (C n_c) is 1 only when every class has N / C examples."),
    ),
    Question(
        "Focal loss is $\\mathrm{FL} = -(1 - p_t)^{\\gamma} \\ln p_t$, with $p_t$ the probability of the true "
        "class. With $\\gamma = 2$, an easy example has $p_t = 0.9$ and a hard one $p_t = 0.1$. Compared "
        "with their cross-entropy $-\\ln p_t$, what does focal loss do to each?",
        ("It multiplies both by the same factor, γ = 2",
         "It keeps 1% of the hard example's loss and 81% of the easy one's, so training concentrates on "
         "the easy examples",
         "It keeps 1% of the easy example's loss and 81% of the hard one's, so training concentrates on "
         "the hard examples",
         "Nothing: with γ = 2 focal loss is the cross-entropy"),
        2,
        ("The factor is (1 - p_t)^gamma, which depends on p_t: 0.1^2 = 0.01 for the easy example, "
         "0.9^2 = 0.81 for the hard one.",
         "The other way round: the easy example has 1 - p_t = 0.1, so its factor is 0.1^2 = 0.01.",
         "Right: (1 - 0.9)^2 = 0.01, so the easy example's loss drops from -ln 0.9 = 0.105 to 0.00105; "
         "(1 - 0.1)^2 = 0.81, so the hard one's drops only from 2.303 to 1.865.",
         "Focal loss is the cross-entropy only for gamma = 0, where the factor (1 - p_t)^0 is 1."),
    ),
    Question(
        "Training an <code>MLPClassifier</code> on the digits minimises one number, which the fitted "
        "model reports as <code>loss_</code>. What is this <b>objective function</b>?",
        ("The mean cross-entropy on the training data, and nothing else",
         "The mean cross-entropy on the training data plus the L2 penalty on the weights",
         "The cross-entropy on the test data",
         "The error rate, 1 − accuracy, on the training data"),
        1,
        ("That is the data loss. scikit-learn adds the penalty (α / 2B) Σ‖W‖² to it, with α = alpha = 10⁻⁴ "
         "by default; the lesson adds the two and recovers loss_, up to the drift within the last epoch.",
         "Right: the objective function is what the optimiser actually minimises: the loss on the "
         "training data plus any penalty terms. With α = 10⁻⁴ the penalty is tiny, but it is there.",
         "The optimiser never sees the test set: it can only minimise something computed on the training "
         "data. The test loss is for judging the result afterwards.",
         "The error rate is what we care about, but it changes only in jumps as the weights move, so its "
         "gradient is 0 almost everywhere and gradient descent cannot follow it. Training minimises a "
         "smooth stand-in, the cross-entropy (plus the penalty)."),
    ),
])
