"""Embedding: integer ids to dense vectors."""
from __future__ import annotations

from nnforge import backend, ops
from nnforge.core.tensor import Tensor

from ._weight_options import add_weight_from_options, set_weight_options, weight_options_config
from .layer import Layer
from .quantized import Int8Quantizable


class Embedding(Int8Quantizable, Layer):
    """Maps integer ids in [0, input_dim) to vectors of size output_dim.

    Args:
        input_dim: vocabulary size.
        output_dim: embedding size.
        embeddings_initializer: default 'uniform' (in [-0.05, 0.05]).
        mask_zero: id 0 is padding: downstream layers get a mask (ids != 0).
    """

    _integer_inputs = True
    _int8_weight = "embeddings"
    _int8_calibrated = False  # a table lookup: no inputs to quantize at run time

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None,
                 mask_zero: bool = False, **kwargs):
        kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        if input_dim < 1 or output_dim < 1:
            raise ValueError(f"Embedding '{self.name}': input_dim and output_dim must be "
                             f"positive, got {input_dim} and {output_dim}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        init = "random_uniform" if embeddings_initializer == "uniform" else embeddings_initializer
        set_weight_options(self, embeddings=(init, embeddings_regularizer, embeddings_constraint))
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero

    def build(self, input_shape=None) -> None:
        self.embeddings = add_weight_from_options(self, "embeddings",
                                                  (self.input_dim, self.output_dim))
        self._maybe_int8_build()
        self.built = True

    def _int8_reduce_axes(self, shape):
        return (1,)  # one scale per row (id), as Keras's Embedding

    def call(self, inputs):
        if self.quantization_mode == "int8":
            from nnforge.ops import quantized as qops
            return qops.int8_take_rows(self.embeddings, self.embeddings_scale, inputs)
        return ops.embedding_lookup(self.embeddings, inputs)

    def compute_mask(self, inputs, previous_mask=None):
        if not self.mask_zero:
            return None
        data = inputs.data if isinstance(inputs, Tensor) else inputs
        return Tensor(data != 0) if backend.is_array(data) else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"input_dim": self.input_dim, "output_dim": self.output_dim,
                       **weight_options_config(self, "embeddings"), "mask_zero": self.mask_zero})
        return config
