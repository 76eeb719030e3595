"""int8 quantization of layers (Keras 3's ``quantize("int8")``): weights and scales bit for
bit as Keras's, outputs against Keras's (tests/golden/int8py.npz, made by
tests/golden/make_int8py_golden.py), .keras files both ways, gradients, conv variants,
static calibration and the errors."""
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops
from tests.helpers import PEERS, run_keras3

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = np.load(ROOT / "tests/golden/int8py.npz")


def golden_dense_model():
    model = keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu"),
                              layers.Dense(4)], name="int8_dense_model")
    for i, layer in enumerate(model.layers):
        layer.set_weights([GOLDEN[f"dense{i}_kernel"], GOLDEN[f"dense{i}_bias"]])
    return model


def w8a8_reference(x, kq, ks, b, relu):
    """Keras's int8 Dense: per-row abs-max inputs (scale 127 / (max|x| + 1e-7))."""
    xs = np.float32(127) / (np.abs(x).max(axis=1, keepdims=True) + np.float32(1e-7))
    xq = np.clip(np.round(x * xs), -127, 127)
    y = (xq @ kq.astype(np.float64)) / (xs * ks) + b
    return np.maximum(y, 0) if relu else y


def test_dense_quantize_matches_keras_weights_and_outputs():
    model = golden_dense_model()
    np.testing.assert_allclose(model.predict(GOLDEN["dense_x"], verbose=0),
                               GOLDEN["dense_float_y"], rtol=1e-5, atol=1e-5)
    model.quantize("int8")
    for i, layer in enumerate(model.layers):
        assert layer.quantization_mode == "int8"
        assert layer.kernel.dtype == "int8" and not layer.kernel.trainable
        np.testing.assert_array_equal(layer.kernel.numpy(), GOLDEN[f"dense{i}_kernel_q"])
        np.testing.assert_array_equal(layer.kernel_scale.numpy(), GOLDEN[f"dense{i}_kernel_scale"])
        assert [w.name for w in layer.weights] == ["bias", "kernel", "kernel_scale"]
        assert [w.name for w in layer.trainable_weights] == ["bias"]
    y = model.predict(GOLDEN["dense_x"], verbose=0)
    # Keras adds 1e-7 to the row max, our kernel does not: equal up to float32 rounding
    np.testing.assert_allclose(y, GOLDEN["dense_int8_y"], rtol=1e-5, atol=1e-5)
    # and it is W8A8: its error against float is what quantization costs, no less
    assert 0 < np.abs(y - GOLDEN["dense_float_y"]).max() < 0.05 * np.abs(
        GOLDEN["dense_float_y"]).max()


def test_dense_int8_output_is_w8a8_of_the_int8_weights():
    rng = np.random.default_rng(0)
    layer = layers.Dense(7, activation="relu")
    x = rng.normal(size=(5, 3, 11)).astype("float32")
    layer(x)
    layer.quantize("int8")
    y = layer(x).numpy()
    assert y.shape == (5, 3, 7)
    ref = w8a8_reference(x.reshape(-1, 11), layer.kernel.numpy(), layer.kernel_scale.numpy(),
                         layer.bias.numpy(), True).reshape(5, 3, 7)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_keras_written_quantized_dense_file_loads_and_predicts():
    model = keras.models.load_model(ROOT / "tests/golden/int8py_dense.keras")
    for i, layer in enumerate(model.layers):
        assert layer.quantization_mode == "int8"
        np.testing.assert_array_equal(layer.kernel.numpy(), GOLDEN[f"dense{i}_kernel_q"])
        np.testing.assert_array_equal(layer.kernel_scale.numpy(), GOLDEN[f"dense{i}_kernel_scale"])
        np.testing.assert_array_equal(layer.bias.numpy(), GOLDEN[f"dense{i}_bias"])
    np.testing.assert_allclose(model.predict(GOLDEN["dense_x"], verbose=0),
                               GOLDEN["dense_int8_y"], rtol=1e-5, atol=1e-5)


def test_quantized_file_has_keras_layout(tmp_path):
    model = golden_dense_model()
    model.quantize("int8")
    model.save(tmp_path / "q.keras")
    with zipfile.ZipFile(tmp_path / "q.keras") as zf:
        cfg = json.loads(zf.read("config.json"))
    with zipfile.ZipFile(ROOT / "tests/golden/int8py_dense.keras") as zf:
        kcfg = json.loads(zf.read("config.json"))
    ours = [l["config"] for l in cfg["config"]["layers"] if l["class_name"] == "Dense"]
    theirs = [l["config"] for l in kcfg["config"]["layers"] if l["class_name"] == "Dense"]
    for a, b in zip(ours, theirs):
        assert a["dtype"] == b["dtype"]
        # Keras marks its (shared) activation quantizer with a shared_object_id
        b["quantization_config"]["config"]["activation_quantizer"].pop("shared_object_id", None)
        b["quantization_config"].pop("shared_object_id", None)
        assert a["quantization_config"] == b["quantization_config"]


@pytest.mark.skipif(not PEERS.exists(), reason="needs Keras 3 in the peers venv")
def test_nnforge_written_quantized_models_load_in_keras(tmp_path):
    """A quantized Dense model and an Embedding model saved by nnforge load in Keras 3 (one
    subprocess in the peers venv) as int8 layers and predict what nnforge predicts."""
    keras.utils.set_random_seed(0)
    cases = {"dense": (golden_dense_model(), GOLDEN["dense_x"]),
             "embedding": (keras.Sequential([keras.Input((5,), dtype="int32"),
                                             layers.Embedding(20, 4), layers.Flatten(),
                                             layers.Dense(3)]),
                           np.random.default_rng(9).integers(0, 20, (6, 5)).astype("int32"))}
    ours = {}
    for kind, (model, x) in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.quantize("int8")
        model.save(tmp_path / f"{kind}.keras")
        np.save(tmp_path / f"{kind}_x.npy", x)
        ours[kind] = model.predict(x, verbose=0)
    script = (
        "import keras, numpy as np, sys\n"
        f"d = {str(tmp_path)!r}\n"
        "for kind in ('dense', 'embedding'):\n"
        "    m = keras.models.load_model(f'{d}/{kind}.keras')\n"
        "    names = [l.dtype_policy.name for l in m.layers]\n"
        "    assert names.count('int8_from_float32') == 2, names\n"
        "    np.save(f'{d}/{kind}_y.npy', m.predict(np.load(f'{d}/{kind}_x.npy'), verbose=0))\n")
    run_keras3(script, timeout=300)
    for kind in cases:
        np.testing.assert_allclose(np.load(tmp_path / f"{kind}_y.npy"), ours[kind], rtol=1e-5,
                                   atol=1e-5)


def test_embedding_quantize_matches_keras():
    emb = layers.Embedding(10, 6)
    emb.build((None,))
    emb.set_weights([GOLDEN["emb_table"]])
    emb.quantize("int8")
    np.testing.assert_array_equal(emb.embeddings.numpy(), GOLDEN["emb_table_q"])
    np.testing.assert_array_equal(emb.embeddings_scale.numpy(), GOLDEN["emb_scale"])
    np.testing.assert_allclose(emb(GOLDEN["emb_ids"]).numpy(), GOLDEN["emb_y"], rtol=1e-6,
                               atol=1e-7)
    cfg = emb.get_config()
    assert cfg["dtype"]["class_name"] == "QuantizedDTypePolicy"
    # Keras writes its default config (an activation quantizer the lookup never uses)
    assert cfg["quantization_config"]["config"]["activation_quantizer"]["class_name"] == \
        "AbsMaxQuantizer"


def test_round_trip_is_bitwise_and_file_is_small(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    x = np.random.default_rng(1).random((32, 28, 28)).astype("float32")
    model.save(tmp_path / "f.keras")
    with pytest.warns(UserWarning, match="Flatten"):  # as Keras: nothing to quantize there
        model.quantize("int8")
    y = model.predict(x, verbose=0)
    model.save(tmp_path / "q.keras")
    ratio = os.path.getsize(tmp_path / "q.keras") / os.path.getsize(tmp_path / "f.keras")
    assert ratio <= 0.3, ratio
    loaded = keras.models.load_model(tmp_path / "q.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), y)
    # weights assigned after the first call (load_weights) repack the kernel
    other = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    with pytest.warns(UserWarning, match="Flatten"):
        other.quantize("int8")
    other.predict(x, verbose=0)
    other.load_weights(tmp_path / "q.keras")
    np.testing.assert_array_equal(other.predict(x, verbose=0), y)


def test_gradients_reach_inputs_and_bias_through_the_dequantized_kernel():
    rng = np.random.default_rng(2)
    layer = layers.Dense(5, activation="tanh")
    x = rng.normal(size=(4, 6)).astype("float32")
    layer(x)
    layer.quantize("int8")
    xt = ops.convert_to_tensor(x)
    g_out = rng.normal(size=(4, 5)).astype("float32")
    with keras.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt)
        loss = ops.sum(y * g_out)
    gx, gb = tape.gradient(loss, [xt, layer.bias])
    dz = g_out * (1 - y.numpy() ** 2)
    w = layer.kernel.numpy().astype(np.float32) / layer.kernel_scale.numpy()
    np.testing.assert_allclose(gx.numpy(), dz @ w.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gb.numpy(), dz.sum(0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.Conv2D(6, 3, padding="same", activation="relu"), (2, 9, 9, 4)),
    (lambda: layers.Conv2D(5, (2, 3), strides=2, dilation_rate=1), (2, 8, 9, 3)),
    (lambda: layers.Conv1D(4, 3, padding="causal", activation="relu"), (3, 10, 5)),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (2, 7, 7, 3)),
])
def test_conv_variants_quantize_close_to_float_and_round_trip(make, shape, tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=shape).astype("float32")
    model = keras.Sequential([keras.Input(shape[1:]), make()])
    y_float = model.predict(x, verbose=0)
    model.quantize("int8")
    layer = model.layers[0]
    out_channels = layer.kernel.shape[-1] if not isinstance(
        layer, layers.DepthwiseConv2D) else layer.kernel.shape[-2:]
    assert layer.kernel.dtype == "int8"
    assert tuple(layer.kernel_scale.shape) == tuple(np.atleast_1d(out_channels))
    # the int8 kernel is Keras's abs-max of each output channel
    red = tuple(range(layer.kernel.ndim - (2 if isinstance(layer, layers.DepthwiseConv2D)
                                            else 1)))
    assert (np.abs(layer.kernel.numpy()).max(axis=red) == 127).all()
    y = model.predict(x, verbose=0)
    err = np.abs(y - y_float).max()
    assert 0 < err < 0.03 * np.abs(y_float).max(), err
    model.save(tmp_path / "c.keras")
    loaded = keras.models.load_model(tmp_path / "c.keras")
    assert loaded.layers[0].quantization_mode == "int8"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), y)


def test_conv_gradient_to_inputs():
    rng = np.random.default_rng(4)
    layer = layers.Conv2D(3, 3, padding="same")
    x = rng.normal(size=(1, 5, 5, 2)).astype("float32")
    layer(x)
    kernel = layer.kernel.numpy()
    layer.quantize("int8")
    w = layer.kernel.numpy().astype(np.float32) / layer.kernel_scale.numpy()
    xt = ops.convert_to_tensor(x)
    with keras.GradientTape() as tape:
        tape.watch(xt)
        loss = ops.sum(layer(xt))
    gx = tape.gradient(loss, xt).numpy()
    float_layer = layers.Conv2D(3, 3, padding="same")
    float_layer(x)
    float_layer.set_weights([w, layer.bias.numpy()])
    xt2 = ops.convert_to_tensor(x)
    with keras.GradientTape() as tape:
        tape.watch(xt2)
        loss = ops.sum(float_layer(xt2))
    np.testing.assert_allclose(gx, tape.gradient(loss, xt2).numpy(), rtol=1e-5, atol=1e-5)
    assert not np.allclose(w, kernel, atol=0)  # really the dequantized kernel


def test_static_calibration_sets_per_tensor_scales_and_round_trips(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(64, 12)).astype("float32")
    model = keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                              layers.Dense(3)])
    h = np.maximum(x @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy(), 0)
    y_float = model.predict(x, verbose=0)
    model.quantize("int8", calibration_data=x)
    first, second = model.layers
    assert first.int8_inputs_scale == pytest.approx(127 / np.abs(x).max(), rel=1e-6)
    assert second.int8_inputs_scale == pytest.approx(127 / h.max(), rel=1e-5)
    y = model.predict(x, verbose=0)
    assert np.abs(y - y_float).max() < 0.05 * np.abs(y_float).max()
    model.save(tmp_path / "s.keras")
    loaded = keras.models.load_model(tmp_path / "s.keras")
    assert loaded.layers[1].int8_inputs_scale == second.int8_inputs_scale
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), y)


def test_weight_only_config_and_filters():
    model = keras.Sequential([keras.Input((6,)), layers.Dense(5, name="keep"),
                              layers.Dense(2, name="quant")])
    x = np.random.default_rng(6).normal(size=(3, 6)).astype("float32")
    model.quantize("int8", filters="quant")
    assert model.layers[0].quantization_mode is None
    assert model.layers[1].quantization_mode == "int8"
    layer = layers.Dense(4)
    layer(x)
    cfg = {"module": "keras.quantizers", "class_name": "Int8QuantizationConfig",
           "config": {"weight_quantizer": None, "activation_quantizer": None},
           "registered_name": None}
    layer.quantize("int8", config=cfg)
    w = layer.kernel.numpy() / layer.kernel_scale.numpy()
    np.testing.assert_allclose(layer(x).numpy(), x @ w + layer.bias.numpy(), rtol=1e-5,
                               atol=1e-6)
    clone = layers.Dense.from_config(layer.get_config())
    assert clone.quantization_mode == "int8" and not clone.int8_activations


def test_errors_name_the_layer():
    layer = layers.Dense(3, name="d")
    with pytest.raises(ValueError, match="isn't yet built.*'d'"):
        layer.quantize("int8")
    layer.build((None, 4))
    with pytest.raises(ValueError, match="Invalid quantization mode"):
        layer.quantize("int3")
    with pytest.raises(NotImplementedError, match="only 'int8'"):
        layer.quantize("float8")
    layer.quantize("int8")
    with pytest.raises(ValueError, match="already quantized.*int8_from_float32"):
        layer.quantize("int8")

    class MyDense(layers.Dense):
        pass
    sub = MyDense(2)
    sub.build((None, 3))
    with pytest.raises(NotImplementedError, match="type_check=False"):
        sub.quantize("int8")
    sub.quantize("int8", type_check=False)
    t = layers.Conv2DTranspose(2, 3)
    t.build((None, 5, 5, 1))
    with pytest.raises(NotImplementedError):
        t.quantize("int8")
    model = keras.Sequential([keras.Input((4, 4)), layers.Flatten(), layers.Dense(2)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.quantize("int8")
    assert any("Flatten" in str(w.message) for w in caught)
    with pytest.raises(ValueError, match="not supported by nnforge"):
        layers.Dense.from_config(dict(layers.Dense(2).get_config(), quantization_config={
            "class_name": "Int4QuantizationConfig", "config": {}}))


def test_emulated_int8_path_matches_the_int8_kernels():
    """The array-op path a backend without int8 kernels (the GPU) runs gives the kernels'
    results on the CPU backend."""
    from nnforge.backend import cpu
    from nnforge.ops import quantized as qops
    rng = np.random.default_rng(7)
    x = rng.normal(size=(9, 40)).astype("float32")
    w = rng.normal(size=(40, 6)).astype("float32")
    kq, ks = qops.abs_max_quantize(w, axis=0)
    ks = ks.reshape(-1)
    b = rng.normal(size=6).astype("float32")
    packed = cpu.int8_pack_weights(kq)
    wf = kq.astype("float32")
    for act, xs in (("relu", None), ("tanh", None), ("linear", 20.0)):
        np.testing.assert_allclose(
            qops.emulated_int8_dense(cpu, x, wf, ks, b, act, xs),
            cpu.int8_dense(x, packed, ks, b, act, x_scale=xs), rtol=1e-5, atol=1e-5)
    xc = rng.normal(size=(2, 7, 6, 3)).astype("float32")
    wc = rng.normal(size=(3, 3, 3, 4)).astype("float32")
    cq, cs = qops.abs_max_quantize(wc, axis=(0, 1, 2))
    cs = cs.reshape(-1)
    cq2 = cq.reshape(-1, 4)
    got = qops.emulated_int8_conv2d(cpu, xc, cq2.astype("float32"), cs, None, (3, 3), (2, 1),
                                    (1, 1), (4, 6), (1, 1), "linear")
    want = cpu.int8_conv2d(xc, cpu.int8_pack_weights(cq2), cs, None, (3, 3), (2, 1), "same",
                           (1, 1), "linear")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_quantizers_module_objects_as_keras():
    from nnforge import quantizers
    q, s = quantizers.abs_max_quantize(GOLDEN["dense0_kernel"], axis=0, to_numpy=True)
    np.testing.assert_array_equal(q, GOLDEN["dense0_kernel_q"])
    np.testing.assert_array_equal(s.reshape(-1), GOLDEN["dense0_kernel_scale"])
    cfg = quantizers.Int8QuantizationConfig(
        weight_quantizer=quantizers.AbsMaxQuantizer(axis=0), activation_quantizer=None)
    assert cfg.mode == "int8"
    back = quantizers.deserialize(quantizers.serialize(cfg))
    assert isinstance(back, quantizers.Int8QuantizationConfig)
    assert back.activation_quantizer is None and back.weight_quantizer.axis == (0,)
    model = golden_dense_model()
    model.quantize(config=cfg)
    assert not model.layers[0].int8_activations
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), GOLDEN["dense0_kernel_q"])
    bad = golden_dense_model()
    with pytest.raises(ValueError, match="must reduce axes"):
        bad.layers[0].quantize(config=quantizers.Int8QuantizationConfig(
            weight_quantizer=quantizers.AbsMaxQuantizer(axis=-1)))
    with pytest.raises(ValueError, match="within the interval"):
        quantizers.AbsMaxQuantizer(value_range=(-200, 200))


def test_quantized_model_trains_its_biases_and_refuses_onnx_export(tmp_path):
    pytest.importorskip("onnx")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(8).normal(size=(32, 6)).astype("float32")
    y = np.arange(32) % 3
    model.quantize("int8")
    kernel = model.layers[0].kernel.numpy().copy()
    bias = model.layers[0].bias.numpy().copy()
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), kernel)
    assert (model.layers[0].bias.numpy() != bias).any()
    with pytest.raises(ValueError, match="int8-quantized"):
        model.export(tmp_path / "q.onnx", format="onnx")


def test_keras_written_quantized_embedding_model_loads_and_predicts():
    model = keras.models.load_model(ROOT / "tests/golden/int8py_embedding.keras")
    emb = model.layers[0]
    assert emb.quantization_mode == "int8"
    np.testing.assert_array_equal(emb.embeddings.numpy(), GOLDEN["emb_table_q"])
    np.testing.assert_array_equal(emb.embeddings_scale.numpy(), GOLDEN["emb_scale"])
    np.testing.assert_array_equal(model.layers[2].kernel.numpy(),
                                  GOLDEN["emb_model_dense_kernel_q"])
    np.testing.assert_allclose(model.predict(GOLDEN["emb_ids"], verbose=0),
                               GOLDEN["emb_model_y"], rtol=1e-5, atol=1e-5)


def test_functional_and_nested_models_quantize_with_calibration(tmp_path):
    keras.utils.set_random_seed(0)
    inner = keras.Sequential([keras.Input((8,)), layers.Dense(6, activation="relu")],
                             name="inner")
    ids = keras.Input((7,), dtype="int32")
    h = layers.Embedding(30, 8)(ids)
    h = layers.Conv1D(8, 3, activation="relu")(h)
    h = layers.GlobalAveragePooling1D()(h)
    out = layers.Dense(2)(inner(h))
    model = keras.Model(ids, out)
    x = np.random.default_rng(10).integers(0, 30, (16, 7)).astype("int32")
    y_float = model.predict(x, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.quantize("int8", calibration_data=x)
    quantized = [l for l in (model.layers + inner.layers) if l.quantization_mode == "int8"]
    assert sorted(type(l).__name__ for l in quantized) == ["Conv1D", "Dense", "Dense",
                                                           "Embedding"]
    assert all(getattr(l, "int8_inputs_scale", None) is not None
               for l in quantized if not isinstance(l, layers.Embedding))
    emb = next(l for l in quantized if isinstance(l, layers.Embedding))
    assert getattr(emb, "int8_inputs_scale", None) is None  # a lookup has no input scale
    y = model.predict(x, verbose=0)
    assert np.abs(y - y_float).max() < 0.05 * np.abs(y_float).max() + 1e-3
    model.save(tmp_path / "f.keras")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "f.keras").predict(
        x, verbose=0), y)
