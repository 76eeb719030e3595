"""``compile``, ``fit``, ``evaluate``, ``predict``, the overridable ``train_step``/``test_step``/
``predict_step`` and the per-batch methods, with Keras's semantics, callbacks and logs.

One place per concern:

- batches: ``EpochIterator`` (models/epoch_iterator.py) turns the user's data into batches;
- a step: ``_train_function``/``_test_function``/``_predict_function`` move one batch to the
  device and call ``train_step``/``test_step``/``predict_step`` (the public, overridable steps);
- logs: ``_pythonify_logs`` turns what a step returns into the floats callbacks see;
- callbacks: ``_callback_list`` builds the ``CallbackList`` of each loop.
"""
from __future__ import annotations

import warnings
from typing import Any, Dict, List, Optional

import numpy as np

from nnforge import backend, ops, optimizers, random_state
from nnforge import distribution as distribution_lib
from nnforge.core.tape import GradientTape, stop_recording
from nnforge.core.tensor import Tensor
from nnforge.layers.node import flatten, map_structure
from nnforge.metrics import Mean, Metric

from . import data_adapter as da
from .compile_utils import CompileLoss, CompileMetrics
from .epoch_iterator import EpochIterator

# Metrics the trainer itself creates; every other Metric assigned as a model attribute is a
# user's tracker and joins ``Model.metrics`` (as Keras tracks them).
_COMPILE_ATTRIBUTES = frozenset(("_loss_tracker", "_compile_metrics"))


def _annotate(err: BaseException, where: str) -> BaseException:
    if hasattr(err, "add_note"):
        err.add_note(where)
    return err


def _pythonify_logs(logs) -> Dict[str, Any]:
    """What a step returned, as callbacks and History see it: a flat dict sorted by name (nested
    dicts, such as ``CompileMetrics.result()``, merged in), scalars as Python floats, other
    values as NumPy arrays."""
    if not isinstance(logs, dict):
        return logs
    out: Dict[str, Any] = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            out.update(_pythonify_logs(value))
            continue
        if isinstance(value, Tensor):
            value = value.data
        if backend.is_array(value) or isinstance(value, np.generic):
            value = float(value) if value.ndim == 0 else backend.to_numpy(value)
        out[key] = value
    return dict(sorted(out.items()))


def _logs_to_values(logs: dict):
    """``evaluate``'s list form: the loss first, then the other entries."""
    values = [logs["loss"]] if "loss" in logs else []
    values += [v for k, v in logs.items() if k != "loss"]
    return values[0] if len(values) == 1 else values


def _batch_size(x) -> int:
    if isinstance(x, np.ndarray):
        return int(x.shape[0])
    return int(next(a for a in flatten(x) if a is not None).shape[0])


class Trainer:
    """Mixin giving ``Model`` Keras's training and inference API."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self.epochs_trained = 0  # epochs completed by fit (saved in checkpoints, for resuming)
        self._compile_loss: Optional[CompileLoss] = None
        self._compile_metrics: Optional[CompileMetrics] = None
        self._loss_tracker: Optional[Mean] = None
        self._compile_args: Dict[str, Any] = {}
        # the built-in train_step's trainable variables, listed once per fit / train_on_batch
        self._step_variables: Optional[list] = None
        self.__dict__.setdefault("_metrics", {})

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Metric) and name not in _COMPILE_ATTRIBUTES:
            self.__dict__.setdefault("_metrics", {})[name] = value
        super().__setattr__(name, value)

    # -- compile -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile="auto", auto_scale_loss: bool = True) -> None:
        """Configure the model for training.

        Args:
            optimizer: name ('adam', 'sgd', ...) or optimizer instance.
            loss: name, function or Loss (a list/dict for several outputs). May be omitted when
                the model adds its own losses (``add_loss``) or overrides ``train_step``.
            loss_weights: weights of the per-output losses (list or dict).
            metrics: list of metric names/functions/objects ('accuracy' is resolved from the
                loss), or a list/dict of such lists per output.
            weighted_metrics: metrics weighted by sample_weight.

        Example:

        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
        ...               metrics=["accuracy"])
        """
        self.optimizer = optimizers.get(optimizer)
        names = self.output_names or ["output"]
        self._compile_loss = CompileLoss(loss, loss_weights, names) if loss is not None \
            else None
        self.loss = loss
        if metrics is not None or weighted_metrics is not None:
            self._compile_metrics = CompileMetrics(
                metrics, weighted_metrics, names,
                self._compile_loss.losses if self._compile_loss is not None else None)
        else:
            self._compile_metrics = None
        self._compile_args = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics}
        self._loss_tracker = Mean(name="loss")
        self.compiled = True
        self.stop_training = False

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call compile() on model '{self.name}' before "
                               f"{what}()")

    @property
    def metrics(self) -> list:
        """The metrics the model tracks: the loss tracker, the compiled metrics, the per-output
        loss trackers, then the ``Metric`` objects assigned as attributes of the model (in that
        order, as Keras lists them). ``reset_metrics`` resets all of them."""
        out: list = []
        if self.compiled:
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        out.extend(self._metrics.values())
        return out

    @property
    def metrics_names(self) -> List[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        """Reset the state of every metric in ``self.metrics``."""
        for m in self.metrics:
            m.reset_state()

    @property
    def compiled_metrics(self) -> CompileMetrics:
        """The compiled metrics (``compile(metrics=...)``), as ``tf.keras``'s
        ``self.compiled_metrics``: ``update_state(y, y_pred, sample_weight)``, ``result()``."""
        if self._compile_metrics is None:
            return CompileMetrics(None, None, self.output_names or ["output"])
        return self._compile_metrics

    def compiled_loss(self, y, y_pred, sample_weight=None, regularization_losses=None):
        """``tf.keras``'s ``self.compiled_loss(y, y_pred, sample_weight, regularization_losses)``:
        the compiled loss plus the model's added losses (``compute_loss``)."""
        return self.compute_loss(x=None, y=y, y_pred=y_pred, sample_weight=sample_weight)

    # -- the overridable steps -----------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch: the compiled loss (if any) plus the losses the layers added
        (``self.losses``: ``add_loss`` and weight regularizers).

        Override it to change how the loss is computed while keeping the built-in steps.

        Args:
            x: the inputs.
            y: the targets.
            y_pred: the model's predictions (``model(x)``).
            sample_weight: per-sample weights for the compiled loss.
            training: whether the loss is computed for training.

        Returns:
            A scalar Tensor.

        Example:

        >>> loss = self.compute_loss(y=y, y_pred=y_pred)
        """
        total = self._compile_loss(y, y_pred, sample_weight) \
            if self._compile_loss is not None else None
        for extra in self.losses:
            if getattr(extra, "ndim", 0):
                extra = ops.sum(extra)
            total = extra if total is None else ops.add(total, extra)
        if total is None:
            raise ValueError(f"Model '{self.name}': no loss to compute. Provide a `loss` "
                             "argument in `compile()`, add losses with `add_loss`, or "
                             "override `train_step`.")
        return total

    def _call_compute_loss(self, x, y, y_pred, sample_weight, training: bool):
        """``compute_loss``, also for overrides written without the ``training`` argument."""
        try:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        except TypeError as e:
            if "training" not in str(e):
                raise
            return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> Dict[str, Any]:
        """Update the compiled metrics with a batch and return every metric's value
        (``get_metrics_result``). Override it to update metrics of your own.

        Args:
            x: the inputs (unused by default).
            y: the targets.
            y_pred: the model's predictions.
            sample_weight: per-sample weights.

        Returns:
            A dict of metric names to values, passed to the callbacks as logs.

        Example:

        >>> return self.compute_metrics(x, y, y_pred, sample_weight)
        """
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> Dict[str, Any]:
        """The values of ``self.metrics`` as a dict (a metric whose result is a dict, such as
        the compiled metrics, contributes its entries)."""
        out: Dict[str, Any] = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                out.update(r)
            else:
                out[m.name] = r
        return out

    def train_step(self, data) -> Dict[str, Any]:
        """One training step on a batch; ``fit`` calls it once per batch.

        The default runs the model under a ``GradientTape``, computes the loss
        (``compute_loss``), applies the gradients with ``self.optimizer`` and returns
        ``compute_metrics``. Override it to customise training, as in Keras's guide
        "Customizing what happens in fit()".

        Args:
            data: the batch: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            A dict of values to log (shown in the progress bar and kept in History).

        Example:

        >>> class CustomModel(nnforge.Model):
        ...     def train_step(self, data):
        ...         x, y = data
        ...         with nnforge.GradientTape() as tape:
        ...             y_pred = self(x, training=True)
        ...             loss = self.compute_loss(y=y, y_pred=y_pred)
        ...         grads = tape.gradient(loss, self.trainable_variables)
        ...         self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        ...         return self.compute_metrics(x, y, y_pred)
        """
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._call_compute_loss(x, y, y_pred, sample_weight, True)
            scale_loss = getattr(self.optimizer, "scale_loss", None)  # LossScaleOptimizer
            grad_loss = scale_loss(loss) if scale_loss is not None else loss
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        variables = self._step_variables
        if variables is None:
            variables = self._step_variables = self.trainable_weights
        if variables:
            # Dense and Conv2D write the gradients into arrays each Variable keeps between
            # steps; the optimizer consumes them right away.
            grads = tape.gradient_into_buffers(grad_loss, variables)
            strategy = distribution_lib.distribution()
            if strategy is not None:  # distribution: one collective sums gradients and metrics
                self.compute_metrics(x, y, y_pred, sample_weight)
                logs = strategy.reduce_step(self, grads, variables)
                self.optimizer.apply(grads, variables)
                return logs
            self.optimizer.apply(grads, variables)
        else:
            warnings.warn(f"Model '{self.name}' does not have any trainable weights.",
                          stacklevel=2)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data) -> Dict[str, Any]:
        """One evaluation step on a batch (``evaluate`` and validation call it): the loss and
        the metrics, without gradients. Override it to customise evaluation.

        Args:
            data: the batch: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            A dict of values to log.

        Example:

        >>> def test_step(self, data):
        ...     x, y = data
        ...     y_pred = self(x, training=False)
        ...     self.compute_loss(y=y, y_pred=y_pred)
        ...     return self.compute_metrics(x, y, y_pred)
        """
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._call_compute_loss(x, y, y_pred, sample_weight, False)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """One inference step on a batch (``predict`` calls it): the model's outputs.

        Args:
            data: the batch: ``x`` or a tuple whose first entry is ``x``.

        Returns:
            The model's outputs for the batch.

        Example:

        >>> def predict_step(self, data):
        ...     return ops.argmax(self(data, training=False), axis=-1)
        """
        x, _, _ = da.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # -- one batch: device placement, the step, the logs ---------------------------------------
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
        if not isinstance(y, (list, tuple, dict)):
            return conv(y)  # one array (map_structure would make the same single call)
        return map_structure(conv, y)

    def _to_device(self, x, y, sample_weight):
        """A host batch as a step receives it: arrays on the model's device, packed as Keras
        packs them (``x``, ``(x, y)`` or ``(x, y, sample_weight)``)."""
        x = self._standardize_inputs(x)
        y = self._device_targets(y) if y is not None else None
        if sample_weight is not None:
            sample_weight = self._device_targets(sample_weight)
        return da.pack_x_y_sample_weight(x, y, sample_weight)

    def _train_function(self, x, y, sample_weight) -> Dict[str, Any]:
        data = self._to_device(x, y, sample_weight)
        if distribution_lib.distribution() is not None and \
                type(self).train_step is not Trainer.train_step:
            raise NotImplementedError(
                f"Model '{self.name}': a custom train_step is not supported under "
                "nnforge.distribution.DataParallel yet (its gradients would not be summed "
                "across processes); use the built-in step or a single process")
        if not self.built and type(self).train_step is Trainer.train_step:
            # create the weights before the first step, so the step lists them all
            with stop_recording():
                self(da.unpack_x_y_sample_weight(data)[0], training=False)
        return _pythonify_logs(self.train_step(data))

    def _test_function(self, x, y, sample_weight) -> Dict[str, Any]:
        with stop_recording():
            logs = self.test_step(self._to_device(x, y, sample_weight))
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: logs of the metric states summed over processes
            logs = strategy.reduce_logs(self)
        return _pythonify_logs(logs)

    def _predict_function(self, x):
        with stop_recording():
            out = self.predict_step(self._to_device(x, None, None))
        return map_structure(lambda t: backend.to_numpy(t.data if isinstance(t, Tensor) else t),
                             out)

    # -- data ----------------------------------------------------------------------------------
    def _prepare(self, x, y, sample_weight, what):
        """Host arrays of the user's data, with dict inputs/targets ordered by the model's
        input/output names and float64 turned into float32."""
        if x is None:
            raise ValueError(f"{what}: x is required")
        x = da.to_host(x)
        da.check_numeric(x, f"{what}: x",
                         allow_text="string" in getattr(self, "_input_dtypes", list)())
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

    def _requires_targets(self) -> bool:
        """Whether array data must come with y: the built-in train_step with a compiled loss."""
        return self._compile_loss is not None and type(self).train_step is Trainer.train_step

    def _fit_data(self, x, y, sample_weight, validation_split, validation_data, class_weight):
        """The training data (host arrays or a PyDataset/generator) and the validation data
        (``(x, y, sample_weight)`` or a PyDataset/generator, or None)."""
        val = None
        if da.is_iterable_data(x):
            if validation_split:
                raise ValueError("fit: validation_split is not supported with a PyDataset or "
                                 "generator; pass validation_data")
        else:
            if y is None and self._requires_targets():
                raise ValueError("fit: y (the targets) is required when x is an array")
            x, y, sample_weight = self._prepare(x, y, sample_weight, "fit")
            if validation_split and validation_data is None:
                (x, y, sample_weight), val = da.train_validation_split(x, y, sample_weight,
                                                                       validation_split)
            if class_weight is not None:
                cw = da.class_weight_to_sample_weights(y, class_weight)
                sample_weight = cw if sample_weight is None else sample_weight * cw
        if validation_data is not None:
            if da.is_iterable_data(validation_data):
                val = validation_data
            else:
                if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (
                        2, 3):
                    raise ValueError("fit: validation_data must be (x_val, y_val) or "
                                     "(x_val, y_val, sample_weight_val)")
                val = tuple(validation_data) + ((None,) if len(validation_data) == 2 else ())
        return (x, y, sample_weight), val

    def _callback_list(self, callbacks, verbose, epochs: int, steps, history: bool):
        from nnforge.callbacks import CallbackList
        if isinstance(callbacks, CallbackList):
            return callbacks
        return CallbackList(callbacks, add_history=history, add_progbar=verbose != 0,
                            model=self, verbose=verbose, epochs=epochs, steps=steps)

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

        Example:

        >>> history = model.fit(x_train, y_train, batch_size=64, epochs=5,
        ...                     validation_split=0.1)
        """
        self._require_compiled("fit")
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
        verbose = 1 if verbose == "auto" else verbose
        (x, y, sample_weight), val = self._fit_data(x, y, sample_weight, validation_split,
                                                    validation_data, class_weight)
        iterator = EpochIterator(x, y, sample_weight, batch_size, steps_per_epoch, shuffle,
                                 random_state.global_rng(), "fit")
        cbs = self._callback_list(callbacks, verbose, epochs, iterator.num_batches, True)
        self.stop_training = False
        self._step_variables = None
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: sync variables and random state at the start
            strategy.begin(self, "fit")
        self._initial_epoch = None  # a callback (BackupAndRestore) may set where to resume
        cbs.on_train_begin()
        initial_epoch = self._initial_epoch or initial_epoch
        epoch_logs: Dict[str, Any] = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            epoch_logs = self._train_epoch(iterator, cbs, epoch)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._validate(val, validation_batch_size or batch_size,
                                          validation_steps, cbs)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            self.epochs_trained = epoch + 1
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        finalize = getattr(self.optimizer, "finalize_variable_values", None)
        if finalize is not None and epochs > 0:  # use_ema: the averages become the weights
            finalize(self.trainable_weights)
        cbs.on_train_end(logs=epoch_logs)
        return self.history

    def _train_epoch(self, iterator: EpochIterator, cbs, epoch: int) -> Dict[str, Any]:
        logs: Dict[str, Any] = {}
        strategy = distribution_lib.distribution()
        for step, (xb, yb, swb) in iterator.enumerate_epoch():
            if strategy is not None:  # distribution: this process's rows of the batch
                xb, yb, swb = strategy.shard_batch(self, xb, yb, swb)
            cbs.on_train_batch_begin(step)
            try:
                logs = self._train_function(xb, yb, swb)
            except Exception as e:
                raise _annotate(e, f"(raised in fit, epoch {epoch + 1}, batch {step})")
            cbs.on_train_batch_end(step, logs)
            if self.stop_training:
                break
        return dict(logs)

    def _validate(self, val, batch_size, steps, cbs) -> Dict[str, Any]:
        """The validation pass of an epoch: ``evaluate`` with fit's callbacks (they see the
        test hooks, as in Keras; the progress bar stays silent)."""
        if isinstance(val, tuple):
            vx, vy, vsw = val
            return self.evaluate(vx, vy, sample_weight=vsw, batch_size=batch_size, steps=steps,
                                 verbose=0, callbacks=cbs, return_dict=True)
        return self.evaluate(val, steps=steps, verbose=0, callbacks=cbs, return_dict=True)

    # -- evaluate / predict --------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size: Optional[int] = None, verbose="auto",
                 sample_weight=None, steps: Optional[int] = None, callbacks=None,
                 return_dict: bool = False, **kwargs):
        """Loss and metric values on the data: a scalar (loss only), a list [loss, metrics...],
        or a dict with ``return_dict=True``.

        Example:

        >>> loss, acc = model.evaluate(x_test, y_test, verbose=0)
        """
        self._require_compiled("evaluate")
        verbose = 1 if verbose == "auto" else verbose
        if not da.is_iterable_data(x):
            x, y, sample_weight = self._prepare(x, y, sample_weight, "evaluate")
            if y is None and self._compile_loss is not None and \
                    type(self).test_step is Trainer.test_step:
                raise ValueError("evaluate: y (the targets) is required when x is an array")
        iterator = EpochIterator(x, y, sample_weight, batch_size, steps, False, None,
                                 "evaluate")
        cbs = self._callback_list(callbacks, verbose, 1, iterator.num_batches, False)
        self.reset_metrics()
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0's variables everywhere
            strategy.begin(self, "evaluate")
        cbs.on_test_begin()
        logs: Dict[str, Any] = {}
        for step, (xb, yb, swb) in iterator.enumerate_epoch():
            if strategy is not None:  # distribution: this process's rows of the batch
                xb, yb, swb = strategy.shard_batch(self, xb, yb, swb)
            cbs.on_test_batch_begin(step)
            logs = self._test_function(xb, yb, swb)
            cbs.on_test_batch_end(step, logs)
        if not logs:
            logs = _pythonify_logs(self.get_metrics_result() if strategy is None
                                   else strategy.reduce_logs(self))
        cbs.on_test_end(logs)
        return logs if return_dict else _logs_to_values(logs)

    def predict(self, x, batch_size: Optional[int] = None, verbose="auto",
                steps: Optional[int] = None, callbacks=None):
        """Model outputs for the inputs, batch by batch, as NumPy arrays.

        Example:

        >>> probabilities = model.predict(x_test, batch_size=128)
        """
        verbose = 1 if verbose == "auto" else verbose
        if not da.is_iterable_data(x):
            x, _, _ = self._prepare(x, None, None, "predict")
            if da.num_samples(x, "predict: x") == 0:
                return self._predict_function(x)
        iterator = EpochIterator(x, None, None, batch_size, steps, False, None, "predict")
        cbs = self._callback_list(callbacks, verbose, 1, iterator.num_batches, False)
        cbs.on_predict_begin()
        outputs = []
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0's variables everywhere
            strategy.begin(self, "predict")
        for step, (xb, _, _) in iterator.enumerate_epoch():
            if strategy is not None:  # distribution: this process's rows of the batch
                xb, _, _ = strategy.shard_batch(self, xb, None, None)
            cbs.on_predict_batch_begin(step)
            out = self._predict_function(xb)
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
        """One training step on one batch (metrics reset first); the logs as ``evaluate``
        returns them."""
        self._require_compiled("train_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "train_on_batch")
        if class_weight is not None:
            cw = da.class_weight_to_sample_weights(y, class_weight)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        self.reset_metrics()
        self._step_variables = None
        logs = self._train_function(x, y, sample_weight)
        return logs if return_dict else _logs_to_values(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """One evaluation step on one batch (metrics reset first)."""
        self._require_compiled("test_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "test_on_batch")
        self.reset_metrics()
        logs = self._test_function(x, y, sample_weight)
        return logs if return_dict else _logs_to_values(logs)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as NumPy arrays."""
        x, _, _ = self._prepare(x, None, None, "predict_on_batch")
        return self._predict_function(x)
