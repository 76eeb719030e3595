"""Cache sizes read at run time (nnforge._cpu.cache_sizes) and the sgemm N block derived from the
L2 size (gemm_blocking): plausible values, the documented rule, and results that do not depend on
the blocking (NC cuts N, never K)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nnforge import _cpu

PROBE = """
import hashlib, json, numpy as np
from nnforge import _cpu
rng = np.random.default_rng(3)
out = {}
for m, k, n in ((300, 700, 1100), (64, 2048, 1000), (5, 9, 2000)):
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = np.empty((m, n), np.float32)
    _cpu.sgemm(a, b, c, False, False, 1.0, 0.0)
    out[f"{m}x{k}x{n}"] = hashlib.sha256(c.tobytes()).hexdigest()
print(json.dumps({"blocking": _cpu.gemm_blocking(), "caches": _cpu.cache_sizes(), "hashes": out}))
"""


def probe(**env) -> dict:
    full = dict(os.environ, **env)
    out = subprocess.run([sys.executable, "-c", PROBE], env=full, capture_output=True, text=True,
                         check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cache_sizes_are_plausible():
    c = _cpu.cache_sizes()
    assert set(c) == {"l1d", "l2", "l3"}
    if c["l1d"]:
        assert 8 * 1024 <= c["l1d"] <= 1024 * 1024
    if c["l2"]:
        assert 128 * 1024 <= c["l2"] <= 64 * 1024 * 1024
        assert not c["l1d"] or c["l2"] > c["l1d"]


def test_blocking_follows_the_l2_size_and_results_do_not():
    runs = {size: probe(NNFORGE_L2_BYTES=size) for size in ("1M", "2M", "256K")}
    for size, nbytes in (("1M", 1 << 20), ("2M", 2 << 20), ("256K", 256 << 10)):
        b, caches = runs[size]["blocking"], runs[size]["caches"]
        assert caches["l2"] == nbytes
        share = 0.375 if b["isa"] == "avx512" else 0.25
        want = max(b["NR"], int(share * nbytes) // (4 * b["KC"]) // b["NR"] * b["NR"])
        assert b["NC"] == want, (size, b)
        assert b["NC"] % b["NR"] == 0
    if runs["1M"]["blocking"]["isa"] == "avx512":
        assert runs["1M"]["blocking"]["NC"] == 192  # the value tuned on a 1 MiB L2 (Zen 5)
    assert len({r["blocking"]["NC"] for r in runs.values()}) == 3
    hashes = [r["hashes"] for r in runs.values()]
    assert all(h == hashes[0] for h in hashes), "sgemm results changed with the N block"


@pytest.mark.parametrize("isa", ["avx2", "generic"])
def test_other_kernel_sets_follow_the_rule(isa):
    r = probe(NNFORGE_ISA=isa, NNFORGE_L2_BYTES="1M")
    b = r["blocking"]
    if b["isa"] != isa:
        pytest.skip(f"this CPU cannot run the {isa} kernels")
    assert b["NC"] == 256  # their tuned value on a 1 MiB L2
    wide = probe(NNFORGE_ISA=isa, NNFORGE_L2_BYTES="4M")
    assert wide["blocking"]["NC"] == 1024
    assert wide["hashes"] == r["hashes"], "sgemm results changed with the N block"
