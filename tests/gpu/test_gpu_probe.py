"""A GPU that is present but unusable is reported loudly, never taken for "no GPU" (#18 item 8):
nnforge.backend.cuda.unusable_reason() and is_available() against stand-ins for CuPy and
nnforge._cuda that play the two failure modes (a driver older than the CUDA runtime that
nnforge._cuda links statically, which makes the runtime report no device at all; a compute
capability below the oldest the build has code for). Runs without a GPU or CuPy."""
from __future__ import annotations

import importlib
import sys
import types

import pytest

pytestmark = pytest.mark.no_gpu


class FakeCuda:
    """nnforge._cuda's runtime queries."""

    def __init__(self, devices=1, cc=(9, 0), driver=13000, runtime=13000):
        self.devices, self.cc, self.driver, self.runtime = devices, cc, driver, runtime

    def device_count(self):
        return self.devices

    def driver_version(self):
        return self.driver

    def runtime_version(self):
        return self.runtime

    def compute_capability(self, device=0):
        return self.cc

    def min_compute_capability(self):
        return (7, 5)


def fake_cupy(devices):
    def count():
        if devices is None:
            raise RuntimeError("cudaErrorInsufficientDriver")
        return devices

    runtime = types.SimpleNamespace(getDeviceCount=count, getDevice=lambda: 0)
    mod = types.ModuleType("cupy")
    mod.cuda = types.SimpleNamespace(runtime=runtime)
    mod.ndarray = type("ndarray", (), {})
    return mod


@pytest.fixture
def backend_cuda(monkeypatch):
    """nnforge.backend.cuda imported against a stand-in CuPy; returns a setter for the fakes.
    Afterwards the real module (or its absence) is restored, attribute on the package included."""
    import nnforge.backend as pkg
    saved_module = sys.modules.get("nnforge.backend.cuda")
    saved_attr = pkg.__dict__.get("cuda")

    def load(cupy_devices, ext, proc_gpus=0):
        monkeypatch.setitem(sys.modules, "cupy", fake_cupy(cupy_devices))
        monkeypatch.delitem(sys.modules, "nnforge.backend.cuda", raising=False)
        mod = importlib.import_module("nnforge.backend.cuda")
        monkeypatch.setattr(mod, "_cuda", ext)
        real_listdir = mod.os.listdir

        def listdir(path):
            if path == "/proc/driver/nvidia/gpus":
                if not proc_gpus:
                    raise FileNotFoundError(path)
                return [f"0000:{i:02x}:00.0" for i in range(proc_gpus)]
            return real_listdir(path)

        monkeypatch.setattr(mod.os, "listdir", listdir)
        return mod

    yield load
    sys.modules.pop("nnforge.backend.cuda", None)
    if saved_module is not None:
        sys.modules["nnforge.backend.cuda"] = saved_module
    if saved_attr is not None:
        pkg.cuda = saved_attr
    else:
        pkg.__dict__.pop("cuda", None)


def test_driver_older_than_the_runtime_is_loud(backend_cuda):
    # The statically linked CUDA 13.0 runtime sees no device under a CUDA 12.4 driver, while
    # CuPy (its own runtime) sees the GPU.
    mod = backend_cuda(1, FakeCuda(devices=0, driver=12040, runtime=13000))
    reason = mod.unusable_reason()
    assert reason is not None
    assert "driver supports CUDA 12.4" in reason and "CUDA 13.0" in reason
    with pytest.warns(RuntimeWarning, match="not using the GPU: .*driver supports CUDA 12.4"):
        assert mod.is_available() is False


def test_driver_too_old_for_cupy_too_is_still_seen(backend_cuda):
    # CuPy fails as well; the kernel driver still lists the GPU under /proc.
    mod = backend_cuda(None, FakeCuda(devices=0, driver=11080), proc_gpus=2)
    reason = mod.unusable_reason()
    assert reason is not None and reason.startswith("2 NVIDIA GPU(s) present")
    with pytest.warns(RuntimeWarning):
        assert mod.is_available() is False


def test_compute_capability_below_the_build_is_loud(backend_cuda):
    mod = backend_cuda(1, FakeCuda(cc=(7, 0)))
    reason = mod.unusable_reason()
    assert reason is not None and "compute capability 7.0" in reason and "7.5" in reason
    with pytest.warns(RuntimeWarning, match="compute capability 7.0"):
        assert mod.is_available() is False


def test_usable_gpu_and_no_gpu_are_quiet(backend_cuda, recwarn):
    mod = backend_cuda(1, FakeCuda(cc=(9, 0)))
    assert mod.unusable_reason() is None and mod.is_available() is True
    mod = backend_cuda(None, FakeCuda(devices=0, driver=0))
    assert mod.unusable_reason() is None and mod.is_available() is False
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
