"""Week 6 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week06_training_deep` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 6: training deep networks", [
    Question(
        "Every weight of a network with one hidden layer of 50 tanh units is set to 0.1 before training. "
        "What happens to the 50 hidden units during gradient descent?",
        ("They all die: tanh of equal inputs is 0",
         "Gradient descent quickly makes them different, because each sees different inputs",
         "They stay identical for ever: equal weights give equal outputs, equal gradients and equal steps",
         "Nothing goes wrong: the biases break the symmetry"),
        2,
        ("tanh(z) is 0 only for z = 0; here the units compute the same non-zero value. The problem is that "
         "they are the same, not that they are zero.",
         "Every hidden unit sees the same inputs (all of them): that is what a dense layer is. With equal "
         "weights they compute the same thing, so they get the same gradient; nothing ever separates them.",
         "Right: two units with the same incoming weights compute the same value for every input, receive "
         "the same gradient and take the same step, so they are equal again after it. The layer acts like "
         "a single unit. Random initial weights break the symmetry.",
         "The biases start equal too (0 in Keras) and get equal gradients, so they stay equal as well. "
         "Only different weights make the units different."),
    ),
    Question(
        "A dense kernel has shape (256, 128) and the next layer applies ReLU. Which standard deviation does "
        "He initialization give its weights?",
        ("√(2/128) ≈ 0.125", "√(2/256) ≈ 0.088", "2/256 ≈ 0.0078", "√(6/256) ≈ 0.153"),
        1,
        ("That uses the fan-out (128, the units the layer feeds). He's variance is 2 / fan_in, and the "
         "fan-in of a (D, M) kernel is D = 256: each unit adds up 256 inputs.",
         "Right: Var(W) = 2 / fan_in with fan_in = 256, so the standard deviation is √(2/256) ≈ 0.088. "
         "The 2 makes up for the half of the signal that ReLU zeroes.",
         "2 / fan_in is the variance; the standard deviation is its square root, √(2/256) ≈ 0.088.",
         "√(6/fan_in) is the limit r of He's uniform version, U(−r, r), whose standard deviation is r/√3 = "
         "√(2/256): a limit is not a standard deviation."),
    ),
    Question(
        "What are fan-in and fan-out of a convolution kernel of shape (3, 3, 16, 32): a 3x3 window, 16 "
        "input channels, 32 filters?",
        ("16 and 32", "144 and 288", "9 and 9", "4608 and 4608"),
        1,
        ("Each output value adds up a 3x3 window of all 16 channels, not one value per channel: the window "
         "counts too. fan_in = 3·3·16 = 144.",
         "Right: each output adds up KH·KW·C = 3·3·16 = 144 inputs, and each input feeds KH·KW·M = "
         "3·3·32 = 288 outputs. That is Keras's rule for every convolution kernel.",
         "The window alone leaves out the channels: each of the 9 positions contributes all 16 input "
         "channels, 144 inputs in all.",
         "That is the number of weights in the kernel, 3·3·16·32; fan-in and fan-out count the inputs of one "
         "unit and the outputs of one input."),
    ),
    Question(
        "A 30-layer network of sigmoid units, initialised with Glorot's weights, trains its last layers, but "
        "its first layers hardly move. Why?",
        ("The gradients explode: the first layers take steps so large that they overshoot",
         "The first layers have more weights than the last ones, so each weight gets a smaller share of the "
         "gradient",
         "Sigmoid's slope is at most 1/4, and backpropagation multiplies the gradient by it at every layer: by "
         "the first layers it has shrunk by many orders of magnitude",
         "Glorot's variance is too large for sigmoid: weights 100 times smaller would fix it"),
        2,
        ("Exploding gradients make the first layers move too much, not too little. Here the weights are "
         "well scaled, and what shrinks the gradient is the activation's slope.",
         "Every layer here has the same shape; and a weight's gradient does not depend on how many weights "
         "share the layer. It depends on what the gradient went through on its way back.",
         "Right: each sigmoid layer multiplies the gradient by σ'(z) ≤ 1/4 (times a well-scaled weight "
         "factor of about 1), so after 30 layers it is about 4⁻³⁰ ≈ 10⁻¹⁸ of its size at the top: vanishing "
         "gradients. In the lesson's table it is 10⁻²⁸ after 50 layers. ReLU, whose slope is 1, or batch "
         "normalization avoid it.",
         "Smaller weights make it worse: the gradient is multiplied by the weights too on its way back, and "
         "the forward signal would shrink to sigmoid(0) = 0.5 everywhere."),
    ),
    Question(
        "A Dropout layer with rate 0.2 receives the value x = 5 during training. What can it output, and "
        "what does it output at inference?",
        ("Training: 0 or 6.25. Inference: 6.25",
         "Training: 0 or 5. Inference: 4",
         "Training: 0 or 4. Inference: 5",
         "Training: 0 or 6.25. Inference: 5"),
        3,
        ("At inference nothing is dropped and nothing is scaled: the scaling in training already made the "
         "expected value equal to x = 5.",
         "That is the original, non-inverted dropout (scale by 1 − rate at inference). Keras and PyTorch use "
         "inverted dropout: the scaling happens in training, and inference is the identity.",
         "The kept values are divided by the keep probability, 1 − 0.2 = 0.8, not multiplied by it: 5 / 0.8 = "
         "6.25. Multiplying would make the training outputs smaller on average than at inference.",
         "Right: inverted dropout drops the value with probability 0.2 and otherwise scales it by "
         "1/(1 − 0.2) = 1.25, so its expected value is 0.8 · 6.25 = 5, the same as at inference, where "
         "dropout does nothing."),
    ),
    Question(
        "With Keras's kernel_regularizer=L2(0.01), what is added to the gradient of a kernel W at each "
        "step, and what happens to the layer's bias?",
        ("0.01·W is added; the bias gets the same penalty",
         "0.02·W is added; the bias gets no penalty",
         "0.005·W is added; the bias gets no penalty",
         "0.02·W is added to the kernel and to the bias"),
        1,
        ("The derivative of λW² is 2λW: the factor 2 is part of the gradient because Keras's penalty has no ½. "
         "And the bias has its own bias_regularizer, None by default.",
         "Right: Keras's L2(λ) adds λ·ΣW² (no ½) to the loss, whose gradient is 2λW = 0.02·W. A "
         "kernel_regularizer applies to the kernel only; a bias only shifts a unit, and shrinking it does "
         "nothing against overfitting.",
         "That would be the gradient of ¼·λΣW². Keras's L2(λ) is λΣW², with gradient 2λW.",
         "A kernel_regularizer touches the kernel only; the bias is regularised only if you give the layer a "
         "bias_regularizer too."),
    ),
    Question(
        "EarlyStopping(patience=2, min_delta=0.05, restore_best_weights=True) watches these validation "
        "losses: 1.00, 0.80, 0.78, 0.76, 0.69, 0.72. After which epoch does training stop, and which "
        "epoch's weights are kept?",
        ("It stops after epoch 6 and keeps epoch 4",
         "It stops after epoch 4 and keeps epoch 2",
         "It never stops early, and keeps epoch 5",
         "It stops after epoch 6 and keeps epoch 6"),
        1,
        ("Epoch 3 (0.78) is not below 0.80 − 0.05 = 0.75, and epoch 4 (0.76) is not below 0.75 either: two "
         "epochs in a row without an improvement, so the training stops after epoch 4.",
         "Right: epoch 2 improves (0.80 < 1.00 − 0.05); 0.78 and 0.76 are both not below the best by more "
         "than 0.05, so after epoch 4 the patience of 2 is used up, and the weights of epoch 2 come back.",
         "0.69 is the lowest loss, but an improvement must beat the best by more than min_delta, and the "
         "training has already stopped after epoch 4 by then.",
         "restore_best_weights puts back the weights of the best epoch, not the last; and the training stops "
         "earlier, after epoch 4."),
    ),
    Question(
        "During training, a BatchNormalization layer sees a batch whose channel has mean 2.0; its running "
        "mean was 0.0. With Keras's momentum = 0.99, what is the running mean after this step, and what "
        "does the layer normalise with at inference?",
        ("0.02; the mean and variance of the batch it is given",
         "1.98; the running mean and variance",
         "0.02; the running mean and variance",
         "2.0; the mean and variance of the batch it is given"),
        2,
        ("0.02 is right, but at inference batch norm uses the running averages: a single example has no "
         "variance of its own, and a prediction must not depend on the other examples of its batch.",
         "That gives the new batch the weight 0.99. Keras's momentum is the weight of the OLD running value: "
         "0.99 · 0.0 + 0.01 · 2.0 = 0.02.",
         "Right: running = 0.99 · 0.0 + 0.01 · 2.0 = 0.02: momentum weighs the old value. At inference the "
         "layer uses the running statistics, so that a prediction does not depend on the rest of its batch.",
         "The running mean moves only 1% of the way to the batch's mean per step; and the batch's own "
         "statistics are used in training only."),
    ),
    Question(
        "In one step the gradient of the first kernel has norm 3.0 and that of the second kernel norm 4.0. "
        "The optimizer has global_clipnorm=1.0. What are the two norms after clipping?",
        ("1.0 and 1.0", "0.6 and 0.8", "3.0 and 4.0", "about 0.43 and 0.57"),
        1,
        ("That is clipnorm=1.0, which clips each array on its own. It changes the direction of the whole "
         "step: the first kernel now moves as far as the second, where it moved 3/4 as far.",
         "Right: the global norm is √(3² + 4²) = 5 > 1, so every gradient is multiplied by 1/5: norms 0.6 "
         "and 0.8, a step of length 1 in the same direction as before.",
         "The global norm is √(3² + 4²) = 5, more than 1.0, so the gradients are scaled down. Clipping "
         "leaves a gradient alone only when its norm is at most the threshold.",
         "That divides by 3 + 4 = 7, the sum of the norms. The global norm is the norm of all the arrays "
         "together, √(3² + 4²) = 5."),
    ),
    Question(
        "A CNN for 3-D scans fits only 2 scans per batch in memory. Which normalization suits it, and why?",
        ("Batch normalization with momentum 0.999, so the running averages are steadier",
         "Group normalization: each scan is standardised on its own, over groups of channels and all "
         "positions, whatever the batch size",
         "None: normalization needs batches of at least 32",
         "Batch normalization at inference mode during training too, so it does not depend on the batch"),
        1,
        ("Momentum only smooths the running averages used at inference. In training each step still "
         "normalises with the mean and variance of 2 scans, which are mostly noise.",
         "Right: group (or layer) normalization takes its statistics from each example alone, so a batch of "
         "2 is no worse than a batch of 200, and training and inference compute the same thing.",
         "Layer and group normalization work with any batch size, even one example: their statistics come "
         "from each example's own features.",
         "The running statistics start at mean 0 and variance 1 and would never be updated: the layer would "
         "not normalise anything."),
    ),
    Question(
        "You train on 120 digit images and want more training data by augmentation. Which transformation "
        "is a sound one for the digits?",
        ("Rotate each image by 180°",
         "Flip each image left to right",
         "Shift each image by one or two pixels in a random direction",
         "Add the validation images to the training set"),
        2,
        ("A 6 turned by 180° is a 9: the transformation must keep the label, and this one changes it "
         "for some digits.",
         "A mirrored 2, 3, 4, 5 or 7 is not a digit anyone writes: the network would learn shapes that "
         "never occur, and a mirrored 2 looks a lot like a 5.",
         "Right: a digit moved by a pixel or two is still the same digit, written slightly elsewhere, "
         "which is exactly the variation new images will have. The lesson's shifted digits do this.",
         "That is not augmentation, and it leaves no honest validation set to tune the training on: "
         "the validation loss would no longer say how the network does on new data."),
    ),
])
