"""Focal, generalized, overlap (Dice, Tversky) and metric-learning (Circle) losses with Keras 3's
formulas, re-exported by ``nnforge.losses``.

Each function maps ``(y_true, y_pred)`` to per-sample values built from ``nnforge.ops`` (so they
are differentiable under ``GradientTape`` and run on NumPy or CuPy arrays); each class is the
batch reduction of its function, with Keras's arguments and config keys."""
from __future__ import annotations

import warnings

import numpy as np

from nnforge import ops
# nnforge.losses imports this module after defining these (import it through nnforge.losses)
from nnforge.losses import Loss, LossFunctionWrapper, reduce_values

_EPSILON = 1e-7  # keras.backend.epsilon()


def _as_float(x):
    return ops.cast(x, "float32")


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1):
    """Binary focal crossentropy (Lin et al., 2018), mean over ``axis``.

    ``focal = (1 - p_t) ** gamma * bce`` with ``p_t = y p + (1 - y)(1 - p)``; with
    ``apply_class_balancing`` each term is also weighted by ``alpha`` (class 1) or
    ``1 - alpha`` (class 0).

    Args:
        y_true: 0/1 targets.
        y_pred: probabilities, or logits when ``from_logits``.
        apply_class_balancing: weight the classes by ``alpha`` / ``1 - alpha``.
        alpha: the weight of class 1.
        gamma: the focusing parameter (0 gives binary crossentropy).
        from_logits: ``y_pred`` holds logits.
        label_smoothing: squeeze the targets towards 0.5 by this amount.
        axis: the axis the mean is taken over.

    Returns:
        Per-sample losses, shape ``y_pred.shape`` without ``axis``.

    Example:

    >>> nnforge.losses.binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = _as_float(y_true)
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    p = ops.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
    one_minus_t = ops.subtract(1.0, y_true)
    bce = ops.negative(ops.add(ops.multiply(y_true, ops.log(p)),
                               ops.multiply(one_minus_t, ops.log(ops.subtract(1.0, p)))))
    p_t = ops.add(ops.multiply(y_true, y_pred),
                  ops.multiply(one_minus_t, ops.subtract(1.0, y_pred)))
    focal = ops.multiply(ops.power(ops.subtract(1.0, p_t), float(gamma)), bce)
    if apply_class_balancing:
        weight = ops.add(ops.multiply(y_true, alpha), ops.multiply(one_minus_t, 1.0 - alpha))
        focal = ops.multiply(weight, focal)
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0,
                                   axis: int = -1):
    """Alpha-balanced categorical focal crossentropy, summed over ``axis``.

    ``sum(alpha * (1 - p) ** gamma * -y log p)`` with ``p`` the predictions renormalised to sum
    to 1 and clipped to ``[eps, 1 - eps]``.

    Args:
        y_true: one-hot targets.
        y_pred: probabilities, or logits when ``from_logits``.
        alpha: a float or a per-class list of weights.
        gamma: the focusing parameter (0 gives categorical crossentropy, scaled by alpha).
        from_logits: ``y_pred`` holds logits.
        label_smoothing: smooth the targets (``y (1 - s) + s / num_classes``).
        axis: the class axis.

    Returns:
        Per-sample losses.

    Example:

    >>> nnforge.losses.categorical_focal_crossentropy([[0, 1, 0]], [[0.05, 0.9, 0.05]])
    """
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"categorical_focal_crossentropy: `axis` must be of type `int`. "
                         f"Received: axis={axis} of type {type(axis)}")
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = _as_float(y_true)
    if tuple(y_pred.shape)[-1] == 1:
        warnings.warn("In loss categorical_focal_crossentropy, expected y_pred.shape to be "
                      "(batch_size, num_classes) with num_classes > 1. Received: "
                      f"y_pred.shape={tuple(y_pred.shape)}. Consider using "
                      "'binary_crossentropy' if you only have 2 classes.", SyntaxWarning,
                      stacklevel=2)
    if label_smoothing:
        n = float(tuple(y_true.shape)[-1])
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), label_smoothing / n)
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    out = ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
    out = ops.clip(out, _EPSILON, 1.0 - _EPSILON)
    cce = ops.multiply(ops.negative(y_true), ops.log(out))
    alpha_t = alpha if np.isscalar(alpha) else np.asarray(alpha, dtype=np.float32)
    weighting = ops.multiply(ops.power(ops.subtract(1.0, out), float(gamma)), alpha_t)
    return ops.sum(ops.multiply(weighting, cce), axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross entropy (Zhang & Sabuncu, 2018): ``(1 - p ** q) / q`` with ``p`` the
    predicted probability of the true class.

    Args:
        y_true: integer class indices, shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: class probabilities, shape ``(batch, num_classes)``.
        q: the noise parameter in (0, 1): towards 0 like crossentropy, towards 1 like MAE.

    Returns:
        Per-sample losses, shape ``(batch,)``.

    Example:

    >>> nnforge.losses.categorical_generalized_cross_entropy([0, 1], [[0.7, 0.3], [0.2, 0.8]], 0.5)
    """
    y_pred = ops.convert_to_tensor(y_pred)
    n = tuple(y_pred.shape)[-1]
    labels = ops.convert_to_numpy(y_true).astype(np.int64)
    one_hot = ops.one_hot(labels, n)
    if len(one_hot.shape) == len(y_pred.shape) + 1:  # labels of shape (batch, 1)
        one_hot = ops.squeeze(one_hot, axis=-2)
    p = ops.sum(ops.multiply(y_pred, _as_float(one_hot)), axis=-1)
    return ops.divide(ops.subtract(1.0, ops.power(p, float(q))), q)


def dice(y_true, y_pred, axis=None):
    """Dice loss: ``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + eps)``.

    Args:
        y_true: targets.
        y_pred: predictions.
        axis: the axes the sums run over (None: all, giving one scalar).

    Returns:
        The Dice loss per remaining index.

    Example:

    >>> nnforge.losses.dice([[1.0, 0.0]], [[0.8, 0.1]], axis=(1,))
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = _as_float(y_true)
    axis = tuple(axis) if isinstance(axis, list) else axis
    inter = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    denom = ops.add(ops.add(ops.sum(y_true, axis=axis), ops.sum(y_pred, axis=axis)), _EPSILON)
    return ops.subtract(1.0, ops.divide(ops.multiply(2.0, inter), denom))


def tversky(y_true, y_pred, alpha: float = 0.5, beta: float = 0.5, axis=None):
    """Tversky loss (Salehi et al., 2017): ``1 - tp / (tp + alpha fp + beta fn + eps)`` with
    ``tp = sum(y_true y_pred)``, ``fp = sum((1 - y_pred) y_true)`` and
    ``fn = sum(y_pred (1 - y_true))`` as Keras writes them.

    Args:
        y_true: targets.
        y_pred: predictions.
        alpha: the weight of the false-positive term.
        beta: the weight of the false-negative term.
        axis: the axes the sums run over (None: all).

    Returns:
        The Tversky loss per remaining index.

    Example:

    >>> nnforge.losses.tversky([[1.0, 0.0]], [[0.8, 0.1]], alpha=0.3, beta=0.7)
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = _as_float(y_true)
    axis = tuple(axis) if isinstance(axis, list) else axis
    inter = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    fp = ops.sum(ops.multiply(ops.subtract(1.0, y_pred), y_true), axis=axis)
    fn = ops.sum(ops.multiply(y_pred, ops.subtract(1.0, y_true)), axis=axis)
    denom = ops.add(ops.add(ops.add(inter, ops.multiply(fp, alpha)), ops.multiply(fn, beta)),
                    _EPSILON)
    return ops.subtract(1.0, ops.divide(inter, denom))


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal: bool = True,
           gamma: float = 80, margin: float = 0.4):
    """Circle loss (Sun et al., 2020) between integer labels and L2-normalised embeddings.

    Args:
        y_true: integer labels, shape ``(batch,)``.
        y_pred: L2-normalised embeddings, shape ``(batch, dim)``.
        ref_labels: labels of the reference embeddings (default ``y_true``).
        ref_embeddings: reference embeddings (default ``y_pred``).
        remove_diagonal: drop self-similarities from the positive pairs.
        gamma: the scale of the similarity scores.
        margin: the relaxation factor.

    Returns:
        Per-sample losses, shape ``(batch,)`` (0 for a sample with no positive pair).

    Example:

    >>> emb = nnforge.ops.normalize(x)  # (batch, dim), unit rows
    >>> nnforge.losses.circle(labels, emb)
    """
    y_pred = ops.convert_to_tensor(y_pred)
    ref = y_pred if ref_embeddings is None else ops.convert_to_tensor(ref_embeddings)
    q = ops.convert_to_numpy(y_true).astype(np.int64).reshape(-1, 1)
    k = q if ref_labels is None else ops.convert_to_numpy(ref_labels).astype(np.int64).reshape(
        -1, 1)
    pos = q == k.T
    neg = ~pos
    if remove_diagonal:
        pos = pos & ~np.eye(q.size, k.size, dtype=bool)
    dist = ops.maximum(ops.subtract(1.0, ops.matmul(y_pred, ops.transpose(ref))), 0.0)
    posf, negf = pos.astype(np.float32), neg.astype(np.float32)
    pos_w = ops.maximum(ops.multiply(ops.add(dist, margin), posf), 0.0)
    neg_w = ops.maximum(ops.multiply(ops.subtract(1.0 + margin, dist), negf), 0.0)
    pos_wd = ops.multiply(ops.multiply(-gamma, pos_w), ops.subtract(margin, dist))
    neg_wd = ops.multiply(ops.multiply(gamma, neg_w), ops.subtract(1.0 - margin, dist))
    with np.errstate(divide="ignore"):  # a row with no positive (negative) pair: -inf
        p_loss = ops.logsumexp(ops.where(pos, pos_wd, -np.inf), axis=1)
        n_loss = ops.logsumexp(ops.where(neg, neg_wd, -np.inf), axis=1)
    return ops.softplus(ops.add(p_loss, n_loss))


class _Extra(LossFunctionWrapper):
    _config_keys: tuple = ()

    def get_config(self):
        config = Loss.get_config(self)
        config.update({k: getattr(self, k) for k in self._config_keys})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

class BinaryFocalCrossentropy(_Extra):
    """Binary focal crossentropy (``keras.losses.BinaryFocalCrossentropy``); see
    ``binary_focal_crossentropy``.

    Example:

    >>> loss = nnforge.losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
    >>> loss(y_true, logits)
    """
    _config_keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing",
                    "alpha", "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                 from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_focal_crossentropy",
                 dtype=None):
        super().__init__(binary_focal_crossentropy, name=name, reduction=reduction,
                         apply_class_balancing=apply_class_balancing, alpha=alpha,
                         gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, \
            gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

class CategoricalFocalCrossentropy(_Extra):
    """Categorical focal crossentropy (``keras.losses.CategoricalFocalCrossentropy``); see
    ``categorical_focal_crossentropy``.

    Example:

    >>> nnforge.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0)(y_onehot, probs)
    """
    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction="sum_over_batch_size",
                 name="categorical_focal_crossentropy", dtype=None):
        super().__init__(categorical_focal_crossentropy, name=name, reduction=reduction,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

class CategoricalGeneralizedCrossEntropy(_Extra):
    """Generalized cross entropy (``keras.losses.CategoricalGeneralizedCrossEntropy``) with
    integer labels; see ``categorical_generalized_cross_entropy``.

    Example:

    >>> nnforge.losses.CategoricalGeneralizedCrossEntropy(q=0.5)([0, 1], probs)
    """
    _config_keys = ("q",)

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError("CategoricalGeneralizedCrossEntropy: q must be in the "
                             f"interval (0, 1), got q={q}")
        super().__init__(categorical_generalized_cross_entropy, name=name,
                         reduction=reduction, q=q)
        self.q = q

class Dice(_Extra):
    """Dice loss (``keras.losses.Dice``); see ``dice``.

    Example:

    >>> nnforge.losses.Dice(axis=(1, 2, 3))(masks, probs)
    """
    _config_keys = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, axis=axis)
        self.axis = axis

class Tversky(_Extra):
    """Tversky loss (``keras.losses.Tversky``); see ``tversky``.

    Example:

    >>> nnforge.losses.Tversky(alpha=0.3, beta=0.7)(masks, probs)
    """
    _config_keys = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size",
                 name="tversky", axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction, alpha=alpha, beta=beta,
                         axis=axis)
        self.alpha, self.beta, self.axis = alpha, beta, axis

class Circle(_Extra):
    """Circle loss (``keras.losses.Circle``); see ``circle``. As in Keras, samples whose loss
    is 0 (no positive pair) are left out of the mean.

    Example:

    >>> nnforge.losses.Circle(gamma=80.0, margin=0.4)(labels, unit_embeddings)
    """
    _config_keys = ("gamma", "margin", "remove_diagonal")

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, name=name, reduction=reduction, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        mask = ops.convert_to_numpy(values) > 0
        if self.reduction in ("mean", "sum_over_batch_size"):
            valid = float(mask.sum())
            mweight = (mask * (mask.size / valid if valid else 0.0)).astype(np.float32)
        else:
            mweight = mask.astype(np.float32)
        if sample_weight is not None:
            sw = ops.convert_to_numpy(sample_weight).astype(np.float32).reshape(mask.shape)
            mweight = mweight * sw
        return reduce_values(values, mweight, self.reduction, self.name)


FUNCTIONS = (binary_focal_crossentropy, categorical_focal_crossentropy,
             categorical_generalized_cross_entropy, dice, tversky, circle)
CLASSES = (BinaryFocalCrossentropy, CategoricalFocalCrossentropy,
           CategoricalGeneralizedCrossEntropy, Dice, Tversky, Circle)
