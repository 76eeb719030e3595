"""conv2d_backward_filter's chunked reduction (small filters over many output rows: each thread
reduces fixed row chunks into private partials, added in chunk order)."""
import numpy as np
import pytest

from nnforge import _cpu


def ref_dw(x, dy, kh, kw, stride, pad):
    n, h, w, c = x.shape
    _, oh, ow, f = dy.shape
    xp = np.zeros((n, h + kh + stride * oh, w + kw + stride * ow, c))
    xp[:, pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    dw = np.zeros((kh, kw, c, f))
    for a in range(kh):
        for b in range(kw):
            patch = xp[:, a:a + stride * oh:stride, b:b + stride * ow:stride, :]
            dw[a, b] = np.einsum("nhwc,nhwf->cf", patch, dy)
    return dw


@pytest.mark.parametrize("n,h,w,c,f,stride,pad", [
    (9, 32, 32, 3, 32, 1, (0, 0)),    # the seed CNN's first layer, odd batch
    (1, 100, 70, 1, 8, 1, (1, 1)),    # one image, 'same'-style padding
    (13, 51, 43, 2, 16, 2, (0, 0)),   # stride 2, odd sizes
])
def test_chunked_backward_filter_matches_reference_and_thread_count(n, h, w, c, f, stride, pad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    oh = (h + 2 * pad[0] - 3) // stride + 1
    ow = (w + 2 * pad[1] - 3) // stride + 1
    assert n * oh * ow >= 4096  # large enough for the chunked path
    dy = rng.standard_normal((n, oh, ow, f)).astype(np.float32)
    outs = []
    for threads in (1, 2):
        _cpu.set_num_threads(threads)
        dw = np.empty((3, 3, c, f), np.float32)
        db = np.empty(f, np.float32)
        _cpu.conv2d_backward_filter(x, dy, dw, db, (stride, stride), (1, 1), pad)
        outs.append((dw.copy(), db.copy()))
    _cpu.set_num_threads(2)
    assert outs[0][0].tobytes() == outs[1][0].tobytes()
    assert outs[0][1].tobytes() == outs[1][1].tobytes()
    np.testing.assert_allclose(outs[0][0], ref_dw(x.astype(np.float64), dy.astype(np.float64),
                                                  3, 3, stride, pad), rtol=1e-3, atol=1e-2)
    np.testing.assert_allclose(outs[0][1], dy.astype(np.float64).sum(axis=(0, 1, 2)),
                               rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("act", [1, 2, 3])
@pytest.mark.parametrize("n,h,w,c,f", [
    (9, 32, 32, 3, 32),   # small filter over many rows: the fused, chunked path
    (2, 9, 9, 8, 64),     # large filter: dz formed once, then the plain path
])
def test_backward_filter_with_fused_activation(act, n, h, w, c, f):
    rng = np.random.default_rng(act)
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    oh, ow = h - 2, w - 2
    z = rng.standard_normal((n, oh, ow, f)).astype(np.float32)
    y = {1: np.maximum(z, 0), 2: 1 / (1 + np.exp(-z)), 3: np.tanh(z)}[act].astype(np.float32)
    if act == 1:
        y[..., ::7] = 0.0  # exact zeros: relu's gradient there is 0
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dz = {1: dy * (y > 0), 2: dy * y * (1 - y), 3: dy * (1 - y * y)}[act]
    outs = []
    for threads in (1, 2):
        _cpu.set_num_threads(threads)
        dw = np.empty((3, 3, c, f), np.float32)
        db = np.empty(f, np.float32)
        _cpu.conv2d_backward_filter(x, dy, dw, db, (1, 1), (1, 1), (0, 0), y, act)
        outs.append((dw.copy(), db.copy()))
    _cpu.set_num_threads(2)
    want = ref_dw(x.astype(np.float64), dz.astype(np.float64), 3, 3, 1, (0, 0))
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(outs[0][0], want, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(outs[0][1], dz.astype(np.float64).sum((0, 1, 2)), rtol=1e-4,
                               atol=1e-3)
    for a, b in zip(outs[0], outs[1]):  # bitwise the same for any thread count
        np.testing.assert_array_equal(a, b)


def test_backward_filter_fused_activation_argument_errors():
    x = np.zeros((1, 5, 5, 2), np.float32)
    dy = np.zeros((1, 3, 3, 4), np.float32)
    dw = np.empty((3, 3, 2, 4), np.float32)
    with pytest.raises(ValueError, match="needs 'y'"):
        _cpu.conv2d_backward_filter(x, dy, dw, None, (1, 1), (1, 1), (0, 0), None, 1)
    with pytest.raises(ValueError, match="act"):
        _cpu.conv2d_backward_filter(x, dy, dw, None, (1, 1), (1, 1), (0, 0), dy, 7)
    with pytest.raises(ValueError, match="only used"):
        _cpu.conv2d_backward_filter(x, dy, dw, None, (1, 1), (1, 1), (0, 0), dy, 0)
    with pytest.raises(ValueError, match="shape"):
        _cpu.conv2d_backward_filter(x, dy, dw, None, (1, 1), (1, 1), (0, 0),
                                    np.zeros((1, 3, 3, 5), np.float32), 1)
