"""nnforge.backend: the only package that knows NumPy from CuPy and calls the extensions.

``backend.cpu`` (NumPy arrays, ``nnforge._cpu``) and ``backend.cuda`` (CuPy arrays,
``nnforge._cuda``) implement the same array functions with the same signatures. ``of(x)`` picks the
module for an array; ``current()`` is the one new tensors are created on (``set_device``).
"""
from __future__ import annotations

from types import ModuleType
from typing import Optional

import numpy as np

from . import cpu

_cuda: Optional[ModuleType] = None
_cuda_checked = False
_device: Optional[str] = None  # None: automatic (cuda when usable, else cpu)


def _load_cuda() -> Optional[ModuleType]:
    global _cuda, _cuda_checked
    if not _cuda_checked:
        _cuda_checked = True
        try:
            from . import cuda as _mod  # needs CuPy and nnforge._cuda
            _cuda = _mod if _mod.is_available() else None
        except Exception:  # no CuPy, no module, or no device: the CPU it is
            _cuda = None
    return _cuda


def cuda_available() -> bool:
    """True when CuPy, ``nnforge._cuda`` and a CUDA device are all present."""
    return _load_cuda() is not None


def set_device(name: str) -> None:
    """Choose where new tensors and model weights live: ``'cpu'`` or ``'cuda'``."""
    global _device
    if name not in ("cpu", "cuda", "gpu"):
        raise ValueError(f"set_device: device must be 'cpu' or 'cuda', got {name!r}")
    if name in ("cuda", "gpu"):
        if not cuda_available():
            raise RuntimeError(
                "set_device('cuda'): no usable GPU (needs CuPy, nnforge._cuda built with nvcc, "
                "and an NVIDIA device)")
        name = "cuda"
    _device = name


def get_device() -> str:
    if _device is None:
        return "cuda" if cuda_available() else "cpu"
    return _device


def current() -> ModuleType:
    """The backend module that new tensors are created with."""
    return _load_cuda() if get_device() == "cuda" else cpu  # type: ignore[return-value]


def of(x) -> ModuleType:
    """The backend module that owns array ``x``."""
    if isinstance(x, np.ndarray):
        return cpu
    mod = _load_cuda()
    if mod is not None and isinstance(x, mod.xp.ndarray):
        return mod
    return cpu


def is_array(x) -> bool:
    if isinstance(x, np.ndarray):
        return True
    mod = _cuda if _cuda_checked else None
    return mod is not None and isinstance(x, mod.xp.ndarray)


def to_numpy(x) -> np.ndarray:
    """A NumPy array holding ``x`` (copied from the device when needed)."""
    if isinstance(x, np.ndarray):
        return x
    return of(x).to_numpy(x)


def clear_session() -> None:
    """Reset default layer names (``keras.backend.clear_session``)."""
    from nnforge import naming
    naming.reset()


def backend() -> str:
    """The name of the running backend (``keras.backend.backend()``)."""
    return "nnforge"


def floatx() -> str:
    return "float32"


def epsilon() -> float:
    return 1e-7


def image_data_format() -> str:
    return "channels_last"
