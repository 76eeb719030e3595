"""``MultiHeadAttention`` and ``GroupQueryAttention`` (Keras's names and computations): query,
key and value projections by ``EinsumDense``, scaled dot-product attention per head, and an
output projection back to the query's feature size."""
from __future__ import annotations

import math
import string
from typing import Optional

import numpy as np

from nnforge import initializers, ops, random_state, regularizers

from ._weight_options import set_weight_options, weight_options_config
from .einsum_dense import EinsumDense
from .layer import Layer

_LARGE_NEGATIVE = -1e9  # what Keras's Softmax layer puts at masked positions (float32)


def _letter(i: int) -> str:
    return string.ascii_lowercase[i]


def build_attention_equation(rank: int, attn_axes):
    """(dot-product equation, combine equation, rank of the scores) for projected tensors of
    ``rank`` whose ``attn_axes`` are attended over (Keras's layout: batch and other axes,
    attention axes, heads, channels)."""
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = tuple(i for i in range(rank) if i not in tuple(attn_axes) + (rank - 1,))
    offset = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letter(offset)
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes] +
                      [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def build_proj_equation(free_dims: int, bound_dims: int, output_dims: int):
    """(equation, bias axes, output rank) of a projection inside multi-head attention."""
    inp = kern = out = bias = ""
    for i in range(free_dims):
        inp += _letter(i)
        out += _letter(i)
    for i in range(bound_dims):
        inp += _letter(free_dims + i)
        kern += _letter(free_dims + i)
    for i in range(output_dims):
        c = _letter(free_dims + bound_dims + i)
        kern += c
        out += c
        bias += c
    return f"{inp},{kern}->{out}", bias, len(out)


def _output_shape(rank: int, known_last):
    return [None] * (rank - len(known_last)) + list(known_last)


def _shape(s):
    return None if s is None else tuple(s)


def masked_softmax(scores, mask, axes):
    """Keras's ``Softmax`` layer with a mask: masked logits set to -1e9, softmax over ``axes``,
    masked positions zeroed (a fully masked row gives zeros)."""
    if mask is not None:
        mask = np.asarray(ops.convert_to_numpy(mask))
        if mask.dtype != np.bool_:
            mask = mask > 0.5
        scores = ops.where(mask, scores, _LARGE_NEGATIVE)
    if len(axes) > 1:
        out = ops.exp(ops.subtract(scores, ops.logsumexp(scores, axis=tuple(axes),
                                                          keepdims=True)))
    else:
        out = ops.softmax(scores, axis=axes[0])
    if mask is not None:
        out = ops.where(mask, out, 0.0)
    return out


def causal_mask(t: int, s: int) -> np.ndarray:
    """A ``(1, T, S)`` lower-triangular boolean mask (query ``i`` attends keys ``j <= i``)."""
    rows = np.cumsum(np.ones((1, t, s), np.int32), axis=-2)
    cols = np.cumsum(np.ones((1, t, s), np.int32), axis=-1)
    return rows >= cols


def sliding_window_mask(t: int, s: int, window: int) -> np.ndarray:
    """A ``(1, T, S)`` band: query ``i`` attends keys ``j`` with ``|i - j| < window``."""
    return np.abs(np.arange(t).reshape(1, t, 1) - np.arange(s).reshape(1, 1, s)) < window


def _mask_array(m):
    if m is None:
        return None
    return np.asarray(ops.convert_to_numpy(m)).astype(bool)


def _check_sliding_window(sliding_window):
    """``sliding_window`` itself when it is None or a positive int, else a ValueError."""
    if sliding_window is not None and (not isinstance(sliding_window, int)
                                       or sliding_window <= 0):
        raise ValueError("`sliding_window` must be `None` or a positive integer. "
                         f"Received: sliding_window={sliding_window}")
    return sliding_window


def combined_attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                            use_causal_mask: bool, sliding_window: Optional[int]):
    """The boolean ``(B, T, S)`` mask merging the inputs' masks, the causal and sliding-window
    masks and ``attention_mask`` (Keras's ``_compute_attention_mask``), or None."""
    auto = None
    if query_mask is not None:
        auto = _mask_array(query_mask)[..., None]
    for m in (value_mask, key_mask):
        if m is not None:
            mm = _mask_array(m)[..., None, :]
            auto = mm if auto is None else auto & mm
    t, s = int(query.shape[1]), int(value.shape[1])
    if use_causal_mask:
        mm = causal_mask(t, s)
        auto = mm if auto is None else auto & mm
    if sliding_window is not None:
        mm = sliding_window_mask(t, s, sliding_window)
        auto = mm if auto is None else auto & mm
    attention_mask = _mask_array(attention_mask)
    if auto is not None:
        attention_mask = auto if attention_mask is None else attention_mask & auto
    return attention_mask


class _QueryValueAttention(Layer):
    """What MultiHeadAttention and GroupQueryAttention share: they are built from the shapes of
    query, value and key (Keras's ``shapes_dict`` build config), project them with
    ``EinsumDense`` layers that share the layer's kernel/bias options, combine the inputs' masks
    the same way, and save their projections under Keras's attribute names.

    Args:
        flash_attention: None or False (nnforge has no flash-attention kernel).
        seed: seed of the dropout on the attention weights.
        **kwargs: ``Layer``'s arguments.
    """

    # The attributes the projections' options are kept under: Keras's MultiHeadAttention keeps
    # them private ("_kernel_initializer", ...), its GroupQueryAttention public.
    _options_prefix = ""

    def __init__(self, flash_attention=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if flash_attention:
            raise ValueError(f"{type(self).__name__} '{self.name}': flash_attention=True is not "
                             "supported by nnforge")
        self.supports_masking = True
        self.seed = seed
        self._rng = random_state.make_rng(seed)
        self._build_shapes = None

    # -- the projections' options ------------------------------------------------------------
    def _set_projection_options(self, kernel_initializer, bias_initializer, kernel_regularizer,
                                bias_regularizer, activity_regularizer, kernel_constraint,
                                bias_constraint) -> None:
        """Keeps the projections' kernel and bias options (under ``_options_prefix``) and their
        activity regularizer."""
        set_weight_options(self, self._options_prefix,
                           kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
                           bias=(bias_initializer, bias_regularizer, bias_constraint))
        self._activity_regularizer = regularizers.get(activity_regularizer)

    def _option(self, name: str):
        return getattr(self, self._options_prefix + name)

    def _common_kwargs(self) -> dict:
        """Keyword arguments of every projection: the layer's options (a fresh instance of each
        initializer, so that the projections draw independently)."""
        return dict(kernel_regularizer=self._option("kernel_regularizer"),
                    bias_regularizer=self._option("bias_regularizer"),
                    activity_regularizer=self._activity_regularizer,
                    kernel_constraint=self._option("kernel_constraint"),
                    bias_constraint=self._option("bias_constraint"), dtype=self.dtype,
                    kernel_initializer=initializers.get(
                        initializers.serialize(self._option("kernel_initializer"))),
                    bias_initializer=initializers.get(
                        initializers.serialize(self._option("bias_initializer"))))

    def _projection_options_config(self) -> dict:
        return {**weight_options_config(self, "kernel", "bias", prefix=self._options_prefix),
                "activity_regularizer": regularizers.serialize(self._activity_regularizer)}

    # -- build ---------------------------------------------------------------------------------
    def _record_build_shapes(self, query_shape, value_shape, key_shape):
        """``(query_shape, value_shape, key_shape)`` as tuples (key defaulting to value), from
        ``build``'s arguments (three shapes or one list of them), recorded for the build
        config; None when there is no value shape yet (the layer is then built at its first
        call)."""
        if value_shape is None and isinstance(query_shape, list) and query_shape and \
                isinstance(query_shape[0], (tuple, list)):
            shapes = list(query_shape) + [None] * (3 - len(query_shape))
            query_shape, value_shape, key_shape = shapes[:3]
        if value_shape is None:
            return None
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        self._build_shapes = {"query_shape": list(query_shape), "value_shape": list(value_shape)}
        if key_shape is not None:
            self._build_shapes["key_shape"] = list(key_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        return query_shape, value_shape, key_shape

    def _sublayer_groups(self):
        # Keras's saving library visits the sublayers by attribute name, sorted
        names = ["_key_dense", "_output_dense", "_query_dense", "_value_dense"]
        if getattr(self, "_gate_dense", None) is not None:
            names.insert(0, "_gate_dense")
        return [(n, getattr(self, n)) for n in names if hasattr(self, n)]

    def get_build_config(self):
        if self._build_shapes is None:
            return None
        return {"shapes_dict": dict(self._build_shapes)}

    def build_from_config(self, config: dict) -> None:
        if "shapes_dict" in config:
            d = config["shapes_dict"]
            self.build(_shape(d.get("query_shape")), _shape(d.get("value_shape")),
                       _shape(d.get("key_shape")))
        elif config.get("input_shape") is not None:
            self.build([tuple(s) for s in config["input_shape"]])


    def _symbolic_call(self, inputs, args, kwargs):
        if not hasattr(self, "_query_dense"):
            value = args[0] if args else kwargs.get("value")
            key = args[1] if len(args) > 1 else kwargs.get("key")
            if value is not None:
                self.build(tuple(inputs.shape), tuple(value.shape),
                           None if key is None else tuple(key.shape))
        return super()._symbolic_call(inputs, args, kwargs)

    # -- call ----------------------------------------------------------------------------------
    def _prepare_call(self, query, value, key, query_mask, value_mask, key_mask,
                      attention_mask, use_causal_mask: bool, sliding_window):
        """Builds the layer at its first call; returns ``(key, mask, causal_only)``: the key
        (default: value), the combined boolean mask (value and key masks default to the
        inputs' Keras masks) and whether the mask is just causal (then None: the attention
        kernel applies it)."""
        if not hasattr(self, "_query_dense"):
            self.build(tuple(query.shape), tuple(value.shape),
                       None if key is None else tuple(key.shape))
        if key is None:
            key = value
        if value_mask is None:
            value_mask = getattr(value, "_keras_mask", None)
        if key_mask is None and key is not value:
            key_mask = getattr(key, "_keras_mask", None)
        causal_only = (use_causal_mask and query_mask is None and value_mask is None
                       and key_mask is None and attention_mask is None
                       and sliding_window is None)
        mask = None if causal_only else combined_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask,
            sliding_window)
        return key, mask, causal_only

    def _project(self, query, key, value):
        """(gate or None, projected query, key, value)."""
        gate = self._gate_dense(query) if getattr(self, "_gate_dense", None) is not None \
            else None
        return gate, self._query_dense(query), self._key_dense(key), self._value_dense(value)

    def _output(self, out, gate, scores, return_attention_scores: bool):
        """The gated attention output projected back (with the scores when asked for)."""
        if gate is not None:
            out = ops.multiply(out, gate)
        out = self._output_dense(out)
        if return_attention_scores:
            return out, scores
        return out

    def _attention_output_shape(self, query_shape, value_shape, num_heads: int,
                                output_shape=None):
        """The output shape for ``query_shape`` (its last dimensions replaced by
        ``output_shape`` when given), with the scores' ``(B, heads, T, S)`` when the symbolic
        call asked for them."""
        if value_shape is None and isinstance(query_shape, list):
            query_shape, value_shape = query_shape[0], query_shape[1]
        query_shape = tuple(query_shape)
        if output_shape:
            query_shape = query_shape[:-1] + tuple(output_shape)
        extra_args, extra_kwargs = getattr(self, "_symbolic_call_args", None) or ((), {})
        if extra_kwargs.get("return_attention_scores"):
            t = query_shape[1]
            s = tuple(value_shape)[1] if value_shape is not None else (
                extra_args[0].shape[1] if extra_args else t)
            return (query_shape, (query_shape[0], num_heads, t, s))
        return query_shape


class MultiHeadAttention(_QueryValueAttention):
    """Multi-head attention (Vaswani et al., 2017), ``keras.layers.MultiHeadAttention``.

    Projects ``query``, ``key`` and ``value`` into ``num_heads`` heads, computes
    ``softmax(Q K^T / sqrt(key_dim))`` per head over the attention axes, combines the values
    with those weights and projects the result back to the query's last dimension (or
    ``output_shape``).

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default ``key_dim``).
        dropout: dropout rate on the attention weights.
        use_bias: whether the projections have biases.
        output_shape: the output's last dimensions (default: the query's last dimension).
        attention_axes: the axes attention is applied over (default: all but batch, heads and
            features).
        sliding_window: if set, each query attends keys within ``sliding_window - 1`` positions.
        flash_attention: None or False (nnforge has no flash-attention kernel).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: for the projections.
        use_gate: gate the attention output with a sigmoid projection of the query.
        seed: seed of the dropout.

    Call arguments: ``query (B, T, dim)``, ``value (B, S, dim)``, ``key`` (default: value),
    ``query_mask``, ``value_mask``, ``key_mask`` (default: the inputs' Keras masks),
    ``attention_mask (B, T, S)``, ``return_attention_scores``, ``training``,
    ``use_causal_mask``.

    Example:

    >>> layer = MultiHeadAttention(num_heads=2, key_dim=2)
    >>> layer(np.zeros((1, 8, 16), "float32"), np.zeros((1, 4, 16), "float32")).shape
    (1, 8, 16)
    """

    _options_prefix = "_"

    def __init__(self, num_heads: int, key_dim: int, value_dim: Optional[int] = None,
                 dropout: float = 0.0, use_bias: bool = True, output_shape=None,
                 attention_axes=None, sliding_window: Optional[int] = None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate: bool = False, seed=None, **kwargs):
        if not isinstance(num_heads, int) or isinstance(num_heads, bool) or num_heads <= 0:
            raise ValueError("Received an invalid value for argument `num_heads`, expected a "
                             f"positive integer. Received: num_heads={num_heads}")
        if not isinstance(key_dim, int) or isinstance(key_dim, bool) or key_dim <= 0:
            raise ValueError("Received an invalid value for argument `key_dim`, expected a "
                             f"positive integer. Received: key_dim={key_dim}")
        if value_dim is not None and (not isinstance(value_dim, int) or value_dim <= 0):
            raise ValueError("Received an invalid value for argument `value_dim`, expected a "
                             f"positive integer or `None`. Received: value_dim={value_dim}")
        super().__init__(flash_attention, seed, **kwargs)
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = float(dropout)
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, the "
                                 "`output_shape` should be of type tuple, list, or int.") from None
        self._output_shape = output_shape
        self._set_projection_options(kernel_initializer, bias_initializer, kernel_regularizer,
                                     bias_regularizer, activity_regularizer, kernel_constraint,
                                     bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError("`attention_axes` must be an int, list, or tuple."
                             f"Received: attention_axes={attention_axes}")
        self._attention_axes = tuple(attention_axes) if attention_axes else attention_axes
        self._config_attention_axes = self._attention_axes
        self._sliding_window = _check_sliding_window(sliding_window)
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))

    # properties Keras exposes
    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def _proj(self, rank: int, heads: int, dim: int, name: str, activation=None):
        eq, bias_axes, out_rank = build_proj_equation(rank - 1, bound_dims=1, output_dims=2)
        return EinsumDense(eq, output_shape=_output_shape(out_rank - 1, [heads, dim]),
                           bias_axes=bias_axes if self._use_bias else None,
                           activation=activation, name=name, **self._common_kwargs())

    def build(self, query_shape, value_shape=None, key_shape=None) -> None:
        shapes = self._record_build_shapes(query_shape, value_shape, key_shape)
        if shapes is None:  # called with the query only: built at the first call
            return
        query_shape, value_shape, key_shape = shapes
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must be "
                             f"equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        self._query_dense = self._proj(len(query_shape), self._num_heads, self._key_dim, "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._proj(len(key_shape), self._num_heads, self._key_dim, "key")
        self._key_dense.build(key_shape)
        if self._use_gate:
            self._gate_dense = self._proj(len(query_shape), self._num_heads, self._value_dim,
                                          "gate", activation="sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._proj(len(value_shape), self._num_heads, self._value_dim,
                                       "value")
        self._value_dense.build(value_shape)
        rank = len(value_shape) + 1
        if self._config_attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a
                                         for a in self._config_attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = \
            build_attention_equation(rank, self._attention_axes)
        self._norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        out_shape = list(self._output_shape) if self._output_shape else [query_shape[-1]]
        eq, bias_axes, out_rank = build_proj_equation(len(query_shape) - 1, bound_dims=2,
                                                      output_dims=len(out_shape))
        self._output_dense = EinsumDense(eq, output_shape=_output_shape(out_rank - 1, out_shape),
                                         bias_axes=bias_axes if self._use_bias else None,
                                         name="attention_output", **self._common_kwargs())
        dense_in = list(self._query_dense.compute_output_shape(query_shape))
        dense_in[-1] = self._value_dim
        self._output_dense.build(tuple(dense_in))
        self.built = True

    def _masked_softmax(self, scores, mask):
        if mask is not None:
            for _ in range(len(scores.shape) - mask.ndim):
                mask = np.expand_dims(mask, -len(self._attention_axes) * 2 - 1)
        return masked_softmax(scores, mask, self._norm_axes)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        if not (self._dropout > 0.0 or return_attention_scores or len(query.shape) != 4):
            if attention_mask is not None:
                for _ in range(4 - attention_mask.ndim):
                    attention_mask = np.expand_dims(attention_mask,
                                                    -len(self._attention_axes) * 2 - 1)
            out = ops.dot_product_attention(query, key, value, mask=attention_mask,
                                            scale=self._inverse_sqrt_key_dim,
                                            is_causal=use_causal_mask)
            return out, None
        if use_causal_mask:
            cm = causal_mask(int(query.shape[1]), int(value.shape[1]))
            attention_mask = cm if attention_mask is None else attention_mask & cm
        query = ops.multiply(query, np.float32(self._inverse_sqrt_key_dim))
        scores = ops.einsum(self._dot_product_equation, key, query)
        scores = self._masked_softmax(scores, attention_mask)
        final = scores
        if self._dropout > 0.0 and training:
            final = ops.dropout(scores, self._dropout, self._rng)
        return ops.einsum(self._combine_equation, final, value), scores

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores: bool = False, training=None,
             use_causal_mask: bool = False):
        # the inputs' Keras masks fill the mask arguments (the query's always wins, as in Keras)
        query_mask = getattr(query, "_keras_mask", None)
        key, mask, causal_only = self._prepare_call(
            query, value, key, query_mask, value_mask, key_mask, attention_mask,
            use_causal_mask, self._sliding_window)
        gate, q, k, v = self._project(query, key, value)
        out, scores = self._compute_attention(q, k, v, mask, training, return_attention_scores,
                                              use_causal_mask=causal_only)
        return self._output(out, gate, scores, return_attention_scores)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return self._attention_output_shape(query_shape, value_shape, self._num_heads,
                                            self._output_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self._config_attention_axes,
            "sliding_window": self._sliding_window,
            **self._projection_options_config(),
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for key in ("output_shape", "attention_axes"):
            if isinstance(config.get(key), list):
                config[key] = tuple(config[key])
        return super().from_config(config)


class GroupQueryAttention(_QueryValueAttention):
    """Grouped-query attention (Ainslie et al., 2023), ``keras.layers.GroupQueryAttention``:
    ``num_query_heads`` query heads share ``num_key_value_heads`` key/value heads (MHA when
    they are equal, multi-query attention when there is one key/value head).

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key and value heads; divides ``num_query_heads``.
        dropout, use_bias, sliding_window, flash_attention, kernel_initializer,
        bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint, use_gate, seed: as in ``MultiHeadAttention``.

    Call arguments: as ``MultiHeadAttention`` (3-D query ``(B, T, dim)``, value/key
    ``(B, S, dim)``); the output has the query's shape.

    Example:

    >>> layer = GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
    >>> layer(np.zeros((1, 5, 8), "float32"), np.zeros((1, 3, 8), "float32")).shape
    (1, 5, 8)
    """

    def __init__(self, head_dim: int, num_query_heads: int, num_key_value_heads: int,
                 dropout: float = 0.0, use_bias: bool = True,
                 sliding_window: Optional[int] = None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate: bool = False,
                 seed=None, **kwargs):
        super().__init__(flash_attention, seed,
                         activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`.")
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = float(dropout)
        self.use_bias = use_bias
        self.use_gate = use_gate
        self.sliding_window = _check_sliding_window(sliding_window)
        self._set_projection_options(kernel_initializer, bias_initializer, kernel_regularizer,
                                     bias_regularizer, activity_regularizer, kernel_constraint,
                                     bias_constraint)
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))

    def _heads_projection(self, equation: str, bias_axes: str, heads: int, name: str,
                          activation=None):
        """An ``EinsumDense`` projecting (B, T, dim) to ``heads`` heads of ``head_dim``."""
        return EinsumDense(equation, output_shape=(None, heads, self.head_dim),
                           bias_axes=bias_axes if self.use_bias else None,
                           activation=activation, name=name, **self._common_kwargs())

    def build(self, query_shape, value_shape=None, key_shape=None) -> None:
        shapes = self._record_build_shapes(query_shape, value_shape, key_shape)
        if shapes is None:
            return
        query_shape, value_shape, key_shape = shapes
        self.feature_dim = query_shape[-1]
        query_heads = ("bqm,muh->bquh", "uh", self.num_query_heads)
        key_value_heads = ("bkm,mvh->bkvh", "vh", self.num_key_value_heads)
        self._query_dense = self._heads_projection(*query_heads, "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._heads_projection(*key_value_heads, "key")
        self._key_dense.build(key_shape)
        if self.use_gate:
            self._gate_dense = self._heads_projection(*query_heads, "gate", activation="sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._heads_projection(*key_value_heads, "value")
        self._value_dense.build(value_shape)
        self._output_dense = EinsumDense("bquh,uhm->bqm", output_shape=(None, self.feature_dim),
                                         bias_axes="m" if self.use_bias else None,
                                         name="attention_output", **self._common_kwargs())
        self._output_dense.build((None, None, self.num_query_heads, self.head_dim))
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores: bool = False, training=None,
             use_causal_mask: bool = False):
        if query_mask is None:
            query_mask = getattr(query, "_keras_mask", None)
        key, mask, causal_only = self._prepare_call(
            query, value, key, query_mask, value_mask, key_mask, attention_mask,
            use_causal_mask, self.sliding_window)
        gate, q, k, v = self._project(query, key, value)
        if not (self.dropout > 0.0 or return_attention_scores):
            if mask is not None:
                mask = mask[:, None] if mask.ndim == 3 else mask
            out = ops.dot_product_attention(q, k, v, mask=mask,
                                            scale=self._inverse_sqrt_head_dim,
                                            is_causal=causal_only)
            scores = None
        else:
            k = ops.repeat(k, self.num_repeats, axis=2)
            v = ops.repeat(v, self.num_repeats, axis=2)
            if causal_only:
                mask = causal_mask(int(q.shape[1]), int(v.shape[1]))
            q = ops.multiply(q, np.float32(self._inverse_sqrt_head_dim))
            scores = ops.einsum("bquh,bkuh->buqk", q, k)
            if mask is not None:
                mask = mask[:, None] if mask.ndim == 3 else mask
            scores = masked_softmax(scores, mask, (-1,))
            final = ops.dropout(scores, self.dropout, self._rng) \
                if self.dropout > 0.0 and training else scores
            out = ops.einsum("buqk,bkuh->bquh", final, v)
        return self._output(out, gate, scores, return_attention_scores)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return self._attention_output_shape(query_shape, value_shape, self.num_query_heads)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "dropout": self.dropout,
            "sliding_window": self.sliding_window,
            **self._projection_options_config(),
            "seed": self.seed,
        })
        return config
