"""RMSprop, Adagrad and Adadelta with Keras 3's update formulas."""
from __future__ import annotations

import numpy as np

from nnforge import backend

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (``keras.optimizers.RMSprop``): ``v = rho v + (1 - rho) g^2;
    w -= lr g / sqrt(v + epsilon)`` (with momentum and centered variants)."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name: str = "rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def _slot_names(self):
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return tuple(names)

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        f = np.float32
        vel = slots[0].data
        i = 1
        mom = None
        if self.momentum > 0:
            mom = slots[i].data
            i += 1
        vel[...] = f(self.rho) * vel + f(1 - self.rho) * g * g
        denom = vel
        if self.centered:
            avg = slots[i].data
            avg[...] = f(self.rho) * avg + f(1 - self.rho) * g
            denom = vel - avg * avg
        inc = f(lr) * g / xp.sqrt(denom + f(self.epsilon))
        if mom is not None:
            mom[...] = f(self.momentum) * mom + inc
            variable.data -= mom
        else:
            variable.data -= inc

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config


class Adagrad(Optimizer):
    """Adagrad (``keras.optimizers.Adagrad``): ``a += g^2; w -= lr g / sqrt(a + epsilon)``."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name: str = "adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _slot_names(self):
        return ("accumulator",)

    def _init_slots(self, v, slots):
        slots[0].data[...] = self.initial_accumulator_value

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        acc = slots[0].data
        acc += g * g
        variable.data -= np.float32(lr) * g / xp.sqrt(acc + np.float32(self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value,
                       "epsilon": self.epsilon})
        return config


class Adadelta(Optimizer):
    """Adadelta (``keras.optimizers.Adadelta``)."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name: str = "adadelta",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def _slot_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        f = np.float32
        ag, ad = slots[0].data, slots[1].data
        ag[...] = f(self.rho) * ag + f(1 - self.rho) * g * g
        delta = -xp.sqrt(ad + f(self.epsilon)) / xp.sqrt(ag + f(self.epsilon)) * g
        ad[...] = f(self.rho) * ad + f(1 - self.rho) * delta * delta
        variable.data += f(lr) * delta

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
