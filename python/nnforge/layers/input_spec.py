"""``InputSpec``: what a layer expects of its inputs (rank, dtype, shape, fixed axes), checked
on every call when the layer sets ``self.input_spec``."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .node import flatten


class InputSpec:
    """Specifies the rank, dtype and shape of every input to a layer (``keras.InputSpec``).

    Args:
        dtype: expected dtype of the input.
        shape: expected shape, batch included (None entries match any size).
        ndim: expected rank.
        max_ndim: maximum rank.
        min_ndim: minimum rank.
        axes: dict mapping axes to a fixed size.
        allow_last_axis_squeeze: accept a rank N+1 input whose last axis is 1 (and N-1
            when the spec's last axis is 1).
        name: key of this input when inputs are passed as a dict.
        optional: the input may be None.

    Example:

    >>> class MyLayer(nnforge.layers.Layer):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.input_spec = InputSpec(ndim=2, axes={-1: 3})
    """

    def __init__(self, dtype=None, shape=None, ndim: Optional[int] = None,
                 max_ndim: Optional[int] = None, min_ndim: Optional[int] = None, axes=None,
                 allow_last_axis_squeeze: bool = False, name: Optional[str] = None,
                 optional: bool = False):
        self.dtype = str(np.dtype(dtype)) if dtype is not None else None
        if shape is not None:
            self.shape = tuple(None if d is None else int(d) for d in shape)
            self.ndim = len(self.shape)
        else:
            self.ndim = ndim
            self.shape = None
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError(f"Argument `axes` must be a dict with integer keys. Received: "
                            f"axes={axes}") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            if max(self.axes) > max_dim:
                raise ValueError(f"Axis {max(self.axes)} is greater than the maximum allowed "
                                 f"value: {max_dim}")

    def __repr__(self) -> str:
        spec = [f"dtype={self.dtype}" if self.dtype else "",
                f"shape={self.shape}" if self.shape else "",
                f"ndim={self.ndim}" if self.ndim else "",
                f"max_ndim={self.max_ndim}" if self.max_ndim else "",
                f"min_ndim={self.min_ndim}" if self.min_ndim else "",
                f"axes={self.axes}" if self.axes else ""]
        return f"InputSpec({', '.join(x for x in spec if x)})"

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config: dict) -> "InputSpec":
        return cls(**config)


def assert_input_compatibility(input_spec, inputs, layer_name: str) -> None:
    """Raise ValueError naming the layer when ``inputs`` do not meet ``input_spec`` (one
    ``InputSpec`` or a list of them, one per input)."""
    if not input_spec:
        return
    specs = flatten(input_spec)
    if isinstance(inputs, dict):
        names = [s.name for s in specs]
        if all(names):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f'Missing data for input "{missing[0]}". You passed a data '
                                 f"dictionary with keys {list(inputs.keys())}. Expected the "
                                 f"following keys: {names}")
            inputs = [inputs[n] for n in names]
    inputs = flatten(inputs)
    if len(inputs) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
                         f"{len(inputs)} input tensors.")
    for i, (x, spec) in enumerate(zip(inputs, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(f"Inputs to a layer should be tensors. Got '{x}' (of type "
                             f"{type(x)}) as input for layer '{layer_name}'.")
        shape = tuple(x.shape)
        ndim = len(shape)
        where = f"Input {i} with name '{spec.name}' of layer '{layer_name}' is incompatible " \
                "with the layer:"
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(f"{where} expected ndim={spec.ndim}, found ndim={ndim}. Full shape "
                             f"received: {shape}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{where} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"{where} expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}")
        if spec.dtype is not None and str(np.dtype(x.dtype)) != spec.dtype:
            raise ValueError(f"{where} expected dtype={spec.dtype}, found "
                             f"dtype={np.dtype(x.dtype)}")
        for axis, value in spec.axes.items():
            if value is not None and shape[axis] not in (value, None):
                raise ValueError(f"{where} expected axis {axis} of input shape to have value "
                                 f"{value}, but received input with shape {shape}")
        if spec.shape is not None:
            spec_shape, got = spec.shape, shape
            if spec.allow_last_axis_squeeze:
                if got and got[-1] == 1:
                    got = got[:-1]
                if spec_shape and spec_shape[-1] == 1:
                    spec_shape = spec_shape[:-1]
            for sd, d in zip(spec_shape, got):
                if sd is not None and d is not None and sd != d:
                    raise ValueError(f"{where} expected shape={spec.shape}, found "
                                     f"shape={shape}")
