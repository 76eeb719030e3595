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


MORE_SHAPE = (4, 6)


def build_more(k):
    """A model over a ``(4, 6)`` input with more op families: cast, clip, split, flip, cumsum,
    tile, pad, std, argmax/one_hot, swapaxes, take, norm, logsumexp, sort, floor, erf, min,
    prod, dot with a constant tensor, tensordot with a NumPy constant, silu, log_softmax,
    einsum."""
    ops = k.ops
    a = k.Input(MORE_SHAPE, name="a")
    halves = ops.split(a, 2, axis=-1)
    outs = {
        "cast": ops.cast(a, "float16"),
        "clip": ops.clip(a, -0.5, 0.5),
        "split0": halves[0],
        "split1": halves[1],
        "flip": ops.flip(a, axis=1),
        "cumsum": ops.cumsum(a, axis=1),
        "tile": ops.tile(a, (1, 2, 1)),
        "pad": ops.pad(a, ((0, 0), (1, 1), (0, 0))),
        "std": ops.std(a, axis=1),
        "onehot": ops.one_hot(ops.argmax(a, axis=-1), 6),
        "swap": ops.swapaxes(a, 1, 2),
        "take": ops.take(a, [0, 2], axis=1),
        "norm": ops.norm(a, axis=-1),
        "logsumexp": ops.logsumexp(a, axis=1),
        "sort": ops.sort(a, axis=-1),
        "floor": ops.floor(a),
        "erf": ops.erf(a),
        "min": ops.min(a, axis=1, keepdims=True),
        "prod": ops.prod(a, axis=1),
        "dot": ops.dot(a, ops.ones((6, 2))),
        "tensordot": ops.tensordot(a, __import__("numpy").full((6, 3), 0.5, "float32"), axes=1),
        "silu": ops.silu(a),
        "lsm": ops.log_softmax(a, axis=-1),
        "einsum": ops.einsum("bij,bkj->bik", a, a),
    }
    return k.Model(a, outs, name="opser_more")
