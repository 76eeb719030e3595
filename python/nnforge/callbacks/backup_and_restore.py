"""``BackupAndRestore``: resume an interrupted ``fit`` from the last backup."""
from __future__ import annotations

import json
import os
import shutil

from .callback import Callback, _SaveEveryBatches


class BackupAndRestore(_SaveEveryBatches, Callback):
    """Back up the model's weights and the epoch reached to ``backup_dir`` during ``fit``, and
    restore them when ``fit`` starts again after an interruption
    (``keras.callbacks.BackupAndRestore``).

    At the start of ``fit`` the weights in ``backup_dir/latest.weights.h5`` (if any) are loaded
    and training resumes at the epoch recorded in ``training_metadata.json``. The backup is
    written at the end of each epoch (``save_freq="epoch"``) or every ``save_freq`` batches,
    and deleted when ``fit`` completes (unless ``delete_checkpoint=False``).

    Args:
        backup_dir: the folder of the backup files (one per ``fit`` job).
        save_freq: ``"epoch"`` or a number of batches.
        double_checkpoint: keep the previous backup as ``*.bkp``, used when the latest one
            cannot be read.
        delete_checkpoint: delete ``backup_dir`` when training ends.

    Example:

    >>> cb = nnforge.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
    >>> model.fit(x, y, epochs=10, callbacks=[cb])   # interrupted? run it again: it resumes
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        self._init_save_frequency(save_freq)
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        if not backup_dir:
            raise ValueError("BackupAndRestore: empty `backup_dir` argument passed")
        self.backup_dir = os.fspath(backup_dir)
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError("BackupAndRestore: invalid value for argument `save_freq`. "
                             f"Received: save_freq={save_freq}. Expected either 'epoch' or an "
                             "integer value.")

    def on_train_begin(self, logs=None):
        try:
            self._load_model()
        except (OSError, ValueError) as e:
            if not os.path.exists(self._prev_weights_path):
                raise e
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self):
        if not getattr(self.model, "built", True):
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             f"before you call `fit()`. Model {self.model} is unbuilt. You can "
                             "build it beforehand by calling it on a batch of data.")
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                metadata = json.loads(f.read())
            self.model._initial_epoch = metadata["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model()

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            shutil.copyfile(self._weights_path, self._prev_weights_path)
        if self.double_checkpoint and os.path.exists(self._training_metadata_path):
            shutil.copyfile(self._training_metadata_path, self._prev_training_metadata_path)
        self.model.save_weights(self._weights_path, overwrite=True)
        with open(self._training_metadata_path, "w") as f:
            f.write(json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen}))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
