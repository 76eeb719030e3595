"""Recurrent layers: SimpleRNN, LSTM, GRU (Keras 3's weight layouts and gate orders), the
generic ``RNN`` over a cell, and the cells.

LSTM and GRU with Keras's default activations (tanh, sigmoid) run the whole sequence as one
fused op (``ops.lstm_sequence`` / ``ops.gru_sequence``: one kernel call forward, one backward
through time), masks, ``go_backwards``, initial states and ``return_state`` included, wherever the
backend has that kernel (the CPU). Other activations, ``RNN(cell)`` over any cell, SimpleRNN and
backends without the kernel (the GPU for now) run step by step: the input projection of every
step is one GEMM over (batch * steps); each step then costs one recurrent GEMM and vectorised
gate math, recorded on the tape so BPTT comes from autodiff."""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from nnforge import activations, ops
from nnforge.core.tensor import Tensor

from ._weight_options import add_weight_from_options, set_weight_options, weight_options_config
from .layer import Layer


def _split(t, n: int, axis: int = -1) -> List:
    size = t.shape[axis] // n
    return [ops.getitem(t, (Ellipsis, slice(i * size, (i + 1) * size))) for i in range(n)]


def unit_forget_bias_initializer(base, units: int):
    """The initializer of an LSTM bias with ``unit_forget_bias`` (Keras's): gates i, f, c, o
    of ``units`` values each, drawn from ``base`` except the forget gate's, which is ones.

    Args:
        base: the bias initializer (called for the i gate, then for the c and o gates).
        units: values per gate.

    Returns:
        An initializer ``init(shape, dtype="float32")`` of a (4 * units,) array.

    Example:

    >>> init = unit_forget_bias_initializer(initializers.get("zeros"), 2)
    >>> init((8,))
    array([0., 0., 1., 1., 0., 0., 0., 0.], dtype=float32)
    """
    def init(shape, dtype="float32"):
        return np.concatenate([np.asarray(base((units,), dtype=dtype)), np.ones(units, dtype),
                               np.asarray(base((2 * units,), dtype=dtype))])
    return init


def run_steps(layer, step, proj, states, mask, output_shape, *step_args):
    """The step-by-step recurrence of a recurrent layer: ``step(proj[:, t], states,
    *step_args) -> (h, new_states)`` over the time steps (in reverse with
    ``layer.go_backwards``). At a step masked out (``mask[:, t]`` False) the states carry over
    and the output is the previous step's (zeros with ``layer.zero_output_for_mask``, or at the
    first step), as Keras's RNN.

    Args:
        layer: the recurrent layer (``go_backwards``, ``return_sequences``,
            ``zero_output_for_mask``).
        step: the cell's step.
        proj: the projected inputs (batch, time, ...).
        states: the initial states; ``states[0]`` is the output before the first step.
        mask: None or a (batch, time) boolean mask (array or Tensor).
        output_shape: the shape of one step's output h.
        *step_args: passed to every ``step`` after the states.

    Returns:
        ``(output, final states)``: the output is every step's h stacked on axis 1 with
        ``layer.return_sequences``, else the last.

    Example:

    >>> result, states = run_steps(self, cell.step, proj, states, mask, (n, cell.units))
    """
    steps = proj.shape[1]
    m = None if mask is None else (mask.data if isinstance(mask, Tensor) else mask)
    order = range(steps - 1, -1, -1) if layer.go_backwards else range(steps)
    out = states[0]
    zeros = ops.zeros(output_shape) if m is not None else None
    keep_shape = (len(output_shape) - 1) * (1,)
    outputs = []
    for i, t in enumerate(order):
        h, new_states = step(ops.getitem(proj, (slice(None), t)), states, *step_args)
        if m is not None:
            keep = m[:, t].reshape((m.shape[0],) + keep_shape)
            prev = zeros if (layer.zero_output_for_mask or i == 0) else out
            h = ops.where(keep, h, prev)
            new_states = [ops.where(keep, a, b) for a, b in zip(new_states, states)]
        out, states = h, new_states
        if layer.return_sequences:
            outputs.append(h)
    return (ops.stack(outputs, axis=1) if layer.return_sequences else out), states


class _Cell(Layer):
    """Common arguments of the cells (as Keras's)."""

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': units must be a positive int, "
                             f"got {units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        set_weight_options(
            self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            recurrent=(recurrent_initializer, recurrent_regularizer, recurrent_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        if dropout or recurrent_dropout:
            raise ValueError(f"{type(self).__name__} '{self.name}': dropout and recurrent_dropout "
                             "are not supported yet; use a Dropout layer")
        self.dropout, self.recurrent_dropout, self.seed = 0.0, 0.0, seed
        self.gates = 1

    def _build_weights(self, input_dim: int, bias_shape) -> None:
        g = self.gates * self.units
        self.kernel = add_weight_from_options(self, "kernel", (input_dim, g))
        self.recurrent_kernel = add_weight_from_options(self, "recurrent", (self.units, g),
                                                        name="recurrent_kernel")
        self.bias = add_weight_from_options(self, "bias", bias_shape,
                                            initializer=self._bias_init()) \
            if self.use_bias else None
        self.built = True

    def _bias_init(self):
        return self.bias_initializer

    @property
    def state_size(self):
        return self.units

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, "kernel", "recurrent", "bias"),
            "dropout": 0.0, "recurrent_dropout": 0.0, "seed": self.seed})
        return config


class SimpleRNNCell(_Cell):
    """``h = activation(x W + h U + b)``."""

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    def build(self, input_shape):
        self._build_weights(input_shape[-1], (self.units,))

    def project(self, x):
        return ops.dense(x, self.kernel, self.bias)

    def step(self, xp, states):
        h = self.activation(ops.add(xp, ops.matmul(states[0], self.recurrent_kernel)))
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.pop("recurrent_activation", None)
        return config


class LSTMCell(_Cell):
    """Keras's LSTM cell: gates i, f, c, o in that order along the kernel's columns."""

    def __init__(self, units, unit_forget_bias: bool = True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias
        self.gates = 4

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        return unit_forget_bias_initializer(self.bias_initializer, self.units)

    def build(self, input_shape):
        self._build_weights(input_shape[-1], (4 * self.units,))

    @property
    def state_size(self):
        return [self.units, self.units]

    def project(self, x):
        return ops.dense(x, self.kernel, self.bias)

    def step(self, xp, states):
        h, c = states
        z = ops.add(xp, ops.matmul(h, self.recurrent_kernel))
        zi, zf, zc, zo = _split(z, 4)
        i = self.recurrent_activation(zi)
        f = self.recurrent_activation(zf)
        o = self.recurrent_activation(zo)
        c = ops.add(ops.multiply(f, c), ops.multiply(i, self.activation(zc)))
        h = ops.multiply(o, self.activation(c))
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(_Cell):
    """Keras's GRU cell: gates z, r, h. With ``reset_after=True`` (Keras's default) the reset
    gate multiplies the recurrent projection and the bias is (2, 3*units) (input and recurrent
    biases); with ``reset_after=False`` it multiplies the previous state before its product with
    the recurrent kernel and the bias is (3*units,)."""

    def __init__(self, units, reset_after: bool = True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)
        self.gates = 3

    def build(self, input_shape):
        u = 3 * self.units
        self._build_weights(input_shape[-1], (2, u) if self.reset_after else (u,))

    def project(self, x):
        b = self.bias
        if b is not None and self.reset_after:
            b = ops.getitem(b, 0)
        return ops.dense(x, self.kernel, b)

    def step(self, xp, states):
        h = states[0]
        xz, xr, xh = _split(xp, 3)
        if not self.reset_after:
            u = self.units
            hz, hr = _split(ops.matmul(h, ops.getitem(self.recurrent_kernel,
                                                      (slice(None), slice(0, 2 * u)))), 2)
            z = self.recurrent_activation(ops.add(xz, hz))
            r = self.recurrent_activation(ops.add(xr, hr))
            rh = ops.matmul(ops.multiply(r, h),
                            ops.getitem(self.recurrent_kernel, (slice(None), slice(2 * u, 3 * u))))
            cand = self.activation(ops.add(xh, rh))
        else:
            hu = ops.matmul(h, self.recurrent_kernel)
            if self.bias is not None:
                hu = ops.add(hu, ops.getitem(self.bias, 1))
            hz, hr, hh = _split(hu, 3)
            z = self.recurrent_activation(ops.add(xz, hz))
            r = self.recurrent_activation(ops.add(xr, hr))
            cand = self.activation(ops.add(xh, ops.multiply(r, hh)))
        h = ops.add(ops.multiply(z, h), ops.multiply(ops.subtract(1.0, z), cand))
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config


class RNN(Layer):
    """Runs a cell over the steps of a (batch, steps, features) input.

    Args:
        cell: a SimpleRNNCell, LSTMCell or GRUCell.
        return_sequences: return every step's output (batch, steps, units), not only the last.
        return_state: also return the final states.
        go_backwards: process the steps in reverse (the sequence output is reversed too, as
            Keras returns it).
        zero_output_for_mask: masked steps output zeros instead of the previous output.
    A mask (e.g. from Embedding(mask_zero=True)) makes masked steps carry the state through; their
    output is the previous step's output (zeros before the first unmasked step), as in Keras.
    """

    # Which whole-sequence op runs this layer when its cell allows it (set by LSTM and GRU).
    _fused_cell: Optional[str] = None

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs):
        super().__init__(**kwargs)
        if stateful:
            raise ValueError(f"RNN '{self.name}': stateful=True is not supported")
        self.cell = cell
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards = go_backwards
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True

    def build(self, input_shape) -> None:
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a 3-D input "
                             f"(batch, steps, features), got shape {tuple(input_shape)}")
        if not self.cell.built:
            self.cell.build(input_shape)
            self.cell.built = True
        self.built = True

    def compute_output_shape(self, s):
        if len(s) != 3:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a 3-D input "
                             f"(batch, steps, features), got shape {tuple(s)}")
        u = self.cell.units
        out = (s[0], s[1], u) if self.return_sequences else (s[0], u)
        if self.return_state:
            sizes = self.cell.state_size if isinstance(self.cell.state_size, list) else [u]
            states = [(s[0], n) for n in sizes]
            if hasattr(self.cell, "nest_states"):  # StackedRNNCells: grouped per cell
                states = self.cell.nest_states(states)
            return [out] + states
        return out

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.return_sequences else None

    def call(self, inputs, mask=None, training=None, initial_state=None):
        shape = tuple(inputs.shape)
        if len(shape) != 3:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible: expected a 3-D "
                             f"input (batch, steps, features), got shape {shape}")
        if self._fusable():
            return self._call_fused(inputs, mask, initial_state)
        n, steps, _ = shape
        cell = self.cell
        proj = cell.project(inputs)  # (n, steps, gates*units): one GEMM for every step
        sizes = cell.state_size if isinstance(cell.state_size, list) else [cell.state_size]
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else \
                [initial_state]
            # Per-cell groups (StackedRNNCells, as Keras takes them) are read flat.
            states = [t for g in states for t in (g if isinstance(g, (list, tuple)) else [g])]
        else:
            states = [ops.zeros((n, s)) for s in sizes]
        result, states = run_steps(self, cell.step, proj, states, mask, (n, cell.units))
        if self.return_state:
            if hasattr(cell, "nest_states"):  # StackedRNNCells: grouped per cell, as Keras
                return [result] + cell.nest_states(states)
            return [result] + list(states)
        return result

    def _fusable(self) -> bool:
        """Whether the whole-sequence op can run this layer: an LSTM or GRU layer whose cell is
        the plain Keras cell with tanh / sigmoid activations, on a backend with the kernel."""
        cell = self.cell
        if self._fused_cell is None or type(cell) not in (LSTMCell, GRUCell):
            return False
        if cell.activation is not activations.tanh:
            return False
        if cell.recurrent_activation is not activations.sigmoid:
            return False
        return ops.fused_rnn_available(cell.kernel)

    def _call_fused(self, inputs, mask, initial_state):
        cell = self.cell
        m = None if mask is None else (mask.data if isinstance(mask, Tensor) else mask)
        kwargs = dict(initial_state=initial_state, mask=m, go_backwards=self.go_backwards,
                      return_sequences=self.return_sequences, return_state=self.return_state,
                      zero_output_for_mask=self.zero_output_for_mask)
        if isinstance(cell, LSTMCell):
            return ops.lstm_sequence(inputs, cell.kernel, cell.recurrent_kernel, cell.bias,
                                     **kwargs)
        return ops.gru_sequence(inputs, cell.kernel, cell.recurrent_kernel, cell.bias,
                                reset_after=cell.reset_after, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"return_sequences": self.return_sequences,
                       "return_state": self.return_state, "go_backwards": self.go_backwards,
                       "stateful": False, "unroll": False})
        if type(self) is RNN:  # the generic layer: its cell travels in the config (as Keras)
            from nnforge.saving.serialization import serialize_layer
            config["cell"] = serialize_layer(self.cell)
            config["zero_output_for_mask"] = self.zero_output_for_mask
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("cell"), dict):
            from nnforge.saving.serialization import deserialize_layer
            config["cell"] = deserialize_layer(config["cell"], custom_objects)
        return super().from_config(config)


def _rnn_class(name, cell_cls, doc):
    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, **kwargs):
        layer_kwargs = {k: kwargs.pop(k) for k in ("name", "trainable", "dtype", "input_shape",
                                                   "batch_input_shape", "batch_size",
                                                   "zero_output_for_mask")
                        if k in kwargs}
        kwargs.pop("use_cudnn", None)
        cell_kwargs = dict(kwargs, activation=activation)
        if cell_cls is not SimpleRNNCell:
            cell_kwargs["recurrent_activation"] = recurrent_activation
        cell = cell_cls(units, **cell_kwargs)
        RNN.__init__(self, cell, return_sequences=return_sequences, return_state=return_state,
                     go_backwards=go_backwards, stateful=stateful, unroll=unroll, **layer_kwargs)
        cell.name = self.name + "_cell"

    def get_config(self):
        config = RNN.get_config(self)
        cell_cfg = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell_cfg.pop(k, None)
        config.update(cell_cfg)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for k in ("stateful", "unroll", "implementation", "time_major"):
            config.pop(k, None)
        return cls(**config)

    @property
    def units(self):
        return self.cell.units

    fused = {LSTMCell: "lstm", GRUCell: "gru"}.get(cell_cls)
    return type(name, (RNN,), {"__init__": __init__, "get_config": get_config,
                               "from_config": from_config, "units": units, "__doc__": doc,
                               "_fused_cell": fused})


SimpleRNN = _rnn_class("SimpleRNN", SimpleRNNCell,
                       "Fully-connected RNN (``keras.layers.SimpleRNN``): h = tanh(x W + h U + b).")
LSTM = _rnn_class("LSTM", LSTMCell, "Long short-term memory (``keras.layers.LSTM``), Keras's "
                                    "weight layout: kernel (in, 4u), gates i, f, c, o.")
GRU = _rnn_class("GRU", GRUCell, "Gated recurrent unit (``keras.layers.GRU``): kernel (in, 3u), "
                                 "gates z, r, h; bias (2, 3u) with reset_after=True (default), "
                                 "(3u,) with reset_after=False.")
