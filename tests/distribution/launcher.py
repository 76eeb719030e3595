"""Helpers to launch ``tests/distribution/_worker.py`` under ``mpiexec`` from pytest."""
import os
import shutil
import subprocess
import sys
import time

import pytest

import nnforge

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def mpiexec() -> str:
    """The ``mpiexec`` of this Python's environment (the ``mpich`` wheel puts it next to
    ``python``), else the one on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = local if os.path.exists(local) else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec (pip install '.[distributed]')")
    return found


def env() -> dict:
    e = dict(os.environ)
    e["OMP_NUM_THREADS"] = "1"  # one thread per process: the tests run several at once
    # the nnforge this test process imported (the installed package in CI, python/ in a
    # development tree), so the workers run the same build
    e["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.dirname(os.path.dirname(
        nnforge.__file__)), e.get("PYTHONPATH")) if p)
    return e


def launch(nprocs, args, out, script="_worker.py", timeout=150):
    """Run ``script`` with ``args`` on ``nprocs`` processes (``None``: plainly, without MPI).
    Returns ``(returncode, stdout, stderr, end_time)``; a job that outlives ``timeout`` seconds
    fails the test instead of hanging it."""
    cmd = [sys.executable, os.path.join(HERE, script), "--out", str(out)] + list(args)
    if nprocs is not None:
        cmd = [mpiexec(), "-n", str(nprocs)] + cmd
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env(),
                           cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(cmd)} did not end within {timeout} s:\n{e.stdout}\n{e.stderr}")
    return r.returncode, r.stdout, r.stderr, time.time()
