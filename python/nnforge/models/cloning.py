"""``clone_model``: a model of the same architecture with new layers (and new weights), as
Keras 3's ``keras/src/models/cloning.py`` makes it."""
from __future__ import annotations

from typing import Callable, Optional

from nnforge.core.tensor import KerasTensor
from nnforge.layers.input_layer import Input, InputLayer
from nnforge.layers.node import flatten, map_structure
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object

from .model import Model
from .sequential import Sequential


def _default_clone(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(model: Model, input_tensors=None,
                clone_function: Optional[Callable] = None) -> Model:
    """Clone a Functional or Sequential model: same architecture, new layers and weights.

    Args:
        model: a Sequential or functional ``Model`` (a subclassed model is rebuilt from its
            config, without ``input_tensors`` or ``clone_function``).
        input_tensors: optional ``keras.Input`` tensor(s) to build the clone on, with the
            structure of ``model.input`` (one tensor for a Sequential model); new inputs of the
            same shapes by default.
        clone_function: ``fn(layer) -> layer`` applied to each non-input layer; by default
            ``type(layer).from_config(layer.get_config())``. Returning the layer itself shares
            it (and its weights) with the original.

    Returns:
        The new model, compiled like ``model`` if ``model`` was compiled.

    Example:

    >>> clone = nnforge.models.clone_model(model)
    >>> shared = nnforge.models.clone_model(model, clone_function=lambda layer: layer)
    """
    if clone_function is not None and not callable(clone_function):
        raise ValueError(f"clone_model: clone_function must be callable, got {clone_function!r}")
    if isinstance(model, Sequential):
        clone = _clone_sequential(model, clone_function or _default_clone, input_tensors)
    elif isinstance(model, Model) and model._is_functional:
        clone = _clone_functional(model, clone_function or _default_clone, input_tensors)
    else:
        if clone_function is not None or input_tensors is not None:
            raise ValueError(
                f"clone_model: clone_function and input_tensors are only supported for "
                f"Sequential and functional models, got a {type(model).__name__}")
        return deserialize_keras_object(serialize_keras_object(model),
                                        custom_objects={type(model).__name__: type(model)})
    if getattr(model, "compiled", False):
        clone.compile_from_config(model.get_compile_config())
    return clone


def _cached(clone_function: Callable) -> Callable:
    cache = {}

    def clone(layer):
        if id(layer) not in cache:
            cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]
    return clone


def _check_inputs(input_tensors) -> None:
    for t in flatten(input_tensors):
        if not isinstance(t, KerasTensor) or t._keras_history is None or \
                not isinstance(t._keras_history[0], InputLayer):
            raise ValueError(f"clone_model: every entry of input_tensors must be a tensor from "
                             f"keras.Input(), got {t!r}")


def _clone_sequential(model: Sequential, clone_function: Callable, input_tensors) -> Sequential:
    new_layers = [clone_function(layer) for layer in model.layers]
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(f"clone_model: a Sequential model takes one input tensor, got "
                                 f"{len(input_tensors)}")
            input_tensors = input_tensors[0]
        _check_inputs(input_tensors)
        new_layers = [input_tensors] + new_layers
    elif model._input_layer is not None:
        ref = model._input_layer
        new_layers = [Input(batch_shape=ref.batch_shape, dtype=ref.dtype)] + new_layers
    return Sequential(new_layers, name=model.name, trainable=model.trainable)


def _clone_functional(model: Model, clone_function: Callable, input_tensors) -> Model:
    if input_tensors is None:
        input_tensors = map_structure(
            lambda t: Input(batch_shape=t.shape, dtype=t.dtype,
                            name=t._keras_history[0].name), model._inputs_struct)
    else:
        if isinstance(model._inputs_struct, (list, tuple)) and \
                not isinstance(input_tensors, (list, tuple)):
            input_tensors = [input_tensors]
        _check_inputs(input_tensors)
        if len(flatten(input_tensors)) != len(model.inputs):
            raise ValueError(f"clone_model: model '{model.name}' has {len(model.inputs)} "
                             f"input(s), input_tensors holds {len(flatten(input_tensors))}")
    if not isinstance(model._inputs_struct, (list, tuple, dict)) and \
            isinstance(input_tensors, (list, tuple)) and len(input_tensors) == 1:
        input_tensors = input_tensors[0]
    clone = _cached(clone_function)
    new = {id(old): t for old, t in zip(model.inputs, flatten(input_tensors))}

    def get(t):
        return new[id(t)] if isinstance(t, KerasTensor) else t

    for node in model._nodes:
        out = clone(node.layer)(*map_structure(get, node.args), **map_structure(get, node.kwargs))
        for old, t in zip(node.output_tensors, flatten(out)):
            new[id(old)] = t
    outputs = map_structure(lambda t: new[id(t)], model._outputs_struct)
    cls = type(model) if type(model).get_config is Model.get_config else Model
    return cls(inputs=input_tensors, outputs=outputs, name=model.name, trainable=model.trainable)
