"""Occlusion (Zeiler & Fergus 2014): slide a window over the input, replace what it covers with a
baseline, and attribute the drop of the target score to the covered positions.

Every occluded copy runs through the model in batches of ``batch_size`` rows; no gradients are
needed, so any model works, differentiable or not.
"""
from __future__ import annotations

import itertools
from typing import List, Sequence, Tuple, Union

import numpy as np

from nnforge.layers.layer import Layer

from . import _target
from ._target import Target
from .gradients import prepare, resolve


def _starts(size: int, win: int, stride: int) -> List[int]:
    starts = list(range(0, size - win + 1, stride))
    if starts[-1] != size - win:  # cover the last rows/columns too
        starts.append(size - win)
    return starts


def _window(window: Union[int, Sequence[int]], stride, shape: Tuple[int, ...], fn: str):
    feat = shape[1:]
    if isinstance(window, (int, np.integer)):
        k = max(1, len(feat) - 1) if len(feat) > 1 else 1
        window = (int(window),) * k
    window = tuple(int(w) for w in window)
    if not window or len(window) > len(feat):
        raise ValueError(f"{fn}: window must have 1 to {len(feat)} sizes for inputs of shape "
                         f"{shape}, got {window}")
    if stride is None:
        stride = window
    elif isinstance(stride, (int, np.integer)):
        stride = (int(stride),) * len(window)
    stride = tuple(int(s) for s in stride)
    if len(stride) != len(window):
        raise ValueError(f"{fn}: stride {stride} must have as many sizes as window {window}")
    for w, s, d in zip(window, stride, feat):
        if w < 1 or s < 1 or w > d:
            raise ValueError(f"{fn}: window {window} and stride {stride} must be positive and the "
                             f"window no larger than the input's axes {feat[:len(window)]}")
    return window, stride


def occlusion(model: Layer, x, target: Target = None, window: Union[int, Sequence[int]] = 4,
              stride: Union[None, int, Sequence[int]] = None, baseline: float = 0.0,
              output: str = "model", batch_size: int = 256) -> np.ndarray:
    """Occlusion sensitivity maps.

    The window spans the leading axes after the batch axis (``len(window)`` of them); the
    remaining axes are covered whole (an int window on ``(batch, height, width, channels)``
    images is a square over height and width, all channels). Each position's attribution is
    the mean, over the windows that cover it, of ``score(x) - score(x occluded)``; windows are
    placed every ``stride`` and once more flush with the far edge, so every position is covered.

    Args:
        model: a built nnforge model.
        x: a batch of inputs (NumPy or CuPy array, or Tensor).
        target: an int, one int per sample, a callable on the outputs, or None (the predicted
            class); see ``saliency``.
        window: the window's size, an int or one size per occluded axis.
        stride: step between windows (default: the window, i.e. no overlap).
        baseline: the value written under the window.
        output: ``"model"`` or ``"logits"`` (the value before a final softmax).
        batch_size: rows per forward pass.

    Returns:
        A float32 NumPy array of ``x``'s shape.

    Example:

    >>> maps = nnforge.explain.occlusion(model, x_test[:4], window=4, stride=2)
    """
    fn = "occlusion"
    be, xd = prepare(model, x, fn, output, batch_size)
    win, strides = _window(window, stride, tuple(xd.shape), fn)
    targets = resolve(model, be, xd, target, output, batch_size, fn)
    n = xd.shape[0]
    grids = [_starts(d, w, s) for d, w, s in zip(xd.shape[1:], win, strides)]
    boxes = [tuple(slice(a, a + w) for a, w in zip(start, win))
             for start in itertools.product(*grids)]
    p = len(boxes)
    # Rows sample-major: row r is sample r // (p + 1); its first copy is unoccluded.
    per = p + 1
    drops = np.empty((n, p), dtype=np.float64)
    scores = np.empty(n * per, dtype=np.float64)
    total = n * per
    for r0 in range(0, total, batch_size):
        r1 = min(total, r0 + batch_size)
        rows = np.arange(r0, r1)
        samples, copies = rows // per, rows % per
        batch = xd[be.xp.asarray(samples)]  # a copy, occluded in place below
        for i, c in enumerate(copies):
            if c:
                batch[(i,) + boxes[c - 1]] = baseline
        scores[r0:r1] = _target.forward(model, be, batch, targets.take(samples), output, fn)[1]
    scores = scores.reshape(n, per)
    drops[:] = scores[:, :1] - scores[:, 1:]
    attr = np.zeros(tuple(xd.shape), dtype=np.float64)
    count = np.zeros(tuple(xd.shape[1:1 + len(win)]), dtype=np.float64)
    for j, box in enumerate(boxes):
        attr[(slice(None),) + box] += drops[:, j].reshape((n,) + (1,) * (xd.ndim - 1))
        count[box] += 1.0
    count = count.reshape(count.shape + (1,) * (xd.ndim - 1 - len(win)))
    return (attr / count[None]).astype(np.float32)
