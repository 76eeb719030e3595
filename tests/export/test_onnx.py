"""model.export(path, format="onnx"): onnxruntime's outputs equal nnforge's predictions."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import nnforge as keras  # noqa: E402
from nnforge import layers  # noqa: E402
from nnforge.export import UnsupportedLayerError  # noqa: E402


def rng(seed=0):
    return np.random.default_rng(seed)


def export_and_run(model, inputs, tmp_path, **kwargs):
    """Export, check with full_check, run in onnxruntime; returns (onnx outputs, proto)."""
    path = tmp_path / "m.onnx"
    model.export(str(path), format="onnx", verbose=False, **kwargs)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = inputs if isinstance(inputs, list) else [inputs]
    feed = {i.name: x for i, x in zip(session.get_inputs(), inputs)}
    return session.run(None, feed), proto


def assert_matches(model, inputs, tmp_path, atol=1e-5):
    outs, proto = export_and_run(model, inputs, tmp_path)
    expected = model.predict(inputs, verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    assert len(outs) == len(expected)
    for got, want in zip(outs, expected):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=atol, rtol=0)
    return proto


def fit_briefly(model, x, y, loss="sparse_categorical_crossentropy"):
    """A few training steps so weights (and BatchNorm's moving statistics) are not the
    initial ones."""
    model.compile(optimizer="adam", loss=loss)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)


def test_seed_mlp(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    x = rng().random((100, 28, 28)).astype("float32")
    fit_briefly(model, x, rng(1).integers(0, 10, 100))
    proto = assert_matches(model, x, tmp_path)
    assert [n.op_type for n in proto.graph.node] == [
        "Flatten", "MatMul", "Add", "Relu", "MatMul", "Add", "Softmax", "Identity"]
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [28, 28]


def test_seed_cnn(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((32, 32, 3)), layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    x = rng().random((100, 32, 32, 3)).astype("float32")
    fit_briefly(model, x, rng(1).integers(0, 10, 100))
    proto = assert_matches(model, x, tmp_path)
    # Channels-first inside: one Transpose in, one before Flatten (NHWC flatten order).
    assert [n.op_type for n in proto.graph.node].count("Transpose") == 2


def test_batchnorm_cnn(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((16, 16, 3)),
        layers.Conv2D(8, 3, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.ReLU(), layers.MaxPooling2D(2, padding="same"),
        layers.Conv2D(16, 3, strides=2, padding="same", activation="elu"),
        layers.BatchNormalization(center=False), layers.Activation("swish"),
        layers.AveragePooling2D(2), layers.Dropout(0.5), layers.GlobalAveragePooling2D(),
        layers.Dense(32), layers.BatchNormalization(), layers.LeakyReLU(0.1),
        layers.Dense(5, activation="softmax")])
    x = rng().normal(size=(100, 16, 16, 3)).astype("float32")
    fit_briefly(model, x, rng(1).integers(0, 5, 100))
    r = rng(3)
    for bn in (l for l in model.layers if isinstance(l, layers.BatchNormalization)):
        # Statistics far from the initial ones, so the test sees them exported.
        bn.moving_mean.assign(r.normal(size=bn.moving_mean.shape).astype("float32"))
        bn.moving_variance.assign(r.uniform(0.5, 2.0, bn.moving_variance.shape)
                                  .astype("float32"))
        if bn.gamma is not None:
            bn.gamma.assign(r.uniform(0.5, 1.5, bn.gamma.shape).astype("float32"))
    proto = assert_matches(model, x, tmp_path)
    assert [n.op_type for n in proto.graph.node].count("BatchNormalization") == 3


def test_lstm_text_model(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((20,), dtype="int32"), layers.Embedding(50, 16),
        layers.LSTM(24, return_sequences=True), layers.LSTM(12, go_backwards=True),
        layers.Dense(1, activation="sigmoid")])
    x = rng().integers(0, 50, (100, 20)).astype("int32")
    fit_briefly(model, x, rng(1).integers(0, 2, 100).astype("float32"), "binary_crossentropy")
    proto = assert_matches(model, x, tmp_path, atol=1e-4)
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 2


def test_gru_and_simple_rnn_models(tmp_path):
    keras.utils.set_random_seed(0)
    x_in = keras.Input((15,), dtype="int32")
    e = layers.Embedding(40, 8)(x_in)
    seq = layers.GRU(16, return_sequences=True, go_backwards=True)(e)
    last, state = layers.GRU(10, return_state=True)(seq)
    rnn = layers.SimpleRNN(6, activation="relu", return_sequences=True)(e)
    pooled = layers.GlobalAveragePooling1D()(rnn)
    out = layers.Dense(3, activation="softmax")(layers.Concatenate()([last, state, pooled]))
    model = keras.Model(x_in, out)
    x = rng().integers(0, 40, (100, 15)).astype("int32")
    fit_briefly(model, x, rng(1).integers(0, 3, 100))
    proto = assert_matches(model, x, tmp_path, atol=1e-4)
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("GRU") == 2 and ops.count("RNN") == 1


def test_bidirectional_models(tmp_path):
    keras.utils.set_random_seed(0)
    x_in = keras.Input((10, 5))
    seq = layers.Bidirectional(layers.LSTM(6, return_sequences=True))(x_in)
    summed = layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode="sum")(seq)
    last = layers.Bidirectional(layers.LSTM(3), merge_mode="ave")(summed)
    model = keras.Model(x_in, layers.Dense(2)(last))
    x = rng().normal(size=(100, 10, 5)).astype("float32")
    proto = assert_matches(model, x, tmp_path, atol=1e-4)
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 4


def test_depthwise_and_separable_convolutions(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((12, 12, 3)), layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        layers.SeparableConv2D(5, 3, strides=2, activation="relu", depth_multiplier=3),
        layers.DepthwiseConv2D((2, 3), use_bias=False, activation="tanh"), layers.Flatten(),
        layers.Dense(3)])
    x = rng().normal(size=(100, 12, 12, 3)).astype("float32")
    assert_matches(model, x, tmp_path)


def test_time_distributed(tmp_path):
    keras.utils.set_random_seed(0)
    x_in = keras.Input((None, 6, 6, 2))  # variable number of steps
    frames = layers.TimeDistributed(layers.Conv2D(3, 3, activation="relu"))(x_in)
    flat = layers.TimeDistributed(layers.Flatten())(frames)
    seq = layers.TimeDistributed(layers.Dense(4))(flat)
    model = keras.Model(x_in, layers.GRU(5)(seq))
    x = rng().normal(size=(100, 7, 6, 6, 2)).astype("float32")
    assert_matches(model, x, tmp_path, atol=1e-4)


def test_lstm_return_state_and_float_token_input(tmp_path):
    keras.utils.set_random_seed(0)
    x_in = keras.Input((12,))  # float32 token ids: cast to int64 before Gather
    e = layers.Embedding(30, 6)(x_in)
    seq, h, c = layers.LSTM(7, return_sequences=True, return_state=True)(e)
    model = keras.Model(x_in, [seq, h, c])
    x = rng().integers(0, 30, (100, 12)).astype("float32")
    assert_matches(model, x, tmp_path, atol=1e-4)


def test_conv1d_and_pooling1d(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((40, 6)),
        layers.Conv1D(12, 5, padding="causal", dilation_rate=2, activation="tanh"),
        layers.MaxPooling1D(2), layers.Conv1D(8, 3, padding="same", strides=2),
        layers.AveragePooling1D(2, padding="same"), layers.Conv1D(8, 3, activation="gelu"),
        layers.GlobalMaxPooling1D(), layers.Dense(4, activation="selu")])
    x = rng().normal(size=(100, 40, 6)).astype("float32")
    assert_matches(model, x, tmp_path)


def test_functional_merges_reshape_and_nested_model(tmp_path):
    keras.utils.set_random_seed(0)
    a = keras.Input((8, 8, 2), name="image")
    b = keras.Input((10,), name="vector")
    c1 = layers.Conv2D(4, 3, padding="same")(a)
    c2 = layers.Conv2D(4, 1)(a)
    merged_cf = layers.Add()([c1, c2])  # both channels-first: merged without transposes
    both = layers.Concatenate()([merged_cf, layers.Maximum()([c1, c2])])
    flat = layers.Flatten()(layers.MaxPooling2D()(both))
    v = layers.Dense(32, activation="softplus")(b)
    v_img = layers.Reshape((4, 4, 2))(v)
    v_flat = layers.Flatten()(layers.Conv2D(3, 2, activation="sigmoid")(v_img))
    inner = keras.Sequential([keras.Input((10,)), layers.Dense(6, activation="softsign"),
                              layers.Dense(5, activation="hard_sigmoid")], name="inner")
    w = inner(b)
    d1 = layers.Dense(5, activation="relu6")(flat)
    d2 = layers.Dense(5, activation="exponential")(v_flat)
    merged = [layers.Subtract()([d1, d2]), layers.Multiply()([d1, d2, w]),
              layers.Average()([d1, w]), layers.Minimum()([d1, d2])]
    out = layers.Dense(3, activation="log_softmax")(layers.Concatenate()(merged))
    model = keras.Model([a, b], [out, layers.Softmax()(d2)])
    xs = [rng().normal(size=(100, 8, 8, 2)).astype("float32"),
          rng(1).normal(size=(100, 10)).astype("float32")]
    proto = assert_matches(model, xs, tmp_path)
    assert [i.name for i in proto.graph.input] == ["image", "vector"]


def test_activation_layers_and_reshaping_layers(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((6, 6, 3)), layers.Rescaling(0.5, offset=-0.25),
        layers.ZeroPadding2D(((1, 0), (2, 1))), layers.Conv2D(4, 3),
        layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
        layers.UpSampling2D(2), layers.Cropping2D(((1, 2), (0, 1))), layers.ELU(alpha=0.7),
        layers.PReLU(), layers.Permute((2, 1, 3)), layers.Reshape((-1, 4)),
        layers.Dense(5), layers.Softmax(axis=1)])
    x = rng().normal(size=(100, 6, 6, 3)).astype("float32")
    prelu = next(l for l in model.layers if isinstance(l, layers.PReLU))
    prelu.alpha.assign(rng(2).normal(size=prelu.alpha.shape).astype("float32"))  # not zeros
    assert_matches(model, x, tmp_path)


def test_repeat_vector_and_opset_18(tmp_path):
    model = keras.Sequential([keras.Input((4,)), layers.RepeatVector(3),
                              layers.GlobalAveragePooling1D(keepdims=True), layers.Flatten()])
    x = rng().normal(size=(100, 4)).astype("float32")
    outs, proto = export_and_run(model, x, tmp_path, opset_version=18)
    assert proto.opset_import[0].version == 18
    np.testing.assert_allclose(outs[0], model.predict(x, verbose=0), atol=1e-6)


def test_unsupported_layer_is_named(tmp_path):
    class Doubler(layers.Layer):
        def call(self, x):
            return x * 2

    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), Doubler(name="doubler")])
    with pytest.raises(UnsupportedLayerError, match=r"layer 'doubler' \(Doubler\)"):
        model.export(str(tmp_path / "m.onnx"), format="onnx")
    masked = keras.Sequential([keras.Input((5,), dtype="int32"),
                               layers.Embedding(10, 3, mask_zero=True, name="emb"),
                               layers.LSTM(2)])
    with pytest.raises(UnsupportedLayerError, match="'emb'.*mask_zero"):
        masked.export(str(tmp_path / "m.onnx"), format="onnx")


def test_other_formats_and_subclassed_models_are_errors(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="format='onnx'"):
        model.export(str(tmp_path / "m"))

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    sub = Sub()
    sub(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="subclassed"):
        sub.export(str(tmp_path / "m.onnx"), format="onnx")
