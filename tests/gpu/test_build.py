"""nnforge._cuda builds, imports and behaves on any machine, GPU or not (never skipped for lack
of a GPU). CI sets NNFORGE_REQUIRE_CUDA=1 where nvcc exists, so a missing module fails there."""
from __future__ import annotations

import os

import pytest

from tests.gpu.test_cuda_bindings_validation import FakeCudaArray

pytestmark = pytest.mark.no_gpu
REQUIRE = os.environ.get("NNFORGE_REQUIRE_CUDA") == "1"


@pytest.fixture(scope="module")
def cuda_ext():
    try:
        from nnforge import _cuda
    except ImportError as e:
        if REQUIRE:
            pytest.fail(f"NNFORGE_REQUIRE_CUDA=1 but nnforge._cuda does not import: {e}")
        pytest.skip(f"nnforge._cuda not built (no CUDA compiler at install time): {e}")
    return _cuda


def test_module_imports_and_counts_devices(cuda_ext):
    assert cuda_ext.is_built() is True
    n = cuda_ext.device_count()
    assert isinstance(n, int) and n >= 0
    rt = cuda_ext.runtime_version()
    assert isinstance(rt, int) and rt >= 11020  # cudaMallocAsync needs 11.2
    drv = cuda_ext.driver_version()
    assert isinstance(drv, int) and drv >= 0
    if n == 0:
        assert cuda_ext.tensor_cores_used("tf32") is False


def test_runtime_is_linked_statically(cuda_ext):
    """The module must import without libcudart.so on the library path."""
    path = cuda_ext.__file__
    with open(path, "rb") as f:
        data = f.read()
    assert b"libcudart.so" not in data, f"{path} links the CUDA runtime dynamically"


def test_no_device_is_an_error_not_a_crash(cuda_ext):
    if cuda_ext.device_count() > 0:
        pytest.skip("a device is present (this checks the GPU-less path)")
    # Valid (fake) arrays pass every check and reach the launch, which reports the missing
    # device as RuntimeError; nothing is ever dereferenced.
    a, b = FakeCudaArray((2, 3)), FakeCudaArray((3, 2))
    with pytest.raises(RuntimeError, match="CUDA error"):
        cuda_ext.sgemm(a, b, FakeCudaArray((2, 2)))
    with pytest.raises(RuntimeError, match="CUDA error"):
        cuda_ext.activation_forward(FakeCudaArray((4,)), FakeCudaArray((4,)), 1)
    # Empty work is a no-op that needs no device.
    cuda_ext.sgemm(FakeCudaArray((0, 3)), b, FakeCudaArray((0, 2)))
    cuda_ext.activation_forward(FakeCudaArray((0,)), FakeCudaArray((0,)), 1)
    with pytest.raises(ValueError, match="does not exist"):
        cuda_ext.set_device(0)
    assert cuda_ext.device_count() == 0  # still answers after the failures
    assert cuda_ext.min_compute_capability() >= (7, 5)  # CUDA 12/13 target nothing older


def test_backend_falls_back_to_cpu_without_device(cuda_ext):
    import nnforge.backend as backend
    if cuda_ext.device_count() > 0:
        pytest.skip("a device is present")
    assert backend.cuda_available() is False
    assert backend.get_device() == "cpu"
    with pytest.raises(RuntimeError, match="no usable GPU"):
        backend.set_device("cuda")
    try:
        import cupy  # noqa: F401
    except ImportError:
        return
    from nnforge.backend import cuda as gb
    if gb.unusable_reason() is None:  # no GPU at all: quietly unavailable
        assert gb.is_available() is False
