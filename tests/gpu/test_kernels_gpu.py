"""Every CUDA kernel (through nnforge.backend.cuda) against the CPU kernel (nnforge.backend.cpu) on
the same random inputs: odd sizes, empty batches, 'same' padding with stride 2, dilation, 1x1
convolutions, stride > kernel. Tolerances (issue #4): 1e-4 relative for FP32, TF32 within 2e-3
and BF16 within 1e-2 of the norm of the FP32 result; TF32/BF16 are also checked at 1e-4 against
an exact emulation of their input rounding, which pins down the tensor-core fragment layouts.

Skipped without CuPy and a CUDA device (see conftest.py)."""
from __future__ import annotations

import numpy as np
import pytest

ACTS = [0, 1, 2, 3]  # linear, relu, sigmoid, tanh


# ---- helpers -----------------------------------------------------------------------------------

def f32(rng, *shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def assert_close(gpu_result, ref, rtol=1e-4, what=""):
    """|gpu - ref| <= rtol * max|ref| everywhere (relative to the norm: sums may cancel) and, for
    the element-wise meaning, |gpu - ref| <= rtol * |ref| + rtol * 1e-2 * max|ref|."""
    got = np.asarray(gpu_result)
    ref = np.asarray(ref)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    assert got.dtype == ref.dtype, f"{what}: dtype {got.dtype} != {ref.dtype}"
    if ref.size == 0:
        return
    g64, r64 = got.astype(np.float64), ref.astype(np.float64)
    assert np.array_equal(np.isnan(g64), np.isnan(r64)), f"{what}: NaN positions differ"
    fin = ~np.isnan(r64)
    if not fin.any():
        return
    scale = max(float(np.max(np.abs(r64[fin]))), 1e-30)
    err = np.abs(g64[fin] - r64[fin])
    worst = float(err.max())
    assert worst <= rtol * scale, (
        f"{what}: max |diff| {worst:.3g} > {rtol:g} * max|ref| ({scale:.3g}); "
        f"relative {worst / scale:.3g}")
    bound = rtol * np.abs(r64[fin]) + rtol * 1e-2 * scale
    bad = err > bound
    assert not bad.any(), (
        f"{what}: {int(bad.sum())} of {err.size} elements outside rtol={rtol:g}: first "
        f"got {g64[fin][bad][0]!r} want {r64[fin][bad][0]!r}")


def to_dev(gb, a, dtype=np.float32):
    """A device copy (always a copy, so in-place kernels never touch the host reference)."""
    return gb.asarray(np.array(a, dtype=dtype, copy=True), dtype=dtype)


def host(gb, a):
    return None if a is None else gb.to_numpy(a)


def round_tf32(a):
    """cvt.rna.tf32.f32: keep 10 mantissa bits, round to nearest, ties away from zero."""
    b = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x1000) & 0xFFFFE000
    return b.astype(np.uint32).view(np.float32)


def round_bf16(a):
    """__float2bfloat16_rn: keep 7 mantissa bits, round to nearest even."""
    b = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32)


def conv_geometry(H, W, KH, KW, SH, SW, DH, DW, padding):
    """TensorFlow's output size and top/left padding for 'valid' / 'same'."""
    ekh, ekw = (KH - 1) * DH + 1, (KW - 1) * DW + 1
    if padding == "valid":
        return ((H - ekh) // SH + 1, (W - ekw) // SW + 1), (0, 0)
    oh, ow = -(-H // SH), -(-W // SW)
    ph = max((oh - 1) * SH + ekh - H, 0)
    pw = max((ow - 1) * SW + ekw - W, 0)
    return (oh, ow), (ph // 2, pw // 2)


# ---- GEMM --------------------------------------------------------------------------------------

GEMM_SHAPES = [(1, 1, 1), (7, 13, 5), (64, 64, 64), (129, 65, 257), (300, 200, 100),
               (33, 500, 70), (0, 5, 3), (5, 0, 3), (4, 6, 0), (2048, 2176, 40)]
TRANS = [(False, False), (True, False), (False, True), (True, True)]


def _operands(rng, m, n, k, ta, tb):
    a = f32(rng, k, m) if ta else f32(rng, m, k)
    b = f32(rng, n, k) if tb else f32(rng, k, n)
    return a, b


@pytest.mark.parametrize("mnk", GEMM_SHAPES)
@pytest.mark.parametrize("ta,tb", TRANS)
def test_matmul_fp32(gb, cb, rng, mnk, ta, tb):
    m, n, k = mnk
    a, b = _operands(rng, m, n, k, ta, tb)
    got = host(gb, gb.matmul(to_dev(gb, a), to_dev(gb, b), ta, tb))
    assert_close(got, cb.matmul(a, b, ta, tb), 1e-4, f"matmul {mnk} ta={ta} tb={tb}")


@pytest.mark.parametrize("mnk", [(37, 19, 23), (130, 70, 9), (3, 200, 1)])
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("with_bias", [False, True])
def test_matmul_bias_act(gb, cb, rng, mnk, act, with_bias):
    m, n, k = mnk
    a, b = f32(rng, m, k), f32(rng, k, n)
    bias = f32(rng, n) if with_bias else None
    got = gb.matmul(to_dev(gb, a), to_dev(gb, b), False, False,
                    to_dev(gb, bias) if with_bias else None, act)
    assert_close(host(gb, got), cb.matmul(a, b, False, False, bias, act), 1e-4,
                 f"matmul bias={with_bias} act={act}")


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (0.5, -1.5), (-2.0, 1.0)])
def test_gemm_alpha_beta(gb, cb, rng, ta, tb, alpha, beta):
    m, n, k = 45, 77, 31
    a, b = _operands(rng, m, n, k, ta, tb)
    c0 = f32(rng, m, n)
    if beta == 0.0:
        c0[:] = np.nan  # beta == 0: C must not be read
    c_cpu = c0.copy()
    cb.gemm_(a, b, c_cpu, ta, tb, alpha, beta)
    c_gpu = to_dev(gb, c0)
    gb.gemm_(to_dev(gb, a), to_dev(gb, b), c_gpu, ta, tb, alpha, beta)
    assert_close(host(gb, c_gpu), c_cpu, 1e-4, f"gemm_ alpha={alpha} beta={beta}")


def test_gemm_k0_scales_c(gb, cb, rng):
    c0 = f32(rng, 5, 6)
    c_cpu, c_gpu = c0.copy(), to_dev(gb, c0)
    a, b = np.zeros((5, 0), np.float32), np.zeros((0, 6), np.float32)
    cb.gemm_(a, b, c_cpu, False, False, 1.0, 0.25)
    gb.gemm_(to_dev(gb, a), to_dev(gb, b), c_gpu, False, False, 1.0, 0.25)
    assert_close(host(gb, c_gpu), c_cpu, 1e-6, "K=0")
    np.testing.assert_allclose(c_cpu, 0.25 * c0, rtol=1e-6)


@pytest.mark.parametrize("precision,tol,rounder", [("tf32", 2e-3, round_tf32),
                                                   ("bf16", 1e-2, round_bf16)])
@pytest.mark.parametrize("mnk", [(1, 1, 1), (17, 9, 3), (128, 128, 32), (200, 130, 333),
                                 (1000, 257, 96)])
@pytest.mark.parametrize("ta,tb", TRANS)
def test_matmul_reduced_precision(gb, cb, rng, raw, precision, tol, rounder, mnk, ta, tb):
    _cuda, _ = raw
    m, n, k = mnk
    a, b = _operands(rng, m, n, k, ta, tb)
    bias = f32(rng, n)
    gb.set_matmul_precision(precision)
    got = host(gb, gb.matmul(to_dev(gb, a), to_dev(gb, b), ta, tb, to_dev(gb, bias), 0))
    ref32 = cb.matmul(a, b, ta, tb, bias, 0)
    assert_close(got, ref32, tol, f"{precision} vs FP32 CPU {mnk}")
    if _cuda.tensor_cores_used(precision):
        # Exact emulation of the operand rounding, accumulated in float64.
        opa = (a.T if ta else a).astype(np.float32)
        opb = (b.T if tb else b).astype(np.float32)
        emu = rounder(opa).astype(np.float64) @ rounder(opb).astype(np.float64) + bias
        assert_close(got, emu.astype(np.float32), 1e-4, f"{precision} vs emulation {mnk}")


def test_tensor_core_dispatch(raw):
    _cuda, cupy = raw
    major, minor = _cuda.compute_capability(cupy.cuda.runtime.getDevice())
    assert _cuda.tensor_cores_used("fp32") is False
    assert _cuda.tensor_cores_used("tf32") == (major >= 8)
    assert _cuda.tensor_cores_used("bf16") == (major >= 8)


@pytest.mark.parametrize("precision", ["fp32", "tf32", "bf16"])
def test_sgemm_leading_dimensions(raw, rng, precision):
    """The kernels honour lda/ldb/ldc larger than the row width (sub-matrices)."""
    _cuda, cupy = raw
    m, n, k = 70, 45, 39
    a_big, b_big, c_big = f32(rng, m, k + 5), f32(rng, k, n + 3), f32(rng, m, n + 7)
    da, db, dc = cupy.asarray(a_big), cupy.asarray(b_big), cupy.asarray(c_big)
    _cuda.sgemm(da.data.ptr, db.data.ptr, dc.data.ptr, m, n, k, False, False, 1.0, 1.0,
                k + 5, n + 3, n + 7, cupy.cuda.get_current_stream().ptr, precision)
    want = c_big.astype(np.float64).copy()
    want[:, :n] += a_big[:, :k].astype(np.float64) @ b_big[:, :n]
    tol = {"fp32": 1e-5, "tf32": 2e-3, "bf16": 1e-2}[precision]
    assert_close(cupy.asnumpy(dc), want.astype(np.float32), tol, "ld > width")
    # The padding columns of C are untouched.
    np.testing.assert_array_equal(cupy.asnumpy(dc)[:, n:], c_big[:, n:])


def test_matmul_on_non_default_stream(gb, cb, rng, raw):
    _, cupy = raw
    a, b = f32(rng, 300, 100), f32(rng, 100, 250)
    s = cupy.cuda.Stream(non_blocking=True)
    with s:
        da, db = gb.asarray(a), gb.asarray(b)
        y = gb.matmul(da, db)
        y2 = gb.activation(y, 1)
    s.synchronize()
    ref = cb.matmul(a, b)
    assert_close(cupy.asnumpy(y), ref, 1e-4, "stream matmul")
    assert_close(cupy.asnumpy(y2), cb.activation(ref, 1), 1e-4, "stream relu")


# ---- activations, softmax, bias ----------------------------------------------------------------

ELEM_SHAPES = [(0,), (1,), (7,), (1000,), (33, 65), (4, 5, 6, 7), (0, 10)]


@pytest.mark.parametrize("shape", ELEM_SHAPES)
@pytest.mark.parametrize("act", ACTS)
def test_activation_forward_backward(gb, cb, rng, shape, act):
    x = f32(rng, *shape, lo=-6, hi=6)
    y_cpu = cb.activation(x, act)
    y_gpu = gb.activation(to_dev(gb, x), act)
    assert_close(host(gb, y_gpu), y_cpu, 1e-4, f"activation {act}")
    dy = f32(rng, *shape)
    assert_close(host(gb, gb.activation_grad(to_dev(gb, y_cpu), to_dev(gb, dy), act)),
                 cb.activation_grad(y_cpu, dy, act), 1e-4, f"activation_grad {act}")
    xd = to_dev(gb, x)
    out = gb.activation_(xd, act)
    assert out is xd
    assert_close(host(gb, xd), y_cpu, 1e-4, f"activation_ {act}")


@pytest.mark.parametrize("shape", [(0, 10), (1, 1), (37, 10), (5, 1000), (4, 3, 17), (2, 4097)])
@pytest.mark.parametrize("spread", [1.0, 60.0])
def test_softmax(gb, cb, rng, shape, spread):
    x = f32(rng, *shape, lo=-spread, hi=spread)
    y_cpu = cb.softmax(x)
    assert_close(host(gb, gb.softmax(to_dev(gb, x))), y_cpu, 1e-4, "softmax")
    dy = f32(rng, *shape)
    assert_close(host(gb, gb.softmax_grad(to_dev(gb, y_cpu), to_dev(gb, dy))),
                 cb.softmax_grad(y_cpu, dy), 1e-4, "softmax_grad")


@pytest.mark.parametrize("shape", [(0, 7), (1, 1), (1000, 33), (3000, 5), (8, 5, 5, 16),
                                   (70000, 3)])
def test_bias_add_and_grad(gb, cb, rng, shape):
    units = shape[-1]
    y, bias = f32(rng, *shape), f32(rng, units)
    y_cpu = y.copy()
    cb.bias_add_(y_cpu, bias)
    y_gpu = to_dev(gb, y)
    gb.bias_add_(y_gpu, to_dev(gb, bias))
    assert_close(host(gb, y_gpu), y_cpu, 1e-5, "bias_add_")
    dy = f32(rng, *shape)
    dyd = to_dev(gb, dy)
    db1 = host(gb, gb.bias_grad(dyd, units))
    assert_close(db1, cb.bias_grad(dy, units), 1e-4, "bias_grad")
    # Deterministic: the same bits on a second run.
    np.testing.assert_array_equal(db1, host(gb, gb.bias_grad(dyd, units)))


# ---- im2col / col2im / convolution ------------------------------------------------------------

# (N, H, W, C, KH, KW, F, strides, dilation, padding)
CONV_CASES = [
    (2, 7, 9, 3, 3, 3, 5, (1, 1), (1, 1), "valid"),
    (3, 8, 8, 4, 3, 3, 6, (2, 2), (1, 1), "same"),
    (2, 9, 7, 3, 5, 3, 4, (2, 1), (1, 1), "same"),
    (2, 11, 10, 3, 3, 3, 4, (1, 1), (2, 2), "same"),
    (2, 12, 13, 2, 3, 2, 3, (2, 2), (2, 3), "valid"),
    (0, 5, 5, 3, 3, 3, 2, (1, 1), (1, 1), "valid"),
    (4, 6, 6, 8, 1, 1, 16, (1, 1), (1, 1), "valid"),
    (2, 5, 5, 2, 1, 1, 3, (2, 2), (1, 1), "valid"),
    (2, 7, 7, 2, 2, 2, 3, (3, 3), (1, 1), "valid"),
    (1, 1, 1, 1, 1, 1, 1, (1, 1), (1, 1), "same"),
    (5, 16, 16, 16, 3, 3, 32, (1, 1), (1, 1), "same"),
]


def _conv_case(case):
    N, H, W, C, KH, KW, F, st, dil, padding = case
    out_hw, pad = conv_geometry(H, W, KH, KW, st[0], st[1], dil[0], dil[1], padding)
    return N, H, W, C, KH, KW, F, st, dil, pad, out_hw


@pytest.mark.parametrize("case", CONV_CASES)
def test_im2col_col2im(gb, cb, rng, case):
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(case)
    x = f32(rng, N, H, W, C)
    cols_cpu = cb.im2col(x, (KH, KW), st, dil, pad, out_hw)
    cols_gpu = gb.im2col(to_dev(gb, x), (KH, KW), st, dil, pad, out_hw)
    np.testing.assert_array_equal(host(gb, cols_gpu), cols_cpu)  # a pure gather: exact
    c = f32(rng, *cols_cpu.shape)
    assert_close(host(gb, gb.col2im(to_dev(gb, c), x.shape, (KH, KW), st, dil, pad, out_hw)),
                 cb.col2im(c, x.shape, (KH, KW), st, dil, pad, out_hw), 1e-4, "col2im")


@pytest.fixture(params=["default", "one_image"])
def workspace_limit(request, gb):
    """The default workspace, and one that holds a single image (exercises the batch chunks)."""
    if request.param == "one_image" and hasattr(gb, "_WORKSPACE_LIMIT"):
        saved = gb._WORKSPACE_LIMIT
        gb._WORKSPACE_LIMIT = 1
        yield request.param
        gb._WORKSPACE_LIMIT = saved
    else:
        yield request.param


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("act,with_bias", [(0, False), (1, True), (3, True)])
def test_conv2d_forward(gb, cb, rng, workspace_limit, case, act, with_bias):
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(case)
    x, w = f32(rng, N, H, W, C), f32(rng, KH, KW, C, F)
    bias = f32(rng, F) if with_bias else None
    ref = cb.conv2d(x, w, bias, st, dil, pad, out_hw, act)
    got = gb.conv2d(to_dev(gb, x), to_dev(gb, w), to_dev(gb, bias) if with_bias else None,
                    st, dil, pad, out_hw, act)
    assert_close(host(gb, got), ref, 1e-4, f"conv2d {case}")


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_backward(gb, cb, rng, workspace_limit, case):
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(case)
    x, w = f32(rng, N, H, W, C), f32(rng, KH, KW, C, F)
    dy = f32(rng, N, out_hw[0], out_hw[1], F)
    dx_ref = cb.conv2d_grad_input(dy, w, x.shape, st, dil, pad)
    dx = gb.conv2d_grad_input(to_dev(gb, dy), to_dev(gb, w), x.shape, st, dil, pad)
    assert_close(host(gb, dx), dx_ref, 1e-4, f"conv2d_grad_input {case}")
    for with_bias in (False, True):
        dw_ref, db_ref = cb.conv2d_grad_filter(x, dy, w.shape, st, dil, pad, with_bias)
        xd, dyd = to_dev(gb, x), to_dev(gb, dy)
        dw, db = gb.conv2d_grad_filter(xd, dyd, w.shape, st, dil, pad, with_bias)
        assert_close(host(gb, dw), dw_ref, 1e-4, f"conv2d_grad_filter dw {case}")
        if with_bias:
            assert_close(host(gb, db), db_ref, 1e-4, f"conv2d_grad_filter db {case}")
        else:
            assert db is None
        dw2, _ = gb.conv2d_grad_filter(xd, dyd, w.shape, st, dil, pad, with_bias)
        np.testing.assert_array_equal(host(gb, dw2), host(gb, dw))  # deterministic


@pytest.mark.parametrize("precision,tol", [("tf32", 2e-3), ("bf16", 1e-2)])
def test_conv2d_reduced_precision(gb, cb, rng, raw, precision, tol):
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(CONV_CASES[1])
    x, w, bias = f32(rng, N, H, W, C), f32(rng, KH, KW, C, F), f32(rng, F)
    gb.set_matmul_precision(precision)
    got = gb.conv2d(to_dev(gb, x), to_dev(gb, w), to_dev(gb, bias), st, dil, pad, out_hw, 0)
    assert_close(host(gb, got), cb.conv2d(x, w, bias, st, dil, pad, out_hw, 0), tol, precision)


def test_conv2d_extension_allocates_scratch(cb, rng, raw):
    """workspace=0: the extension takes its scratch from cudaMallocAsync on the stream."""
    _cuda, cupy = raw
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(CONV_CASES[2])
    x, w = f32(rng, N, H, W, C), f32(rng, KH, KW, C, F)
    dx_, dw_ = cupy.asarray(x), cupy.asarray(w)
    y = cupy.empty((N, out_hw[0], out_hw[1], F), dtype=cupy.float32)
    _cuda.conv2d_forward(dx_.data.ptr, dw_.data.ptr, 0, y.data.ptr, x.shape, w.shape, 0, st, dil,
                         pad, out_hw, cupy.cuda.get_current_stream().ptr, "fp32", 0, 0)
    assert_close(cupy.asnumpy(y), cb.conv2d(x, w, None, st, dil, pad, out_hw, 0), 1e-4,
                 "conv2d own scratch")


# ---- pooling -----------------------------------------------------------------------------------

# (N, H, W, C, pool, strides, padding)
POOL_CASES = [
    (2, 7, 9, 3, (2, 2), (2, 2), "valid"),
    (3, 8, 7, 5, (3, 3), (2, 2), "same"),
    (2, 5, 5, 4, (3, 3), (1, 1), "same"),
    (1, 9, 9, 2, (2, 3), (3, 2), "valid"),
    (0, 4, 4, 3, (2, 2), (2, 2), "valid"),
    (2, 1, 1, 3, (1, 1), (1, 1), "valid"),
    (2, 6, 6, 3, (2, 2), (3, 3), "valid"),
    (4, 32, 32, 16, (2, 2), (2, 2), "same"),
]


def _pool_case(case):
    N, H, W, C, pool, st, padding = case
    out_hw, pad = conv_geometry(H, W, pool[0], pool[1], st[0], st[1], 1, 1, padding)
    return N, H, W, C, pool, st, pad, out_hw


@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool(gb, cb, rng, case):
    N, H, W, C, pool, st, pad, out_hw = _pool_case(case)
    x = f32(rng, N, H, W, C)
    y_ref, am_ref = cb.max_pool2d(x, pool, st, pad, out_hw, True)
    y, am = gb.max_pool2d(to_dev(gb, x), pool, st, pad, out_hw, True)
    np.testing.assert_array_equal(host(gb, y), y_ref)  # a max is exact
    np.testing.assert_array_equal(host(gb, am), am_ref)
    y2, none = gb.max_pool2d(to_dev(gb, x), pool, st, pad, out_hw, False)
    assert none is None
    np.testing.assert_array_equal(host(gb, y2), y_ref)
    dy = f32(rng, *y_ref.shape)
    dx = gb.max_pool2d_grad(to_dev(gb, dy), am, x.shape)
    assert_close(host(gb, dx), cb.max_pool2d_grad(dy, am_ref, x.shape), 1e-5, "max_pool2d_grad")


@pytest.mark.parametrize("case", POOL_CASES)
def test_avg_pool(gb, cb, rng, case):
    N, H, W, C, pool, st, pad, out_hw = _pool_case(case)
    x = f32(rng, N, H, W, C)
    y_ref = cb.avg_pool2d(x, pool, st, pad, out_hw)
    assert_close(host(gb, gb.avg_pool2d(to_dev(gb, x), pool, st, pad, out_hw)), y_ref, 1e-4,
                 "avg_pool2d")
    dy = f32(rng, *y_ref.shape)
    assert_close(host(gb, gb.avg_pool2d_grad(to_dev(gb, dy), x.shape, pool, st, pad)),
                 cb.avg_pool2d_grad(dy, x.shape, pool, st, pad), 1e-4, "avg_pool2d_grad")


# ---- losses ------------------------------------------------------------------------------------

LOSS_SHAPES = [(0, 5), (1, 1), (17, 10), (64, 3), (9, 100)]


def _probabilities(rng, n, c):
    z = rng.normal(size=(n, c)) * 2.0
    p = np.exp(z - z.max(axis=1, keepdims=True)) if c else z
    p = p / p.sum(axis=1, keepdims=True) if c else p
    if n > 2 and c > 1:
        p[0, 0] = 0.0        # clipped entries (zero gradient through the clip)
        p[1] *= 3.0          # not normalised: the loss normalises by the row sum
    return p.astype(np.float32)


def _compare_loss(gb, cb, name, args_cpu, args_gpu, want_grad, what):
    l_ref, g_ref = getattr(cb, name)(*args_cpu)
    l, g = getattr(gb, name)(*args_gpu)
    assert_close(host(gb, l), l_ref, 1e-4, f"{what} losses")
    if want_grad:
        assert_close(host(gb, g), g_ref, 1e-4, f"{what} grad")
    else:
        assert g is None and g_ref is None


@pytest.mark.parametrize("shape", LOSS_SHAPES)
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("want_grad", [False, True])
def test_categorical_crossentropy(gb, cb, rng, shape, from_logits, want_grad):
    n, c = shape
    y_pred = f32(rng, n, c, lo=-4, hi=4) if from_logits else _probabilities(rng, n, c)
    y_true = np.zeros((n, c), np.float32)
    if n and c:
        y_true[np.arange(n), rng.integers(0, c, size=n)] = 1.0
        y_true[: n // 2] = _probabilities(rng, n // 2, c) if n > 1 else y_true[: n // 2]
    scale = 1.0 / max(n, 1)
    _compare_loss(gb, cb, "categorical_crossentropy",
                  (y_true, y_pred, from_logits, want_grad, scale),
                  (to_dev(gb, y_true), to_dev(gb, y_pred), from_logits, want_grad, scale),
                  want_grad, f"cce logits={from_logits}")


@pytest.mark.parametrize("shape", LOSS_SHAPES)
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("want_grad", [False, True])
def test_sparse_categorical_crossentropy(gb, cb, rng, shape, from_logits, want_grad):
    n, c = shape
    y_pred = f32(rng, n, c, lo=-4, hi=4) if from_logits else _probabilities(rng, n, c)
    labels = rng.integers(0, c, size=n).astype(np.int64)
    scale = 0.5
    _compare_loss(gb, cb, "sparse_categorical_crossentropy",
                  (labels, y_pred, from_logits, want_grad, scale),
                  (to_dev(gb, labels, np.int64), to_dev(gb, y_pred), from_logits, want_grad,
                   scale), want_grad, f"scce logits={from_logits}")


@pytest.mark.parametrize("shape", LOSS_SHAPES)
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("want_grad", [False, True])
def test_binary_crossentropy(gb, cb, rng, shape, from_logits, want_grad):
    n, d = shape
    if from_logits:
        y_pred = f32(rng, n, d, lo=-30, hi=30)
    else:
        y_pred = f32(rng, n, d, lo=0.0, hi=1.0)
        if n and d:
            y_pred.flat[0] = 0.0   # clipped
            y_pred.flat[-1] = 1.0  # clipped
    y_true = (rng.uniform(size=(n, d)) > 0.5).astype(np.float32)
    if n > 1:
        y_true[0] = f32(rng, d, lo=0.0, hi=1.0)  # soft targets
    scale = 1.0 / max(n, 1)
    _compare_loss(gb, cb, "binary_crossentropy", (y_true, y_pred, from_logits, want_grad, scale),
                  (to_dev(gb, y_true), to_dev(gb, y_pred), from_logits, want_grad, scale),
                  want_grad, f"bce logits={from_logits}")


@pytest.mark.parametrize("shape", LOSS_SHAPES)
@pytest.mark.parametrize("want_grad", [False, True])
def test_mean_squared_error(gb, cb, rng, shape, want_grad):
    n, d = shape
    y_true, y_pred = f32(rng, n, d, lo=-3, hi=3), f32(rng, n, d, lo=-3, hi=3)
    _compare_loss(gb, cb, "mean_squared_error", (y_true, y_pred, want_grad, 0.25),
                  (to_dev(gb, y_true), to_dev(gb, y_pred), want_grad, 0.25), want_grad, "mse")


# ---- optimizers --------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 1000, 100003])
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_update(gb, cb, rng, n, momentum, nesterov):
    p = f32(rng, n)
    v = np.zeros(n, np.float32) if momentum else None
    pd_, vd = to_dev(gb, p), (to_dev(gb, v) if momentum else None)
    for _ in range(3):
        g = f32(rng, n)
        cb.sgd_update_(p, g, v, 0.05, momentum, nesterov)
        gb.sgd_update_(pd_, to_dev(gb, g), vd, 0.05, momentum, nesterov)
    assert_close(host(gb, pd_), p, 1e-5, "sgd p")
    if momentum:
        assert_close(host(gb, vd), v, 1e-5, "sgd velocity")


@pytest.mark.parametrize("n", [0, 1, 1000, 100003])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_update(gb, cb, rng, n, amsgrad):
    p = f32(rng, n)
    m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)
    vh = np.zeros(n, np.float32) if amsgrad else None
    pd_, md, vd = to_dev(gb, p), to_dev(gb, m), to_dev(gb, v)
    vhd = to_dev(gb, vh) if amsgrad else None
    for t in range(1, 6):
        g = f32(rng, n)
        cb.adam_update_(p, g, m, v, vh, 1e-3, 0.9, 0.999, 1e-7, t)
        gb.adam_update_(pd_, to_dev(gb, g), md, vd, vhd, 1e-3, 0.9, 0.999, 1e-7, t)
    assert_close(host(gb, pd_), p, 1e-5, "adam p")
    assert_close(host(gb, md), m, 1e-5, "adam m")
    assert_close(host(gb, vd), v, 1e-5, "adam v")
    if amsgrad:
        assert_close(host(gb, vhd), vh, 1e-5, "adam vhat")


# ---- argument checking -------------------------------------------------------------------------

def test_bad_arguments_raise_value_error(gb, rng, raw):
    _, cupy = raw
    a = cupy.asarray(f32(rng, 4, 5))
    with pytest.raises(ValueError, match="matmul.*inner dimensions"):
        gb.matmul(a, cupy.asarray(f32(rng, 4, 5)))
    with pytest.raises(ValueError, match="dtype float32"):
        gb.matmul(a.astype(cupy.float64), cupy.asarray(f32(rng, 5, 3)))
    with pytest.raises(ValueError, match="C-contiguous"):
        gb.activation(cupy.asarray(f32(rng, 6, 4)).T, 1)
    with pytest.raises(ValueError, match="CuPy array"):
        gb.softmax(f32(rng, 3, 3))
    with pytest.raises(ValueError, match="labels must be in"):
        gb.sparse_categorical_crossentropy(cupy.asarray(np.array([0, 3], np.int64)),
                                           cupy.asarray(f32(rng, 2, 3)), True, True, 1.0)
    with pytest.raises(ValueError, match="int64"):
        gb.sparse_categorical_crossentropy(cupy.asarray(np.array([0, 1], np.int32)),
                                           cupy.asarray(f32(rng, 2, 3)), True, True, 1.0)
    with pytest.raises(ValueError, match="velocity"):
        gb.sgd_update_(cupy.zeros(3, cupy.float32), cupy.zeros(3, cupy.float32), None, 0.1, 0.9,
                       False)
    with pytest.raises(ValueError, match="precision"):
        gb.set_matmul_precision("fp16")
    with pytest.raises(ValueError, match="only padding"):
        gb.max_pool2d(cupy.zeros((1, 4, 4, 1), cupy.float32), (2, 2), (2, 2), (2, 2), (3, 3),
                      False)
