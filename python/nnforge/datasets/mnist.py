"""MNIST handwritten digits, as ``keras.datasets.mnist``.

nnforge ships the data inside the package (``nnforge/datasets/data/mnist.npz``, 11 MB), so
``load_data()`` works offline. Origin and licence (CC BY-SA 3.0, Yann LeCun, Corinna Cortes,
Christopher J.C. Burges): see DATA_LICENSES.md at the repository root.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from . import _files

MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
_KEYS = ("x_train", "y_train", "x_test", "y_test")
_BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "mnist.npz")

_verified = set()  # (path, size, mtime_ns) of files whose sha256 was checked in this process
_verify_lock = threading.Lock()


def bundled_path() -> str:
    """Path of the copy of ``mnist.npz`` shipped with nnforge."""
    return _BUNDLED


def _verify_once(path: str) -> None:
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    with _verify_lock:
        if key in _verified:
            return
        _files.verify_file(path, sha256=MNIST_SHA256)
        _verified.add(key)


def _read_npz(path: str):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"MNIST file not found: {path}")
    try:
        f = np.load(path, allow_pickle=False)
    except Exception as e:  # not a zip / not an npz
        raise ValueError(f"{path} is not a readable .npz file: {e}") from e
    if not hasattr(f, "files"):  # a bare .npy
        raise ValueError(f"{path} is a .npy array, expected an .npz archive with keys {_KEYS}")
    with f:
        missing = [k for k in _KEYS if k not in f.files]
        if missing:
            raise ValueError(
                f"{path} is missing the key(s) {missing}; an MNIST .npz needs "
                f"{list(_KEYS)} (found {sorted(f.files)})"
            )
        try:
            x_train, y_train, x_test, y_test = (f[k] for k in _KEYS)
        except ValueError as e:  # object arrays would need pickle
            raise ValueError(f"{path}: cannot read arrays without pickle: {e}") from e
    return (x_train, y_train), (x_test, y_test)


def load_data(path=None):
    """Loads the MNIST dataset.

    Args:
        path: ``None`` (default) to read the copy shipped with nnforge (its sha256 is checked
            once per process), or the path of a ``.npz`` file with the keys ``x_train``,
            ``y_train``, ``x_test``, ``y_test`` (read without pickle).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,) for the real data set, pixel values 0-255 and
        labels 0-9.
    """
    if path is None:
        path = _BUNDLED
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"the copy of MNIST shipped with nnforge is missing ({path}); reinstall "
                "nnforge, or pass load_data(path=...) with your own mnist.npz"
            )
        _verify_once(path)
    else:
        path = os.fspath(path)
        if not os.path.isabs(path) and not os.path.exists(path):
            # Keras's path= is relative to its cache folder: accept ours the same way.
            candidate = os.path.join(_files.data_dir(), path)
            if os.path.isfile(candidate):
                path = candidate
            elif path == "mnist.npz":  # Keras's default name: the MNIST we ship
                return load_data(None)
    return _read_npz(path)
