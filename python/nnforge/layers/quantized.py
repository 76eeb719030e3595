"""int8 quantization of layers (Keras 3's ``Layer.quantize("int8")``).

``Int8Quantizable`` is mixed into ``Dense``, ``Conv1D``, ``Conv2D``, ``DepthwiseConv2D`` and
``Embedding``. ``layer.quantize("int8")`` replaces the float weight by an int8 one (not
trainable) plus a float32 per-channel multiplier scale, and the layer's dtype policy becomes
``int8_from_float32``: Keras's variable names, order and config, so that a quantized ``Dense``
or ``Embedding`` saved by nnforge loads in Keras 3 and the other way round. Keras has no int8
convolutions; ours use the same pattern (``kernel`` int8, ``kernel_scale``).

Beyond Keras, a layer may hold a fixed per-tensor input scale (``int8_inputs_scale``, set by
``Model.quantize("int8", calibration_data=...)``): its call then skips the per-row abs-max.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from nnforge.core.tensor import Variable

QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")  # Keras's; nnforge does int8


# The layers whose call() is int8-aware (subclasses of them only with type_check=False).
_INT8_CLASSES = ("Dense", "Conv1D", "Conv2D", "DepthwiseConv2D", "Embedding")


class Int8Variable(Variable):
    """A constant int8 weight that counts its assignments (``version``), so that a layer can
    rebuild the backend's packed copy after ``load_weights``/``set_weights``."""

    __slots__ = ("version",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = 0

    def assign(self, value) -> "Variable":
        super().assign(value)
        self.version += 1
        return self


def parse_dtype_policy(dtype) -> Tuple[Optional[str], Optional[str]]:
    """``(variable dtype, quantization mode)`` of a Keras dtype policy: a name
    (``"float32"``, ``"int8_from_float32"``) or a serialized ``DTypePolicy`` /
    ``QuantizedDTypePolicy`` dict. ``(None, None)`` for None."""
    if dtype is None:
        return None, None
    if isinstance(dtype, dict):
        cfg = dtype.get("config", {}) or {}
        if dtype.get("class_name") in ("QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy",
                                       "GPTQDTypePolicy", "AWQDTypePolicy"):
            return cfg.get("source_name", "float32"), cfg.get("mode")
        return cfg.get("name", "float32"), None
    if isinstance(dtype, str) and "_from_" in dtype:
        mode, source = dtype.split("_from_", 1)
        return source, mode
    return dtype, None


def dtype_policy_config(dtype: str, mode: Optional[str]) -> dict:
    """The serialized dtype policy Keras 3 writes in a layer's config."""
    if mode is None:
        return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
                "registered_name": None}
    return {"module": "keras.dtype_policies", "class_name": "QuantizedDTypePolicy",
            "config": {"mode": mode, "source_name": dtype}, "registered_name": None}


def _abs_max_quantizer_config() -> dict:
    return {"module": "keras.quantizers", "class_name": "AbsMaxQuantizer",
            "config": {"value_range": [-127, 127], "epsilon": 1e-07, "output_dtype": "int8"},
            "registered_name": None}


def int8_quantization_config(activations: bool) -> dict:
    """Keras's serialized ``Int8QuantizationConfig`` (default weight quantizer; per-row abs-max
    activation quantizer, or none for weight-only int8)."""
    return {"module": "keras.quantizers", "class_name": "Int8QuantizationConfig",
            "config": {"weight_quantizer": None,
                       "activation_quantizer": _abs_max_quantizer_config() if activations
                       else None},
            "registered_name": None}


def _check_quantizer(q, role: str, where: str) -> None:
    if q is None:
        return
    cfg = q.get("config", {}) if isinstance(q, dict) else None
    if not isinstance(q, dict) or q.get("class_name") != "AbsMaxQuantizer" or \
            list(cfg.get("value_range", [-127, 127])) != [-127, 127] or \
            cfg.get("output_dtype", "int8") != "int8":
        raise ValueError(f"{where}: quantization_config: only the default AbsMaxQuantizer "
                         f"(value_range (-127, 127), int8) is supported as {role}, got {q!r}")
    axis = cfg.get("axis")
    if role == "activation_quantizer" and axis not in (None, -1, [-1], (-1,)):
        raise ValueError(f"{where}: quantization_config: the activation quantizer must reduce "
                         f"the last axis (per row), got axis={axis!r}")


def parse_quantization_config(config, where: str) -> Optional[bool]:
    """Whether the inputs are quantized, from a serialized Keras ``quantization_config``
    (None when absent). Refuses anything but int8 abs-max quantizers."""
    if config is None:
        return None
    if hasattr(config, "get_config") and not isinstance(config, dict):  # a config object
        config = {"class_name": type(config).__name__, "config": config.get_config()}
    if not isinstance(config, dict) or config.get("class_name") != "Int8QuantizationConfig":
        raise ValueError(f"{where}: quantization_config {config!r} is not supported by nnforge "
                         "(only Int8QuantizationConfig)")
    cfg = config.get("config", {}) or {}
    _check_quantizer(cfg.get("weight_quantizer"), "weight_quantizer", where)
    _check_quantizer(cfg.get("activation_quantizer"), "activation_quantizer", where)
    return cfg.get("activation_quantizer") is not None


def _weight_quantizer_epsilon(config, axes, ndim: int, where: str) -> float:
    """The epsilon of a config's weight quantizer (Keras's 1e-7 without one); its axis, when
    given, must be the layer's per-output-channel reduction."""
    if config is None:
        return 1e-7
    if hasattr(config, "get_config") and not isinstance(config, dict):
        config = {"config": config.get_config()}
    wq = (config.get("config") or {}).get("weight_quantizer")
    if wq is None:
        return 1e-7
    cfg = wq.get("config", {})
    axis = cfg.get("axis")
    if axis is not None:
        given = tuple(sorted(a % ndim for a in ((axis,) if isinstance(axis, int) else axis)))
        if given != tuple(axes):
            raise ValueError(f"{where}: the weight quantizer must reduce axes {tuple(axes)} "
                             f"(one scale per output channel), got axis={axis!r}")
    return float(cfg.get("epsilon", 1e-7))


class Int8Quantizable:
    """Mixin for layers with one float weight that ``quantize("int8")`` turns into int8.

    Subclasses set ``_int8_weight`` (attribute name: ``"kernel"`` or ``"embeddings"``) and
    ``_int8_scale_axes`` (the axes reduced for one scale, Keras's: axis 0 for ``Dense``, the last
    for ``Embedding``, all but the output channels for convolutions), call
    ``self._maybe_int8_build()`` at the end of ``build`` and ``self._int8_call(inputs)`` from
    ``call`` when ``quantization_mode == "int8"``.
    """

    _int8_weight = "kernel"
    _int8_activations_default = True  # Keras's default config: per-row abs-max inputs
    _int8_calibrated = True  # whether static calibration gives it an input scale

    def _int8_reduce_axes(self, shape) -> Tuple[int, ...]:
        """The axes reduced for one scale: all but the output channels (the last axis; the
        last two, (in_channels, depth_multiplier), of a depthwise kernel)."""
        if getattr(self, "depth_multiplier", None) is not None and hasattr(self, "rank"):
            return tuple(range(self.rank))
        return tuple(range(len(shape) - 1))

    # -- building ------------------------------------------------------------------------------
    def _int8_make_weights(self, q, scale) -> None:
        """Replace the float weight by ``q`` (int8) and its multiplier ``scale``, in Keras's
        variable order (weight, bias, scale)."""
        name = self._int8_weight
        old = getattr(self, name)
        self._own_weights = [w for w in self._own_weights if w is not old]
        wq = Int8Variable(q, dtype="int8", trainable=False, name=name)
        wq._path = f"{self.name}/{name}"
        ws = Variable(scale, dtype="float32", trainable=False, name=f"{name}_scale")
        ws._path = f"{self.name}/{name}_scale"
        object.__setattr__(self, name, wq)
        object.__setattr__(self, f"{name}_scale", ws)
        self._own_weights = [wq] + self._own_weights + [ws]
        self._int8_cache = None

    def _maybe_int8_build(self) -> None:
        """After ``build``: when the layer was created with an int8 dtype policy (a loaded
        quantized model), hold int8 zeros and unit scales for the saved values to fill."""
        mode = self.quantization_mode
        if mode is None:
            return
        if mode != "int8" or not any(c.__name__ in _INT8_CLASSES and c.__module__.startswith(
                "nnforge.layers.") for c in type(self).__mro__):
            raise ValueError(f"{type(self).__name__} '{self.name}': quantization mode "
                             f"{mode!r} is not supported by nnforge for this layer (int8 for "
                             f"{', '.join(_INT8_CLASSES)})")
        w = getattr(self, self._int8_weight)
        shape = tuple(w.shape)
        scale_shape = tuple(s for i, s in enumerate(shape)
                            if i not in self._int8_reduce_axes(shape))
        self._int8_make_weights(np.zeros(shape, np.int8), np.ones(scale_shape, np.float32))

    # -- quantize ------------------------------------------------------------------------------
    def quantize(self, mode=None, type_check: bool = True, config=None) -> None:
        """Quantize the layer's weight (``Layer.quantize``; Keras 3's int8 mode).

        Args:
            mode: ``"int8"`` (the only mode nnforge has).
            type_check: refuse subclasses (as Keras does): their call may not be int8-aware.
            config: None, or a serialized Keras ``Int8QuantizationConfig`` with default
                abs-max quantizers (``activation_quantizer: None`` gives weight-only int8).

        Example:

        >>> layer = nnforge.layers.Dense(4); layer.build((None, 3))
        >>> layer.quantize("int8"); layer.kernel.dtype
        dtype('int8')
        """
        base = next((c for c in type(self).__mro__ if c.__name__ in _INT8_CLASSES
                     and c.__module__.startswith("nnforge.layers.")), None)
        if base is None or (type_check and base is not type(self)):
            raise NotImplementedError(
                f"Layer {type(self).__name__} does not have a `quantize()` method "
                "implemented." + ("" if base is None else
                                  " (a subclass: pass type_check=False to quantize it as "
                                  f"{base.__name__})"))
        if getattr(self, "groups", 1) != 1:
            raise NotImplementedError(f"{type(self).__name__} '{self.name}': int8 quantization "
                                      f"of a grouped convolution (groups={self.groups}) is not "
                                      "implemented")
        if not self.built:
            raise ValueError(f"Cannot quantize a layer that isn't yet built. Layer "
                             f"'{self.name}' (of type '{type(self).__name__}') is not built yet.")
        if self.quantization_mode is not None:
            raise ValueError(f"Layer '{self.name}' is already quantized with "
                             f"dtype_policy='{self.quantization_mode}_from_{self.dtype}'. "
                             f"Received: mode={mode}")
        if mode is None and config is not None:
            mode = getattr(config, "mode", "int8") if not isinstance(config, dict) else "int8"
        if mode not in QUANTIZATION_MODES:
            raise ValueError(f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. "
                             f"Received: mode={mode}")
        if mode != "int8":
            raise NotImplementedError(f"Layer '{self.name}': quantization mode {mode!r} is not "
                                      "supported by nnforge (only 'int8')")
        where = f"{type(self).__name__} '{self.name}'"
        acts = parse_quantization_config(config, where)
        from nnforge.ops import quantized as qops
        w = getattr(self, self._int8_weight)
        axes = self._int8_reduce_axes(tuple(w.shape))
        epsilon = _weight_quantizer_epsilon(config, axes, len(w.shape), where)
        q, scale = qops.abs_max_quantize(w.data, axis=axes, epsilon=epsilon)
        scale = scale.reshape(tuple(s for i, s in enumerate(w.shape)
                                    if i not in self._int8_reduce_axes(tuple(w.shape))))
        self._int8_make_weights(q, scale)
        self._quantization_mode = "int8"
        self._int8_activations = self._int8_activations_default if acts is None else acts

    @property
    def int8_activations(self) -> bool:
        """Whether the int8 layer quantizes its inputs (W8A8) or only its weight."""
        value = getattr(self, "_int8_activations", None)
        return self._int8_activations_default if value is None else value

    # -- the packed kernel ---------------------------------------------------------------------
    def _int8_packed(self):
        """The backend's packed kernel, rebuilt when the int8 kernel was assigned since."""
        from nnforge.ops import quantized as qops
        w = getattr(self, self._int8_weight)
        key = (id(w), w.version)
        cache = getattr(self, "_int8_cache", None)
        if cache is None or cache[0] != key:
            packed = qops.pack_weights(w.data.reshape(-1, w.shape[-1]))
            cache = (key, packed)
            object.__setattr__(self, "_int8_cache", cache)
        return cache[1]

    def _int8_dequantized(self):
        """The float kernel ``q / scale`` (weight-only int8 and the float fallback paths)."""
        from nnforge.ops import quantized as qops
        w = getattr(self, self._int8_weight)
        key = ("dq", id(w), w.version)
        cache = getattr(self, "_int8_dq_cache", None)
        if cache is None or cache[0] != key:
            scale = getattr(self, f"{self._int8_weight}_scale").data
            axes = self._int8_reduce_axes(tuple(w.shape))
            shape = tuple(1 if i in axes else s for i, s in enumerate(w.shape))
            cache = (key, qops.dequantize(w.data, scale.reshape(shape)))
            object.__setattr__(self, "_int8_dq_cache", cache)
        return cache[1]

    # -- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The layer's config plus, once quantized, Keras's ``quantization_config`` (and
        nnforge's calibrated ``int8_inputs_scale``)."""
        config = super().get_config()
        if self.quantization_mode == "int8":
            config["quantization_config"] = int8_quantization_config(self.int8_activations)
            scale = getattr(self, "int8_inputs_scale", None)
            if scale is not None:
                config["int8_inputs_scale"] = float(scale)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        qc = config.pop("quantization_config", None)
        inputs_scale = config.pop("int8_inputs_scale", None)
        acts = parse_quantization_config(qc, f"{cls.__name__}.from_config")
        layer = super().from_config(config)
        if acts is not None:
            layer._int8_activations = acts
        if inputs_scale is not None:
            layer.int8_inputs_scale = float(inputs_scale)
        return layer
