"""The fused LSTM and GRU (reset_after) steps (cpp/src/rnn_kernels_avx512.cpp, used by rnn_infer and
rnn_forward where the CPU has AVX-512; GRU reset_after=False always takes the portable path) against the portable path (NNFORGE_ISA=avx2 / generic: small GEMMs, then the
scalar gate formulas) and against a float64 reference: tile edges (rows not a multiple of the
6-row tile, units not a multiple of 16, features above and below one block), masks, initial
states, go_backwards, the accuracy of its exp / sigmoid / tanh over the whole float range, and
NaN / inf propagation."""
import os
import subprocess
import sys

import numpy as np
import pytest

from nnforge import _cpu
from nnforge.backend import cpu
from tests.helpers import at_thread_counts
from tests.kernels.test_rnn_kernels import ref_forward

ORDER = ["generic", "avx2", "avx512"]

# Run under NNFORGE_ISA (argv[1]); writes every case's outputs to argv[2] (.npz).
_SCRIPT = r"""
import sys
import numpy as np
from nnforge import _cpu
from nnforge.backend import cpu
assert _cpu.cpu_isa() == sys.argv[1], _cpu.cpu_isa()
rng = np.random.default_rng(11)
out = {}
cases = [(1, 1, 1, 1), (7, 4, 5, 3), (13, 5, 3, 17), (6, 3, 64, 64), (19, 4, 300, 67),
         (12, 3, 2, 16), (5, 6, 9, 33)]
for cell, ra in (("lstm", True), ("gru", True), ("gru", False)):
    g = 4 if cell == "lstm" else 3
    name = cell if ra else "grub"
    for k, (n, t, d, h) in enumerate(cases):
        p = f"{name}{k}"
        x = rng.standard_normal((n, t, d)).astype(np.float32)
        w = (rng.standard_normal((d, g * h)) / np.sqrt(d)).astype(np.float32)
        u = (rng.standard_normal((h, g * h)) / np.sqrt(h)).astype(np.float32)
        bshape = (2, g * h) if cell == "gru" and ra else (g * h,)
        b = rng.standard_normal(bshape).astype(np.float32) if k % 2 == 0 else None
        h0 = rng.standard_normal((n, h)).astype(np.float32) if k % 3 == 1 else None
        c0 = rng.standard_normal((n, h)).astype(np.float32) if k % 3 == 1 and g == 4 else None
        mask = rng.random((n, t)) > 0.3 if k % 2 == 1 else None
        gb = k % 4 == 3
        for a, v in (("x", x), ("w", w), ("u", u), ("b", b), ("h0", h0), ("c0", c0),
                     ("mask", mask)):
            if v is not None:
                out[f"{p}_{a}"] = v
        out[f"{p}_gb"] = np.array(gb)
        inf = cpu.rnn_infer(cell, x, w, u, b, h0, c0, mask, gb, False, reset_after=ra,
                            want_sequence=True)
        for a in ("y_seq", "y_last", "h_last", "c_last"):
            if inf[a] is not None:
                out[f"{p}_infer_{a}"] = inf[a]
        tr = cpu.rnn_sequence(cell, x, w, u, b, h0, c0, mask, gb, False, reset_after=ra,
                              want_sequence=True)
        for a in ("y_seq", "y_last", "gates", "aux", "h_all", "c_all"):
            if tr.get(a) is not None:
                out[f"{p}_train_{a}"] = tr[a]
    x = np.array([[[np.nan]], [[np.inf]], [[-np.inf]], [[0.5]]], np.float32)
    w = np.array([[1, -1, 2, 0.5][:g]], np.float32)
    u = np.full((1, g), 0.1, np.float32)
    out[f"{name}_nan_infer"] = cpu.rnn_infer(cell, x, w, u, None, None, None, None, False, False,
                                             reset_after=ra)["y_last"]
    out[f"{name}_nan_train"] = cpu.rnn_sequence(cell, x, w, u, None, None, None, None, False,
                                                False, reset_after=ra)["y_last"]
np.savez(sys.argv[2], **out)
print("ok")
"""
CELLS = [("lstm", "lstm", True), ("gru", "gru", True), ("grub", "gru", False)]
N_CASES = 7


def run_under(isa, path):
    env = dict(os.environ, NNFORGE_ISA=isa)
    r = subprocess.run([sys.executable, "-c", _SCRIPT, isa, str(path)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return dict(np.load(path))


@pytest.fixture(scope="module")
def by_isa(tmp_path_factory):
    native = _cpu.cpu_isa()
    d = tmp_path_factory.mktemp("rnn_isa")
    return {isa: run_under(isa, d / f"{isa}.npz")
            for isa in ORDER[:ORDER.index(native) + 1]}


@pytest.mark.parametrize("name, cell, ra", CELLS)
def test_every_isa_matches_the_float64_reference(by_isa, name, cell, ra):
    for isa, r in by_isa.items():
        for k in range(N_CASES):
            p = f"{name}{k}"
            args = [r.get(f"{p}_{n}") for n in ("x", "w", "u", "b", "h0", "c0", "mask")]
            ys, yl, h, c = ref_forward(cell, *args, bool(r[f"{p}_gb"]), False, ra)
            for mode in ("infer", "train"):
                np.testing.assert_allclose(r[f"{p}_{mode}_y_seq"], ys, rtol=2e-5, atol=2e-6,
                                           err_msg=f"{isa} {mode} {p}")
                np.testing.assert_allclose(r[f"{p}_{mode}_y_last"], yl, rtol=2e-5, atol=2e-6,
                                           err_msg=f"{isa} {mode} {p}")
            np.testing.assert_allclose(r[f"{p}_infer_h_last"], h, rtol=2e-5, atol=2e-6)
            if cell == "lstm":
                np.testing.assert_allclose(r[f"{p}_infer_c_last"], c, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name, cell, ra", CELLS)
def test_fused_and_portable_paths_agree_to_rounding(by_isa, name, cell, ra):
    if "avx512" not in by_isa:
        pytest.skip("no AVX-512: only the portable path runs here")
    fused, portable = by_isa["avx512"], by_isa["avx2"]
    keys = [key for key in portable if key.startswith(name) and ("_infer_" in key or "_train_" in key)
            and key[len(name)].isdigit()]
    assert len(keys) >= 6 * N_CASES
    for key in keys:
        # The LSTM's fused training step sums b + [x | h] @ [W; U] in one k-chain where the
        # portable path adds (x W + b) from a GEMM to h U: the saved gates (activations of sums
        # of up to 367 terms, case 4) may differ by a few 1e-7 of those terms' scale.
        atol = 4e-6 if key.endswith("_train_gates") else 1e-6
        np.testing.assert_allclose(fused[key], portable[key], rtol=1e-5, atol=atol, err_msg=key)


@pytest.mark.parametrize("name, cell, ra", CELLS)
def test_nan_and_inf_propagate_alike(by_isa, name, cell, ra):
    ref = by_isa["generic"]
    for isa, r in by_isa.items():
        for key in (f"{name}_nan_infer", f"{name}_nan_train"):
            np.testing.assert_array_equal(np.isnan(r[key]), np.isnan(ref[key]), err_msg=isa)
            np.testing.assert_allclose(r[key], ref[key], rtol=1e-6, atol=1e-7, err_msg=isa)
    assert np.isnan(ref[f"{name}_nan_infer"][0]).all()
    assert np.isfinite(ref[f"{name}_nan_infer"][1:]).all()


def test_gate_functions_are_accurate_over_the_float_range():
    # One step from h0 = 0: the pre-activations are x * W, spanning 1e-8 .. 1e3 in magnitude
    # with both signs, so every branch of exp / sigmoid / tanh is hit (tanh's polynomial below
    # 0.25, the clamps of exp); c and h within a few ulp of float64.
    units = 16 * 3 + 5
    mags = np.logspace(-8, 3, 97)
    z = np.concatenate([mags, -mags, [0.0, 0.25, -0.25, 0.2499999, 87.0, -87.0, 88.5, -88.5]])
    n = len(z)
    x = z.astype(np.float32).reshape(n, 1, 1)
    scale = np.random.default_rng(3).choice([1.0, -1.0, 0.5, -2.0, 0.125], (1, 4 * units))
    w = scale.astype(np.float32)
    u = np.zeros((units, 4 * units), np.float32)
    c0 = np.random.default_rng(4).standard_normal((n, units)).astype(np.float32)
    h0 = np.zeros((n, units), np.float32)
    got = cpu.rnn_infer("lstm", x, w, u, None, h0, c0, None, False, False)
    train = cpu.rnn_sequence("lstm", x, w, u, None, h0, c0, None, False, False)
    zz = x[:, 0, :].astype(np.float64) * w.astype(np.float64)
    def sig(v):
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-v))

    i, f = sig(zz[:, :units]), sig(zz[:, units:2 * units])
    g, o = np.tanh(zz[:, 2 * units:3 * units]), sig(zz[:, 3 * units:])
    gates = np.concatenate([i, f, g, o], 1)
    c = f * c0 + i * g
    h = o * np.tanh(c)
    np.testing.assert_allclose(train["gates"][:, 0], gates, rtol=6e-7, atol=1e-30)
    np.testing.assert_allclose(got["c_last"], c, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(got["h_last"], h, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(train["c_all"][:, 0], c, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_fused_results_do_not_depend_on_thread_count(cell):
    # 41 rows: per thread, whole 6-row tiles and a remainder tile; 67 units: a partial block
    g = 4 if cell == "lstm" else 3
    rng = np.random.default_rng(5)
    x = rng.standard_normal((41, 6, 20)).astype(np.float32)
    w = (rng.standard_normal((20, g * 67)) * 0.2).astype(np.float32)
    u = (rng.standard_normal((67, g * 67)) * 0.2).astype(np.float32)
    b = rng.standard_normal((g * 67,) if cell == "lstm" else (2, g * 67)).astype(np.float32)
    mask = rng.random((41, 6)) > 0.2

    def run():
        inf = cpu.rnn_infer(cell, x, w, u, b, None, None, mask, False, False, want_sequence=True)
        tr = cpu.rnn_sequence(cell, x, w, u, b, None, None, mask, False, False,
                              want_sequence=True)
        return [inf["y_seq"], inf["h_last"], tr["gates"], tr["h_all"]]

    outs = at_thread_counts(run)
    for other in outs[1:]:
        for a, b_ in zip(outs[0], other):
            np.testing.assert_array_equal(a, b_)
