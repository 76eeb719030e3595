"""nnforge.ops: array functions with Keras's names, differentiable under ``GradientTape``.

Each op accepts nnforge Tensors/Variables, NumPy arrays (any dtype or strides: converted), CuPy
arrays and Python scalars, and returns an nnforge ``Tensor``."""
from .math import *  # noqa: F401,F403
from .math import abs, all, any, max, min, sum  # noqa: F401  (names that * skips in linters)
from .nn import (average_pool, binary_crossentropy_mean, categorical_crossentropy, conv,  # noqa
                 conv_transpose, dense, dropout, elu, embedding_lookup, extract_patches, exponential, gelu, hard_sigmoid, leaky_relu, linear,
                 log_softmax, matmul, max_pool, mean_squared_error, relu, relu6, selu, sigmoid,
                 silu, softmax, softplus, softsign, sparse_categorical_crossentropy, swish, tanh)

conv2d = conv
from .rnn import fused_rnn_available, gru_sequence, lstm_sequence  # noqa: F401,E402
