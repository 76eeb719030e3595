"""Stochastic gradient descent with optional (Nesterov) momentum."""
from __future__ import annotations

from nnforge import backend

from .optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent with momentum (``keras.optimizers.SGD``), as a fused kernel:
    ``v = momentum * v - lr * g; w += v`` (Nesterov: ``w += momentum * v - lr * g``).

    Args:
        learning_rate: float or schedule (default 0.01).
        momentum: float >= 0 (default 0).
        nesterov: whether to apply Nesterov momentum.
    """

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False,
                 name: str = "SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _slot_names(self):
        return ("momentum",) if self.momentum else ()

    def update_step(self, gradient, variable, learning_rate, step, slots):
        vel = slots[0].data if slots else None
        backend.of(variable.data).sgd_update_(variable.data, gradient, vel, learning_rate,
                                              self.momentum, self.nesterov)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
