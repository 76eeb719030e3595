"""The collective op behind ``BatchNormalization(synchronized=True)``: a sum over processes
that the gradient tape differentiates.

Forward: ``y = sum_p x_p`` on every process. Backward: the loss of the global batch is
``L = sum_p w_p L_p`` (``w_p``: process p's share of the global batch, the weight its
gradients get in the gradient sum), so dL/dx_p = sum_q w_q dL_q/dy. Each process
back-propagates its own unweighted loss ``L_p`` and its gradients are multiplied by ``w_p``
later, so the gradient returned here is ``sum_q w_q g_q / w_p``.
"""
from __future__ import annotations

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor


def _sum_over_processes(strategy, a, what: str):
    """``a`` (a backend array) summed over processes, as a new float64 host array."""
    host = np.array(backend.to_numpy(a), dtype=np.float64, copy=True).reshape(-1)
    strategy.collectives.allreduce_(host, what)
    return host.reshape(a.shape)


def global_sum(strategy, x: Tensor, count: float):
    """``(sum over processes of x, sum over processes of count)``, with ``x``'s gradient.

    Args:
        strategy: the active ``DataParallel``.
        x: a Tensor of per-process partial sums (e.g. per-channel sums over the local rows).
        count: the number of rows behind ``x`` on this process (0 for a placeholder row).

    Returns:
        the global sum (a Tensor on x's device) and the global row count (a float).
    """
    a = x.data if isinstance(x, Tensor) else x
    be = backend.of(a)
    w = float(strategy._weight)
    packed = np.concatenate([backend.to_numpy(a).reshape(-1).astype(np.float64) * (w > 0),
                             [float(count) * (w > 0)]])
    strategy.collectives.allreduce_(packed, "the synchronized BatchNormalization sum")
    total = be.asarray(packed[:-1].reshape(a.shape).astype(a.dtype))

    def backward(g, needs):
        gw = _sum_over_processes(strategy, backend.to_numpy(g) * w,
                                 "the synchronized BatchNormalization gradient sum")
        scale = 1.0 / w if w > 0 else 0.0
        return (be.asarray((gw * scale).astype(a.dtype)),)

    return record(total, (x,), backward), float(packed[-1])


def moments(strategy, inputs, axes):
    """Mean and variance of ``inputs`` over ``axes`` and over every process's rows.

    Args:
        strategy: the active ``DataParallel``.
        inputs: the layer's input Tensor.
        axes: the reduced axes (all but the features axis).

    Returns:
        ``(mean, centered, var)``: Tensors with the reduced axes kept (size 1), and
        ``inputs - mean``; all differentiable, the gradients summed over processes.
    """
    from nnforge import ops
    shape = inputs.shape
    count = float(np.prod([shape[i] for i in axes]))
    local_sum = ops.sum(inputs, axis=axes, keepdims=True)
    total, n = global_sum(strategy, local_sum, count)
    mean = ops.multiply(total, np.float32(1.0 / max(n, 1.0)))
    centered = ops.subtract(inputs, mean)
    local_sq = ops.sum(ops.square(centered), axis=axes, keepdims=True)
    total_sq, _ = global_sum(strategy, local_sq, count)
    var = ops.multiply(total_sq, np.float32(1.0 / max(n, 1.0)))
    return mean, centered, var
