"""Densely connected layer."""
from __future__ import annotations

from nnforge import activations, ops, regularizers

from ._weight_options import add_weight_from_options, set_weight_options, weight_options_config
from .layer import Layer
from .quantized import Int8Quantizable


class Dense(Int8Quantizable, Layer):
    """Just your regular densely-connected layer: ``activation(inputs @ kernel + bias)``.

    Bias and relu/sigmoid/tanh activations are fused into the GEMM's output pass.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation name or function (default: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (glorot_uniform, zeros).
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape: ``(batch_size, ..., input_dim)``. Output shape: ``(batch_size, ..., units)``.
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        if lora_rank is not None:
            raise ValueError(f"Dense '{self.name}': lora_rank={lora_rank!r} is not supported by "
                             "nnforge (LoRA is not implemented); leave it None")
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense '{self.name}': units must be a positive integer, "
                             f"got {units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
                           bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.supports_masking = True

    def build(self, input_shape) -> None:
        in_dim = input_shape[-1] if len(input_shape) else None
        if in_dim is None:
            raise ValueError(f"Dense '{self.name}': the last dimension of the input must be "
                             f"known, got input shape {tuple(input_shape)}")
        self.kernel = add_weight_from_options(self, "kernel", (in_dim, self.units))
        self.bias = add_weight_from_options(self, "bias", (self.units,)) if self.use_bias \
            else None
        self._maybe_int8_build()
        self.built = True

    def _check_input_spec(self, inputs) -> None:
        if len(getattr(inputs, "shape", (0,))) < 1:
            raise ValueError(f"Dense '{self.name}': input must be at least 1-D")

    def call(self, inputs):
        shape = getattr(inputs, "shape", None)
        if shape is None or len(shape) == 0 or shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected axis -1 "
                f"of input shape to have value {self.kernel.shape[0]}, but received input with "
                f"shape {tuple(shape) if shape is not None else None}")
        if self.quantization_mode == "int8":
            return self._int8_call(inputs)
        return ops.dense(inputs, self.kernel, self.bias, self.activation)

    def _int8_reduce_axes(self, shape):
        return (0,)  # one scale per unit, as Keras's Dense

    def _int8_call(self, inputs):
        """W8A8 (Keras's int8 Dense): inputs quantized per row, or with the calibrated
        ``int8_inputs_scale``; weight-only int8 runs the float GEMM on the dequantized kernel."""
        from nnforge.ops import quantized as qops
        if not self.int8_activations:
            return ops.dense(inputs, self._int8_dequantized(), self.bias, self.activation)
        return qops.int8_dense(inputs, self.kernel, self._int8_packed(), self.kernel_scale,
                               self.bias, self.activation,
                               getattr(self, "int8_inputs_scale", None))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, "kernel", "bias"),
        })
        return config
