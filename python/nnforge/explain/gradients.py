"""Gradient maps: ``saliency`` (Simonyan et al. 2014) and ``smoothgrad`` (Smilkov et al. 2017).

Both differentiate one score per sample (a class's output, or a callable's value) with respect to
the input, on nnforge's own ``GradientTape``, for NumPy and CuPy arrays alike. SmoothGrad's noisy
copies go through the model as batches of ``batch_size`` rows, not one pass per copy.
"""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import numpy as np

from nnforge import backend
from nnforge.layers.layer import Layer

from . import _target
from ._target import Target


def expanded_chunks(n: int, reps: int, batch_size: int) -> Iterator[Tuple[int, int, int, int]]:
    """Split ``reps`` copies of ``n`` samples into batches of at most ``batch_size`` rows.

    Yields ``(s0, s1, k0, k1)``: the batch holds copies ``k0:k1`` of samples ``s0:s1``, laid out
    copy-major (row ``j * (s1 - s0) + i`` is copy ``k0 + j`` of sample ``s0 + i``), so that a
    gradient batch reshaped to ``(k1 - k0, s1 - s0, ...)`` reduces over copies with one sum.
    """
    group = min(n, batch_size)
    for s0 in range(0, n, group):
        s1 = min(n, s0 + group)
        per = max(1, batch_size // (s1 - s0))
        for k0 in range(0, reps, per):
            yield s0, s1, k0, min(reps, k0 + per)


def prepare(model: Layer, x, fn: str, output: str, batch_size: int):
    """Check the arguments every method shares; return the model's backend and ``x`` on it."""
    if not isinstance(model, Layer):
        raise TypeError(f"{fn}: model must be an nnforge Model or Layer, got "
                        f"{type(model).__name__}")
    _target.check_output(output, fn)
    _target.check_batch_size(batch_size, fn)
    be = _target.model_backend(model)
    xd = _target.to_device(be, x)
    _target.check_batch(xd, fn)
    return be, xd


def predict_outputs(model: Layer, be, xd, output: str, batch_size: int, fn: str) -> np.ndarray:
    """The explained output for every row of ``xd``, in batches (for ``target=None``)."""
    parts = [_target.forward(model, be, xd[i:i + batch_size], None, output, fn)[0]
             for i in range(0, xd.shape[0], batch_size)]
    return np.concatenate(parts, axis=0)


def resolve(model: Layer, be, xd, target: Target, output: str, batch_size: int,
            fn: str) -> _target.Targets:
    return _target.resolve_targets(
        target, xd.shape[0], fn,
        predict=lambda: predict_outputs(model, be, xd, output, batch_size, fn))


def saliency(model: Layer, x, target: Target = None, absolute: bool = True,
             output: str = "model", batch_size: int = 256) -> np.ndarray:
    """Gradient of the target score with respect to the input (a saliency map).

    Args:
        model: a built nnforge model (Sequential, functional, nested or subclassed).
        x: a batch of inputs (NumPy or CuPy array, or Tensor), leading axis the samples.
        target: the class to explain: an int for all samples, one int per sample, a callable
            mapping the output batch (a Tensor) to one score per row (a Tensor built with
            ``nnforge.ops``), or None for each sample's predicted class.
        absolute: return ``|gradient|`` (True) or the signed gradient (False).
        output: ``"model"`` explains the model's output; ``"logits"`` the value before a final
            softmax (a Dense/Conv with ``activation="softmax"``, a Softmax or an Activation layer).
        batch_size: rows per forward/backward pass.

    Returns:
        A float32 NumPy array of ``x``'s shape.

    Example:

    >>> maps = nnforge.explain.saliency(model, x_test[:8], target=y_test[:8], output="logits")
    """
    fn = "saliency"
    be, xd = prepare(model, x, fn, output, batch_size)
    targets = resolve(model, be, xd, target, output, batch_size, fn)
    n = xd.shape[0]
    out = np.empty(tuple(xd.shape), dtype=np.float32)
    for s0 in range(0, n, batch_size):
        s1 = min(n, s0 + batch_size)
        g, _ = _target.gradients(model, be, xd[s0:s1], targets.take(np.arange(s0, s1)), output,
                                 fn)
        out[s0:s1] = backend.to_numpy(be.xp.abs(g) if absolute else g)
    return out


def smoothgrad(model: Layer, x, target: Target = None, samples: int = 50,
               noise_level: float = 0.15, absolute: bool = True, output: str = "model",
               batch_size: int = 256, seed: Optional[int] = None) -> np.ndarray:
    """SmoothGrad: the saliency map averaged over noisy copies of each input.

    Each copy adds Gaussian noise of standard deviation ``noise_level * (max(x_i) - min(x_i))``
    per sample ``x_i``; the copies of all samples run through the model as batches of
    ``batch_size`` rows. With ``noise_level=0`` the result equals ``saliency``.

    Args:
        model, x, target, output, batch_size: as ``saliency``.
        samples: noisy copies per input.
        noise_level: noise standard deviation as a fraction of each input's value range.
        absolute: average ``|gradient|`` (True) or the signed gradient (False).
        seed: seed of the noise. The noise is drawn with NumPy, one generator per copy, so a
            seed gives the same result on CPU and GPU and for any ``batch_size``.

    Returns:
        A float32 NumPy array of ``x``'s shape.

    Example:

    >>> maps = nnforge.explain.smoothgrad(model, x_test[:8], samples=32, seed=0)
    """
    fn = "smoothgrad"
    if not isinstance(samples, (int, np.integer)) or isinstance(samples, bool) or samples < 1:
        raise ValueError(f"{fn}: samples must be a positive integer, got {samples!r}")
    if not np.isfinite(noise_level) or noise_level < 0:
        raise ValueError(f"{fn}: noise_level must be a finite number >= 0, got {noise_level!r}")
    be, xd = prepare(model, x, fn, output, batch_size)
    xp = be.xp
    targets = resolve(model, be, xd, target, output, batch_size, fn)
    n = xd.shape[0]
    feat = tuple(xd.shape[1:])
    flat = xd.reshape(n, -1)
    sigma = (noise_level * (flat.max(axis=1) - flat.min(axis=1))).astype(np.float32)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    total = xp.zeros((n,) + feat, dtype=np.float64)
    for s0, s1, k0, k1 in expanded_chunks(n, samples, batch_size):
        m, k = s1 - s0, k1 - k0
        # Copy j's noise comes from its own generator, so it does not depend on batch_size.
        noise = np.stack([np.random.default_rng([seed, j]).standard_normal(
            (n,) + feat, dtype=np.float32)[s0:s1] for j in range(k0, k1)])
        scale = sigma[s0:s1].reshape((1, m) + (1,) * len(feat))
        batch = (xd[s0:s1][None] + be.asarray(noise) * scale).reshape((k * m,) + feat)
        rows = np.tile(np.arange(s0, s1), k)
        g, _ = _target.gradients(model, be, batch, targets.take(rows), output, fn)
        g = g.reshape((k, m) + feat)
        total[s0:s1] += (xp.abs(g) if absolute else g).sum(axis=0, dtype=np.float64)
    return _target.to_numpy32(total / samples)
