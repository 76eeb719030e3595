"""int8 kernels on the GPU (cuda/qgemm.cu through nnforge.backend.cuda's int8 functions) against
the CPU ones (nnforge.backend.quantized) and exact integer references:

* int32 products bit-exact (__dp4a) on random and edge shapes;
* per-row quantization identical to the CPU's (same float32 formula, round half to even);
* int8_dense / int8_conv2d: linear and relu bit-identical to the CPU (IEEE division, same
  quantization); sigmoid/tanh within a few float32 ulp (expf/tanhf vs the CPU's fast_exp);
  requantized int8 output identical;
* the bindings' validation through fake CUDA arrays (runs without a GPU: no_gpu tests).

Skipped without CuPy and a CUDA device (conftest.py)."""
from __future__ import annotations

import numpy as np
import pytest

from nnforge.backend import quantized as Q

SHAPES = [(1, 1, 1), (3, 17, 63), (17, 63, 64), (64, 65, 17), (65, 1, 3), (1, 1000, 17),
          (100, 1000, 33), (17, 3, 1000), (0, 5, 3), (4, 0, 3), (4, 5, 0), (300, 129, 77)]


def _dev():
    """(cupy, nnforge.backend.cuda); skipped where CuPy is missing (also in a dry run: these
    tests compare the two devices, so the CPU cannot stand in)."""
    cupy = pytest.importorskip("cupy")
    from nnforge.backend import cuda
    return cupy, cuda


def _int8(rng, shape):
    return rng.integers(-127, 128, shape).astype(np.int8)


@pytest.mark.parametrize("M,K,N", SHAPES)
def test_int32_bit_exact(M, K, N):
    cupy, gb = _dev()
    rng = np.random.default_rng(M * 7 + K * 3 + N)
    xq, wq = _int8(rng, (M, K)), _int8(rng, (K, N))
    out = gb.int8_matmul_int32(cupy.asarray(xq), gb.int8_pack_weights(wq))
    np.testing.assert_array_equal(cupy.asnumpy(out), xq.astype(np.int64) @ wq.astype(np.int64))


def test_int32_extremes():
    cupy, gb = _dev()
    for K in (1, 4, 1000, 40000):
        xq = np.full((5, K), -127, np.int8)
        wq = np.full((K, 20), 127, np.int8)
        out = gb.int8_matmul_int32(cupy.asarray(xq), gb.int8_pack_weights(wq))
        np.testing.assert_array_equal(cupy.asnumpy(out), xq.astype(np.int64) @ wq.astype(np.int64))


@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (5, 1000), (64, 65), (2, 0), (70000, 3)])
def test_quantize_rows_identical_to_cpu(shape):
    cupy, gb = _dev()
    rng = np.random.default_rng(shape[1])
    x = (rng.standard_normal(shape) * rng.uniform(1e-3, 1e3, (shape[0], 1))).astype(np.float32)
    q, s = gb.quantize_rows_int8(cupy.asarray(x))
    rq, rs = Q.quantize_rows_int8(x)
    np.testing.assert_array_equal(cupy.asnumpy(q), rq)
    np.testing.assert_array_equal(cupy.asnumpy(s), rs)


@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("x_scale,out_scale", [(None, None), (20.0, None), (None, 3.0)])
@pytest.mark.parametrize("M,K,N", [(1, 1, 1), (37, 75, 53), (130, 1000, 65)])
def test_dense_matches_cpu(act, x_scale, out_scale, M, K, N):
    cupy, gb = _dev()
    rng = np.random.default_rng(M + K + N)
    x = rng.standard_normal((M, K)).astype(np.float32)
    wq_t, ws = Q.quantize_rows_int8(np.ascontiguousarray(
        rng.standard_normal((N, K)).astype(np.float32)))
    wq = np.ascontiguousarray(wq_t.T)
    bias = rng.standard_normal(N).astype(np.float32)
    ref = Q.int8_dense(x, Q.int8_pack_weights(wq), ws, bias, act, x_scale, out_scale)
    y = cupy.asnumpy(gb.int8_dense(cupy.asarray(x), gb.int8_pack_weights(wq), cupy.asarray(ws),
                                   cupy.asarray(bias), act, x_scale, out_scale))
    assert y.dtype == ref.dtype and y.shape == ref.shape
    if act in ("linear", "relu"):
        np.testing.assert_array_equal(y, ref)
    elif out_scale is None:
        np.testing.assert_allclose(y, ref, rtol=2e-6, atol=2e-6)
    else:  # a few ulp before rounding can move a value across a .5 boundary
        assert np.abs(y.astype(np.int32) - ref.astype(np.int32)).max() <= 1


@pytest.mark.parametrize("geom", [
    (2, 5, 6, 3, 3, 3, 17, (1, 1), "same", (1, 1)),
    (1, 9, 8, 5, 3, 2, 33, (2, 3), "same", (1, 1)),
    (1, 9, 9, 2, 3, 3, 8, (1, 1), "valid", (2, 2)),
    (1, 1, 30, 7, 1, 5, 9, (1, 2), "same", (1, 1)),
])
def test_conv_matches_cpu(geom):
    cupy, gb = _dev()
    N, H, W, C, KH, KW, F, st, pad, dil = geom
    rng = np.random.default_rng(F)
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    wq_t, ws = Q.quantize_rows_int8(rng.standard_normal((F, KH * KW * C)).astype(np.float32))
    wq = np.ascontiguousarray(wq_t.T)
    bias = rng.standard_normal(F).astype(np.float32)
    ref = Q.int8_conv2d(x, Q.int8_pack_weights(wq), ws, bias, (KH, KW), st, pad, dil, "relu")
    y = gb.int8_conv2d(cupy.asarray(x), gb.int8_pack_weights(wq), cupy.asarray(ws),
                       cupy.asarray(bias), (KH, KW), st, pad, dil, "relu")
    np.testing.assert_array_equal(cupy.asnumpy(y), ref)


# ---- validation through fake CUDA arrays (no GPU needed) -------------------------------------

_TYPESTR = {"float32": "<f4", "int32": "<i4", "int8": "|i1", "int64": "<i8"}


class _Fake:
    def __init__(self, shape, dtype="float32"):
        self._buf = np.zeros(max(int(np.prod(shape)), 1) * 8 + 64, np.uint8)
        base = self._buf.ctypes.data
        self.__cuda_array_interface__ = {"shape": tuple(shape), "typestr": _TYPESTR[dtype],
                                         "data": (base + (-base) % 64, False), "version": 3,
                                         "strides": None}


@pytest.mark.no_gpu
def test_binding_validation(c):
    F = _Fake
    x, panels, ws = F((3, 8)), F((2, 2, 16, 4), "int8"), F((20,))
    out = F((3, 20))
    cases = [
        (lambda: c.qgemm_s8(F((3, 8), "int8"), F((2, 3, 16, 4), "int8"), 20, F((3, 20), "int32")),
         "panels"),
        (lambda: c.qgemm_s8(F((3, 8), "int8"), panels, 20, F((3, 20))), "out"),
        (lambda: c.qgemm_s8(F((3, 8)), panels, 20, F((3, 20), "int32")), "xq"),
        (lambda: c.qgemm_s8(F((3, 8), "int8"), panels, -1, F((3, 20), "int32")), "'n'"),
        (lambda: c.qdense_s8(x, panels, 20, F((19,)), None, 0, None, None, out, None), "w_scale"),
        (lambda: c.qdense_s8(x, panels, 20, ws, F((21,)), 0, None, None, out, None), "bias"),
        (lambda: c.qdense_s8(x, panels, 20, ws, None, 7, None, None, out, None), "act"),
        (lambda: c.qdense_s8(x, panels, 20, ws, None, 0, -1.0, None, out, None), "x_scale"),
        (lambda: c.qdense_s8(x, panels, 20, ws, None, 0, None, 2.0, out, None), "out"),
        (lambda: c.qdense_s8(x, panels, 20, ws, None, 0, None, None, out, None), "workspace"),
        (lambda: c.quantize_rows_s8(x, F((3, 7), "int8"), F((3,))), "q"),
        (lambda: c.quantize_rows_s8(x, F((3, 8), "int8"), F((4,))), "scale"),
    ]
    for fn, arg in cases:
        with pytest.raises(ValueError, match=arg):
            fn()
    with pytest.raises(TypeError, match="panels"):
        c.qgemm_s8(F((3, 8), "int8"), np.zeros((2, 2, 16, 4), np.int8), 20, F((3, 20), "int32"))
    assert c.qdense_workspace_bytes(3, 8) >= 3 * 8 + 3 * 4
