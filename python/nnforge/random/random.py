"""The random functions of ``nnforge.random`` and ``SeedGenerator``."""
from __future__ import annotations

from typing import Optional, Union

import numpy as np

from nnforge import backend, config, ops, random_state
from nnforge.core.tensor import Tensor, unwrap


class SeedGenerator:
    """A reproducible stream of random draws (``keras.random.SeedGenerator``).

    Pass it as ``seed=`` to the functions of ``nnforge.random``: each call advances the stream,
    so successive calls differ, and two generators made with the same seed give the same
    sequence.

    Args:
        seed: an int, or None to draw one from the global generator (which follows
            ``utils.set_random_seed``).

    Example:

    >>> gen = nnforge.random.SeedGenerator(1337)
    >>> a = nnforge.random.normal((2, 3), seed=gen)
    >>> b = nnforge.random.normal((2, 3), seed=gen)  # different from a
    """

    def __init__(self, seed: Optional[int] = None, name: Optional[str] = None, **kwargs):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"SeedGenerator: seed must be an int or None, got {seed!r}")
        self.name = name or "seed_generator"
        self._initial_seed = seed
        self._rng = random_state.make_rng(None if seed is None else int(seed))

    @property
    def rng(self) -> np.random.Generator:
        """The NumPy Generator behind the stream."""
        return self._rng

    def next(self) -> int:
        """A new 63-bit seed drawn from the stream (advances it)."""
        return int(self._rng.integers(0, 2**63 - 1))

    def get_config(self) -> dict:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "SeedGenerator":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator seed={self._initial_seed}>"


SeedLike = Union[None, int, SeedGenerator]


def _rng(seed: SeedLike, fn: str) -> np.random.Generator:
    if seed is None:
        return random_state.global_rng()
    if isinstance(seed, SeedGenerator):
        return seed.rng
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise ValueError(f"random.{fn}: seed must be None, an int or a SeedGenerator, got {seed!r}")


def _shape(shape, fn: str) -> tuple:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        out = tuple(int(unwrap(d)) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"random.{fn}: shape must be a tuple of ints, got {shape!r}") from None
    if any(d < 0 for d in out):
        raise ValueError(f"random.{fn}: shape has a negative dimension: {out}")
    return out


def _dtype(dtype, kind: str = "f") -> np.dtype:
    d = np.dtype(dtype if dtype is not None else (config.floatx() if kind == "f" else "int32"))
    return d


def _tensor(a: np.ndarray, dtype) -> Tensor:
    return Tensor(backend.current().asarray(np.ascontiguousarray(a, dtype=dtype), dtype=dtype))


def normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None,
           seed: SeedLike = None) -> Tensor:
    """Values from a normal distribution (``keras.random.normal``).

    Args:
        shape: the output shape.
        mean: the mean of the distribution.
        stddev: its standard deviation.
        dtype: a float dtype (default ``floatx()``, float32).
        seed: None, an int or a ``SeedGenerator`` (see the module's docstring).

    Returns:
        A Tensor of that shape.

    Example:

    >>> nnforge.random.normal((2, 3), seed=0).shape
    (2, 3)
    """
    d = _dtype(dtype)
    a = _rng(seed, "normal").standard_normal(_shape(shape, "normal"))
    return _tensor(a * float(stddev) + float(mean), d)


def uniform(shape, minval: float = 0.0, maxval: float = 1.0, dtype=None,
            seed: SeedLike = None) -> Tensor:
    """Values drawn uniformly from ``[minval, maxval)`` (``keras.random.uniform``).

    Args:
        shape: the output shape.
        minval, maxval: the bounds.
        dtype: a float dtype (default float32).
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        A Tensor of that shape.

    Example:

    >>> nnforge.random.uniform((4,), minval=-1, maxval=1, seed=0)
    """
    d = _dtype(dtype)
    if d.kind != "f":
        raise ValueError(f"random.uniform: dtype must be a float dtype, got {d}; use randint "
                         "for integers")
    a = _rng(seed, "uniform").uniform(float(minval), float(maxval), _shape(shape, "uniform"))
    return _tensor(a, d)


def truncated_normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None,
                     seed: SeedLike = None) -> Tensor:
    """Normal values, redrawn where they fall more than two standard deviations from the mean
    (``keras.random.truncated_normal``).

    Args:
        shape: the output shape.
        mean: the mean of the (untruncated) distribution.
        stddev: its standard deviation.
        dtype: a float dtype (default float32).
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        A Tensor of that shape, every value within ``mean ± 2 * stddev``.

    Example:

    >>> nnforge.random.truncated_normal((3, 3), stddev=0.05, seed=1)
    """
    rng = _rng(seed, "truncated_normal")
    shp = _shape(shape, "truncated_normal")
    a = rng.standard_normal(shp)
    bad = np.abs(a) > 2.0
    while bad.any():
        a[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(a) > 2.0
    return _tensor(a * float(stddev) + float(mean), _dtype(dtype))


def randint(shape, minval: int, maxval: int, dtype="int32", seed: SeedLike = None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)`` (``keras.random.randint``).

    Args:
        shape: the output shape.
        minval, maxval: the bounds (maxval excluded).
        dtype: an integer dtype (default int32).
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        An integer Tensor of that shape.

    Example:

    >>> nnforge.random.randint((5,), 0, 10, seed=0)
    """
    if int(maxval) <= int(minval):
        raise ValueError(f"random.randint: maxval ({maxval}) must be greater than minval "
                         f"({minval})")
    a = _rng(seed, "randint").integers(int(minval), int(maxval), _shape(shape, "randint"))
    return _tensor(a, np.dtype(dtype))


def categorical(logits, num_samples: int, dtype="int32", seed: SeedLike = None) -> Tensor:
    """Class indices drawn from the categorical distributions given by ``logits``
    (``keras.random.categorical``).

    Args:
        logits: a 2-D tensor ``(batch, num_classes)`` of unnormalized log-probabilities.
        num_samples: draws per row.
        dtype: an integer dtype (default int32).
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        An integer Tensor of shape ``(batch, num_samples)``.

    Example:

    >>> nnforge.random.categorical(np.log([[0.1, 0.9]]), 5, seed=0)
    """
    lg = ops.convert_to_numpy(logits).astype(np.float64)
    if lg.ndim != 2:
        raise ValueError(f"random.categorical: logits must be 2-D (batch, num_classes), got "
                         f"shape {lg.shape}")
    lg = lg - lg.max(axis=-1, keepdims=True)
    p = np.exp(lg)
    cdf = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    u = _rng(seed, "categorical").random((lg.shape[0], int(num_samples)))
    idx = (u[:, :, None] > cdf[:, None, :]).sum(axis=-1)
    return _tensor(np.minimum(idx, lg.shape[1] - 1), np.dtype(dtype))


def dropout(inputs, rate: float, noise_shape=None, seed: SeedLike = None) -> Tensor:
    """Inverted dropout: zero each value with probability ``rate`` and scale the others by
    ``1 / (1 - rate)`` (``keras.random.dropout``); differentiable.

    Args:
        inputs: the tensor.
        rate: the fraction dropped, in [0, 1).
        noise_shape: the shape of the mask, broadcast over inputs (None entries: the
            input's dimension).
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        A Tensor shaped like ``inputs``.

    Example:

    >>> y = nnforge.random.dropout(x, 0.5, seed=gen)
    """
    return ops.dropout(inputs, float(rate), _rng(seed, "dropout"), noise_shape)


def shuffle(x, axis: int = 0, seed: SeedLike = None) -> Tensor:
    """``x`` with its entries along ``axis`` randomly permuted (``keras.random.shuffle``).

    Args:
        x: the tensor.
        axis: the axis to shuffle.
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        A Tensor shaped like ``x`` (differentiable).

    Example:

    >>> nnforge.random.shuffle(np.arange(5), seed=0)
    """
    n = ops.shape(x)[axis]
    perm = _rng(seed, "shuffle").permutation(n)
    return ops.take(x, perm, axis=axis)


def gamma(shape, alpha: float, dtype=None, seed: SeedLike = None) -> Tensor:
    """Values from a Gamma(alpha, 1) distribution (``keras.random.gamma``).

    Args:
        shape: the output shape.
        alpha: the concentration (> 0).
        dtype: a float dtype (default float32).
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        A Tensor of that shape.

    Example:

    >>> nnforge.random.gamma((3,), alpha=2.0, seed=0)
    """
    a = _rng(seed, "gamma").gamma(float(alpha), 1.0, _shape(shape, "gamma"))
    return _tensor(a, _dtype(dtype))


def beta(shape, alpha: float, beta: float, dtype=None, seed: SeedLike = None) -> Tensor:
    """Values from a Beta(alpha, beta) distribution (``keras.random.beta``).

    Args:
        shape: the output shape.
        alpha, beta: the two concentrations (> 0).
        dtype: a float dtype (default float32).
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        A Tensor of that shape, values in [0, 1].

    Example:

    >>> nnforge.random.beta((3,), alpha=0.5, beta=0.5, seed=0)
    """
    a = _rng(seed, "beta").beta(float(alpha), float(beta), _shape(shape, "beta"))
    return _tensor(a, _dtype(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed: SeedLike = None) -> Tensor:
    """Numbers of successes in ``counts`` trials of probability ``probabilities``
    (``keras.random.binomial``).

    Args:
        shape: the output shape.
        counts: the number of trials (broadcast to shape).
        probabilities: the success probability (broadcast to shape).
        dtype: a float dtype (default float32, as Keras).
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        A Tensor of that shape.

    Example:

    >>> nnforge.random.binomial((4,), counts=10, probabilities=0.5, seed=0)
    """
    c = np.asarray(ops.convert_to_numpy(counts), dtype=np.int64)
    p = np.asarray(ops.convert_to_numpy(probabilities), dtype=np.float64)
    a = _rng(seed, "binomial").binomial(c, p, _shape(shape, "binomial"))
    return _tensor(a, _dtype(dtype))
