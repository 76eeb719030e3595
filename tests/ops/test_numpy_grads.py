"""Gradients of the NumPy-style, linalg and fft ops under GradientTape: against central finite
differences in float64 (the ops keep float64, so the check is tight), and against TensorFlow's
gradients of the same Keras calls (tests/golden/opsnp.npz, grad/*)."""
import numpy as np
import pytest

import nnforge
from nnforge import ops
from tests.golden.opsnp_cases import flat
from tests.helpers import central_differences, op_case_gradients

r = np.random.RandomState(1)
F = r.randn(3, 4)
F2 = r.randn(3, 4)
U = r.uniform(0.1, 0.9, (3, 4))
G1 = 1.2 + r.rand(3, 4)
POS = 0.3 + 2 * r.rand(3, 4)
AWAY = np.sign(F) * (0.3 + np.abs(F))  # away from zero (cbrt, fabs)
N = F.copy()
N[0, 1] = N[2, 3] = np.nan
V = r.randn(5)
V3, W3 = r.randn(4, 3), r.randn(4, 3)
X3 = r.randn(2, 3, 4)
SQ = r.randn(3, 3) + 3 * np.eye(3)
LOW = np.tril(r.randn(3, 3)) + 3 * np.eye(3)
RHS = r.randn(3, 2)
TALL = r.randn(5, 3)
SIG = r.randn(24)


def _loss_np(fn, arrays, projs):
    outs = flat(fn(*[ops.convert_to_tensor(a) for a in arrays]))
    return sum(float(np.sum(np.asarray(o.numpy(), np.float64) * p)) for o, p in zip(outs, projs))


def check(fn, arrays, which=None, eps=1e-6, rtol=1e-5, atol=1e-6):
    arrays = [np.array(a, np.float64, order="C") for a in arrays]
    outs = flat(fn(*[ops.convert_to_tensor(a) for a in arrays]))
    rng = np.random.RandomState(7)
    projs = [rng.randn(*o.shape) for o in outs]
    tensors = [ops.convert_to_tensor(a) for a in arrays]
    with nnforge.GradientTape() as tape:
        tape.watch(tensors)
        outs = flat(fn(*tensors))
        loss = None
        for o, p in zip(outs, projs):
            term = ops.sum(ops.multiply(o, p))
            loss = term if loss is None else ops.add(loss, term)
    grads = tape.gradient(loss, tensors)
    for i, a in enumerate(arrays):
        if which is not None and i not in which:
            continue
        num = central_differences(lambda: _loss_np(fn, arrays, projs), a, eps)
        assert grads[i] is not None, f"input {i}: no gradient"
        g = grads[i].numpy()
        assert g.dtype == np.float64 and g.shape == a.shape
        scale = max(1.0, float(np.abs(num).max()))
        np.testing.assert_allclose(g, num, rtol=rtol, atol=atol * scale,
                                   err_msg=f"input {i}: tape gradient vs finite differences")


UNARY = [("arccos", U), ("arccosh", G1), ("arcsin", U), ("arcsinh", F), ("arctan", F),
         ("arctanh", U), ("cbrt", AWAY), ("cosh", F), ("sinh", F), ("tan", U), ("exp2", F),
         ("expm1", F), ("log10", POS), ("log2", POS), ("rsqrt", POS), ("reciprocal", POS),
         ("sinc", F), ("i0", F), ("deg2rad", F), ("rad2deg", F), ("fabs", AWAY),
         ("nan_to_num", F), ("copy", F), ("ravel", F), ("real", F), ("conj", F),
         ("fliplr", F), ("flipud", F), ("amax", F), ("amin", F), ("ptp", F), ("median", F),
         ("corrcoef", F), ("trapezoid", F), ("prod", F), ("nansum", N), ("nanmean", N),
         ("nanvar", N), ("nanstd", N), ("nanmax", N), ("nanmin", N), ("nanprod", N),
         ("nanmedian", N), ("nancumsum", N), ("nancumprod", N), ("diff", F), ("trace", F),
         ("tril", F), ("triu", F), ("rot90", F), ("diagflat", F[:2, :2]), ("diag", V),
         ("vander", V[:3]), ("inv", SQ), ("det", SQ), ("logdet", SQ @ SQ.T), ("pinv", TALL),
         ("svd", SQ), ("qr", TALL), ("cholesky_inverse", LOW)]


@pytest.mark.parametrize("name,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_grads(name, x):
    check(getattr(ops, name), [x])


BINARY = [("arctan2", F, F2), ("hypot", F, F2), ("logaddexp", F, F2), ("logaddexp2", F, F2),
          ("fmax", F, F2), ("fmin", F, F2), ("fmod", F, F2 + 3), ("mod", F, F2 + 3),
          ("dot", F, V3), ("inner", F, F2), ("outer", F[0], V), ("vdot", F, F2),
          ("kron", F[:2, :2], F2[:2, :3]), ("cross", V3, W3), ("append", F, V),
          ("solve", SQ, RHS), ("lstsq", TALL, r.randn(5, 2))]


@pytest.mark.parametrize("name,a,b", BINARY, ids=[b[0] for b in BINARY])
def test_binary_grads(name, a, b):
    check(getattr(ops, name), [a, b])


@pytest.mark.parametrize("fn,arrays", [
    (lambda x: ops.prod(x, axis=1), [np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0]])]),
    (lambda x: ops.prod(x, axis=(0, 2), keepdims=True), [X3]),
    (lambda x: ops.quantile(x, [0.2, 0.7], axis=1), [F]),
    (lambda x: ops.quantile(x, 0.4, axis=(0, 2), keepdims=True, method="midpoint"), [X3]),
    (lambda x: ops.percentile(x, 30.0, axis=0, method="nearest"), [F]),
    (lambda x: ops.nanquantile(x, [0.3, 0.9], axis=1), [N]),
    (lambda x: ops.nanpercentile(x, 60.0), [N]),
    (lambda x: ops.nanmean(x, axis=0, keepdims=True), [N]),
    (lambda x: ops.nanvar(x, axis=1), [N]),
    (lambda x, w: ops.average(x, axis=1, weights=w), [F, POS[0]]),
    (lambda x, w: ops.average(x, weights=w), [F, POS]),
    (lambda y, x: ops.trapezoid(y, x=x), [F, np.array([0.0, 0.5, 1.5, 3.0])]),
    (lambda x: ops.trapezoid(x, dx=0.5, axis=0), [F]),
    (lambda x: ops.diff(x, n=2, axis=0), [F]),
    (lambda x: ops.diagonal(x, 1, 1, 2), [X3]),
    (lambda x: ops.trace(x, axis1=1, axis2=2), [X3]),
    (lambda x: ops.diag(x, k=1), [F]),
    (lambda x: ops.diag(x, k=-2), [V]),
    (lambda x: ops.tril(x, k=-1), [X3]),
    (lambda x: ops.roll(x, (1, 2), axis=(0, 2)), [X3]),
    (lambda x: ops.roll(x, 3), [F]),
    (lambda x: ops.rot90(x, k=3, axes=(1, 2)), [X3]),
    (lambda x: ops.moveaxis(x, [0, 1], [2, 0]), [X3]),
    (lambda x: ops.swapaxes(x, 0, 2), [X3]),
    (lambda a, b: ops.hstack([a, b]), [F, F2]),
    (lambda a, b: ops.vstack([a, b]), [F, F2]),
    (lambda a, b: ops.dstack([a, b]), [F, F2]),
    (lambda x: ops.hsplit(x, 2), [F]),
    (lambda x: ops.vsplit(x, [1]), [F]),
    (lambda x: ops.dsplit(x, 2), [X3]),
    (lambda a, b: ops.tensordot(a, b, axes=([1, 2], [0, 1])), [X3, F]),
    (lambda a, b: ops.tensordot(a, b, axes=0), [V, F[0]]),
    (lambda a, b: ops.cross(a, b), [V3[:, :2], W3]),
    (lambda a, b: ops.cross(a, b), [V3[:, :2], W3[:, :2]]),
    (lambda a, b: ops.cross(a, b, axis=0), [V3.T, W3.T]),
    (lambda a, b: ops.correlate(a, b, mode="full"), [V, F[0, :3]]),
    (lambda a, b: ops.correlate(a, b, mode="same"), [F[0, :3], V]),
    (lambda a, b: ops.correlate(a, b), [V, F[0, :3]]),
    (lambda a, b: ops.ldexp(a, b), [F, None]),
    (lambda b: ops.cholesky(ops.add(b, ops.transpose(b))), [SQ]),
    (lambda b: ops.cholesky(ops.add(b, ops.transpose(b)), upper=True), [SQ]),
    (lambda b: ops.eigh(ops.add(b, ops.transpose(b))), [SQ]),
    (lambda x: ops.slogdet(x)[1], [-SQ]),
    (lambda x: ops.inv(x), [np.stack([SQ, SQ.T])]),
    (lambda a, b: ops.solve(a, b), [SQ, RHS[:, 0]]),
    (lambda a, b: ops.solve_triangular(a, b, lower=True), [LOW, RHS]),
    (lambda a, b: ops.solve_triangular(a, b), [LOW.T, RHS]),
    (lambda x: ops.svd(x, compute_uv=False), [TALL]),
    (lambda x: ops.svd(x, full_matrices=False), [TALL.T]),
    (lambda a, b: ops.lstsq(a, b), [TALL, r.randn(5)]),
    (lambda x: ops.lu_factor(x)[0], [SQ]),
    (lambda x: ops.lu_factor(x)[0], [np.stack([SQ.T, r.randn(3, 3)])]),
    (lambda x: ops.qr(x, mode="complete"), [SQ]),
    (lambda a, b: ops.fft((a, b)), [F, F2]),
    (lambda a, b: ops.fft2((a, b)), [X3, X3 * 0.5]),
    (lambda a, b: ops.ifft2((a, b)), [X3, -X3]),
    (lambda a, b: ops.irfft((a, b)), [F, F2]),
    (lambda a, b: ops.irfft((a, b), fft_length=5), [F, F2]),
    (lambda a, b: ops.irfft((a, b), fft_length=9), [F, F2]),
    (lambda x: ops.stft(x, 8, 4, 10), [SIG]),
    (lambda x: ops.stft(x, 6, 3, 6, window="hamming", center=False), [np.stack([SIG, SIG])]),
    (lambda a, b: ops.istft((a, b), 8, 4, 8), [r.randn(7, 5), r.randn(7, 5)]),
])
def test_composite_grads(fn, arrays):
    if arrays[-1] is None:  # ldexp: integer exponents are not differentiable
        check(lambda a: fn(a, np.array([1, -2, 0, 3], "int32")), arrays[:1])
        return
    check(fn, arrays)


@pytest.mark.parametrize("n", [None, 6, 3])
def test_rfft_grads(n):
    # Keras's rfft computes in float32 whatever the input: a float32-sized check
    check(lambda x: ops.rfft(x, fft_length=n), [F], eps=1e-3, rtol=1e-3, atol=1e-4)


def test_heaviside_gradient_goes_to_x2_at_zero():
    check(ops.heaviside, [np.array([-1.0, 0.0, 2.0]), np.array([0.3, 0.5, 0.7])], which=[1])


def test_svd_full_matrices_gradient_of_u_is_not_defined_for_non_square():
    x = ops.convert_to_tensor(TALL)
    with nnforge.GradientTape() as tape:
        tape.watch(x)
        u, s, vh = ops.svd(x)
        loss = ops.sum(u)
    with pytest.raises(NotImplementedError, match="full_matrices"):
        tape.gradient(loss, x)


def test_qr_gradient_of_wide_input_is_not_defined():
    x = ops.convert_to_tensor(TALL.T)
    with nnforge.GradientTape() as tape:
        tape.watch(x)
        q, rr = ops.qr(x)
        loss = ops.sum(rr)
    with pytest.raises(NotImplementedError, match="rows >= columns"):
        tape.gradient(loss, x)


def test_integer_inputs_have_no_gradient_but_float_outputs():
    x = ops.convert_to_tensor(np.array([1, 2, 3], "int32"))
    with nnforge.GradientTape() as tape:
        tape.watch(x)
        y = ops.arcsinh(x)
    assert y.dtype == "float32"
    assert tape.gradient(ops.sum(y), x) is None


# ---- gradients against TensorFlow's (tests/golden/opsnp.npz, grad/*) ----------------------------

def _tf_grad_cases():
    import os
    from tests.golden.opsnp_cases import GRAD_CASES
    golden = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "opsnp.npz"))
    return golden, [c for c in GRAD_CASES if f"grad/{c[0]}/0" in golden]


_GOLDEN, _TF_CASES = _tf_grad_cases()


@pytest.mark.parametrize("key,name,args,kwargs", _TF_CASES, ids=[c[0] for c in _TF_CASES])
def test_gradients_match_tensorflow(key, name, args, kwargs):
    from tests.golden.opsnp_cases import grad_projection

    def projection(i, o):
        proj = grad_projection(tuple(o.shape), i)
        if name in ("eigh", "svd") and o.ndim == 2:  # align vector signs with TF's
            axis = -2 if i < 2 else -1  # u/v: columns; vh: rows
            sign = np.sign(np.sum(o.numpy() * _GOLDEN[f"grad/{key}/out{i}"], axis=axis,
                                  keepdims=True))
            proj = proj * sign
        return proj

    grads = op_case_gradients(name, args, kwargs, ops.convert_to_tensor, projection)
    for j, g in enumerate(grads):
        want = _GOLDEN[f"grad/{key}/{j}"]
        if np.isnan(want).all():  # TensorFlow: no gradient
            assert g is None or not np.any(g.numpy()), f"{key}: input {j} has a gradient"
            continue
        assert g is not None, f"{key}: no gradient for input {j}"
        scale = max(1.0, float(np.nanmax(np.abs(want))))
        finite = np.isfinite(want)  # TF's sinc gradient at 0 is 0/0; ours is the limit, 0
        np.testing.assert_allclose(g.numpy()[finite], want[finite], rtol=1e-4, atol=1e-4 * scale,
                                   err_msg=f"{key}: gradient of input {j} vs TensorFlow")
