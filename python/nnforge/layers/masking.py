"""``Masking``: marks the timesteps whose features all equal ``mask_value`` as padding."""
from __future__ import annotations

from nnforge import ops

from .layer import Layer


class Masking(Layer):
    """Masks a sequence's timesteps to skip (``keras.layers.Masking``).

    A timestep of a ``(batch, timesteps, features)`` input is masked when all its features
    equal ``mask_value``: the layer's output carries the mask (``output._keras_mask``, True
    where the step is kept), which mask-aware layers downstream (LSTM, GRU, SimpleRNN,
    GlobalAveragePooling1D, ...) receive as ``call(..., mask=...)``. Masked features are also
    set to zero in the output, as Keras does.

    Args:
        mask_value: the padding value.

    Example:

    >>> x = np.zeros((2, 5, 3), "float32"); x[:, :3] = 1.0
    >>> y = nnforge.layers.Masking(mask_value=0.0)(x)
    >>> y._keras_mask.numpy()[0]
    array([ True,  True,  True, False, False])
    """

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return ops.multiply(inputs, ops.cast(keep, inputs.dtype if hasattr(inputs, "dtype")
                                             else "float32"))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
