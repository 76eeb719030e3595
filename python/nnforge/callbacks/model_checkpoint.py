"""``ModelCheckpoint``: save the model or its weights during training."""
from __future__ import annotations

import inspect
import os
import warnings

import numpy as np

from ..utils import io_utils
from .callback import _SaveEveryBatches
from .monitor_callback import MonitorCallback


def _call_save(fn, filepath):
    """``fn(filepath, overwrite=True)`` when ``fn`` takes ``overwrite``, else ``fn(filepath)``."""
    try:
        params = inspect.signature(fn).parameters
        takes_overwrite = "overwrite" in params or any(
            p.kind == p.VAR_KEYWORD for p in params.values())
    except (TypeError, ValueError):
        takes_overwrite = False
    if takes_overwrite:
        fn(filepath, overwrite=True)
    else:
        fn(filepath)


class ModelCheckpoint(_SaveEveryBatches, MonitorCallback):
    """Callback to save the model or its weights at some frequency.

    Args:
        filepath: where to save. It may hold ``str.format`` fields filled from ``epoch``
            (1-based), ``batch`` (1-based, batch-level saving) and the logs, e.g.
            ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``. Must end in ``.weights.h5`` when
            ``save_weights_only=True``, else in ``.keras`` or ``.h5`` (Keras's rule).
        monitor: logged quantity compared when ``save_best_only=True``.
        verbose: 0 silent, 1 prints when saving.
        save_best_only: only save when the monitored quantity improved.
        save_weights_only: ``model.save_weights(path)`` instead of ``model.save(path)``.
        mode: ``'auto'``, ``'min'`` or ``'max'``.
        save_freq: ``'epoch'`` or an integer number of batches.
        initial_value_threshold: initial "best" value for ``save_best_only``.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self._init_save_frequency(save_freq)

        if self.save_freq != "epoch" and (
                isinstance(self.save_freq, bool) or not isinstance(self.save_freq, int)
                or self.save_freq < 1):
            raise ValueError(
                f"Unrecognized save_freq: {self.save_freq}. Expected save_freq are 'epoch' "
                "or integer values"
            )
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.h5` (Keras weights format). Received: "
                    f"filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). Received: "
                f"filepath={self.filepath}"
            )

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_model(self, epoch, batch, logs, filepath):
        logs = logs or {}
        if not self.save_best_only:
            if self.verbose > 0:
                io_utils.print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available.", stacklevel=2
            )
            return True
        if isinstance(current, np.ndarray) and current.ndim > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. Received: "
                f"{current}. Falling back to `save_best_only=False`.", stacklevel=2
            )
            return True
        current = float(np.asarray(current))
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                io_utils.print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            io_utils.print_msg(
                f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}"
            )
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used "
                f"is an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            _call_save(self.model.save_weights, filepath)
        else:
            _call_save(self.model.save, filepath)
        if self.verbose > 0:
            io_utils.print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}'
            ) from e
