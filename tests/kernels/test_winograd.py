"""Winograd F(2x2, 3x3) convolution (cpp/src/winograd.cpp) against a float64 NumPy reference and
against the im2col + GEMM path it replaces (``_cpu.set_winograd(False)``)."""
import numpy as np
import pytest

from nnforge import _cpu
from tests.helpers import at_thread_counts

ACTS = {0: lambda z: z, 1: lambda z: np.maximum(z, 0), 2: lambda z: 1 / (1 + np.exp(-z)),
        3: np.tanh}


def ref_conv(x, w, b, pad, out_hw):
    """float64 direct convolution, stride 1, zero padding pad on each side."""
    oh, ow = out_hw
    xp = np.pad(x.astype(np.float64), ((0, 0), (pad[0], pad[0]), (pad[1], pad[1]), (0, 0)))
    assert xp.shape[1:3] == (oh + 2, ow + 2)
    y = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for kh in range(3):
        for kw in range(3):
            y += np.einsum("nhwc,cf->nhwf", xp[:, kh:kh + oh, kw:kw + ow],
                           w[kh, kw].astype(np.float64))
    return y + (0 if b is None else b.astype(np.float64))


def conv(x, w, b, pad, out_hw, act=0, winograd=True):
    _cpu.set_winograd(winograd)
    try:
        y = np.empty((x.shape[0], *out_hw, w.shape[3]), np.float32)
        _cpu.conv2d_forward(x, w, b, y, act, (1, 1), (1, 1), pad)
        return y
    finally:
        _cpu.set_winograd(True)


def grad_input(dy, w, x_shape, pad, winograd=True):
    _cpu.set_winograd(winograd)
    try:
        dx = np.empty(x_shape, np.float32)
        _cpu.conv2d_backward_input(dy, w, dx, (1, 1), (1, 1), pad)
        return dx
    finally:
        _cpu.set_winograd(True)


# (N, H, W, C, F, pad): valid and same padding, odd and even output sizes (partial 2x2 tiles at
# the bottom / right edge), channel counts that are not multiples of a vector, one image.
SHAPES = [(2, 15, 15, 32, 64, (0, 0)), (3, 8, 9, 16, 24, (1, 1)), (1, 13, 13, 64, 32, (0, 0)),
          (4, 6, 5, 17, 19, (1, 1)), (5, 4, 4, 16, 16, (0, 0)), (1, 12, 7, 33, 16, (1, 1))]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("act", [0, 1, 2, 3])
def test_forward_matches_reference(shape, act):
    n, h, w_, c, f, pad = shape
    rng = np.random.default_rng(abs(hash((shape, act))) % 2**32)
    x = rng.standard_normal((n, h, w_, c)).astype(np.float32)
    w = (rng.standard_normal((3, 3, c, f)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32) if act != 2 else None
    out_hw = (h + 2 * pad[0] - 2, w_ + 2 * pad[1] - 2)
    want = ACTS[act](ref_conv(x, w, b, pad, out_hw))
    got = conv(x, w, b, pad, out_hw, act)
    gemm = conv(x, w, b, pad, out_hw, act, winograd=False)
    scale = np.abs(want).max()
    # Winograd's transforms add a few roundings per output: within a few float32 ulps of the
    # output's scale, as close to the float64 result as im2col + GEMM up to a small factor.
    assert np.abs(got - want).max() <= 4e-6 * scale
    assert np.abs(got - want).max() <= 8 * max(np.abs(gemm - want).max(), 1e-7 * scale)


@pytest.mark.parametrize("shape", SHAPES)
def test_backward_input_matches_gemm_path(shape):
    n, h, w_, c, f, pad = shape
    rng = np.random.default_rng(len(SHAPES) + SHAPES.index(shape))
    w = (rng.standard_normal((3, 3, c, f)) / np.sqrt(9 * c)).astype(np.float32)
    out_hw = (h + 2 * pad[0] - 2, w_ + 2 * pad[1] - 2)
    dy = rng.standard_normal((n, *out_hw, f)).astype(np.float32)
    got = grad_input(dy, w, (n, h, w_, c), pad)
    want = grad_input(dy, w, (n, h, w_, c), pad, winograd=False)
    # dx = the full convolution of dy with the rotated filter: compare in float64 too
    wr = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))
    exact = ref_conv(dy, wr, None, (2 - pad[0], 2 - pad[1]), (h, w_))
    scale = np.abs(exact).max()
    assert np.abs(want - exact).max() <= 4e-6 * scale
    assert np.abs(got - exact).max() <= 4e-6 * scale


def test_thread_count_independent():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((9, 15, 15, 32)).astype(np.float32)
    w = rng.standard_normal((3, 3, 32, 64)).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    dy = rng.standard_normal((9, 13, 13, 64)).astype(np.float32)

    def step():
        return conv(x, w, b, (0, 0), (13, 13), 1), grad_input(dy, w, x.shape, (0, 0))

    res = at_thread_counts(step, (1, 2, 3))
    for other in res[1:]:
        for a, b_ in zip(res[0], other):
            np.testing.assert_array_equal(a, b_)


def test_each_image_independent_of_the_batch():
    # a tile depends on its own patch only: an image's output is the same alone or in a batch
    rng = np.random.default_rng(8)
    x = rng.standard_normal((6, 11, 11, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    full = conv(x, w, None, (1, 1), (11, 11))
    for i in (0, 5):
        np.testing.assert_array_equal(conv(x[i:i + 1], w, None, (1, 1), (11, 11)), full[i:i + 1])


def test_switch_and_shapes_it_does_not_take():
    assert _cpu.get_winograd() is True
    rng = np.random.default_rng(9)
    # fewer than 16 channels, a strided and a dilated convolution: im2col + GEMM either way
    for c, strides, dil, out in ((8, (1, 1), (1, 1), 8), (16, (2, 2), (1, 1), 4),
                                 (16, (1, 1), (2, 2), 6)):
        x = rng.standard_normal((2, 10, 10, c)).astype(np.float32)
        w = rng.standard_normal((3, 3, c, 16)).astype(np.float32)
        ys = []
        for on in (True, False):
            _cpu.set_winograd(on)
            y = np.empty((2, out, out, 16), np.float32)
            _cpu.conv2d_forward(x, w, None, y, 0, strides, dil, (0, 0))
            ys.append(y)
        _cpu.set_winograd(True)
        np.testing.assert_array_equal(ys[0], ys[1])
