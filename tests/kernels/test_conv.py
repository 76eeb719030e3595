"""nnforge._cpu im2col / col2im / conv2d forward and backward against reference.py."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nnforge import _cpu
from tests.helpers import at_thread_counts
from tests.kernels import reference as ref

RNG = np.random.default_rng(21)


def geometry(H, W, KH, KW, strides, dilation, padding):
    oh, pt = ref.out_size(H, KH, strides[0], dilation[0], padding)
    ow, pl = ref.out_size(W, KW, strides[1], dilation[1], padding)
    return (oh, ow), (pt, pl)


def tol(K):
    return dict(rtol=1e-4, atol=2e-5 * np.sqrt(K + 1))


def check_conv(N, H, W, C, KH, KW, F, strides, dilation, padding, act=0, bias=True, rng=RNG):
    out_hw, pad = geometry(H, W, KH, KW, strides, dilation, padding)
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    w = rng.standard_normal((KH, KW, C, F)).astype(np.float32)
    b = rng.standard_normal(F).astype(np.float32) if bias else None
    K = KH * KW * C

    cols = np.full((N * out_hw[0] * out_hw[1], K), np.nan, np.float32)
    _cpu.im2col(x, cols, (KH, KW), strides, dilation, pad, out_hw)
    np.testing.assert_array_equal(cols, ref.im2col(x, (KH, KW), strides, dilation, pad, out_hw))
    dxc = np.full(x.shape, np.nan, np.float32)
    _cpu.col2im(cols, dxc, (KH, KW), strides, dilation, pad, out_hw)
    np.testing.assert_allclose(dxc, ref.col2im(cols, x.shape, (KH, KW), strides, dilation, pad, out_hw),
                               rtol=1e-6, atol=1e-6)

    y = np.full((N, *out_hw, F), np.nan, np.float32)
    _cpu.conv2d_forward(x, w, b, y, act, strides, dilation, pad)
    np.testing.assert_allclose(y, ref.conv2d(x, w, b, strides, dilation, pad, out_hw, act), **tol(K))

    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = np.full(x.shape, np.nan, np.float32)
    _cpu.conv2d_backward_input(dy, w, dx, strides, dilation, pad)
    np.testing.assert_allclose(dx, ref.conv2d_grad_input(dy, w, x.shape, strides, dilation, pad),
                               **tol(KH * KW * F))
    dw = np.full(w.shape, np.nan, np.float32)
    db = np.full((F,), np.nan, np.float32) if bias else None
    _cpu.conv2d_backward_filter(x, dy, dw, db, strides, dilation, pad)
    dw_ref, db_ref = ref.conv2d_grad_filter(x, dy, w.shape, strides, dilation, pad)
    rows = N * out_hw[0] * out_hw[1]
    np.testing.assert_allclose(dw, dw_ref, **tol(rows))
    if bias:
        np.testing.assert_allclose(db, db_ref, **tol(rows))


CASES = [
    # N, H, W, C, KH, KW, F, strides, dilation, padding
    (2, 8, 8, 3, 3, 3, 4, (1, 1), (1, 1), "same"),
    (2, 8, 8, 3, 3, 3, 4, (1, 1), (1, 1), "valid"),
    (2, 7, 9, 2, 3, 3, 5, (2, 2), (1, 1), "same"),    # stride 2, odd sizes
    (1, 9, 7, 3, 4, 2, 3, (2, 3), (1, 1), "same"),    # even kernel, mixed strides
    (2, 9, 9, 2, 2, 2, 3, (3, 3), (1, 1), "valid"),   # stride > kernel
    (2, 10, 11, 2, 2, 2, 3, (4, 3), (1, 1), "same"),  # stride > kernel, 'same'
    (2, 9, 9, 3, 3, 3, 2, (1, 1), (2, 2), "same"),    # dilation 2
    (1, 10, 8, 2, 3, 2, 2, (2, 1), (2, 3), "valid"),  # dilation with strides
    (3, 5, 6, 4, 1, 1, 6, (1, 1), (1, 1), "valid"),   # 1x1 stride 1: direct GEMM
    (2, 6, 6, 3, 1, 1, 4, (2, 2), (1, 1), "valid"),   # 1x1 strided: im2col
    (2, 5, 5, 1, 3, 3, 1, (1, 1), (1, 1), "same"),    # C = 1, F = 1
    (1, 1, 1, 3, 3, 3, 2, (1, 1), (1, 1), "same"),    # kernel bigger than the image
    (0, 5, 5, 3, 3, 3, 4, (1, 1), (1, 1), "same"),    # empty batch
    (0, 5, 5, 3, 1, 1, 4, (1, 1), (1, 1), "valid"),   # empty batch, 1x1
]


@pytest.mark.parametrize("case", CASES)
def test_conv_vs_reference(case):
    check_conv(*case)


@pytest.mark.parametrize("act", [1, 2, 3])
def test_conv_fused_activation(act):
    check_conv(2, 6, 6, 3, 3, 3, 4, (1, 1), (1, 1), "same", act=act)
    check_conv(2, 4, 4, 3, 1, 1, 4, (1, 1), (1, 1), "valid", act=act)


def test_conv_without_bias():
    check_conv(2, 7, 7, 3, 3, 3, 4, (2, 2), (1, 1), "same", bias=False)


def test_conv_multi_chunk_large():
    # cols for one image (64*64 x 3*3*32 floats = 4.5 MiB) times the batch exceeds the scratch
    # budget: several batch chunks, and the single-image case below is cut into output-row chunks.
    check_conv(3, 64, 64, 32, 3, 3, 8, (1, 1), (1, 1), "same")
    check_conv(1, 80, 80, 48, 3, 3, 4, (1, 1), (1, 1), "same")


@settings(max_examples=30, deadline=None)
@given(N=st.integers(0, 2), H=st.integers(1, 8), W=st.integers(1, 8), C=st.integers(1, 3),
       KH=st.integers(1, 4), KW=st.integers(1, 4), F=st.integers(1, 3), sh=st.integers(1, 3),
       sw=st.integers(1, 3), dh=st.integers(1, 2), dw=st.integers(1, 2),
       padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 2**31))
def test_conv_property(N, H, W, C, KH, KW, F, sh, sw, dh, dw, padding, seed):
    out_hw, _ = geometry(H, W, KH, KW, (sh, sw), (dh, dw), padding)
    if out_hw[0] < 1 or out_hw[1] < 1:
        return
    check_conv(N, H, W, C, KH, KW, F, (sh, sw), (dh, dw), padding, rng=np.random.default_rng(seed))


def test_conv_explicit_pad_beyond_image():
    # explicit padding larger than needed: some outputs see only zeros (bias only)
    x = RNG.standard_normal((1, 3, 3, 2)).astype(np.float32)
    w = RNG.standard_normal((2, 2, 2, 3)).astype(np.float32)
    b = RNG.standard_normal(3).astype(np.float32)
    y = np.empty((1, 6, 6, 3), np.float32)
    _cpu.conv2d_forward(x, w, b, y, 0, (1, 1), (1, 1), (3, 2))
    np.testing.assert_allclose(y, ref.conv2d(x, w, b, (1, 1), (1, 1), (3, 2), (6, 6)), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(y[0, 0], np.broadcast_to(b, (6, 3)), rtol=0, atol=0)


def test_conv_gradients_finite_differences():
    rng = np.random.default_rng(0)
    N, H, W, C, KH, KW, F = 2, 5, 4, 2, 3, 2, 3
    strides, dilation = (2, 1), (1, 2)
    out_hw, pad = geometry(H, W, KH, KW, strides, dilation, "same")
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    w = rng.standard_normal((KH, KW, C, F)).astype(np.float32)
    b = rng.standard_normal(F).astype(np.float32)
    dy = rng.standard_normal((N, *out_hw, F)).astype(np.float32)

    def loss(xv, wv, bv):  # sum(dy * conv(x, w) + b) in float64, via the C++ forward on float32
        y = np.empty((N, *out_hw, F), np.float32)
        _cpu.conv2d_forward(xv.astype(np.float32), wv.astype(np.float32), bv.astype(np.float32), y,
                            0, strides, dilation, pad)
        return float((y.astype(np.float64) * dy).sum())

    dx = np.empty_like(x)
    _cpu.conv2d_backward_input(dy, w, dx, strides, dilation, pad)
    dw = np.empty_like(w)
    db = np.empty_like(b)
    _cpu.conv2d_backward_filter(x, dy, dw, db, strides, dilation, pad)
    h = 1e-2  # the loss is linear in each argument, so a large step is exact up to rounding
    for arr_, grad, which in ((x, dx, 0), (w, dw, 1), (b, db, 2)):
        fd = np.zeros(arr_.shape)
        for idx in np.ndindex(*arr_.shape):
            args_p = [x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)]
            args_m = [a.copy() for a in args_p]
            args_p[which][idx] += h
            args_m[which][idx] -= h
            fd[idx] = (loss(*args_p) - loss(*args_m)) / (2 * h)
        np.testing.assert_allclose(grad, fd, rtol=2e-3, atol=2e-3)


def test_backward_thread_count_independent():
    rng = np.random.default_rng(4)
    # big enough to be threaded and to span several scratch chunks
    x = rng.standard_normal((8, 40, 40, 24)).astype(np.float32)
    w = rng.standard_normal((3, 3, 24, 16)).astype(np.float32)
    out_hw, pad = geometry(40, 40, 3, 3, (1, 1), (1, 1), "same")
    dy = rng.standard_normal((8, *out_hw, 16)).astype(np.float32)

    def step():
        dw = np.empty_like(w)
        db = np.empty((16,), np.float32)
        _cpu.conv2d_backward_filter(x, dy, dw, db, (1, 1), (1, 1), pad)
        dx = np.empty_like(x)
        _cpu.conv2d_backward_input(dy, w, dx, (1, 1), (1, 1), pad)
        y = np.empty_like(dy)
        _cpu.conv2d_forward(x, w, None, y, 0, (1, 1), (1, 1), pad)
        bg = np.empty((16,), np.float32)
        _cpu.bias_grad(dy.reshape(-1, 16), bg)
        return dw, db, dx, y, bg

    res = at_thread_counts(step, (1, 2))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(res[0][1], res[0][4])  # db is bias_grad of dy


# ---- bad input ------------------------------------------------------------------------------


def test_bad_inputs():
    x = RNG.standard_normal((2, 6, 6, 3)).astype(np.float32)
    w = RNG.standard_normal((3, 3, 3, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    y = np.empty((2, 6, 6, 4), np.float32)
    g = dict(strides=(1, 1), dilation=(1, 1), pad=(1, 1))
    _cpu.conv2d_forward(x, w, b, y, 0, **g)
    with pytest.raises(ValueError, match="conv2d_forward.*'x'.*float32"):
        _cpu.conv2d_forward(x.astype(np.float64), w, b, y, 0, **g)
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.conv2d_forward(x, np.asfortranarray(w), b, y, 0, **g)
    with pytest.raises(ValueError, match="input channels"):
        _cpu.conv2d_forward(x, w[:, :, :2].copy(), b, y, 0, **g)
    with pytest.raises(ValueError, match="filters"):
        _cpu.conv2d_forward(x, w, b, np.empty((2, 6, 6, 5), np.float32), 0, **g)
    with pytest.raises(ValueError, match="batch"):
        _cpu.conv2d_forward(x, w, b, np.empty((3, 6, 6, 4), np.float32), 0, **g)
    with pytest.raises(ValueError, match="'bias'"):
        _cpu.conv2d_forward(x, w, np.zeros(5, np.float32), y, 0, **g)
    with pytest.raises(ValueError, match="'act'"):
        _cpu.conv2d_forward(x, w, b, y, 7, **g)
    with pytest.raises(ValueError, match="4-D"):
        _cpu.conv2d_forward(x[0], w, b, y, 0, **g)
    with pytest.raises(ValueError, match=">= 1"):
        _cpu.conv2d_forward(x, w, b, np.empty((2, 0, 6, 4), np.float32), 0, **g)
    with pytest.raises(ValueError, match="kernel size"):
        _cpu.conv2d_forward(x, np.empty((0, 3, 3, 4), np.float32), b, y, 0, **g)
    ro = np.empty_like(y)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _cpu.conv2d_forward(x, w, b, ro, 0, **g)
    for bad in [dict(strides=(0, 1)), dict(dilation=(1, 0)), dict(pad=(-1, 0)), dict(strides=(1,)),
                dict(pad=(1, 1, 1)), dict(dilation=3), dict(strides=(1.5, 1)), dict(pad=(2**40, 0)),
                dict(strides=(2**31, 1))]:
        kw = {**g, **bad}
        with pytest.raises(ValueError):
            _cpu.conv2d_forward(x, w, b, y, 0, **kw)
        with pytest.raises(ValueError):
            _cpu.conv2d_backward_input(y, w, np.empty_like(x), **kw)
        with pytest.raises(ValueError):
            _cpu.conv2d_backward_filter(x, y, np.empty_like(w), None, **kw)
    with pytest.raises(ValueError, match="conv2d_backward_input.*batch"):
        _cpu.conv2d_backward_input(y[:1].copy(), w, np.empty_like(x), **g)
    with pytest.raises(ValueError, match="conv2d_backward_filter.*'db'"):
        _cpu.conv2d_backward_filter(x, y, np.empty_like(w), np.empty(3, np.float32), **g)
    buf = np.zeros(y.size + 10, np.float32)
    x_in = buf[: x.size].reshape(x.shape)
    y_over = buf[10:].reshape(y.shape)  # output overlapping the input
    with pytest.raises(ValueError, match="share memory"):
        _cpu.conv2d_forward(x_in, w, b, y_over, 0, **g)
    # im2col / col2im
    cols = np.empty((2 * 36, 27), np.float32)
    _cpu.im2col(x, cols, (3, 3), (1, 1), (1, 1), (1, 1), (6, 6))
    with pytest.raises(ValueError, match="im2col.*'cols'"):
        _cpu.im2col(x, np.empty((2 * 36, 26), np.float32), (3, 3), (1, 1), (1, 1), (1, 1), (6, 6))
    with pytest.raises(ValueError, match="col2im.*'cols'"):
        _cpu.col2im(cols, np.empty((2, 6, 6, 3), np.float32), (3, 3), (1, 1), (1, 1), (1, 1), (5, 6))
    with pytest.raises(ValueError, match="kernel"):
        _cpu.im2col(x, cols, (0, 3), (1, 1), (1, 1), (1, 1), (6, 6))
    with pytest.raises(ValueError, match="out_hw"):
        _cpu.im2col(x, cols, (3, 3), (1, 1), (1, 1), (1, 1), (-6, 6))
    big = 2**31 - 1  # (N*OH*OW) * (KH*KW*C) does not fit in int64
    with pytest.raises(ValueError, match="overflow"):
        _cpu.im2col(np.empty((1, 1, 1, 1), np.float32), cols, (big, big), (1, 1), (1, 1), (0, 0),
                    (big, big))
    with pytest.raises(ValueError, match="overflow"):
        # zero filters make these arrays empty, but the cols the kernel would form still overflow
        _cpu.conv2d_forward(np.empty((1, 1, 1, 1024), np.float32),
                            np.empty((2**20, 2**20, 1024, 0), np.float32), None,
                            np.empty((1, 2**20, 2**20, 0), np.float32), 0, (1, 1), (1, 1), (0, 0))
