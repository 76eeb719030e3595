"""Interleaved A/B of the pooling and relu-backward kernels of two builds of nnforge._cpu, both
loaded in one process (old = the package dir argv[1], new = argv[2]), at the seed CNN's shapes
(batch 32 training, batch 256 predict) and a general 3x3 stride-2 'same' window. Outputs are
allocated per call as nnforge.backend.cpu does; the old build gets an int32 argmax, the new one a
uint8 one (what each backend allocates). Each repetition runs both on different buffers (neither
on the other's hot data), in alternating order; the medians, their ratio and the new build's
bytes moved per second are printed. FILT=substring keeps only matching rows; OLD_U8=1 gives the old
build a uint8 argmax too (to compare two builds that both have it).

    cp -r python/nnforge /tmp/pool_base/   # before the change (with its _cpu*.so)
    /work/quiet.sh python benchmarks/ab_pool.py /tmp/pool_base python
"""
import sys, time, os, importlib.util, glob
import numpy as np
def load(d, name):
    so = glob.glob(os.path.join(d, "nnforge", "_cpu*.so"))[0]
    spec = importlib.util.spec_from_file_location(name + "._cpu", so)
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
old, new = load(sys.argv[1], "old"), load(sys.argv[2], "new")
OLD_ARG = np.uint8 if os.environ.get("OLD_U8") == "1" else np.int32
R = 6
rng = np.random.default_rng(0)
FILT = os.environ.get("FILT", "")
def ab(name, f_old, f_new, reps, nbytes):
    if FILT not in name: return
    f_old(0); f_new(0)
    to, tn = [], []
    for r in range(reps):
        i, j = r % R, (r + R // 2) % R  # different buffers: neither runs on the other's hot data
        if r % 2:
            t0 = time.perf_counter(); f_old(i); t1 = time.perf_counter(); f_new(j); t2 = time.perf_counter()
            to.append(t1 - t0); tn.append(t2 - t1)
        else:
            t0 = time.perf_counter(); f_new(j); t1 = time.perf_counter(); f_old(i); t2 = time.perf_counter()
            tn.append(t1 - t0); to.append(t2 - t1)
    mo, mn = np.median(to), np.median(tn)
    print(f"{name:18s} old {mo*1e6:8.1f} us  new {mn*1e6:8.1f} us  x{mo/mn:5.2f}  new {nbytes/mn/1e9:5.1f} GB/s")
P, S, Z = (2, 2), (2, 2), (0, 0)
for tag, N, H, OH, C in [("pool1 b32", 32, 30, 15, 32), ("pool2 b32", 32, 13, 6, 64), ("pool1 b256", 256, 30, 15, 32), ("pool2 b256", 256, 13, 6, 64)]:
    xs = [rng.standard_normal((N, H, H, C)).astype(np.float32) for _ in range(R)]
    ysh = (N, OH, OH, C)
    reps = 300 if N == 32 else 40
    nx, ny = xs[0].nbytes, 4 * N * OH * OH * C
    def fwd(m, dt):
        def f(i):
            y = np.empty(ysh, np.float32); a = np.empty(ysh, dt) if dt else None
            m.max_pool2d_forward(xs[i], y, a, P, S, Z)
        return f
    ab(f"{tag} max fwd" + (" (no arg)" if N == 256 else ""), fwd(old, None if N == 256 else OLD_ARG), fwd(new, None if N == 256 else np.uint8), reps, nx + ny + (0 if N == 256 else ny // 4))
    if N == 256:
        continue
    am_o, am_n = [], []
    for x in xs:
        y = np.empty(ysh, np.float32); a = np.empty(ysh, OLD_ARG); old.max_pool2d_forward(x, y, a, P, S, Z); am_o.append(a)
        a8 = np.empty(ysh, np.uint8); new.max_pool2d_forward(x, y, a8, P, S, Z); am_n.append(a8)
    dys = [rng.standard_normal(ysh).astype(np.float32) for _ in range(R)]
    def bwd(m, ams):
        def f(i):
            dx = np.empty_like(xs[i]); m.max_pool2d_backward(dys[i], ams[i], dx, P, S, Z)
        return f
    ab(f"{tag} max bwd", bwd(old, am_o), bwd(new, am_n), reps, nx + ny + ny // 4)
    def afwd(m):
        def f(i):
            y = np.empty(ysh, np.float32); m.avg_pool2d_forward(xs[i], y, P, S, Z)
        return f
    ab(f"{tag} avg fwd", afwd(old), afwd(new), reps, nx + ny)
    def abwd(m):
        def f(i):
            dx = np.empty_like(xs[i]); m.avg_pool2d_backward(dys[i], dx, P, S, Z)
        return f
    ab(f"{tag} avg bwd", abwd(old), abwd(new), reps, nx + ny)
# general geometry: 3x3 stride 2 'same' (overlapping windows, padding at bottom/right)
xs = [rng.standard_normal((32, 30, 30, 32)).astype(np.float32) for _ in range(R)]
P3, S3, Z3, ysh = (3, 3), (2, 2), (0, 0), (32, 15, 15, 32)
def fwd3(m, dt):
    def f(i):
        y = np.empty(ysh, np.float32); a = np.empty(ysh, dt)
        m.max_pool2d_forward(xs[i], y, a, P3, S3, Z3)
    return f
ab("3x3s2 b32 max fwd", fwd3(old, OLD_ARG), fwd3(new, np.uint8), 200, xs[0].nbytes)
am_o, am_n = [], []
for x in xs:
    y = np.empty(ysh, np.float32); a = np.empty(ysh, OLD_ARG); old.max_pool2d_forward(x, y, a, P3, S3, Z3); am_o.append(a)
    a8 = np.empty(ysh, np.uint8); new.max_pool2d_forward(x, y, a8, P3, S3, Z3); am_n.append(a8)
dys3 = [rng.standard_normal(ysh).astype(np.float32) for _ in range(R)]
def bwd3(m, ams):
    def f(i):
        dx = np.empty_like(xs[i]); m.max_pool2d_backward(dys3[i], ams[i], dx, P3, S3, Z3)
    return f
ab("3x3s2 b32 max bwd", bwd3(old, am_o), bwd3(new, am_n), 200, xs[0].nbytes)
def avg3(m):
    def f(i):
        dx = np.empty_like(xs[i]); m.avg_pool2d_backward(dys3[i], dx, P3, S3, Z3)
    return f
ab("3x3s2 b32 avg bwd", avg3(old), avg3(new), 200, xs[0].nbytes)
ys = [np.maximum(rng.standard_normal((32, 13, 13, 64)).astype(np.float32), 0) for _ in range(R)]
dys = [rng.standard_normal((32, 13, 13, 64)).astype(np.float32) for _ in range(R)]
def rb(m):
    def f(i):
        dx = np.empty_like(dys[i]); m.activation_backward(ys[i], dys[i], dx, 1)
    return f
ab("relu bwd (32,13,13,64)", rb(old), rb(new), 300, 3 * ys[0].nbytes)
