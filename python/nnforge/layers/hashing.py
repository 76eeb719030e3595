"""Hashing and HashedCrossing: categorical features to hash bins with TensorFlow's hashes
(FarmHash Fingerprint64, SipHash-2-4 with a ``salt``, FingerprintCat64 for crosses), so the
bins are the ones Keras 3 computes. On the host, like Keras's (which runs them on the CPU)."""
from __future__ import annotations

import numpy as np

from nnforge.utils.fingerprint import fingerprint64, fingerprint_cat64, siphash64

from .layer import Layer
from .lookup import decode_strings, encode_categorical, host_array, to_output

_M = 1 << 64


def _as_strings(a: np.ndarray) -> np.ndarray:
    """Values as TF's ``as_string`` writes them (floats are truncated to int64 first)."""
    if a.dtype.kind in "USO":
        return decode_strings(a)
    if a.dtype.kind == "f":
        a = a.astype(np.int64)
    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    out = np.empty(a.shape, dtype=object)
    out.reshape(-1)[:] = [str(int(v)) for v in a.reshape(-1)]
    return out


def hash_strings(a: np.ndarray, num_bins: int, salt=None) -> np.ndarray:
    """``to_hash_bucket_fast`` (or ``_strong`` with ``salt``) of an array of strings."""
    flat = a.reshape(-1)
    if salt is None:
        h = [fingerprint64(s) % num_bins for s in flat]
    else:
        h = [siphash64(salt, s) % num_bins for s in flat]
    return np.asarray(h, dtype=np.int64).reshape(a.shape)


class Hashing(Layer):
    """Hashes categorical values into ``num_bins`` bins (``keras.layers.Hashing``): strings
    with FarmHash Fingerprint64 (SipHash-2-4 keyed by ``salt`` when given), integers hashed as
    their decimal strings, bin = hash mod ``num_bins``. With ``mask_value``, that value goes
    to bin 0 and the others to ``1 + hash mod (num_bins - 1)``.

    Args:
        num_bins: the number of bins.
        mask_value: a value to map to bin 0, or None.
        salt: an int or a pair of ints keying the strong hash, or None.
        output_mode: "int" (default), "one_hot", "multi_hot" or "count".
        sparse: must be False (nnforge outputs dense arrays).

    Example:

    >>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).numpy().ravel()
    array([1, 0, 1, 1, 2])
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode: str = "int",
                 sparse: bool = False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"Hashing '{self.name}': the `num_bins` for `Hashing` cannot be "
                             f"`None` or non-positive values. Received: num_bins={num_bins}.")
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(f"Hashing '{self.name}': when `output_mode=\"int\"`, `dtype` should "
                             f"be an integer type, 'int32' or 'int64'. Received: "
                             f"dtype={self.dtype}")
        modes = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in modes:
            raise ValueError(f"Hashing '{self.name}': invalid value for argument `output_mode`. "
                             f"Expected one of {modes}. Received: output_mode={output_mode}")
        if sparse:
            raise ValueError(f"Hashing '{self.name}': sparse outputs are not supported by "
                             "nnforge; pass sparse=False")
        self.num_bins, self.mask_value = int(num_bins), mask_value
        self.strong_hash = salt is not None
        self.output_mode, self.sparse = output_mode, sparse
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError(f"Hashing '{self.name}': the `salt` argument for `Hashing` can "
                                 "only be a tuple of size 2 integers, or a single integer. "
                                 f"Received: salt={salt}.")
        self.built = True

    def _bins(self, a: np.ndarray) -> np.ndarray:
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            if a.dtype.kind in "USO":
                mv = self.mask_value
                mv = mv.decode() if isinstance(mv, bytes) else str(mv)
                mask = decode_strings(a) == mv
            else:
                mask = a == self.mask_value
        out = hash_strings(_as_strings(a), bins, self.salt)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def call(self, inputs):
        a = host_array(inputs, "Hashing")
        if self.output_mode == "one_hot" and a.ndim and a.shape[-1] == 1:
            a = a[..., 0]
        ids = self._bins(a)
        if self.output_mode == "int":
            return to_output(ids.astype(self.dtype))
        return to_output(encode_categorical(ids, self.output_mode, self.num_bins,
                                            np.dtype(self.dtype)))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "salt": self.salt,
                       "mask_value": self.mask_value, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config


class HashedCrossing(Layer):
    """Crosses categorical features by hashing (``keras.layers.HashedCrossing``): the bin of a
    tuple of values is ``tf.sparse.cross_hashed``'s (FingerprintCat64 over the features'
    fingerprints, strings by Fingerprint64, integers by value) mod ``num_bins``.

    Call it on a list of two or more inputs of equal shape ``()``, ``(batch,)`` or
    ``(batch, 1)``, integer or string.

    Args:
        num_bins: the number of bins.
        output_mode: "int" (default) or "one_hot".
        sparse: must be False (nnforge outputs dense arrays).

    Example:

    >>> HashedCrossing(num_bins=5)([np.array([1, 2]), np.array(["a", "b"])]).shape
    (2,)
    """

    _KEY = 0xDECAFCAFFE  # cross_hashed's default hash_key

    def __init__(self, num_bins, output_mode: str = "int", sparse: bool = False, name=None,
                 dtype=None, **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"HashedCrossing '{self.name}': invalid value for argument "
                             f"output_mode. Expected one of ('int', 'one_hot'). Received: "
                             f"output_mode={output_mode!r}")
        if sparse:
            raise ValueError(f"HashedCrossing '{self.name}': sparse outputs are not supported "
                             "by nnforge; pass sparse=False")
        self.num_bins, self.output_mode, self.sparse = int(num_bins), output_mode, sparse
        self.built = True

    def _maybe_build(self, inputs) -> None:
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"HashedCrossing '{self.name}': `HashedCrossing` should be called "
                             f"on a list or tuple of inputs. Received: inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError(f"HashedCrossing '{self.name}': `HashedCrossing` should be called "
                             f"on at least two inputs. Received: inputs={inputs}")
        arrays = [host_array(x, "HashedCrossing") for x in inputs]
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(f"HashedCrossing '{self.name}': all `HashedCrossing` inputs should "
                             "have shape `()`, `(batch_size)` or `(batch_size, 1)`. Received "
                             f"shapes {[a.shape for a in arrays]}")
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError(f"HashedCrossing '{self.name}': all `HashedCrossing` inputs should "
                             f"have equal shape. Received shapes {[a.shape for a in arrays]}")
        if not all(a.dtype.kind in "iuUSO" for a in arrays):
            raise ValueError(f"HashedCrossing '{self.name}': all `HashedCrossing` inputs should "
                             "have an integer or string dtype. Received dtypes "
                             f"{[str(a.dtype) for a in arrays]}")
        cols = []
        for a in arrays:
            flat = a.reshape(-1)
            if a.dtype.kind in "iu":
                cols.append([int(v) % _M for v in flat])
            else:
                cols.append([fingerprint64(s) for s in decode_strings(flat)])
        out = []
        for feats in zip(*cols):
            h = self._KEY
            for f in feats:
                h = fingerprint_cat64(h, f)
            out.append(h % self.num_bins)
        ids = np.asarray(out, dtype=np.int64).reshape(shape)
        if self.output_mode == "int":
            return to_output(ids.astype(self.dtype))
        return to_output(encode_categorical(ids, "one_hot", self.num_bins,
                                            np.dtype(self.dtype)))

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if first and first[-1] != 1:
            return first + (self.num_bins,)
        return first[:-1] + (self.num_bins,)

    def get_config(self) -> dict:
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype}
