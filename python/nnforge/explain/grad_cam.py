"""Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018).

A convolution layer's activations ``A`` (batch, ..., channels) are weighted per channel by the
gradient of the target score and summed over channels: Grad-CAM's weight is the spatial mean of
the gradient; Grad-CAM++'s is ``sum(alpha * relu(grad))`` with
``alpha = grad**2 / (2 grad**2 + sum(A) grad**3)``. The layer is the last convolution of the model
unless given, found in nested models too, and reached by probing it during the ordinary forward
pass (no sub-model is built and nothing in the model changes).
"""
from __future__ import annotations

from typing import Union

import numpy as np

from nnforge import backend
from nnforge.layers.layer import Layer

from . import _graph, _target
from ._target import Target
from .gradients import prepare, resolve


def _cam(xp, acts, grads, plus_plus: bool, relu: bool):
    axes = tuple(range(1, acts.ndim - 1))  # spatial axes
    shape = (acts.shape[0],) + (1,) * len(axes) + (acts.shape[-1],)
    if plus_plus:
        g2 = grads * grads
        g3 = g2 * grads
        a_sum = acts.sum(axis=axes).reshape(shape)
        denom = 2.0 * g2 + a_sum * g3
        alpha = xp.where(grads != 0, g2 / xp.where(denom != 0, denom, 1.0), 0.0)
        weights = (alpha * xp.maximum(grads, 0.0)).sum(axis=axes)
    else:
        weights = grads.mean(axis=axes)
    cam = (acts * weights.reshape(shape)).sum(axis=-1)
    return xp.maximum(cam, 0.0) if relu else cam


def _grad_cam(model: Layer, x, target: Target, layer: Union[None, str, Layer], output: str,
              batch_size: int, relu: bool, plus_plus: bool, fn: str) -> np.ndarray:
    be, xd = prepare(model, x, fn, output, batch_size)
    lay = _graph.last_conv_layer(model) if layer is None else _graph.find_layer(model, layer)
    targets = resolve(model, be, xd, target, output, batch_size, fn)
    n = xd.shape[0]
    parts = []
    for s0 in range(0, n, batch_size):
        s1 = min(n, s0 + batch_size)
        grads, acts = _target.gradients(model, be, xd[s0:s1], targets.take(np.arange(s0, s1)),
                                        output, fn, layer=lay)
        if acts.ndim < 3:
            raise ValueError(f"{fn}: layer '{lay.name}' outputs shape {tuple(acts.shape)}; "
                             f"Grad-CAM needs (batch, ..., channels) activations with spatial "
                             f"axes, e.g. a Conv2D's (batch, height, width, channels)")
        cam = _cam(be.xp, acts.astype(np.float64), grads.astype(np.float64), plus_plus, relu)
        parts.append(backend.to_numpy(cam).astype(np.float32))
    return np.concatenate(parts, axis=0)


def grad_cam(model: Layer, x, target: Target = None, layer: Union[None, str, Layer] = None,
             output: str = "model", relu: bool = True, batch_size: int = 256) -> np.ndarray:
    """Grad-CAM class activation maps.

    Args:
        model: a built nnforge model.
        x: a batch of inputs (NumPy or CuPy array, or Tensor).
        target: an int, one int per sample, a callable on the outputs, or None (the predicted
            class); see ``saliency``.
        layer: the layer whose activations are weighted (a name or a Layer, searched in nested
            models); None takes the model's last convolution layer.
        output: ``"model"`` or ``"logits"`` (the value before a final softmax).
        relu: keep only the positive part of the map (as the paper does).
        batch_size: rows per forward/backward pass.

    Returns:
        A float32 NumPy array of the layer's output shape without its channel axis, e.g.
        ``(batch, height, width)`` for a Conv2D. ``explain.overlay`` resizes it onto an image.

    Example:

    >>> cams = nnforge.explain.grad_cam(model, x_test[:8], output="logits")
    >>> rgb = nnforge.explain.overlay(x_test[0], cams[0])
    """
    return _grad_cam(model, x, target, layer, output, batch_size, relu, False, "grad_cam")


def grad_cam_plus_plus(model: Layer, x, target: Target = None,
                       layer: Union[None, str, Layer] = None, output: str = "model",
                       relu: bool = True, batch_size: int = 256) -> np.ndarray:
    """Grad-CAM++ maps: like ``grad_cam`` with per-position channel weights that favour the
    locations where the gradient is positive (better for several instances of a class).

    Args and returns as ``grad_cam``.

    Example:

    >>> cams = nnforge.explain.grad_cam_plus_plus(model, x_test[:8], output="logits")
    """
    return _grad_cam(model, x, target, layer, output, batch_size, relu, True,
                     "grad_cam_plus_plus")
