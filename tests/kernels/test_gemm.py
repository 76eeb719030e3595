"""nnforge._cpu.sgemm / sgemm_bias_act against a NumPy float64 reference."""
import os
import subprocess
import sys

import numpy as np
import pytest

from nnforge import _cpu
from tests.helpers import at_thread_counts

RNG = np.random.default_rng(1234)


def _operands(M, K, N, ta, tb, rng=RNG):
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    return a, b


def _ref(a, b, ta, tb):
    A = (a.T if ta else a).astype(np.float64)
    B = (b.T if tb else b).astype(np.float64)
    return A @ B


def _tol(K):
    # float32 accumulation over K terms of products of standard normals.
    return 1e-5 * max(1.0, np.sqrt(K)) * 4


def _check(c, ref, K, extra=0.0):
    scale = np.sqrt(max(K, 1))
    err = np.abs(c.astype(np.float64) - ref)
    assert np.all(np.isfinite(c))
    assert err.max() <= _tol(K) * scale + extra, (err.max(), _tol(K) * scale)


SHAPES = [(1, 1, 1), (1, 7, 13), (7, 1, 1), (13, 33, 7), (33, 13, 257), (257, 33, 13),
          (14, 64, 32), (15, 65, 33), (29, 385, 47), (100, 17, 100), (3, 1000, 5),
          (130, 770, 65), (257, 257, 257)]


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("M,K,N", SHAPES)
def test_sgemm_shapes_trans(M, K, N, ta, tb):
    a, b = _operands(M, K, N, ta, tb)
    c = np.full((M, N), np.nan, np.float32)  # beta == 0 must not read C
    _cpu.sgemm(a, b, c, ta, tb)
    _check(c, _ref(a, b, ta, tb), K)


@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (0.5, -2.0), (-1.5, 0.25), (2.0, 0.0),
                                        (0.0, 0.5), (0.0, 0.0)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
@pytest.mark.parametrize("M,K,N", [(5, 3, 4), (37, 401, 70), (130, 900, 33)])
def test_sgemm_alpha_beta(M, K, N, ta, tb, alpha, beta):
    a, b = _operands(M, K, N, ta, tb)
    c0 = RNG.standard_normal((M, N)).astype(np.float32)
    c = c0.copy() if beta != 0.0 else np.full((M, N), np.nan, np.float32)
    _cpu.sgemm(a, b, c, ta, tb, alpha, beta)
    ref = alpha * _ref(a, b, ta, tb) + (beta * c0.astype(np.float64) if beta != 0.0 else 0.0)
    _check(c, ref, K, extra=1e-5 * abs(beta) * 10)


@pytest.mark.parametrize("M,K,N", [(0, 5, 4), (4, 5, 0), (0, 0, 0), (4, 0, 5), (0, 3, 0)])
@pytest.mark.parametrize("beta", [0.0, 2.0])
def test_sgemm_zero_sizes(M, K, N, beta):
    a, b = _operands(M, K, N, False, False)
    c0 = RNG.standard_normal((M, N)).astype(np.float32)
    c = c0.copy() if beta else np.full((M, N), np.nan, np.float32)
    _cpu.sgemm(a, b, c, False, False, 1.0, beta)
    np.testing.assert_array_equal(c, (beta * c0) if beta else np.zeros((M, N), np.float32))


def _act_ref(x, act):
    if act == 0:
        return x
    if act == 1:
        return np.maximum(x, 0.0)
    if act == 2:
        return 1.0 / (1.0 + np.exp(-x))
    return np.tanh(x)


@pytest.mark.parametrize("act", [0, 1, 2, 3])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("M,K,N,ta,tb", [(1, 1, 1, False, False), (7, 13, 33, False, False),
                                         (33, 785, 17, True, False), (32, 784, 128, False, False),
                                         (65, 27, 32, False, True), (200, 3, 300, True, True),
                                         (9, 0, 31, False, False)])
def test_sgemm_bias_act(M, K, N, ta, tb, act, with_bias):
    a, b = _operands(M, K, N, ta, tb)
    # Scale so pre-activations cover the interesting range of sigmoid/tanh (|x| up to ~10).
    a *= 2.0 / np.sqrt(max(K, 1))
    bias = RNG.standard_normal(N).astype(np.float32) * 3 if with_bias else None
    c = np.full((M, N), np.nan, np.float32)
    _cpu.sgemm_bias_act(a, b, bias, c, ta, tb, act)
    z = _ref(a, b, ta, tb) + (bias.astype(np.float64) if with_bias else 0.0)
    ref = _act_ref(z, act)
    err = np.abs(c.astype(np.float64) - ref)
    assert np.all(np.isfinite(c))
    assert err.max() <= 2e-5, err.max()


@pytest.mark.parametrize("act", [2, 3])
def test_activation_accuracy(act):
    # Epilogue activations: ~1e-6 relative over a wide range, including tiny and saturated values.
    x = np.concatenate([np.linspace(-30, 30, 4001), np.geomspace(1e-8, 1.0, 500),
                        -np.geomspace(1e-8, 1.0, 500), [0.0, 0.625, -0.625, 88.0, -88.0]])
    x = x.astype(np.float32)
    K = 1
    a = x.reshape(-1, 1)
    b = np.ones((K, 16), np.float32)
    c = np.empty((x.size, 16), np.float32)
    _cpu.sgemm_bias_act(a, b, None, c, False, False, act)
    ref = _act_ref(x.astype(np.float64), act)
    rel = np.abs(c[:, 0] - ref) / np.maximum(np.abs(ref), 1e-30)
    if act == 2:
        mask = x > -80  # far negative tail: absolute error is what matters (below)
        assert rel[mask].max() < 2e-6, rel[mask].max()
        assert np.abs(c[:, 0] - ref).max() < 1e-7
    else:
        assert rel.max() < 2e-6, rel.max()
    assert np.all(c == c[:, :1])


SEED_SHAPES = [  # (M, K, N, trans_a)
    (32, 784, 128, False), (784, 32, 128, True), (28800, 27, 32, False),
    (5408, 288, 64, False), (288, 5408, 64, True)]


@pytest.mark.parametrize("M,K,N,ta", SEED_SHAPES)
def test_seed_shapes(M, K, N, ta):
    a, b = _operands(M, K, N, ta, False)
    c = np.full((M, N), np.nan, np.float32)
    _cpu.sgemm(a, b, c, ta, False)
    _check(c, _ref(a, b, ta, False), K)
    bias = RNG.standard_normal(N).astype(np.float32)
    c2 = np.full((M, N), np.nan, np.float32)
    _cpu.sgemm_bias_act(a, b, bias, c2, ta, False, 1)
    np.testing.assert_allclose(c2, np.maximum(c + bias, 0), rtol=0, atol=1e-5 * np.sqrt(K))


@pytest.mark.parametrize("M,K,N,ta,tb", [(1024, 1024, 1024, False, False), (28800, 27, 32, False, False),
                                         (288, 5408, 64, True, False), (32, 784, 128, False, True),
                                         (257, 1000, 13, True, True), (5, 3000, 2000, False, False)])
def test_threads_bitwise_identical(M, K, N, ta, tb):
    a, b = _operands(M, K, N, ta, tb)
    bias = RNG.standard_normal(N).astype(np.float32)
    c_init = RNG.standard_normal((M, N)).astype(np.float32)

    def gemms():
        c = np.empty((M, N), np.float32)
        _cpu.sgemm_bias_act(a, b, bias, c, ta, tb, 3)
        c2 = c_init.copy()
        _cpu.sgemm(a, b, c2, ta, tb, 0.75, 0.5)
        return c, c2

    outs = at_thread_counts(gemms)
    for c, c2 in outs[1:]:
        assert np.array_equal(c.view(np.uint32), outs[0][0].view(np.uint32))
        assert np.array_equal(c2.view(np.uint32), outs[0][1].view(np.uint32))
    # and they are right
    _check(outs[0][1], 0.75 * _ref(a, b, ta, tb) + 0.5 * c_init.astype(np.float64), K, 1e-5)


def test_runtime_api():
    old = _cpu.get_num_threads()
    assert old >= 1
    _cpu.set_num_threads(1)
    assert _cpu.get_num_threads() == 1
    _cpu.set_num_threads(old)
    assert _cpu.get_num_threads() == old
    for bad in (0, -3):
        with pytest.raises(ValueError, match="set_num_threads"):
            _cpu.set_num_threads(bad)
    assert _cpu.cpu_isa() in ("avx512", "avx2", "generic")


def test_default_threads_is_affinity():
    code = ("import os; from nnforge import _cpu; "
            "assert _cpu.get_num_threads() == len(os.sched_getaffinity(0)), "
            "(_cpu.get_num_threads(), os.sched_getaffinity(0))")
    env = dict(os.environ)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


_ISA_SCRIPT = r"""
import numpy as np, sys
from nnforge import _cpu
want = sys.argv[1]
assert _cpu.cpu_isa() == want, (_cpu.cpu_isa(), want)
rng = np.random.default_rng(5)
for (M, K, N, ta, tb) in [(7, 13, 33, 0, 0), (65, 300, 47, 1, 0), (130, 513, 70, 0, 1), (33, 27, 32, 1, 1),
                          (200, 3, 17, 0, 0)]:
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    A = (a.T if ta else a).astype(np.float64); B = (b.T if tb else b).astype(np.float64)
    c = np.full((M, N), np.nan, np.float32)
    _cpu.sgemm(a, b, c, bool(ta), bool(tb))
    assert np.abs(c - A @ B).max() < 1e-4 * np.sqrt(K), (M, K, N)
    c0 = rng.standard_normal((M, N)).astype(np.float32); c = c0.copy()
    _cpu.sgemm(a, b, c, bool(ta), bool(tb), 0.5, -1.0)
    assert np.abs(c - (0.5 * (A @ B) - c0)).max() < 1e-4 * np.sqrt(K)
    bias = rng.standard_normal(N).astype(np.float32)
    for act in range(4):
        a2 = (a * (2 / np.sqrt(K))).astype(np.float32)
        A2 = (a2.T if ta else a2).astype(np.float64)
        z = A2 @ B + bias
        ref = [z, np.maximum(z, 0), 1 / (1 + np.exp(-z)), np.tanh(z)][act]
        c = np.full((M, N), np.nan, np.float32)
        _cpu.sgemm_bias_act(a2, b, bias, c, bool(ta), bool(tb), act)
        assert np.abs(c - ref).max() < 2e-5, (act, np.abs(c - ref).max())
print("ok", want)
"""


@pytest.mark.parametrize("isa", ["avx2", "generic"])
def test_forced_isa(isa):
    native = _cpu.cpu_isa()
    order = ["generic", "avx2", "avx512"]
    if order.index(isa) > order.index(native):
        pytest.skip(f"CPU has only {native}")
    env = dict(os.environ, NNFORGE_ISA=isa)
    r = subprocess.run([sys.executable, "-c", _ISA_SCRIPT, isa], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


# ---- bad input -----------------------------------------------------------------------------

def _good(M=4, K=3, N=5):
    return (np.ones((M, K), np.float32), np.ones((K, N), np.float32), np.empty((M, N), np.float32))


def test_bad_dtype():
    a, b, c = _good()
    with pytest.raises(ValueError, match=r"sgemm.*'a'.*float32"):
        _cpu.sgemm(a.astype(np.float64), b, c)
    with pytest.raises(ValueError, match=r"sgemm.*'b'"):
        _cpu.sgemm(a, b.astype(np.int32), c)
    with pytest.raises(ValueError, match=r"sgemm.*'c'"):
        _cpu.sgemm(a, b, c.astype(np.float64))
    with pytest.raises(ValueError, match=r"sgemm_bias_act.*'bias'"):
        _cpu.sgemm_bias_act(a, b, np.ones(5, np.float64), c)


def test_non_contiguous():
    a, b, c = _good()
    with pytest.raises(ValueError, match=r"sgemm.*'a'.*contiguous"):
        _cpu.sgemm(np.ones((3, 4), np.float32).T, b, c)
    with pytest.raises(ValueError, match=r"sgemm.*'c'.*contiguous"):
        _cpu.sgemm(a, b, np.empty((5, 4), np.float32).T)
    with pytest.raises(ValueError, match=r"'bias'"):
        _cpu.sgemm_bias_act(a, b, np.ones(10, np.float32)[::2], c)


def test_wrong_shapes():
    a, b, c = _good()
    with pytest.raises(ValueError, match=r"sgemm.*inner.*\(4, 3\).*\(4, 5\)"):
        _cpu.sgemm(a, np.ones((4, 5), np.float32), c)
    with pytest.raises(ValueError, match=r"sgemm.*'c'.*\(4, 5\)"):
        _cpu.sgemm(a, b, np.empty((5, 4), np.float32))
    with pytest.raises(ValueError, match=r"sgemm.*'a'.*2-D"):
        _cpu.sgemm(np.ones(12, np.float32), b, c)
    with pytest.raises(ValueError, match=r"sgemm.*inner"):
        _cpu.sgemm(a, b, c, trans_a=True)
    with pytest.raises(ValueError, match=r"sgemm_bias_act.*'bias'.*\(5,\)"):
        _cpu.sgemm_bias_act(a, b, np.ones(4, np.float32), c)
    with pytest.raises(ValueError, match=r"sgemm_bias_act.*'bias'"):
        _cpu.sgemm_bias_act(a, b, np.ones((1, 5), np.float32), c)


def test_read_only_output_and_bad_act():
    a, b, c = _good()
    c.setflags(write=False)
    with pytest.raises(ValueError, match=r"sgemm.*'c'.*writeable"):
        _cpu.sgemm(a, b, c)
    with pytest.raises(ValueError, match=r"sgemm_bias_act.*'c'.*writeable"):
        _cpu.sgemm_bias_act(a, b, None, c)
    a, b, c = _good()
    for act in (-1, 4, 100):
        with pytest.raises(ValueError, match=r"sgemm_bias_act.*'act'"):
            _cpu.sgemm_bias_act(a, b, None, c, act=act)


def test_output_aliasing_input_rejected():
    buf = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match=r"sgemm.*share memory"):
        _cpu.sgemm(buf, np.ones((4, 4), np.float32), buf)


def test_fewer_threads_than_requested():
    # OMP_THREAD_LIMIT=1: the runtime grants one thread while get_num_threads() says 2; the
    # result must still be complete and identical.
    code = r"""
import numpy as np
from nnforge import _cpu
_cpu.set_num_threads(2)
rng = np.random.default_rng(3)
a = rng.standard_normal((700, 300)).astype(np.float32)
b = rng.standard_normal((300, 500)).astype(np.float32)
c = np.full((700, 500), np.nan, np.float32)
_cpu.sgemm(a, b, c)
ref = a.astype(np.float64) @ b.astype(np.float64)
assert np.abs(c - ref).max() < 1e-3, np.abs(c - ref).max()
np.save(__import__("sys").argv[1], c)
"""
    import tempfile
    outs = []
    for limit in ("1", "2"):
        with tempfile.NamedTemporaryFile(suffix=".npy", delete=False) as f:
            path = f.name
        env = dict(os.environ, OMP_THREAD_LIMIT=limit)
        r = subprocess.run([sys.executable, "-c", code, path], env=env, capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        outs.append(np.load(path))
        os.unlink(path)
    assert np.array_equal(outs[0].view(np.uint32), outs[1].view(np.uint32))
