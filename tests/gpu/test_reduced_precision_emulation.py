"""The parts of the GPU tests' expectations that need no GPU (#18 item 1): the TF32/BF16 rounding
emulation, bit for bit, and the tolerance logic. An exact emulation of the tensor cores' operand
rounding must pass the reduced-precision bound against the FP32 result on every shape the GPU
tests use (the former element-wise bound rejected it), and results that are wrong in the ways a
broken kernel is wrong (a lost k-step, swapped fragment rows, unrounded operands) must fail the
tight check against the emulation."""
from __future__ import annotations

import numpy as np
import pytest

from tests.gpu.numerics import (EMULATION_TOL, TOL, assert_close, assert_close_to_scale,
                                emulate_gemm, f32, gemm_magnitude, round_bf16, round_tf32)

pytestmark = pytest.mark.no_gpu

# The shapes and operands of test_kernels_gpu.py::test_matmul_reduced_precision.
RP_SHAPES = [(1, 1, 1), (17, 9, 3), (128, 128, 32), (200, 130, 333), (1000, 257, 96)]
TRANS = [(False, False), (True, False), (False, True), (True, True)]


def bits(v):
    return np.array(v, np.float32).view(np.uint32)


def from_bits(b):
    return np.array(b, np.uint32).view(np.float32)


def test_tf32_rounds_to_nearest_ties_away_from_zero():
    one = 1.0
    ulp = 2.0 ** -10  # TF32 keeps 10 mantissa bits
    x = np.array([one + ulp / 2, -(one + ulp / 2), one + ulp / 2 - 2 ** -23, one + 1.5 * ulp,
                  3.0, 0.0, -0.0], np.float32)
    want = np.array([one + ulp, -(one + ulp), one, one + 2 * ulp, 3.0, 0.0, -0.0], np.float32)
    got = round_tf32(x)
    np.testing.assert_array_equal(bits(got), bits(want))
    assert (bits(got) & 0x1FFF == 0).all()  # the low 13 bits are gone


def test_bf16_rounds_to_nearest_even():
    ulp = 2.0 ** -7  # BF16 keeps 7 mantissa bits
    x = np.array([1 + ulp / 2, 1 + 1.5 * ulp, 1 + ulp / 2 + 2 ** -20, -(1 + 1.5 * ulp)],
                 np.float32)
    want = np.array([1.0, 1 + 2 * ulp, 1 + ulp, -(1 + 2 * ulp)], np.float32)
    got = round_bf16(x)
    np.testing.assert_array_equal(bits(got), bits(want))
    assert (bits(got) & 0xFFFF == 0).all()


@pytest.mark.parametrize("rounder", [round_tf32, round_bf16])
def test_rounding_keeps_nonfinite_and_overflows_to_inf(rounder):
    x = np.array([np.nan, np.inf, -np.inf, from_bits(0x7F7FFFFF)], np.float32)
    got = rounder(x)
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == -np.inf
    assert got[3] == np.inf  # the largest float rounds up past the largest TF32/BF16 value


def test_rounding_error_is_within_half_an_ulp():
    x = np.random.default_rng(0).uniform(-100, 100, 100000).astype(np.float32)
    for rounder, mbits in ((round_tf32, 10), (round_bf16, 7)):
        rel = np.abs(rounder(x).astype(np.float64) - x) / np.abs(x)
        assert rel.max() <= 2.0 ** -(mbits + 1) * (1 + 1e-6)


@pytest.mark.parametrize("precision", ["tf32", "bf16"])
@pytest.mark.parametrize("mnk", RP_SHAPES)
@pytest.mark.parametrize("ta,tb", TRANS)
def test_exact_emulation_passes_the_reduced_precision_bound(precision, mnk, ta, tb):
    rng = np.random.default_rng(hash((precision, mnk, ta, tb)) % 2 ** 32)
    m, n, k = mnk
    a = f32(rng, k, m) if ta else f32(rng, m, k)
    b = f32(rng, n, k) if tb else f32(rng, k, n)
    bias = f32(rng, n)
    ref32 = ((a.T if ta else a).astype(np.float64) @ (b.T if tb else b) + bias).astype(np.float32)
    emu = emulate_gemm(precision, a, b, ta, tb, bias)
    mag = gemm_magnitude(a, b, ta, tb, bias)
    assert_close_to_scale(emu, ref32, TOL[precision], f"{precision} emulation {mnk}", mag)
    # The rounding error is at most 2u of each element's magnitude (u: half an ulp).
    u = {"tf32": 2.0 ** -11, "bf16": 2.0 ** -8}[precision]
    assert_close_to_scale(emu, ref32, 2.0 * u * 1.01 + 1e-6, "2u bound", mag)


def test_max_ref_bound_fails_when_the_bias_cancels_the_product():
    """Why GEMMs use the per-element magnitude: a (1, 1, 1) product cancelled by its bias
    leaves a tiny result, and the BF16 rounding error of the product exceeds 1e-2 of it."""
    a, b = np.array([[0.9]], np.float32), np.array([[0.7]], np.float32)
    bias = np.array([-0.62], np.float32)
    ref32 = (a.astype(np.float64) @ b + bias).astype(np.float32)
    emu = emulate_gemm("bf16", a, b, bias=bias)
    with pytest.raises(AssertionError):
        assert_close_to_scale(emu, ref32, TOL["bf16"])
    assert_close_to_scale(emu, ref32, TOL["bf16"], "magnitude", gemm_magnitude(a, b, bias=bias))


def test_elementwise_bound_is_too_tight_for_reduced_precision():
    """Why the bound changed: the exact TF32 emulation fails rtol*|ref| element-wise (elements
    near zero by cancellation) while being well inside tol*max|ref|."""
    rng = np.random.default_rng(1234)
    a, b = f32(rng, 200, 333), f32(rng, 333, 130)
    ref32 = (a.astype(np.float64) @ b).astype(np.float32)
    emu = emulate_gemm("tf32", a, b)
    with pytest.raises(AssertionError, match="elements outside"):
        assert_close(emu, ref32, TOL["tf32"])
    assert_close_to_scale(emu, ref32, TOL["tf32"] / 4)
    assert_close_to_scale(emu, ref32, TOL["tf32"] / 2, "", gemm_magnitude(a, b))


@pytest.mark.parametrize("precision", ["tf32", "bf16"])
def test_tight_emulation_check_catches_kernel_bugs(precision):
    rng = np.random.default_rng(7)
    m, n, k = 64, 48, 96
    a, b = f32(rng, m, k), f32(rng, k, n)
    emu = emulate_gemm(precision, a, b)
    rnd = {"tf32": round_tf32, "bf16": round_bf16}[precision]
    ra, rb = rnd(a).astype(np.float64), rnd(b).astype(np.float64)
    # FP32 accumulation in another order: accepted.
    mag = gemm_magnitude(a, b)
    fp32_acc = (rnd(a) @ rnd(b)).astype(np.float32)
    assert_close_to_scale(fp32_acc, emu, EMULATION_TOL, "fp32 accumulation", mag)
    step = 8 if precision == "tf32" else 16
    lost_step = (ra[:, step:] @ rb[step:]).astype(np.float32)  # one mma k-step skipped
    swapped = emu.copy()
    swapped[[0, 8]] = swapped[[8, 0]]  # rows g and g+8 of a fragment exchanged
    unrounded = (a.astype(np.float64) @ b).astype(np.float32)  # operands not rounded at all
    for wrong, what in ((lost_step, "lost k-step"), (swapped, "swapped fragment rows"),
                        (unrounded, "unrounded operands")):
        with pytest.raises(AssertionError):
            assert_close_to_scale(wrong, emu, EMULATION_TOL, what, mag)


def test_nonfinite_values_must_match_exactly():
    ref = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    assert_close(ref.copy(), ref)
    assert_close_to_scale(ref.copy(), ref, 1e-2)
    for wrong in ([1.0, 1e-7, np.inf, -np.inf],       # NaN hidden as a finite value
                  [1.0, np.nan, -np.inf, -np.inf],    # sign of an infinity
                  [1.0, np.nan, np.inf, np.nan]):     # infinity became NaN
        with pytest.raises(AssertionError):
            assert_close(np.array(wrong, np.float32), ref)


def test_scale_bound_is_relative_to_the_largest_reference():
    ref = np.array([100.0, 0.001, -50.0], np.float32)
    assert_close_to_scale(ref + np.float32(0.09), ref, 1e-3)  # 0.09 <= 1e-3 * 100
    with pytest.raises(AssertionError, match=r"\|diff\| .* > 0.001 \* max\|ref\|"):
        assert_close_to_scale(ref + np.float32(0.2), ref, 1e-3)
