"""``LearningRateScheduler``: set the learning rate from a function of the epoch."""
from __future__ import annotations

import inspect
import numbers

import numpy as np

from ..utils import io_utils
from .callback import Callback


def _accepts_two_args(fn) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    positional = 0
    for p in sig.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            return True
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional >= 2


class LearningRateScheduler(Callback):
    """Learning rate scheduler.

    At the start of every epoch, ``schedule(epoch, lr)`` (epoch 0-based, ``lr`` the current
    rate as a float; ``schedule(epoch)`` is accepted too) gives the new rate, which is written
    to ``model.optimizer.learning_rate``. The rate is added to the epoch logs as
    ``'learning_rate'``.

    Args:
        schedule: function ``(epoch, lr) -> float``.
        verbose: 0 quiet, 1 prints the rate each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be callable; got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = float(np.asarray(optimizer.learning_rate))
        if _accepts_two_args(self.schedule):
            new_lr = self.schedule(epoch, lr)
        else:
            new_lr = self.schedule(epoch)
        if isinstance(new_lr, np.ndarray) and new_lr.ndim == 0:
            new_lr = new_lr[()]
        if isinstance(new_lr, bool) or not isinstance(new_lr, numbers.Real):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {new_lr}"
            )
        new_lr = float(new_lr)
        optimizer.learning_rate = new_lr
        return new_lr

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):
            for idx, opt in enumerate(optimizer.optimizers):
                lr = self._update_optimizer_lr(opt, epoch)
                if self.verbose > 0:
                    io_utils.print_msg(
                        f"\nEpoch {epoch + 1}: LearningRateScheduler setting "
                        f"{getattr(opt, 'name', 'optimizer')}_{idx} learning rate to {lr}."
                    )
        else:
            lr = self._update_optimizer_lr(optimizer, epoch)
            if self.verbose > 0:
                io_utils.print_msg(
                    f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}."
                )

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):
            for idx, opt in enumerate(optimizer.optimizers):
                name = getattr(opt, "name", "optimizer")
                logs[f"learning_rate_{name}_{idx}"] = float(np.asarray(opt.learning_rate))
        else:
            logs["learning_rate"] = float(np.asarray(optimizer.learning_rate))
