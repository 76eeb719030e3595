"""Interleaved A/B of the whole-sequence recurrent kernels (rnn_forward, rnn_backward, rnn_infer)
of two builds of nnforge._cpu, both loaded in one process (old = the package dir argv[1], new =
argv[2]), at the text benchmark's shapes (batch 32, 100 steps, 64 features, 64 units; inference
also at batch 256) with Keras-like initial weights (glorot kernel, orthogonal recurrent kernel).
Each repetition runs both builds on their own buffers in alternating order; medians and the ratio
old/new are printed per cell (lstm, gru, grub = GRU reset_after=False), and a line DIFF where the
two builds' saved gates / states or gradients differ by more than 1e-5 (relative for gradients).
COLD=1 gives the forward fresh output buffers and streams 12 MB between timed calls.

    cp -r python/nnforge /tmp/rnn_base/nnforge    # before the change (with its _cpu*.so)
    /work/quiet.sh python benchmarks/ab_rnn.py /tmp/rnn_base python 40 lstm,gru,grub
"""
import glob
import importlib.util
import os
import sys
import time

import numpy as np


def load(d, name):
    so = glob.glob(os.path.join(d, "nnforge", "_cpu*.so"))[0]
    spec = importlib.util.spec_from_file_location(name + "._cpu", so)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


old, new = load(sys.argv[1], "oldp"), load(sys.argv[2], "newp")
COLD = bool(os.environ.get("COLD"))
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 40
cells = sys.argv[4].split(",") if len(sys.argv) > 4 else ["lstm"]
rng = np.random.default_rng(0)
N, T, D, H = 32, 100, 64, 64
for cell in cells:
    ra = cell != "grub"; code = 0 if cell == "lstm" else 1
    G = 4 if cell == "lstm" else 3
    x = rng.uniform(-0.05, 0.05, (N, T, D)).astype(np.float32)
    w = rng.uniform(-np.sqrt(6/(D+G*H)), np.sqrt(6/(D+G*H)), (D, G*H)).astype(np.float32)
    u = np.linalg.qr(rng.standard_normal((G*H, H)))[0].T.copy().astype(np.float32)
    b = (rng.standard_normal((2, G*H) if (code == 1 and ra) else (G*H,)) * .1).astype(np.float32)
    dyl = rng.standard_normal((N, H)).astype(np.float32)
    def bufs():
        return dict(gates=np.empty((N, T, G*H), np.float32), aux=np.empty((N, T, H), np.float32) if code else None,
                    h_all=np.empty((N, T, H), np.float32), c_all=None if code else np.empty((N, T, H), np.float32))
    sv = {k: bufs() for k in ("old", "new")}
    args = (code, ra, x, w, u, b, None, None, None, False, False)
    yl = np.empty((N, H), np.float32)
    junk = np.ones(3 << 20, np.float32)  # 12 MB: evicts both L2s between timed calls
    def evict(): junk.sum() if COLD else None
    def fwd(m, s):
        if COLD: s.update(bufs())
        m.rnn_forward(*args, s["gates"], s["aux"], s["h_all"], s["c_all"], None, yl)
    gr = {k: (np.empty_like(x), np.empty_like(w), np.empty_like(u), np.empty_like(b)) for k in ("old", "new")}
    def bwd(m, s, g): m.rnn_backward(*args, s["gates"], s["aux"], s["h_all"], s["c_all"], None, dyl, None, None, *g, None, None)
    xb = rng.standard_normal((256, T, D)).astype(np.float32) * 0.1
    y32, y256 = np.empty((N, H), np.float32), np.empty((256, H), np.float32)
    def inf(m): m.rnn_infer(*args, None, y32, None, None)
    def inf256(m): m.rnn_infer(code, ra, xb, w, u, b, None, None, None, False, False, None, y256, None, None)
    res = {}
    for k, m in (("old", old), ("new", new)):
        fwd(m, sv[k]); bwd(m, sv[k], gr[k])
    outs = {}
    for name, f in (("fwd", lambda k, m: fwd(m, sv[k])), ("bwd", lambda k, m: bwd(m, sv[k], gr[k])),
                    ("inf32", lambda k, m: inf(m)), ("inf256", lambda k, m: inf256(m))):
        ts = {"old": [], "new": []}
        n = reps if name != "inf256" else max(4, reps // 5)
        for i in range(n):
            for k, m in (("old", old), ("new", new)) if i % 2 == 0 else (("new", new), ("old", old)):
                evict(); t0 = time.perf_counter(); f(k, m); ts[k].append(time.perf_counter() - t0)
        o, nw = np.median(ts["old"]) * 1e6, np.median(ts["new"]) * 1e6
        outs[name] = f"{name} {o:6.0f}->{nw:6.0f} ({o / nw:4.2f}x)"
    print(f"{cell:5s} " + "  ".join(outs.values()), flush=True)
    # results close?
    for k, a, bb in (("gates", sv["old"]["gates"], sv["new"]["gates"]), ("h_all", sv["old"]["h_all"], sv["new"]["h_all"])):
        d = np.abs(a - bb).max()
        if d > 1e-5: print("   DIFF", k, d)
    for i, nm in enumerate(("dx", "dw", "du", "db")):
        a, bb = gr["old"][i], gr["new"][i]
        d = np.abs(a - bb).max() / (np.abs(a).max() + 1e-30)
        if d > 1e-5: print("   DIFF", nm, d)
