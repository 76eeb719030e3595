"""``Attention`` (Luong-style dot-product) and ``AdditiveAttention`` (Bahdanau-style) layers,
called on ``[query, value]`` or ``[query, value, key]``."""
from __future__ import annotations

import numpy as np

from nnforge import ops, random_state

from .layer import Layer


def _np_mask(m):
    return None if m is None else np.asarray(ops.convert_to_numpy(m)).astype(bool)


class Attention(Layer):
    """Dot-product attention layer, a.k.a. Luong-style attention (``keras.layers.Attention``).

    ``scores = query @ key^T`` (``score_mode="dot"``, times a learned scalar when
    ``use_scale``) or ``concat_score_weight * sum(tanh(scale * (query + key)))``
    (``score_mode="concat"``); ``weights = softmax(scores)`` over the value steps;
    ``output = weights @ value``.

    Args:
        use_scale: learn a scalar that scales the scores.
        score_mode: ``"dot"`` or ``"concat"``.
        dropout: dropout rate on the attention weights (training only).
        seed: seed of the dropout.

    Call arguments: ``inputs=[query (B, Tq, dim), value (B, Tv, dim), key (B, Tv, dim)
    (optional)]``, ``mask=[query_mask, value_mask]`` (default: the inputs' Keras masks),
    ``return_attention_scores``, ``training``, ``use_causal_mask``.

    Example:

    >>> q = np.random.rand(2, 3, 4).astype("float32")
    >>> v = np.random.rand(2, 5, 4).astype("float32")
    >>> Attention()([q, v]).shape
    (2, 3, 4)
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self._rng = random_state.make_rng(seed)
        if self.score_mode not in ["dot", "concat"]:
            raise ValueError("Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode}")
        self.supports_masking = True

    def _validate_inputs(self, inputs, mask=None) -> None:
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received: inputs={inputs}.")
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely "
                             f"[query, value] or [query, value, key]. Received length: "
                             f"{len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(f"{name} layer mask must be a list, namely "
                                 f"[query_mask, value_mask]. Received: mask={mask}.")
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received: "
                                 f"inputs={inputs}, mask={mask}.")

    def _check_input_spec(self, inputs) -> None:
        self._validate_inputs(inputs)

    def build(self, input_shape) -> None:
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(),
                                                       initializer="ones")
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            nd = len(key.shape)
            perm = tuple(range(nd - 2)) + (nd - 1, nd - 2)
            scores = ops.matmul(query, ops.transpose(key, perm))
            if self.scale is not None:
                scores = ops.multiply(scores, self.scale)
            return scores
        q = ops.expand_dims(query, axis=-2)
        k = ops.expand_dims(key, axis=-3)
        s = ops.add(q, k)
        if self.scale is not None:
            s = ops.multiply(self.scale, s)
        return ops.multiply(self.concat_score_weight, ops.sum(ops.tanh(s), axis=-1))

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        if scores_mask is not None:
            padding = np.logical_not(scores_mask)
            if padding.ndim == 2:
                padding = np.expand_dims(padding, -2)
            scores = ops.where(padding, ops.subtract(scores, 1.0e9), scores)
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = ops.dropout(weights, self.dropout, self._rng)
        return ops.matmul(weights, value), weights

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask):
        if use_causal_mask:
            t, s = scores.shape[-2], scores.shape[-1]
            causal = np.tril(np.ones((1, t, s), dtype=bool))
            if v_mask is not None:
                return np.logical_and(np.expand_dims(v_mask, -2), causal)
            return causal
        return v_mask

    def call(self, inputs, mask=None, training=False, return_attention_scores: bool = False,
             use_causal_mask: bool = False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = _np_mask(mask[0]) if mask else None
        v_mask = _np_mask(mask[1]) if mask else None
        scores = self._calculate_scores(q, k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        out, weights = self._apply_scores(scores, v, scores_mask, training)
        if q_mask is not None:
            out = ops.where(np.expand_dims(q_mask, -1), out, 0.0)
        if return_attention_scores:
            return out, weights
        return out

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return ops.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        out = query_shape[:-1] + (value_shape[-1],)
        _, kwargs = getattr(self, "_symbolic_call_args", None) or ((), {})
        if kwargs.get("return_attention_scores"):
            key_shape = tuple(input_shape[2]) if len(input_shape) > 2 else value_shape
            return (out, query_shape[:-1] + (key_shape[-2],))
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout, "seed": self.seed})
        return config


class AdditiveAttention(Attention):
    """Additive attention layer, a.k.a. Bahdanau-style attention
    (``keras.layers.AdditiveAttention``): ``scores = sum(scale * tanh(query + key), -1)``
    with a learned per-feature ``scale`` (when ``use_scale``), then as ``Attention``.

    Args:
        use_scale: learn a scale vector of the features' size (default True).
        dropout: dropout rate on the attention weights.

    Example:

    >>> q = np.random.rand(2, 3, 4).astype("float32")
    >>> AdditiveAttention()([q, q]).shape
    (2, 3, 4)
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape) -> None:
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(dim,),
                                         initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query, key):
        q = ops.expand_dims(query, axis=-2)
        k = ops.expand_dims(key, axis=-3)
        t = ops.tanh(ops.add(q, k))
        if self.use_scale:
            t = ops.multiply(self.scale, t)
        return ops.sum(t, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config
