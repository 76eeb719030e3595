"""Base class of all callbacks (Keras 3's ``keras.callbacks.Callback``)."""
from __future__ import annotations


class Callback:
    """Base class used to build new callbacks.

    ``fit``/``evaluate``/``predict`` call these hooks through a ``CallbackList``. ``logs``
    holds the running (batch hooks) or final (epoch/end hooks) metric values, keyed by name
    (``'loss'``, metric names, and ``'val_*'`` at the end of an epoch with validation).

    Attributes:
        params: dict of training parameters (``verbose``, ``epochs``, ``steps``).
        model: the model being trained (set by ``set_model``).
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    @model.setter
    def model(self, model):
        self._model = model

    # Backwards-compatible aliases: the default train-batch hooks forward to them.
    def on_batch_begin(self, batch, logs=None):
        """Alias called by the default ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """Alias called by the default ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch, logs=None):
        """Start of an epoch (training only)."""

    def on_epoch_end(self, epoch, logs=None):
        """End of an epoch; ``logs`` has the epoch's metrics and the ``val_*`` ones."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Start of a batch in ``evaluate`` (or the validation pass of ``fit``)."""

    def on_test_batch_end(self, batch, logs=None):
        """End of a batch in ``evaluate``; ``logs`` has the running metrics."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Start of a batch in ``predict``."""

    def on_predict_batch_end(self, batch, logs=None):
        """End of a batch in ``predict``; ``logs`` may hold ``'outputs'``."""

    def on_train_begin(self, logs=None):
        """Start of ``fit``."""

    def on_train_end(self, logs=None):
        """End of ``fit``."""

    def on_test_begin(self, logs=None):
        """Start of ``evaluate`` (or of ``fit``'s validation pass)."""

    def on_test_end(self, logs=None):
        """End of ``evaluate``."""

    def on_predict_begin(self, logs=None):
        """Start of ``predict``."""

    def on_predict_end(self, logs=None):
        """End of ``predict``."""


class _SaveEveryBatches:
    """The batch counting of callbacks that save every ``save_freq`` batches
    (``ModelCheckpoint``, ``BackupAndRestore``), as Keras counts them: the batches seen since
    the last save, across epoch boundaries. A class using it calls ``_init_save_frequency``
    in its constructor.
    """

    def _init_save_frequency(self, save_freq) -> None:
        """Record ``save_freq`` (``"epoch"`` or a number of batches) and start the counters."""
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    def _should_save_on_batch(self, batch) -> bool:
        """Whether to save after batch ``batch`` (never with ``save_freq="epoch"``)."""
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch
            add_batches = batch + 1
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False
