"""``EinsumDense``: a dense layer whose contraction is an einsum equation."""
from __future__ import annotations

import re

import numpy as np

from nnforge import activations, initializers, ops, regularizers

from ._weight_options import add_weight_from_options, set_weight_options, weight_options_config
from .layer import Layer


def analyze_einsum_string(equation: str, bias_axes, input_shape, output_shape):
    """(kernel shape, bias shape or None, full output shape, kernel input axes, kernel output
    axes) for ``EinsumDense(equation, output_shape, bias_axes)`` on ``input_shape``.

    Equations take the forms ``X,Y->Z``, ``...X,Y->...Z`` or ``X...,Y->Z...`` (Keras's)."""
    dotted = re.sub(r"\.\.\.", "0", equation)
    forms = (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
             ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
             ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False))
    for pattern, left in forms:
        match = re.match(pattern + "$", dotted)
        if match:
            return _analyze(match.group(1), match.group(2), match.group(3), bias_axes,
                            tuple(input_shape), output_shape, left)
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def _analyze(input_spec, weight_spec, output_spec, bias_axes, input_shape, output_shape, left):
    elided = len(input_shape) - len(input_spec)
    output_shape = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])
    if left:
        input_map = {d: (i + elided) - len(input_shape) for i, d in enumerate(input_spec)}
        output_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_map = {d: i for i, d in enumerate(input_spec)}
        output_map = {d: i for i, d in enumerate(output_spec)}
    for d in input_spec:
        if d in output_map:
            want = output_shape[output_map[d]]
            if want is not None and want != input_shape[input_map[d]]:
                raise ValueError(f"Input shape and output shape do not match at shared dimension "
                                 f"'{d}'. Input shape is {input_shape[input_map[d]]}, and output "
                                 f"shape is {want}.")
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ValueError(f"Dimension '{d}' was specified in the output '{output_spec}' but "
                             f"has no corresponding dim in the input spec '{input_spec}' or "
                             f"weight spec '{weight_spec}'")
    kernel_shape, in_axes, out_axes = [], [], []
    for i, d in enumerate(weight_spec):
        if d in output_map:
            kernel_shape.append(output_shape[output_map[d]])
            out_axes.append(i)
        elif d in input_map:
            kernel_shape.append(input_shape[input_map[d]])
            in_axes.append(i)
        else:
            raise ValueError(f"Weight dimension '{d}' did not have a match in either the input "
                             f"spec '{input_spec}' or the output spec '{output_spec}'. For this "
                             "layer, the weight must be fully specified.")
    bias_shape = None
    if bias_axes is not None:
        offset = elided if left else 0
        sizes = {c: output_shape[i + offset] for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the "
                                 f"output spec '{output_spec}'")
        first = min(output_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left:
            bias_shape += [1] * elided
    return kernel_shape, bias_shape, output_shape, in_axes, out_axes


class _AxesInitializer:
    """Draws a kernel as the 2-D ``(fan_in, fan_out)`` matrix a variance-scaling initializer
    sees when Keras passes it ``input_axes``/``output_axes``, reshaped to the kernel."""

    def __init__(self, init, in_axes, out_axes):
        self.init, self.in_axes, self.out_axes = init, in_axes, out_axes

    def __call__(self, shape, dtype="float32"):
        fan_in = int(np.prod([shape[i] for i in self.in_axes])) if self.in_axes else 1
        fan_out = int(np.prod([shape[i] for i in self.out_axes])) if self.out_axes else 1
        return np.asarray(self.init((fan_in, fan_out), dtype)).reshape(shape)


class EinsumDense(Layer):
    """A layer that uses ``einsum`` as the backing computation (``keras.layers.EinsumDense``):
    ``activation(einsum(equation, inputs, kernel) + bias)``.

    Args:
        equation: ``"ab,bc->ac"``-style equation: input, kernel and output labels; the input
            and output may start or end with ``...``.
        output_shape: the expected output shape, without the batch dimension (None for
            dimensions inferred from the input); an int for a 1-D output.
        activation: activation function (default: linear).
        bias_axes: the output labels along which a bias is added (None: no bias).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as in ``Dense``.

    Example:

    >>> layer = EinsumDense("ab,bc->ac", output_shape=64, bias_axes="c")
    >>> layer(np.zeros((2, 32), "float32")).shape
    (2, 64)
    """

    def __init__(self, equation: str, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None, **kwargs):
        activity_regularizer = regularizers.get(kwargs.pop("activity_regularizer", None))
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if lora_rank:
            raise ValueError(f"EinsumDense '{self.name}': lora_rank={lora_rank!r} is not "
                             "supported by nnforge (LoRA is not implemented); leave it None")
        if quantization_config is not None or gptq_unpacked_column_size:
            raise ValueError(f"EinsumDense '{self.name}': quantization is not supported by "
                             "nnforge")
        if not isinstance(equation, str):
            raise TypeError(f"EinsumDense '{self.name}': equation must be a string, got "
                            f"{equation!r}")
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) \
            else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_weight_options(self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
                           bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.lora_rank = None
        self.lora_alpha = None

    def build(self, input_shape) -> None:
        kernel_shape, bias_shape, _, in_axes, out_axes = analyze_einsum_string(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        if any(d is None for d in kernel_shape):
            raise ValueError(f"EinsumDense '{self.name}': the kernel shape {kernel_shape} is not "
                             f"fully known from input shape {tuple(input_shape)} and output "
                             f"shape {self.partial_output_shape}")
        self._input_rank = len(input_shape)
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling):
            init = _AxesInitializer(init, in_axes, out_axes)
        self.kernel = add_weight_from_options(self, "kernel", tuple(kernel_shape),
                                              initializer=init)
        self.bias = None if bias_shape is None else add_weight_from_options(
            self, "bias", tuple(bias_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(analyze_einsum_string(self.equation, self.bias_axes, input_shape,
                                           self.partial_output_shape)[2])

    def call(self, inputs, training=None):
        if len(inputs.shape) != self._input_rank:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                             f"expected ndim={self._input_rank}, found ndim={len(inputs.shape)}. "
                             f"Full shape received: {tuple(inputs.shape)}")
        x = ops.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            **weight_options_config(self, "kernel", "bias"),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "quantization_config": None,
        })
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if config.get("quantization_config") is None:
            config.pop("quantization_config", None)
        if isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        return super().from_config(config)
