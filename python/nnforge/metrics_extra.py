"""More of ``keras.metrics``: regression and correlation metrics, hinge/probabilistic metrics,
confusion counts at thresholds, sensitivity/specificity/precision/recall at a constraint,
F-beta, R2 and the IoU family. Re-exported by ``nnforge.metrics``.

As in ``metrics.py``, state lives on the host (NumPy float64 accumulators); values computed on the
GPU are reduced there and copied once per update."""
from __future__ import annotations

import warnings

import numpy as np

from nnforge import losses, ops
from nnforge.core.tensor import Tensor
# nnforge.metrics imports this module after defining these (import it through nnforge.metrics)
from nnforge.metrics import Mean, MeanMetricWrapper, Metric, _np, _result

_EPSILON = 1e-7  # keras.backend.epsilon()


# ---- per-sample functions ----------------------------------------------------------------------

def pearson_correlation(y_true, y_pred, axis: int = -1):
    """Pearson correlation coefficient between ``y_true`` and ``y_pred`` along ``axis``.

    Args:
        y_true: targets.
        y_pred: predictions.
        axis: the axis the correlation is taken over.

    Returns:
        The coefficient per remaining index.

    Example:

    >>> nnforge.metrics.pearson_correlation([[0, 1, 0.5]], [[0.1, 0.9, 0.5]])
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, "float32")
    t = ops.subtract(y_true, ops.mean(y_true, axis=axis, keepdims=True))
    p = ops.subtract(y_pred, ops.mean(y_pred, axis=axis, keepdims=True))
    t = ops.divide(t, ops.std(t, axis=axis, keepdims=True))
    p = ops.divide(p, ops.std(p, axis=axis, keepdims=True))
    return ops.mean(ops.multiply(t, p), axis=axis)


def concordance_correlation(y_true, y_pred, axis: int = -1):
    """Concordance correlation coefficient along ``axis``, with Keras 3's formula
    ``mean(2 (y_true - mean(y_pred)) (y_pred - mean(y_pred)) /
    (var(y_true) + var(y_pred) + (mean(y_true) - mean(y_pred))^2 + eps))``.

    Args:
        y_true: targets.
        y_pred: predictions.
        axis: the axis the coefficient is taken over.

    Returns:
        The coefficient per remaining index.

    Example:

    >>> nnforge.metrics.concordance_correlation([[0, 1, 0.5]], [[0.1, 0.9, 0.5]])
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, "float32")
    tm = ops.mean(y_true, axis=axis, keepdims=True)
    pm = ops.mean(y_pred, axis=axis, keepdims=True)
    tv = ops.var(ops.subtract(y_true, tm), axis=axis, keepdims=True)
    pv = ops.var(ops.subtract(y_pred, pm), axis=axis, keepdims=True)
    covar = ops.multiply(ops.subtract(y_true, pm), ops.subtract(y_pred, pm))
    norm = ops.add(ops.add(tv, pv), ops.square(ops.subtract(tm, pm)))
    return ops.mean(ops.divide(ops.multiply(2.0, covar), ops.add(norm, _EPSILON)), axis=axis)


def _cosine_similarity(y_true, y_pred, axis: int = -1):
    """Cosine similarity (positive; the loss is its negative) along ``axis``."""
    def l2n(t):
        return ops.divide(t, ops.sqrt(ops.maximum(ops.sum(ops.square(t), axis=axis,
                                                          keepdims=True), 1e-12)))
    return ops.sum(ops.multiply(l2n(ops.cast(y_true, "float32")), l2n(y_pred)), axis=axis)


_cosine_similarity.__name__ = "cosine_similarity"


# ---- mean-of-function metrics ------------------------------------------------------------------

def _host(fn):
    """``fn`` computed without recording gradients, returned as a host array."""
    def wrapped(y_true, y_pred, **kwargs):
        from nnforge.core.tape import stop_recording
        with stop_recording():
            return _np(fn(y_true, y_pred, **kwargs))
    wrapped.__name__ = fn.__name__
    return wrapped


def _wrapper(cls_name, fn, default_name, doc, **defaults):
    host = _host(fn)

    def __init__(self, name=default_name, dtype=None, **kwargs):
        params = losses._params_with_defaults(cls_name, defaults, kwargs)
        MeanMetricWrapper.__init__(self, host, name=name, dtype=dtype, **params)
        for k, v in params.items():
            setattr(self, k, v)

    return type(cls_name, (MeanMetricWrapper,), {
        "__init__": __init__, "__qualname__": cls_name,
        "__doc__": f"``keras.metrics.{cls_name}``: {doc}\n\n    Example:\n\n    >>> m = "
                   f"nnforge.metrics.{cls_name}()\n    >>> m.update_state(y_true, y_pred)\n"
                   "    >>> m.result()\n    "})


Hinge = _wrapper("Hinge", losses.hinge, "hinge", "the mean hinge loss.")
SquaredHinge = _wrapper("SquaredHinge", losses.squared_hinge, "squared_hinge",
                        "the mean squared hinge loss.")
CategoricalHinge = _wrapper("CategoricalHinge", losses.categorical_hinge, "categorical_hinge",
                            "the mean categorical hinge loss.")
KLDivergence = _wrapper("KLDivergence", losses.kl_divergence, "kl_divergence",
                        "the mean Kullback-Leibler divergence.")
Poisson = _wrapper("Poisson", losses.poisson, "poisson", "the mean Poisson loss.")
LogCoshError = _wrapper("LogCoshError", losses.log_cosh, "logcosh",
                        "the mean logarithm of the hyperbolic cosine of the error.")
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError", losses.mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "the mean absolute percentage error.")
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError", losses.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", "the mean squared logarithmic error.")
CosineSimilarity = _wrapper("CosineSimilarity", _cosine_similarity, "cosine_similarity",
                            "the mean cosine similarity along ``axis`` (default -1).", axis=-1)
# Keras 3.15's CosineSimilarity leaves ``axis`` out of its config (so a reloaded metric uses
# the default axis); nnforge writes the same config.
CosineSimilarity.get_config = lambda self: Metric.get_config(self)
PearsonCorrelation = _wrapper("PearsonCorrelation", pearson_correlation, "pearson_correlation",
                              "the mean Pearson correlation along ``axis`` (default -1).",
                              axis=-1)
ConcordanceCorrelation = _wrapper(
    "ConcordanceCorrelation", concordance_correlation, "concordance_correlation",
    "the mean concordance correlation along ``axis`` (default -1).", axis=-1)


class RootMeanSquaredError(Mean):
    """Root of the (weighted) mean squared error (``keras.metrics.RootMeanSquaredError``).

    Example:

    >>> m = nnforge.metrics.RootMeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> float(m.result())   # sqrt(0.25)
    0.5
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _np(y_true).astype(np.float32), _np(y_pred).astype(np.float32)
        if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
            t = t[..., 0]
        elif p.ndim == t.ndim + 1 and p.shape[-1] == 1:
            p = p[..., 0]
        super().update_state(np.square(p - t), sample_weight)

    def result(self):
        return _result(float(np.sqrt(self.total / self.count)) if self.count else 0.0)


# ---- confusion counts at thresholds ------------------------------------------------------------

def _thresholds(thresholds):
    if thresholds is None:
        return [0.5]
    if isinstance(thresholds, (list, tuple, np.ndarray)):
        return [float(t) for t in thresholds]
    return [float(thresholds)]


def _confusion_update(y_true, y_pred, thresholds, sample_weight, class_id=None):
    """(tp, fp, tn, fn) arrays of shape (len(thresholds),) for one batch, as Keras's
    ``update_confusion_matrix_variables`` (labels cast to bool, ``pred > threshold``)."""
    t, p = _np(y_true), _np(y_pred).astype(np.float32)
    if class_id is not None:
        t, p = t[..., class_id], p[..., class_id]
    t = t.reshape(p.shape) if t.size == p.size else np.broadcast_to(t, p.shape)
    t = t.astype(bool)
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError("predictions must be >= 0 and <= 1 for confusion-matrix metrics, got "
                         f"values in [{p.min()}, {p.max()}]")
    if sample_weight is None:
        w = np.ones(p.shape, np.float64)
    else:
        w = _np(sample_weight).astype(np.float64)
        if class_id is not None and w.ndim == p.ndim + 1:
            w = w[..., class_id]
        w = w.reshape(w.shape + (1,) * (p.ndim - w.ndim)) if w.ndim < p.ndim else w
        w = np.broadcast_to(w, p.shape)
    t, p, w = t.reshape(-1), p.reshape(-1), w.reshape(-1)
    thr = np.asarray(thresholds, np.float32)[:, None]
    pos = p[None, :] > thr
    tp = (w * (pos & t)).sum(axis=1)
    fp = (w * (pos & ~t)).sum(axis=1)
    tn = (w * (~pos & ~t)).sum(axis=1)
    fn = (w * (~pos & t)).sum(axis=1)
    return tp, fp, tn, fn


class _ConditionCount(Metric):
    _index = 0

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _thresholds(thresholds)
        for t in self.thresholds:
            if not 0.0 <= t <= 1.0:
                raise ValueError(f"{type(self).__name__}: threshold values must be in [0, 1], "
                                 f"got {thresholds}")
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.accumulator += _confusion_update(y_true, y_pred, self.thresholds,
                                              sample_weight)[self._index]

    def result(self):
        a = self.accumulator.astype(np.float32)
        return Tensor(a[0] if len(self.thresholds) == 1 else a)

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds))

    def get_config(self):
        config = super().get_config()
        config["thresholds"] = self.init_thresholds
        return config


def _count_class(cls_name, index, what):
    def __init__(self, thresholds=None, name=None, dtype=None):
        _ConditionCount.__init__(self, thresholds=thresholds, name=name, dtype=dtype)
    return type(cls_name, (_ConditionCount,), {
        "__init__": __init__, "_index": index, "__qualname__": cls_name,
        "__doc__": f"""The (weighted) number of {what} (``keras.metrics.{cls_name}``).

    Args:
        thresholds: a float or a list of floats in [0, 1]; a prediction is positive when it is
            above the threshold (default 0.5). With a list, ``result()`` has one count per
            threshold.
        name: the metric's name.
        dtype: the result's dtype.

    Example:

    >>> m = nnforge.metrics.{cls_name}()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> m.result()
    """})


TruePositives = _count_class("TruePositives", 0, "true positives")
FalsePositives = _count_class("FalsePositives", 1, "false positives")
TrueNegatives = _count_class("TrueNegatives", 2, "true negatives")
FalseNegatives = _count_class("FalseNegatives", 3, "false negatives")


class _SensitivitySpecificityBase(Metric):
    """Counts at ``num_thresholds`` evenly spaced thresholds in [0, 1]; subclasses pick the best
    value of one rate under a constraint on another."""

    _value_name = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if not 0 <= value <= 1:
            raise ValueError(f"{type(self).__name__}: argument `{self._value_name}` must be in "
                             f"the range [0, 1]. Received: {self._value_name}={value}")
        if num_thresholds <= 0:
            raise ValueError(f"{type(self).__name__}: argument `num_thresholds` must be an "
                             f"integer > 0. Received: num_thresholds={num_thresholds}")
        self.value, self.class_id, self.num_thresholds = value, class_id, num_thresholds
        setattr(self, self._value_name, value)
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            self.thresholds = [0.0] + [(i + 1) * 1.0 / (num_thresholds - 1)
                                       for i in range(num_thresholds - 2)] + [1.0]
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = _confusion_update(y_true, y_pred, self.thresholds, sample_weight,
                                           self.class_id)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives, self.false_positives, self.true_negatives, self.false_negatives = (
            np.zeros(n) for _ in range(4))

    @staticmethod
    def _div(a, b):
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b32 == 0, np.float32(0), a32 / np.where(b32 == 0, 1, b32))

    def _rates(self):
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        return {"sensitivity": self._div(tp, tp + fn), "recall": self._div(tp, tp + fn),
                "specificity": self._div(tn, tn + fp), "precision": self._div(tp, tp + fp)}

    _constrained = _dependent = ""

    def result(self):
        r = self._rates()
        feasible = r[self._constrained] >= np.float32(self.value)
        return _result(float(np.max(np.where(feasible, r[self._dependent], 0.0), initial=0.0)))

    def get_config(self):
        config = super().get_config()
        config.update({"class_id": self.class_id, "num_thresholds": self.num_thresholds,
                       self._value_name: self.value})
        return config


def _at_class(cls_name, value_name, constrained, dependent):
    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        _SensitivitySpecificityBase.__init__(self, value, num_thresholds=num_thresholds,
                                             class_id=class_id, name=name, dtype=dtype)
    import inspect
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter(value_name, inspect.Parameter.POSITIONAL_OR_KEYWORD)] + [
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
        for n, d in (("num_thresholds", 200), ("class_id", None), ("name", None),
                     ("dtype", None))]

    def init(self, *args, **kwargs):
        bound = init.__signature__.bind(self, *args, **kwargs)
        bound.apply_defaults()
        a = dict(bound.arguments)
        a.pop("self")
        __init__(self, a.pop(value_name), **a)
    init.__signature__ = inspect.Signature(params)
    return type(cls_name, (_SensitivitySpecificityBase,), {
        "__init__": init, "_value_name": value_name, "_constrained": constrained,
        "_dependent": dependent, "__qualname__": cls_name,
        "__doc__": f"""The best {dependent} where {constrained} >= ``{value_name}``
    (``keras.metrics.{cls_name}``), over ``num_thresholds`` evenly spaced thresholds in [0, 1];
    0 when no threshold meets the constraint.

    Args:
        {value_name}: a float in [0, 1].
        num_thresholds: the number of thresholds (default 200).
        class_id: the class (last axis) to evaluate, or None for binary predictions.
        name: the metric's name.
        dtype: the result's dtype.

    Example:

    >>> m = nnforge.metrics.{cls_name}(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> m.result()
    """})


SensitivityAtSpecificity = _at_class("SensitivityAtSpecificity", "specificity", "specificity",
                                     "sensitivity")
SpecificityAtSensitivity = _at_class("SpecificityAtSensitivity", "sensitivity", "sensitivity",
                                     "specificity")
PrecisionAtRecall = _at_class("PrecisionAtRecall", "recall", "recall", "precision")
RecallAtPrecision = _at_class("RecallAtPrecision", "precision", "precision", "recall")


# ---- F-beta and R2 -----------------------------------------------------------------------------

class FBetaScore(Metric):
    """F-beta score (``keras.metrics.FBetaScore``) of 2-D (batch, classes) predictions.

    Args:
        average: None (per class), ``"micro"``, ``"macro"`` or ``"weighted"``.
        beta: a positive float; the weight of recall.
        threshold: a float in (0, 1]: predictions above it count as positive; None: the
            per-row maximum counts as positive.
        name: the metric's name.
        dtype: the result's dtype.

    Example:

    >>> m = nnforge.metrics.FBetaScore(beta=2.0, threshold=0.5)
    >>> m.update_state(np.eye(3), np.eye(3) * 0.9)
    >>> m.result()
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__}: invalid `average` argument value. "
                             "Expected one of: {None, 'micro', 'macro', 'weighted'}. "
                             f"Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"{type(self).__name__}: invalid `beta` argument value. It should "
                             f"be a Python float. Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"{type(self).__name__}: invalid `beta` argument value. It should "
                             f"be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"{type(self).__name__}: invalid `threshold` argument value. "
                                 "It should be a Python float. Received: "
                                 f"threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"{type(self).__name__}: invalid `threshold` argument value. "
                                 "It should verify 0 < threshold <= 1. Received: "
                                 f"threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _np(y_true).astype(np.float32), _np(y_pred).astype(np.float32)
        if p.ndim != 2 or t.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape={p.shape} and "
                             f"y_true.shape={t.shape}.")
        if self.threshold is None:
            pred = (p >= p.max(axis=-1, keepdims=True)) & (np.abs(p) > 1e-9)
        else:
            pred = p > self.threshold
        pred = pred.astype(np.float32)
        w = None if sample_weight is None else _np(sample_weight).astype(np.float32)

        def wsum(v):
            if w is not None:
                v = v * w.reshape(-1, 1)
            return v.sum(axis=self.axis).astype(np.float64)
        if self.true_positives is None:
            shape = () if self.average == "micro" else (p.shape[-1],)
            self.true_positives, self.false_positives, self.false_negatives, \
                self.intermediate_weights = (np.zeros(shape) for _ in range(4))
        self.true_positives += wsum(pred * t)
        self.false_positives += wsum(pred * (1 - t))
        self.false_negatives += wsum((1 - pred) * t)
        self.intermediate_weights += wsum(t)

    def result(self):
        if self.true_positives is None:
            return _result(0.0)
        f = np.float32
        tp, fp, fn = (self.true_positives.astype(f), self.false_positives.astype(f),
                      self.false_negatives.astype(f))
        precision = tp / (tp + fp + f(_EPSILON))
        recall = tp / (tp + fn + f(_EPSILON))
        b2 = f(self.beta ** 2)
        score = precision * recall / (b2 * precision + recall + f(_EPSILON)) * (1 + b2)
        if self.average == "weighted":
            iw = self.intermediate_weights.astype(f)
            score = np.sum(score * (iw / (iw.sum() + f(_EPSILON))))
        elif self.average is not None:
            score = np.mean(score)
        return Tensor(np.asarray(score, dtype=np.float32))

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = None
        self.intermediate_weights = None

    def get_config(self):
        config = super().get_config()
        config.update({"average": self.average, "beta": self.beta,
                       "threshold": self.threshold})
        return config


class R2Score(Metric):
    """Coefficient of determination (``keras.metrics.R2Score``) of 2-D (batch, outputs) data.

    Args:
        class_aggregation: None (one score per output), ``"uniform_average"`` or
            ``"variance_weighted_average"``.
        num_regressors: the number of independent regressors, for the adjusted R2 (0: plain R2).
        name: the metric's name.
        dtype: the result's dtype.

    Example:

    >>> m = nnforge.metrics.R2Score()
    >>> m.update_state([[1], [4], [3]], [[2], [4], [4]])
    >>> float(m.result())
    0.57142854
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(f"{type(self).__name__}: invalid value for argument "
                             f"`class_aggregation`. Expected one of {valid}. Received: "
                             f"class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError(f"{type(self).__name__}: invalid value for argument "
                             "`num_regressors`. Expected a value >= 0. Received: "
                             f"num_regressors={num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _np(y_true).astype(np.float64), _np(y_pred).astype(np.float64)
        if p.ndim != 2 or t.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape={p.shape} and "
                             f"y_true.shape={t.shape}.")
        w = np.ones(()) if sample_weight is None else _np(sample_weight).astype(np.float64)
        if w.ndim == 1:
            w = w[:, None]
        w = np.broadcast_to(w, t.shape)
        if self.sum is None:
            self.sum, self.squared_sum, self.total_mse, self.count = (
                np.zeros(t.shape[-1]) for _ in range(4))
        self.sum += (t * w).sum(axis=0)
        self.squared_sum += (t * t * w).sum(axis=0)
        self.total_mse += ((t - p) ** 2 * w).sum(axis=0)
        self.count += w.sum(axis=0)
        self.num_samples += t.size

    def result(self):
        if self.sum is None:
            return _result(0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            r2 = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            r2 = np.sum(total * raw) / np.sum(total)
        else:
            r2 = raw
        if self.num_regressors != 0:
            n, k = self.num_samples, self.num_regressors
            if k > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 "
                              "score. Falling back to standard R2 score.", stacklevel=2)
            elif k == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard "
                              "R2 score.", stacklevel=2)
            else:
                r2 = 1.0 - (1.0 - r2) * (n - 1.0) / (n - k - 1.0)
        return Tensor(np.asarray(r2, dtype=np.float32))

    def reset_state(self):
        self.sum = self.squared_sum = self.total_mse = self.count = None
        self.num_samples = 0

    def get_config(self):
        config = super().get_config()
        config.update({"class_aggregation": self.class_aggregation,
                       "num_regressors": self.num_regressors})
        return config


# ---- IoU family --------------------------------------------------------------------------------

class IoU(Metric):
    """Intersection-over-union (``keras.metrics.IoU``) of the classes ``target_class_ids``:
    ``tp / (tp + fp + fn)`` from a confusion matrix accumulated over batches, averaged over the
    target classes that occur.

    Args:
        num_classes: the number of classes (the confusion matrix is num_classes^2).
        target_class_ids: the classes whose IoU is averaged.
        name: the metric's name.
        dtype: the confusion matrix's dtype (Keras's default is an integer type: float sample
            weights are truncated, as in Keras; pass ``dtype="float32"`` to keep them).
        ignore_class: a label to leave out (e.g. a "void" class).
        sparse_y_true: labels are integers (else argmax over ``axis``).
        sparse_y_pred: predictions are integers (else argmax over ``axis``).
        axis: the class axis of dense labels/predictions.

    Example:

    >>> m = nnforge.metrics.IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> float(m.result())
    0.33333334
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        self.dtype = dtype or "int64"
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"{type(self).__name__}: target class id "
                             f"{max(target_class_ids)} is out of range, which is "
                             f"[0, {num_classes}).")
        self.num_classes, self.target_class_ids = num_classes, list(target_class_ids)
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        self.reset_state()

    def _int_state(self) -> bool:
        return "int" in str(self.dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _np(y_true), _np(y_pred)
        if not self.sparse_y_true:
            t = np.argmax(t, axis=self.axis)
        if not self.sparse_y_pred:
            p = np.argmax(p, axis=self.axis)
        cast = np.int64 if self._int_state() else np.float64
        t, p = t.astype(cast).reshape(-1), p.astype(cast).reshape(-1)
        if sample_weight is None:
            w = np.ones(t.shape, cast)
        else:
            w = np.broadcast_to(_np(sample_weight).astype(cast).reshape(-1), t.shape)
        n = self.num_classes
        ok = (t >= 0) & (t < n) & (p >= 0) & (p < n)
        if self.ignore_class is not None:
            ok &= t != self.ignore_class
        t, p, w = np.where(ok, t, 0).astype(np.int64), np.where(ok, p, 0).astype(np.int64), \
            np.where(ok, w, 0)
        cm = np.zeros((n, n), self.total_cm.dtype)
        np.add.at(cm, (t, p), w)
        self.total_cm += cm

    def result(self):
        cm = self.total_cm
        f = np.float32
        tp = np.diag(cm).astype(f)
        denom = (cm.sum(axis=0) + cm.sum(axis=1)).astype(f) - tp
        ids = np.asarray(self.target_class_ids)
        tp, denom = tp[ids], denom[ids]
        valid = denom > 1e-9
        iou = np.where(valid, tp / (denom + f(_EPSILON)), f(0))
        return _result(float(iou.sum() / (valid.sum() + f(_EPSILON))))

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes),
                                 np.int64 if self._int_state() else np.float64)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of binary predictions thresholded at ``threshold`` (``keras.metrics.BinaryIoU``):
    a prediction >= threshold is class 1.

    Args:
        target_class_ids: ``[0]``, ``[1]`` or ``[0, 1]`` (the mean of both).
        threshold: the threshold applied to the predictions.
        name: the metric's name.
        dtype: the confusion matrix's dtype (see ``IoU``).

    Example:

    >>> m = nnforge.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    >>> float(m.result())
    0.33333334
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = (_np(y_pred).astype(np.float32) >= self.threshold).astype(np.int64)
        super().update_state(y_true, p, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes (``keras.metrics.MeanIoU``); arguments as
    ``IoU`` without ``target_class_ids``.

    Example:

    >>> m = nnforge.metrics.MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> float(m.result())
    0.33333334
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)),
                         name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """IoU with one-hot labels (argmax over ``axis``) (``keras.metrics.OneHotIoU``).

    Example:

    >>> m = nnforge.metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    >>> m.update_state(onehot_labels, probabilities)
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """Mean IoU with one-hot labels (``keras.metrics.OneHotMeanIoU``).

    Example:

    >>> m = nnforge.metrics.OneHotMeanIoU(num_classes=3)
    >>> m.update_state(onehot_labels, probabilities)
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


CLASSES = (Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, LogCoshError,
           MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity,
           PearsonCorrelation, ConcordanceCorrelation, RootMeanSquaredError, TruePositives,
           FalsePositives, TrueNegatives, FalseNegatives, SensitivityAtSpecificity,
           SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision, FBetaScore, R2Score,
           IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU)
