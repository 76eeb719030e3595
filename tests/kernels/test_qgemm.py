"""int8 GEMM and int8 Dense (nnforge.backend.quantized over nnforge._cpu.qgemm_s8 / qdense_s8).

* int32 products bit-exact against an integer NumPy reference, on random and edge shapes, on every
  instruction set this CPU has (forced with _cpu.set_int8_isa) and for 1 and 2 threads;
* quantization exactly Keras's abs_max_quantize formula (float32), and Keras 3's own int8 Dense
  (tests/golden/int8k.npz, tests/golden/make_int8k_golden.py);
* the float epilogue (dequantize, bias, activation, requantize) against a float64 reference within
  float32 rounding, and bit-identical across instruction sets;
* bad arguments raise ValueError naming the argument.
"""
import os

import numpy as np
import pytest

from nnforge import _cpu
from nnforge.backend import cpu as B
from nnforge.backend import quantized as Q
from tests.helpers import at_thread_counts

ALL_ISAS = ["amx", "avx512_vnni", "avx_vnni", "avx2", "generic"]
ISAS = [i for i in ALL_ISAS if _cpu.int8_isa_supported(i)]
GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden", "int8k.npz")

SHAPES = [(1, 1, 1), (1, 3, 1), (3, 17, 63), (17, 63, 64), (63, 64, 65), (64, 65, 17),
          (65, 1, 3), (1, 1000, 17), (100, 1000, 33), (17, 3, 1000), (8, 48, 48), (9, 49, 49),
          (130, 257, 130)]


@pytest.fixture
def isa(request):
    old = _cpu.int8_isa()
    _cpu.set_int8_isa(request.param)
    yield request.param
    _cpu.set_int8_isa(old)


def _int8(rng, shape):
    return rng.integers(-127, 128, shape).astype(np.int8)


def _ref_int(xq, wq):
    return xq.astype(np.int64) @ wq.astype(np.int64)


def _ref_quantize(x):
    """Keras 3 abs_max_quantize(x, axis=-1) in NumPy (float32 arithmetic, as Keras's)."""
    amax = np.max(np.abs(x), axis=1, keepdims=True) if x.shape[1] else np.zeros((x.shape[0], 1),
                                                                                   np.float32)
    scale = np.float32(127.0) / (amax + np.float32(1e-7))
    q = np.clip(np.round(x * scale), -127, 127).astype(np.int8)
    return q, scale[:, 0].astype(np.float32)


def _quantized_kernel(rng, K, N):
    w = rng.standard_normal((K, N)).astype(np.float32)
    wq_t, ws = Q.quantize_rows_int8(np.ascontiguousarray(w.T))
    return np.ascontiguousarray(wq_t.T), ws


# ---- int32 GEMM -------------------------------------------------------------------------------

@pytest.mark.parametrize("isa", ISAS, indirect=True)
@pytest.mark.parametrize("M,K,N", SHAPES)
def test_int32_bit_exact(isa, M, K, N):
    rng = np.random.default_rng(M * 10007 + K * 101 + N)
    xq, wq = _int8(rng, (M, K)), _int8(rng, (K, N))
    out = Q.int8_matmul_int32(xq, Q.int8_pack_weights(wq))
    assert out.dtype == np.int32 and out.shape == (M, N)
    np.testing.assert_array_equal(out, _ref_int(xq, wq))


@pytest.mark.parametrize("isa", ISAS, indirect=True)
def test_int32_extremes(isa):
    # All +-127: the largest sums (the +128 shift makes the accumulators wrap on the way).
    for K in (1, 4, 1000, 4099):
        for sx, sw in ((127, 127), (-127, 127), (-127, -127)):
            xq = np.full((9, K), sx, np.int8)
            wq = np.full((K, 18), sw, np.int8)
            out = Q.int8_matmul_int32(xq, Q.int8_pack_weights(wq))
            np.testing.assert_array_equal(out, _ref_int(xq, wq))


def test_int32_large_k_exact():
    rng = np.random.default_rng(5)
    K = 40000
    xq = np.full((3, K), 127, np.int8)
    wq = np.where(rng.random((K, 5)) < 0.9, 127, -127).astype(np.int8)
    for isa in ISAS:
        _cpu.set_int8_isa(isa)
        np.testing.assert_array_equal(Q.int8_matmul_int32(xq, Q.int8_pack_weights(wq)),
                                      _ref_int(xq, wq))
    _cpu.set_int8_isa(ISAS[0])


def test_empty_dims():
    for M, K, N in ((0, 5, 3), (4, 0, 3), (4, 5, 0)):
        xq, wq = np.zeros((M, K), np.int8), np.zeros((K, N), np.int8)
        out = Q.int8_matmul_int32(xq, Q.int8_pack_weights(wq))
        assert out.shape == (M, N)
        np.testing.assert_array_equal(out, 0)
        y = Q.int8_dense(np.zeros((M, K), np.float32), Q.int8_pack_weights(wq),
                         np.ones(N, np.float32), np.full(N, 2.0, np.float32))
        assert y.shape == (M, N) and np.all(y == 2.0)


def test_thread_count_invariant():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((300, 700)).astype(np.float32)
    wq, ws = _quantized_kernel(rng, 700, 300)
    p = Q.int8_pack_weights(wq)
    (y1, i1), (y2, i2) = at_thread_counts(
        lambda: (Q.int8_dense(x, p, ws, None, "tanh"),
                 Q.int8_matmul_int32(Q.quantize_rows_int8(x)[0], p)), (1, 2))
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(y1, y2)


# ---- quantization -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (5, 1000), (64, 65), (2, 0)])
def test_quantize_rows_matches_keras_formula(shape):
    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    x = (rng.standard_normal(shape) * rng.uniform(1e-3, 1e3, (shape[0], 1))).astype(np.float32)
    if x.size:
        x[0, 0] = 0.0
        x[-1, :] = 0.0  # an all-zero row: scale 127 / 1e-7, q all 0
    q, s = Q.quantize_rows_int8(x)
    rq, rs = _ref_quantize(x)
    assert q.dtype == np.int8 and s.dtype == np.float32 and s.shape == (shape[0],)
    np.testing.assert_array_equal(q, rq)
    np.testing.assert_array_equal(s, rs)


def test_quantize_rounds_half_to_even():
    # max 127 -> scale 127/(127+1e-7) == 1.0 in float32: q = round(x) exactly.
    x = np.array([[127.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5]], np.float32)
    q, s = Q.quantize_rows_int8(x)
    assert s[0] == np.float32(1.0)
    np.testing.assert_array_equal(q[0], [127, 0, 2, 2, 0, -2, -2, 126])


# ---- float epilogue ---------------------------------------------------------------------------

def _ref_dense64(xq, xs, wq, ws, bias, act):
    acc = _ref_int(xq, wq).astype(np.float64)
    y = acc / (xs.astype(np.float64)[:, None] * ws.astype(np.float64)[None, :])
    if bias is not None:
        y = y + bias
    return {"linear": lambda v: v, "relu": lambda v: np.maximum(v, 0.0),
            "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)), "tanh": np.tanh}[act](y)


@pytest.mark.parametrize("isa", ISAS, indirect=True)
@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("M,K,N", [(1, 1, 1), (3, 17, 63), (65, 64, 65), (33, 1000, 17)])
def test_dense_epilogue_vs_float64(isa, act, M, K, N):
    rng = np.random.default_rng(M + K + N)
    x = rng.standard_normal((M, K)).astype(np.float32)
    wq, ws = _quantized_kernel(rng, K, N)
    bias = rng.standard_normal(N).astype(np.float32)
    y = Q.int8_dense(x, Q.int8_pack_weights(wq), ws, bias, act)
    xq, xs = _ref_quantize(x)
    ref = _ref_dense64(xq, xs, wq, ws, bias, act)
    assert y.dtype == np.float32 and y.shape == (M, N)
    # float32 rounding of the scale product, the division and the bias add (a few ulp of the
    # larger of y and bias), plus the activations' own error (fast exp: a few ulp).
    tol = 4e-7 * (np.abs(ref) + np.abs(bias) + np.abs(y - bias)) + 1e-6
    assert np.all(np.abs(y - ref) <= tol), np.max(np.abs(y - ref) - tol)


@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("x_scale,out_scale", [(None, None), (20.0, None), (None, 3.0),
                                               (40.0, 7.5)])
def test_dense_identical_on_every_isa(act, x_scale, out_scale):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((37, 75)).astype(np.float32)
    wq, ws = _quantized_kernel(rng, 75, 53)
    p = Q.int8_pack_weights(wq)
    bias = rng.standard_normal(53).astype(np.float32)
    outs = []
    old = _cpu.int8_isa()
    try:
        for isa in ISAS:
            _cpu.set_int8_isa(isa)
            outs.append(Q.int8_dense(x, p, ws, bias, act, x_scale, out_scale))
    finally:
        _cpu.set_int8_isa(old)
    for o in outs[1:]:
        assert o.dtype == outs[0].dtype
        np.testing.assert_array_equal(o.view(np.uint8), outs[0].view(np.uint8))


def test_dense_static_scale_and_requantized_output():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20, 50)).astype(np.float32)
    wq, ws = _quantized_kernel(rng, 50, 30)
    p = Q.int8_pack_weights(wq)
    bias = rng.standard_normal(30).astype(np.float32)
    xs = 25.0  # static: large inputs saturate at +-127
    xq = np.clip(np.round(x * np.float32(xs)), -127, 127).astype(np.int8)
    y = Q.int8_dense(x, p, ws, bias, "relu", x_scale=xs)
    ref = _ref_dense64(xq, np.full(20, xs, np.float32), wq, ws, bias, "relu")
    np.testing.assert_allclose(y, ref, rtol=2e-6, atol=2e-6)
    yq = Q.int8_dense(x, p, ws, bias, "relu", x_scale=xs, out_scale=9.0)
    assert yq.dtype == np.int8
    # Exactly round-half-even(clip(y * 9)) of the float32 y this call would return.
    np.testing.assert_array_equal(yq, np.clip(np.round(y * np.float32(9.0)), -127, 127))
    assert np.abs(yq.astype(np.float64) - np.clip(ref * 9.0, -127, 127)).max() <= 0.5 + 1e-4


def test_native_matches_numpy_reference_path(monkeypatch):
    # The NumPy fallback in backend/quantized.py is the specification the kernels follow: for
    # linear/relu they agree bit for bit.
    rng = np.random.default_rng(9)
    x = rng.standard_normal((29, 97)).astype(np.float32)
    wq, ws = _quantized_kernel(rng, 97, 41)
    p = Q.int8_pack_weights(wq)
    bias = rng.standard_normal(41).astype(np.float32)
    native = [Q.int8_dense(x, p, ws, bias, a, xs, os_) for a in ("linear", "relu")
              for xs in (None, 17.0) for os_ in (None, 4.0)]
    monkeypatch.setattr(Q, "_NATIVE", False)
    ref = [Q.int8_dense(x, p, ws, bias, a, xs, os_) for a in ("linear", "relu")
           for xs in (None, 17.0) for os_ in (None, 4.0)]
    for a, b in zip(native, ref):
        np.testing.assert_array_equal(a, b)


# ---- Keras 3 golden ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["small", "relu", "nobias", "wide"])
def test_matches_keras_int8_dense(name):
    g = np.load(GOLDEN)
    x, kernel = g[f"{name}_x"], g[f"{name}_kernel"]
    bias = g[f"{name}_bias"] if f"{name}_bias" in g.files else None
    act = str(g[f"{name}_act"])
    # Keras quantizes the kernel per output column (axis 0) with abs_max_quantize.
    wq_t, ws = Q.quantize_rows_int8(np.ascontiguousarray(kernel.T))
    np.testing.assert_array_equal(wq_t.T, g[f"{name}_kq"])
    np.testing.assert_array_equal(ws, g[f"{name}_kscale"].reshape(-1))
    xq, xs = Q.quantize_rows_int8(x)
    np.testing.assert_array_equal(xq, g[f"{name}_xq"])
    np.testing.assert_array_equal(xs, g[f"{name}_xscale"].reshape(-1))
    y = Q.int8_dense(x, Q.int8_pack_weights(np.ascontiguousarray(wq_t.T)), ws, bias, act)
    np.testing.assert_allclose(y, g[f"{name}_y"], rtol=1e-6, atol=1e-6)


# ---- validation -------------------------------------------------------------------------------

def test_backend_cpu_exports():
    for name in ("quantize_rows_int8", "int8_pack_weights", "int8_matmul_int32", "int8_dense",
                 "int8_conv2d"):
        assert getattr(B, name) is getattr(Q, name)


def test_bad_arguments_raise_value_error():
    rng = np.random.default_rng(0)
    wq = _int8(rng, (8, 5))
    p = Q.int8_pack_weights(wq)
    x = rng.standard_normal((3, 8)).astype(np.float32)
    ws = np.ones(5, np.float32)
    cases = [
        (lambda: Q.int8_pack_weights(wq.astype(np.int16)), "wq"),
        (lambda: Q.int8_pack_weights(np.zeros(4, np.int8)), "wq"),
        (lambda: Q.quantize_rows_int8(x.astype(np.float64)), "x"),
        (lambda: Q.int8_matmul_int32(x, p), "xq"),
        (lambda: Q.int8_matmul_int32(_int8(rng, (3, 7)), p), "xq"),
        (lambda: Q.int8_matmul_int32(_int8(rng, (3, 8)), wq), "packed"),
        (lambda: Q.int8_dense(x[:, :7].copy(), p, ws), "x"),
        (lambda: Q.int8_dense(x, p, np.ones(4, np.float32)), "w_scale"),
        (lambda: Q.int8_dense(x, p, ws.astype(np.float64)), "w_scale"),
        (lambda: Q.int8_dense(x, p, ws, np.ones(6, np.float32)), "bias"),
        (lambda: Q.int8_dense(x, p, ws, None, "gelu"), "activation"),
        (lambda: Q.int8_dense(x, p, ws, None, "relu", x_scale=-1.0), "x_scale"),
        (lambda: Q.int8_dense(x, p, ws, None, "relu", x_scale=float("nan")), "x_scale"),
        (lambda: Q.int8_dense(x, p, ws, None, "relu", out_scale=0.0), "out_scale"),
    ]
    for fn, arg in cases:
        with pytest.raises(ValueError, match=arg):
            fn()


def test_binding_validation():
    rng = np.random.default_rng(0)
    wq = _int8(rng, (8, 20))
    p = Q.int8_pack_weights(wq)
    xq = _int8(rng, (3, 8))
    out = np.empty((3, 20), np.int32)
    with pytest.raises(ValueError, match="panels"):
        _cpu.qgemm_s8(xq, p.packed[:, :1].copy(), p.comp, 20, out)
    with pytest.raises(ValueError, match="panels"):
        _cpu.qgemm_s8(xq, p.packed, p.comp, 40, np.empty((3, 40), np.int32))
    with pytest.raises(ValueError, match="comp"):
        _cpu.qgemm_s8(xq, p.packed, p.comp[:16].copy(), 20, out)
    with pytest.raises(ValueError, match="comp"):
        _cpu.qgemm_s8(xq, p.packed, p.comp.astype(np.int64), 20, out)
    with pytest.raises(ValueError, match="out"):
        _cpu.qgemm_s8(xq, p.packed, p.comp, 20, np.empty((3, 21), np.int32))
    with pytest.raises(ValueError, match="out"):
        _cpu.qgemm_s8(xq, p.packed, p.comp, 20, np.empty((3, 20), np.float32))
    with pytest.raises(ValueError, match="xq"):
        _cpu.qgemm_s8(xq[:, ::2], p.packed, p.comp, 20, out)
    with pytest.raises(ValueError, match="'n'"):
        _cpu.qgemm_s8(xq, p.packed, p.comp, -1, out)
    with pytest.raises(TypeError, match="panels"):
        _cpu.qgemm_s8(xq, [1, 2], p.comp, 20, out)
    x = rng.standard_normal((3, 8)).astype(np.float32)
    ws = np.ones(20, np.float32)
    with pytest.raises(ValueError, match="act"):
        _cpu.qdense_s8(x, p.packed, p.comp, 20, ws, None, 4, None, None,
                       np.empty((3, 20), np.float32))
    with pytest.raises(ValueError, match="out"):  # out_scale given: int8 output expected
        _cpu.qdense_s8(x, p.packed, p.comp, 20, ws, None, 0, None, 2.0,
                       np.empty((3, 20), np.float32))
    with pytest.raises(ValueError, match="x_scale"):
        _cpu.qdense_s8(x, p.packed, p.comp, 20, ws, None, 0, -3.0, None,
                       np.empty((3, 20), np.float32))
    base = np.zeros(60, np.float32)  # out (3, 20) overlapping x (3, 8)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.qdense_s8(base[:24].reshape(3, 8), p.packed, p.comp, 20, ws, None, 0, None, None,
                       base.reshape(3, 20))
    big = np.zeros((1, 131073), np.int8)
    with pytest.raises(ValueError, match="K = 131073"):
        _cpu.qgemm_s8(big, np.zeros((1, 32769, 16, 4), np.int8), np.zeros(16, np.int32), 1,
                      np.empty((1, 1), np.int32))
    with pytest.raises(ValueError, match="int8_isa|name"):
        _cpu.set_int8_isa("avx9000")
    with pytest.raises(ValueError, match="x"):
        _cpu.quantize_rows_s8(x, np.empty((3, 7), np.int8), np.empty(3, np.float32))
    with pytest.raises(ValueError, match="scale"):
        _cpu.quantize_rows_s8(x, np.empty((3, 8), np.int8), np.empty(4, np.float32))

