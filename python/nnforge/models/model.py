"""``Model``: the functional API (``Model(inputs, outputs)``) and the base of subclassed models.

A functional model keeps the graph of layer calls recorded on symbolic ``KerasTensor``s and runs
those layers in topological order on real data. Training, evaluation and prediction come from
``Trainer`` (models/trainer.py)."""
from __future__ import annotations

from typing import Any, List, Optional

import numpy as np

from nnforge import backend
from nnforge.core.tensor import KerasTensor, Tensor
from nnforge.layers.input_layer import InputLayer
from nnforge.layers.layer import Layer, dtype_policy_config
from nnforge.layers.node import flatten, map_structure
from nnforge import distribution as distribution_lib
from nnforge import saving
from nnforge.saving import keras_file, weights_file

from .trainer import Trainer


class Model(Trainer, Layer):
    """A model grouping layers, with training and inference features.

    Functional API:

    >>> inputs = nnforge.Input(shape=(784,))
    >>> x = nnforge.layers.Dense(64, activation="relu")(inputs)
    >>> outputs = nnforge.layers.Dense(10, activation="softmax")(x)
    >>> model = nnforge.Model(inputs=inputs, outputs=outputs)

    Subclassing: define layers in ``__init__`` and the forward pass in ``call``.

    Args:
        inputs: the model's input(s): a KerasTensor from ``keras.Input``, or a list/dict of them.
        outputs: the output tensor(s) computed from ``inputs`` by layer calls.
        name: the model's name.
    """

    _keras_module = "keras"
    _keras_aliases = ("Functional",)

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        if args:
            inputs = args[0] if inputs is None else inputs
            if len(args) > 1:
                outputs = args[1] if outputs is None else outputs
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self._is_functional = False
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model: pass both `inputs` and `outputs` for the functional "
                                 "API, or neither when subclassing")
            self._init_functional(inputs, outputs)

    # -- functional graph ----------------------------------------------------------------------
    def _init_functional(self, inputs, outputs) -> None:
        flat_in, flat_out = flatten(inputs), flatten(outputs)
        for t in flat_in:
            if not isinstance(t, KerasTensor) or not isinstance(t._keras_history[0], InputLayer):
                raise ValueError(f"Model '{self.name}': every input must come from keras.Input(), "
                                 f"got {t!r}")
        for t in flat_out:
            if not isinstance(t, KerasTensor):
                raise ValueError(f"Model '{self.name}': every output must be a symbolic tensor "
                                 f"computed from the inputs by layers, got {type(t).__name__}")
        self._is_functional = True
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs = flat_in
        self.outputs = flat_out
        nodes, layers = _walk_graph(self.name, flat_in, flat_out)
        self._nodes = [n for n in nodes if not isinstance(n.layer, InputLayer)]
        object.__setattr__(self, "_layers", layers)
        self.built = True

    @property
    def layers(self) -> List[Layer]:
        return list(self._layers)

    @property
    def input_names(self) -> List[str]:
        return [t._keras_history[0].name for t in self.inputs] if self._is_functional else []

    @property
    def output_names(self) -> List[str]:
        if not self._is_functional:
            return []
        return [t._keras_history[0].name for t in self.outputs]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input(self):
        return self._inputs_struct if self._is_functional else Layer.input.fget(self)

    @property
    def output(self):
        return self._outputs_struct if self._is_functional else Layer.output.fget(self)

    def _flat_inputs(self, inputs) -> list:
        if isinstance(inputs, dict):
            names = self.input_names
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}': missing inputs {missing}; got keys "
                                 f"{sorted(inputs)}")
            return [inputs[n] for n in names]
        flat = flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model '{self.name}' expects {len(self.inputs)} input(s) "
                             f"{[t.shape for t in self.inputs]}, but it received "
                             f"{len(flat)} input tensors")
        return flat

    def call(self, inputs, training=None, mask=None):
        if not self._is_functional:
            raise NotImplementedError(f"Model '{self.name}': a subclassed Model must implement "
                                      "call(self, inputs, training=None)")
        flat = self._flat_inputs(inputs)
        values = {}
        for kt, v in zip(self.inputs, flat):
            shape = tuple(getattr(v, "shape", ()))
            spec = kt.shape
            if len(shape) != len(spec) or any(
                    s is not None and s != d for s, d in zip(spec[1:], shape[1:])):
                raise ValueError(
                    f"Input '{kt._keras_history[0].name}' of model '{self.name}' is incompatible: "
                    f"expected shape {spec}, but received input with shape {shape}")
            values[id(kt)] = v
        for node in self._nodes:
            def get(t):
                return values[id(t)] if isinstance(t, KerasTensor) else t
            args = map_structure(get, node.args)
            kwargs = map_structure(get, node.kwargs)
            out = node.layer(*args, training=training, **kwargs)
            for kt, v in zip(node.output_tensors, flatten(out)):
                values[id(kt)] = v
        return map_structure(lambda t: values[id(t)], self._outputs_struct)

    def compute_output_shape(self, input_shape):
        if self._is_functional:
            return map_structure(lambda t: t.shape, self._outputs_struct)
        return Layer.compute_output_shape(self, input_shape)

    def __call__(self, inputs, *args, **kwargs):
        if not any(isinstance(t, KerasTensor) for t in flatten(inputs)):
            inputs = self._standardize_inputs(inputs)
        return Layer.__call__(self, inputs, *args, **kwargs)

    def _input_dtypes(self) -> list:
        if self._is_functional:
            return [t.dtype for t in self.inputs]
        return []

    def _standardize_inputs(self, inputs):
        """Host arrays -> arrays on the model's device; floats -> the input dtype (float32)."""
        dtypes = self._input_dtypes()
        be = backend.current()
        counter = [0]

        def conv(a):
            i = counter[0]
            counter[0] += 1
            if a is None or isinstance(a, Tensor):
                return a
            if isinstance(a, (list, tuple)) and not a:
                return a
            arr = a if backend.is_array(a) else np.asarray(a)
            if arr.dtype.kind in "US":  # text for a string Input: stays on the host, as in TF
                return arr
            want = dtypes[i] if i < len(dtypes) else None
            if want == "string":
                want = None
            if want is not None and np.dtype(want).kind == "f":
                target = np.dtype(want)
            elif arr.dtype.kind == "f" and arr.dtype != np.float32:
                target = np.float32
            elif want is not None:
                target = np.dtype(want)
            else:
                target = arr.dtype
            if backend.of(arr) is not be:
                return be.asarray(backend.to_numpy(arr), dtype=target)
            return arr if arr.dtype == target and arr.flags.c_contiguous else \
                be.xp.ascontiguousarray(arr, dtype=target)

        if isinstance(inputs, dict):
            return {k: conv(v) for k, v in inputs.items()}
        if not isinstance(inputs, (list, tuple)):
            return conv(inputs)  # one array (map_structure would make the same single call)
        return map_structure(conv, inputs)

    # -- summaries and lookups -----------------------------------------------------------------
    def get_layer(self, name: Optional[str] = None, index: Optional[int] = None) -> Layer:
        """The layer with this name, or at this index of ``layers``."""
        if index is not None and name is not None:
            raise ValueError("get_layer: pass either name or index, not both")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index {index} is out of range for a model with "
                                 f"{len(self.layers)} layers")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[l.name for l in self.layers]}.")
        raise ValueError("get_layer: provide a layer name or index")

    def _summary_entries(self):
        entries = []
        if self._is_functional:
            multi = len(self.inputs) > 1 or any(len(n.input_tensors) > 1 for n in self._nodes)
            for layer in self.layers:
                nodes = [n for n in layer._inbound_nodes if any(
                    n is m for m in self._nodes)] or layer._inbound_nodes[:1]
                shapes = [t.shape for n in nodes for t in n.output_tensors]
                shape = shapes[0] if len(shapes) == 1 else shapes
                conn = None
                if multi:
                    parts = []
                    for n in nodes:
                        for t in n.input_tensors:
                            lyr, ni, ti = t._keras_history
                            parts.append(f"{lyr.name}[{ni}][{ti}]")
                    conn = ", ".join(parts) if parts else "-"
                params = sum(int(np.prod(w.shape)) for w in layer.weights)
                entries.append((layer.name, type(layer).__name__, shape, params, conn))
            return entries
        for layer in self.layers:
            shape = None
            if layer._inbound_nodes:
                out = layer._inbound_nodes[-1].outputs
                shape = out.shape if isinstance(out, KerasTensor) else None
            params = sum(int(np.prod(w.shape)) for w in layer.weights) if layer.built else 0
            entries.append((layer.name, type(layer).__name__, shape, params, None))
        return entries

    def summary(self, line_length: Optional[int] = None, positions=None, print_fn=None,
                expand_nested: bool = False, show_trainable: bool = False,
                layer_range=None) -> None:
        """Print Keras's table of layers, output shapes and parameter counts."""
        if not self.built:
            raise ValueError(f"Model '{self.name}' has not been built yet: call it on data, "
                             "build it, or give its first layer an input shape")
        from .summary import print_summary
        print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable,
                      layer_range)

    # -- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        if not self._is_functional:
            return {"name": self.name, "trainable": self.trainable}
        from .functional_config import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: Optional[dict] = None):
        """A model from ``get_config()``'s output.

        Custom layers inside it are found through the registry (``register_keras_serializable``,
        ``custom_object_scope``) or, as in Keras's ``Model.from_config``, in ``custom_objects``.

        Args:
            config: the output of ``get_config()``.
            custom_objects: optional dict mapping class names to user classes.

        Returns:
            A new, unbuilt-weights model of the same architecture.

        Example:

        >>> clone = keras.Model.from_config(model.get_config(), custom_objects={"MyDense": MyDense})
        """
        if custom_objects:
            with saving.custom_object_scope(custom_objects):
                return cls.from_config(config)
        if "layers" in config and "input_layers" in config:
            from .functional_config import functional_from_config
            return functional_from_config(cls, config)
        return cls(**config)

    def _keras_class_and_module(self):
        if self._is_functional and type(self) is Model:
            return "Functional", "keras.src.models.functional"
        return super()._keras_class_and_module()

    def _sublayer_groups(self):
        return [("layers/" + name, child)
                for name, child in weights_file.container_names(self.layers)]

    def to_json(self, **kwargs) -> str:
        """The model's serialized config as a JSON string (``model_from_json`` reads it)."""
        import json
        return json.dumps(saving.serialize_keras_object(self), **kwargs)

    # -- saving ----------------------------------------------------------------------------------
    def save(self, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
        """Save the model (architecture, weights, compile config and optimizer state) to a
        Keras 3 ``.keras`` file, atomically.

        Args:
            filepath: path ending in ``.keras``.
            overwrite: replace an existing file.
            zipped: accepted for Keras compatibility (a ``.keras`` file is always a zip).
            **kwargs: ``include_optimizer`` (default True).

        Example:

        >>> model.save("model.keras")
        >>> restored = nnforge.saving.load_model("model.keras")
        """
        include_optimizer = kwargs.pop("include_optimizer", True)
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0 writes, the others wait for it
            strategy.on_first_process(keras_file.save_model, self, filepath, overwrite=overwrite,
                                      include_optimizer=include_optimizer)
            return
        keras_file.save_model(self, filepath, overwrite=overwrite,
                              include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights to a ``.weights.h5`` file (Keras 3 layout), atomically.

        Example:

        >>> model.save_weights("model.weights.h5")
        """
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0 writes, the others wait for it
            strategy.on_first_process(weights_file.save_weights, self, filepath,
                                      overwrite=overwrite)
            return
        weights_file.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False, **kwargs) -> None:
        """Load weights saved by ``save_weights`` (or the weights of a ``.keras`` file).

        Args:
            filepath: a ``.weights.h5`` or ``.keras`` file.
            skip_mismatch: skip layers whose weights do not match instead of raising.

        Example:

        >>> model.load_weights("model.weights.h5")
        """
        weights_file.load_weights(self, filepath, skip_mismatch=skip_mismatch)
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0's loaded variables everywhere
            strategy.broadcast_variables(self)

    def get_compile_config(self):
        """The arguments given to ``compile``, serialized (None if the model is not compiled)."""
        return keras_file.get_compile_config(self)

    def compile_from_config(self, config: dict) -> None:
        """Compile the model from ``get_compile_config()``'s output."""
        keras_file.compile_from_config(self, config, None, f"compile_from_config ({self.name})")

    # -- quantization (models/quantize.py) --------------------------------------------------------
    def quantize(self, mode=None, config=None, filters=None, calibration_data=None,
                 **kwargs) -> None:
        """Quantize the weights of the model (Keras 3's ``Model.quantize``).

        Calls ``quantize(mode)`` on every layer (``Dense``, ``Conv1D``, ``Conv2D``,
        ``DepthwiseConv2D`` and ``Embedding`` implement it; other layers are skipped with a
        warning, as in Keras). int8: per-output-channel abs-max weights, inputs quantized per
        row at run time (W8A8); the int8 weights are no longer trainable.

        Args:
            mode: ``"int8"``.
            config: None or a serialized Keras ``Int8QuantizationConfig``.
            filters: a regex on layer names, a list of them, or a callable ``f(layer)``:
                only the matching layers are quantized.
            calibration_data: (nnforge) representative inputs: each int8 layer then uses one
                fixed per-tensor input scale, ``127 / max|inputs|`` over this data (static
                quantization), instead of a per-row scale computed at every call.
            **kwargs: ``type_check`` (refuse subclasses of the quantizable layers),
                ``calibration_batch_size``.

        Example:

        >>> model.quantize("int8")
        >>> model.quantize("int8", calibration_data=x_train[:1000])  # static scales
        """
        from .quantize import quantize_model
        type_check = kwargs.pop("type_check", True)
        batch_size = kwargs.pop("calibration_batch_size", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to "
                             f"{type(self).__name__}: {kwargs}")
        quantize_model(self, mode, config, filters, calibration_data, batch_size, type_check)

    # -- export --------------------------------------------------------------------------------
    def export(self, filepath, format: str = "tf_saved_model", verbose: Optional[bool] = None,
               input_signature=None, **kwargs) -> None:
        """Export the model for inference (Keras 3's ``Model.export``).

        Args:
            filepath: the file to write.
            format: ``"onnx"`` (the only format nnforge writes; Keras's default
                ``"tf_saved_model"`` needs TensorFlow and raises a ValueError).
            verbose: print a line about the written file.
            input_signature: optional input specs (shape and dtype per input).
            **kwargs: ``opset_version`` for ONNX.

        Example:

        >>> model.export("model.onnx", format="onnx")
        """
        from nnforge.export import export_model
        export_model(self, filepath, format=format, verbose=verbose,
                     input_signature=input_signature, **kwargs)


def _walk_graph(model_name: str, inputs, outputs):
    """One depth-first walk of a functional graph from its outputs. Returns the nodes in an
    order that runs every node after its inputs (the input layers' nodes included), and the
    layers in Keras 3's order (``keras/src/ops/function.py``, ``map_graph``): by depth from the
    outputs, deepest (the inputs) first, ties in the order the walk first meets them. Keras 3
    weights files key each layer's weights by this order, so branching graphs (Inception,
    ResNet shortcuts) must list their layers exactly as Keras does. Raises ValueError when an
    output depends on an input layer that is not among ``inputs``."""
    input_ids = {id(t) for t in inputs}
    index: dict = {}           # id(layer) -> first traversal index
    by_id: dict = {}           # id(layer) -> layer
    post: list = []            # nodes, inputs before their consumers
    finished: set = set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            t, done = stack.pop()
            layer, node_index, _ = t._keras_history
            node = layer._inbound_nodes[node_index]
            if done:
                if id(node) not in finished:
                    finished.add(id(node))
                    post.append(node)
                continue
            if id(node) in finished:
                continue
            is_input = isinstance(layer, InputLayer)
            if is_input and id(t) not in input_ids:
                raise ValueError(
                    f"Model '{model_name}': graph disconnected: output {out!r} depends on "
                    f"input '{layer.name}', which is not among the model's inputs")
            if id(layer) not in index:
                index[id(layer)] = len(index)
                by_id[id(layer)] = layer
            stack.append((t, True))
            if not is_input:
                for parent in reversed(node.input_tensors):
                    stack.append((parent, False))
    node_depth: dict = {}
    layer_depth: dict = {}
    for node in reversed(post):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        if isinstance(node.layer, InputLayer):
            continue
        for t in node.input_tensors:
            layer, node_index, _ = t._keras_history
            parent = layer._inbound_nodes[node_index]
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:
        layer = t._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], index[id(layer)], by_id[id(layer)] = 0, -1, layer
    layers = [by_id[k] for k in sorted(layer_depth, key=lambda k: (-layer_depth[k], index[k]))]
    return post, layers

