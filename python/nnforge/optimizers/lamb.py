"""LAMB (``keras.optimizers.Lamb``): Adam with a layer-wise trust ratio."""
from __future__ import annotations

import numpy as np

from nnforge import backend

from .optimizer import Optimizer


class Lamb(Optimizer):
    """LAMB (You et al., 2019), as ``keras.optimizers.Lamb``: the bias-corrected Adam update
    ``u = m_hat / (sqrt(v_hat) + epsilon)`` scaled by ``||w|| / ||u||`` (1 where either norm is
    0): ``w -= ratio * lr * u``.

    Args:
        learning_rate: float or schedule (default 0.001).
        beta_1, beta_2: decay rates of the moment estimates (0.9, 0.999).
        epsilon: small constant for numerical stability (1e-7).
        **kwargs: the base optimizer's arguments (``weight_decay``, ``clipnorm``, ...).

    Example:

    >>> opt = nnforge.optimizers.Lamb(learning_rate=0.002)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name: str = "lamb", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _slot_names(self):
        return ("momentum", "velocity")

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        f = np.float32
        m, v = slots[0].data, slots[1].data
        m += (g - m) * f(1 - self.beta_1)
        v += (g * g - v) * f(1 - self.beta_2)
        b1p = f(1) - f(self.beta_1) ** f(step)
        b2p = f(1) - f(self.beta_2) ** f(step)
        update = (m / b1p) / (xp.sqrt(v / b2p) + f(self.epsilon))
        w = variable.data
        w_norm = float(xp.sqrt((w * w).sum()))
        g_norm = float(xp.sqrt((update * update).sum()))
        ratio = w_norm / g_norm if w_norm > 0 and g_norm > 0 else 1.0
        w -= f(ratio) * f(lr) * update

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
