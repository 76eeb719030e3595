"""int8 Conv2D (nnforge.backend.quantized.int8_conv2d over nnforge._cpu.qconv2d_s8).

Semantics under test (ours; Keras has no int8 convolution): each image x[n] is quantized with its
own scale 127 / (max|x[n]| + 1e-7) (or the static x_scale); the im2col rows of the quantized
image (zero padding = 0) meet the kernel (kh*kw*cin, cout), quantized per output channel:
y = act(float(patch_q @ wq) / (image_scale * w_scale) + bias).
Checked against a NumPy reference built on tests/kernels/reference.im2col (float64 geometry,
integer products, float64 epilogue), on every int8 instruction set, for 'valid'/'same', strides,
dilation, Conv1D as height 1, and the thread count; bad arguments raise ValueError.
"""
import numpy as np
import pytest

from nnforge import _cpu
from nnforge.backend import quantized as Q
from tests.helpers import at_thread_counts

from . import reference as R

ISAS = [i for i in ("amx", "avx512_vnni", "avx_vnni", "avx2", "generic") if _cpu.int8_isa_supported(i)]

GEOMS = [  # (N, H, W, C, KH, KW, F, strides, padding, dilation)
    (1, 1, 1, 1, 1, 1, 1, (1, 1), "valid", (1, 1)),
    (2, 5, 6, 3, 3, 3, 4, (1, 1), "valid", (1, 1)),
    (2, 5, 6, 3, 3, 3, 17, (1, 1), "same", (1, 1)),
    (1, 9, 8, 5, 3, 2, 33, (2, 3), "same", (1, 1)),
    (1, 9, 9, 2, 3, 3, 8, (1, 1), "same", (2, 2)),
    (3, 7, 7, 16, 1, 1, 20, (1, 1), "valid", (1, 1)),
    (1, 1, 30, 7, 1, 5, 9, (1, 2), "same", (1, 1)),   # Conv1D: height 1
    (4, 32, 32, 16, 3, 3, 40, (1, 1), "same", (1, 1)),  # several chunks, several threads
]


def _quantize_kernel(w):
    KH, KW, C, F = w.shape
    wq_t, ws = Q.quantize_rows_int8(np.ascontiguousarray(w.reshape(KH * KW * C, F).T))
    return np.ascontiguousarray(wq_t.T), ws


def _reference(x, wq, ws, bias, kernel, strides, padding, dilation, act, x_scale=None):
    N, H, W, C = x.shape
    (OH, pt), (OW, pl) = (R.out_size(H, kernel[0], strides[0], dilation[0], padding),
                          R.out_size(W, kernel[1], strides[1], dilation[1], padding))
    flat = x.reshape(N, -1)
    if x_scale is None:
        amax = np.max(np.abs(flat), axis=1, keepdims=True)
        s = np.float32(127.0) / (amax + np.float32(1e-7))
    else:
        s = np.full((N, 1), x_scale, np.float32)
    q = np.clip(np.round(flat * s), -127, 127).reshape(x.shape)
    cols = R.im2col(q, kernel, strides, dilation, (pt, pl), (OH, OW)).astype(np.int64)
    acc = (cols @ wq.astype(np.int64)).astype(np.float64)
    rows = np.repeat(s[:, 0], OH * OW).astype(np.float64)[:, None]
    y = acc / (rows * ws.astype(np.float64)[None, :])
    if bias is not None:
        y = y + bias
    y = {"linear": lambda v: v, "relu": lambda v: np.maximum(v, 0.0),
         "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh}[act](y)
    return y.reshape(N, OH, OW, -1)


def _case(geom, seed=0):
    N, H, W, C, KH, KW, F, st, pad, dil = geom
    rng = np.random.default_rng(seed + N * 100 + H * 10 + F)
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    w = rng.standard_normal((KH, KW, C, F)).astype(np.float32)
    bias = rng.standard_normal(F).astype(np.float32)
    wq, ws = _quantize_kernel(w)
    return x, wq, ws, bias, (KH, KW), st, pad, dil


def _close(y, ref, bias):
    tol = 4e-7 * (np.abs(ref) + np.abs(bias) + np.abs(y - bias)) + 1e-6
    assert np.all(np.abs(y - ref) <= tol), np.max(np.abs(y - ref) - tol)


@pytest.mark.parametrize("geom", GEOMS)
@pytest.mark.parametrize("act", ["linear", "relu", "tanh"])
def test_conv_vs_reference(geom, act):
    x, wq, ws, bias, k, st, pad, dil = _case(geom)
    y = Q.int8_conv2d(x, Q.int8_pack_weights(wq), ws, bias, k, st, pad, dil, act)
    ref = _reference(x, wq, ws, bias, k, st, pad, dil, act)
    assert y.shape == ref.shape and y.dtype == np.float32
    _close(y, ref, bias)


@pytest.mark.parametrize("geom", GEOMS[1:5])
def test_conv_static_scale(geom):
    x, wq, ws, bias, k, st, pad, dil = _case(geom, seed=1)
    y = Q.int8_conv2d(x, Q.int8_pack_weights(wq), ws, None, k, st, pad, dil, "relu", x_scale=40.0)
    ref = _reference(x, wq, ws, None, k, st, pad, dil, "relu", x_scale=40.0)
    _close(y, ref, np.zeros(1))


@pytest.mark.parametrize("geom", [GEOMS[2], GEOMS[3], GEOMS[7]])
def test_conv_identical_on_every_isa_and_thread_count(geom):
    x, wq, ws, bias, k, st, pad, dil = _case(geom, seed=2)
    p = Q.int8_pack_weights(wq)
    old_isa = _cpu.int8_isa()
    outs = []
    try:
        for isa in ISAS:
            _cpu.set_int8_isa(isa)
            outs += at_thread_counts(
                lambda: Q.int8_conv2d(x, p, ws, bias, k, st, pad, dil, "sigmoid"), (1, 2))
    finally:
        _cpu.set_int8_isa(old_isa)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_conv_1x1_equals_dense():
    """A 1x1 convolution is the Dense of the pixels: with a static scale bit for bit; with
    dynamic scales, image by image, once Dense's per-row scales are the image's one scale."""
    x, wq, ws, bias, k, st, pad, dil = _case(GEOMS[5])
    p = Q.int8_pack_weights(wq)
    y = Q.int8_conv2d(x, p, ws, bias, 1, 1, "valid", 1, "relu", x_scale=25.0)
    d = Q.int8_dense(x.reshape(-1, x.shape[-1]), p, ws, bias, "relu", x_scale=25.0)
    np.testing.assert_array_equal(y.reshape(d.shape), d)
    y = Q.int8_conv2d(x, p, ws, bias, 1, 1, "valid", 1, "relu")
    for n in range(x.shape[0]):
        s = float(np.float32(127.0) / (np.abs(x[n]).max() + np.float32(1e-7)))
        d = Q.int8_dense(x[n].reshape(-1, x.shape[-1]), p, ws, bias, "relu", x_scale=s)
        np.testing.assert_array_equal(y[n].reshape(d.shape), d)


def test_conv_dynamic_scale_is_per_image():
    """Each image's output depends on that image alone: scaling another image of the batch, or
    running the image on its own, gives the same bits."""
    x, wq, ws, bias, k, st, pad, dil = _case(GEOMS[7], seed=4)
    p = Q.int8_pack_weights(wq)
    y = Q.int8_conv2d(x, p, ws, bias, k, st, pad, dil, "linear")
    x2 = x.copy()
    x2[1] *= 100.0
    y2 = Q.int8_conv2d(x2, p, ws, bias, k, st, pad, dil, "linear")
    np.testing.assert_array_equal(np.delete(y, 1, axis=0), np.delete(y2, 1, axis=0))
    np.testing.assert_array_equal(Q.int8_conv2d(x[2:3], p, ws, bias, k, st, pad, dil), y[2:3])


def test_quantize_images_int8():
    x = np.random.default_rng(5).normal(size=(3, 4, 5, 2)).astype(np.float32)
    q, s = Q.quantize_images_int8(x)
    want_q, want_s = Q.quantize_rows_int8(x.reshape(3, -1))
    np.testing.assert_array_equal(q, want_q.reshape(x.shape))
    np.testing.assert_array_equal(s, want_s)
    q, s = Q.quantize_images_int8(x, 10.0)
    np.testing.assert_array_equal(q, np.clip(np.round(x * np.float32(10)), -127, 127))
    np.testing.assert_array_equal(s, np.full(3, 10.0, np.float32))


def test_conv_empty_batch():
    x, wq, ws, bias, k, st, pad, dil = _case(GEOMS[1])
    y = Q.int8_conv2d(x[:0], Q.int8_pack_weights(wq), ws, bias, k, st, pad, dil)
    assert y.shape == (0, 3, 4, 4)


def test_conv_bad_arguments():
    x, wq, ws, bias, k, st, pad, dil = _case(GEOMS[1])
    p = Q.int8_pack_weights(wq)
    cases = [
        (lambda: Q.int8_conv2d(x[0], p, ws, bias, k), "x"),
        (lambda: Q.int8_conv2d(x.astype(np.float64), p, ws, bias, k), "x"),
        (lambda: Q.int8_conv2d(x, p, ws, bias, (2, 3)), "kernel_size"),
        (lambda: Q.int8_conv2d(x, p, ws, bias, k, padding="causal"), "padding"),
        (lambda: Q.int8_conv2d(x, p, ws, bias, k, strides=0), "strides"),
        (lambda: Q.int8_conv2d(x, p, ws, bias, k, dilation_rate=(1, 2, 3)), "dilation_rate"),
        (lambda: Q.int8_conv2d(x, p, ws, bias, (3, 3), dilation_rate=4), "larger"),
        (lambda: Q.int8_conv2d(x, p, ws[:2], bias, k), "w_scale"),
        (lambda: Q.int8_conv2d(x, p, ws, bias[:2], k), "bias"),
        (lambda: Q.int8_conv2d(x, p, ws, bias, k, activation="softmax"), "activation"),
        (lambda: Q.int8_conv2d(x, p, ws, bias, k, x_scale=0.0), "x_scale"),
        (lambda: Q.int8_conv2d(x, wq, ws, bias, k), "packed"),
    ]
    for fn, arg in cases:
        with pytest.raises(ValueError, match=arg):
            fn()
    y = np.empty((2, 3, 4, 4), np.float32)
    with pytest.raises(ValueError, match="'y'"):
        _cpu.qconv2d_s8(x, p.packed, p.comp, 4, ws, bias, 0, None, (3, 3), (1, 1), (1, 1),
                        (0, 0), np.empty((2, 3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="panels"):
        _cpu.qconv2d_s8(x, p.packed, p.comp, 4, ws, bias, 0, None, (2, 2), (1, 1), (1, 1),
                        (0, 0), y)
    with pytest.raises(ValueError, match="pad"):
        _cpu.qconv2d_s8(x, p.packed, p.comp, 4, ws, bias, 0, None, (3, 3), (1, 1), (1, 1),
                        (-1, 0), y)
    with pytest.raises(ValueError, match="output size"):
        _cpu.qconv2d_s8(x, p.packed, p.comp, 4, ws, bias, 0, None, (3, 3), (1, 1), (1, 1),
                        (0, 0), np.empty((2, 0, 4, 4), np.float32))


@pytest.mark.parametrize("geom", [GEOMS[2], GEOMS[4], GEOMS[6]])
def test_conv_native_matches_numpy_reference_path(geom, monkeypatch):
    x, wq, ws, bias, k, st, pad, dil = _case(geom, seed=3)
    p = Q.int8_pack_weights(wq)
    native = Q.int8_conv2d(x, p, ws, bias, k, st, pad, dil, "relu")
    monkeypatch.setattr(Q, "_NATIVE", False)
    np.testing.assert_array_equal(native, Q.int8_conv2d(x, p, ws, bias, k, st, pad, dil, "relu"))
