"""Golden outputs of Keras 3 (TensorFlow backend) for the keras.ops nn/core functions,
keras.activations and the CTC loss that nnforge implements in ops/nn_extra.py, ops/core.py,
ops/ctc.py (tests/ops/test_nn_extra.py, tests/ops/test_core.py, tests/test_activations.py).

Run with the peers venv from the repository root:

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_opsnn_golden.py

It writes tests/golden/opsnn.npz: for case ``k``, the inputs ``k/in0``, ``k/in1``, ...,
the output ``k/y`` (``k/y0``, ``k/y1``, ... for several outputs), and for differentiable
cases the projection ``k/proj`` and the gradients ``k/g0``, ``k/g1``, ... of
``sum(y * proj)`` with respect to the inputs.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import ops  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "opsnn.npz")
rng = np.random.default_rng(17)
data = {}


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def away_from(x, points, gap=0.05):
    """Nudge values that sit within ``gap`` of a kink so finite differences stay valid."""
    x = x.copy()
    for p in points:
        close = np.abs(x - p) < gap
        x[close] = p + np.where(x[close] >= p, gap, -gap) * 2
    return x


def case(key, fn, inputs, grad=True):
    """Store inputs, outputs and (float inputs) gradients of sum(out * proj)."""
    for i, a in enumerate(inputs):
        data[f"{key}/in{i}"] = np.asarray(a)
    ts = [tf.constant(a) for a in inputs]
    with tf.GradientTape() as tape:
        for t in ts:
            if t.dtype.is_floating:
                tape.watch(t)
        out = fn(*ts)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        if grad:
            proj = [rng.standard_normal(tuple(o.shape)).astype(np.float32) for o in outs]
            loss = tf.add_n([tf.reduce_sum(tf.cast(o, tf.float32) * p)
                             for o, p in zip(outs, proj)])
    if len(outs) == 1:
        data[f"{key}/y"] = np.asarray(outs[0])
    else:
        for j, o in enumerate(outs):
            data[f"{key}/y{j}"] = np.asarray(o)
    if grad:
        for j, p in enumerate(proj):
            data[f"{key}/proj" + ("" if len(proj) == 1 else str(j))] = p
        gs = tape.gradient(loss, ts)
        for i, g in enumerate(gs):
            if g is not None and ts[i].dtype.is_floating:
                data[f"{key}/g{i}"] = np.asarray(g)


# ---- activations (ops) -----------------------------------------------------------------------
x_act = away_from(f32(3, 8, scale=2.0), [-3, -1, -0.5, 0, 0.3, 0.5, 1, 3])
for name in ["celu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh", "soft_shrink",
             "sparse_plus", "sparse_sigmoid", "squareplus", "tanh_shrink", "log_sigmoid",
             "sparsemax", "glu"]:
    case(f"ops.{name}", getattr(ops, name), [x_act])
case("ops.celu_a", lambda x: ops.celu(x, alpha=0.5), [x_act])
case("ops.squareplus_b", lambda x: ops.squareplus(x, b=2), [x_act])
case("ops.hard_shrink_t", lambda x: ops.hard_shrink(x, threshold=1.0), [x_act])
case("ops.soft_shrink_t", lambda x: ops.soft_shrink(x, threshold=1.0), [x_act])
case("ops.threshold", lambda x: ops.threshold(x, 0.3, -2.0), [x_act])
case("ops.sparsemax_0", lambda x: ops.sparsemax(x, axis=0), [x_act])
case("ops.glu_0", lambda x: ops.glu(x[:2], axis=0), [x_act])

# ---- keras.activations -----------------------------------------------------------------------
for name in ["celu", "glu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh",
             "log_sigmoid", "mish", "soft_shrink", "sparse_plus", "sparse_sigmoid", "sparsemax",
             "squareplus", "tanh_shrink"]:
    case(f"act.{name}", keras.activations.get(name), [x_act])
case("act.threshold", lambda x: keras.activations.threshold(x, 0.3, -2.0), [x_act])

# ---- normalization, losses, encodings --------------------------------------------------------
x4 = f32(2, 3, 4)
case("moments", lambda x: ops.moments(x, axes=[0, 2]), [x4])
case("moments_keep", lambda x: ops.moments(x, axes=[1], keepdims=True), [x4])
mean, var = f32(4), np.abs(f32(4)) + 0.5
off, sc = f32(4), f32(4)
case("batch_normalization", lambda x, m, v, o, s: ops.batch_normalization(
    x, m, v, axis=-1, offset=o, scale=s, epsilon=1e-3), [x4, mean, var, off, sc])
case("batch_normalization_plain", lambda x, m, v: ops.batch_normalization(
    x, m, v, axis=2), [x4, mean, var])
case("normalize", lambda x: ops.normalize(x, axis=-1), [x4])
case("normalize_l1", lambda x: ops.normalize(x, axis=1, order=1), [x4])
probs = (rng.uniform(0.05, 0.95, (3, 5))).astype(np.float32)
labels = (rng.uniform(size=(3, 5)) > 0.5).astype(np.float32)
case("binary_crossentropy", lambda t, o: ops.binary_crossentropy(t, o), [labels, probs])
case("binary_crossentropy_logits", lambda t, o: ops.binary_crossentropy(t, o, from_logits=True),
     [labels, f32(3, 5, scale=2.0)])
case("multi_hot", lambda x: ops.multi_hot(x, num_classes=6), [np.array([[0, 2, 2], [5, 1, -1]],
                                                                        np.int32)], grad=False)
case("multi_hot_1d", lambda x: ops.multi_hot(x, num_classes=5), [np.array([0, 4], np.int32)],
     grad=False)
x_img = f32(2, 4, 6, 8)
case("depth_to_space", lambda x: ops.depth_to_space(x, 2), [x_img])
case("depth_to_space_cf", lambda x: ops.depth_to_space(x, 2, data_format="channels_first"),
     [f32(2, 8, 3, 2)])
case("space_to_depth", lambda x: ops.space_to_depth(x, 2), [x_img])
case("space_to_depth_cf", lambda x: ops.space_to_depth(x, 2, data_format="channels_first"),
     [f32(2, 3, 4, 6)])
x_nchw = f32(2, 3, 5, 6)
case("unfold", lambda x: ops.unfold(x, 2), [x_nchw])
case("unfold_args", lambda x: ops.unfold(x, (3, 2), dilation=(1, 2), padding=1, stride=(2, 1)),
     [x_nchw])
case("fold", lambda x: ops.fold(x, (5, 6), 2), [f32(2, 12, 20)])
case("fold_args", lambda x: ops.fold(x, (5, 6), (3, 2), dilation=(1, 2), padding=1,
                                     stride=(2, 1)), [f32(2, 18, 18)])
case("extract_sequences", lambda x: ops.extract_sequences(x, 4, 3), [f32(2, 3, 11)])
case("psnr", lambda a, b: ops.psnr(a, b, 2.0), [f32(2, 4, 4), f32(2, 4, 4)])
r, th = np.abs(f32(3, 2)) + 0.1, f32(3, 2)
case("polar", lambda r, t: ops.polar(r, t), [r, th], grad=False)

# ---- CTC ------------------------------------------------------------------------------------
logits = f32(3, 7, 5, scale=1.5)
tgt = np.array([[1, 2, 2, 0], [3, 1, 4, 2], [4, 0, 0, 0]], np.int32)
tl, ol = np.array([3, 4, 1], np.int32), np.array([7, 6, 3], np.int32)
case("ctc_loss", lambda o: ops.ctc_loss(tgt, o, tl, ol), [logits])
data["ctc_loss/target"], data["ctc_loss/tl"], data["ctc_loss/ol"] = tgt, tl, ol
tgt2 = np.array([[0, 1, 0], [3, 3, 1], [1, 3, 4]], np.int32)
case("ctc_loss_mask2", lambda o: ops.ctc_loss(tgt2, o, np.array([3, 3, 2]), ol, mask_index=2),
     [logits])
data["ctc_loss_mask2/target"] = tgt2
y_true = np.array([[1, 2, 0], [3, 3, 1], [4, 0, 0]], np.int32)
case("losses.ctc", lambda o: keras.losses.ctc(y_true, o), [logits])
case("losses.CTC", lambda o: keras.losses.CTC()(y_true, o), [logits])
data["losses.ctc/y_true"] = y_true
dec_in = f32(3, 8, 5, scale=2.0)
lens = np.array([8, 5, 3], np.int32)
case("ctc_decode", lambda x: ops.ctc_decode(x, lens), [dec_in], grad=False)
case("ctc_decode_nomerge", lambda x: ops.ctc_decode(x, lens, merge_repeated=False,
                                                    mask_index=2), [dec_in], grad=False)
case("ctc_decode_beam", lambda x: ops.ctc_decode(x, lens, strategy="beam_search", beam_width=10,
                                                 top_paths=3), [dec_in], grad=False)
case("ctc_decode_beam_m4", lambda x: ops.ctc_decode(x, lens, strategy="beam_search",
                                                    beam_width=6, top_paths=2, mask_index=4),
     [dec_in], grad=False)
data["ctc_decode/lens"] = lens

# ---- core ------------------------------------------------------------------------------------
xs, w = f32(5, 3), f32(3)


def scan_fn(x, w):
    def step(c, xi):
        c = c * 0.5 + xi * w
        return c, c * c
    return ops.scan(step, ops.zeros((3,)), x)


case("scan", scan_fn, [xs, w])
case("scan_reverse", lambda x, w: ops.scan(lambda c, xi: (c + xi * w, c), ops.ones((3,)), x,
                                           reverse=True), [xs, w])
case("fori_loop", lambda w: ops.fori_loop(0, 4, lambda i, v: v * w + 1.0, w), [w])
case("while_loop", lambda w: ops.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * w + v),
                                            (0, w))[1], [w])
case("map", lambda x: ops.map(lambda r: ops.sum(r * r), x), [xs])
case("associative_scan", lambda x: ops.associative_scan(lambda a, b: a * b, x, axis=0), [xs])
case("associative_scan_rev", lambda x: ops.associative_scan(ops.add, x, reverse=True, axis=1),
     [xs])
case("vectorized_map", lambda x: ops.vectorized_map(lambda r: ops.sum(r) * r, x), [xs])


@ops.custom_gradient
def clipped_identity(x):
    def grad(upstream):
        return ops.clip(upstream, -0.1, 0.1)
    return x * 1.0, grad


case("custom_gradient", lambda x: clipped_identity(x) * 3.0, [xs])
prim, tang = f32(3), f32(3)
case("jvp", lambda p, t: ops.jvp(lambda a: ops.sin(a) * ops.sum(a * a), (p,), (t,)), [prim, tang],
     grad=False)
idx = np.array([[0, 1], [2, 0], [0, 1]], np.int32)
case("scatter", lambda v: ops.scatter(idx, v, (3, 2, 2)), [f32(3, 2)])
base = f32(3, 2)
uidx = np.array([[2, 0], [0, 1]], np.int32)
upd = f32(2)
for red in [None, "add", "max", "min", "mul"]:
    case(f"scatter_update_{red}", lambda b, u, red=red: ops.scatter_update(b, uidx, u,
                                                                         reduction=red),
         [base, upd], grad=red in (None, "add"))
case("scatter_update_rows", lambda b, u: ops.scatter_update(b, np.array([[1]], np.int32), u),
     [base, f32(1, 2)])
case("slice", lambda x: ops.slice(x, (1, 0, 2), (1, 3, 2)), [x4])
case("slice_update", lambda x, u: ops.slice_update(x, (0, 1, 1), u), [x4, f32(2, 2, 3)],
     grad=False)  # no TF gradient (XlaDynamicUpdateSlice); tested by finite differences
seg_data = away_from(f32(6, 2), [0.0])
seg_ids = np.array([0, 0, 2, 1, 2, 2], np.int32)
for op in ["segment_sum", "segment_max", "segment_min", "segment_prod"]:
    case(op, lambda d, op=op: getattr(ops, op)(d, seg_ids), [seg_data])
    case(op + "_n", lambda d, op=op: getattr(ops, op)(d, seg_ids, num_segments=4), [seg_data])
    case(op + "_sorted", lambda d, op=op: getattr(ops, op)(d, np.array([0, 0, 1, 1, 3, 3],
                                                                         np.int32), sorted=True),
         [seg_data])
case("saturate_cast_u8", lambda x: ops.saturate_cast(x, "uint8"),
     [np.array([-5.0, 0.4, 254.6, 300.0, np.inf], np.float32)], grad=False)
case("saturate_cast_i8", lambda x: ops.saturate_cast(x, "int8"),
     [np.array([-500, -3, 7, 200], np.int32)], grad=False)
case("get_item", lambda x: ops.get_item(x, (slice(0, 2), 1)), [x4])
cond_a = x_act[0] > 0.5
cond_b = x_act[0] < -0.5
case("select", lambda a, b: ops.select([cond_a, cond_b], [a, b], -1.0), [x_act[1], x_act[2]])
case("unique", lambda x: ops.unique(x, return_index=True, return_inverse=True,
                                    return_counts=True),
     [np.array([3, 1, 2, 1, 7, 3], np.int32)], grad=False)
case("unique_unsorted", lambda x: ops.unique(x, sorted=False, return_inverse=True),
     [np.array([3, 1, 2, 1, 7, 3], np.int32)], grad=False)
case("unique_size", lambda x: ops.unique(x, size=6, fill_value=-1, return_counts=True),
     [np.array([3, 1, 2, 1], np.int32)], grad=False)
case("unique_axis", lambda x: ops.unique(x, axis=0, return_inverse=True),
     [np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]], np.int32)], grad=False)
case("cdist", lambda a, b: ops.cdist(a, b), [f32(2, 4, 3), f32(2, 5, 3)])
case("cond", lambda x: ops.cond(ops.sum(x) > 0, lambda: x * 2.0, lambda: x * -1.0), [xs])
case("switch", lambda x: ops.switch(5, [lambda a: a * 2.0, lambda a: ops.sin(a)], x), [xs])

np.savez_compressed(OUT, **data)
print(f"wrote {OUT}: {len(data)} arrays, {os.path.getsize(OUT)} bytes")
