"""nnforge._cuda builds, imports and behaves on any machine, GPU or not (never skipped for lack
of a GPU). CI sets NNFORGE_REQUIRE_CUDA=1 where nvcc exists, so a missing module fails there."""
from __future__ import annotations

import os

import pytest

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


def test_arguments_checked_before_any_cuda_call(cuda_ext):
    c = cuda_ext
    with pytest.raises(ValueError, match="'M' must be >= 0"):
        c.sgemm(0, 0, 0, -1, 2, 3, False, False, 1.0, 0.0, 3, 2, 2, 0)
    with pytest.raises(ValueError, match="null pointer"):
        c.sgemm(0, 0, 0, 2, 2, 3, False, False, 1.0, 0.0, 3, 2, 2, 0)
    with pytest.raises(ValueError, match="lda"):
        c.sgemm(256, 256, 256, 2, 2, 3, False, False, 1.0, 0.0, 2, 2, 2, 0)
    with pytest.raises(ValueError, match="aligned"):
        c.sgemm(258, 256, 256, 2, 2, 3, False, False, 1.0, 0.0, 3, 2, 2, 0)
    with pytest.raises(ValueError, match="precision"):
        c.sgemm(256, 256, 256, 2, 2, 3, False, False, 1.0, 0.0, 3, 2, 2, 0, "fp16")
    with pytest.raises(ValueError, match="overflow"):
        c.activation_forward(256, 256, 2 ** 62, 1, 0)
    with pytest.raises(ValueError, match="'act'"):
        c.activation_forward(256, 256, 4, 7, 0)
    with pytest.raises(ValueError, match=r"strides\[0\]"):
        c.conv2d_forward(256, 256, 0, 256, (1, 5, 5, 3), (3, 3, 3, 4), 0, (0, 1), (1, 1),
                         (0, 0), (3, 3), 0)
    with pytest.raises(ValueError, match="input channels"):
        c.conv2d_forward(256, 256, 0, 256, (1, 5, 5, 3), (3, 3, 2, 4), 0, (1, 1), (1, 1),
                         (0, 0), (3, 3), 0)
    with pytest.raises(ValueError, match="output height and width"):
        c.conv2d_forward(256, 256, 0, 256, (1, 5, 5, 3), (3, 3, 3, 4), 0, (1, 1), (1, 1),
                         (0, 0), (0, 3), 0)
    with pytest.raises(ValueError, match="workspace_bytes"):
        c.conv2d_forward(256, 256, 0, 256, (1, 5, 5, 3), (3, 3, 3, 4), 0, (1, 1), (1, 1),
                         (0, 0), (3, 3), 0, "fp32", 256, 4)
    with pytest.raises(ValueError, match="only padding"):
        c.max_pool2d_forward(256, 256, 0, (1, 4, 4, 1), (2, 2), (2, 2), (2, 2), (3, 3), 0)
    with pytest.raises(ValueError, match="'t' must be >= 1"):
        c.adam_update(256, 256, 256, 256, 0, 4, 1e-3, 0.9, 0.999, 1e-7, 0, 0)
    with pytest.raises(ValueError, match="velocity"):
        c.sgd_update(256, 256, 0, 4, 0.1, 0.9, False, 0)
    with pytest.raises(TypeError):
        c.sgemm(-256, 256, 256, 2, 2, 3, False, False, 1.0, 0.0, 3, 2, 2, 0)  # not a pointer
    # Empty work is a no-op that touches no device (works without a GPU too).
    c.sgemm(0, 0, 0, 0, 0, 0, False, False, 1.0, 0.0, 1, 1, 1, 0)
    c.activation_forward(0, 0, 0, 1, 0)
    c.conv2d_forward(0, 0, 0, 0, (0, 5, 5, 3), (3, 3, 3, 4), 0, (1, 1), (1, 1), (0, 0), (3, 3),
                     0)


def test_no_device_is_an_error_not_a_crash(cuda_ext):
    if cuda_ext.device_count() > 0:
        pytest.skip("a device is present (this checks the GPU-less path)")
    with pytest.raises(RuntimeError, match="CUDA error"):
        cuda_ext.sgemm(256, 256, 256, 2, 2, 3, False, False, 1.0, 0.0, 3, 2, 2, 0)
    with pytest.raises(RuntimeError, match="CUDA error"):
        cuda_ext.activation_forward(256, 256, 4, 1, 0)
    with pytest.raises(ValueError, match="does not exist"):
        cuda_ext.set_device(0)
    assert cuda_ext.device_count() == 0  # still answers after the failures


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
    assert gb.is_available() is False
