"""``TensorBoard``: log metrics, weight histograms and the model graph for TensorBoard.

Event files are written by ``event_writer.EventFileWriter``, our own TFRecord + protobuf
encoder, so neither TensorFlow nor tensorboardX is needed to write logs; only viewing them needs
the ``tensorboard`` package (``pip install nnforge[tensorboard]``). See event_writer.py for why we
write the format ourselves rather than depend on tensorboardX.
"""
from __future__ import annotations

import os
import time
import warnings
from typing import Dict, Optional

import numpy as np

from nnforge.utils.model_graph import is_graph_model, model_nodes, producer

from . import event_writer
from .callback import Callback


class TensorBoard(Callback):
    """Enable visualizations for TensorBoard (Keras 3's ``keras.callbacks.TensorBoard``).

    Layout and tags are Keras's: ``log_dir/train`` gets ``epoch_<metric>`` scalars (and
    ``epoch_learning_rate``), ``log_dir/validation`` gets the ``val_*`` metrics as
    ``epoch_<metric>``; with ``update_freq="batch"`` or an integer N, ``batch_<metric>`` scalars
    every N training batches (step = global batch count, from 1); ``<weight path>/histogram``
    histograms every ``histogram_freq`` epochs; with ``write_graph``, the model's Keras JSON
    (tag ``keras``, the Graphs tab's conceptual graph) and a graph of its layers. After
    ``evaluate(..., callbacks=[tb])``, ``evaluation_<metric>_vs_iterations`` in ``validation``.

    Args:
        log_dir: directory of the logs (``tensorboard --logdir=log_dir``).
        histogram_freq: epochs between weight histograms; 0 for none.
        write_graph: write the model graph.
        write_images: also write each weight as an image (Keras's layout: biases as a row,
            Dense kernels as a matrix, conv kernels one image per input channel).
        write_steps_per_second: log ``steps_per_second`` per epoch (and per batch).
        update_freq: ``"epoch"``, ``"batch"`` (every batch) or an integer N (every N batches).
        profile_batch: must be 0: profiling needs TensorFlow or JAX's profiler.
        embeddings_freq: must be 0: the embedding projector needs TensorFlow checkpoints.
        embeddings_metadata: unused (only with ``embeddings_freq``).

    Example:

    >>> tb = nnforge.callbacks.TensorBoard(log_dir="./logs", histogram_freq=1)
    >>> model.fit(x, y, epochs=3, validation_split=0.2, callbacks=[tb])
    >>> # then: tensorboard --logdir ./logs
    """

    def __init__(self, log_dir="logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False,
                 update_freq="epoch", profile_batch=0, embeddings_freq: int = 0,
                 embeddings_metadata=None):
        super().__init__()
        if profile_batch:
            raise ValueError("TensorBoard: profiling is not available with nnforge (it needs "
                             f"TensorFlow's or JAX's profiler). Received: profile_batch="
                             f"{profile_batch} (must be 0)")
        if embeddings_freq:
            raise ValueError("TensorBoard: the embedding projector is not available with nnforge "
                             f"(it reads TensorFlow checkpoints). Received: embeddings_freq="
                             f"{embeddings_freq} (must be 0)")
        if update_freq != "epoch" and update_freq != "batch" and not (
                isinstance(update_freq, int) and update_freq > 0):
            raise ValueError("TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"integer, got {update_freq!r}")
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an integer >= 0, got "
                             f"{histogram_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers: Dict[str, event_writer.EventFileWriter] = {}
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._previous_epoch_iterations = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        self._graph_pending = False

    # -- writers -------------------------------------------------------------------------------
    def set_model(self, model):
        """Set the model; writes its graph when ``write_graph``."""
        self._model = model
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._close_writers()
        self._writers = {}
        # A model built by its first batch (no Input) gets its graph after that batch.
        self._graph_pending = bool(self.write_graph) and model is not None
        self._write_model_graph()

    def _writer(self, kind: str) -> event_writer.EventFileWriter:
        writer = self._writers.get(kind)
        if writer is None:
            writer = event_writer.EventFileWriter(
                self._train_dir if kind == "train" else self._val_dir)
            self._writers[kind] = writer
        return writer

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()

    def _write_model_graph(self) -> None:
        model = self.model
        if not self._graph_pending or not model.built:
            return
        self._graph_pending = False
        if not is_graph_model(model):
            return  # Keras writes the graph of Functional and Sequential models only
        writer = self._writer("train")
        try:
            writer.add_text_tensor("keras", model.to_json(), "graph_keras_model", b"1", step=0)
        except Exception as exc:  # as Keras: a model that fails to serialize is not fatal
            warnings.warn(f"TensorBoard: model '{model.name}' failed to serialize as JSON; its "
                          f"Keras graph is not written. {exc}")
        try:
            nodes = model_nodes(model)
        except ValueError:
            return
        defs = [event_writer.node_def(t._keras_history[0].name, "InputLayer", [], [
            ("_output_shapes", event_writer.attr_shapes([t.shape]))]) for t in model.inputs]
        for node in nodes:
            layer = node.layer
            defs.append(event_writer.node_def(
                layer.name, type(layer).__name__,
                [producer(t).name for t in node.input_tensors],
                [("_output_shapes", event_writer.attr_shapes(
                    [t.shape for t in node.output_tensors])),
                 ("dtype", event_writer.attr_string(str(getattr(layer, "dtype", ""))))]))
        writer.add_graph(event_writer.graph_def(defs), step=0)
        writer.flush()

    # -- hooks ---------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if logs and optimizer is not None and hasattr(optimizer, "iterations"):
            writer = self._writer("val")
            for name, value in logs.items():
                scalar = _scalar(value)
                if scalar is not None:
                    writer.add_scalar(f"evaluation_{name}_vs_iterations", scalar,
                                      step=int(optimizer.iterations))
            writer.flush()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self._graph_pending:
            self._write_model_graph()
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq != 0:
            return
        writer = self._writer("train")
        step = self._global_train_batch
        if self.write_steps_per_second:
            elapsed = time.time() - self._batch_start_time
            if elapsed > 0:
                writer.add_scalar("batch_steps_per_second", 1.0 / elapsed, step=step)
        if isinstance(logs, dict):
            for name, value in logs.items():
                scalar = _scalar(value)
                if scalar is not None:
                    writer.add_scalar(f"batch_{name}", scalar, step=step)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            optimizer = getattr(self.model, "optimizer", None)
            self._previous_epoch_iterations = int(getattr(optimizer, "iterations", 0))
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        """Write the epoch's metrics, and the weight histograms every ``histogram_freq``."""
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    # -- summaries -----------------------------------------------------------------------------
    def _log_epoch_metrics(self, epoch: int, logs) -> None:
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        lr = _learning_rate(getattr(self.model, "optimizer", None))
        if lr is not None:
            train_logs["learning_rate"] = lr
        if self.write_steps_per_second:
            optimizer = getattr(self.model, "optimizer", None)
            elapsed = time.time() - self._epoch_start_time
            if elapsed > 0:
                steps = int(getattr(optimizer, "iterations", 0)) - self._previous_epoch_iterations
                train_logs["steps_per_second"] = steps / elapsed
        for kind, entries in (("train", train_logs), ("val", val_logs)):
            if not entries:
                continue
            writer = self._writer(kind)
            for name, value in entries.items():
                scalar = _scalar(value)
                if scalar is not None:
                    writer.add_scalar(f"epoch_{name}", scalar, step=epoch)

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                values = np.asarray(weight.numpy(), dtype=np.float64)
                writer.add_histogram(f"{name}/histogram", values, step=epoch)
                if self.write_images:
                    self._log_weight_as_image(values, f"{name}/image", epoch)

    def _log_weight_as_image(self, weight: np.ndarray, tag: str, epoch: int) -> None:
        """Keras's weight images: float values clipped to [0, 1] and scaled to 0-255."""
        w = np.squeeze(weight)
        if w.ndim == 1:  # bias
            w = w.reshape(1, w.shape[0], 1, 1)
        elif w.ndim == 2:  # Dense kernel
            if w.shape[0] > w.shape[1]:
                w = w.T
            w = w.reshape(1, w.shape[0], w.shape[1], 1)
        elif w.ndim == 3:  # conv kernel: one image per input channel (channels_last)
            w = np.transpose(w, (2, 0, 1))
            w = w.reshape(w.shape[0], w.shape[1], w.shape[2], 1)
        if w.ndim != 4 or w.shape[-1] not in (1, 3, 4):
            return
        images = np.round(np.clip(w, 0.0, 1.0) * 255.0).astype(np.uint8)
        writer = self._writer("train")
        if images.shape[0] == 1:
            writer.add_image(tag, images[0], step=epoch)
        else:  # tf.summary.image keeps max_outputs=3 images
            for i in range(min(3, images.shape[0])):
                writer.add_image(f"{tag}/{i}", images[i], step=epoch)


def _scalar(value) -> Optional[float]:
    """A log value as a float, or None when it is not a scalar."""
    try:
        arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(arr) if arr.size == 1 else None


def _learning_rate(optimizer) -> Optional[float]:
    if optimizer is None or isinstance(optimizer, str):
        return None
    try:
        return _scalar(optimizer.learning_rate)
    except (AttributeError, TypeError):
        return None
