"""``compile``, ``fit``, ``evaluate``, ``predict`` and the per-batch methods, with Keras's
semantics, callbacks and logs."""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

import numpy as np

from nnforge import backend, optimizers, random_state
from nnforge import distribution as distribution_lib
from nnforge.core.tape import GradientTape, stop_recording
from nnforge.core.tensor import Tensor
from nnforge.layers.node import flatten, map_structure

from . import data_adapter as da
from nnforge.metrics import Mean

from .compile_utils import CompiledLossAndMetrics


def _scalar(x) -> float:
    if isinstance(x, Tensor):
        x = x.data
    return float(x)


def _annotate(err: BaseException, where: str) -> BaseException:
    if hasattr(err, "add_note"):
        err.add_note(where)
    return err


class Trainer:
    """Mixin giving ``Model`` Keras's training and inference API."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.stop_training = False
        self.history = None
        self._compiled = None
        self._loss_tracker = None
        self._train_vars = None
        self.epochs_trained = 0  # epochs completed by fit (saved in checkpoints, for resuming)

    # -- compile -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile="auto", auto_scale_loss: bool = True) -> None:
        """Configure the model for training.

        Args:
            optimizer: name ('adam', 'sgd', ...) or optimizer instance.
            loss: name, function or Loss (a list/dict for several outputs).
            loss_weights: weights of the per-output losses (list or dict).
            metrics: list of metric names/functions/objects ('accuracy' is resolved from the
                loss), or a list/dict of such lists per output.
            weighted_metrics: metrics weighted by sample_weight.
        """
        self.optimizer = optimizers.get(optimizer)
        names = self.output_names or ["output"]
        self._compiled = CompiledLossAndMetrics(loss, loss_weights, metrics, weighted_metrics,
                                                names) if loss is not None else None
        self._compile_args = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics}
        from nnforge.metrics import Mean
        self._loss_tracker = Mean(name="loss")
        self.compiled = True
        self.stop_training = False

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call compile() on model '{self.name}' before "
                               f"{what}()")
        if self._compiled is None:
            raise ValueError(f"Model '{self.name}': compile() was given no loss, so it cannot "
                             f"be {'trained' if what == 'fit' else 'evaluated'}")

    @property
    def metrics(self) -> list:
        out = [self._loss_tracker] if self._loss_tracker is not None else []
        if self._compiled is not None:
            out += self._compiled.all_metrics()
        return out

    @property
    def metrics_names(self) -> List[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()
        self._output_loss_trackers = {}

    # -- one step ------------------------------------------------------------------------------
    def _device_targets(self, y):
        be = backend.current()

        def conv(a):
            if a is None or isinstance(a, Tensor):
                return a
            if backend.of(a) is be and a.dtype != np.float64:
                return a
            arr = backend.to_numpy(a) if backend.is_array(a) else np.asarray(a)
            if arr.dtype == np.float64:
                arr = arr.astype(np.float32)
            return be.asarray(arr, dtype=arr.dtype)
        return map_structure(conv, y)

    def _loss_and_outputs(self, x, y, sample_weight, training: bool):
        y_pred = self(x, training=training)
        extra = self.losses if training else []
        loss, per_output = self._compiled.compute_loss(y, y_pred, sample_weight, extra)
        return loss, per_output, y_pred

    def _update_logs(self, loss, per_output, y, y_pred, sample_weight, batch_size) -> dict:
        comp = self._compiled
        if comp.metrics is None:
            comp.build_metrics(y, y_pred)
        tracker = self._loss_tracker
        tracker.total += _scalar(loss) * batch_size
        tracker.count += batch_size
        if len(comp.output_names) > 1:
            trackers = getattr(self, "_output_loss_trackers", None)
            if trackers is None:
                trackers = self._output_loss_trackers = {}
            from nnforge.metrics import Mean
            for name, value in zip(comp.output_names, per_output):
                if value is None:
                    continue
                t = trackers.get(name)
                if t is None:
                    t = trackers[name] = Mean(name=f"{name}_loss")
                t.total += _scalar(value) * batch_size
                t.count += batch_size
        ys_t, ys_p = flatten(y), flatten(y_pred)
        sws = flatten(sample_weight) if sample_weight is not None else [None] * len(ys_p)
        if len(sws) == 1 and len(ys_p) > 1:
            sws = sws * len(ys_p)
        for i, entries in enumerate(comp.metrics):
            for name, m, weighted in entries:
                m.update_state(ys_t[i], ys_p[i], sample_weight=sws[i] if weighted else None)
        return self._logs()

    def _logs(self) -> dict:
        logs = {"loss": _scalar(self._loss_tracker.result())}
        for name, t in (getattr(self, "_output_loss_trackers", None) or {}).items():
            logs[f"{name}_loss"] = _scalar(t.result())
        comp = self._compiled
        for entries in (comp.metrics or []):
            for name, m, _ in entries:
                if type(m).result is Mean.result:  # a running mean: no tensor round trip
                    logs[name] = m.total / m.count if m.count else 0.0
                    continue
                r = m.result()
                r = r.numpy() if isinstance(r, Tensor) else r
                logs[name] = float(r) if np.ndim(r) == 0 else np.asarray(r)
        return dict(sorted(logs.items()))

    def _train_batch(self, x, y, sample_weight) -> dict:
        x = self._standardize_inputs(x)
        y = self._device_targets(y)
        if sample_weight is not None:
            sample_weight = self._device_targets(sample_weight)
        if self._train_vars is None and not self.built:
            with stop_recording():
                self(x, training=False)
        self._clear_losses()
        with GradientTape() as tape:
            loss, per_output, y_pred = self._loss_and_outputs(x, y, sample_weight, True)
        if self._train_vars is None:
            self._train_vars = self.trainable_weights
        tv = self._train_vars
        if not tv:
            raise ValueError(f"Model '{self.name}' has no trainable weights to train")
        # Dense and Conv2D write their parameters' gradients into arrays allocated once.
        grads = tape._gradient_into_buffers(loss, tv)
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: one collective sums gradients and metric states
            logs = self._update_logs(loss, per_output, y, y_pred, sample_weight,
                                     int(flatten(x)[0].shape[0]))
            logs = strategy.reduce_step(self, grads, tv)
        # Gradients from our own tape already have each variable's shape, dtype and device.
        be = backend.of(tv[0].data)
        self.optimizer._apply([(be.asarray(g.data, dtype=v.data.dtype), v)
                               for g, v in zip(grads, tv) if g is not None])
        if strategy is not None:
            return logs
        batch_size = int(flatten(x)[0].shape[0])
        return self._update_logs(loss, per_output, y, y_pred, sample_weight, batch_size)

    def _test_batch(self, x, y, sample_weight) -> dict:
        x = self._standardize_inputs(x)
        y = self._device_targets(y)
        if sample_weight is not None:
            sample_weight = self._device_targets(sample_weight)
        with stop_recording():
            loss, per_output, y_pred = self._loss_and_outputs(x, y, sample_weight, False)
        batch_size = int(flatten(x)[0].shape[0])
        logs = self._update_logs(loss, per_output, y, y_pred, sample_weight, batch_size)
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: logs of the metric states summed over processes
            logs = strategy.reduce_logs(self)
        return logs

    def _predict_batch(self, x):
        x = self._standardize_inputs(x)
        with stop_recording():
            out = self(x, training=False)
        return map_structure(lambda t: backend.to_numpy(t.data if isinstance(t, Tensor) else t),
                             out)

    # -- data ----------------------------------------------------------------------------------
    def _prepare(self, x, y, sample_weight, what):
        if x is None:
            raise ValueError(f"{what}: x is required")
        x = da.to_host(x)
        da.check_numeric(x, f"{what}: x")
        if isinstance(x, dict) and getattr(self, "input_names", None):
            x = self._flat_inputs(x) if len(self.input_names) > 1 else x[self.input_names[0]] \
                if self.input_names[0] in x else x
        y = da.to_host(y) if y is not None else None
        if y is not None:
            da.check_numeric(y, f"{what}: y")
            if isinstance(y, dict) and self.output_names:
                missing = [n for n in self.output_names if n not in y]
                if missing:
                    raise ValueError(f"{what}: y is missing targets for outputs {missing}")
                y = [y[n] for n in self.output_names] if len(self.output_names) > 1 \
                    else y[self.output_names[0]]
        sample_weight = da.to_host(sample_weight) if sample_weight is not None else None

        def f32(a):
            return a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 \
                else a
        return map_structure(f32, x), y, sample_weight

    def _class_weights(self, y, class_weight: dict):
        if isinstance(y, (list, tuple)) and len(y) > 1:
            raise ValueError("fit: class_weight is only supported for models with one output")
        yy = y[0] if isinstance(y, (list, tuple)) else y
        ids = np.argmax(yy, axis=-1) if yy.ndim > 1 and yy.shape[-1] > 1 else \
            np.asarray(yy).reshape(len(yy), -1)[:, 0].astype(np.int64)
        w = np.ones(len(ids), dtype=np.float32)
        for k, v in class_weight.items():
            w[ids == int(k)] = v
        return w

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size: Optional[int] = None, epochs: int = 1,
            verbose="auto", callbacks=None, validation_split: float = 0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch: int = 0, steps_per_epoch: Optional[int] = None,
            validation_steps: Optional[int] = None, validation_batch_size: Optional[int] = None,
            validation_freq: int = 1):
        """Train the model for a fixed number of epochs; returns a ``History``.

        Args:
            x, y: input data and targets: arrays, lists or dicts of arrays, or a
                ``PyDataset``/generator yielding ``(x, y[, sample_weight])`` (then y is None).
            batch_size: samples per gradient update (default 32).
            epochs: index of the last epoch to train (see initial_epoch).
            verbose: 'auto'/1 progress bar, 2 one line per epoch, 0 silent.
            callbacks: list of ``keras.callbacks.Callback``.
            validation_split: fraction of the data (taken from the end, before shuffling) used
                for validation.
            validation_data: ``(x_val, y_val[, sample_weight_val])``.
            shuffle: shuffle the training data before each epoch.
            class_weight: dict mapping class ids to loss weights.
            sample_weight: per-sample loss weights.
            initial_epoch: epoch to start from (to resume training).
            steps_per_epoch: batches per epoch (default: the whole data).
            validation_freq: validate every this many epochs.
        """
        self._require_compiled("fit")
        from nnforge.callbacks import CallbackList
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
        if verbose == "auto":
            verbose = 1
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: sync variables and random state at the start
            strategy.begin(self, "fit")
        rng = random_state.global_rng()
        if da.is_iterable_data(x):
            if y is not None:
                raise ValueError("fit: y must be None when x is a PyDataset or generator")
            if validation_split:
                raise ValueError("fit: validation_split is not supported with a PyDataset or "
                                 "generator; pass validation_data")
            train = da.IterableBatches(x, steps_per_epoch, "fit")
            val = None
        else:
            if y is None and self._compiled is not None:
                raise ValueError("fit: y (the targets) is required when x is an array")
            x, y, sample_weight = self._prepare(x, y, sample_weight, "fit")
            val = None
            if validation_split and validation_data is None:
                (x, y, sample_weight), val = da.train_validation_split(x, y, sample_weight,
                                                                       validation_split)
            if class_weight is not None:
                cw = self._class_weights(y, class_weight)
                sample_weight = cw if sample_weight is None else sample_weight * cw
            train = da.ArrayBatches(x, y, sample_weight, 32 if batch_size is None else batch_size,
                                    shuffle, rng,
                                    steps_per_epoch, "fit")
        if validation_data is not None:
            if da.is_iterable_data(validation_data):
                val = validation_data
            else:
                if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (
                        2, 3):
                    raise ValueError("fit: validation_data must be (x_val, y_val) or "
                                     "(x_val, y_val, sample_weight_val)")
                val = tuple(validation_data) + ((None,) if len(validation_data) == 2 else ())
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose,
            epochs=epochs, steps=len(train))
        self.stop_training = False
        self._train_vars = None
        cbs.on_train_begin()
        epoch_logs: Dict[str, Any] = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            logs: Dict[str, Any] = {}
            for step, (xb, yb, swb) in enumerate(train.epoch()):
                if strategy is not None:  # distribution: this process's rows of the batch
                    xb, yb, swb = strategy.shard_batch(self, xb, yb, swb)
                cbs.on_train_batch_begin(step)
                try:
                    logs = self._train_batch(xb, yb, swb)
                except Exception as e:
                    raise _annotate(e, f"(raised in fit, epoch {epoch + 1}, batch {step})")
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                if isinstance(val, tuple):
                    vx, vy, vsw = val
                    val_logs = self.evaluate(vx, vy, sample_weight=vsw,
                                             batch_size=validation_batch_size or batch_size,
                                             steps=validation_steps, verbose=0,
                                             return_dict=True)
                else:
                    val_logs = self.evaluate(val, steps=validation_steps, verbose=0,
                                             return_dict=True)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            self.epochs_trained = epoch + 1
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs=epoch_logs)
        return self.history

    # -- evaluate / predict --------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size: Optional[int] = None, verbose="auto",
                 sample_weight=None, steps: Optional[int] = None, callbacks=None,
                 return_dict: bool = False, **kwargs):
        """Loss and metric values on the data: a scalar (loss only), a list [loss, metrics...],
        or a dict with ``return_dict=True``."""
        self._require_compiled("evaluate")
        from nnforge.callbacks import CallbackList
        if verbose == "auto":
            verbose = 1
        if da.is_iterable_data(x):
            batches = da.IterableBatches(x, steps, "evaluate")
        else:
            x, y, sample_weight = self._prepare(x, y, sample_weight, "evaluate")
            if y is None:
                raise ValueError("evaluate: y (the targets) is required when x is an array")
            batches = da.ArrayBatches(x, y, sample_weight, 32 if batch_size is None else batch_size,
                                      False, None, steps,
                                      "evaluate")
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=False, add_progbar=verbose != 0, model=self, verbose=verbose,
            epochs=1, steps=len(batches))
        self.reset_metrics()
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0's variables everywhere
            strategy.begin(self, "evaluate")
        cbs.on_test_begin()
        logs: Dict[str, Any] = {}
        for step, (xb, yb, swb) in enumerate(batches.epoch()):
            if strategy is not None:  # distribution: this process's rows of the batch
                xb, yb, swb = strategy.shard_batch(self, xb, yb, swb)
            cbs.on_test_batch_begin(step)
            logs = self._test_batch(xb, yb, swb)
            cbs.on_test_batch_end(step, logs)
        if not logs:
            logs = self._logs() if strategy is None else strategy.reduce_logs(self)
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size: Optional[int] = None, verbose="auto",
                steps: Optional[int] = None, callbacks=None):
        """Model outputs for the inputs, batch by batch, as NumPy arrays."""
        from nnforge.callbacks import CallbackList
        if verbose == "auto":
            verbose = 1
        if da.is_iterable_data(x):
            batches = da.IterableBatches(x, steps, "predict")
        else:
            x, _, _ = self._prepare(x, None, None, "predict")
            if da.num_samples(x, "predict: x") == 0:
                return self._predict_batch(x)
            batches = da.ArrayBatches(x, None, None, 32 if batch_size is None else batch_size,
                                      False, None, steps,
                                      "predict")
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=False, add_progbar=verbose != 0, model=self, verbose=verbose,
            epochs=1, steps=len(batches))
        cbs.on_predict_begin()
        outputs = []
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0's variables everywhere
            strategy.begin(self, "predict")
        for step, (xb, _, _) in enumerate(batches.epoch()):
            if strategy is not None:  # distribution: this process's rows of the batch
                xb, _, _ = strategy.shard_batch(self, xb, None, None)
            cbs.on_predict_batch_begin(step)
            out = self._predict_batch(xb)
            if strategy is not None:
                strategy.note_predict_batch()
            outputs.append(out)
            cbs.on_predict_batch_end(step, {"outputs": out})
        if strategy is not None:  # distribution: every process's rows, in order
            outputs = strategy.gather_outputs(outputs)
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("predict: no batches were produced from the input")
        first = outputs[0]
        if isinstance(first, np.ndarray):
            return np.concatenate(outputs, axis=0)
        flat = [flatten(o) for o in outputs]
        joined = [np.concatenate([f[i] for f in flat], axis=0) for i in range(len(flat[0]))]
        it = iter(joined)
        return map_structure(lambda _: next(it), first)

    # -- per-batch API -------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict: bool = False):
        self._require_compiled("train_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "train_on_batch")
        if class_weight is not None:
            cw = self._class_weights(y, class_weight)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        self.reset_metrics()
        self._train_vars = None
        logs = self._train_batch(x, y, sample_weight)
        return self._format_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        self._require_compiled("test_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "test_on_batch")
        self.reset_metrics()
        logs = self._test_batch(x, y, sample_weight)
        return self._format_logs(logs, return_dict)

    def predict_on_batch(self, x):
        x, _, _ = self._prepare(x, None, None, "predict_on_batch")
        return self._predict_batch(x)

    @staticmethod
    def _format_logs(logs: dict, return_dict: bool):
        if return_dict:
            return logs
        values = [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]
        return values[0] if len(values) == 1 else values
