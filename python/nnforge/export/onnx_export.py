"""``export_onnx``: write a Sequential or functional model as an ONNX file.

Built with the ``onnx`` package (``pip install nnforge[onnx]``): one ONNX subgraph per layer
call, weights as initializers, a dynamic batch dimension, channels-last tensors at the model's
inputs and outputs as in Keras (convolutions run channels-first inside, see onnx_graph.py).
Nested Sequential/functional models are inlined.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from nnforge.layers.input_layer import InputLayer
from nnforge.utils.io_utils import print_msg
from nnforge.utils.model_graph import is_graph_model, model_nodes

from .onnx_graph import KERAS, OnnxGraph
from .onnx_layers import UnsupportedLayerError, find_converter

DEFAULT_OPSET = 17
_ONNX_DTYPES = {"float32": 1, "uint8": 2, "int8": 3, "int32": 6, "int64": 7, "float16": 10,
                "float64": 11, "bool": 9}


def _convert_graph(g: OnnxGraph, model) -> None:
    """Add the ONNX nodes of ``model``'s layer calls (its inputs already hold values)."""
    for node in model_nodes(model):
        layer = node.layer
        if isinstance(layer, InputLayer):
            continue
        if is_graph_model(layer):  # a nested model: bind its inputs and inline its graph
            inner_inputs = list(layer.inputs)
            if len(inner_inputs) != len(node.input_tensors):
                raise UnsupportedLayerError(
                    f"ONNX export: nested model '{layer.name}' has {len(inner_inputs)} inputs "
                    f"but is called on {len(node.input_tensors)} tensors")
            for inner, outer in zip(inner_inputs, node.input_tensors):
                g.alias(inner, outer)
            _convert_graph(g, layer)
            for inner, outer in zip(layer.outputs, node.output_tensors):
                g.alias(outer, inner)
            continue
        fn = find_converter(layer)
        if fn is None:
            raise UnsupportedLayerError(
                f"ONNX export: layer '{layer.name}' ({type(layer).__name__}) is not supported. "
                "Supported: Dense, Conv1D/2D, DepthwiseConv2D, SeparableConv2D, pooling, "
                "Flatten, Reshape, BatchNormalization, Dropout, activations, Embedding, LSTM, "
                "GRU, SimpleRNN, Bidirectional, TimeDistributed, merge layers, and a few "
                "reshaping/preprocessing layers.")
        fn(g, layer, node)


def _dims(shape, prefix: str):
    return ["batch" if i == 0 and d is None else (f"{prefix}_{i}" if d is None else int(d))
            for i, d in enumerate(shape)]


def build_onnx_model(model, opset_version: Optional[int] = None, input_signature=None):
    """The ``onnx.ModelProto`` of a built Sequential or functional model.

    Args:
        model: the model.
        opset_version: ONNX opset (default 17; at least 13).
        input_signature: optional list of objects with ``shape`` (and ``dtype``), one per
            model input, replacing the declared input shapes (e.g. a fixed batch size).

    Returns:
        An ``onnx.ModelProto``; ``model.export`` writes it to a file.

    Raises:
        ImportError: the ``onnx`` package is not installed.
        UnsupportedLayerError: a layer, activation or setting that cannot be exported; the
            message names the layer.
    """
    try:
        import onnx
        from onnx import helper
    except ImportError as e:
        raise ImportError("Exporting to ONNX needs the `onnx` package: `pip install onnx` "
                          "(or `pip install nnforge[onnx]`)") from e
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if opset < 13:
        raise ValueError(f"ONNX export: opset_version must be >= 13, got {opset}")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has not been built yet: call it on data or give "
                         "it an Input before exporting")
    if not is_graph_model(model):
        raise ValueError(f"ONNX export: model '{model.name}' is a subclassed model; only "
                         "Sequential and functional models can be exported")
    quantized = [layer.name for layer in model.layers
                 if getattr(layer, "quantization_mode", None) is not None]
    if quantized:  # the converters write float kernels; int8 ones would be exported wrong
        raise UnsupportedLayerError(f"ONNX export: layers {quantized} of model '{model.name}' "
                                    "are int8-quantized; export the float model instead")
    g = OnnxGraph(opset)
    inputs = list(model.inputs)
    signature = list(input_signature) if input_signature is not None else [None] * len(inputs)
    if len(signature) != len(inputs):
        raise ValueError(f"ONNX export: input_signature has {len(signature)} entries, the model "
                         f"has {len(inputs)} inputs")
    graph_inputs = []
    for t, spec in zip(inputs, signature):
        name = t._keras_history[0].name
        g.reserve(name)
        shape = tuple(spec.shape) if spec is not None else t.shape
        dtype = str(getattr(spec, "dtype", None) or t.dtype)
        if dtype not in _ONNX_DTYPES:
            raise ValueError(f"ONNX export: input '{name}' has dtype {dtype}, not supported")
        graph_inputs.append(helper.make_tensor_value_info(name, _ONNX_DTYPES[dtype],
                                                          _dims(shape, name)))
        g.set_value(t, name)
    _convert_graph(g, model)
    graph_outputs = []
    for i, t in enumerate(model.outputs):
        out_name = g.unique(f"output_{i}")
        g.node("Identity", [g.value(t, KERAS)], "output", output_names=[out_name])
        graph_outputs.append(helper.make_tensor_value_info(
            out_name, _ONNX_DTYPES.get(t.dtype, 1), _dims(t.shape, out_name)))
    graph = helper.make_graph(g.nodes, model.name, graph_inputs, graph_outputs,
                              initializer=g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="nnforge")
    proto.ir_version = min(proto.ir_version, _max_ir_version(onnx, opset))
    return proto


def _max_ir_version(onnx, opset: int) -> int:
    """The IR version that goes with ``opset`` (so older runtimes accept the file)."""
    table = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10}
    return table.get(opset, onnx.IR_VERSION)


def export_onnx(model, filepath, verbose: Optional[bool] = None, input_signature=None,
                opset_version: Optional[int] = None) -> None:
    """Write ``model`` to ``filepath`` as ONNX (see ``build_onnx_model``).

    Example:

    >>> model.export("model.onnx", format="onnx")
    >>> import onnxruntime as ort
    >>> ort.InferenceSession("model.onnx").run(None, {"input_layer": x})
    """
    import onnx
    proto = build_onnx_model(model, opset_version=opset_version, input_signature=input_signature)
    onnx.save_model(proto, os.fspath(filepath))
    if verbose or verbose is None:
        n = sum(int(np.prod(i.dims)) for i in proto.graph.initializer)
        print_msg(f"Saved ONNX model '{model.name}' to {os.fspath(filepath)} "
              f"(opset {proto.opset_import[0].version}, {len(proto.graph.node)} nodes, "
              f"{n} weights)")
