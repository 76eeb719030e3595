"""Raw ops in functional models (issue #17): saved and loaded in Keras 3's layout (the op's
Keras class and module, its constructor arguments in the config, its call arguments in the
node), against a .keras file written by Keras 3 (tests/golden/make_opser_golden.py) and, with
the peers venv, read back by Keras 3."""
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import ops
from tests.helpers import PEERS, run_keras3

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
sys.path.insert(0, str(GOLDEN))
import opser_cases  # noqa: E402


@pytest.fixture(scope="module")
def golden():
    return dict(np.load(GOLDEN / "opser.npz"))


def _inputs(g):
    return {"a": g["a"], "s": g["s"]}


# (Keras's file, the builder, the inputs from the golden, the output key prefix)
CASES = {"main": ("opser_keras.keras", opser_cases.build, _inputs, "out_"),
         "more": ("opser_more_keras.keras", opser_cases.build_more, lambda g: g["x_more"],
                  "more_")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_keras_written_file_loads_and_matches_keras_outputs(golden, case):
    fname, _, inputs, prefix = CASES[case]
    model = keras.models.load_model(GOLDEN / fname)
    out = model.predict(inputs(golden), verbose=0)
    names = sorted(k[len(prefix):] for k in golden if k.startswith(prefix))
    assert sorted(out) == names
    for name in names:
        want = golden[f"{prefix}{name}"]
        got = np.asarray(out[name])
        if name != "onehot":  # argmax: int64 in nnforge's eager op, int32 in Keras
            assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        np.testing.assert_allclose(got.astype("float64"), want.astype("float64"),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


def _op_entries(config):
    """(class_name, module, config without name, non-tensor node arguments) of each op node."""
    def plain(v):
        if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
            return ("tensor", tuple(v["config"]["shape"]), v["config"]["dtype"])
        if isinstance(v, dict):
            return tuple(sorted((k, plain(x)) for k, x in v.items()))
        if isinstance(v, (list, tuple)):
            return tuple(plain(x) for x in v)
        return v
    out = []
    for e in config["layers"]:
        if e["module"].startswith("keras.src.ops."):
            cfg = {k: v for k, v in e["config"].items() if k != "name"}
            nodes = e["inbound_nodes"]
            if e["class_name"] == "Pad":  # Keras writes its default None, nnforge the 0 it means
                nodes = [dict(n, kwargs={**n["kwargs"], "constant_values": n["kwargs"].get(
                    "constant_values") or 0}) for n in nodes]
            out.append((e["class_name"], e["module"], plain(cfg), plain(nodes)))
    return sorted(out, key=repr)


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_has_keras_layout_for_each_op(case):
    fname, build, _, _ = CASES[case]
    with zipfile.ZipFile(GOLDEN / fname) as zf:
        keras_config = json.loads(zf.read("config.json"))["config"]
    ours = json.loads(json.dumps(build(keras).get_config()))
    theirs = _op_entries(keras_config)
    mine = _op_entries(ours)
    assert [e[0] for e in mine] == [e[0] for e in theirs]
    for m, t in zip(mine, theirs):
        assert m == t, f"{m[0]}: nnforge {m} != Keras {t}"


@pytest.fixture(params=sorted(CASES))
def saved_case(request, tmp_path, golden):
    """Each case's model as nnforge builds it, saved to a .keras file: ``(case, model, path,
    the case's inputs)``."""
    case = request.param
    _, build, inputs, _ = CASES[case]
    model = build(keras)
    path = tmp_path / "m.keras"
    model.save(path)
    return case, model, path, inputs(golden)


def test_nnforge_round_trip_gives_the_same_outputs(saved_case):
    _, model, path, x = saved_case
    loaded = keras.models.load_model(path)
    a = model.predict(x, verbose=0)
    b = loaded.predict(x, verbose=0)
    assert sorted(a) == sorted(b)
    for name in a:
        np.testing.assert_array_equal(np.asarray(a[name]), np.asarray(b[name]), err_msg=name)


@pytest.mark.parametrize("name,kwargs", [("MobileNetV3Small", {"input_shape": (32, 32, 3)}),
                                         ("ConvNeXtTiny", {"input_shape": (32, 32, 3)})])
def test_applications_with_raw_ops_save_and_load(tmp_path, name, kwargs):
    model = getattr(keras.applications, name)(weights=None, **kwargs)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(0).random((1,) + kwargs["input_shape"]).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_einsum_operands_travel_as_node_args(tmp_path):
    a, b = keras.Input((3, 4)), keras.Input((4, 2))
    model = keras.Model([a, b], ops.einsum("bij,bjk->bik", a, b))
    entry = [e for e in model.get_config()["layers"] if e["class_name"] == "Einsum"][0]
    assert entry["module"] == "keras.src.ops.numpy"
    assert entry["config"] == {"name": entry["name"], "subscripts": "bij,bjk->bik"}
    assert len(entry["inbound_nodes"][0]["args"]) == 2
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(2, 3, 4)).astype("float32"), rng.normal(size=(2, 4, 2)).astype("float32")]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), np.einsum("bij,bjk->bik", *x),
                               rtol=1e-5, atol=1e-6)


def test_ops_without_a_keras_serialization_refuse_to_save_naming_the_op(tmp_path):
    a = keras.Input((3, 4))
    y = ops.rearrange(a, "b h w -> b w h")  # Keras's einops module: not mapped in nnforge
    model = keras.Model(a, y)
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="rearrange"):
        model.save(tmp_path / "m.keras")


def test_unknown_keras_op_class_raises_naming_it():
    config = {"module": "keras.src.ops.numpy", "class_name": "NoSuchOp",
              "config": {"name": "x"}}
    with pytest.raises(ValueError, match="NoSuchOp"):
        keras.saving.deserialize_keras_object(config)


@pytest.mark.skipif(not PEERS.exists(), reason="no peers venv with Keras 3 (/tmp/peers)")
def test_keras3_loads_the_nnforge_file_and_gives_the_same_outputs(tmp_path, saved_case):
    case, model, path, x = saved_case
    ours = model.predict(x, verbose=0)
    np.savez(tmp_path / "ours.npz", **{k: np.asarray(v) for k, v in ours.items()})
    script = (
        "import sys, numpy as np, keras\n"
        "g = np.load(sys.argv[2]); m = keras.models.load_model(sys.argv[1])\n"
        "x = {'a': g['a'], 's': g['s']} if sys.argv[4] == 'main' else g['x_more']\n"
        "out = m.predict(x, verbose=0)\n"
        "np.savez(sys.argv[3], **{k: np.asarray(v) for k, v in out.items()})\n")
    run_keras3(script, path, GOLDEN / "opser.npz", tmp_path / "theirs.npz", case, timeout=300)
    theirs = np.load(tmp_path / "theirs.npz")
    assert sorted(theirs.files) == sorted(ours)
    for name in ours:
        np.testing.assert_allclose(theirs[name].astype("float64"),
                                   np.asarray(ours[name]).astype("float64"), rtol=1e-5,
                                   atol=1e-5, err_msg=name)
