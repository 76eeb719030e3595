"""The functional graph with raw ops used by the opser goldens: built the same way by Keras 3
(tests/golden/make_opser_golden.py) and by nnforge (tests/saving/test_op_layer_saving.py), given
the library module (``keras`` or ``nnforge``)."""

INPUT_SHAPE = (4, 3)
SQUARE = (3, 3)


def build(k):
    """A model over ``(4, 3)`` and ``(3, 3)`` inputs whose graph holds raw ops of each family:
    binary arithmetic with tensors and Python scalars (both orders), unary math, reductions
    with axis/keepdims, concatenate/stack, reshape/transpose/expand_dims/squeeze, matmul,
    comparisons/where, getitem, and the activations the applications use."""
    ops = k.ops
    a = k.Input(INPUT_SHAPE, name="a")
    s = k.Input(SQUARE, name="s")
    d = k.layers.Dense(3, name="dense")(a)
    outs = {}
    x = a + d                       # Add, tensors
    x = x * (1.0 / 6.0)             # Multiply, scalar right
    x = 2.0 - x                     # Subtract, scalar left
    x = x / 3.0                     # TrueDivide
    x = 1.5 * x                     # Multiply, scalar left
    outs["arith"] = ops.maximum(ops.subtract(x, d), ops.power(ops.abs(d), 2.0))
    outs["unary"] = ops.sqrt(ops.abs(x)) + ops.exp(ops.negative(ops.square(x))) + \
        ops.tanh(x) + ops.log(1.0 + ops.abs(d)) + ops.sigmoid(d)
    outs["act"] = ops.relu6(d) + ops.hard_sigmoid(x) + ops.hard_swish(x) + ops.gelu(d)
    outs["mean"] = ops.mean(x, axis=1, keepdims=True)
    outs["sum"] = ops.sum(x, axis=(1, 2))
    outs["max"] = ops.max(d, axis=-1)
    outs["concat"] = ops.concatenate([x, d, outs["mean"]], axis=1)
    outs["stack"] = ops.stack([x, d], axis=1)
    outs["reshape"] = ops.reshape(ops.transpose(x, (0, 2, 1)), (-1, 12))
    outs["expand"] = ops.squeeze(ops.expand_dims(outs["max"], 1), axis=1)
    outs["matmul"] = ops.matmul(x, s)
    outs["where"] = ops.where(ops.greater(x, d), x, 0.5)
    outs["softmax"] = ops.softmax(x, axis=-1)
    outs["slice"] = x[:, 1:3]
    model = k.Model({"a": a, "s": s}, outs, name="opser")
    return model
