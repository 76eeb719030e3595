"""``ReduceLROnPlateau``: lower the learning rate when a metric stops improving."""
from __future__ import annotations

import warnings

import numpy as np

from ..utils import io_utils
from .callback import Callback


def _get_lr(optimizer) -> float:
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError('The model\'s optimizer must have a "learning_rate" attribute.')
    return float(np.asarray(optimizer.learning_rate))


class ReduceLROnPlateau(Callback):
    """Reduce the learning rate when a metric has stopped improving.

    After ``patience`` epochs without improvement, ``model.optimizer.learning_rate`` becomes
    ``max(lr * factor, min_lr)``; then ``cooldown`` epochs pass before waiting resumes. The
    current rate is added to the epoch logs as ``'learning_rate'``.

    Args:
        monitor: quantity to be monitored.
        factor: multiplier applied to the learning rate (must be < 1).
        patience: epochs with no improvement before the rate is reduced.
        verbose: 0 quiet, 1 prints a message on each reduction.
        mode: ``'auto'``, ``'min'`` or ``'max'`` (``'auto'``: max when the name contains
            ``'acc'``, else min, as Keras).
        min_delta: threshold for measuring a new optimum.
        cooldown: epochs to wait after a reduction before resuming normal operation.
        min_lr: lower bound on the learning rate.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
        self.monitor = monitor
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0
        self.mode = mode
        self.monitor_op = None
        self._reset()

    def _reset(self):
        if self.mode not in {"auto", "min", "max"}:
            warnings.warn(
                f"Learning rate reduction mode {self.mode} is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            self.mode = "auto"
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _get_lr(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(list(logs.keys()))}.",
                stacklevel=2,
            )
            return
        current = float(np.asarray(current))
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0

        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _get_lr(self.model.optimizer)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        io_utils.print_msg(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0
