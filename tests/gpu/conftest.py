"""GPU tests. Files marked ``pytestmark = pytest.mark.no_gpu`` (the build, the binding validation
through fake CUDA arrays, the reduced-precision emulation and tolerance logic) run everywhere.
Every other test here needs CuPy, nnforge._cuda and a usable CUDA device:

* no GPU at all: skipped (not failed);
* a GPU that is present but unusable (a driver too old for the CUDA runtime nnforge._cuda links,
  so it sees no device while CuPy or the kernel driver does; or a compute capability below the
  oldest this build has code for): FAILED, with the reason, instead of skipped, so
  tools/gpu_check.sh cannot report success on a machine whose GPU was never used.

NNFORGE_GPU_TESTS_DRY_RUN=1 runs the kernel tests with the CPU backend standing in for the CUDA
one (tests that need CuPy itself still skip). It proves nothing about the CUDA kernels; it checks
the tests' own plumbing (shapes, arguments, references) on a machine without a GPU."""
from __future__ import annotations

import os

import numpy as np
import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
DRY_RUN = os.environ.get("NNFORGE_GPU_TESTS_DRY_RUN") == "1"
_state = None  # (ready, reason the present GPU is unusable or None)


def gpu_state():
    """(ready, unusable_reason): whether the CUDA backend can run, and why a present GPU cannot."""
    global _state
    if _state is None:
        try:
            import cupy  # noqa: F401
            from nnforge.backend import cuda as gb
        except Exception:  # no CuPy or no nnforge._cuda
            _state = (False, None)
            return _state
        try:
            reason = gb.unusable_reason()
        except Exception as e:  # the probe itself failed on a present GPU
            reason = f"probing the GPU failed: {type(e).__name__}: {e}"
        ready = reason is None and gb._cuda is not None and gb._cuda.device_count() > 0
        _state = (ready, reason)
    return _state


def gpu_ready() -> bool:
    return gpu_state()[0]


def pytest_configure(config):
    config.addinivalue_line("markers", "no_gpu: a tests/gpu test that runs without a GPU")
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
        if os.path.dirname(path) != _HERE or item.get_closest_marker("no_gpu"):
            continue
        item.add_marker(pytest.mark.gpu)
        ready, reason = gpu_state()
        if reason is None and not ready and not DRY_RUN:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fail_on_unusable_gpu(request):
    """A GPU test on a machine whose GPU is present but unusable fails, with the reason."""
    if request.node.get_closest_marker("gpu") is not None:
        reason = gpu_state()[1]
        if reason is not None:
            pytest.fail(f"a GPU is present but unusable: {reason}", pytrace=False)


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


@pytest.fixture(scope="module")
def c():
    """nnforge._cuda for the binding tests (they run without a GPU); skipped where it is not
    built."""
    try:
        from nnforge import _cuda
    except ImportError as e:
        pytest.skip(f"nnforge._cuda not built: {e}")
    return _cuda
