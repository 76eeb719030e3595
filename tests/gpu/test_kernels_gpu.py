"""Every CUDA kernel (through nnforge.backend.cuda) against the CPU kernel (nnforge.backend.cpu) on
the same random inputs: odd sizes, empty batches, 'same' padding with stride 2, dilation, 1x1
convolutions, stride > kernel; NaN/Inf inputs for every family; sizes past the grid-stride
wraparound; non-default streams. Tolerances (tests/gpu/numerics.py): 1e-4 relative for FP32;
TF32 within 2e-3 and BF16 within 1e-2 of each element's magnitude (|op(a)| @ |op(b)| + |bias|),
and both within 1e-4 of an exact emulation of their operand rounding, which pins down the
tensor-core fragment layouts.

Skipped without CuPy and a CUDA device; failed when a GPU is present but unusable (conftest.py)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.gpu.numerics import (EMULATION_TOL, ROUNDERS, TOL, assert_close,
                                assert_close_to_scale, conv_geometry, emulate_gemm, f32,
                                gemm_magnitude)

ACTS = [0, 1, 2, 3]  # linear, relu, sigmoid, tanh


# ---- helpers -----------------------------------------------------------------------------------

def to_dev(gb, a, dtype=np.float32):
    """A device copy (always a copy, so in-place kernels never touch the host reference)."""
    return gb.asarray(np.array(a, dtype=dtype, copy=True), dtype=dtype)


def use_precision(gb, precision):
    """Set the GEMM precision (a dry run on the CPU backend has only FP32)."""
    if hasattr(gb, "set_matmul_precision"):
        gb.set_matmul_precision(precision)
    elif precision != "fp32":
        pytest.skip("reduced precision exists only on the CUDA backend")


def host(gb, a):
    return None if a is None else gb.to_numpy(a)


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


@pytest.mark.parametrize("precision", ["tf32", "bf16"])
@pytest.mark.parametrize("mnk", [(1, 1, 1), (17, 9, 3), (128, 128, 32), (200, 130, 333),
                                 (1000, 257, 96)])
@pytest.mark.parametrize("ta,tb", TRANS)
def test_matmul_reduced_precision(gb, cb, rng, raw, precision, mnk, ta, tb):
    _cuda, _ = raw
    m, n, k = mnk
    a, b = _operands(rng, m, n, k, ta, tb)
    bias = f32(rng, n)
    gb.set_matmul_precision(precision)
    got = host(gb, gb.matmul(to_dev(gb, a), to_dev(gb, b), ta, tb, to_dev(gb, bias), 0))
    mag = gemm_magnitude(a, b, ta, tb, bias)
    ref32 = cb.matmul(a, b, ta, tb, bias, 0)
    assert_close_to_scale(got, ref32, TOL[precision], f"{precision} vs FP32 CPU {mnk}", mag)
    if _cuda.tensor_cores_used(precision):
        assert_close_to_scale(got, emulate_gemm(precision, a, b, ta, tb, bias), EMULATION_TOL,
                              f"{precision} vs emulation {mnk}", mag)


@pytest.mark.parametrize("precision", ["tf32", "bf16"])
@pytest.mark.parametrize("act", [1, 2, 3])
def test_matmul_reduced_precision_fused_activation(gb, cb, rng, raw, precision, act):
    """The epilogue applies the activation to the tensor-core result (all three are at most
    1-Lipschitz, so the bound carries over)."""
    _cuda, _ = raw
    m, n, k = 150, 70, 200
    a, b, bias = f32(rng, m, k), f32(rng, k, n), f32(rng, n)
    gb.set_matmul_precision(precision)
    got = host(gb, gb.matmul(to_dev(gb, a), to_dev(gb, b), False, False, to_dev(gb, bias), act))
    mag = gemm_magnitude(a, b, bias=bias)
    assert_close_to_scale(got, cb.matmul(a, b, False, False, bias, act), TOL[precision],
                          f"{precision} act={act}", mag)
    if _cuda.tensor_cores_used(precision):
        emu = cb.activation(emulate_gemm(precision, a, b, bias=bias), act)
        assert_close_to_scale(got, emu, EMULATION_TOL, f"{precision} act={act} emulation", mag)


def test_tensor_core_dispatch(raw):
    _cuda, cupy = raw
    major, minor = _cuda.compute_capability(cupy.cuda.runtime.getDevice())
    assert _cuda.tensor_cores_used("fp32") is False
    assert _cuda.tensor_cores_used("tf32") == (major >= 8)
    assert _cuda.tensor_cores_used("bf16") == (major >= 8)


@pytest.mark.parametrize("precision", ["fp32", "tf32", "bf16"])
def test_sgemm_leading_dimensions(raw, rng, precision):
    """Row-pitched views (a[:, :k] of a wider array) are passed as leading dimensions."""
    _cuda, cupy = raw
    m, n, k = 70, 45, 39
    a_big, b_big, c_big = f32(rng, m, k + 5), f32(rng, k, n + 3), f32(rng, m, n + 7)
    da, db, dc = cupy.asarray(a_big), cupy.asarray(b_big), cupy.asarray(c_big)
    _cuda.sgemm(da[:, :k], db[:, :n], dc[:, :n], False, False, 1.0, 1.0, precision,
                cupy.cuda.get_current_stream().ptr)
    a, b = a_big[:, :k], b_big[:, :n]
    want = (c_big[:, :n].astype(np.float64) + a.astype(np.float64) @ b).astype(np.float32)
    mag = gemm_magnitude(a, b) + np.abs(c_big[:, :n])
    got = cupy.asnumpy(dc)
    assert_close_to_scale(got[:, :n], want, TOL[precision] if precision != "fp32" else 1e-5,
                          "ld > width", mag)
    # The padding columns of C are untouched.
    np.testing.assert_array_equal(got[:, n:], c_big[:, n:])


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


@pytest.mark.parametrize("precision", ["tf32", "bf16"])
@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[6], CONV_CASES[10]])
def test_conv2d_reduced_precision(gb, cb, rng, raw, workspace_limit, precision, case):
    """Forward (with a fused ReLU), input gradient and filter gradient on tensor cores: within
    TOL of each element's magnitude vs FP32, and within 1e-4 of the CPU convolution of the
    rounded operands (every GEMM operand is rounded: x and w forward, dy and w for dx, x and dy
    for dw; the bias gradient stays FP32)."""
    _cuda, _ = raw
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(case)
    x, w, bias = f32(rng, N, H, W, C), f32(rng, KH, KW, C, F), f32(rng, F)
    dy = f32(rng, N, out_hw[0], out_hw[1], F)
    rnd = ROUNDERS[precision]
    tc = _cuda.tensor_cores_used(precision)
    gb.set_matmul_precision(precision)
    ax, aw, ady = np.abs(x), np.abs(w), np.abs(dy)

    got = host(gb, gb.conv2d(to_dev(gb, x), to_dev(gb, w), to_dev(gb, bias), st, dil, pad,
                             out_hw, 1))
    mag = cb.conv2d(ax, aw, np.abs(bias), st, dil, pad, out_hw, 0)
    assert_close_to_scale(got, cb.conv2d(x, w, bias, st, dil, pad, out_hw, 1), TOL[precision],
                          f"{precision} conv2d {case}", mag)
    if tc:
        emu = cb.conv2d(rnd(x), rnd(w), bias, st, dil, pad, out_hw, 1)
        assert_close_to_scale(got, emu, EMULATION_TOL, "conv2d emulation", mag)

    got = host(gb, gb.conv2d_grad_input(to_dev(gb, dy), to_dev(gb, w), x.shape, st, dil, pad))
    mag = cb.conv2d_grad_input(ady, aw, x.shape, st, dil, pad)
    assert_close_to_scale(got, cb.conv2d_grad_input(dy, w, x.shape, st, dil, pad),
                          TOL[precision], f"{precision} conv2d_grad_input {case}", mag)
    if tc:
        emu = cb.conv2d_grad_input(rnd(dy), rnd(w), x.shape, st, dil, pad)
        assert_close_to_scale(got, emu, EMULATION_TOL, "conv2d_grad_input emulation", mag)

    dw, db = gb.conv2d_grad_filter(to_dev(gb, x), to_dev(gb, dy), w.shape, st, dil, pad, True)
    dw, db = host(gb, dw), host(gb, db)
    mag = cb.conv2d_grad_filter(ax, ady, w.shape, st, dil, pad, False)[0]
    dw_ref, db_ref = cb.conv2d_grad_filter(x, dy, w.shape, st, dil, pad, True)
    assert_close_to_scale(dw, dw_ref, TOL[precision], f"{precision} conv2d_grad_filter {case}",
                          mag)
    assert_close(db, db_ref, 1e-4, "bias gradient (FP32 whatever the precision)")
    if tc:
        emu = cb.conv2d_grad_filter(rnd(x), rnd(dy), w.shape, st, dil, pad, False)[0]
        assert_close_to_scale(dw, emu, EMULATION_TOL, "conv2d_grad_filter emulation", mag)


@pytest.mark.parametrize("act", [1, 2, 3])
@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[6]])
def test_conv2d_grad_filter_through_activation(gb, cb, rng, case, act):
    """With y (the forward's activated output) and act, the gradients of act'(y) * dy, as the
    CPU's fused kernel computes them."""
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(case)
    x, w, bias = f32(rng, N, H, W, C), f32(rng, KH, KW, C, F), f32(rng, F)
    y = cb.conv2d(x, w, bias, st, dil, pad, out_hw, act)
    dy = f32(rng, *y.shape)
    dw_ref, db_ref = cb.conv2d_grad_filter(x, dy, w.shape, st, dil, pad, True, y=y, act=act)
    dw, db = gb.conv2d_grad_filter(to_dev(gb, x), to_dev(gb, dy), w.shape, st, dil, pad, True,
                                   y=to_dev(gb, y), act=act)
    assert_close(host(gb, dw), dw_ref, 1e-4, f"dw through act {act}")
    assert_close(host(gb, db), db_ref, 1e-4, f"db through act {act}")


@pytest.mark.parametrize("strides,padding", [((2, 2), "same"), ((1, 2), "valid"),
                                             ((3, 3), "valid")])
def test_transposed_convolution(gb, cb, rng, strides, padding):
    """ops.conv_transpose's three kernel calls (forward = conv2d_grad_input, input gradient =
    conv2d, kernel gradient = conv2d_grad_filter with the roles of x and dy exchanged)."""
    N, H, W, Cin, KH, KW, Cout = 2, 5, 6, 4, 3, 3, 5
    x = f32(rng, N, H, W, Cin)          # the transposed conv's input
    w = f32(rng, KH, KW, Cout, Cin)     # Keras Conv2DTranspose kernel: (kh, kw, out, in)
    size = [(H - 1) * strides[0] + KH, (W - 1) * strides[1] + KW] if padding == "valid" else \
        [H * strides[0], W * strides[1]]
    pads = []
    for i, sz in enumerate(size):
        oh, p = conv_geometry(sz, sz, KH, KW, strides[i], strides[i], 1, 1, padding)
        assert oh[0] == (H, W)[i]
        pads.append(p[0])
    y_shape = (N, size[0], size[1], Cout)
    y_ref = cb.conv2d_grad_input(x, w, y_shape, strides, (1, 1), tuple(pads))
    y = gb.conv2d_grad_input(to_dev(gb, x), to_dev(gb, w), y_shape, strides, (1, 1), tuple(pads))
    assert_close(host(gb, y), y_ref, 1e-4, "conv_transpose forward")
    g = f32(rng, *y_shape)
    gx_ref = cb.conv2d(g, w, None, strides, (1, 1), tuple(pads), (H, W), 0)
    gx = gb.conv2d(to_dev(gb, g), to_dev(gb, w), None, strides, (1, 1), tuple(pads), (H, W), 0)
    assert_close(host(gb, gx), gx_ref, 1e-4, "conv_transpose input gradient")
    gw_ref = cb.conv2d_grad_filter(g, x, w.shape, strides, (1, 1), tuple(pads), False)[0]
    gw = gb.conv2d_grad_filter(to_dev(gb, g), to_dev(gb, x), w.shape, strides, (1, 1),
                               tuple(pads), False)[0]
    assert_close(host(gb, gw), gw_ref, 1e-4, "conv_transpose kernel gradient")


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
    dx = host(gb, gb.max_pool2d_grad(to_dev(gb, dy), am, x.shape, pool, st, pad))
    # A gather in the CPU's summation order: the same bits.
    np.testing.assert_array_equal(dx, cb.max_pool2d_grad(dy, am_ref, x.shape, pool, st, pad))


@pytest.mark.parametrize("pool,st,padding", [((3, 3), (1, 1), "same"), ((3, 3), (2, 2), "same"),
                                             ((2, 2), (1, 1), "valid")])
def test_max_pool_backward_is_deterministic(gb, cb, rng, pool, st, padding):
    """Overlapping windows: one dx element collects several dy. Two runs give the same bits,
    and they equal the CPU's (the GPU gathers in the CPU's scatter order)."""
    N, H, W, C = 4, 33, 31, 64
    out_hw, pad = conv_geometry(H, W, pool[0], pool[1], st[0], st[1], 1, 1, padding)
    x = f32(rng, N, H, W, C)
    x[:, ::2, ::2, :] = 1.0  # ties: the first maximum wins on both devices
    y_ref, am_ref = cb.max_pool2d(x, pool, st, pad, out_hw, True)
    _, am = gb.max_pool2d(to_dev(gb, x), pool, st, pad, out_hw, True)
    np.testing.assert_array_equal(host(gb, am), am_ref)
    dy = rng.normal(size=y_ref.shape).astype(np.float32) * 1e3
    dyd = to_dev(gb, dy)
    dx1 = host(gb, gb.max_pool2d_grad(dyd, am, x.shape, pool, st, pad))
    dx2 = host(gb, gb.max_pool2d_grad(dyd, am, x.shape, pool, st, pad))
    np.testing.assert_array_equal(dx1, dx2)
    np.testing.assert_array_equal(dx1, cb.max_pool2d_grad(dy, am_ref, x.shape, pool, st, pad))


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


def _predictions(rng, n, c, from_logits):
    """(n, c) predictions of a categorical loss: logits in [-4, 4], or _probabilities."""
    return f32(rng, n, c, lo=-4, hi=4) if from_logits else _probabilities(rng, n, c)


def loss_grid(test):
    """Parametrizes a loss test over every LOSS_SHAPES ``shape``, ``from_logits`` False and True,
    and ``want_grad`` False and True."""
    for mark in (pytest.mark.parametrize("want_grad", [False, True]),
                 pytest.mark.parametrize("from_logits", [False, True]),
                 pytest.mark.parametrize("shape", LOSS_SHAPES)):
        test = mark(test)
    return test


def _compare_loss(gb, cb, name, args_cpu, args_gpu, want_grad, what):
    l_ref, g_ref = getattr(cb, name)(*args_cpu)
    l, g = getattr(gb, name)(*args_gpu)
    assert_close(host(gb, l), l_ref, 1e-4, f"{what} losses")
    if want_grad:
        assert_close(host(gb, g), g_ref, 1e-4, f"{what} grad")
    else:
        assert g is None and g_ref is None


@loss_grid
def test_categorical_crossentropy(gb, cb, rng, shape, from_logits, want_grad):
    n, c = shape
    y_pred = _predictions(rng, n, c, from_logits)
    y_true = np.zeros((n, c), np.float32)
    if n and c:
        y_true[np.arange(n), rng.integers(0, c, size=n)] = 1.0
        y_true[: n // 2] = _probabilities(rng, n // 2, c) if n > 1 else y_true[: n // 2]
    scale = 1.0 / max(n, 1)
    _compare_loss(gb, cb, "categorical_crossentropy",
                  (y_true, y_pred, from_logits, want_grad, scale),
                  (to_dev(gb, y_true), to_dev(gb, y_pred), from_logits, want_grad, scale),
                  want_grad, f"cce logits={from_logits}")


@loss_grid
def test_sparse_categorical_crossentropy(gb, cb, rng, shape, from_logits, want_grad):
    n, c = shape
    y_pred = _predictions(rng, n, c, from_logits)
    labels = rng.integers(0, c, size=n).astype(np.int64)
    scale = 0.5
    _compare_loss(gb, cb, "sparse_categorical_crossentropy",
                  (labels, y_pred, from_logits, want_grad, scale),
                  (to_dev(gb, labels, np.int64), to_dev(gb, y_pred), from_logits, want_grad,
                   scale), want_grad, f"scce logits={from_logits}")


@loss_grid
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


# ---- NaN and Inf: the GPU gives the CPU's answer, never a finite value for a NaN -------------

def _poison(a, rng, frac=0.05):
    """A copy of ``a`` with NaN, +inf and -inf at a few random places (at most one non-finite
    entry per row of a 2-D array, so GEMM sums never meet inf - inf in an order-dependent way)."""
    a = a.copy()
    flat = a.reshape(a.shape[0], -1) if a.ndim > 1 else a.reshape(1, -1)
    for r in range(flat.shape[0]):
        if flat.shape[1] and rng.uniform() < max(frac * flat.shape[1], 0.3):
            flat[r, rng.integers(flat.shape[1])] = rng.choice([np.nan, np.inf, -np.inf])
    return a


@pytest.mark.parametrize("act", ACTS)
def test_nonfinite_activation_and_softmax(gb, cb, rng, act):
    x = _poison(f32(rng, 40, 33, lo=-5, hi=5), rng)
    y_ref = cb.activation(x, act)
    assert_close(host(gb, gb.activation(to_dev(gb, x), act)), y_ref, 1e-4, f"act {act}")
    dy = _poison(f32(rng, 40, 33), rng)
    y_nan = _poison(y_ref, rng)
    assert_close(host(gb, gb.activation_grad(to_dev(gb, y_nan), to_dev(gb, dy), act)),
                 cb.activation_grad(y_nan, dy, act), 1e-4, f"act grad {act} (inf * 0 never)")
    assert_close(host(gb, gb.softmax(to_dev(gb, x))), cb.softmax(x), 1e-4, "softmax")
    db = host(gb, gb.bias_grad(to_dev(gb, dy), dy.shape[1]))
    assert_close(db, cb.bias_grad(dy, dy.shape[1]), 1e-4, "bias_grad")


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("precision", ["fp32", "tf32", "bf16"])
def test_nonfinite_gemm_epilogue_keeps_nan(gb, cb, rng, act, precision):
    """The fused ReLU of the GEMM/conv epilogue keeps NaN (the CPU's max(0, x) micro-kernels do;
    only the element-wise activation maps NaN to 0, and the GPU matches both)."""
    a, b, bias = _poison(f32(rng, 70, 40), rng), f32(rng, 40, 30), f32(rng, 30)
    use_precision(gb, precision)
    got = host(gb, gb.matmul(to_dev(gb, a), to_dev(gb, b), False, False, to_dev(gb, bias), act))
    ref = cb.matmul(a, b, False, False, bias, act)
    assert np.isnan(ref).any()
    assert_close_to_scale(got, ref, TOL[precision], f"gemm act={act} {precision}",
                          gemm_magnitude(np.nan_to_num(a, posinf=0, neginf=0), b, bias=bias))


def test_gemm_alpha_zero_reads_neither_operand(gb, cb, rng):
    a = np.full((30, 20), np.nan, np.float32)
    b = np.full((20, 25), np.inf, np.float32)
    c0 = f32(rng, 30, 25)
    for beta in (0.0, 1.0, -0.5):
        c_cpu, c_gpu = c0.copy(), to_dev(gb, c0)
        cb.gemm_(a, b, c_cpu, False, False, 0.0, beta)
        gb.gemm_(to_dev(gb, a), to_dev(gb, b), c_gpu, False, False, 0.0, beta)
        assert not np.isnan(c_cpu).any()
        assert_close(host(gb, c_gpu), c_cpu, 1e-6, f"alpha=0 beta={beta}")


def test_nonfinite_conv_pool(gb, cb, rng):
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(CONV_CASES[1])
    x, w, bias = f32(rng, N, H, W, C), f32(rng, KH, KW, C, F), f32(rng, F)
    x[0, 2, 3, 1], x[1, 5, 5, 0], x[2, 0, 0, 2] = np.nan, np.inf, -np.inf
    for act in ACTS:
        got = gb.conv2d(to_dev(gb, x), to_dev(gb, w), to_dev(gb, bias), st, dil, pad, out_hw, act)
        assert_close(host(gb, got), cb.conv2d(x, w, bias, st, dil, pad, out_hw, act), 1e-4,
                     f"conv2d act={act}")
    for pool, pst, padding in (((2, 2), (2, 2), "valid"), ((3, 3), (1, 1), "same")):
        p_hw, ppad = conv_geometry(H, W, pool[0], pool[1], pst[0], pst[1], 1, 1, padding)
        y_ref, am_ref = cb.max_pool2d(x, pool, pst, ppad, p_hw, True)
        y, am = gb.max_pool2d(to_dev(gb, x), pool, pst, ppad, p_hw, True)
        assert_close(host(gb, y), y_ref, 0, "max_pool2d")
        np.testing.assert_array_equal(host(gb, am), am_ref)
        assert_close(host(gb, gb.avg_pool2d(to_dev(gb, x), pool, pst, ppad, p_hw)),
                     cb.avg_pool2d(x, pool, pst, ppad, p_hw), 1e-4, "avg_pool2d")


@pytest.mark.parametrize("from_logits", [False, True])
def test_nonfinite_losses_stay_nonfinite(gb, cb, rng, from_logits):
    """A NaN prediction gives a NaN loss on both devices (a clip by fminf/fmaxf would turn it
    into eps and hide it from TerminateOnNaN)."""
    n, c = 12, 5
    y_pred = f32(rng, n, c, lo=-3, hi=3) if from_logits else f32(rng, n, c, lo=0.01, hi=1.0)
    y_pred[1, 2] = np.nan
    y_pred[3, 0] = np.inf if from_logits else 0.5
    y_true = np.eye(c, dtype=np.float32)[rng.integers(0, c, n)]
    labels = y_true.argmax(1).astype(np.int64)
    for name, t in (("categorical_crossentropy", y_true),
                    ("sparse_categorical_crossentropy", labels),
                    ("binary_crossentropy", y_true)):
        l_ref, g_ref = getattr(cb, name)(t, y_pred, from_logits, True, 0.5)
        l, g = getattr(gb, name)(to_dev(gb, t, t.dtype), to_dev(gb, y_pred), from_logits, True,
                                 0.5)
        assert np.isnan(l_ref[1]), name
        assert_close(host(gb, l), l_ref, 1e-4, f"{name} losses")
        assert_close(host(gb, g), g_ref, 1e-4, f"{name} grad")
    l_ref, g_ref = cb.mean_squared_error(y_true, y_pred, True, 1.0)
    l, g = gb.mean_squared_error(to_dev(gb, y_true), to_dev(gb, y_pred), True, 1.0)
    assert_close(host(gb, l), l_ref, 1e-4, "mse losses")
    assert_close(host(gb, g), g_ref, 1e-4, "mse grad")


def test_nonfinite_optimizers(gb, cb, rng):
    n = 1000
    g = _poison(f32(rng, n), rng, frac=0.01)
    p, v = f32(rng, n), np.zeros(n, np.float32)
    pd_, vd = to_dev(gb, p), to_dev(gb, v)
    cb.sgd_update_(p, g, v, 0.1, 0.9, True)
    gb.sgd_update_(pd_, to_dev(gb, g), vd, 0.1, 0.9, True)
    assert_close(host(gb, pd_), p, 1e-5, "sgd p")
    p, m, v, vh = f32(rng, n), np.zeros(n, np.float32), np.zeros(n, np.float32), \
        np.full(n, np.nan, np.float32)
    vh[::2] = 0.0
    devs = [to_dev(gb, a) for a in (p, m, v, vh)]
    cb.adam_update_(p, g, m, v, vh, 1e-3, 0.9, 0.999, 1e-7, 1)
    gb.adam_update_(devs[0], to_dev(gb, g), *devs[1:], 1e-3, 0.9, 0.999, 1e-7, 1)
    for got, want, what in zip(devs, (p, m, v, vh), ("p", "m", "v", "vhat")):
        assert_close(host(gb, got), want, 1e-5, f"adam {what} (amsgrad max keeps NaN vhat)")


# ---- large logits ------------------------------------------------------------------------------

@pytest.mark.parametrize("spread", [200.0, 1000.0])
def test_losses_with_large_logits(gb, cb, rng, spread):
    """Everything relative to the row maximum: no mx + log(se) that is subtracted again."""
    n, c = 64, 10
    z = f32(rng, n, c, lo=-spread, hi=spread)
    z[:4] += 5000.0  # far from zero, small spread within the row
    t = np.eye(c, dtype=np.float32)[rng.integers(0, c, n)]
    t[n // 2:] = cb.softmax(f32(rng, n - n // 2, c, lo=-2, hi=2))  # soft targets
    labels = rng.integers(0, c, n).astype(np.int64)
    for name, tt in (("categorical_crossentropy", t), ("sparse_categorical_crossentropy", labels)):
        l_ref, g_ref = getattr(cb, name)(tt, z, True, True, 1.0 / n)
        l, g = getattr(gb, name)(to_dev(gb, tt, tt.dtype), to_dev(gb, z), True, True, 1.0 / n)
        assert_close(host(gb, l), l_ref, 1e-5, f"{name} losses, logits ~{spread}")
        assert_close(host(gb, g), g_ref, 1e-5, f"{name} grad")
    tb = (rng.uniform(size=(n, c)) > 0.5).astype(np.float32)
    l_ref, g_ref = cb.binary_crossentropy(tb, z, True, True, 1.0)
    l, g = gb.binary_crossentropy(to_dev(gb, tb), to_dev(gb, z), True, True, 1.0)
    assert_close(host(gb, l), l_ref, 1e-5, "bce losses, large logits")
    assert_close(host(gb, g), g_ref, 1e-5, "bce grad, large logits")


# ---- streams, sizes past the grid-stride wraparound, memory ------------------------------------

def test_every_family_on_a_non_default_stream(gb, cb, rng, raw):
    """Kernels are enqueued on CuPy's current stream: work on a non-blocking stream, read back
    after synchronising only that stream, matches the CPU."""
    _, cupy = raw
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(CONV_CASES[10])
    x, w, bias = f32(rng, N, H, W, C), f32(rng, KH, KW, C, F), f32(rng, F)
    labels = rng.integers(0, F, N * out_hw[0] * out_hw[1]).astype(np.int64)
    s = cupy.cuda.Stream(non_blocking=True)
    with s:
        xd, wd, bd = gb.asarray(x), gb.asarray(w), gb.asarray(bias)
        y = gb.conv2d(xd, wd, bd, st, dil, pad, out_hw, 1)
        pooled, am = gb.max_pool2d(y, (2, 2), (2, 2), (0, 0), (out_hw[0] // 2, out_hw[1] // 2),
                                   True)
        dx_pool = gb.max_pool2d_grad(pooled, am, y.shape, (2, 2), (2, 2), (0, 0))
        logits = y.reshape(-1, F)
        losses, grad = gb.sparse_categorical_crossentropy(gb.asarray(labels, np.int64), logits,
                                                          True, True, 1.0)
        dw, db = gb.conv2d_grad_filter(xd, grad.reshape(y.shape), w.shape, st, dil, pad, True)
        gb.sgd_update_(wd, dw, None, 0.1, 0.0, False)
    s.synchronize()
    y_ref = cb.conv2d(x, w, bias, st, dil, pad, out_hw, 1)
    p_ref, am_ref = cb.max_pool2d(y_ref, (2, 2), (2, 2), (0, 0), (out_hw[0] // 2,
                                                                  out_hw[1] // 2), True)
    l_ref, g_ref = cb.sparse_categorical_crossentropy(labels, y_ref.reshape(-1, F), True, True,
                                                      1.0)
    dw_ref, db_ref = cb.conv2d_grad_filter(x, g_ref.reshape(y_ref.shape), w.shape, st, dil, pad,
                                           True)
    w_ref = w.copy()
    cb.sgd_update_(w_ref, dw_ref, None, 0.1, 0.0, False)
    assert_close(cupy.asnumpy(y), y_ref, 1e-4, "stream conv2d")
    assert_close(cupy.asnumpy(dx_pool), cb.max_pool2d_grad(p_ref, am_ref, y_ref.shape, (2, 2),
                                                           (2, 2), (0, 0)), 1e-4, "stream pool")
    assert_close(cupy.asnumpy(losses), l_ref, 1e-4, "stream loss")
    assert_close(cupy.asnumpy(db), db_ref, 1e-4, "stream bias grad")
    assert_close(cupy.asnumpy(wd), w_ref, 1e-4, "stream sgd")


def test_sizes_past_the_grid_stride_wraparound(gb, cb, rng):
    """grid_for caps a launch at 65536 blocks of 256 threads and grid_rows at 65536 * 8 rows:
    larger sizes rely on the 64-bit grid-stride loops."""
    n = 65536 * 256 + 777
    x = f32(rng, n, lo=-3, hi=3)
    assert_close(host(gb, gb.activation(to_dev(gb, x), 3)), cb.activation(x, 3), 1e-4, "tanh")
    rows = 65536 * 8 + 5
    z = f32(rng, rows, 3, lo=-5, hi=5)
    assert_close(host(gb, gb.softmax(to_dev(gb, z))), cb.softmax(z), 1e-4, "softmax rows")
    labels = rng.integers(0, 3, rows).astype(np.int64)
    l_ref, g_ref = cb.sparse_categorical_crossentropy(labels, z, True, True, 1.0)
    l, g = gb.sparse_categorical_crossentropy(to_dev(gb, labels, np.int64), to_dev(gb, z), True,
                                              True, 1.0)
    assert_close(host(gb, l), l_ref, 1e-4, "loss rows")
    db = host(gb, gb.bias_grad(to_dev(gb, z), 3))  # 1024 splits of ~512 rows
    assert_close(db, cb.bias_grad(z, 3), 1e-4, "bias_grad rows")
    xp = f32(rng, 17, 256, 256, 16)  # 17.8M inputs, 4.5M outputs
    y_ref, am_ref = cb.max_pool2d(xp, (2, 2), (2, 2), (0, 0), (128, 128), True)
    y, am = gb.max_pool2d(to_dev(gb, xp), (2, 2), (2, 2), (0, 0), (128, 128), True)
    np.testing.assert_array_equal(host(gb, y), y_ref)
    dx = gb.max_pool2d_grad(to_dev(gb, y_ref), am, xp.shape, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(host(gb, dx), cb.max_pool2d_grad(y_ref, am_ref, xp.shape,
                                                                    (2, 2), (2, 2), (0, 0)))


@pytest.mark.parametrize("precision", ["fp32", "tf32"])
def test_gemm_beyond_65535_tiles_in_m_and_n(gb, rng, precision):
    """M and N above 65535 * 128: N is on grid x, M is launched in slices of 65535 tiles."""
    use_precision(gb, precision)
    big = 65535 * 128 + 1000
    a, b = f32(rng, big, 3), f32(rng, 3, 5)
    got = host(gb, gb.matmul(to_dev(gb, a), to_dev(gb, b)))
    ref = a.astype(np.float64) @ b
    assert_close_to_scale(got, ref.astype(np.float32), TOL[precision], "M past the grid",
                          gemm_magnitude(a, b))
    a2, b2 = f32(rng, 3, 2), f32(rng, 2, big)
    got = host(gb, gb.matmul(to_dev(gb, a2), to_dev(gb, b2), False, False, None, 1))
    ref = np.maximum(a2.astype(np.float64) @ b2, 0)
    assert_close_to_scale(got, ref.astype(np.float32), TOL[precision], "N past the grid",
                          gemm_magnitude(a2, b2))


def test_out_of_memory_leaves_no_stale_error(gb, cb, rng, raw):
    """Device memory comes from CuPy's pool only: an out-of-memory is CuPy's
    OutOfMemoryError (after it has freed its cache and retried), and the next kernels run and
    report no error left behind by it."""
    _, cupy = raw
    with pytest.raises(cupy.cuda.memory.OutOfMemoryError):
        gb.empty((1 << 46,))  # 256 TiB of float32
    N, H, W, C, KH, KW, F, st, dil, pad, out_hw = _conv_case(CONV_CASES[3])
    x, w = f32(rng, N, H, W, C), f32(rng, KH, KW, C, F)
    got = gb.conv2d(to_dev(gb, x), to_dev(gb, w), None, st, dil, pad, out_hw, 0)
    gb.synchronize()
    assert_close(host(gb, got), cb.conv2d(x, w, None, st, dil, pad, out_hw, 0), 1e-4,
                 "conv after OOM")


def test_set_device(raw):
    _cuda, cupy = raw
    n = _cuda.device_count()
    assert n == cupy.cuda.runtime.getDeviceCount()
    _cuda.set_device(0)
    assert _cuda.get_device() == 0
    with pytest.raises(ValueError, match=f"device {n} does not exist"):
        _cuda.set_device(n)
    major, minor = _cuda.compute_capability(0)
    assert (major, minor) >= _cuda.min_compute_capability()


def test_backend_set_device_places_weights_on_the_gpu(raw):
    import nnforge as keras
    from nnforge.core import unwrap
    _, cupy = raw
    saved = keras.config.get_device()
    try:
        keras.config.set_device("cuda")
        layer = keras.layers.Dense(4)
        out = layer(np.ones((2, 3), np.float32))
        assert isinstance(unwrap(layer.kernel), cupy.ndarray)
        assert np.asarray(keras.ops.convert_to_numpy(out)).shape == (2, 4)
        keras.config.set_device("cpu")
        assert isinstance(unwrap(keras.layers.Dense(4)(np.ones((2, 3), np.float32))),
                          np.ndarray)
    finally:
        keras.config.set_device(saved)


# ---- argument checking on the device (the rest runs without a GPU:
# tests/gpu/test_cuda_bindings_validation.py) -------------------------------------------------

def test_bad_arguments_raise(gb, rng, raw):
    _cuda, cupy = raw
    a = cupy.asarray(f32(rng, 4, 5))
    with pytest.raises(ValueError, match="sgemm: inner dimensions"):
        gb.matmul(a, cupy.asarray(f32(rng, 4, 5)))
    with pytest.raises(ValueError, match="dtype float32, got float64"):
        gb.matmul(a.astype(cupy.float64), cupy.asarray(f32(rng, 5, 3)))
    with pytest.raises(ValueError, match="C-contiguous"):
        gb.activation(cupy.asarray(f32(rng, 6, 4)).T, 1)
    with pytest.raises(TypeError, match="must be a CUDA array .* in host memory"):
        gb.activation_(f32(rng, 3, 3), 1)  # a NumPy array reaches the extension as is
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
    sq = cupy.asarray(f32(rng, 4, 4))
    with pytest.raises(ValueError, match="'c' .* and 'a' .* overlap"):
        gb.matmul(sq, cupy.asarray(f32(rng, 4, 4)), out=sq)


def test_host_memory_behind_a_cuda_array_interface_is_refused(raw):
    """A NumPy buffer dressed up as a CUDA array: cudaPointerGetAttributes tells."""
    _cuda, cupy = raw
    from tests.gpu.test_cuda_bindings_validation import FakeCudaArray
    x = FakeCudaArray((8,))
    with pytest.raises(ValueError, match="argument 'x' is host memory"):
        _cuda.activation_forward(x, cupy.zeros(8, cupy.float32), 1)
    pinned = cupy.cuda.alloc_pinned_memory(64)
    fake = FakeCudaArray((8,), ptr=pinned.ptr)
    with pytest.raises(ValueError, match="argument 'y' is page-locked host memory"):
        _cuda.activation_forward(cupy.zeros(8, cupy.float32), fake, 1)
