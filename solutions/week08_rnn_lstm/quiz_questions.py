"""Week 8 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week08_rnn_lstm` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 8: recurrent networks and LSTMs", [
    Question(
        "A keras.layers.SimpleRNN(16) reads sequences of 8 features per step. How many parameters does it "
        "have for sequences of 10 steps, and for sequences of 1000 steps?",
        ("8·16 + 16 = 144 for both",
         "8·16 + 16·16 + 16 = 400 for both",
         "400 for 10 steps and 40,000 for 1000 steps",
         "10 times more for 10 steps than for 1 step: 4000"),
        1,
        ("That leaves out the recurrent kernel W_h (16, 16), which mixes the previous state into the new one: "
         "the part that makes the layer recurrent.",
         "Right: W_x (8, 16), W_h (16, 16) and b (16,), 400 numbers, used again at every step. The length of "
         "the sequence does not change the layer's size.",
         "The weights are shared by every step: unrolling the layer over more steps reuses the same 400 "
         "numbers, it does not copy them.",
         "Unrolling draws the layer once per step, but every copy is the same weights: 400 parameters."),
    ),
    Question(
        "A batch of 32 sequences of 50 steps, 10 features per step, goes through keras.layers.LSTM(64) with "
        "return_sequences=True, then through LSTM(64) with return_sequences=False. What are the two shapes?",
        ("(32, 50, 64) and (32, 64)", "(32, 64) and (32, 50, 64)", "(50, 32, 64) and (32, 64)",
         "(32, 50, 64) and (32, 50, 64)"),
        0,
        ("Right: return_sequences=True gives every hidden state, batch first (N, T, H); False gives only the "
         "last one, h_T, (N, H).",
         "Swapped: return_sequences=True is the one that keeps every step.",
         "Keras is batch first: (N, T, H). (T, N, H) is the time-first layout of some other libraries.",
         "With return_sequences=False only the last hidden state h_T is returned: (N, H)."),
    ),
    Question(
        "In backpropagation through time for a simple RNN, what is the gradient of the loss with respect to "
        "the recurrent kernel W_h?",
        ("The gradient at the last step only, h_{T-1}^T δ_T",
         "The sum over the steps of h_{t-1}^T δ_t, since W_h is used at every step",
         "The mean over the steps of h_t^T δ_t",
         "The product over the steps of the per-step gradients"),
        1,
        ("W_h acts at every step, not only the last: each use contributes to the gradient.",
         "Right: the same W_h is used at every step, so its gradient collects every step's part, each paired "
         "with the state that met W_h there, the previous one h_{t-1}.",
         "Two mistakes: the shared weights' gradient is a sum (not a mean), and W_h multiplies the previous "
         "state h_{t-1}, not h_t.",
         "Products appear along the path back in time (that is the vanishing gradient), but the contributions "
         "of the different steps to W_h's gradient add up."),
    ),
    Question(
        "Going back one step in a simple RNN multiplies the gradient by diag(1 − h_t²) W_h^T. What happens to "
        "the gradient that reaches a step 40 steps before the loss when these factors have a norm of about 0.8?",
        ("It is about 0.8 · 40 = 32 times smaller",
         "It is about 0.8^40 ≈ 1.3·10⁻⁴ times the gradient at the loss: it vanishes",
         "Nothing: tanh keeps the gradient between −1 and 1",
         "It explodes, because 40 factors are multiplied"),
        1,
        ("The factors multiply, they do not add: the decay is geometric, 0.8^40.",
         "Right: 40 factors of 0.8 give 0.8^40 ≈ 1.3·10⁻⁴. The early steps get almost no learning signal: the "
         "vanishing gradient over time.",
         "tanh bounds the state, not the gradient; and its slope 1 − h² is at most 1, which makes the "
         "factors smaller, not safer.",
         "Products of factors above 1 explode; factors of 0.8 shrink the product towards 0."),
    ),
    Question(
        "In Keras's LSTM, the four blocks of the kernel (D, 4H), the recurrent kernel and the bias are in which order?",
        ("i, f, c, o: input gate, forget gate, candidate (cell) values, output gate",
         "i, f, o, c", "f, i, o, c", "c, i, f, o"),
        0,
        ("Right: z[:, :H] is the input gate, z[:, H:2H] the forget gate, z[:, 2H:3H] the candidate, z[:, 3H:] "
         "the output gate. Reading them in another order gives a different (wrong) cell.",
         "That puts the output gate third; Keras keeps the candidate (c) third and the output gate last.",
         "That is not Keras's layout: it starts with the input gate, then the forget gate.",
         "The candidate values are the third block, not the first."),
    ),
    Question(
        "An LSTM cell has f = 1 and i = 0 at every step after step 3. What happens to its cell state, and to "
        "the gradient flowing back along it?",
        ("Both are reset to 0",
         "The cell state stays exactly c_3, and the gradient along the cell passes back unchanged (times f = 1)",
         "The cell state grows by g at every step",
         "The hidden state h stays fixed, so nothing can be read from the cell"),
        1,
        ("f = 1 keeps the old cell state entirely; f = 0 would erase it.",
         "Right: c_t = 1 · c_{t-1} + 0 · g = c_{t-1}, and ∂c_t/∂c_{t-1} = f = 1, so the memory and its gradient "
         "both survive any number of steps. This is why the LSTM remembers.",
         "With i = 0 nothing is written: the candidate g is multiplied by 0.",
         "h_t = o · tanh(c_t) is read from the kept cell whenever the output gate o opens."),
    ),
    Question(
        "Why does Keras start the LSTM's forget-gate bias at 1 (unit_forget_bias=True)?",
        ("So that f = σ(1) ≈ 0.73 at the start: a fresh cell keeps most of its memory and its gradient reaches "
         "further back while it learns",
         "So that the cell forgets everything at the start and learns from scratch",
         "To make the forget gate's output exactly 1",
         "Because the sigmoid of 0 is undefined"),
        0,
        ("Right: with a bias of 0 the forget gate would start near 0.5, halving the memory (and the gradient "
         "along the cell) at every step; σ(1) ≈ 0.73 keeps much more (Jozefowicz et al., 2015).",
         "A larger forget gate keeps more of the old state, not less: the bias of 1 makes the cell remember.",
         "σ(1) ≈ 0.73, not 1: a sigmoid reaches 1 only in the limit. The bias only starts it closer to 1.",
         "σ(0) = 0.5 is perfectly defined; the point is that 0.5 forgets too fast."),
    ),
    Question(
        "On the week's memory task (the class shown at step 1 of 20, then noise), an LSTM reaches 100% and a "
        "SimpleRNN of the same size stays near 50%. What explains the SimpleRNN's failure?",
        ("A simple RNN cannot store one bit in its hidden state",
         "Its gradient from the last step back to step 1 passes 19 factors (1 − h²) W_h^T and vanishes, so "
         "training never finds the weights that would remember",
         "It has more parameters than the LSTM and overfits",
         "The task is impossible: the noise hides the class"),
        1,
        ("It can: a unit with a strong self-connection keeps its sign through the noise. The weights exist; "
         "gradient descent does not find them.",
         "Right: the loss's signal about step 1 shrinks geometrically on its way back, and the noise's "
         "gradients drown it; the LSTM's cell path, scaled by f alone, carries it.",
         "The LSTM has four times the parameters of a SimpleRNN of the same size, and the SimpleRNN is not "
         "fitting the training data either.",
         "The LSTM solves it, so the information is there: the class is shown clearly, with a marker, at step 1."),
    ),
])
