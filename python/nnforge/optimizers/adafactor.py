"""Adafactor (``keras.optimizers.Adafactor``): factored second moments."""
from __future__ import annotations

import math

import numpy as np

from nnforge import backend
from nnforge.core.tensor import Variable

from .optimizer import Optimizer


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018), as ``keras.optimizers.Adafactor``.

    For a variable of rank >= 2 the second moment is kept as a row factor ``r`` (shape
    ``shape[:-1]``) and a column factor ``c`` (``shape[:-2] + shape[-1:]``), their outer product
    normalised by ``mean(r)``; rank < 2 variables keep a full ``v``. The step is
    ``max(epsilon_2, rms(w)) * min(lr, 1/sqrt(t))`` times the update clipped to rms
    ``clip_threshold``.

    Args:
        learning_rate: float or schedule (default 0.001).
        beta_2_decay: the decay exponent of the second-moment rate (default -0.8).
        epsilon_1: added to the squared gradient (1e-30).
        epsilon_2: the smallest parameter scale (1e-3).
        clip_threshold: the rms the update is clipped to (1.0).
        relative_step: cap a constant learning rate by ``1/sqrt(t)`` (default True).
        **kwargs: the base optimizer's arguments (``weight_decay``, ``clipnorm``, ...).

    Example:

    >>> opt = nnforge.optimizers.Adafactor(learning_rate=0.01)
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, name: str = "adafactor", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step

    def _ensure_slots(self, v):
        slots = self._slots.get(id(v))
        if slots is None:
            be = backend.of(v.data)
            shape = tuple(v.shape)
            dt = v.data.dtype
            if len(shape) >= 2:
                spec = (("r", shape[:-1], dt), ("c", shape[:-2] + shape[-1:], dt),
                        ("velocity", shape, dt))
            else:  # Keras keeps (unused) int32 scalars as r and c of a vector
                spec = (("r", (), np.int32), ("c", (), np.int32), ("velocity", shape, dt))
            slots = tuple(Variable(be.zeros(s, d), trainable=False, name=f"{v.name}_{n}")
                          for n, s, d in spec)
            for s, (n, shp, d) in zip(slots, spec):
                s._path = f"{self.name}/{v.path.replace('/', '_')}_{n}"
                s.data = be.zeros(shp, d)  # exactly this shape and dtype (0-d int32 included)
            self._slots[id(v)] = slots
            self._slot_order.append(id(v))
        return slots

    def update_step(self, g, variable, lr, step, slots):
        xp = backend.of(g).xp
        f = np.float32
        w = variable.data
        t = f(step)
        lr = f(lr)
        if not callable(self._learning_rate) and self.relative_step:
            lr = min(lr, f(1) / f(math.sqrt(t)))
        rho = min(lr, f(1) / f(math.sqrt(t)))
        alpha = max(f(self.epsilon_2), f(float(xp.sqrt(xp.mean(w * w))))) * rho
        reg = g * g + f(self.epsilon_1)
        beta = f(1) - f(t ** f(self.beta_2_decay))
        if w.ndim >= 2:
            r, c, v = slots[0].data, slots[1].data, slots[2].data
            r[...] = beta * r + (f(1) - beta) * reg.mean(axis=-1)
            c[...] = beta * c + (f(1) - beta) * reg.mean(axis=-2)
            v[...] = (r / r.mean(axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v = slots[2].data
            v[...] = beta * v + (f(1) - beta) * reg
        u = g / xp.sqrt(v)
        rms_u = f(float(xp.sqrt(xp.mean(u * u))))
        w -= alpha * (u / max(f(1), rms_u / f(self.clip_threshold)))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                       "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                       "relative_step": self.relative_step})
        return config
