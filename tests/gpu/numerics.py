"""Numerical references and tolerance checks shared by the GPU tests.

Everything here is plain NumPy, so it is tested on every machine
(tests/gpu/test_reduced_precision_emulation.py) even though the kernels it judges need a GPU.

Two kinds of bound:
  * ``assert_close``: FP32 results, element by element (|got - ref| <= rtol*|ref| plus a small
    floor relative to max|ref|) and against the norm.
  * ``assert_close_to_scale``: reduced precision (TF32, BF16). Rounding the operands to 10 or 7
    mantissa bits perturbs every product by up to 2u (u = 2^-11, 2^-8); summed over K terms the
    error is a fraction of the terms' magnitude, not of the result, so elements near zero
    (cancellation) can be off by far more than rtol*|ref| while the result is right. The bound
    is tol*scale with scale = max|ref| by default or, for GEMMs and convolutions, the magnitude
    of the sum element by element (``gemm_magnitude``: |op(a)| @ |op(b)| + |bias|, where
    |error| <= 2u*magnitude holds exactly). An exact emulation of the rounding
    (``round_tf32``/``round_bf16``, products accumulated in float64) is then checked tightly, at
    1e-4*magnitude, which pins down the tensor-core fragment layouts (a wrong layout, a lost
    k-step or unrounded operands are off by far more).
Non-finite values must match exactly: NaN where the reference has NaN, +-inf with the same sign.
"""
from __future__ import annotations

import numpy as np

TOL = {"fp32": 1e-4, "tf32": 2e-3, "bf16": 1e-2}  # of max|ref|, vs the FP32 result
EMULATION_TOL = 1e-4  # of max|ref|, vs the exact emulation of the operand rounding


def f32(rng, *shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def _split_nonfinite(got, ref, what):
    got = np.asarray(got)
    ref = np.asarray(ref)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    assert got.dtype == ref.dtype, f"{what}: dtype {got.dtype} != {ref.dtype}"
    g64, r64 = got.astype(np.float64), ref.astype(np.float64)
    nan_g, nan_r = np.isnan(g64), np.isnan(r64)
    assert np.array_equal(nan_g, nan_r), (
        f"{what}: NaN positions differ ({int(nan_g.sum())} NaN in the result, "
        f"{int(nan_r.sum())} in the reference; first mismatch at flat index "
        f"{int(np.flatnonzero(nan_g != nan_r)[0])})")
    inf_r = np.isinf(r64)
    assert np.array_equal(np.isinf(g64), inf_r), f"{what}: infinite positions differ"
    assert np.array_equal(g64[inf_r], r64[inf_r]), f"{what}: infinities of different sign"
    fin = np.isfinite(r64)
    return g64[fin], r64[fin]


def assert_close(got, ref, rtol=1e-4, what=""):
    """FP32: |got - ref| <= rtol * max|ref| everywhere and, element-wise,
    |got - ref| <= rtol * |ref| + rtol * 1e-2 * max|ref|."""
    g, r = _split_nonfinite(got, ref, what)
    if r.size == 0:
        return
    scale = max(float(np.max(np.abs(r))), 1e-30)
    err = np.abs(g - r)
    worst = float(err.max())
    assert worst <= rtol * scale, (
        f"{what}: max |diff| {worst:.3g} > {rtol:g} * max|ref| ({scale:.3g}); "
        f"relative {worst / scale:.3g}")
    bad = err > rtol * np.abs(r) + rtol * 1e-2 * scale
    assert not bad.any(), (
        f"{what}: {int(bad.sum())} of {err.size} elements outside rtol={rtol:g}: first "
        f"got {g[bad][0]!r} want {r[bad][0]!r}")


def assert_close_to_scale(got, ref, tol, what="", scale=None):
    """Reduced precision: |got - ref| <= tol * scale, scale = max|ref| (default) or an array of
    ref's shape (the magnitude of each element's sum, see ``gemm_magnitude``)."""
    fin = np.isfinite(np.asarray(ref, np.float64))
    g, r = _split_nonfinite(got, ref, what)
    if r.size == 0:
        return
    if scale is None:
        s = np.full(r.shape, max(float(np.max(np.abs(r))), 1e-30))
        label = "max|ref|"
    else:
        s = np.broadcast_to(np.asarray(scale, np.float64), fin.shape)[fin]
        label = "magnitude"
    ratio = np.abs(g - r) / np.maximum(s, 1e-30)
    i = int(np.argmax(ratio))
    assert ratio[i] <= tol, (
        f"{what}: |diff| {abs(g[i] - r[i]):.3g} > {tol:g} * {label} ({s[i]:.3g}) at finite "
        f"element {i}: got {g[i]!r} want {r[i]!r}; relative {ratio[i]:.3g}")


def gemm_magnitude(a, b, trans_a=False, trans_b=False, bias=None):
    """|op(a)| @ |op(b)| (+ |bias|): per element, the sum of the magnitudes of its terms."""
    opa = np.abs(np.asarray(a.T if trans_a else a, np.float64))
    opb = np.abs(np.asarray(b.T if trans_b else b, np.float64))
    out = opa @ opb
    return out + np.abs(bias) if bias is not None else out


def round_tf32(a):
    """cvt.rna.tf32.f32: keep 10 mantissa bits, round to nearest, ties away from zero."""
    b = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    finite = (b & 0x7F800000) != 0x7F800000
    r = np.where(finite, (b + 0x1000) & 0xFFFFE000, b)  # NaN/inf keep their bits
    return (r & 0xFFFFFFFF).astype(np.uint32).view(np.float32).reshape(np.shape(a))


def round_bf16(a):
    """__float2bfloat16_rn: keep 7 mantissa bits, round to nearest even (NaN stays NaN)."""
    b = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    finite = (b & 0x7F800000) != 0x7F800000
    r = np.where(finite, (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000,
                 np.where((b & 0x7FFFFF) != 0, (b | 0x400000) & 0xFFFF0000, b))
    return (r & 0xFFFFFFFF).astype(np.uint32).view(np.float32).reshape(np.shape(a))


ROUNDERS = {"tf32": round_tf32, "bf16": round_bf16}


def emulate_gemm(precision, a, b, trans_a=False, trans_b=False, bias=None):
    """op(a) @ op(b) (+ bias) with the operands rounded as the tensor-core kernels round them,
    products accumulated in float64; returned as float32."""
    opa = np.asarray(a.T if trans_a else a, dtype=np.float32)
    opb = np.asarray(b.T if trans_b else b, dtype=np.float32)
    rnd = ROUNDERS.get(precision, lambda v: v)
    out = rnd(opa).astype(np.float64) @ rnd(opb).astype(np.float64)
    if bias is not None:
        out = out + bias
    return out.astype(np.float32)


def conv_geometry(H, W, KH, KW, SH, SW, DH, DW, padding):
    """TensorFlow's output size and top/left padding for 'valid' / 'same'."""
    ekh, ekw = (KH - 1) * DH + 1, (KW - 1) * DW + 1
    if padding == "valid":
        return ((H - ekh) // SH + 1, (W - ekw) // SW + 1), (0, 0)
    oh, ow = -(-H // SH), -(-W // SW)
    ph = max((oh - 1) * SH + ekh - H, 0)
    pw = max((ow - 1) * SW + ekw - W, 0)
    return (oh, ow), (ph // 2, pw // 2)
