"""conv2d_max_pool_forward (cpp/src/conv2d.cpp): the fused kernel is bitwise conv2d_forward
followed by max_pool2d_forward, its winners (argmax, for training) those of max_pool2d_forward's
uint8 argmax, for any thread count."""
import numpy as np
import pytest

from nnforge import _cpu
from tests.helpers import at_thread_counts


def unfused(x, w, b, act, strides, pad, conv_hw, pool, pstrides, ppad, out_hw, with_arg=False):
    y = np.empty((x.shape[0], *conv_hw, w.shape[3]), np.float32)
    _cpu.conv2d_forward(x, w, b, y, act, strides, (1, 1), pad)
    out = np.empty((x.shape[0], *out_hw, w.shape[3]), np.float32)
    arg = np.empty(out.shape, np.uint8) if with_arg else None
    _cpu.max_pool2d_forward(y, out, arg, pool, pstrides, ppad)
    return (out, arg) if with_arg else out


def fused(x, w, b, act, strides, pad, conv_hw, pool, pstrides, ppad, out_hw, with_arg=False):
    out = np.full((x.shape[0], *out_hw, w.shape[3]), -7.0, np.float32)
    arg = np.full(out.shape, 255, np.uint8) if with_arg else None
    took = _cpu.conv2d_max_pool_forward(x, w, b, out, act, strides, (1, 1), pad, conv_hw, pool,
                                        pstrides, ppad, arg)
    return (took, out, arg) if with_arg else (took, out)


# (N, H, C, F, kernel, strides, pad, conv_hw, pool, pool strides, pool pad, out_hw):
# the seed CNN's two pairs (im2col and Winograd convolutions), 'same' convolution, odd sizes
# (the last conv row/column unpooled), overlapping 3x3 stride-2 'same' pooling, strided conv.
CASES = [
    (7, 32, 3, 32, 3, (1, 1), (0, 0), (30, 30), (2, 2), (2, 2), (0, 0), (15, 15)),
    (5, 15, 32, 64, 3, (1, 1), (0, 0), (13, 13), (2, 2), (2, 2), (0, 0), (6, 6)),
    (3, 9, 16, 16, 3, (1, 1), (1, 1), (9, 9), (2, 2), (2, 2), (0, 0), (4, 4)),
    (4, 11, 8, 12, 3, (1, 1), (0, 0), (9, 9), (3, 3), (2, 2), (1, 1), (5, 5)),
    (2, 12, 5, 9, 3, (2, 2), (0, 0), (5, 5), (2, 2), (1, 1), (0, 0), (4, 4)),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("act", [0, 1, 3])
def test_bitwise_the_unfused_pair(case, act):
    n, h, c, f, k, st, pad, chw, pool, pst, ppad, ohw = case
    rng = np.random.default_rng(CASES.index(case) * 4 + act)
    x = rng.standard_normal((n, h, h, c)).astype(np.float32)
    w = rng.standard_normal((k, k, c, f)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32) if act != 3 else None
    args = (x, w, b, act, st, pad, chw, pool, pst, ppad, ohw)
    took, out = fused(*args)
    assert took
    np.testing.assert_array_equal(out, unfused(*args))


@pytest.mark.parametrize("case", CASES)
def test_winners_are_the_pools(case):
    # training's variant: the uint8 argmax of max_pool2d_forward, and the same pooled values
    n, h, c, f, k, st, pad, chw, pool, pst, ppad, ohw = case
    rng = np.random.default_rng(40 + CASES.index(case))
    x = rng.standard_normal((n, h, h, c)).astype(np.float32)
    w = rng.standard_normal((k, k, c, f)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    args = (x, w, b, 1, st, pad, chw, pool, pst, ppad, ohw)
    took, out, arg = fused(*args, with_arg=True)
    ref_out, ref_arg = unfused(*args, with_arg=True)
    assert took
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(arg, ref_arg)
    # and the winners drive max_pool2d_backward to the two kernels' gradient
    dy = rng.standard_normal(out.shape).astype(np.float32)
    dx_f = np.empty((n, *chw, f), np.float32)
    dx_u = np.empty_like(dx_f)
    _cpu.max_pool2d_backward(dy, arg, dx_f, pool, pst, ppad)
    _cpu.max_pool2d_backward(dy, ref_arg, dx_u, pool, pst, ppad)
    np.testing.assert_array_equal(dx_f, dx_u)


def test_nan_and_ties_as_the_pool():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 10, 10, 16)).astype(np.float32)
    x[0, 2:4, 2:5] = np.nan
    x[1] = 0.0  # every window ties (relu of the bias)
    w = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    args = (x, w, b, 1, (1, 1), (0, 0), (8, 8), (2, 2), (2, 2), (0, 0), (4, 4))
    took, out = fused(*args)
    assert took and np.isnan(out).any()
    np.testing.assert_array_equal(out, unfused(*args))
    took, out, arg = fused(*args, with_arg=True)
    ref_out, ref_arg = unfused(*args, with_arg=True)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(arg, ref_arg)


def test_thread_count_independent():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((9, 15, 15, 32)).astype(np.float32)
    w = rng.standard_normal((3, 3, 32, 64)).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    args = (x, w, b, 1, (1, 1), (0, 0), (13, 13), (2, 2), (2, 2), (0, 0), (6, 6))
    res = at_thread_counts(lambda: fused(*args, with_arg=True)[1:], (1, 2, 3))
    for out, arg in res:
        np.testing.assert_array_equal(out, res[0][0])
        np.testing.assert_array_equal(arg, res[0][1])
    np.testing.assert_array_equal(res[0][0], unfused(*args))


def test_declines_tiny_images():
    # one image's GEMM at or below sgemm's tiny path: the caller runs the two kernels
    x = np.ones((4, 3, 3, 1), np.float32)
    w = np.ones((3, 3, 1, 2), np.float32)
    out = np.full((4, 1, 1, 2), -7.0, np.float32)
    took = _cpu.conv2d_max_pool_forward(x, w, None, out, 0, (1, 1), (1, 1), (1, 1), (3, 3),
                                        (2, 2), (2, 2), (0, 0))
    assert took is False and (out == -7.0).all()


def test_bad_arguments_are_refused():
    x = np.ones((2, 8, 8, 3), np.float32)
    w = np.ones((3, 3, 3, 4), np.float32)
    ok_out = np.empty((2, 3, 3, 4), np.float32)
    call = _cpu.conv2d_max_pool_forward
    with pytest.raises(ValueError, match="channels"):
        call(x, np.ones((3, 3, 2, 4), np.float32), None, ok_out, 0, (1, 1), (1, 1), (0, 0), (6, 6), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="batch"):
        call(x, w, None, np.empty((1, 3, 3, 4), np.float32), 0, (1, 1), (1, 1), (0, 0), (6, 6), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="conv_hw"):  # an empty convolution output
        call(x, w, None, ok_out, 0, (1, 1), (1, 1), (0, 0), (0, 6), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError):  # the pooled size does not match the pooling geometry
        call(x, w, None, np.empty((2, 4, 4, 4), np.float32), 0, (1, 1), (1, 1), (0, 0), (6, 6), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="strides"):
        call(x, w, None, ok_out, 0, 1, (1, 1), (0, 0), (6, 6), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="bias"):
        call(x, w, np.ones(3, np.float32), ok_out, 0, (1, 1), (1, 1), (0, 0), (6, 6), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError):
        call(x, w, None, ok_out, 9, (1, 1), (1, 1), (0, 0), (6, 6), (2, 2), (2, 2), (0, 0))  # unknown activation code
    geo = (0, (1, 1), (1, 1), (0, 0), (6, 6), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="uint8"):  # the winners are window indices
        call(x, w, None, ok_out, *geo, np.empty((2, 3, 3, 4), np.int32))
    with pytest.raises(ValueError, match="argmax"):  # not out's shape
        call(x, w, None, ok_out, *geo, np.empty((2, 3, 2, 4), np.uint8))
    with pytest.raises(ValueError, match="C-contiguous"):
        call(x, w, None, ok_out, *geo, np.empty((2, 3, 3, 8), np.uint8)[..., ::2])
    with pytest.raises(ValueError, match="256"):  # a 17x17 window does not fit a uint8
        call(np.ones((1, 19, 19, 3), np.float32), w, None, np.empty((1, 1, 1, 4), np.float32),
             0, (1, 1), (1, 1), (0, 0), (17, 17), (17, 17), (17, 17), (0, 0),
             np.empty((1, 1, 1, 4), np.uint8))
