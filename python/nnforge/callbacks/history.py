"""``History``: records the epoch logs of ``fit``; ``fit`` returns it."""
from __future__ import annotations

from .callback import Callback


class History(Callback):
    """Records events into a ``History`` object.

    ``fit`` adds one automatically; after training ``history.history`` maps every logged
    name (``'loss'``, ``'val_loss'``, metrics) to its list of per-epoch values,
    ``history.epoch`` lists the epoch indices and ``history.params`` the fit parameters.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self
