"""GPU tests: every test in tests/gpu except test_build.py needs CuPy, nnforge._cuda and a CUDA
device, and is skipped (not failed) without them. test_build.py runs everywhere.

NNFORGE_GPU_TESTS_DRY_RUN=1 runs the kernel tests with the CPU backend standing in for the CUDA
one (tests that need CuPy itself still skip). It proves nothing about the CUDA kernels; it checks
the tests' own plumbing (shapes, arguments, references) on a machine without a GPU."""
from __future__ import annotations

import os

import numpy as np
import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_ALWAYS = {"test_build.py"}
DRY_RUN = os.environ.get("NNFORGE_GPU_TESTS_DRY_RUN") == "1"
_ready = None


def gpu_ready() -> bool:
    global _ready
    if _ready is None:
        try:
            import cupy  # noqa: F401
            from nnforge.backend import cuda as gb
            _ready = bool(gb.is_available())
        except Exception:
            _ready = False
    return _ready


def pytest_configure(config):
    # NNFORGE_CUPY_NO_POOL=1 (set by tools/gpu_check.sh under compute-sanitizer): every CuPy
    # array gets its own cudaMalloc, so memcheck sees an out-of-bounds access at the edge of the
    # array instead of inside a pooled block.
    if os.environ.get("NNFORGE_CUPY_NO_POOL") == "1":
        try:
            import cupy
            cupy.cuda.set_allocator(None)
            cupy.cuda.set_pinned_memory_allocator(None)
        except Exception:
            pass


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs CuPy, nnforge._cuda and a CUDA device")
    for item in items:
        path = os.path.abspath(str(item.fspath))
        if os.path.dirname(path) != _HERE or os.path.basename(path) in _ALWAYS:
            continue
        item.add_marker(pytest.mark.gpu)
        if not gpu_ready() and not DRY_RUN:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def gb():
    """nnforge.backend.cuda, with its matmul precision restored after the test (the CPU backend
    in a dry run)."""
    if DRY_RUN and not gpu_ready():
        from nnforge.backend import cpu
        yield cpu
        return
    from nnforge.backend import cuda
    saved = cuda.get_matmul_precision()
    yield cuda
    cuda.set_matmul_precision(saved)


@pytest.fixture
def raw():
    """(nnforge._cuda, cupy) for tests that call the extension directly; skipped in a dry run."""
    if not gpu_ready():
        pytest.skip("calls nnforge._cuda on a device")
    import cupy
    from nnforge import _cuda
    return _cuda, cupy


@pytest.fixture
def cb():
    from nnforge.backend import cpu
    return cpu
