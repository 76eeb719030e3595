"""Whole-sequence recurrent ops: ``lstm_sequence`` and ``gru_sequence``.

Each runs a whole (batch, steps, features) sequence in one backend call (the input projections
of all steps as one GEMM, then the recurrent product and the gate arithmetic of every step inside
the kernel; with no tape recording, an inference kernel that keeps nothing for a backward) and
records ONE tape entry whose backward is one backward-through-time call returning
the gradients of the inputs, both kernels, the bias and the initial states. Keras's weight
layouts: LSTM kernel columns i, f, c, o; GRU z, r, h, with ``reset_after=True`` (bias (2, 3u))
or ``False`` (bias (3u,)). Activations are Keras's defaults (tanh, sigmoid).
"""
from __future__ import annotations

from typing import List, Union

import numpy as np

from nnforge import backend
from nnforge.core.tape import gradient_buffer, is_recording, record
from nnforge.core.tensor import Tensor

from ._util import data_of, float_data

__all__ = ["fused_rnn_available", "lstm_sequence", "gru_sequence"]


def fused_rnn_available(x) -> bool:
    """Whether the backend holding ``x`` (a Tensor, Variable or array) has the whole-sequence
    recurrent kernels (the CPU and GPU backends do). Where it does not, layers run step by step.

    Example:

    >>> ops.fused_rnn_available(np.zeros((2, 3), "float32"))
    True
    """
    data = x.data if isinstance(x, Tensor) else x
    return hasattr(backend.of(data), "rnn_sequence")


def _states(initial_state, count: int, fn: str) -> list:
    if initial_state is None:
        return [None] * count
    states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
    if len(states) != count:
        raise ValueError(f"{fn}: initial_state must hold {count} tensor(s), got {len(states)}")
    return states


def _rnn_sequence(cell: str, fn: str, inputs, kernel, recurrent_kernel, bias, initial_state,
                  mask, go_backwards: bool, return_sequences: bool, return_state: bool,
                  zero_output_for_mask: bool, reset_after: bool):
    k = float_data(kernel, fn, "kernel")
    be = backend.of(k)
    if not hasattr(be, "rnn_sequence"):
        raise NotImplementedError(f"{fn}: the {getattr(be, 'name', '?')} backend has no fused "
                                  "recurrent kernel; run the layer step by step")
    x = float_data(inputs, fn, "inputs", like=k)
    if x.ndim != 3:
        raise ValueError(f"{fn}: inputs must be 3-D (batch, steps, features), got shape "
                         f"{tuple(x.shape)}")
    u = float_data(recurrent_kernel, fn, "recurrent_kernel", like=k)
    b = float_data(bias, fn, "bias", like=k) if bias is not None else None
    n_states = 2 if cell == "lstm" else 1
    states = _states(initial_state, n_states, fn)
    h0 = float_data(states[0], fn, "initial_state[0]", like=k) if states[0] is not None else None
    c0 = None
    if n_states == 2 and states[1] is not None:
        c0 = float_data(states[1], fn, "initial_state[1]", like=k)
    m = None
    if mask is not None:
        m = be.xp.ascontiguousarray(be.asarray(data_of(mask, fn, "mask"), dtype=bool))
    n, steps, _ = x.shape
    units = u.shape[0]
    for name, s in (("initial_state[0]", h0), ("initial_state[1]", c0)):
        if s is not None and tuple(s.shape) != (n, units):
            raise ValueError(f"{fn}: {name} must have shape ({n}, {units}) (batch, units), got "
                             f"{tuple(s.shape)}")
    if not is_recording() and hasattr(be, "rnn_infer"):
        # No gradient can be asked for: the inference kernel keeps nothing for a backward.
        res = be.rnn_infer(cell, x, k, u, b, h0, c0, m, go_backwards, zero_output_for_mask,
                           reset_after=reset_after, want_sequence=return_sequences)
        out = Tensor(res["y_seq"] if return_sequences else res["y_last"])
        if not return_state:
            return out
        return [out, Tensor(res["h_last"])] + ([Tensor(res["c_last"])] if cell == "lstm" else [])
    saved = be.rnn_sequence(cell, x, k, u, b, h0, c0, m, go_backwards, zero_output_for_mask,
                            reset_after=reset_after, want_sequence=return_sequences)
    out = saved["y_seq"] if return_sequences else saved["y_last"]
    h_t = saved["h_all"][:, steps - 1]
    c_t = saved["c_all"][:, steps - 1] if cell == "lstm" else None

    inputs_list = [inputs, kernel, recurrent_kernel]
    if b is not None:
        inputs_list.append(bias)
    state_slots = []
    for s_in, s_arr in zip(states, (h0, c0)):
        if s_arr is not None:
            state_slots.append(len(inputs_list))
            inputs_list.append(s_in)
    i_bias = 3 if b is not None else None
    out_shape = tuple(out.shape)
    out_size = int(np.prod(out_shape))
    state_size = n * units

    def bptt(g_out, g_h, g_c, needs):
        needs_states = any(needs[i] for i in state_slots)
        dk_buf = gradient_buffer(kernel, k.shape, k.dtype, be) if needs[1] else None
        du_buf = gradient_buffer(recurrent_kernel, u.shape, u.dtype, be) if needs[2] else None
        db_buf = None
        if i_bias is not None and needs[i_bias]:
            db_buf = gradient_buffer(bias, b.shape, b.dtype, be)
        dx, dk, du, db, dh0, dc0 = be.rnn_sequence_grad(
            cell, x, k, u, b, h0, c0, m, go_backwards, zero_output_for_mask, reset_after, saved,
            g_out if return_sequences else None, None if return_sequences else g_out, g_h, g_c,
            want_dx=bool(needs[0]), want_dh0=needs_states, out_kernel=dk_buf,
            out_recurrent=du_buf, out_bias=db_buf)
        grads: List = [dx, dk if needs[1] else None, du if needs[2] else None]
        if i_bias is not None:
            grads.append(db if needs[i_bias] else None)
        for slot, d in zip(state_slots, [d for d, s in zip((dh0, dc0), (h0, c0))
                                         if s is not None]):
            grads.append(d if needs[slot] else None)
        return tuple(grads)

    if not return_state:
        return record(out, tuple(inputs_list),
                      lambda g, needs: bptt(be.asarray(g).reshape(out_shape), None, None, needs))

    # Several outputs, one tape entry: the entry's value packs [output, h_T (, c_T)] and each
    # output is a recorded view of it.
    parts = [out.reshape(-1), h_t.reshape(-1)] + ([c_t.reshape(-1)] if c_t is not None else [])
    packed = be.xp.concatenate(parts)

    def backward_packed(g, needs):
        g = be.asarray(g)
        g_out = g[:out_size].reshape(out_shape)
        g_h = g[out_size:out_size + state_size].reshape(n, units)
        g_c = None
        if c_t is not None:
            g_c = g[out_size + state_size:].reshape(n, units)
        return bptt(g_out, g_h, g_c, needs)

    whole = record(packed, tuple(inputs_list), backward_packed)
    results = [_view(whole, 0, out_shape, be),
               _view(whole, out_size, (n, units), be)]
    if c_t is not None:
        results.append(_view(whole, out_size + state_size, (n, units), be))
    return results


def _view(whole: Tensor, start: int, shape, be) -> Tensor:
    """``whole[start:start+size]`` reshaped, recorded (its gradient is scattered back)."""
    size = int(np.prod(shape))
    total = whole.data.shape[0]

    def backward(g, needs):
        full = be.xp.zeros((total,), np.float32)
        full[start:start + size] = be.asarray(g).reshape(-1)
        return (full,)

    return record(whole.data[start:start + size].reshape(shape), (whole,), backward)


def lstm_sequence(inputs, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None,
                  go_backwards: bool = False, return_sequences: bool = False,
                  return_state: bool = False,
                  zero_output_for_mask: bool = False) -> Union[Tensor, List[Tensor]]:
    """A Keras LSTM (tanh / sigmoid) over a whole sequence, as one kernel call.

    Args:
        inputs: (batch, steps, features).
        kernel: (features, 4*units), gates i, f, c, o along the columns.
        recurrent_kernel: (units, 4*units).
        bias: (4*units,) or None.
        initial_state: [h0, c0], each (batch, units), or None (zeros).
        mask: (batch, steps) booleans or None; a masked step carries the states through and
            outputs the previous output (zeros with ``zero_output_for_mask``).
        go_backwards: process the steps in reverse (the sequence output is in that order).
        return_sequences: return (batch, steps, units) instead of the last output.
        return_state: also return the final h and c states.
        zero_output_for_mask: masked steps output zeros.

    Returns:
        The output, or ``[output, h, c]`` with ``return_state``.

    Example:

    >>> y = ops.lstm_sequence(x, w, u, b)            # x (32, 100, 64), w (64, 256), u (64, 256)
    >>> y.shape
    (32, 64)
    """
    return _rnn_sequence("lstm", "lstm_sequence", inputs, kernel, recurrent_kernel, bias,
                         initial_state, mask, go_backwards, return_sequences, return_state,
                         zero_output_for_mask, True)


def gru_sequence(inputs, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None,
                 go_backwards: bool = False, return_sequences: bool = False,
                 return_state: bool = False, zero_output_for_mask: bool = False,
                 reset_after: bool = True) -> Union[Tensor, List[Tensor]]:
    """A Keras GRU (tanh / sigmoid) over a whole sequence, as one kernel call.

    Args:
        inputs: (batch, steps, features).
        kernel: (features, 3*units), gates z, r, h along the columns.
        recurrent_kernel: (units, 3*units).
        bias: (2, 3*units) with ``reset_after`` (input and recurrent biases), else (3*units,);
            or None.
        initial_state: h0 (batch, units) (or a one-element list), or None (zeros).
        mask, go_backwards, return_sequences, zero_output_for_mask: as for ``lstm_sequence``.
        return_state: also return the final state.
        reset_after: apply the reset gate after the recurrent product (Keras's default).

    Returns:
        The output, or ``[output, h]`` with ``return_state``.

    Example:

    >>> y = ops.gru_sequence(x, w, u, b, return_sequences=True)
    >>> y.shape
    (32, 100, 64)
    """
    return _rnn_sequence("gru", "gru_sequence", inputs, kernel, recurrent_kernel, bias,
                         initial_state, mask, go_backwards, return_sequences, return_state,
                         zero_output_for_mask, reset_after)
