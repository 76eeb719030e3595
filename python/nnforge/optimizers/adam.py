"""Adam, AdamW, Adamax and Nadam."""
from __future__ import annotations

import numpy as np

from nnforge import backend

from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam (``keras.optimizers.Adam``), one fused kernel per variable:
    ``m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
    w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)``.

    Args:
        learning_rate: float or schedule (default 0.001).
        beta_1, beta_2: decay rates of the moment estimates (0.9, 0.999).
        epsilon: small constant for numerical stability (1e-7).
        amsgrad: whether to use the AMSGrad variant.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, name: str = "adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        for n, b in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= b < 1:
                raise ValueError(f"{type(self).__name__}: {n} must be in [0, 1), got {b}")
        if epsilon <= 0:
            raise ValueError(f"{type(self).__name__}: epsilon must be positive, got {epsilon}")
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def _slot_names(self):
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum",
                                                                               "velocity")

    def update_step(self, gradient, variable, learning_rate, step, slots):
        vhat = slots[2].data if self.amsgrad else None
        backend.of(variable.data).adam_update_(variable.data, gradient, slots[0].data,
                                               slots[1].data, vhat, learning_rate, self.beta_1,
                                               self.beta_2, self.epsilon, step)

    def _update_all(self, pairs, learning_rate, step) -> bool:
        # One kernel call for every variable (the backend's multi-tensor update), when the
        # update is Adam's own and each variable appears once, on one backend that has it.
        if type(self).update_step is not Adam.update_step or len(pairs) < 2:
            return False
        be = backend.of(pairs[0][1].data)
        multi = getattr(be, "adam_update_multi_", None)
        if multi is None or len({id(v) for _, v in pairs}) != len(pairs):
            return False
        slots = self._slots
        ss = [slots.get(id(v)) or self._ensure_slots(v) for _, v in pairs]
        ps = [v.data for _, v in pairs]
        if any(backend.of(p) is not be for p in ps):
            return False
        gs = [g for g, _ in pairs]
        ms = [s[0].data for s in ss]
        vs = [s[1].data for s in ss]
        vhats = [s[2].data for s in ss] if self.amsgrad else None
        multi(ps, gs, ms, vs, vhats, learning_rate, self.beta_1, self.beta_2, self.epsilon, step)
        return True

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (``keras.optimizers.AdamW``, weight_decay=0.004)."""

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-7, amsgrad=False, name: str = "adamw", **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name,
                         weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """Adamax (``keras.optimizers.Adamax``): Adam with the infinity norm."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name: str = "adamax", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _slot_names(self):
        return ("m", "u")

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        m, u = slots[0].data, slots[1].data
        m += (g - m) * np.float32(1 - self.beta_1)
        u[...] = xp.maximum(np.float32(self.beta_2) * u, xp.abs(g))
        variable.data -= np.float32(lr / (1 - self.beta_1 ** step)) * m / (
            u + np.float32(self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


class Nadam(Optimizer):
    """Nadam (``keras.optimizers.Nadam``): Adam with Nesterov momentum, Keras 3's formula."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name: str = "nadam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._u_product = 1.0
        self._u_product_step = 0

    def _slot_names(self):
        return ("momentum", "velocity")

    def _apply(self, pairs):
        step = self.iterations + 1
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96 ** (0.004 * step))
        self._u_t = u_t
        self._u_t1 = self.beta_1 * (1.0 - 0.5 * 0.96 ** (0.004 * (step + 1)))
        self._u_product_t = self._u_product * u_t
        out = super()._apply(pairs)
        self._u_product = self._u_product_t
        return out

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        m, v = slots[0].data, slots[1].data
        u_t, u_t1 = self._u_t, self._u_t1
        u_prod_t = self._u_product_t
        u_prod_t1 = u_prod_t * u_t1
        beta_2_power = self.beta_2 ** step
        m += (g - m) * np.float32(1 - self.beta_1)
        v += (g * g - v) * np.float32(1 - self.beta_2)
        m_hat = np.float32(u_t1 / (1 - u_prod_t1)) * m + np.float32((1 - u_t) / (1 - u_prod_t)) * g
        v_hat = v / np.float32(1 - beta_2_power)
        variable.data -= np.float32(lr) * m_hat / (xp.sqrt(v_hat) + np.float32(self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
