"""Integrated gradients (Sundararajan et al. 2017, "Axiomatic Attribution for Deep Networks").

``attribution_i = (x_i - baseline_i) * integral_0^1 dF(baseline + a (x - baseline)) / dx_i da``,
the integral taken by a quadrature rule over ``steps`` points. The points of all samples run
through the model as batches of ``batch_size`` rows (one forward and backward pass per batch, not
per step), and the weighted gradients are summed on the device.
"""
from __future__ import annotations

from typing import Tuple, Union

import numpy as np

from nnforge import backend
from nnforge.layers.layer import Layer

from . import _target
from ._target import Target
from .gradients import prepare, expanded_chunks, resolve

METHODS = ("riemann_trapezoid", "gausslegendre")


def quadrature(method: str, steps: int) -> Tuple[np.ndarray, np.ndarray]:
    """Points ``alpha`` in [0, 1] and weights (summing to 1) of the rule ``method``.

    ``"riemann_trapezoid"``: ``steps`` evenly spaced points including both ends (the trapezoid
    rule, exact for a linear path function); ``"gausslegendre"``: the ``steps``-point
    Gauss-Legendre rule mapped to [0, 1] (exact for polynomials of degree ``2 * steps - 1``).
    """
    if method == "riemann_trapezoid":
        if steps < 2:
            raise ValueError("integrated_gradients: the trapezoid rule needs steps >= 2, got "
                             f"{steps}")
        alphas = np.linspace(0.0, 1.0, steps)
        weights = np.full(steps, 1.0 / (steps - 1))
        weights[0] = weights[-1] = 0.5 / (steps - 1)
        return alphas, weights
    if method == "gausslegendre":
        nodes, w = np.polynomial.legendre.leggauss(steps)
        return (nodes + 1.0) / 2.0, w / 2.0
    raise ValueError(f"integrated_gradients: method must be one of {METHODS}, got {method!r}")


def _baseline(be, xd, baseline):
    if baseline is None:
        return be.xp.zeros_like(xd)
    if np.isscalar(baseline):
        return be.xp.full(xd.shape, float(baseline), dtype=xd.dtype)
    b = _target.to_device(be, baseline, "baseline")
    if tuple(b.shape) == tuple(xd.shape[1:]):
        b = be.xp.broadcast_to(b[None], xd.shape)
    if tuple(b.shape) != tuple(xd.shape):
        raise ValueError(f"integrated_gradients: baseline must be a number, one input of shape "
                         f"{tuple(xd.shape[1:])} or a batch of shape {tuple(xd.shape)}, got "
                         f"shape {tuple(b.shape)}")
    return be.asarray(b)


def integrated_gradients(model: Layer, x, target: Target = None, baseline=None,
                         steps: int = 64, method: str = "riemann_trapezoid",
                         output: str = "model", batch_size: int = 256,
                         return_convergence_delta: bool = False
                         ) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Integrated gradients of the target score along the straight path from a baseline.

    Args:
        model: a built nnforge model.
        x: a batch of inputs (NumPy or CuPy array, or Tensor).
        target: an int, one int per sample, a callable on the outputs, or None (the predicted
            class); see ``saliency``.
        baseline: None (zeros), a number, one input (``x.shape[1:]``) or one per sample.
        steps: points of the quadrature rule per sample (gradient evaluations).
        method: ``"riemann_trapezoid"`` or ``"gausslegendre"``.
        output: ``"model"`` or ``"logits"`` (the value before a final softmax).
        batch_size: rows per forward/backward pass; the ``steps`` points of several samples
            share a batch.
        return_convergence_delta: also return, per sample, ``sum(attributions) - (F(x) -
            F(baseline))``; completeness makes it 0 up to the quadrature error.

    Returns:
        A float32 NumPy array of ``x``'s shape, or ``(attributions, delta)`` with ``delta`` a
        float64 array of shape ``(batch,)``.

    Example:

    >>> attr, delta = nnforge.explain.integrated_gradients(
    ...     model, x_test[:4], target=y_test[:4], steps=64, return_convergence_delta=True)
    """
    fn = "integrated_gradients"
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"{fn}: steps must be a positive integer, got {steps!r}")
    alphas, weights = quadrature(method, int(steps))
    be, xd = prepare(model, x, fn, output, batch_size)
    xp = be.xp
    base = _baseline(be, xd, baseline)
    targets = resolve(model, be, xd, target, output, batch_size, fn)
    n = xd.shape[0]
    feat = tuple(xd.shape[1:])
    expand = (1,) * len(feat)
    diff = xd - base
    a_dev = be.asarray(alphas.astype(np.float32))
    w_dev = be.asarray(weights, dtype=np.float64)
    total = xp.zeros((n,) + feat, dtype=np.float64)
    for s0, s1, k0, k1 in expanded_chunks(n, len(alphas), batch_size):
        m, k = s1 - s0, k1 - k0
        a = a_dev[k0:k1].reshape((k, 1) + expand)
        batch = (base[s0:s1][None] + a * diff[s0:s1][None]).reshape((k * m,) + feat)
        rows = np.tile(np.arange(s0, s1), k)
        g, _ = _target.gradients(model, be, batch, targets.take(rows), output, fn)
        total[s0:s1] += xp.tensordot(w_dev[k0:k1], g.reshape((k, m) + feat), axes=1)
    attributions = total * diff
    result = _target.to_numpy32(attributions)
    if not return_convergence_delta:
        return result
    ends = xp.concatenate([xd, base], axis=0)
    scores = []
    for i in range(0, 2 * n, batch_size):
        rows = np.arange(i, min(2 * n, i + batch_size)) % n
        scores.append(_target.forward(model, be, ends[i:i + batch_size], targets.take(rows),
                                      output, fn)[1])
    s = np.concatenate(scores)
    summed = backend.to_numpy(attributions.reshape(n, -1).sum(axis=1))
    return result, summed - (s[:n] - s[n:])
