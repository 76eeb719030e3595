"""nnforge._cpu max/avg pooling (NHWC, TF 'same' semantics) against reference.py."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nnforge import _cpu
from tests.helpers import at_thread_counts
from tests.kernels import reference as ref

RNG = np.random.default_rng(11)


def geometry(H, W, pool, strides, padding):
    oh, pt = ref.out_size(H, pool[0], strides[0], 1, padding)
    ow, pl = ref.out_size(W, pool[1], strides[1], 1, padding)
    return (oh, ow), (pt, pl)


def window_to_image(am8, x_shape, pool, strides, pad):
    """uint8 window indices k -> int32 image indices (ih*W + iw)*C + c, ih = oh*SH - pt + k // KW."""
    _, _, W, C = x_shape
    N, OH, OW, _ = am8.shape
    k = am8.astype(np.int64)
    oh = np.arange(OH)[None, :, None, None]
    ow = np.arange(OW)[None, None, :, None]
    ih = oh * strides[0] - pad[0] + k // pool[1]
    iw = ow * strides[1] - pad[1] + k % pool[1]
    return (ih * W + iw) * C + np.arange(C)


def run_all(N, H, W, C, pool, strides, padding, rng=RNG):
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    out_hw, pad = geometry(H, W, pool, strides, padding)
    y = np.full((N, *out_hw, C), np.nan, np.float32)
    am = np.full(y.shape, -7, np.int32)
    _cpu.max_pool2d_forward(x, y, am, pool, strides, pad)
    y_ref, am_ref = ref.max_pool2d(x, pool, strides, pad, out_hw)
    np.testing.assert_array_equal(y, y_ref.astype(np.float32))
    np.testing.assert_array_equal(am, am_ref)
    y2 = np.empty_like(y)
    _cpu.max_pool2d_forward(x, y2, None, pool, strides, pad)
    np.testing.assert_array_equal(y2, y)

    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = np.full(x.shape, np.nan, np.float32)
    _cpu.max_pool2d_backward(dy, am, dx)
    np.testing.assert_allclose(dx, ref.max_pool2d_grad(dy, am_ref, x.shape), rtol=1e-6, atol=1e-6)
    # with the geometry (disjoint windows take the write-once path): the same result
    dx_g = np.full(x.shape, np.nan, np.float32)
    _cpu.max_pool2d_backward(dy, am, dx_g, pool, strides, pad)
    np.testing.assert_array_equal(dx_g, dx)

    # uint8 argmax (index in the window): same y, the same winners, the same dx
    if pool[0] * pool[1] <= 256:
        y8 = np.full(y.shape, np.nan, np.float32)
        am8 = np.full(y.shape, 77, np.uint8)
        _cpu.max_pool2d_forward(x, y8, am8, pool, strides, pad)
        np.testing.assert_array_equal(y8, y)
        np.testing.assert_array_equal(window_to_image(am8, x.shape, pool, strides, pad), am_ref)
        dx8 = np.full(x.shape, np.nan, np.float32)
        _cpu.max_pool2d_backward(dy, am8, dx8, pool, strides, pad)
        np.testing.assert_array_equal(dx8, dx)

    ya = np.full(y.shape, np.nan, np.float32)
    _cpu.avg_pool2d_forward(x, ya, pool, strides, pad)
    np.testing.assert_allclose(ya, ref.avg_pool2d(x, pool, strides, pad, out_hw), rtol=1e-5, atol=1e-6)
    dxa = np.full(x.shape, np.nan, np.float32)
    _cpu.avg_pool2d_backward(dy, dxa, pool, strides, pad)
    np.testing.assert_allclose(dxa, ref.avg_pool2d_grad(dy, x.shape, pool, strides, pad),
                               rtol=1e-5, atol=1e-6)


CASES = [
    # N, H, W, C, pool, strides, padding
    (2, 8, 8, 3, (2, 2), (2, 2), "valid"),
    (2, 7, 9, 4, (2, 2), (2, 2), "same"),     # stride 2, odd sizes: extra pad at bottom/right
    (1, 7, 7, 1, (3, 3), (2, 2), "same"),     # C = 1, pad on both sides
    (3, 5, 6, 2, (3, 2), (1, 1), "same"),
    (2, 9, 9, 5, (2, 2), (3, 3), "valid"),    # stride > pool
    (2, 10, 10, 2, (2, 2), (4, 3), "same"),   # stride > pool with 'same'
    (2, 4, 4, 3, (1, 1), (1, 1), "valid"),    # 1x1
    (1, 1, 1, 7, (3, 3), (1, 1), "same"),     # window bigger than the image
    (0, 6, 6, 3, (2, 2), (2, 2), "same"),     # empty batch
    (4, 32, 32, 16, (3, 3), (2, 2), "same"),  # large enough to run threaded
]


@pytest.mark.parametrize("case", CASES)
def test_pool_vs_reference(case):
    run_all(*case)


def test_padding_never_wins_max():
    x = -np.abs(RNG.standard_normal((1, 3, 3, 2))).astype(np.float32) - 1.0  # all negative
    out_hw, pad = geometry(3, 3, (2, 2), (2, 2), "same")
    assert pad == (0, 0) and out_hw == (2, 2)
    out_hw, pad = geometry(3, 3, (3, 3), (1, 1), "same")
    y = np.empty((1, *out_hw, 2), np.float32)
    _cpu.max_pool2d_forward(x, y, None, (3, 3), (1, 1), pad)
    assert np.all(y < 0)  # a zero from the padding would have won
    ya = np.empty_like(y)
    _cpu.avg_pool2d_forward(x, ya, (3, 3), (1, 1), pad)
    np.testing.assert_allclose(ya[0, 0, 0], x[0, :2, :2].mean(axis=(0, 1)), rtol=1e-6)  # 4 real


def test_max_pool_backward_accumulates_overlapping_windows():
    x = np.zeros((1, 3, 3, 1), np.float32)
    x[0, 1, 1, 0] = 5.0  # the centre wins all four 2x2 stride-1 windows
    y = np.empty((1, 2, 2, 1), np.float32)
    am = np.empty(y.shape, np.int32)
    _cpu.max_pool2d_forward(x, y, am, (2, 2), (1, 1), (0, 0))
    assert np.all(am == 4)
    dx = np.empty_like(x)
    _cpu.max_pool2d_backward(np.ones_like(y), am, dx)
    assert dx[0, 1, 1, 0] == 4.0 and dx.sum() == 4.0


@settings(max_examples=40, deadline=None)
@given(N=st.integers(0, 3), H=st.integers(1, 9), W=st.integers(1, 9), C=st.integers(1, 4),
       ph=st.integers(1, 4), pw=st.integers(1, 4), sh=st.integers(1, 4), sw=st.integers(1, 4),
       padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 2**31))
def test_pool_property(N, H, W, C, ph, pw, sh, sw, padding, seed):
    out_hw, _ = geometry(H, W, (ph, pw), (sh, sw), padding)
    if out_hw[0] < 1 or out_hw[1] < 1:
        return  # 'valid' with a pool larger than the image has no output
    run_all(N, H, W, C, (ph, pw), (sh, sw), padding, rng=np.random.default_rng(seed))


def test_thread_count_independent():
    x = RNG.standard_normal((8, 33, 31, 8)).astype(np.float32)
    out_hw, pad = geometry(33, 31, (3, 3), (2, 2), "same")
    dy = RNG.standard_normal((8, *out_hw, 8)).astype(np.float32)

    def step():
        y = np.empty((8, *out_hw, 8), np.float32)
        am = np.empty(y.shape, np.int32)
        _cpu.max_pool2d_forward(x, y, am, (3, 3), (2, 2), pad)
        dx = np.empty_like(x)
        _cpu.max_pool2d_backward(dy, am, dx)
        dxa = np.empty_like(x)
        _cpu.avg_pool2d_backward(dy, dxa, (3, 3), (2, 2), pad)
        return y, am, dx, dxa

    res = at_thread_counts(step, (1, 2))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


# ---- bad input ------------------------------------------------------------------------------


def test_bad_inputs():
    x = RNG.standard_normal((2, 6, 6, 3)).astype(np.float32)
    y = np.empty((2, 3, 3, 3), np.float32)
    am = np.empty(y.shape, np.int32)
    ok = dict(pool=(2, 2), strides=(2, 2), pad=(0, 0))
    _cpu.max_pool2d_forward(x, y, am, **ok)
    with pytest.raises(ValueError, match="max_pool2d_forward.*'x'.*float32"):
        _cpu.max_pool2d_forward(x.astype(np.float64), y, am, **ok)
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.max_pool2d_forward(x[:, ::2], y, am, **ok)
    with pytest.raises(ValueError, match="channel"):
        _cpu.max_pool2d_forward(x, np.empty((2, 3, 3, 4), np.float32), None, **ok)
    with pytest.raises(ValueError, match="batch"):
        _cpu.avg_pool2d_forward(x, np.empty((1, 3, 3, 3), np.float32), **ok)
    with pytest.raises(ValueError, match="int32"):
        _cpu.max_pool2d_forward(x, y, am.astype(np.int64), **ok)
    with pytest.raises(ValueError, match="same shape"):
        _cpu.max_pool2d_forward(x, y, am[:, :2].copy(), **ok)
    for bad in [dict(pool=(0, 2)), dict(strides=(2, 0)), dict(pad=(-1, 0)), dict(pool=(2,)),
                dict(strides=(1, 1, 1)), dict(pad="ab"), dict(pool=(2.0, 2)), dict(pad=(2, 0)),
                dict(pool=(2**40, 2))]:
        kw = {**ok, **bad}
        with pytest.raises(ValueError):
            _cpu.max_pool2d_forward(x, y, am, **kw)
        with pytest.raises(ValueError):
            _cpu.avg_pool2d_backward(y, np.empty_like(x), **kw)
    # windows that would hold only padding (output too large for the input)
    with pytest.raises(ValueError, match="only padding"):
        _cpu.avg_pool2d_forward(x, np.empty((2, 5, 3, 3), np.float32), **ok)
    with pytest.raises(ValueError, match=">= 1"):
        _cpu.avg_pool2d_forward(x, np.empty((2, 0, 3, 3), np.float32), **ok)
    ro = np.empty_like(y)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _cpu.max_pool2d_forward(x, ro, None, **ok)
    # argmax outside the image, negative, or of the wrong shape
    dy = np.ones_like(y)
    for v in (-1, 6 * 6 * 3, 2**31 - 1):
        bad = am.copy()
        bad[1, 2, 0, 1] = v
        with pytest.raises(ValueError, match="argmax value"):
            _cpu.max_pool2d_backward(dy, bad, np.empty_like(x))
    with pytest.raises(ValueError, match="same shape"):
        _cpu.max_pool2d_backward(dy, am[:1].copy(), np.empty_like(x))
    with pytest.raises(ValueError, match="writeable"):
        dxr = np.empty_like(x)
        dxr.flags.writeable = False
        _cpu.max_pool2d_backward(dy, am, dxr)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.avg_pool2d_forward(x, x.reshape(-1)[:54].reshape(2, 3, 3, 3), **ok)


@pytest.mark.parametrize("H,W,pool", [(13, 13, (2, 2)), (30, 30, (2, 2)), (2, 5, (2, 2)),
                                      (7, 9, (3, 2)),
                                      (1, 1, (1, 1)), (5, 4, (5, 4))])
def test_max_pool_backward_disjoint_windows_with_ties(H, W, pool):
    # integer-valued input: many ties, the forward's first winner gets the gradient; rows and
    # columns no window covers (13 -> 6 with 2x2) get exact zeros.
    x = RNG.integers(-2, 3, (3, H, W, 5)).astype(np.float32)
    out_hw, pad = geometry(H, W, pool, pool, "valid")
    y = np.empty((3, *out_hw, 5), np.float32)
    am = np.empty(y.shape, np.int32)
    _cpu.max_pool2d_forward(x, y, am, pool, pool, pad)
    y_ref, am_ref = ref.max_pool2d(x, pool, pool, pad, out_hw)  # first winner of each tie
    np.testing.assert_array_equal(y, y_ref.astype(np.float32))
    np.testing.assert_array_equal(am, am_ref)
    dy = RNG.standard_normal(y.shape).astype(np.float32)
    want = ref.max_pool2d_grad(dy, am_ref, x.shape)
    dx = np.full(x.shape, np.nan, np.float32)
    _cpu.max_pool2d_backward(dy, am, dx, pool, pool, pad)
    np.testing.assert_array_equal(dx, want.astype(np.float32))


def test_max_pool_backward_geometry_errors():
    x = np.zeros((1, 4, 4, 2), np.float32)
    dy = np.zeros((1, 2, 2, 2), np.float32)
    am = np.zeros(dy.shape, np.int32)
    with pytest.raises(ValueError, match="max_pool2d_backward"):
        _cpu.max_pool2d_backward(dy, am, x, None, (2, 2), None)  # strides without pool
    with pytest.raises(ValueError, match="max_pool2d_backward"):
        _cpu.max_pool2d_backward(dy, am, x, (2, 2), (9, 9), (0, 0))  # windows past the input
    with pytest.raises(ValueError, match="max_pool2d_backward"):
        _cpu.max_pool2d_backward(dy, am, x, (2, 2), (2, 2), (5, 5))  # padding-only windows
    # argmax content is never used as an address on the disjoint path: garbage is memory-safe
    bad = np.full(dy.shape, 10 ** 9, np.int32)
    dx = np.full(x.shape, np.nan, np.float32)
    _cpu.max_pool2d_backward(np.ones_like(dy), bad, dx, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(dx, 0)


# ---- uint8 argmax, 2x2 row kernels per instruction set --------------------------------------


@pytest.mark.parametrize("C", [1, 3, 8, 16, 19, 32, 64])
@pytest.mark.parametrize("H,W", [(4, 4), (13, 13), (6, 9), (7, 2)])
def test_2x2_uint8_paths_vs_reference(H, W, C):
    # integer input: many ties, which the first element of the window must win
    x = RNG.integers(-2, 3, (2, H, W, C)).astype(np.float32)
    out_hw, pad = geometry(H, W, (2, 2), (2, 2), "valid")
    y_ref, am_ref = ref.max_pool2d(x, (2, 2), (2, 2), pad, out_hw)
    y = np.full((2, *out_hw, C), np.nan, np.float32)
    am = np.full(y.shape, 99, np.uint8)
    _cpu.max_pool2d_forward(x, y, am, (2, 2), (2, 2), pad)
    np.testing.assert_array_equal(y, y_ref.astype(np.float32))
    assert am.max() <= 3
    np.testing.assert_array_equal(window_to_image(am, x.shape, (2, 2), (2, 2), pad), am_ref)
    dy = RNG.standard_normal(y.shape).astype(np.float32)
    dx = np.full(x.shape, np.nan, np.float32)
    _cpu.max_pool2d_backward(dy, am, dx, (2, 2), (2, 2), pad)
    np.testing.assert_array_equal(dx, ref.max_pool2d_grad(dy, am_ref, x.shape).astype(np.float32))
    dxa = np.full(x.shape, np.nan, np.float32)
    _cpu.avg_pool2d_backward(dy, dxa, (2, 2), (2, 2), pad)
    np.testing.assert_array_equal(
        dxa, ref.avg_pool2d_grad(dy, x.shape, (2, 2), (2, 2), pad).astype(np.float32))


def test_max_pool_nan_and_ties_keep_first():
    # NaN never replaces the running max (strict >); a NaN first element stays the max.
    x = np.zeros((1, 2, 4, 2), np.float32)
    x[0, :, 0:2, 0] = [[np.nan, 5.0], [7.0, 7.0]]   # NaN first: stays, index 0
    x[0, :, 0:2, 1] = [[1.0, np.nan], [3.0, 3.0]]   # NaN skipped, first 3 wins (index 2)
    x[0, :, 2:4, 0] = [[2.0, 2.0], [2.0, 2.0]]      # all equal: index 0
    x[0, :, 2:4, 1] = [[-1.0, -2.0], [-1.0, -0.5]]  # last wins
    for dtype, want in ((np.uint8, [[0, 2], [0, 3]]), (np.int32, [[0, 9], [4, 15]])):
        y = np.empty((1, 1, 2, 2), np.float32)
        am = np.empty(y.shape, dtype)
        _cpu.max_pool2d_forward(x, y, am, (2, 2), (2, 2), (0, 0))
        np.testing.assert_array_equal(y[0, 0], [[np.nan, 3.0], [2.0, -0.5]])
        np.testing.assert_array_equal(am[0, 0], want)


ISA_SCRIPT = """
import sys, numpy as np
from nnforge import _cpu
rng = np.random.default_rng(5)
out = {}
# (H, W, C, pool, strides, pad, out_hw): 2x2 stride 2 (the row kernels) and general windows
# (overlapping, padded, stride > pool), with channel counts that leave vector tails.
cases = [(30, 30, 32, (2, 2), (2, 2), (0, 0), (15, 15)), (13, 13, 64, (2, 2), (2, 2), (0, 0), (6, 6)),
         (9, 7, 3, (2, 2), (2, 2), (0, 0), (4, 3)), (6, 6, 19, (2, 2), (2, 2), (0, 0), (3, 3)),
         (5, 8, 1, (2, 2), (2, 2), (0, 0), (2, 4)), (11, 10, 19, (3, 3), (2, 2), (1, 0), (6, 5)),
         (7, 7, 33, (3, 3), (1, 1), (1, 1), (7, 7)), (9, 9, 8, (2, 3), (3, 2), (0, 1), (3, 5)),
         (8, 8, 17, (16, 16), (1, 1), (7, 7), (8, 8))]
for (H, W, C, pool, st, pad, ohw) in cases:
    x = rng.integers(-3, 4, (3, H, W, C)).astype(np.float32)
    x[0, 0, 0, 0] = np.nan
    x[1] = rng.standard_normal((H, W, C))
    y = np.empty((3, *ohw, C), np.float32)
    am = np.empty(y.shape, np.uint8)
    _cpu.max_pool2d_forward(x, y, am, pool, st, pad)
    y2 = np.empty_like(y)
    _cpu.max_pool2d_forward(x, y2, None, pool, st, pad)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = np.empty_like(x)
    _cpu.max_pool2d_backward(dy, am, dx, pool, st, pad)
    gate = np.maximum(y, 0)  # a relu layer's pooled output: zeros, ties, NaN where y is
    gate[2, 0] = -0.0
    dxr = np.empty_like(x)
    _cpu.max_pool2d_backward(dy, am, dxr, pool, st, pad, gate)
    ya = np.empty_like(y)
    _cpu.avg_pool2d_forward(x, ya, pool, st, pad)
    dxa = np.empty_like(x)
    _cpu.avg_pool2d_backward(dy, dxa, pool, st, pad)
    for k, v in dict(y=y, am=am, y2=y2, dx=dx, dxr=dxr, ya=ya, dxa=dxa).items():
        out[f"{H}_{W}_{C}_{pool}_{k}"] = v
np.savez(sys.argv[1], **out)
"""


def test_pool_kernels_bitwise_equal_across_isas(tmp_path):
    # The AVX-512, AVX2 and plain-loop row kernels (NNFORGE_ISA, read once per process) must give
    # the same bits, NaN and ties included, and match the reference.
    import os
    import subprocess
    import sys
    script = tmp_path / "isa.py"
    script.write_text(ISA_SCRIPT)
    results = {}
    for isa in ("generic", "avx2", "avx512"):
        f = tmp_path / f"{isa}.npz"
        env = {**os.environ, "NNFORGE_ISA": isa}
        subprocess.run([sys.executable, str(script), str(f)], env=env, check=True, timeout=120)
        results[isa] = np.load(f)
    base = results["generic"]
    for isa in ("avx2", "avx512"):  # an ISA the CPU lacks falls back: still must match
        for k in base.files:
            a, b = base[k], results[isa][k]
            assert a.dtype == b.dtype and a.shape == b.shape, k
            assert a.tobytes() == b.tobytes(), (isa, k)


def test_uint8_paths_thread_count_independent():
    x = RNG.standard_normal((8, 30, 30, 32)).astype(np.float32)
    x2 = RNG.standard_normal((8, 33, 31, 8)).astype(np.float32)
    out_hw2, pad2 = geometry(33, 31, (3, 3), (2, 2), "same")

    def step():
        res = []
        for xx, pool, st, pad, ohw in ((x, (2, 2), (2, 2), (0, 0), (15, 15)),
                                       (x2, (3, 3), (2, 2), pad2, out_hw2)):
            y = np.empty((8, *ohw, xx.shape[3]), np.float32)
            am = np.empty(y.shape, np.uint8)
            _cpu.max_pool2d_forward(xx, y, am, pool, st, pad)
            dy = np.cos(y)
            dx = np.empty_like(xx)
            _cpu.max_pool2d_backward(dy, am, dx, pool, st, pad)
            ya = np.empty_like(y)
            _cpu.avg_pool2d_forward(xx, ya, pool, st, pad)
            dxa = np.empty_like(xx)
            _cpu.avg_pool2d_backward(dy, dxa, pool, st, pad)
            res += [y, am, dx, ya, dxa]
        return res

    res = at_thread_counts(step, (1, 2, 3))
    for other in res[1:]:
        for a, b in zip(res[0], other):
            np.testing.assert_array_equal(a, b)


def test_uint8_argmax_errors():
    x = RNG.standard_normal((1, 20, 20, 2)).astype(np.float32)
    y = np.empty((1, 1, 1, 2), np.float32)
    with pytest.raises(ValueError, match="at most 256"):
        _cpu.max_pool2d_forward(x, y, np.empty(y.shape, np.uint8), (17, 17), (17, 17), (0, 0))
    _cpu.max_pool2d_forward(x, y, np.empty(y.shape, np.int32), (17, 17), (17, 17), (0, 0))
    with pytest.raises(ValueError, match="at most 256"):
        _cpu.max_pool2d_backward(y, np.zeros(y.shape, np.uint8), np.empty_like(x), (17, 17),
                                 (17, 17), (0, 0))
    dy = np.ones((1, 10, 10, 2), np.float32)
    with pytest.raises(ValueError, match="uint8 argmax.*pool"):
        _cpu.max_pool2d_backward(dy, np.zeros(dy.shape, np.uint8), np.empty_like(x))
    with pytest.raises(ValueError, match="int32.*uint8"):
        _cpu.max_pool2d_forward(x, dy, np.empty(dy.shape, np.int16), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.max_pool2d_forward(x, dy, np.empty((1, 10, 20, 2), np.uint8)[:, :, ::2], (2, 2),
                                (2, 2), (0, 0))
    # garbage window indices are only compared: never an out-of-bounds write
    dx = np.full(x.shape, np.nan, np.float32)
    _cpu.max_pool2d_backward(dy, np.full(dy.shape, 200, np.uint8), dx, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(dx, 0)
    dx = np.full(x.shape, np.nan, np.float32)
    _cpu.max_pool2d_backward(np.ones((1, 9, 9, 2), np.float32), np.full((1, 9, 9, 2), 250, np.uint8),
                             dx, (3, 3), (2, 2), (0, 0))
    np.testing.assert_array_equal(dx, 0)


LOWER_ISA_CASES = CASES + [(2, 11, 10, 19, (3, 3), (2, 2), "same"),
                           (2, 7, 7, 33, (3, 3), (1, 1), "same"),
                           (1, 8, 8, 17, (16, 16), (1, 1), "same"),
                           (3, 30, 30, 32, (2, 2), (2, 2), "valid")]


@pytest.mark.parametrize("isa", ["generic", "avx2"])
def test_pool_vs_reference_lower_isa(isa):
    # The reference checks with the kernels of a lower instruction set (one fresh process per
    # set: NNFORGE_ISA is read once).
    import os
    import subprocess
    import sys
    code = ("import sys; sys.path.insert(0, %r); from tests.kernels.test_pool import run_all, "
            "LOWER_ISA_CASES\nfor case in LOWER_ISA_CASES: run_all(*case)"
            % os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = {**os.environ, "NNFORGE_ISA": isa}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)


@pytest.mark.parametrize("H, W, C, pool, st, pad, ohw", [
    (30, 30, 32, (2, 2), (2, 2), (0, 0), (15, 15)),  # the seed CNN's (2x2 row kernels)
    (9, 7, 19, (2, 2), (2, 2), (0, 0), (4, 3)),      # unpooled last row/column, vector tail
    (11, 10, 19, (3, 3), (2, 2), (1, 0), (6, 5)),    # overlapping, padded windows
    (9, 9, 8, (2, 3), (3, 2), (0, 1), (3, 5)),       # stride > pool
])
def test_relu_gate_is_the_activation_gradient_then_the_pool(H, W, C, pool, st, pad, ohw):
    # relu_y folds relu's gradient in: bitwise max_pool2d_backward of (relu_y > 0 ? dy : 0)
    rng = np.random.default_rng(H * W + C)
    x = rng.standard_normal((4, H, W, C)).astype(np.float32)
    x[0, :3] = -1.0  # windows whose relu output is zero
    x[1, 1, 1, :5] = np.nan
    y = np.empty((4, *ohw, C), np.float32)
    am = np.empty(y.shape, np.uint8)
    _cpu.max_pool2d_forward(x, y, am, pool, st, pad)
    relu_y = np.maximum(y, np.float32(0))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    gated = np.empty_like(dy)
    _cpu.activation_backward(relu_y, dy, gated, 1)
    want = np.empty_like(x)
    _cpu.max_pool2d_backward(gated, am, want, pool, st, pad)
    got = at_thread_counts(lambda: _run_gated(dy, am, relu_y, x.shape, pool, st, pad), (1, 2, 3))
    for g in got:
        assert g.tobytes() == want.tobytes()


def _run_gated(dy, am, relu_y, x_shape, pool, st, pad):
    dx = np.full(x_shape, 7.0, np.float32)
    _cpu.max_pool2d_backward(dy, am, dx, pool, st, pad, relu_y)
    return dx


def test_relu_gate_errors():
    x = np.ones((2, 4, 4, 3), np.float32)
    dy = np.ones((2, 2, 2, 3), np.float32)
    dx = np.empty_like(x)
    u8 = np.zeros(dy.shape, np.uint8)
    geo = ((2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="uint8"):  # int32 argmax
        _cpu.max_pool2d_backward(dy, np.zeros(dy.shape, np.int32), dx, *geo, dy)
    with pytest.raises(ValueError, match="pool"):  # no geometry
        _cpu.max_pool2d_backward(dy, np.zeros(dy.shape, np.int32), dx, None, None, None, dy)
    with pytest.raises(ValueError, match="relu_y"):  # not dy's shape
        _cpu.max_pool2d_backward(dy, u8, dx, *geo, np.ones((2, 2, 1, 3), np.float32))
    with pytest.raises(ValueError, match="relu_y"):  # not float32
        _cpu.max_pool2d_backward(dy, u8, dx, *geo, dy.astype(np.float64))
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.max_pool2d_backward(dy, u8, dx, *geo, x[:, :2, :2])
    with pytest.raises(ValueError, match="share memory"):  # written over while read
        _cpu.max_pool2d_backward(dy, u8, x, *geo, x.reshape(-1)[:24].reshape(dy.shape))
