"""Losses with Keras's names and semantics (``keras.losses``).

Each loss function maps ``(y_true, y_pred)`` to per-sample values (mean over the last axis where
Keras takes one); ``Loss`` objects reduce them, by default to their mean over the batch."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from nnforge import ops
from nnforge.core.tensor import Tensor
from nnforge.saving.keras_saveable import KerasSaveable
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object

_REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", None, "auto")


# ---- per-sample loss functions ------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    return ops.mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return ops.mean(ops.abs(ops.subtract(y_pred, ops.cast(y_true, "float32"))), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    yt = ops.cast(y_true, "float32")
    diff = ops.abs(ops.divide(ops.subtract(yt, y_pred), ops.maximum(ops.abs(yt), 1e-7)))
    return ops.multiply(100.0, ops.mean(diff, axis=-1))


def mean_squared_logarithmic_error(y_true, y_pred):
    a = ops.log(ops.add(ops.maximum(y_pred, 1e-7), 1.0))
    b = ops.log(ops.add(ops.maximum(ops.cast(y_true, "float32"), 1e-7), 1.0))
    return ops.mean(ops.square(ops.subtract(a, b)), axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1):
    if label_smoothing:
        n = np.shape(y_pred)[-1]
        y_true = ops.add(ops.multiply(ops.cast(y_true, "float32"), 1.0 - label_smoothing),
                         label_smoothing / n)
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                                    ignore_class: Optional[int] = None, axis: int = -1):
    return ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1):
    if label_smoothing:
        y_true = ops.add(ops.multiply(ops.cast(y_true, "float32"), 1.0 - label_smoothing),
                         0.5 * label_smoothing)
    return ops.binary_crossentropy_mean(y_true, y_pred, from_logits=from_logits)


def huber(y_true, y_pred, delta: float = 1.0):
    err = ops.subtract(y_pred, ops.cast(y_true, "float32"))
    a = ops.abs(err)
    quad = ops.multiply(0.5, ops.square(err))
    lin = ops.subtract(ops.multiply(delta, a), 0.5 * delta * delta)
    return ops.mean(ops.where(ops.less_equal(a, delta).data, quad, lin), axis=-1)


def log_cosh(y_true, y_pred):
    x = ops.subtract(y_pred, ops.cast(y_true, "float32"))
    # log(cosh(x)) = x + softplus(-2x) - log(2), stable for large |x|
    return ops.mean(ops.subtract(ops.add(x, ops.softplus(ops.multiply(-2.0, x))),
                                 float(np.log(2.0))), axis=-1)


def kl_divergence(y_true, y_pred):
    yt = ops.clip(ops.cast(y_true, "float32"), 1e-7, 1.0)
    yp = ops.clip(y_pred, 1e-7, 1.0)
    return ops.sum(ops.multiply(yt, ops.log(ops.divide(yt, yp))), axis=-1)


def poisson(y_true, y_pred):
    return ops.mean(ops.subtract(y_pred, ops.multiply(ops.cast(y_true, "float32"),
                                                      ops.log(ops.add(y_pred, 1e-7)))), axis=-1)


def cosine_similarity(y_true, y_pred, axis: int = -1):
    def l2n(t):
        return ops.divide(t, ops.sqrt(ops.maximum(ops.sum(ops.square(t), axis=axis,
                                                          keepdims=True), 1e-12)))
    return ops.negative(ops.sum(ops.multiply(l2n(ops.cast(y_true, "float32")), l2n(y_pred)),
                                axis=axis))


def _pm_one(y_true):
    yt = ops.cast(y_true, "float32")
    data = yt.data
    if ((data == 0) | (data == 1)).all():
        yt = ops.subtract(ops.multiply(2.0, yt), 1.0)
    return yt


def hinge(y_true, y_pred):
    return ops.mean(ops.maximum(ops.subtract(1.0, ops.multiply(_pm_one(y_true), y_pred)), 0.0),
                    axis=-1)


def squared_hinge(y_true, y_pred):
    return ops.mean(ops.square(ops.maximum(ops.subtract(1.0, ops.multiply(_pm_one(y_true),
                                                                          y_pred)), 0.0)),
                    axis=-1)


def categorical_hinge(y_true, y_pred):
    yt = ops.cast(y_true, "float32")
    pos = ops.sum(ops.multiply(yt, y_pred), axis=-1)
    neg = ops.max(ops.multiply(ops.subtract(1.0, yt), y_pred), axis=-1)
    return ops.maximum(ops.add(ops.subtract(neg, pos), 1.0), 0.0)


def ctc(y_true, y_pred):
    """CTC loss per sample (``keras.losses.ctc``): ``y_true`` is ``(batch, max_length)``
    integer labels padded with 0 (the blank), ``y_pred`` ``(batch, max_time, num_classes)``
    logits; every sample uses all ``max_time`` frames."""
    yt = np.asarray(ops.convert_to_numpy(y_true))
    if yt.ndim != 2:
        raise ValueError(f"ctc: y_true must be (batch_size, max_length) integer labels, got "
                         f"shape {yt.shape}")
    shape = tuple(y_pred.shape)
    if len(shape) != 3:
        raise ValueError(f"ctc: y_pred must be (batch_size, max_length, num_classes) logits, "
                         f"got shape {shape}")
    label_length = (yt != 0).sum(axis=-1).astype(np.int32)
    input_length = np.full((shape[0],), shape[1], dtype=np.int32)
    return ops.ctc_loss(yt.astype(np.int32), y_pred, label_length, input_length, mask_index=0)


# ---- Loss objects --------------------------------------------------------------------------------

class Loss(KerasSaveable):
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` returns the reduced loss.

    Args:
        name: the loss's name.
        reduction: ``"sum_over_batch_size"`` (default: mean over all samples), ``"sum"``,
            ``"mean"`` or ``"none"`` (per-sample values).
    """

    _keras_module = "keras.losses"

    def __init__(self, name: Optional[str] = None, reduction: str = "sum_over_batch_size",
                 dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{_REDUCTIONS[:4]}, got {reduction!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = "sum_over_batch_size" if reduction in (None, "auto") else reduction

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        return reduce_values(values, sample_weight, self.reduction, self.name)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def reduce_values(values, sample_weight, reduction: str, name: str = "loss"):
    if sample_weight is not None:
        sw = ops.cast(sample_weight, "float32")
        vshape, wshape = tuple(values.shape), tuple(sw.shape)
        if wshape != vshape:
            if len(wshape) == len(vshape) + 1 and wshape[-1] == 1:
                sw = ops.reshape(sw, wshape[:-1])
            elif len(wshape) < len(vshape):
                sw = ops.reshape(sw, wshape + (1,) * (len(vshape) - len(wshape)))
            if np.broadcast_shapes(tuple(sw.shape), vshape) != vshape:
                raise ValueError(f"{name}: sample_weight of shape {wshape} does not match the "
                                 f"per-sample losses of shape {vshape}")
        values = ops.multiply(values, sw)
    if reduction == "none":
        return values
    if reduction == "sum":
        return ops.sum(values)
    return ops.mean(values)


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable, name: Optional[str] = None,
                 reduction: str = "sum_over_batch_size", **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config


def _params_with_defaults(cls_name: str, defaults: dict, kwargs: dict) -> dict:
    """The arguments of a function-wrapping class (here and in ``metrics``): ``defaults``
    updated by ``kwargs``; a TypeError naming ``cls_name`` for a key ``defaults`` lacks."""
    unknown = set(kwargs) - set(defaults)
    if unknown:
        raise TypeError(f"{cls_name}: unexpected arguments {sorted(unknown)}")
    params = dict(defaults)
    params.update(kwargs)
    return params


def _wrapper(cls_name: str, fn: Callable, default_name: str, **defaults):
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None, **kwargs):
        params = _params_with_defaults(cls_name, defaults, kwargs)
        LossFunctionWrapper.__init__(self, fn, name=name, reduction=reduction, **params)

    def from_config(cls, config):
        return cls(**config)

    return type(cls_name, (LossFunctionWrapper,), {
        "__init__": __init__, "from_config": classmethod(from_config),
        "__doc__": f"``keras.losses.{cls_name}``: the batch reduction of "
                   f"``{fn.__name__}``. Arguments: {', '.join(defaults) or 'none'}, reduction, "
                   "name."})


MeanSquaredError = _wrapper("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError",
                                       mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _wrapper("MeanSquaredLogarithmicError",
                                       mean_squared_logarithmic_error,
                                       "mean_squared_logarithmic_error")
CategoricalCrossentropy = _wrapper("CategoricalCrossentropy", categorical_crossentropy,
                                   "categorical_crossentropy", from_logits=False,
                                   label_smoothing=0.0, axis=-1)
SparseCategoricalCrossentropy = _wrapper("SparseCategoricalCrossentropy",
                                         sparse_categorical_crossentropy,
                                         "sparse_categorical_crossentropy", from_logits=False,
                                         ignore_class=None, axis=-1)
BinaryCrossentropy = _wrapper("BinaryCrossentropy", binary_crossentropy, "binary_crossentropy",
                              from_logits=False, label_smoothing=0.0, axis=-1)
Huber = _wrapper("Huber", huber, "huber_loss", delta=1.0)
LogCosh = _wrapper("LogCosh", log_cosh, "log_cosh")
KLDivergence = _wrapper("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _wrapper("Poisson", poisson, "poisson")
CosineSimilarity = _wrapper("CosineSimilarity", cosine_similarity, "cosine_similarity", axis=-1)
Hinge = _wrapper("Hinge", hinge, "hinge")
SquaredHinge = _wrapper("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _wrapper("CategoricalHinge", categorical_hinge, "categorical_hinge")
CTC = _wrapper("CTC", ctc, "ctc")

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh

_FUNCTIONS = {f.__name__: f for f in (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, categorical_crossentropy, sparse_categorical_crossentropy,
    binary_crossentropy, huber, log_cosh, kl_divergence, poisson, cosine_similarity, hinge,
    squared_hinge, categorical_hinge, ctc)}
_FUNCTIONS.update({"mse": mean_squared_error, "mae": mean_absolute_error,
                   "mape": mean_absolute_percentage_error, "msle": mean_squared_logarithmic_error,
                   "kld": kl_divergence, "logcosh": log_cosh, "huber_loss": huber,
                   "kullback_leibler_divergence": kl_divergence})
_CLASSES = {c.__name__: c for c in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy, Huber, LogCosh,
    KLDivergence, Poisson, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge, CTC)}


# ---- focal, generalized, Dice, Tversky, Circle (losses_extra.py) ----
from nnforge.losses_extra import (  # noqa: E402  (needs Loss, defined above)
    BinaryFocalCrossentropy, CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy,
    Circle, Dice, Tversky, binary_focal_crossentropy, categorical_focal_crossentropy,
    categorical_generalized_cross_entropy, circle, dice, tversky)
from nnforge import losses_extra as _extra  # noqa: E402
_FUNCTIONS.update({f.__name__: f for f in _extra.FUNCTIONS})
_CLASSES.update({c.__name__: c for c in _extra.CLASSES})


def _snake(name: str) -> str:
    from nnforge.naming import to_snake_case
    return to_snake_case(name)


def get(identifier) -> Callable:
    """A loss function or Loss object for a name, class, object or callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        low = identifier.lower()
        if low in _FUNCTIONS:
            return _FUNCTIONS[low]
        raise ValueError(f"Unknown loss {identifier!r}; known: {sorted(_FUNCTIONS)}")
    if isinstance(identifier, dict):
        return deserialize_keras_object(identifier, module="keras.losses", kind="loss")
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret loss {identifier!r}")


def to_loss_object(identifier) -> Loss:
    """Like ``get`` but always a ``Loss`` object (functions wrapped, reduced by batch mean)."""
    obj = get(identifier)
    if isinstance(obj, Loss):
        return obj
    return LossFunctionWrapper(obj, name=getattr(obj, "__name__", "loss"))


def serialize(loss) -> dict:
    """The serialized form of a ``Loss`` (a dict), or the name of a loss function."""
    return serialize_keras_object(loss)


def deserialize(name, custom_objects=None):
    """A ``Loss`` object or loss function from its serialized form (``keras.losses.deserialize``).

    Args:
        name: a config dict (``{"class_name": ..., "config": ...}``) or a function's name.
        custom_objects: name -> class or function entries for user-defined losses.

    Returns:
        The ``Loss`` instance or loss function.

    Example:

    >>> nnforge.losses.deserialize(nnforge.losses.serialize(nnforge.losses.Dice()))
    """
    if isinstance(name, str) and (custom_objects is None or name not in custom_objects):
        if name in _FUNCTIONS:
            return _FUNCTIONS[name]
        if name in _CLASSES:
            return _CLASSES[name]()
    return deserialize_keras_object(name, custom_objects=custom_objects, module="keras.losses",
                                    kind="loss")
