"""Lion (``keras.optimizers.Lion``): the sign of an interpolated momentum."""
from __future__ import annotations

import numpy as np

from nnforge import backend

from .optimizer import Optimizer


class Lion(Optimizer):
    """Lion (Chen et al., 2023), as ``keras.optimizers.Lion``:
    ``w -= lr * sign(beta_1 m + (1 - beta_1) g); m = beta_2 m + (1 - beta_2) g``.

    Args:
        learning_rate: float or schedule (default 0.001; Lion wants 3-10x less than AdamW).
        beta_1: the interpolation factor of the update, in (0, 1] (default 0.9).
        beta_2: the decay of the momentum (default 0.99).
        **kwargs: the base optimizer's arguments (``weight_decay``, ``clipnorm``, ...).

    Example:

    >>> opt = nnforge.optimizers.Lion(learning_rate=1e-4, weight_decay=0.01)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name: str = "lion",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Lion: argument `beta_1` must be in the [0, 1] range. Otherwise, "
                             f"the optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1, self.beta_2 = beta_1, beta_2

    def _slot_names(self):
        return ("momentum",)

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        f = np.float32
        m = slots[0].data
        variable.data -= f(lr) * xp.sign(m * f(self.beta_1) + g * f(1.0 - self.beta_1))
        m[...] = m * f(self.beta_2) + g * f(1.0 - self.beta_2)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
