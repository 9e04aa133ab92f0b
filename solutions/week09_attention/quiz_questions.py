"""Week 9 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week09_attention` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 9: attention, the transformer block and choosing an architecture", [
    Question(
        "A query meets three keys and their values. Attention's output for that query is:",
        ("The value of the key with the largest score, as a dictionary would return it",
         "The weighted mean of all the values, with weights softmax(q·k_j / √d_k) over the keys",
         "The weighted mean of the keys, with weights softmax(q·v_j)",
         "The sum of the scores q·k_j times the values, without a softmax"),
        1,
        ("That is a hard lookup. Attention is a soft one: every value contributes, each by its weight, so the "
         "output is differentiable and the queries and keys can be learnt.",
         "Right: the scores compare the query with every key, the softmax over the keys makes them positive "
         "weights that sum to 1, and the output is Σ_j w_j v_j.",
         "The keys decide the weights, the values are what is averaged: out = Σ_j softmax(q·k / √d_k)_j v_j.",
         "Without the softmax the weights are neither positive nor normalized: a large score would blow the "
         "output up, and masking would not work."),
    ),
    Question(
        "Queries and keys have d_k = 64 independent entries of mean 0 and variance 1. What is the standard "
        "deviation of a score q·k before the scaling, and why divide by √d_k?",
        ("1; the division makes the scores smaller for speed",
         "8 = √64; divided by √d_k the scores have variance 1, so the softmax does not saturate",
         "64; dividing by √d_k makes the variance exactly 0",
         "8; the division is needed because the softmax cannot take numbers above 8"),
        1,
        ("q·k sums 64 products, each of variance 1: the variance adds up to 64, the standard deviation is 8.",
         "Right: Var(q·k) = d_k = 64, a spread of ±8. Scores that far apart make the softmax nearly one-hot and "
         "its gradient w_i(δ_ij − w_j) nearly 0; dividing by √64 = 8 brings the variance back to 1.",
         "The variance of q·k is 64 (its standard deviation 8); divided by √d_k it becomes 1, not 0.",
         "The softmax takes any numbers (it subtracts the largest first); the problem is that a large spread "
         "saturates it, leaving one weight near 1 and no gradient."),
    ),
    Question(
        "How does a mask stop a query from attending to a key?",
        ("The key's score is set to a large negative number (−10⁹) before the softmax, so its weight is 0 and "
         "the other weights still sum to 1",
         "The key's weight is set to 0 after the softmax",
         "The key's score is set to 0 before the softmax",
         "The key's value is set to 0"),
        0,
        ("Right: exp(−10⁹ − max) is 0 in floating point, so the masked key gets weight 0 and the softmax "
         "shares the whole weight among the allowed keys.",
         "Then the remaining weights sum to less than 1, and the output shrinks towards 0.",
         "0 is an ordinary score: a key with score 0 still gets weight e⁰ / Σ e^s, often a large one.",
         "The key still takes its share of the weight: the output is pulled towards 0 instead of the allowed values."),
    ),
    Question(
        "A causal mask for T = 4 positions (True = may attend) lets query i attend to which keys?",
        ("Keys i, i + 1, ..., 3: itself and the future",
         "Keys 0, 1, ..., i: itself and the past, a lower-triangular mask",
         "Key i only",
         "Every key except i"),
        1,
        ("That is the mask transposed: every query would see the tokens it is meant to predict.",
         "Right: row i of the mask is True up to column i. A model predicting the next token sees only what "
         "came before; Keras's use_causal_mask=True builds the same lower triangle.",
         "That would make attention useless: each position could only copy itself.",
         "A position is allowed to look at itself; a causal mask hides only the future."),
    ),
    Question(
        "keras.layers.MultiHeadAttention(num_heads=4, key_dim=16) gets inputs with D = 32 features. What is "
        "the shape of its query kernel, and how are the heads split for the batched attention?",
        ("(32, 64); the projection (N, T, 64) is reshaped straight to (N, 4, T, 16)",
         "(32, 4, 16); the projection (N, T, 4·16) is reshaped to (N, T, 4, 16) and transposed to (N, 4, T, 16)",
         "(4, 16, 32); each head gets a quarter of the tokens",
         "(32, 16), shared by the four heads"),
        1,
        ("Keras keeps the heads as an axis of their own, (D, heads, key_dim); and a reshape straight to "
         "(N, 4, T, 16) cuts the sequence into pieces instead of the features.",
         "Right: each head has its own (32, 16) slice of the (32, 4, 16) kernel; splitting keeps every token "
         "whole and gives each head its 16 features of every token. (4, 16, 32) is the output kernel's shape.",
         "(heads, key_dim, D) is the output kernel's layout. Heads split the features, never the tokens: every "
         "head sees the whole sequence.",
         "Each head has its own projection: that is what lets the heads look for different things."),
    ),
    Question(
        "Self-attention without a positional encoding reads \"dog bites man\" and \"man bites dog\". What does "
        "it give?",
        ("Different outputs, since the words come in another order",
         "The same three output vectors, in the permuted order: attention by itself does not see positions",
         "An error: attention needs a fixed order",
         "The same outputs only if a causal mask is used"),
        1,
        ("Each output is a weighted mean over all the tokens with weights from their contents only: the order "
         "never enters the computation.",
         "Right: permuting the tokens permutes the outputs and changes nothing else, so \"who bit whom\" is lost. "
         "Adding a positional encoding (sinusoidal, or learnt) to the inputs makes the order visible.",
         "Attention works on sets of any order; that is exactly why it needs positions added.",
         "A causal mask does make the order matter (each token sees only earlier ones), but the usual encoder "
         "has no mask and relies on the positional encoding."),
    ),
    Question(
        "In the transformer encoder block (post-norm, as in Keras's examples), what comes right after the "
        "multi-head attention a = MHA(x, x)?",
        ("LayerNorm(x + a): a residual connection, then layer normalization over each position's features",
         "BatchNorm(a), normalizing each feature over the batch",
         "softmax(a), to turn the output into weights",
         "A second attention, MHA(a, a), with no feed-forward network in the block"),
        0,
        ("Right: h1 = LayerNorm(x + a), then the position-wise feed-forward f = Dense(D)(Dense(F, relu)(h1)), "
         "then out = LayerNorm(h1 + f). The residuals give the gradient a direct path through many blocks.",
         "Transformers use layer normalization (week 6), per position and independent of the batch, which suits "
         "sequences of varying length.",
         "The softmax is inside the attention, over the keys; its output is a mix of values, not weights.",
         "Each block has one attention and one feed-forward network; the feed-forward part transforms each "
         "position on its own."),
    ),
    Question(
        "In the lesson's measured comparison, which network did best on the 14x14 digit images for its size, "
        "and which was weakest on the task \"does A come before B?\"",
        ("The transformer on both: it is the most general architecture",
         "The CNN was best on the images, and the CNN with global max pooling was the weakest on the order task",
         "The dense network on the images; the LSTM on the order task",
         "They all reach the same accuracy; only the training time differs"),
        1,
        ("On small images and a few epochs the transformer, reading rows as tokens, was well behind the CNN: it has "
         "to learn what a CNN has built in, and needs more data and training for it.",
         "Right: local filters shared over the image suit images; but a CNN that pools over positions sees which "
         "symbols occur, not in which order, so the order task is where it falls short. Choose the architecture "
         "whose built-in assumptions match the data.",
         "The dense network had the most parameters and was less accurate than the CNN on the images; the LSTM "
         "reads in order and solved the order task.",
         "The table shows clear differences in accuracy, from near-perfect to far behind, not just in time."),
    ),
])
