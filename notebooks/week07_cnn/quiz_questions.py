"""Week 7 knowledge check: the questions, the right answers and why each option is right or wrong.

Edit here, then run `python -m autograder release week07_cnn` to copy it to notebooks/.
"""

from nblib.quiz import Question, Quiz

QUIZ = Quiz("Week 7: convolutional networks", [
    Question(
        "A 3x3 filter slides over a 28x28 grey image with stride 1 and padding='valid'. What is the shape of "
        "the feature map it makes?",
        ("28x28", "26x26", "25x25", "9x9"),
        1,
        ("That is padding='same', which adds a border of zeros so that the window can be centred on every pixel. "
         "'valid' adds nothing, so the window cannot go past the edge.",
         "Right: the window's top-left corner can be at rows 0 to 25, H' = (28 − 3) // 1 + 1 = 26, and the same "
         "for the columns.",
         "That forgets the + 1: (28 − 3) = 25 counts the steps between the first and the last position, and "
         "there is one more position than steps.",
         "9 is the number of weights in the filter (3·3), not the number of positions it takes."),
    ),
    Question(
        "What does stride 2 with padding='same' do to a 15x15 input?",
        ("It gives 7x7: (15 − 1) // 2", "It gives 8x8: ceil(15 / 2)", "It gives 15x15: 'same' keeps the size",
         "It gives 16x16: the padding adds a row and a column"),
        1,
        ("That rounds down. 'same' pads so that every second pixel starts a window, the last one (pixel 14) too: "
         "ceil(15 / 2) = 8.",
         "Right: with 'same' the output has ceil(H / S) rows. TensorFlow pads the extra zero (if any) at the bottom "
         "and the right.",
         "'same' keeps the size only for stride 1; a stride of 2 still takes every second position.",
         "The padding makes room for the windows; the output size counts the windows' positions, ceil(15 / 2)."),
    ),
    Question(
        "Keras's Conv2D computes out[i, j] = Σ x[i + p, j + q] · W[p, q]. A textbook convolution would use "
        "W[K − 1 − p, K − 1 − q]. Does it matter for a CNN?",
        ("Yes: Keras's layer cannot detect edges", "No for training: the kernel is learned, so it learns the flipped "
         "kernel instead; it matters only when loading weights from elsewhere", "Yes: cross-correlation is not "
         "translation-equivariant", "No: the two are always equal"),
        1,
        ("An edge detector is just a kernel; cross-correlation with the flipped kernel finds the same edges.",
         "Right: Keras (and every deep-learning library) cross-correlates. Since the weights are learned, a network "
         "simply learns the flipped kernel; only hand-made or imported kernels must be flipped on purpose.",
         "Both operations slide the same kernel everywhere, so both are translation-equivariant.",
         "They are equal only for kernels that are symmetric under a 180° turn (a blur, for example)."),
    ),
    Question(
        "How many parameters does Conv2D(64, 3) have when its input has 32 channels?",
        ("3·3·64 + 64 = 640", "3·3·32·64 = 18,432", "3·3·32·64 + 64 = 18,496", "(3·3 + 1)·32·64 = 20,480"),
        2,
        ("Each of the 64 filters spans all 32 input channels, not one: 3·3·32 weights per filter.",
         "Those are the weights; each filter also has one bias.",
         "Right: 64 filters of 3·3·32 weights, plus one bias per filter. It is the seed CNN's second layer, and it "
         "does not depend on the image's height and width (weight sharing).",
         "A filter has one bias, not one per input channel: + 64, not + 32·64."),
    ),
    Question(
        "A dense layer maps a 28x28x1 image to 26·26·32 outputs, as many as Conv2D(32, 3) makes. About how many "
        "parameters does it have, against the convolution's 320?",
        ("About 640", "About 21,600", "About 17 million", "The same 320: both make the same outputs"),
        2,
        ("That would be two weights per output; every dense output is connected to all 784 pixels.",
         "That is the number of outputs (plus the biases would be that many); each output also has 784 weights.",
         "Right: 784 · 21,632 + 21,632 ≈ 17 million. The convolution connects each output to a 3x3 patch only and "
         "uses the same 32 filters at every position: local connections and weight sharing.",
         "The outputs have the same shape, but the dense layer learns a separate weight for every pixel and output."),
    ),
    Question(
        "Max pooling 2x2 is applied to a feature map of shape (13, 13, 32). What comes out, and what does the "
        "layer learn?",
        ("(6, 6, 32); it learns nothing: it has no parameters", "(7, 7, 32); 4 weights per channel",
         "(6, 6, 1); the maximum over the channels", "(13, 13, 32); it only removes negative values"),
        0,
        ("Right: windows of 2x2 that do not overlap, 13 // 2 = 6 in each direction (the last row and column are "
         "dropped with 'valid'), each channel on its own; a maximum has nothing to learn.",
         "7 would keep a partial window ('same' padding). And pooling has no weights: it takes a maximum.",
         "Pooling works on each channel on its own; it keeps all 32.",
         "That is ReLU. Pooling shrinks the map, keeping the largest value of each window."),
    ),
    Question(
        "Why does a CNN recognise a digit moved by two pixels better than an MLP trained on the same images?",
        ("Its filters are larger than the MLP's weights", "The same filters are applied at every position, so a "
         "moved stroke gives the same response, moved; pooling then ignores small moves", "A CNN has more "
         "parameters, so it memorises every position", "Convolutions rotate the image back into place"),
        1,
        ("A 3x3 filter is tiny; size is not what helps.",
         "Right: convolution is equivariant to shifts (shift the input, the feature map shifts with it), and max "
         "pooling keeps the largest response of each window wherever in the window it is. An MLP has one weight "
         "per pixel and must learn each position separately.",
         "The CNN has far fewer parameters than an MLP of the same width; sharing them is what helps.",
         "Convolutions do not undo rotations (or shifts); they respond to the same pattern wherever it is."),
    ),
    Question(
        "After Conv2D(3x3) → MaxPooling2D(2x2) → Conv2D(3x3), how large is the patch of the input that one output "
        "of the second convolution depends on (its receptive field)?",
        ("3x3", "5x5", "8x8", "12x12"),
        2,
        ("That is the receptive field of the first convolution only.",
         "Two 3x3 convolutions in a row without pooling would see 5x5; the pooling in between doubles the step.",
         "Right: the first layer sees 3x3; a pooled unit covers two of those, 4x4; the second convolution combines "
         "3x3 pooled units, each a step of 2 pixels apart: 4 + 2·2 = 8 pixels in each direction.",
         "That multiplies the sizes; receptive fields grow by (kernel − 1) × the step between units."),
    ),
])
