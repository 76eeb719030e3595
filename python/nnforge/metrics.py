"""Stateful metrics (``keras.metrics``): ``update_state``, ``result``, ``reset_state``.

Metric state lives in Python floats / NumPy arrays on the host; values computed on the GPU are
reduced there and copied once per update."""
from __future__ import annotations

from typing import Callable, List, Optional

import numpy as np

from nnforge import backend
from nnforge.core.tensor import Tensor
from nnforge.saving.keras_saveable import KerasSaveable
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object


def _np(x) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.data
    return backend.to_numpy(x) if backend.is_array(x) else np.asarray(x)


def _xp_data(x):
    if isinstance(x, Tensor):
        return x.data
    return x if backend.is_array(x) else np.asarray(x)


# ---- per-sample metric functions (backend arrays in, per-sample values out) -------------------

def categorical_accuracy(y_true, y_pred):
    t, p = _xp_data(y_true), _xp_data(y_pred)
    xp = backend.of(p).xp
    return (xp.asarray(t).argmax(axis=-1) == p.argmax(axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    t, p = _xp_data(y_true), _xp_data(y_pred)
    xp = backend.of(p).xp
    t = xp.asarray(t)
    if t.ndim == p.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    return (t.astype(np.int64) == xp.argmax(p, axis=-1)).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    t, p = _xp_data(y_true), _xp_data(y_pred)
    xp = backend.of(p).xp
    t = xp.asarray(t).reshape(p.shape) if xp.asarray(t).size == p.size else xp.asarray(t)
    return ((p > threshold).astype(np.float32) == t.astype(np.float32)).astype(
        np.float32).mean(axis=-1)


def accuracy(y_true, y_pred):
    t, p = _xp_data(y_true), _xp_data(y_pred)
    xp = backend.of(p).xp
    return (xp.asarray(t).reshape(p.shape) == p).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    t, p = _np(y_true), _np(y_pred)
    return sparse_top_k_categorical_accuracy(np.argmax(t, axis=-1), p, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    t, p = _np(y_true).reshape(-1).astype(np.int64), _np(y_pred)
    p2 = p.reshape(-1, p.shape[-1])
    k = min(k, p2.shape[-1])
    target = p2[np.arange(len(t)), t]
    # in the top k: fewer than k scores strictly greater than the target's
    return ((p2 > target[:, None]).sum(axis=-1) < k).astype(np.float32)


# ---- Metric classes -----------------------------------------------------------------------------

class Metric(KerasSaveable):
    """Base class of stateful metrics.

    Subclasses implement ``update_state(y_true, y_pred, sample_weight=None)``, ``result()`` and
    ``reset_state()``. Calling a metric updates it and returns the result.
    """

    _keras_module = "keras.metrics"

    def __init__(self, name: Optional[str] = None, dtype=None):
        from nnforge.naming import to_snake_case
        self.name = name or to_snake_case(type(self).__name__)
        self.dtype = dtype or "float32"
        self._state_variables: list = []  # add_variable's

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation: str = "sum",
                     name: Optional[str] = None):
        """A state variable of this metric (``Metric.add_variable``), non-trainable, listed in
        ``variables``. Custom metrics keep their state in such variables.

        Args:
            shape: the variable's shape.
            initializer: an initializer name or callable.
            dtype: its dtype (default the metric's).
            aggregation: how replicas combine it (kept for Keras compatibility).
            name: its name.

        Returns:
            The ``Variable``.

        Example:

        >>> self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")
        """
        from nnforge import initializers
        from nnforge.core.tensor import Variable
        shape = tuple(int(d) for d in shape)
        value = np.asarray(initializers.get(initializer)(shape, dtype=dtype or self.dtype))
        var = Variable(value.reshape(shape), dtype=dtype or self.dtype, trainable=False,
                       name=name or "variable")
        var.data = var.data.reshape(shape)  # a scalar state stays 0-d
        self.__dict__.setdefault("_state_variables", []).append(var)
        return var

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self) -> None:
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    @property
    def variables(self) -> list:
        return list(self.__dict__.get("_state_variables", []))

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _result(value: float) -> Tensor:
    return Tensor(np.asarray(value, dtype=np.float32))


class Sum(Metric):
    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def update_state(self, values, sample_weight=None):
        v = _np(values).astype(np.float64)
        if sample_weight is not None:
            v = v * np.broadcast_to(_np(sample_weight).reshape(
                _np(sample_weight).shape + (1,) * (v.ndim - _np(sample_weight).ndim)), v.shape)
        self.total += float(v.sum())

    def result(self):
        return _result(self.total)

    def reset_state(self):
        self.total = 0.0


class Mean(Metric):
    """The weighted mean of the values given to ``update_state``."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def update_state(self, values, sample_weight=None):
        v = _xp_data(values)
        if isinstance(sample_weight, (int, float, np.integer, np.floating)) and (
                not hasattr(v, "ndim") or v.ndim == 0):
            # one value weighted by a count: the loss trackers' per-batch update
            w = float(sample_weight)
            self.total += float(v) * w
            self.count += w
            return
        if sample_weight is None:
            if isinstance(v, np.ndarray):  # ndarray.sum's own reduction, without its wrapper
                self.total += float(np.add.reduce(v, axis=None))
                self.count += v.size
            elif hasattr(v, "sum"):
                self.total += float(v.sum())
                self.count += v.size
            else:
                self.total += float(v)
                self.count += 1
            return
        v = _np(v).astype(np.float64)
        w = _np(sample_weight).astype(np.float64)
        while w.ndim < v.ndim:
            w = w[..., None]
        if v.ndim < w.ndim:
            w = w.reshape(v.shape) if w.size == v.size else w
        w = np.broadcast_to(w, v.shape) if v.ndim else w
        self.total += float((v * w).sum())
        self.count += float(w.sum())

    def result(self):
        return _result(self.total / self.count if self.count else 0.0)

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0


class MeanMetricWrapper(Mean):
    """The mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable, name: Optional[str] = None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config


def _mean_wrapper(cls_name, fn, default_name, **defaults):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        params = dict(defaults)
        params.update(kwargs)
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **params)
    return type(cls_name, (MeanMetricWrapper,), {
        "__init__": __init__, "__doc__": f"``keras.metrics.{cls_name}``: mean of "
                                          f"``{fn.__name__}`` over samples."})


Accuracy = _mean_wrapper("Accuracy", accuracy, "accuracy")
CategoricalAccuracy = _mean_wrapper("CategoricalAccuracy", categorical_accuracy,
                                    "categorical_accuracy")
SparseCategoricalAccuracy = _mean_wrapper("SparseCategoricalAccuracy",
                                          sparse_categorical_accuracy,
                                          "sparse_categorical_accuracy")
BinaryAccuracy = _mean_wrapper("BinaryAccuracy", binary_accuracy, "binary_accuracy",
                               threshold=0.5)
TopKCategoricalAccuracy = _mean_wrapper("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                        "top_k_categorical_accuracy", k=5)
SparseTopKCategoricalAccuracy = _mean_wrapper("SparseTopKCategoricalAccuracy",
                                              sparse_top_k_categorical_accuracy,
                                              "sparse_top_k_categorical_accuracy", k=5)


def _loss_metric(cls_name, loss_name):
    def fn(y_true, y_pred):
        from nnforge import losses
        from nnforge.core.tape import stop_recording
        with stop_recording():
            return _np(losses.get(loss_name)(y_true, y_pred))
    fn.__name__ = loss_name
    return _mean_wrapper(cls_name, fn, loss_name)


MeanSquaredError = _loss_metric("MeanSquaredError", "mean_squared_error")
MeanAbsoluteError = _loss_metric("MeanAbsoluteError", "mean_absolute_error")
CategoricalCrossentropy = _loss_metric("CategoricalCrossentropy", "categorical_crossentropy")
SparseCategoricalCrossentropy = _loss_metric("SparseCategoricalCrossentropy",
                                             "sparse_categorical_crossentropy")
BinaryCrossentropy = _loss_metric("BinaryCrossentropy", "binary_crossentropy")


class _Confusion(Metric):
    """Counts of true/false positives/negatives at one threshold (binary or multi-label)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        self.thresholds = 0.5 if thresholds is None else float(thresholds)
        self.class_id = class_id
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _np(y_true).astype(np.float64), _np(y_pred).astype(np.float64)
        if self.class_id is not None:
            t, p = t[..., self.class_id], p[..., self.class_id]
        t = t.reshape(p.shape) if t.size == p.size else t
        pred = p > self.thresholds
        true = t > 0.5
        w = np.ones_like(p) if sample_weight is None else np.broadcast_to(
            _np(sample_weight).reshape(_np(sample_weight).shape + (1,) * (p.ndim - _np(
                sample_weight).ndim)), p.shape)
        self.tp += float((w * (pred & true)).sum())
        self.fp += float((w * (pred & ~true)).sum())
        self.fn += float((w * (~pred & true)).sum())
        self.tn += float((w * (~pred & ~true)).sum())

    def reset_state(self):
        self.tp = self.fp = self.fn = self.tn = 0.0


class Precision(_Confusion):
    """tp / (tp + fp) at a threshold (default 0.5)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        d = self.tp + self.fp
        return _result(self.tp / d if d else 0.0)


class Recall(_Confusion):
    """tp / (tp + fn) at a threshold (default 0.5)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        d = self.tp + self.fn
        return _result(self.tp / d if d else 0.0)


class AUC(Metric):
    """Area under the ROC (or PR) curve, by Riemann sum over ``num_thresholds`` thresholds
    (interpolation 'interpolation' as Keras: trapezoidal for ROC)."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", name="auc", dtype=None,
                 **kwargs):
        super().__init__(name, dtype)
        if num_thresholds < 2:
            raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        self.num_thresholds, self.curve = num_thresholds, curve
        eps = 1e-7
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thr = np.array([-eps] + inner + [1 + eps])
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = _np(y_true).reshape(-1).astype(np.float64) > 0.5
        p = _np(y_pred).reshape(-1).astype(np.float64)
        w = np.ones_like(p) if sample_weight is None else np.broadcast_to(
            _np(sample_weight).astype(np.float64).reshape(-1, 1),
            (_np(sample_weight).size, p.size // max(_np(sample_weight).size, 1))).reshape(-1)
        pred = p[None, :] > self._thr[:, None]
        self.tp += (w * (pred & t)).sum(axis=1)
        self.fp += (w * (pred & ~t)).sum(axis=1)
        self.fn += (w * (~pred & t)).sum(axis=1)
        self.tn += (w * (~pred & ~t)).sum(axis=1)

    def result(self):
        tpr = self.tp / np.maximum(self.tp + self.fn, 1e-12)
        if self.curve == "ROC":
            fpr = self.fp / np.maximum(self.fp + self.tn, 1e-12)
            x, y = fpr, tpr
        else:
            x = tpr
            y = self.tp / np.maximum(self.tp + self.fp, 1e-12)
        area = np.sum((x[:-1] - x[1:]) * (y[:-1] + y[1:]) / 2)
        return _result(float(area))

    def reset_state(self):
        n = self.num_thresholds
        self.tp, self.fp, self.fn, self.tn = (np.zeros(n) for _ in range(4))


class F1Score(Metric):
    """F1 per class from thresholded (or argmax) predictions; ``average`` None, 'micro',
    'macro' or 'weighted' as Keras."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(name, dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"F1Score: invalid average {average!r}")
        self.average, self.threshold = average, threshold
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _np(y_true).astype(np.float64), _np(y_pred).astype(np.float64)
        if self.threshold is None:
            pred = (p == p.max(axis=-1, keepdims=True)).astype(np.float64)
        else:
            pred = (p > self.threshold).astype(np.float64)
        w = 1.0 if sample_weight is None else _np(sample_weight).reshape(-1, 1)
        if self.tp is None:
            c = p.shape[-1]
            self.tp, self.fp, self.fn, self.support = (np.zeros(c) for _ in range(4))
        self.tp += (w * pred * t).sum(axis=0)
        self.fp += (w * pred * (1 - t)).sum(axis=0)
        self.fn += (w * (1 - pred) * t).sum(axis=0)
        self.support += (w * t).sum(axis=0)

    def result(self):
        if self.tp is None:
            return _result(0.0)
        if self.average == "micro":
            tp, fp, fn = self.tp.sum(), self.fp.sum(), self.fn.sum()
            return _result(float(2 * tp / max(2 * tp + fp + fn, 1e-12)))
        f1 = 2 * self.tp / np.maximum(2 * self.tp + self.fp + self.fn, 1e-12)
        if self.average == "macro":
            return _result(float(f1.mean()))
        if self.average == "weighted":
            return _result(float((f1 * self.support).sum() / max(self.support.sum(), 1e-12)))
        return Tensor(f1.astype(np.float32))

    def reset_state(self):
        self.tp = self.fp = self.fn = self.support = None


_FUNCTIONS = {f.__name__: f for f in (
    accuracy, categorical_accuracy, sparse_categorical_accuracy, binary_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)}
_CLASSES = {c.__name__: c for c in (
    Mean, Sum, Accuracy, CategoricalAccuracy, SparseCategoricalAccuracy, BinaryAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy, Precision,
    Recall, AUC, F1Score)}
_NAME_ALIASES = {"acc": "accuracy", "mse": "mean_squared_error", "mae": "mean_absolute_error",
                 "auc": "AUC", "precision": "Precision", "recall": "Recall",
                 "mean_squared_error": "MeanSquaredError",
                 "mean_absolute_error": "MeanAbsoluteError",
                 "categorical_crossentropy": "CategoricalCrossentropy",
                 "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
                 "binary_crossentropy": "BinaryCrossentropy"}


# ---- regression, correlation, confusion-at-threshold, F-beta, R2, IoU (metrics_extra.py) ----
from nnforge.metrics_extra import (  # noqa: E402  (needs Metric, defined above)
    BinaryIoU, CategoricalHinge, ConcordanceCorrelation, CosineSimilarity, FalseNegatives,
    FalsePositives, FBetaScore, Hinge, IoU, KLDivergence, LogCoshError,
    MeanAbsolutePercentageError, MeanIoU, MeanSquaredLogarithmicError, OneHotIoU, OneHotMeanIoU,
    PearsonCorrelation, Poisson, PrecisionAtRecall, R2Score, RecallAtPrecision,
    RootMeanSquaredError, SensitivityAtSpecificity, SpecificityAtSensitivity, SquaredHinge,
    TrueNegatives, TruePositives, concordance_correlation, pearson_correlation)
from nnforge.metrics_extra import CLASSES as _EXTRA_CLASSES  # noqa: E402
from nnforge.losses import (  # noqa: E402,F401  (Keras exports these under keras.metrics too)
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge)
_CLASSES.update({c.__name__: c for c in _EXTRA_CLASSES})
_NAME_ALIASES.update({
    "hinge": "Hinge", "squared_hinge": "SquaredHinge", "categorical_hinge": "CategoricalHinge",
    "kl_divergence": "KLDivergence", "kld": "KLDivergence", "poisson": "Poisson",
    "logcosh": "LogCoshError", "log_cosh": "LogCoshError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mape": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "msle": "MeanSquaredLogarithmicError", "cosine_similarity": "CosineSimilarity",
    "pearson_correlation": "PearsonCorrelation",
    "concordance_correlation": "ConcordanceCorrelation"})


def get(identifier, loss=None, y_true_shape=None, y_pred_shape=None) -> Metric:
    """A Metric object for a name, class, object or per-sample function. The name 'accuracy'
    (or 'acc') is resolved from the loss, as Keras does."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return MeanMetricWrapper(_resolve_accuracy(loss, y_true_shape, y_pred_shape),
                                     name=identifier)
        name = _NAME_ALIASES.get(identifier, identifier)
        name = _NAME_ALIASES.get(name, name)  # 'mae' -> 'mean_absolute_error' -> class
        if name in _CLASSES:
            m = _CLASSES[name]()
            if identifier in ("mse", "mae", "auc", "precision", "recall"):
                m.name = identifier
            return m
        if name in _FUNCTIONS:
            return MeanMetricWrapper(_FUNCTIONS[name], name=identifier)
        raise ValueError(f"Unknown metric {identifier!r}; known: "
                         f"{sorted(set(_FUNCTIONS) | set(_CLASSES) | set(_NAME_ALIASES))}")
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise TypeError(f"Could not interpret metric {identifier!r}")


def _resolve_accuracy(loss, y_true_shape, y_pred_shape) -> Callable:
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or (
        loss if isinstance(loss, str) else None)
    fn = getattr(loss, "fn", None)
    if fn is not None:
        name = fn.__name__
    if name in ("categorical_crossentropy",):
        return categorical_accuracy
    if name in ("sparse_categorical_crossentropy",):
        return sparse_categorical_accuracy
    if name in ("binary_crossentropy",):
        return binary_accuracy
    if y_pred_shape is not None and y_true_shape is not None:
        if y_pred_shape[-1] == 1:
            return binary_accuracy
        if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
            return sparse_categorical_accuracy
        return categorical_accuracy
    return categorical_accuracy


def serialize(metric) -> dict:
    """The serialized form of a metric (through the registry)."""
    return serialize_keras_object(metric)


def deserialize(config: dict) -> Metric:
    """A metric from its serialized form (``{"class_name": ..., "config": ...}``)."""
    return deserialize_keras_object(config, module="keras.metrics", kind="metric")
