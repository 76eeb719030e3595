"""keras.ops nn functions of ops/nn_extra.py: values and gradients against Keras 3 (TF backend)
golden outputs (tests/golden/make_opsnn_golden.py), finite-difference gradient checks, errors,
and use on functional-API KerasTensors."""
import numpy as np
import pytest

import nnforge
from nnforge import ops
from tests.golden.opsnn_cases import check_case, golden
from tests.helpers import check_grads

rng = np.random.default_rng(3)

ACTIVATIONS = ["celu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh", "soft_shrink",
               "sparse_plus", "sparse_sigmoid", "squareplus", "tanh_shrink", "log_sigmoid",
               "glu"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_ops_match_keras(name):
    check_case(f"ops.{name}", getattr(ops, name))


@pytest.mark.parametrize("key,fn", [
    ("ops.celu_a", lambda x: ops.celu(x, alpha=0.5)),
    ("ops.squareplus_b", lambda x: ops.squareplus(x, b=2)),
    ("ops.hard_shrink_t", lambda x: ops.hard_shrink(x, threshold=1.0)),
    ("ops.soft_shrink_t", lambda x: ops.soft_shrink(x, threshold=1.0)),
    ("ops.threshold", lambda x: ops.threshold(x, 0.3, -2.0)),
    ("ops.glu_0", lambda x: ops.glu(x[:2], axis=0)),
])
def test_activation_arguments_match_keras(key, fn):
    check_case(key, fn)


@pytest.mark.parametrize("name", ["celu", "hard_silu", "sparse_plus", "squareplus",
                                  "tanh_shrink", "mish", "glu", "sparsemax"])
def test_activation_grads_finite_differences(name):
    x = rng.standard_normal((3, 6)) * 2
    x[np.abs(np.abs(x) - 1) < 0.05] += 0.2  # keep away from the kinks at +-1
    check_grads(getattr(ops, name), [x])


def ref_sparsemax(x, axis=-1):
    """The definition: project each slice onto the simplex (sort, find the support size k,
    tau = (sum of the k largest - 1) / k)."""
    x = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        v = x[idx]
        z = np.sort(v)[::-1]
        cs = np.cumsum(z)
        k = np.max(np.nonzero(1 + np.arange(1, v.size + 1) * z > cs)[0]) + 1
        out[idx] = np.maximum(v - (cs[k - 1] - 1) / k, 0)
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("key,axis", [("ops.sparsemax", -1), ("ops.sparsemax_0", 0),
                                      ("act.sparsemax", -1)])
def test_sparsemax_matches_definition_and_keras_where_keras_is_right(key, axis):
    """Keras 3.15's sparsemax is right only where a single entry is nonzero (see
    ops/nn_extra.py): compare those slices with Keras, all of them with the definition."""
    g = golden()
    x = g[f"{key}/in0"]
    y = ops.sparsemax(x, axis=axis).numpy()
    np.testing.assert_allclose(y, ref_sparsemax(x, axis), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-5)
    keras_y = g[f"{key}/y"]
    ok = np.isclose(keras_y.sum(axis=axis), 1.0)
    assert ok.any()
    np.testing.assert_allclose(np.moveaxis(y, axis, -1)[ok], np.moveaxis(keras_y, axis, -1)[ok],
                               rtol=1e-5, atol=1e-6)


def test_sparsemax_is_a_distribution_with_zeros():
    y = ops.sparsemax(np.array([[1.0, 2.0, 5.0], [0.1, 0.2, 0.15]], "float32")).numpy()
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y[0], [0, 0, 1])


def test_glu_odd_axis_raises():
    with pytest.raises(ValueError, match="glu: the size of axis -1 must be divisible by 2"):
        ops.glu(np.ones((2, 3), "float32"))


@pytest.mark.parametrize("key,fn", [
    ("moments", lambda x: ops.moments(x, axes=[0, 2])),
    ("moments_keep", lambda x: ops.moments(x, axes=[1], keepdims=True)),
    ("batch_normalization", lambda x, m, v, o, s: ops.batch_normalization(
        x, m, v, axis=-1, offset=o, scale=s, epsilon=1e-3)),
    ("batch_normalization_plain", lambda x, m, v: ops.batch_normalization(x, m, v, axis=2)),
    ("normalize", lambda x: ops.normalize(x, axis=-1)),
    ("normalize_l1", lambda x: ops.normalize(x, axis=1, order=1)),
    ("binary_crossentropy", lambda t, o: ops.binary_crossentropy(t, o)),
    ("binary_crossentropy_logits", lambda t, o: ops.binary_crossentropy(t, o, from_logits=True)),
    ("multi_hot", lambda x: ops.multi_hot(x, num_classes=6)),
    ("multi_hot_1d", lambda x: ops.multi_hot(x, num_classes=5)),
    ("depth_to_space", lambda x: ops.depth_to_space(x, 2)),
    ("depth_to_space_cf", lambda x: ops.depth_to_space(x, 2, data_format="channels_first")),
    ("space_to_depth", lambda x: ops.space_to_depth(x, 2)),
    ("space_to_depth_cf", lambda x: ops.space_to_depth(x, 2, data_format="channels_first")),
    ("unfold", lambda x: ops.unfold(x, 2)),
    ("unfold_args", lambda x: ops.unfold(x, (3, 2), dilation=(1, 2), padding=1, stride=(2, 1))),
    ("fold", lambda x: ops.fold(x, (5, 6), 2)),
    ("fold_args", lambda x: ops.fold(x, (5, 6), (3, 2), dilation=(1, 2), padding=1,
                                     stride=(2, 1))),
    ("extract_sequences", lambda x: ops.extract_sequences(x, 4, 3)),
    ("psnr", lambda a, b: ops.psnr(a, b, 2.0)),
    ("polar", lambda r, t: ops.polar(r, t)),
])
def test_nn_ops_match_keras(key, fn):
    check_case(key, fn, rtol=2e-5)


def test_binary_crossentropy_from_logits_is_stable():
    z = np.array([[30.0, -30.0, 0.5]], "float32")
    t = np.array([[0.0, 1.0, 1.0]], "float32")
    y = ops.binary_crossentropy(t, z, from_logits=True).numpy()
    np.testing.assert_allclose(y, [[30.0, 30.0, np.log1p(np.exp(-0.5))]], rtol=1e-6)
    check_grads(lambda a: ops.binary_crossentropy(t, a, from_logits=True), [z.astype(float) / 10])


def test_unfold_fold_are_adjoint():
    x = rng.standard_normal((2, 3, 5, 6)).astype("float32")
    cols = rng.standard_normal((2, 3 * 6, 18)).astype("float32")
    args = dict(dilation=(1, 2), padding=1, stride=(2, 1))
    lhs = float(np.sum(ops.unfold(x, (3, 2), **args).numpy() * cols))
    rhs = float(np.sum(x * ops.fold(cols, (5, 6), (3, 2), **args).numpy()))
    assert abs(lhs - rhs) < 1e-3 * max(1.0, abs(lhs))


@pytest.mark.parametrize("fn,shapes", [
    (lambda x: ops.unfold(x, 2, padding=1, stride=2), [(1, 2, 4, 3)]),
    (lambda x: ops.fold(x, (3, 4), 2, padding=1), [(1, 8, 20)]),
    (lambda x: ops.extract_sequences(x, 3, 2), [(2, 7)]),
    (lambda x: ops.depth_to_space(x, 2), [(1, 2, 2, 4)]),
    (lambda x, m, v: ops.batch_normalization(x, m, v, axis=1), [(2, 3), (3,), (3,)]),
    (lambda x: ops.normalize(x, order=3), [(2, 4)]),
    (lambda a, b: ops.psnr(a, b, 1.0), [(3, 4), (3, 4)]),
    (lambda x: ops.moments(x, axes=[0])[1], [(4, 3)]),
])
def test_structural_grads_finite_differences(fn, shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    if len(shapes) == 3:
        arrays[2] = np.abs(arrays[2]) + 0.5  # a variance
    check_grads(fn, arrays)


def test_polar_gradient_tf_convention():
    r = nnforge.Variable(np.array([1.5, 2.0], "float32"))
    t = nnforge.Variable(np.array([0.3, -1.0], "float32"))
    up = np.array([1.0 - 0.5j, 0.25 + 2.0j], np.complex64)
    with nnforge.GradientTape() as tape:
        z = ops.polar(r, t)
    gr, gt = tape.gradient(z, [r, t], output_gradients=up)
    e = np.exp(1j * t.numpy())
    np.testing.assert_allclose(gr.numpy(), np.real(up * np.conj(e)), rtol=1e-5)
    np.testing.assert_allclose(gt.numpy(), np.real(up * np.conj(1j * r.numpy() * e)), rtol=1e-5)
    np.testing.assert_allclose(z.numpy(), r.numpy() * e, rtol=1e-6)


def test_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"depth_to_space: channels \(3\)"):
        ops.depth_to_space(np.ones((1, 2, 2, 3)), 2)
    with pytest.raises(ValueError, match="space_to_depth: height and width"):
        ops.space_to_depth(np.ones((1, 3, 4, 1)), 2)
    with pytest.raises(ValueError, match="unfold: expected a 4-D"):
        ops.unfold(np.ones((2, 3, 4)), 2)
    with pytest.raises(ValueError, match="fold: x has 4 blocks"):
        ops.fold(np.ones((1, 4, 4)), (4, 4), 2)
    with pytest.raises(ValueError, match="batch_normalization: 'mean' must have shape"):
        ops.batch_normalization(np.ones((2, 3)), np.ones(2), np.ones(3), axis=-1)
    with pytest.raises(ValueError, match="binary_crossentropy: target and output"):
        ops.binary_crossentropy(np.ones((2, 3)), np.ones((3, 2)) * 0.5)
    with pytest.raises(ValueError, match="normalize: argument 'order'"):
        ops.normalize(np.ones(3), order=0)
    with pytest.raises(ValueError, match="multi_hot: argument 'num_classes'"):
        ops.multi_hot([1, 2])
    with pytest.raises(ValueError, match="psnr: input shapes"):
        ops.psnr(np.ones(3), np.ones(4), 1.0)


def test_ops_on_keras_tensors_build_a_model():
    inp = nnforge.Input((8,))
    h = ops.hard_silu(inp)
    h = ops.sparsemax(h)
    model = nnforge.Model(inp, h)
    x = rng.standard_normal((4, 8)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               ops.sparsemax(ops.hard_silu(x)).numpy(), rtol=1e-6)


def test_golden_file_is_small():
    assert golden()  # loaded
    import os
    from tests.golden.opsnn_cases import PATH
    assert os.path.getsize(PATH) < 300_000
