"""Schedule-free AdamW (``keras.optimizers.ScheduleFreeAdamW``)."""
from __future__ import annotations

import numpy as np

from nnforge import backend

from .optimizer import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW (Defazio et al., 2024), as ``keras.optimizers.ScheduleFreeAdamW``.

    The ``momentum`` slot holds the base sequence ``z`` (starting at the variable's value), the
    variable holds the interpolation ``y = (1 - beta_1) z + beta_1 x`` and ``x`` is the running
    average of ``z`` with weight ``1/t``; ``z -= lr g / (sqrt(v_hat) + epsilon)``. The rate ramps
    up linearly over ``warmup_steps``.

    Args:
        learning_rate: float or schedule (default 0.0025).
        beta_1: the interpolation factor (0.9).
        beta_2: the second-moment decay (0.999).
        epsilon: small constant for numerical stability (1e-8).
        warmup_steps: steps of linear warm-up (0: none).
        **kwargs: the base optimizer's arguments (``weight_decay``, ``clipnorm``, ...).

    Example:

    >>> opt = nnforge.optimizers.ScheduleFreeAdamW(learning_rate=0.0025, warmup_steps=100)
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, name: str = "schedule_free_adam_w", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.warmup_steps = warmup_steps

    def _slot_names(self):
        return ("momentum", "velocity")

    def _init_slots(self, v, slots):
        slots[0].data[...] = v.data

    def _apply(self, pairs):
        for _, v in pairs:  # z starts at the variable's value before any weight decay
            self._ensure_slots(v)
        return super()._apply(pairs)

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        f = np.float32
        t = f(step)
        lr = f(lr)
        if self.warmup_steps > 0:
            lr = lr * min(t / f(self.warmup_steps), f(1))
        z, v = slots[0].data, slots[1].data
        b1, b2 = f(self.beta_1), f(self.beta_2)
        bc2 = f(1) - b2 ** t
        v += (g * g - v) * (f(1) - b2)
        z -= lr * g / (xp.sqrt(v / bc2) + f(self.epsilon))
        weight = f(1) / t
        y = variable.data
        # Keras 3 (TensorFlow and torch backends) reads the momentum after its update here
        # (``momentum.value`` is the live variable), so x is recovered from the new z; we match.
        x_old = (y - (f(1) - b1) * z) / b1
        x_new = (f(1) - weight) * x_old + weight * z
        y[...] = (f(1) - b1) * z + b1 * x_new

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "warmup_steps": self.warmup_steps})
        return config
