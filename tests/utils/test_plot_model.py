"""utils.plot_model / model_to_dot: Keras's graph drawing on pydot and Graphviz."""
import struct

import pytest

pydot = pytest.importorskip("pydot")

import nnforge as keras  # noqa: E402
from nnforge import layers  # noqa: E402
from nnforge.utils import model_visualization  # noqa: E402
from tests.helpers import seed_cnn

needs_dot = pytest.mark.skipif(not model_visualization.check_graphviz(),
                               reason="Graphviz's dot executable is not installed")



def two_input_model():
    a = keras.Input((8,), name="image_features")
    b = keras.Input((4,), name="meta")
    h = layers.Dense(16, activation="relu", name="encode")(a)
    merged = layers.Concatenate(name="merge")([h, b])
    out = layers.Dense(1, activation="sigmoid", name="score")(merged)
    return keras.Model([a, b], out, name="two_inputs")


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def edges(dot):
    """All edges, those inside nested clusters included."""
    out = [(e.get_source(), e.get_destination()) for e in dot.get_edges()]
    for sub in dot.get_subgraphs():
        out += edges(sub)
    return sorted(out)


def test_model_to_dot_sequential_nodes_and_edges():
    model = seed_cnn()
    dot = model_to_dot = keras.utils.model_to_dot(model, show_shapes=True)
    ids = [str(id(l)) for l in model.layers]
    assert sorted(n.get_name() for n in dot.get_nodes() if n.get_name() not in
                  ("node", "graph", "edge")) == sorted(ids)
    assert edges(model_to_dot) == sorted(zip(ids, ids[1:]))
    label = dot.get_node(ids[0])[0].get("label")
    assert "Input shape: <b>(None, 32, 32, 3)</b>" in label
    assert "Output shape: <b>(None, 30, 30, 32)</b>" in label
    assert dot.get("rankdir") == "TB" and dot.get("dpi") == 200


def test_model_to_dot_functional_nodes_and_edges():
    model = two_input_model()
    dot = keras.utils.model_to_dot(model, show_dtype=True, show_layer_activations=True,
                                   show_trainable=True, rankdir="LR")
    by_name = {l.name: str(id(l)) for l in model.layers}
    names = {n.get_name() for n in dot.get_nodes()} - {"node", "graph", "edge"}
    assert names == set(by_name.values())
    expected = [("image_features", "encode"), ("encode", "merge"), ("meta", "merge"),
                ("merge", "score")]
    assert edges(dot) == sorted((by_name[a], by_name[b]) for a, b in expected)
    label = dot.get_node(by_name["score"])[0].get("label")
    assert "Activation: <b>sigmoid</b>" in label and "Output dtype: <b>float32</b>" in label
    assert "<b>Trainable</b>" in label
    assert "<b>score</b> (Dense)" in label


def test_model_to_dot_expand_nested():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="in1"),
                              layers.Dense(2, name="in2")], name="inner")
    x = keras.Input((4,), name="x")
    model = keras.Model(x, layers.Dense(1, name="head")(inner(x)))
    flat = keras.utils.model_to_dot(model)
    ids = {l.name: str(id(l)) for l in [*model.layers, *inner.layers]}
    assert edges(flat) == sorted([(ids["x"], ids["inner"]), (ids["inner"], ids["head"])])
    nested = keras.utils.model_to_dot(model, expand_nested=True)
    assert edges(nested) == sorted([(ids["x"], ids["in1"]), (ids["in1"], ids["in2"]),
                                    (ids["in2"], ids["head"])])
    assert [s.get_name() for s in nested.get_subgraphs()] == ["cluster_inner"]


@needs_dot
def test_plot_model_writes_png_for_seed_cnn(tmp_path):
    path = tmp_path / "m.png"
    keras.utils.plot_model(seed_cnn(), str(path), show_shapes=True)
    w, h = png_size(path)
    assert w > 0 and h > 0 and path.stat().st_size > 1000


@needs_dot
def test_plot_model_writes_png_for_two_input_model(tmp_path):
    path = tmp_path / "m.png"
    keras.utils.plot_model(two_input_model(), path, show_shapes=True, show_layer_names=True,
                           dpi=96)
    w, h = png_size(path)
    assert w > 0 and h > 0
    svg = tmp_path / "m.svg"
    keras.utils.plot_model(two_input_model(), svg)
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_missing_pieces_are_named(monkeypatch, tmp_path):
    model = seed_cnn()
    monkeypatch.setattr(model_visualization, "_load_pydot", lambda: None)
    with pytest.raises(ImportError, match="pip install pydot"):
        keras.utils.model_to_dot(model)
    with pytest.raises(ImportError, match="pip install pydot"):
        keras.utils.plot_model(model, str(tmp_path / "m.png"))
    monkeypatch.undo()
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on PATH
    with pytest.raises(ImportError, match="`dot` executable was not found"):
        keras.utils.plot_model(model, str(tmp_path / "m.png"))


def test_unbuilt_model_is_an_error():
    with pytest.raises(ValueError, match="not yet been built"):
        keras.utils.plot_model(keras.Sequential([layers.Dense(2)]))
