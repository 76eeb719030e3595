"""Convolutional LSTM (``keras.layers.ConvLSTM1D``, ``ConvLSTM2D``, ``ConvLSTM3D``): an LSTM
whose input and recurrent transformations are convolutions, on one base ``ConvLSTM(rank)`` with
its weights in a ``ConvLSTMCell`` held as ``cell`` (Keras 3's weight groups, so ``.keras`` files
carry over).

Keras's layout: kernel (k..., in, 4*filters) and recurrent kernel (k..., filters, 4*filters),
gates i, f, c, o along the last axis, bias (4*filters,) with the forget gate's quarter set to ones
when ``unit_forget_bias``. The input convolution (strides, padding, dilation as given) of every
step runs as one convolution over (batch * steps); each step then adds the recurrent
convolution of h ('same', stride 1) and applies the gates; the tape gives BPTT.
"""
from __future__ import annotations

import numpy as np

from nnforge import activations, ops, random_state, regularizers
from nnforge.utils.argument_validation import (conv_output_length, standardize_data_format,
                                               standardize_padding, standardize_tuple)

from ._weight_options import add_weight_from_options, set_weight_options, weight_options_config
from .layer import Layer
from .rnn import run_steps, unit_forget_bias_initializer

_DIMS = {1: "(batch, time, steps, channels)", 2: "(batch, time, height, width, channels)",
         3: "(batch, time, depth, height, width, channels)"}


class ConvLSTMCell(Layer):
    """The weights and one step of a convolutional LSTM (Keras 3's ``ConvLSTMCell``).

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters: number of output channels of h and c.
        kernel_size, strides, dilation_rate: int or tuple of ``rank`` ints (of the input
            convolution; the recurrent one has stride 1 and no dilation).
        padding: ``"valid"`` or ``"same"`` (of the input convolution; the recurrent one is
            'same').
        data_format: None or ``"channels_last"``.
        activation, recurrent_activation: of the candidate/output and of the gates.
        use_bias, unit_forget_bias: a (4*filters,) bias, its forget quarter initialised to one.
        kernel_/recurrent_/bias_ initializer, regularizer, constraint: of the three weights.
        dropout, recurrent_dropout: in training, the fraction of the input (of h) dropped, with
            one inverted-dropout mask per gate (i, f, c, o), drawn once per call and shared by
            every time step, as Keras's ``DropoutRNNCell``.
        seed: seed of those masks.
    """

    def __init__(self, rank: int, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias: bool = True,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        where = f"{type(self).__name__} '{self.name}'"
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{where}: filters must be a positive integer, got {filters!r}")
        for arg, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise ValueError(f"{where}: {arg} must be a float in [0, 1], got {rate!r}")
        self.rank = rank
        self.filters = filters
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size", where)
        self.strides = standardize_tuple(strides, rank, "strides", where)
        self.padding = standardize_padding(padding, where=where)
        self.data_format = standardize_data_format(data_format, where)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate", where)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.unit_forget_bias = unit_forget_bias
        set_weight_options(
            self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            recurrent=(recurrent_initializer, recurrent_regularizer, recurrent_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.seed = seed
        self._rng = random_state.make_rng(seed)

    def gate_masks(self, shape, rate: float):
        """Four inverted-dropout masks (one per gate) of ``shape``, or None when ``rate`` is 0."""
        if not 0 < rate:
            return None
        if rate >= 1:
            return [ops.zeros(shape) for _ in range(4)]
        return [ops.dropout(np.ones(shape, np.float32), rate, self._rng) for _ in range(4)]

    def _gate(self, w, g: int):
        f = self.filters
        return ops.getitem(w, (Ellipsis, slice(g * f, (g + 1) * f)))

    def output_spatial(self, spatial) -> tuple:
        """Spatial sizes of h for input spatial sizes ``spatial``."""
        where = f"{type(self).__name__} '{self.name}'"
        return tuple(conv_output_length(size, self.kernel_size[i], self.strides[i],
                                        self.dilation_rate[i], self.padding, where,
                                        f"spatial dimension {i}")[0]
                     for i, size in enumerate(spatial))

    def build(self, input_shape) -> None:
        """``input_shape``: one step, (batch, spatial..., channels)."""
        f = self.filters
        self.kernel = add_weight_from_options(self, "kernel",
                                              self.kernel_size + (input_shape[-1], 4 * f))
        self.recurrent_kernel = add_weight_from_options(
            self, "recurrent", self.kernel_size + (f, 4 * f), name="recurrent_kernel")
        self.bias = None
        if self.use_bias:
            init = unit_forget_bias_initializer(self.bias_initializer, f) \
                if self.unit_forget_bias else self.bias_initializer
            self.bias = add_weight_from_options(self, "bias", (4 * f,), initializer=init)
        self.built = True

    def project(self, x, masks=None):
        """The input convolution (with the bias) of a (batch, spatial..., channels) input; with
        ``masks`` (one per gate, broadcast against x), gate g convolves ``x * masks[g]``."""
        if masks is None:
            return ops.conv(x, self.kernel, self.strides, self.padding,
                            dilation_rate=self.dilation_rate, bias=self.bias)
        return ops.concatenate([
            ops.conv(ops.multiply(x, m), self._gate(self.kernel, g), self.strides,
                     self.padding, dilation_rate=self.dilation_rate,
                     bias=None if self.bias is None else self._gate(self.bias, g))
            for g, m in enumerate(masks)], axis=-1)

    def step(self, xp, states, recurrent_masks=None):
        """One step from the projected input ``xp`` and states [h, c]; returns (h, [h, c]).
        With ``recurrent_masks``, gate g's recurrent convolution reads ``h * masks[g]``."""
        h, c = states
        if recurrent_masks is None:
            rz = ops.conv(h, self.recurrent_kernel, 1, "same")
        else:
            rz = ops.concatenate([ops.conv(ops.multiply(h, m),
                                           self._gate(self.recurrent_kernel, g), 1, "same")
                                  for g, m in enumerate(recurrent_masks)], axis=-1)
        z = ops.add(xp, rz)
        f = self.filters
        zi, zf, zc, zo = [ops.getitem(z, (Ellipsis, slice(i * f, (i + 1) * f)))
                          for i in range(4)]
        i = self.recurrent_activation(zi)
        fg = self.recurrent_activation(zf)
        c = ops.add(ops.multiply(fg, c), ops.multiply(i, self.activation(zc)))
        o = self.recurrent_activation(zo)
        h = ops.multiply(o, self.activation(c))
        return h, [h, c]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": list(self.kernel_size),
            "strides": list(self.strides), "padding": self.padding,
            "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias, "unit_forget_bias": self.unit_forget_bias,
            **weight_options_config(self, "kernel", "recurrent", "bias"),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.setdefault("rank", len(config["kernel_size"]))
        return super().from_config(config)


_CELL_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
              "activation", "recurrent_activation", "use_bias", "kernel_initializer",
              "recurrent_initializer", "bias_initializer", "unit_forget_bias",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "seed")


class ConvLSTM(Layer):
    """Base of ``ConvLSTM1D/2D/3D``: runs a ``ConvLSTMCell`` over the time axis of a
    (batch, time, spatial..., channels) input.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
        recurrent_activation, use_bias, the initializers, unit_forget_bias, the regularizers
        and constraints, dropout, recurrent_dropout, seed: as ``ConvLSTMCell``.
        activity_regularizer: a regularizer of the output.
        return_sequences: return every step's h (batch, time, out_spatial..., filters), not
            only the last.
        return_state: also return the final [h, c].
        go_backwards: process the time steps in reverse (a sequence output is then in the
            processed, reversed, order, as Keras returns it).
        stateful: False only.
        unroll, zero_output_for_mask: as ``RNN`` (unroll has no effect here).

    A mask of shape (batch, time) carries the states through masked steps; their output is
    the previous step's (zeros with ``zero_output_for_mask``), as Keras's RNN.
    """

    def __init__(self, rank: int, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias: bool = True,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed=None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        if stateful:
            raise ValueError(f"{type(self).__name__} '{self.name}': stateful=True is not "
                             "supported")
        self.rank = rank
        self.cell = ConvLSTMCell(
            rank, filters, kernel_size, strides, padding, data_format, dilation_rate,
            activation, recurrent_activation, use_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, unit_forget_bias, kernel_regularizer,
            recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint, dropout, recurrent_dropout, seed, name=self.name + "_cell")
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True

    def __getattr__(self, name):
        # The cell's hyper-parameters read through the layer (layer.filters, ...), as Keras's
        # ConvLSTM properties do.
        if name in _CELL_KEYS and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _check(self, shape) -> None:
        if len(shape) != self.rank + 3 or shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a "
                             f"{self.rank + 3}-D input {_DIMS[self.rank]} with known channels, "
                             f"got shape {tuple(shape)}")
        if any(d is None for d in shape[2:]):
            raise ValueError(f"{type(self).__name__} '{self.name}': ConvLSTM layers need static "
                             f"spatial dimensions, got input shape {tuple(shape)}")

    def build(self, input_shape) -> None:
        self._check(input_shape)
        if not self.cell.built:
            self.cell.build((input_shape[0],) + tuple(input_shape[2:]))
        self.built = True

    def compute_output_shape(self, s):
        self._check(s)
        state = (s[0],) + self.cell.output_spatial(s[2:-1]) + (self.cell.filters,)
        out = (s[0], s[1]) + state[1:] if self.return_sequences else state
        if self.return_state:
            return [out, state, state]
        return out

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.return_sequences else None

    def call(self, inputs, mask=None, training=None, initial_state=None):
        shape = tuple(inputs.shape)
        self._check(shape)
        cell = self.cell
        n, steps = shape[0], shape[1]
        spatial, channels = shape[2:-1], shape[-1]
        masks = cell.gate_masks((n,) + spatial + (channels,), cell.dropout) if training \
            else None
        if masks is not None:  # the same mask for every step: (n, 1, spatial..., channels)
            masks = [ops.reshape(ops.repeat(ops.expand_dims(m, 1), steps, axis=1),
                                 (n * steps,) + spatial + (channels,)) for m in masks]
        proj = cell.project(ops.reshape(inputs, (n * steps,) + spatial + (channels,)), masks)
        out_shape = tuple(proj.shape[1:])
        proj = ops.reshape(proj, (n, steps) + out_shape)
        state_shape = (n,) + out_shape[:-1] + (cell.filters,)
        rmasks = cell.gate_masks(state_shape, cell.recurrent_dropout) if training else None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else \
                [initial_state]
            if len(states) != 2:
                raise ValueError(f"{type(self).__name__} '{self.name}': initial_state must be "
                                 f"[h, c], got {len(states)} tensors")
        else:
            states = [ops.zeros(state_shape), ops.zeros(state_shape)]
        result, states = run_steps(self, cell.step, proj, states, mask, state_shape, rmasks)
        if self.return_state:
            return [result] + list(states)
        return result

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"return_sequences": self.return_sequences,
                       "return_state": self.return_state, "go_backwards": self.go_backwards,
                       "stateful": False, "unroll": self.unroll,
                       "zero_output_for_mask": self.zero_output_for_mask})
        cell = self.cell.get_config()
        config.update({k: cell[k] for k in _CELL_KEYS})
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config


def _conv_lstm_class(name: str, rank: int, example_in, example_out):
    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias: bool = True,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed=None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, **kwargs):
        ConvLSTM.__init__(self, rank, filters, kernel_size, strides, padding, data_format,
                          dilation_rate, activation, recurrent_activation, use_bias,
                          kernel_initializer, recurrent_initializer, bias_initializer,
                          unit_forget_bias, kernel_regularizer, recurrent_regularizer,
                          bias_regularizer, activity_regularizer, kernel_constraint,
                          recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                          seed, return_sequences, return_state, go_backwards, stateful,
                          **kwargs)

    doc = (f"{rank}-D convolutional LSTM (``keras.layers.{name}``) over a {_DIMS[rank]}\n"
           "    input; arguments as ``ConvLSTM`` (without ``rank``).\n\n"
           "    Example:\n\n"
           f"    >>> layer = nnforge.layers.{name}(4, 3, padding=\"same\")\n"
           f"    >>> layer(np.ones({example_in}, \"float32\")).shape\n"
           f"    {example_out}\n")
    return type(name, (ConvLSTM,), {"__init__": __init__, "__doc__": doc,
                                    "__module__": __name__})


ConvLSTM1D = _conv_lstm_class("ConvLSTM1D", 1, (2, 3, 6, 2), (2, 6, 4))
ConvLSTM2D = _conv_lstm_class("ConvLSTM2D", 2, (2, 3, 5, 5, 2), (2, 5, 5, 4))
ConvLSTM3D = _conv_lstm_class("ConvLSTM3D", 3, (2, 3, 4, 4, 4, 2), (2, 4, 4, 4, 4))
