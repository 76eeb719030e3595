"""nnforge._cpu optimizer updates (Keras 3 SGD / Adam formulas) against reference.py."""
import numpy as np
import pytest

from nnforge import _cpu
from tests.kernels import reference as ref

RNG = np.random.default_rng(9)
SHAPES = [(0,), (1,), (7, 3), (1000,), (300, 1000)]


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True), (0.5, True)])
def test_sgd(shape, momentum, nesterov):
    p, g = f32(*shape), f32(*shape)
    v = f32(*shape) * 0.1 if momentum else None
    want_p, want_v = ref.sgd(p, g, v, 0.01, momentum, nesterov)
    _cpu.sgd_update(p, g, v, 0.01, momentum, nesterov)
    np.testing.assert_allclose(p, want_p, rtol=1e-6, atol=1e-7)
    if momentum:
        np.testing.assert_allclose(v, want_v, rtol=1e-6, atol=1e-7)


def test_sgd_several_steps():
    p, v = f32(50), np.zeros(50, np.float32)
    rp, rv = p.astype(np.float64), v.astype(np.float64)
    for _ in range(5):
        g = f32(50)
        rp, rv = ref.sgd(rp, g, rv, 0.1, 0.9, True)
        _cpu.sgd_update(p, g, v, 0.1, 0.9, True)
    np.testing.assert_allclose(p, rp, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("t", [1, 2, 1000])
def test_adam(shape, amsgrad, t):
    p, g = f32(*shape), f32(*shape)
    m = f32(*shape) * 0.1
    v = np.abs(f32(*shape)) * 0.1
    vhat = np.abs(f32(*shape)) * 0.1 if amsgrad else None
    want = ref.adam(p, g, m, v, vhat, 1e-3, 0.9, 0.999, 1e-7, t)
    _cpu.adam_update(p, g, m, v, vhat, 1e-3, 0.9, 0.999, 1e-7, t)
    np.testing.assert_allclose(p, want[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m, want[1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(v, want[2], rtol=1e-6, atol=1e-8)
    if amsgrad:
        np.testing.assert_allclose(vhat, want[3], rtol=1e-6, atol=1e-8)


def test_adam_training_loop_from_zero_slots():
    p = f32(64)
    m, v, vh = (np.zeros(64, np.float32) for _ in range(3))
    r = [p.astype(np.float64), np.zeros(64), np.zeros(64), np.zeros(64)]
    for t in range(1, 11):
        g = f32(64)
        r = list(ref.adam(r[0], g, r[1], r[2], r[3], 0.01, 0.9, 0.999, 1e-7, t))
        _cpu.adam_update(p, g, m, v, vh, 0.01, 0.9, 0.999, 1e-7, t)
    np.testing.assert_allclose(p, r[0], rtol=1e-5, atol=1e-6)
    # the first step moves every parameter by about lr (Adam's normalised step)
    p2, g2 = f32(8), f32(8)
    before = p2.copy()
    _cpu.adam_update(p2, g2, np.zeros(8, np.float32), np.zeros(8, np.float32), None, 0.01, 0.9,
                     0.999, 1e-7, 1)
    np.testing.assert_allclose(np.abs(p2 - before), 0.01, rtol=1e-3)


@pytest.mark.parametrize("n", [64, 100_000])  # one block; several blocks over the threads
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_subnormal_moments_flush_to_zero(n, amsgrad):
    # A moment below FLT_MIN reads and becomes 0 (as TensorFlow's CPU kernels flush them): the
    # update then equals the reference run with those moments at 0; normal lanes are unchanged.
    tiny = np.finfo(np.float32).tiny
    p, g = f32(n), f32(n)
    g[::3] = 0.0
    m = f32(n) * 0.1
    m[::3] = tiny * 0.25  # subnormal moments with zero gradients: they would stay subnormal
    v = np.abs(f32(n)) * 0.1
    vhat = np.abs(f32(n)) * 0.1 if amsgrad else None
    m_ref = m.copy()
    m_ref[::3] = 0.0
    want = ref.adam(p, g, m_ref, v, vhat, 1e-3, 0.9, 0.999, 1e-7, 5)
    _cpu.adam_update(p, g, m, v, vhat, 1e-3, 0.9, 0.999, 1e-7, 5)
    assert not np.any((m != 0) & (np.abs(m) < tiny))
    assert np.all(m[::3] == 0)
    np.testing.assert_allclose(p, want[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m, want[1], rtol=1e-6, atol=1e-7)
    # the flags were this kernel's only: NumPy arithmetic still produces subnormals after it
    assert np.float32(tiny) * np.float32(0.5) != 0


def test_bad_inputs():
    p, g = f32(10), f32(10)
    v = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match="sgd_update.*velocity.*None"):
        _cpu.sgd_update(p, g, v, 0.1, 0.0, False)
    with pytest.raises(ValueError, match="velocity.*required"):
        _cpu.sgd_update(p, g, None, 0.1, 0.9, False)
    with pytest.raises(ValueError, match="same shape"):
        _cpu.sgd_update(p, f32(11), None, 0.1, 0.0, False)
    with pytest.raises(ValueError, match="float32"):
        _cpu.sgd_update(p, g.astype(np.float64), None, 0.1, 0.0, False)
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.sgd_update(f32(20)[::2], g, None, 0.1, 0.0, False)
    ro = f32(10)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _cpu.sgd_update(ro, g, None, 0.1, 0.0, False)
    with pytest.raises(ValueError, match="writeable"):
        _cpu.sgd_update(p, g, ro, 0.1, 0.9, False)
    m, vv = np.zeros(10, np.float32), np.zeros(10, np.float32)
    for bad_t in (0, -3):
        with pytest.raises(ValueError, match="'t'"):
            _cpu.adam_update(p, g, m, vv, None, 1e-3, 0.9, 0.999, 1e-7, bad_t)
    with pytest.raises(ValueError, match="'vhat'"):
        _cpu.adam_update(p, g, m, vv, np.zeros(9, np.float32), 1e-3, 0.9, 0.999, 1e-7, 1)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.adam_update(p, g, m, m, None, 1e-3, 0.9, 0.999, 1e-7, 1)
    with pytest.raises(ValueError, match="'m'"):
        _cpu.adam_update(p, g, np.zeros((2, 5), np.float32), vv, None, 1e-3, 0.9, 0.999, 1e-7, 1)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_update_multi_equals_one_call_per_entry(amsgrad):
    shapes = [(784, 128), (128,), (0,), (128, 10), (10,), (3, 1000)]
    def state():
        rng = np.random.default_rng(4)
        out = []
        for s in shapes:
            out.append([rng.standard_normal(s).astype(np.float32),
                        rng.standard_normal(s).astype(np.float32),
                        (rng.standard_normal(s) * 0.1).astype(np.float32),
                        np.abs(rng.standard_normal(s) * 0.1).astype(np.float32),
                        np.abs(rng.standard_normal(s) * 0.1).astype(np.float32)])
        return out
    one, multi = state(), state()
    for t in (1, 2, 3):
        for p, g, m, v, vh in one:
            _cpu.adam_update(p, g, m, v, vh if amsgrad else None, 1e-3, 0.9, 0.999, 1e-7, t)
        cols = list(zip(*multi))
        _cpu.adam_update_multi(list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]),
                               list(cols[4]) if amsgrad else None, 1e-3, 0.9, 0.999, 1e-7, t)
    for a, b in zip(one, multi):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)  # bitwise: the same kernel, entry by entry


def test_adam_update_multi_bad_inputs():
    p, g, m, v = f32(10), f32(10), np.zeros(10, np.float32), np.zeros(10, np.float32)
    p2 = f32(4)
    with pytest.raises(ValueError, match="one entry per parameter"):
        _cpu.adam_update_multi([p, p2], [g], [m], [v], None, 1e-3, 0.9, 0.999, 1e-7, 1)
    with pytest.raises(ValueError, match=r"entry 1.*same shape"):
        _cpu.adam_update_multi([p, p2], [g, g], [m, np.zeros(4, np.float32)],
                               [v, np.zeros(4, np.float32)], None, 1e-3, 0.9, 0.999, 1e-7, 1)
    with pytest.raises(ValueError, match="'t'"):
        _cpu.adam_update_multi([p], [g], [m], [v], None, 1e-3, 0.9, 0.999, 1e-7, 0)
    with pytest.raises(TypeError, match="list or tuple"):
        _cpu.adam_update_multi(p, [g], [m], [v], None, 1e-3, 0.9, 0.999, 1e-7, 1)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        _cpu.adam_update_multi([p.tolist()], [g], [m], [v], None, 1e-3, 0.9, 0.999, 1e-7, 1)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.adam_update_multi([p], [g], [m], [m], None, 1e-3, 0.9, 0.999, 1e-7, 1)
    before = p.copy()
    with pytest.raises(ValueError, match=r"entry 1"):  # checked before anything is updated
        _cpu.adam_update_multi([p, p2], [g, g], [m, m], [v, v], None, 1e-3, 0.9, 0.999, 1e-7, 1)
    np.testing.assert_array_equal(p, before)


@pytest.mark.parametrize("n", [32767, 32768, 100_352, 100_001, 300_017])
def test_updates_bitwise_independent_of_thread_count(n):
    # large updates are cut into one piece per thread: every thread count gives the same bits
    def run(threads):
        rng = np.random.default_rng(n)
        p, g = (rng.standard_normal(n).astype(np.float32) for _ in range(2))
        m = (rng.standard_normal(n) * 0.1).astype(np.float32)
        v = np.abs(rng.standard_normal(n) * 0.1).astype(np.float32)
        vh = np.abs(rng.standard_normal(n) * 0.1).astype(np.float32)
        p2, vel = p.copy(), m.copy()
        old = _cpu.get_num_threads()
        _cpu.set_num_threads(threads)
        try:
            for t in (1, 2):
                _cpu.adam_update(p, g, m, v, vh, 1e-3, 0.9, 0.999, 1e-7, t)
                _cpu.sgd_update(p2, g, vel, 0.01, 0.9, True)
        finally:
            _cpu.set_num_threads(old)
        return p, m, v, vh, p2, vel
    for a, b, c in zip(run(1), run(2), run(3)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
