"""``plot_model`` and ``model_to_dot``: draw a model's layer graph with pydot and Graphviz.

As in Keras, ``model_to_dot`` needs the ``pydot`` package (``pip install nnforge[plot]``) and
``plot_model`` also needs Graphviz's ``dot`` program (``apt-get install graphviz``,
``brew install graphviz``, or https://graphviz.org/download/). Each missing piece raises an
``ImportError`` that names it."""
from __future__ import annotations

import os
import sys

from nnforge.utils.io_utils import print_msg
from nnforge.utils.model_graph import is_graph_model, model_nodes

_NOT_LOADED = object()
pydot = _NOT_LOADED  # imported on first use: `import nnforge` does not pay for pydot


def _load_pydot():
    """The pydot module, or None when it is not installed."""
    global pydot
    if pydot is _NOT_LOADED:
        try:
            import pydot as module
        except ImportError:
            module = None
        pydot = module
    return pydot

PYDOT_MISSING = ("You must install pydot (`pip install pydot`, or `pip install nnforge[plot]`) "
                 "for model_to_dot and plot_model to work.")
GRAPHVIZ_MISSING = ("You must install Graphviz: its `dot` executable was not found on PATH "
                    "(`apt-get install graphviz`, `brew install graphviz`, or see "
                    "https://graphviz.org/download/) for plot_model to work.")


def check_pydot() -> bool:
    """True if pydot is importable."""
    return _load_pydot() is not None


def check_graphviz() -> bool:
    """True if pydot is importable and Graphviz's ``dot`` program runs."""
    if not check_pydot():
        return False
    try:
        pydot.Dot.create(pydot.Dot())
        return True
    except (OSError, getattr(pydot, "PydotException", OSError), FileNotFoundError):
        return False


def _node_id(layer) -> str:
    return str(id(layer))


def _add_edge(dot, src, dst) -> None:
    src_id, dst_id = _node_id(src), _node_id(dst)
    if not dot.get_edge(src_id, dst_id):
        edge = pydot.Edge(src_id, dst_id)
        edge.set("penwidth", "2")
        dot.add_edge(edge)


def _activation_name(layer) -> str:
    act = layer.activation
    return getattr(act, "name", None) or getattr(act, "__name__", None) or str(act)


def _format_shapes(shapes) -> str:
    if not shapes:
        return "?"
    return str(shapes[0]) if len(shapes) == 1 else str(list(shapes))


def _layer_label(layer, node, show_layer_names, show_layer_activations, show_dtype,
                 show_shapes, show_trainable) -> str:
    """Keras's HTML-like table label: name (class), activation, shapes, dtype, trainable."""
    class_name = type(layer).__name__
    colspan = max(1, int(show_dtype) + int(show_trainable) + (2 if show_shapes else 0))
    title = f"<b>{layer.name}</b> ({class_name})" if show_layer_names else f"<b>{class_name}</b>"
    table = ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
             f'<tr><td colspan="{colspan}" bgcolor="black"><font point-size="16" color="white">'
             f"{title}</font></td></tr>")
    if show_layer_activations and getattr(layer, "activation", None) is not None:
        table += (f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
                  f"Activation: <b>{_activation_name(layer)}</b></font></td></tr>")
    from nnforge.layers.input_layer import InputLayer
    if isinstance(layer, InputLayer):
        in_shapes, out_tensors = [], [layer.output_tensor]
    elif node is not None:
        in_shapes, out_tensors = [t.shape for t in node.input_tensors], node.output_tensors
    else:
        in_shapes, out_tensors = [], []
    cols = []
    if show_shapes:
        if not isinstance(layer, InputLayer):
            cols.append('<td bgcolor="white"><font point-size="14">'
                        f"Input shape: <b>{_format_shapes(in_shapes)}</b></font></td>")
        cols.append('<td bgcolor="white"><font point-size="14">'
                    f"Output shape: <b>{_format_shapes([t.shape for t in out_tensors])}</b>"
                    "</font></td>")
    if show_dtype:
        dtypes = [t.dtype for t in out_tensors]
        dtype = (dtypes[0] if len(dtypes) == 1 else str(dtypes)) if dtypes else "?"
        cols.append(f'<td bgcolor="white"><font point-size="14">Output dtype: <b>{dtype}</b>'
                    "</font></td>")
    if show_trainable and layer.weights:
        if layer.trainable:
            cols.append('<td bgcolor="forestgreen"><font point-size="14" color="white">'
                        "<b>Trainable</b></font></td>")
        else:
            cols.append('<td bgcolor="firebrick"><font point-size="14" color="white">'
                        "<b>Non-trainable</b></font></td>")
    if cols:
        table += f"<tr>{''.join(cols)}</tr>"
    return table + "</table>>"


def _make_node(layer, node, label_kwargs):
    n = pydot.Node(_node_id(layer), label=_layer_label(layer, node, **label_kwargs))
    n.set("fontname", "Helvetica")
    n.set("border", "0")
    n.set("margin", "0")
    return n


def _is_sequential(model) -> bool:
    return is_graph_model(model) and not getattr(model, "_is_functional", False)


def model_to_dot(model, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB",
                 expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False,
                 splines: str = "ortho", **kwargs):
    """Convert a model to a ``pydot.Dot`` graph (Keras's ``keras.utils.model_to_dot``).

    One node per layer (a functional model's InputLayers included; a Sequential model's not,
    as in Keras), named by ``str(id(layer))``, with an edge from each layer to the layers that
    consume its output. A subclassed model is a single node.

    Args:
        model: a built model.
        show_shapes: show each layer's input and output shapes.
        show_dtype: show each layer's output dtype.
        show_layer_names: show layer names (else only class names).
        rankdir: Graphviz ``rankdir``: ``"TB"`` (vertical) or ``"LR"`` (horizontal).
        expand_nested: draw nested Sequential/functional models as clusters of their layers.
        dpi: image resolution in dots per inch.
        subgraph: return a ``pydot.Cluster`` (used for nested models).
        show_layer_activations: show the activation of layers that have one.
        show_trainable: show whether each layer with weights is trainable.
        splines: Graphviz ``splines`` (``"ortho"``, ``"curved"``, ``"polyline"``, ...).

    Returns:
        A ``pydot.Dot`` (or ``pydot.Cluster`` with ``subgraph=True``).

    Raises:
        ImportError: pydot is not installed.
        ValueError: the model is not built, or an unknown keyword argument.

    Example:

    >>> dot = nnforge.utils.model_to_dot(model, show_shapes=True)
    >>> dot.write("model.dot", format="raw")
    """
    if not model.built:
        raise ValueError(f"Model '{model.name}' has not yet been built. Build the model first by "
                         "calling `build()` or by calling the model on a batch of data.")
    if not check_pydot():
        raise ImportError(PYDOT_MISSING)
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("model_to_dot: argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"model_to_dot: unrecognized keyword arguments: {kwargs}")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    label_kwargs = dict(show_layer_names=show_layer_names,
                        show_layer_activations=show_layer_activations, show_dtype=show_dtype,
                        show_shapes=show_shapes, show_trainable=show_trainable)
    if not is_graph_model(model):  # a subclassed model is one node
        dot.add_node(_make_node(model, None, label_kwargs))
        return dot
    nodes = model_nodes(model)
    node_of = {id(n.layer): n for n in nodes}
    layers = list(model.layers)
    if _is_sequential(model):
        layers = [n.layer for n in nodes]
    for layer in layers:
        if expand_nested and is_graph_model(layer):
            dot.add_subgraph(model_to_dot(
                layer, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
                subgraph=True, show_layer_activations=show_layer_activations,
                show_trainable=show_trainable))
        else:
            dot.add_node(_make_node(layer, node_of.get(id(layer)), label_kwargs))
    if _is_sequential(model):
        for prev, nxt in zip(layers, layers[1:]):
            _add_edge(dot, _resolve_source(prev, 0) if expand_nested else prev,
                      _resolve_destination(nxt, 0) if expand_nested else nxt)
        return dot
    for node in nodes:
        for input_index, tensor in enumerate(node.input_tensors):
            source, _, output_index = tensor._keras_history
            destination = node.layer
            if expand_nested:
                source = _resolve_source(source, output_index)
                destination = _resolve_destination(destination, input_index)
            _add_edge(dot, source, destination)
    return dot


def _resolve_source(layer, output_index: int):
    """The innermost layer that produces output ``output_index`` of a (nested) model."""
    while is_graph_model(layer):
        layer, _, output_index = layer.outputs[output_index]._keras_history
    return layer


def _resolve_destination(layer, input_index: int):
    """The innermost box an edge into input ``input_index`` of a (nested) model points to: the
    functional model's InputLayer, or a Sequential model's first layer."""
    while is_graph_model(layer):
        if getattr(layer, "_is_functional", False):
            layer = layer.inputs[input_index]._keras_history[0]
        else:
            layer = model_nodes(layer)[0].layer
            input_index = 0
    return layer


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False,
               splines: str = "ortho", **kwargs):
    """Draw a model's layer graph to an image file (Keras's ``keras.utils.plot_model``).

    Args:
        model: a built model.
        to_file: the image file; its extension picks the format (``.png``, ``.svg``, ``.pdf``,
            ...; PNG when there is none).
        show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
        show_layer_activations, show_trainable, splines: as in ``model_to_dot``.

    Returns:
        An ``IPython.display.Image`` of the file when IPython is installed (not for PDF), else
        None.

    Raises:
        ImportError: pydot is not installed, or Graphviz's ``dot`` executable is not found.

    Example:

    >>> nnforge.utils.plot_model(model, "model.png", show_shapes=True)
    """
    if not model.built:
        raise ValueError(f"Model '{model.name}' has not yet been built. Build the model first by "
                         "calling `build()` or by calling the model on a batch of data.")
    for ok, message in ((check_pydot, PYDOT_MISSING), (check_graphviz, GRAPHVIZ_MISSING)):
        if not ok():
            if "IPython.core.magics.namespace" in sys.modules:
                print_msg(message)  # as Keras: do not crash a notebook
                return None
            raise ImportError(message)
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("plot_model: argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"plot_model: unrecognized keyword arguments: {kwargs}")
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display
            return display.Image(filename=to_file)
        except ImportError:
            pass
    return None
