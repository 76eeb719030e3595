"""The ``Layer`` base class: weights, build/call, symbolic calls for the functional API, config."""
from __future__ import annotations

import inspect
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from nnforge import backend, initializers, naming
from nnforge.core.tape import stop_recording
from nnforge.core.tensor import KerasTensor, Tensor, Variable
from nnforge.saving.keras_saveable import KerasSaveable

from .input_spec import assert_input_compatibility
from .node import Node, flatten, map_structure

_SIGNATURE_CACHE: Dict[type, Tuple[bool, bool]] = {}


def _call_flags(cls) -> Tuple[bool, bool]:
    flags = _SIGNATURE_CACHE.get(cls)
    if flags is None:
        params = inspect.signature(cls.call).parameters
        var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
        flags = ("training" in params or var_kw, "mask" in params or var_kw)
        _SIGNATURE_CACHE[cls] = flags
    return flags


from .quantized import dtype_policy_config as _policy_config, parse_dtype_policy  # noqa: E402


def dtype_policy_config(dtype: str = "float32") -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


# Layer calls in progress (eager); the outermost one resets the losses of its layer tree.
_active_calls = 0


def _input_mask(inputs):
    """The mask carried by ``inputs`` (``_keras_mask``): one mask, a list of masks for a list
    of inputs (None where an input has none), or None when no input has one."""
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return getattr(inputs, "_keras_mask", None)


def _with_trial_mask(dummy, mask):
    """Dummy inputs of a trial run, carrying all-True masks shaped like the symbolic ones."""
    if isinstance(dummy, list):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(dummy)
        return [_with_trial_mask(d, m) for d, m in zip(dummy, masks)]
    if not isinstance(mask, KerasTensor):
        return dummy
    t = Tensor(dummy)
    shape = tuple(dummy.shape[i] if i < dummy.ndim else 1 for i in range(len(mask.shape)))
    t._keras_mask = Tensor(np.ones(shape, dtype=bool))
    return t


def _attach_mask(outputs, mask) -> None:
    """Carry ``mask`` (one mask, or a list matching a list of outputs) on the outputs."""
    if mask is None:
        return
    if isinstance(outputs, Tensor):
        outputs._keras_mask = mask
    elif isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(outputs)
        for t, m in zip(outputs, masks):
            _attach_mask(t, m)


def shape_of(x) -> Tuple:
    if isinstance(x, (KerasTensor, Tensor)):
        return tuple(x.shape)
    return tuple(np.shape(x))


class Layer(KerasSaveable):
    """Base class of all layers (``keras.layers.Layer``).

    Subclasses create weights in ``build(input_shape)`` with ``add_weight`` and compute in
    ``call(inputs, training=None)`` with ``nnforge.ops``. Calling a layer on a symbolic
    ``keras.Input`` tensor builds a functional graph; calling it on arrays runs it.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: the layer's name (unique default from its class name).
        dtype: the dtype of its weights and computations (float32).
        input_shape: (first layer of a Sequential model) the shape of one sample.
    """

    _keras_module = "keras.layers"

    def __init__(self, trainable: bool = True, name: Optional[str] = None,
                 dtype: Any = None, autocast: bool = True, activity_regularizer=None,
                 **kwargs):
        object.__setattr__(self, "_tracking", False)
        input_shape = kwargs.pop("input_shape", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        kwargs.pop("input_length", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword arguments "
                            f"{sorted(kwargs)}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string, got {name!r}")
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        # a Keras dtype policy: "float32", "int8_from_float32", or its serialized dict
        dtype, self._quantization_mode = parse_dtype_policy(dtype)

        if isinstance(dtype, dict):
            dtype = dtype.get("config", {}).get("name", "float32")
        self.dtype = "string" if dtype in ("string", "str", str) else (  # text inputs
            str(np.dtype(dtype)) if dtype is not None else "float32")
        self._trainable = bool(trainable)
        self.built = False
        self._own_weights: List[Variable] = []
        self._layers: List["Layer"] = []
        self._inbound_nodes: List[Node] = []
        self._added_losses: list = []
        self.activity_regularizer = activity_regularizer
        self.supports_masking = False
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        elif input_dim is not None:
            self._batch_input_shape = (batch_size, int(input_dim))
        object.__setattr__(self, "_tracking", True)

    # -- tracking ------------------------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        if getattr(self, "_tracking", False) and not key.startswith("__"):
            if isinstance(value, Layer):
                if value not in self._layers:
                    self._layers.append(value)
            elif isinstance(value, (list, tuple)) and value and all(
                    isinstance(v, Layer) for v in value):
                for v in value:
                    if v not in self._layers:
                        self._layers.append(v)
            elif isinstance(value, Variable):
                if not any(value is w for w in self._own_weights):
                    self._own_weights.append(value)
        object.__setattr__(self, key, value)

    # -- weights -------------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable: bool = True,
                   autocast: bool = True, regularizer=None, constraint=None,
                   aggregation: str = "none", name: Optional[str] = None) -> Variable:
        """Create a weight of this layer (``Layer.add_weight``)."""
        shape = tuple(int(s) for s in (shape or ()))
        if any(s < 0 for s in shape):
            raise ValueError(f"Layer '{self.name}': add_weight got a negative dimension in "
                             f"shape {shape}")
        dtype = str(np.dtype(dtype)) if dtype is not None else self.dtype
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        init = initializers.get(initializer)
        var = Variable(init, shape=shape, dtype=dtype, trainable=trainable,
                       name=name or f"variable_{len(self._own_weights)}")
        var._path = f"{self.name}/{var.name}"
        from nnforge import regularizers, constraints
        var.regularizer = regularizers.get(regularizer)
        var.constraint = constraints.get(constraint)
        self._own_weights.append(var)
        return var

    def _all_weights(self) -> List[Variable]:
        seen, out = set(), []
        for w in self._own_weights:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        for layer in self._layers:
            for w in layer._all_weights():
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = value

    @property
    def weights(self) -> List[Variable]:
        """Trainable weights first, then non-trainable ones (as Keras orders them)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def variables(self) -> List[Variable]:
        return self.weights

    @property
    def trainable_weights(self) -> List[Variable]:
        if not self._trainable:
            return []
        out = [w for w in self._own_weights if w.trainable]
        seen = {id(w) for w in out}
        for layer in self._layers:
            for w in layer.trainable_weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> List[Variable]:
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self._all_weights() if id(w) not in trainable]

    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> List[np.ndarray]:
        """The values of ``weights`` as NumPy arrays (copies)."""
        return [np.array(w.numpy(), copy=True) for w in self.weights]

    def set_weights(self, weights) -> None:
        """Set ``weights`` from a list of arrays of the same shapes."""
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(f"Layer '{self.name}': set_weights expected {len(params)} arrays "
                             f"(shapes {[p.shape for p in params]}), got {len(weights)}")
        for p, w in zip(params, weights):
            shape = tuple(np.shape(w))
            if shape != p.shape:
                raise ValueError(f"Layer '{self.name}': weight '{p.name}' has shape {p.shape}, "
                                 f"got an array of shape {shape}")
        for p, w in zip(params, weights):
            p.assign(np.asarray(w, dtype=p.dtype))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Layer '{self.name}' is not built yet: call it on data or build "
                             "it first, then count_params().")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # -- losses (regularization and add_loss) ----------------------------------------------------
    def add_loss(self, loss) -> None:
        self._added_losses.append(loss)

    @property
    def losses(self) -> list:
        out = list(self._added_losses)
        for w in self._own_weights:
            if w.regularizer is not None and w.trainable:
                out.append(w.regularizer(w))
        for layer in self._layers:
            out.extend(layer.losses)
        return out

    def _clear_losses(self) -> None:
        if self._added_losses:  # (an empty list stays: no tracking __setattr__ per step)
            self._added_losses = []
        for layer in self._layers:
            layer._clear_losses()

    # -- build / call --------------------------------------------------------------------------
    def build(self, input_shape=None) -> None:
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def compute_output_shape(self, input_shape):
        """Shape of the output for ``input_shape`` (batch dimension may be None). The default
        runs the layer once on zeros with unknown dimensions set to 1."""
        def concrete(s):
            return tuple(1 if d is None else d for d in s)
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], tuple):
            dummy = [np.zeros(concrete(s), dtype=self.dtype) for s in input_shape]
        else:
            dummy = np.zeros(concrete(input_shape), dtype=self.dtype)
        pending = getattr(self, "_symbolic_input_mask", None)
        if pending is not None:  # a symbolic call on masked inputs: run with a mask too
            dummy = _with_trial_mask(dummy, pending)
        # the other symbolic arguments of the call being traced (``layer(a, b)``), as zeros
        extra_args, extra_kwargs = getattr(self, "_symbolic_call_args", None) or ((), {})

        def zeros_for(t):
            return np.zeros(concrete(t.shape), dtype=t.dtype) if isinstance(t, KerasTensor) \
                else t
        extra_args = map_structure(zeros_for, tuple(extra_args))
        extra_kwargs = dict(map_structure(zeros_for, dict(extra_kwargs)), training=False)
        with stop_recording():
            out = self._eager_call(dummy, extra_args, extra_kwargs)
        self._trial_output_mask = map_structure(
            lambda t: getattr(t, "_keras_mask", None), out)
        def sym(t):
            s = tuple(t.shape)
            first = input_shape[0] if isinstance(input_shape, list) else input_shape
            # a dimension that was unknown in the input and came out as the stand-in 1 at the
            # same position (the batch, or the steps of a sequence) stays unknown
            return tuple(None if i < len(first) and first[i] is None and d == 1 and
                         (i == 0 or len(s) >= len(first)) else d for i, d in enumerate(s))
        return map_structure(sym, out)

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.supports_masking else None

    def _maybe_build(self, inputs) -> None:
        if self.built:
            return
        flat = flatten(inputs)
        shapes = [shape_of(t) for t in flat]
        shape = shapes[0] if not isinstance(inputs, (list, tuple)) else shapes
        if isinstance(inputs, tuple) and not isinstance(inputs, list):
            shape = list(shapes)
        self.build(shape)
        self.built = True

    def __call__(self, inputs, *args, **kwargs):
        if not args and (isinstance(inputs, Tensor) or type(inputs) is np.ndarray):
            # The eager hot path (one concrete tensor, flags such as training=True): nothing
            # symbolic can be among the arguments.
            for v in kwargs.values():
                if v is not None and v is not True and v is not False:
                    break
            else:
                return self._eager_call(inputs, args, kwargs)
        if isinstance(inputs, KerasTensor) or (
                (args or isinstance(inputs, (list, tuple, dict)) or
                 any(not isinstance(v, (bool, type(None))) for v in kwargs.values()))
                and any(isinstance(t, KerasTensor) for t in flatten((inputs, args, kwargs)))):
            return self._symbolic_call(inputs, args, kwargs)
        return self._eager_call(inputs, args, kwargs)

    def _eager_call(self, inputs, args, kwargs):
        # The outermost call starts with no losses: ``self.losses`` then holds what this call
        # added (add_loss, activity regularizers), as in Keras.
        global _active_calls
        if _active_calls == 0:
            self._clear_losses()
        _active_calls += 1
        try:
            if self.__dict__.get("input_spec") is not None:  # a layer's InputSpec, as in Keras
                assert_input_compatibility(self.input_spec, inputs, self.name)
            if not self.built:
                self._check_input_spec(inputs)
                self._maybe_build(inputs)
            accepts_training, accepts_mask = _call_flags(type(self))
            if not accepts_training:
                kwargs.pop("training", None)
            prev = _input_mask(inputs)
            if accepts_mask and "mask" not in kwargs:
                if prev is not None:
                    kwargs["mask"] = prev
            elif not accepts_mask:
                kwargs.pop("mask", None)
            elif kwargs["mask"] is not None:
                prev = kwargs["mask"]
            out = self.call(inputs, *args, **kwargs)
            if not isinstance(out, Tensor) and backend.is_array(out):
                out = Tensor(out)
            if prev is not None or type(self).compute_mask is not Layer.compute_mask:
                _attach_mask(out, self.compute_mask(inputs, prev))
            if self.activity_regularizer is not None and isinstance(out, Tensor):
                self.add_loss(self.activity_regularizer(out))
            return out
        finally:
            _active_calls -= 1

    def _check_input_spec(self, inputs) -> None:
        """Hook for layers to validate input rank/shape before building."""

    def _symbolic_call(self, inputs, args, kwargs):
        kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        if self.__dict__.get("input_spec") is not None:
            assert_input_compatibility(self.input_spec, inputs, self.name)
        if not self.built:
            self._maybe_build(inputs)
        shape_in = map_structure(lambda t: tuple(t.shape) if isinstance(t, KerasTensor) else t,
                                 inputs)
        if isinstance(shape_in, tuple) and shape_in and isinstance(shape_in[0], tuple):
            shape_in = list(shape_in)
        prev_mask = _input_mask(inputs)
        object.__setattr__(self, "_symbolic_input_mask", prev_mask)
        object.__setattr__(self, "_symbolic_call_args", (args, kwargs))
        object.__setattr__(self, "_trial_output_mask", None)
        try:
            out_shape = self.compute_output_shape(shape_in)
        except ValueError:
            raise
        except Exception as e:  # a layer's own shape logic failed: say which layer
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) cannot be called on "
                             f"inputs of shape {shape_in}: {e}") from e
        finally:
            object.__setattr__(self, "_symbolic_input_mask", None)
            object.__setattr__(self, "_symbolic_call_args", None)
        node_index = len(self._inbound_nodes)
        counter = [0]

        def make(s):
            i = counter[0]
            counter[0] += 1
            return KerasTensor(s, dtype=self.dtype, name=f"keras_tensor_{id(self)}_{i}",
                               history=(self, node_index, i))

        def is_shape(s):
            return isinstance(s, tuple) and all(d is None or isinstance(d, (int, np.integer))
                                                for d in s)

        def build(s):
            if is_shape(s):
                return make(s)
            if isinstance(s, dict):
                return {k: build(v) for k, v in s.items()}
            return [build(v) for v in s]

        outputs = build(out_shape)
        self._attach_symbolic_masks(outputs, prev_mask, shape_in)
        self._inbound_nodes.append(Node(self, (inputs,) + tuple(args), kwargs, outputs))
        return outputs

    def _attach_symbolic_masks(self, outputs, prev_mask, shape_in) -> None:
        """Give the symbolic outputs the masks the layer would attach at run time: those of
        the trial run of ``compute_output_shape`` when there was one, else those of
        ``compute_mask`` run on zeros, else the input's mask for a layer that
        ``supports_masking``."""
        trial = getattr(self, "_trial_output_mask", None)
        object.__setattr__(self, "_trial_output_mask", None)
        if trial is None and type(self).compute_mask is not Layer.compute_mask:
            def zeros(s):
                return np.zeros(tuple(1 if d is None else d for d in s), dtype=np.float32)
            is_list = isinstance(shape_in, list) and shape_in and isinstance(shape_in[0], tuple)
            dummy = [zeros(s) for s in shape_in] if is_list else zeros(shape_in)
            dummy_prev = None if prev_mask is None else map_structure(
                lambda m: None if m is None else np.ones(
                    tuple(1 if d is None else d for d in m.shape), dtype=bool), prev_mask)
            try:
                with stop_recording():
                    trial = self.compute_mask(dummy, dummy_prev)
            except Exception:  # a mask that cannot be computed without real data
                trial = None
        outs = [t for t in flatten(outputs) if isinstance(t, KerasTensor)]
        if trial is not None:
            masks = flatten(trial)
            for kt, m in zip(outs, masks):
                if m is not None:
                    kt._keras_mask = KerasTensor(kt.shape[:len(shape_of(m))], dtype="bool")
        elif prev_mask is not None and self.supports_masking and \
                type(self).compute_mask is Layer.compute_mask:
            for kt in outs:
                kt._keras_mask = prev_mask

    # -- functional API helpers ----------------------------------------------------------------
    @property
    def input(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on a symbolic "
                                 "input, so it has no defined input.")
        node = self._inbound_nodes[0]
        return node.args[0]

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on a symbolic "
                                 "input, so it has no defined output.")
        return self._inbound_nodes[0].outputs

    # -- quantization (layers/quantized.py) --------------------------------------------------
    @property
    def quantization_mode(self) -> Optional[str]:
        """``"int8"`` once the layer is quantized (its dtype policy ``int8_from_float32``),
        else None."""
        return getattr(self, "_quantization_mode", None)

    def quantize(self, mode=None, type_check: bool = True, config=None) -> None:
        """Quantize the layer's weights (``Layer.quantize``): implemented by ``Dense``,
        ``Conv1D``, ``Conv2D``, ``DepthwiseConv2D`` and ``Embedding``; other layers raise
        NotImplementedError (which ``Model.quantize`` turns into a warning, as Keras does)."""
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `quantize()` "
                                  "method implemented.")

    # -- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": _policy_config(self.dtype, self.quantization_mode)}
        if hasattr(self, "_batch_input_shape"):
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    def get_build_config(self) -> Optional[dict]:
        """``{"input_shape": ...}`` of the first call that built this layer (Keras 3's
        ``build_config``), or None when it was never called on a symbolic input."""
        if not self.built or not self._inbound_nodes:
            return None
        shapes = [list(t.shape) for t in self._inbound_nodes[0].input_tensors]
        if not shapes:
            return None
        return {"input_shape": shapes[0] if len(shapes) == 1 else shapes}

    def build_from_config(self, config: dict) -> None:
        """Build the layer from a ``build_config`` (``get_build_config``'s output)."""
        shape = config.get("input_shape")
        if self.built or shape is None:
            return
        if shape and isinstance(shape[0], list):
            shape = [tuple(s) for s in shape]
        else:
            shape = tuple(shape)
        try:
            self.build(shape)
            self.built = True
        except Exception as e:
            raise ValueError(f"Could not build layer '{self.name}' ({type(self).__name__}) with "
                             f"input shape {shape}: {e}") from e

    def _sublayer_groups(self) -> List[Tuple[str, "Layer"]]:
        """(attribute, layer) for the layers this one holds, as Keras's saving library names
        their weight groups (``cell``, ``forward_layer``, ``layer``)."""
        return [(attr, value) for attr, value in vars(self).items()
                if isinstance(value, Layer) and not attr.startswith("_")]

    _KERAS_ONLY_KEYS = ("quantization_config", "lora_rank", "lora_alpha", "shared_object_id")

    @classmethod
    def from_config(cls, config: dict):
        config = cls._without_keras_only_keys(config)
        if "batch_input_shape" in config and config["batch_input_shape"] is not None:
            config["batch_input_shape"] = tuple(config["batch_input_shape"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
