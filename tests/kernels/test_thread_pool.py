"""The kernels' chunk pool (cpp/src/thread_pool.h): every chunk runs once, results do not depend
on the thread count or on which thread runs a chunk, concurrent callers and forked children work,
and many back-to-back calls never lose a wake-up."""
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np

from nnforge import _cpu
from tests.helpers import at_thread_counts

RNG = np.random.default_rng(16)


def seed_cnn_kernels(x, w1, w2, dy2, a):
    """The parallel loops a seed CNN step runs: conv forward (im2col tiles, Winograd blocks),
    pooling forward and backward (row tasks), the filter gradient (groups), activation and
    sgemm (rectangles). Returns every output."""
    n = x.shape[0]
    y1 = np.empty((n, 30, 30, 32), np.float32)
    _cpu.conv2d_forward(x, w1, None, y1, 1, (1, 1), (1, 1), (0, 0))
    p1 = np.empty((n, 15, 15, 32), np.float32)
    am1 = np.empty(p1.shape, np.int32)
    _cpu.max_pool2d_forward(y1, p1, am1, (2, 2), (2, 2), (0, 0))
    y2 = np.empty((n, 13, 13, 64), np.float32)
    _cpu.conv2d_forward(p1, w2, None, y2, 1, (1, 1), (1, 1), (0, 0))
    dz2 = np.empty_like(y2)
    _cpu.activation_backward(y2, dy2, dz2, 1)
    dw2 = np.empty_like(w2)
    db2 = np.empty(64, np.float32)
    _cpu.conv2d_backward_filter(p1, dz2, dw2, db2, (1, 1), (1, 1), (0, 0))
    dp1 = np.empty_like(p1)
    _cpu.conv2d_backward_input(dz2, w2, dp1, (1, 1), (1, 1), (0, 0))
    dy1 = np.empty_like(y1)
    _cpu.max_pool2d_backward(dp1, am1, dy1)
    c = np.empty((a.shape[0], a.shape[0]), np.float32)
    _cpu.sgemm(a, a, c, False, True)
    return y1, p1, am1, y2, dz2, dw2, db2, dp1, dy1, c


def inputs(n=8):
    return (RNG.standard_normal((n, 32, 32, 3)).astype(np.float32),
            (RNG.standard_normal((3, 3, 3, 32)) * 0.3).astype(np.float32),
            (RNG.standard_normal((3, 3, 32, 64)) * 0.1).astype(np.float32),
            RNG.standard_normal((n, 13, 13, 64)).astype(np.float32),
            RNG.standard_normal((200, 300)).astype(np.float32))


def test_results_bitwise_the_same_for_any_thread_count():
    args = inputs()
    first, *others = at_thread_counts(lambda: seed_cnn_kernels(*args), (1, 2, 3, 5))
    for other in others:
        for a, b in zip(first, other):
            assert a.tobytes() == b.tobytes()


def test_concurrent_callers_get_their_own_results():
    # Kernels release the GIL: four Python threads call them at once. One of them holds the
    # pool; the others run their chunks on their own thread. Every result is still exact.
    args = inputs(4)
    want = at_thread_counts(lambda: seed_cnn_kernels(*args), (1,))[0]
    errors = []

    def worker():
        try:
            for _ in range(5):
                for a, b in zip(want, seed_cnn_kernels(*args)):
                    if a.tobytes() != b.tobytes():
                        errors.append("mismatch")
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a caller hangs"
    assert errors == []


def run_script(code: str) -> str:
    # The child imports the nnforge this process imported (installed, or a source tree with
    # its built modules), wherever that is.
    import nnforge
    pkg_parent = str(Path(nnforge.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    env = dict(os.environ, PYTHONPATH=pkg_parent + (os.pathsep + path if path else ""))
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, timeout=300,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_forked_child_starts_its_own_workers():
    # The parent's pool workers do not exist in a forked child: the child must not wait for them.
    out = run_script("""
        import os, numpy as np
        from nnforge import _cpu
        _cpu.set_num_threads(2)
        x = np.random.default_rng(0).standard_normal((64, 30, 30, 32)).astype(np.float32)
        def pool():
            y = np.empty((64, 15, 15, 32), np.float32)
            am = np.empty(y.shape, np.int32)
            _cpu.max_pool2d_forward(x, y, am, (2, 2), (2, 2), (0, 0))
            return y
        want = pool()  # the parent's workers exist now
        pid = os.fork()
        if pid == 0:
            ok = all(np.array_equal(pool(), want) for _ in range(20))
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), np.array_equal(pool(), want))
    """)
    assert out.split() == ["0", "True"]


def test_many_back_to_back_calls():
    # Thousands of short parallel calls in a row: a lost wake-up would hang (the subprocess
    # times out) and a chunk run twice or never would change the sums.
    out = run_script("""
        import numpy as np
        from nnforge import _cpu
        for threads in (2, 3):
            _cpu.set_num_threads(threads)
            rng = np.random.default_rng(threads)
            y = rng.standard_normal((32, 15, 15, 32)).astype(np.float32)
            dy = rng.standard_normal(y.shape).astype(np.float32)
            want = dy * (y > 0)
            dx = np.empty_like(y)
            for _ in range(3000):
                dx.fill(np.nan)
                _cpu.activation_backward(y, dy, dx, 1)
                if not np.array_equal(dx, want):
                    raise SystemExit("wrong result")
        print("ok")
    """)
    assert out.strip() == "ok"
