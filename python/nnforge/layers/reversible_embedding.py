"""``ReversibleEmbedding``: an embedding that can also project back to the vocabulary."""
from __future__ import annotations

from nnforge import ops

from .embedding import Embedding


class ReversibleEmbedding(Embedding):
    """An ``Embedding`` that also maps hidden states back to vocabulary logits
    (``keras.layers.ReversibleEmbedding``): ``layer(ids)`` looks up rows; ``layer(h,
    reverse=True)`` returns ``h @ embeddings^T`` (tied weights) or ``h @ reverse_embeddings``.

    Args:
        input_dim: vocabulary size.
        output_dim: embedding size.
        tie_weights: reuse the embeddings for the reverse projection (default True); else a
            separate ``(output_dim, input_dim)`` ``reverse_embeddings`` weight.
        embeddings_initializer, embeddings_regularizer, embeddings_constraint, mask_zero: as
            ``Embedding``.
        reverse_dtype: dtype of the reverse projection (None: the layer's).
        logit_soft_cap: if set, logits become ``tanh(logits / cap) * cap``.

    Example:

    >>> emb = ReversibleEmbedding(10, 4)
    >>> h = emb(np.array([[1, 2]]))
    >>> emb(h, reverse=True).shape
    (1, 2, 10)
    """

    def __init__(self, input_dim: int, output_dim: int, tie_weights: bool = True,
                 embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero: bool = False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None) -> None:
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim), initializer=self.embeddings_initializer,
                name="reverse_embeddings")
        self.built = True

    def call(self, inputs, reverse: bool = False):
        if not reverse:
            return super().call(inputs)
        kernel = ops.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs = ops.cast(inputs, self.reverse_dtype)
            kernel = ops.cast(kernel, self.reverse_dtype)
        logits = ops.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = ops.multiply(ops.tanh(ops.divide(logits, cap)), cap)
        return logits

    def compute_mask(self, inputs, previous_mask=None):
        reverse = (getattr(self, "_symbolic_call_args", None) or ((), {}))[1].get("reverse")
        if reverse:
            return None
        return super().compute_mask(inputs, previous_mask)

    def compute_output_shape(self, input_shape, reverse: bool = False):
        args, kwargs = getattr(self, "_symbolic_call_args", None) or ((), {})
        reverse = reverse or bool(kwargs.get("reverse")) or (bool(args[0]) if args else False)
        shape = list(input_shape)
        if reverse:
            shape[-1] = self.input_dim
        else:
            shape += [self.output_dim]
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                       "logit_soft_cap": self.logit_soft_cap})
        return config
