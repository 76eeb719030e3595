"""FTRL-proximal (``keras.optimizers.Ftrl``), Keras 3's update formula."""
from __future__ import annotations

import numpy as np

from nnforge import backend

from .optimizer import Optimizer


class Ftrl(Optimizer):
    """Follow The Regularized Leader (McMahan et al., 2013), as ``keras.optimizers.Ftrl``.

    Per variable: ``n += g^2``; ``z += g' - (n_new^-p - n^-p) / lr * w`` with
    ``g' = g + 2 l2_shrinkage w``; ``w = (clip(z, -l1, l1) - z) / (n_new^-p / lr + 2 l2')`` with
    ``l2' = l2 + beta / (2 lr)`` and ``p = learning_rate_power``.

    Args:
        learning_rate: float or schedule (default 0.001).
        learning_rate_power: <= 0; how the rate decays with the accumulated squared gradient.
        initial_accumulator_value: >= 0; the accumulators' starting value.
        l1_regularization_strength: >= 0.
        l2_regularization_strength: >= 0 (stabilisation penalty).
        l2_shrinkage_regularization_strength: >= 0 (magnitude penalty).
        beta: the FTRL-proximal beta (default 0).
        **kwargs: the base optimizer's arguments (``weight_decay``, ``clipnorm``, ...).

    Example:

    >>> opt = nnforge.optimizers.Ftrl(learning_rate=0.1, l1_regularization_strength=0.01)
    >>> opt.apply(grads, model.trainable_variables)
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, name: str = "ftrl", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        checks = (("initial_accumulator_value", initial_accumulator_value, "positive or zero"),
                  ("l1_regularization_strength", l1_regularization_strength, "positive or zero"),
                  ("l2_regularization_strength", l2_regularization_strength, "positive or zero"),
                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
                   "positive or zero"))
        for n, v, what in checks:
            if v < 0.0:
                raise ValueError(f"Ftrl: `{n}` needs to be {what}. Received: {n}={v}.")
        if learning_rate_power > 0.0:
            raise ValueError("Ftrl: `learning_rate_power` needs to be negative or zero. "
                             f"Received: learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _slot_names(self):
        return ("accumulator", "linear")

    def _init_slots(self, v, slots):
        slots[0].data[...] = self.initial_accumulator_value

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        f = np.float32
        accum, linear = slots[0].data, slots[1].data
        w = variable.data
        p = f(-self.learning_rate_power)
        l2 = f(self.l2_regularization_strength + self.beta / (2.0 * lr))
        lr32 = f(lr)
        grad = g + f(2 * self.l2_shrinkage_regularization_strength) * w \
            if self.l2_shrinkage_regularization_strength else g
        new_accum = accum + g * g
        new_pow = xp.power(new_accum, p)
        linear += grad - (new_pow - xp.power(accum, p)) / lr32 * w
        quadratic = new_pow / lr32 + f(2) * l2
        l1 = f(self.l1_regularization_strength)
        w[...] = (xp.clip(linear, -l1, l1) - linear) / quadratic
        accum[...] = new_accum

    def get_config(self):
        config = super().get_config()
        config.update({"learning_rate_power": self.learning_rate_power,
                       "initial_accumulator_value": self.initial_accumulator_value,
                       "l1_regularization_strength": self.l1_regularization_strength,
                       "l2_regularization_strength": self.l2_regularization_strength,
                       "l2_shrinkage_regularization_strength":
                           self.l2_shrinkage_regularization_strength,
                       "beta": self.beta})
        return config
