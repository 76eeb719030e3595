"""A restricted unpickler for the few data files that only exist as pickles (the CIFAR-10
batches, the object arrays inside Keras's ``imdb.npz``).

``pickle.load`` on an untrusted file can run arbitrary code: any global the file names (for
example ``os.system``) can be called during loading. :class:`RestrictedUnpickler` resolves no
global by import. It knows a short, fixed table of names, the ones NumPy writes to rebuild
arrays plus the one Python 3 writes for ``bytes`` at protocol 2, and maps each to a checking
wrapper. Any other global is refused with ``pickle.UnpicklingError`` before anything is
called. Everything else a pickle can build without globals (dicts, lists, tuples, str,
bytes, numbers) is harmless data.
"""
from __future__ import annotations

import io
import pickle

import numpy as np

try:  # NumPy 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # NumPy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]


class UnsafePickleError(pickle.UnpicklingError):
    """The file asked for something a plain data file never needs."""


def _check_dtype(dtype, allow_object: bool) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.hasobject and not allow_object:
        raise UnsafePickleError(f"refusing to load an array of dtype {dtype} (holds objects)")
    return dtype


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that only rebuilds plain NumPy arrays and built-in containers.

    Args:
        file: binary file object.
        allow_object_arrays: allow arrays of dtype ``object``; their items are still only
            what this unpickler can build (containers, strings, numbers, arrays).
        encoding: how Python 2 ``str`` objects are decoded; ``'bytes'`` keeps them as bytes.
    """

    def __init__(self, file, *, allow_object_arrays: bool = False, encoding: str = "bytes"):
        super().__init__(file, encoding=encoding, errors="strict")
        allow_obj = allow_object_arrays

        def reconstruct(subtype, shape, dtype):
            if subtype is not np.ndarray:
                raise UnsafePickleError(f"refusing to rebuild an array of type {subtype!r}")
            return _multiarray._reconstruct(np.ndarray, shape, dtype)

        def make_dtype(obj, align=False, copy=False):
            if not isinstance(obj, (str, bytes)):
                raise UnsafePickleError(f"refusing dtype description {obj!r}")
            if isinstance(obj, bytes):
                obj = obj.decode("ascii")
            dt = np.dtype(obj, align=bool(align), copy=bool(copy))
            _check_dtype(dt, allow_obj)
            return dt

        def frombuffer(buf, dtype, shape, order):
            dtype = _check_dtype(dtype, allow_obj)
            if order not in ("C", "F"):
                raise UnsafePickleError(f"bad array order {order!r}")
            return np.frombuffer(buf, dtype=dtype).reshape(shape, order=order).copy()

        def codecs_encode(obj, encoding="utf-8", errors="strict"):
            # Python 3 writes bytes at protocol 2 as _codecs.encode(str, 'latin1').
            if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
                raise UnsafePickleError("refusing _codecs.encode with non-latin1 arguments")
            return obj.encode("latin1")

        self._allowed = {}
        for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
            self._allowed[(mod, "_reconstruct")] = reconstruct
        for mod in ("numpy.core.numeric", "numpy._core.numeric"):
            self._allowed[(mod, "_frombuffer")] = frombuffer
        self._allowed[("numpy", "ndarray")] = np.ndarray
        self._allowed[("numpy", "dtype")] = make_dtype
        self._allowed[("_codecs", "encode")] = codecs_encode

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load the global '{module}.{name}': this file is not a plain "
                "data pickle (only NumPy array reconstruction is allowed)"
            ) from None

    def persistent_load(self, pid):
        raise UnsafePickleError("refusing a pickle with persistent ids")


def restricted_load(file, *, allow_object_arrays: bool = False, encoding: str = "bytes"):
    """Load one pickle from a binary file object with :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(file, allow_object_arrays=allow_object_arrays,
                               encoding=encoding).load()


def restricted_loads(data: bytes, **kwargs):
    return restricted_load(io.BytesIO(data), **kwargs)
