"""Week 5 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week05_optimizers` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 5: optimizers and learning-rate schedules", [
    Question(
        "SGD with momentum $\\mu = 0.9$, in Keras's form $v \\leftarrow \\mu v - \\eta g$, "
        "$w \\leftarrow w + v$, sees the same gradient $g$ at every step. "
        "What does the step $v$ settle to after many steps?",
        ("−η·g: momentum only smooths the steps", "−10·η·g", "−0.9·η·g", "It keeps growing without limit"),
        1,
        ("That would be plain gradient descent. With a steady gradient the velocity keeps "
         "accumulating until v = 0.9 v − η g, that is v = −η g / (1 − 0.9).",
         "Right: the velocity settles where v = μ v − η g, so v = −η g / (1 − μ) = −10 η g. Where the "
         "gradients agree, momentum multiplies the speed by 1 / (1 − μ); where they zig-zag, they cancel.",
         "Multiplying by μ = 0.9 is only the first step's share of the old velocity; the contributions of "
         "all past gradients add up: η g (1 + 0.9 + 0.81 + ...) = 10 η g.",
         "The old velocity is multiplied by 0.9 < 1 every step, so the sum is a geometric series with a "
         "finite limit: −η g / (1 − 0.9) = −10 η g."),
    ),
    Question(
        "On the double well $f(x) = (x^2 - 1)^2 + 0.3x$, started at $x_0 = 2$ with learning rate 0.01, plain "
        "gradient descent stops in the local minimum at $x \\approx 0.96$. With momentum $\\mu = 0.9$ and "
        "the same learning rate it ends in the lower minimum at $x \\approx -1.04$. Why?",
        ("Momentum raises the effective learning rate to 0.1, which diverges away from the local minimum",
         "Momentum adds random noise that shakes the weight out of the local minimum",
         "The velocity built up on the way down keeps moving the weight where the gradient is 0, and "
         "carries it over the hump",
         "Momentum computes the gradient of the whole function, so it sees where the lowest point is"),
        2,
        ("Momentum builds speed up to 1/(1 - mu) times a plain step where gradients agree, but nothing "
         "diverges: the run settles in the lower minimum.",
         "Momentum is deterministic: v <- mu v - lr g, w <- w + v has no randomness in it. The escape comes "
         "from the speed it carries.",
         "Right: at the bottom of the local minimum g = 0 and plain gradient descent stops, but v is not 0 "
         "yet, so the weight rolls on, over the hump. It is no guarantee: in the lesson mu = 0.5 stayed "
         "stuck, and mu = 0.95 rolled over, overshot and rolled back into the local minimum.",
         "Like plain gradient descent it only ever sees the gradient at the current point; its extra "
         "information is the memory of past gradients, the velocity."),
    ),
    Question(
        "Adam starts with $m_0 = 0$ and $\\beta_1 = 0.9$. The first gradient is $g_1 = 2$. "
        "What are $m_1 = \\beta_1 m_0 + (1 - \\beta_1) g_1$ and the bias-corrected "
        "$\\hat m_1 = m_1 / (1 - \\beta_1^1)$?",
        ("m₁ = 0.2 and m̂₁ = 2", "m₁ = 2 and m̂₁ = 2", "m₁ = 0.2 and m̂₁ = 0.2", "m₁ = 1.8 and m̂₁ = 18"),
        0,
        ("Right: m₁ = 0.1 × 2 = 0.2, a tenth of the gradient, only because m started at 0; dividing by "
         "1 − 0.9 = 0.1 gives back m̂₁ = 2 = g₁. The correction undoes the start at zero.",
         "The new gradient enters the running mean with weight 1 − β₁ = 0.1 only, so m₁ = 0.2, not 2. "
         "The corrected m̂₁ = 0.2 / 0.1 = 2 is the one that equals the gradient.",
         "m₁ = 0.2 is right, but the correction divides by 1 − β₁^t = 0.1 at t = 1: m̂₁ = 2. Without it "
         "Adam's first estimate of the gradient would be ten times too small.",
         "The weights are the other way round: the old value m₀ gets β₁ = 0.9 and the new gradient gets "
         "1 − β₁ = 0.1, so m₁ = 0.9 × 0 + 0.1 × 2 = 0.2 and m̂₁ = 2."),
    ),
    Question(
        "With RMSProp, one weight's gradients are always about 100 in size and another's about 0.01. "
        "After many steps with the same learning rate $\\eta$, how do their step sizes compare?",
        ("The first weight's steps are 10,000 times larger, as with SGD",
         "The second weight's steps are 10,000 times larger",
         "Both are about η: each gradient is divided by its own root-mean-square",
         "The first weight's steps are 100 times larger"),
        2,
        ("That is plain SGD, whose step is η g. RMSProp divides each weight's gradient by the root of the "
         "running mean of its own squared gradient, about 100 for the first and 0.01 for the second.",
         "Dividing by the root-mean-square does not reverse the scales, it removes them: 100 / 100 and "
         "0.01 / 0.01 are both about 1.",
         "Right: s tracks g², so g / √s is about ±1 for both weights and each step is about η. RMSProp "
         "gives every weight a step size matched to its own gradient scale.",
         "The root is taken of the mean square, which brings it back to the gradient's own scale: "
         "√(100²) = 100 and √(0.01²) = 0.01. Both ratios g / √s are about 1."),
    ),
    Question(
        "Why is AdamW's decoupled weight decay not the same as adding an L2 penalty "
        "(the term $\\lambda w$ in the gradient) to Adam?",
        ("They are the same: L2 and weight decay are always equivalent",
         "The L2 term is divided by Adam's √v̂ like the rest of the gradient, so weights with large "
         "gradients are barely decayed",
         "AdamW only decays the weights whose gradients are small",
         "L2 in Adam decays every weight faster than AdamW, whatever its gradients"),
        1,
        ("They are equivalent for plain gradient descent, where w − η(g + λw) = (1 − ηλ) w − η g. Adam "
         "rescales the gradient per weight, and that breaks the equivalence.",
         "Right: inside the gradient, λw is rescaled by 1 / √v̂, strongly for weights with a large "
         "gradient history and hardly at all for quiet ones. AdamW shrinks every weight by the same factor "
         "1 − ηλ, outside Adam's rescaling.",
         "AdamW decays every weight by the same fraction ηλ per step; it is L2 inside Adam whose "
         "decay depends on the gradients, and it is the weights with small gradients that it decays most.",
         "It depends on the weight: for a weight with small gradients, L2 inside Adam decays fast (about η "
         "per step), but for one with large gradients it hardly decays at all."),
    ),
    Question(
        "Why does a learning-rate warm-up help Adam in particular?",
        ("It makes the peak learning rate larger",
         "It replaces the bias correction, which is wrong at the start",
         "Adam's steps are too small at the start, and a warm-up makes them larger",
         "Early on v̂ rests on a few gradients and every weight moves by about η whatever its gradient, "
         "so a small learning rate keeps those unreliable first steps small"),
        3,
        ("A warm-up does not change the peak; it reaches it gradually, from a small starting value, over the "
         "first steps.",
         "The bias correction is exact and still applies. Warm-up addresses something else: the corrected "
         "estimates rest on very few gradients at first.",
         "Adam's first step is about η for every weight (m̂ / √v̂ = ±1 at t = 1), not small; a warm-up "
         "makes the first steps smaller, not larger.",
         "Right: at t = 1 Adam moves every weight by η against the sign of its gradient, and v̂ is a poor "
         "estimate for a while. Keeping η small until v̂ has averaged many gradients stops a fresh network "
         "from being thrown far off by its first steps."),
    ),
    Question(
        "You raise the mini-batch size from 32 to 128 examples. Roughly how does the typical error of a "
        "mini-batch gradient, compared with the full-batch gradient, change?",
        ("It halves", "It falls to a quarter", "It stays the same", "It doubles"),
        0,
        ("Right: the mini-batch gradient is a mean of B example gradients, and the error of a mean falls "
         "like 1 / √B. Four times the examples gives √4 = 2 times less noise, at four times the cost per step.",
         "That would be an error falling like 1 / B. The error of a mean of B samples falls like 1 / √B, "
         "so four times the batch halves it.",
         "A mean over more examples is a better estimate of the full gradient: the noise falls like 1 / √B.",
         "More examples per batch make the estimate better, not worse: the noise falls like 1 / √B."),
    ),
    Question(
        "A sweep of SGD's learning rate, 5 epochs each, gives test accuracies of 20% at 0.001, 85% at 0.01, "
        "95% at 0.1, 93% at 0.3, and a diverged run at 3. You switch the same network to Adam. "
        "Which learning rate do you try?",
        ("0.1, the best value for SGD",
         "3: Adam normalises its steps, so it cannot diverge",
         "Sweep again on a log grid around Adam's usual 0.001: a learning rate does not carry over between "
         "optimizers",
         "0.3, a little above SGD's best, since Adam is faster"),
        2,
        ("SGD's step is η times the gradient, Adam's is about η per weight whatever the gradient, so the "
         "same number means very different steps. 0.1 is a large learning rate for Adam.",
         "Adam's steps are about η per weight, so η = 3 moves every weight by about 3 per step: it can "
         "diverge, and at such rates it does.",
         "Right: the best learning rate depends on the optimizer (and on the network, the batch size and the "
         "schedule). Start from the optimizer's usual value and sweep a factor of 3 at a time.",
         "Being faster does not mean tolerating a larger learning rate: Adam's steps are about η per weight, "
         "and its good learning rates are usually about ten times smaller than SGD's."),
    ),
    Question(
        "Keras's RMSprop divides by $\\sqrt{s + \\epsilon}$ with $\\epsilon = 10^{-7}$; PyTorch's divides "
        "by $\\sqrt{s} + \\epsilon$. With the same learning rate, for a weight whose gradients are all "
        "about $10^{-5}$, which library takes larger steps?",
        ("Keras: adding ε inside the root makes its step larger",
         "PyTorch: inside the root ε acts as a floor of about 3×10⁻⁴ on the denominator, which shrinks "
         "Keras's step about thirtyfold",
         "Neither: ε is so small that the two steps are the same",
         "Neither moves: a gradient below ε is ignored"),
        1,
        ("A larger denominator gives a smaller step. Inside the root ε is compared with s ≈ 10⁻¹⁰, and it "
         "dominates: Keras's denominator is about √(10⁻⁷) ≈ 3×10⁻⁴.",
         "Right: s ≈ 10⁻¹⁰, so PyTorch divides by about 10⁻⁵ and steps about η, while Keras divides by "
         "√(10⁻⁷ + 10⁻¹⁰) ≈ 3×10⁻⁴ and steps about 0.03η. The place of ε matters for tiny gradients.",
         "Outside the root ε = 10⁻⁷ is indeed negligible next to √s ≈ 10⁻⁵; inside, it is compared with "
         "s ≈ 10⁻¹⁰ itself, and dominates. The steps differ about thirtyfold.",
         "ε only keeps the denominator away from zero; no gradient is ignored. Both libraries move the "
         "weight, by very different amounts."),
    ),
    Question(
        "Mini-batch SGD at a constant learning rate: the training loss fell fast at first, and for many "
        "epochs now it has only jittered around one level. Why does lowering the learning rate from here "
        "usually bring the loss down further?",
        ("Near the minimum the mini-batch gradient is mostly noise that does not shrink there; steps of η "
         "times that noise keep the weights jittering around the bottom, and a smaller η shrinks the jitter",
         "A smaller learning rate makes each mini-batch gradient more accurate",
         "A smaller learning rate lets the weights escape to a different, deeper minimum",
         "Small steps are more efficient than large ones, so it would have been better to use the small "
         "learning rate from the start"),
        0,
        ("Right: the full gradient vanishes at the minimum, the mini-batch noise does not. At a constant η "
         "the weights settle into a cloud whose size grows with η (RMS √(η/(2 − η)) in the lesson's "
         "one-weight experiment); a decay keeps the fast early steps and shrinks the cloud late.",
         "The gradient's accuracy depends on the batch size (its noise falls like 1/√B), not on η. A smaller "
         "η takes smaller steps on the same noisy gradients, and that is what helps.",
         "Smaller steps explore less, not more: a decay lets the weights settle deeper into the region they "
         "are already in.",
         "A small rate from the start crawls: in the lesson's experiment η = 0.01 is still far from the "
         "minimum after 400 steps. The large early steps are what make fast progress; only the late ones "
         "should be small."),
    ),
])
