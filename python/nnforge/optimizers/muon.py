"""Muon (``keras.optimizers.Muon``): orthogonalised momentum for 2-D weights, AdamW for the
rest."""
from __future__ import annotations

import math
import re

import numpy as np

from nnforge import backend

from .optimizer import Optimizer


class Muon(Optimizer):
    """Muon, as ``keras.optimizers.Muon``.

    A 2-D variable (not an embedding, not matched by ``exclude_layers``) takes the momentum
    ``m = momentum * m + g``, its Nesterov combination ``g + momentum * m`` orthogonalised by
    ``ns_steps`` Newton-Schulz iterations (coefficients ``muon_a, muon_b, muon_c``), scaled by
    ``sqrt(max(rows, cols)) * rms_rate``. Every other variable takes an AdamW step with rate
    ``learning_rate * adam_lr_ratio``. Weight decay is ``weight_decay`` for the Muon variables
    and ``adam_weight_decay`` for the others.

    Args:
        learning_rate: float or schedule (default 0.001).
        adam_beta_1, adam_beta_2: AdamW's moment decay rates (0.9, 0.999).
        adam_weight_decay: AdamW's decoupled weight decay (0.004).
        epsilon: AdamW's epsilon (1e-7).
        weight_decay: the Muon variables' weight decay (0.004).
        exclude_layers: regular expressions; a variable whose path matches one uses AdamW.
        exclude_embeddings: variables with "embedding" in their path use AdamW (default True).
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients.
        adam_lr_ratio: AdamW's learning rate relative to ``learning_rate``.
        momentum: Muon's momentum (0.95).
        ns_steps: the number of Newton-Schulz iterations (5).
        nesterov: use the Nesterov combination (default True).
        rms_rate: the update rms scale (0.2; None: no scaling).
        **kwargs: the base optimizer's arguments.

    Example:

    >>> opt = nnforge.optimizers.Muon(learning_rate=0.02, exclude_layers=["head"])
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name: str = "muon", exclude_layers=None,
                 exclude_embeddings=True, muon_a=3.4445, muon_b=-4.775, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.adam_beta_1, self.adam_beta_2, self.epsilon = adam_beta_1, adam_beta_2, epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps = adam_lr_ratio, momentum, ns_steps
        self.nesterov, self.exclude_embeddings = nesterov, exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay, self.rms_rate = adam_weight_decay, rms_rate

    def _should_use_adamw(self, variable) -> bool:
        if len(variable.shape) != 2:
            return True
        path = getattr(variable, "path", "") or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(k, path) for k in self.exclude_layers)

    def _ensure_slots(self, v):
        slots = self._slots.get(id(v))
        if slots is None:
            slots = self._create_slots(
                v, ("momentum", "velocity") if self._should_use_adamw(v) else ("momentum",))
        return slots

    def _apply(self, pairs):
        wd = self._muon_weight_decay = self.weight_decay
        self.weight_decay = None  # decayed per variable in update_step (two rates)
        try:
            return super()._apply(pairs)
        finally:
            self.weight_decay = wd

    def update_step(self, g, variable, lr, step, slots):
        f = np.float32
        w = variable.data
        adam = len(slots) == 2
        decay = self.adam_weight_decay if adam else self._muon_weight_decay
        if decay:
            w -= w * f(decay * lr)
        if adam:
            xp = backend.of(g).xp
            m, v = slots
            m, v = m.data, v.data
            a_lr = lr * self.adam_lr_ratio
            alpha = f(a_lr) * f(math.sqrt(1 - f(self.adam_beta_2) ** f(step))) / (
                f(1) - f(self.adam_beta_1) ** f(step))
            m += (g - m) * f(1 - self.adam_beta_1)
            v += (g * g - v) * f(1 - self.adam_beta_2)
            w -= m * f(alpha) / (xp.sqrt(v) + f(self.epsilon))
            return
        m = slots[0].data
        m += g + m * f(self.momentum - 1)
        upd = g + f(self.momentum) * m if self.nesterov else m
        upd = self.zeropower_via_newtonschulz5(upd, self.ns_steps)
        upd = f(lr) * upd
        if self.rms_rate is not None:
            upd = upd * f(math.sqrt(max(upd.shape[0], upd.shape[1]))) * f(self.rms_rate)
        w -= upd

    def zeropower_via_newtonschulz5(self, x, steps: int):
        """The Newton-Schulz orthogonalisation of a (..., rows, cols) array (Keras's method)."""
        xp = backend.of(x).xp
        f = np.float32
        if x.ndim < 2:
            raise ValueError("Muon: expected gradient or momentum to have at least 2 dimensions."
                             f" Received: shape={tuple(x.shape)}")
        a, b, c = f(self.muon_a), f(self.muon_b), f(self.muon_c)
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = xp.swapaxes(x, -1, -2)
        x = x / (xp.sqrt((x * x).sum(axis=(-2, -1), keepdims=True)) + f(1e-7))
        for _ in range(steps):
            ta = x @ xp.swapaxes(x, -1, -2)
            tb = b * ta + c * ta @ ta
            x = a * x + tb @ x
        if tall:
            x = xp.swapaxes(x, -1, -2)
        return x

    def get_config(self):
        config = super().get_config()
        config.update({"adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
                       "epsilon": self.epsilon, "exclude_layers": self.exclude_layers,
                       "muon_a": self.muon_a, "muon_b": self.muon_b, "muon_c": self.muon_c,
                       "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                       "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                       "exclude_embeddings": self.exclude_embeddings,
                       "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate})
        return config
