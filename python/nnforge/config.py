"""Run-time settings: CPU threads, the device, and Keras's floatx/epsilon."""
from __future__ import annotations

_floatx = "float32"
_epsilon = 1e-7


def set_num_threads(n: int) -> None:
    """Number of threads the CPU kernels use (default: the cores this process may use)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    from nnforge import _cpu
    _cpu.set_num_threads(n)


def get_num_threads() -> int:
    from nnforge import _cpu
    return int(_cpu.get_num_threads())


def cpu_isa() -> str:
    """The CPU instruction set the GEMM kernels picked at run time."""
    from nnforge import _cpu
    return _cpu.cpu_isa()


def set_device(name: str) -> None:
    """Where new weights and tensors live: 'cpu' or 'cuda'."""
    from nnforge import backend
    backend.set_device(name)


def get_device() -> str:
    from nnforge import backend
    return backend.get_device()


def floatx() -> str:
    return _floatx


def set_floatx(value: str) -> None:
    if value != "float32":
        raise ValueError(f"set_floatx: only 'float32' is supported, got {value!r}")


def epsilon() -> float:
    return _epsilon


def set_epsilon(value: float) -> None:
    global _epsilon
    _epsilon = float(value)


def image_data_format() -> str:
    return "channels_last"
