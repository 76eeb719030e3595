"""Keras 3's guide "Understanding masking & padding" (keras-io guides/
understanding_masking_and_padding.py), with ``import keras`` changed to nnforge; each section
of the guide is a test, with assertions on the masks it prints."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops

raw_inputs = [
    [711, 632, 71],
    [73, 8, 3215, 55, 927],
    [83, 91, 1, 645, 1253, 927],
]
padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")


def _masking_layer_output():
    masking_layer = layers.Masking()
    unmasked_embedding = ops.cast(
        ops.tile(ops.expand_dims(padded_inputs, axis=-1), [1, 1, 10]),
        dtype="float32",
    )
    return masking_layer(unmasked_embedding)


def test_padding_and_mask_generating_layers():
    assert padded_inputs.shape == (3, 6)
    np.testing.assert_array_equal(padded_inputs[0], [711, 632, 71, 0, 0, 0])

    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked_output = embedding(padded_inputs)
    np.testing.assert_array_equal(np.asarray(masked_output._keras_mask), padded_inputs != 0)

    masked_embedding = _masking_layer_output()
    np.testing.assert_array_equal(np.asarray(masked_embedding._keras_mask), padded_inputs != 0)


def test_mask_propagation_in_sequential_and_functional_models():
    model = keras.Sequential(
        [
            layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True),
            layers.LSTM(32),
        ]
    )
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    outputs = layers.LSTM(32)(x)
    functional = keras.Model(inputs, outputs)
    # the LSTM skips padding: appending padding to a sequence leaves its output unchanged
    short = np.array([[5, 7, 9]])
    padded = np.array([[5, 7, 9, 0, 0, 0]])
    for m in (model, functional):
        np.testing.assert_allclose(np.asarray(m(short)), np.asarray(m(padded)), atol=1e-6)


def test_passing_mask_tensors_directly_to_layers():
    class MyLayer(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
            self.lstm = layers.LSTM(32)

        def call(self, inputs):
            x = self.embedding(inputs)
            # Note that you could also prepare a `mask` tensor manually.
            # It only needs to be a boolean tensor
            # with the right shape, i.e. (batch_size, timesteps).
            mask = self.embedding.compute_mask(inputs)
            output = self.lstm(x, mask=mask)  # The layer will ignore the masked values
            return output

    layer = MyLayer()
    x = np.random.random((32, 10)) * 100
    x = x.astype("int32")
    out = layer(x)
    assert tuple(out.shape) == (32, 32)
    x[:, 6:] = 0  # trailing padding changes nothing
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(layer(x[:, :6])), atol=1e-6)


def test_supporting_masking_in_custom_layers():
    class TemporalSplit(keras.layers.Layer):
        """Split the input tensor into 2 tensors along the time dimension."""

        def call(self, inputs):
            # Expect the input to be 3D and mask to be 2D, split the input tensor into 2
            # subtensors along the time axis (axis 1).
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            # Also split the mask into 2 if it presents.
            if mask is None:
                return None
            return ops.split(mask, 2, axis=1)

    first_half, second_half = TemporalSplit()(_masking_layer_output())
    np.testing.assert_array_equal(np.asarray(first_half._keras_mask), padded_inputs[:, :3] != 0)
    np.testing.assert_array_equal(np.asarray(second_half._keras_mask),
                                  padded_inputs[:, 3:] != 0)

    class CustomEmbedding(keras.layers.Layer):
        def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
            super().__init__(**kwargs)
            self.input_dim = input_dim
            self.output_dim = output_dim
            self.mask_zero = mask_zero

        def build(self, input_shape):
            self.embeddings = self.add_weight(
                shape=(self.input_dim, self.output_dim),
                initializer="random_normal",
                dtype="float32",
            )

        def call(self, inputs):
            inputs = ops.cast(inputs, "int32")
            return ops.take(self.embeddings, inputs)

        def compute_mask(self, inputs, mask=None):
            if not self.mask_zero:
                return None
            return ops.not_equal(inputs, 0)

    layer = CustomEmbedding(10, 32, mask_zero=True)
    x = np.random.random((3, 10)) * 9
    x = x.astype("int32")

    y = layer(x)
    mask = layer.compute_mask(x)
    # ops.take with axis=None indexes the flattened table (NumPy's and Keras's semantics), so
    # the guide's layer returns one scalar per id, as it does in Keras
    assert tuple(y.shape) == (3, 10)
    np.testing.assert_array_equal(np.asarray(y), layer.embeddings.numpy().reshape(-1)[x])
    np.testing.assert_array_equal(np.asarray(mask), x != 0)
    np.testing.assert_array_equal(np.asarray(y._keras_mask), x != 0)


def test_opting_in_to_mask_propagation():
    class MyActivation(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            # Signal that the layer is safe for mask propagation
            self.supports_masking = True

        def call(self, inputs):
            return ops.relu(inputs)

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    x = MyActivation()(x)  # Will pass the mask along
    assert x._keras_mask is not None  # "Mask found"
    outputs = layers.LSTM(32)(x)  # Will receive the mask

    model = keras.Model(inputs, outputs)
    data = np.random.randint(0, 5000, size=(32, 100))
    y = model(data)
    assert tuple(y.shape) == (32, 32)
    data[:, 50:] = 0
    np.testing.assert_allclose(np.asarray(model(data)), np.asarray(model(data[:, :50])),
                               atol=1e-5)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_writing_layers_that_need_mask_information():
    seen = []

    class TemporalSoftmax(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None
            seen.append(mask)
            broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
            inputs_exp = ops.exp(inputs) * broadcast_float_mask
            inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
            return inputs_exp / inputs_sum

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)

    model = keras.Model(inputs, outputs)
    data = np.random.randint(0, 10, size=(32, 100))
    y = np.asarray(model(data))
    assert y.shape == (32, 100, 1)
    np.testing.assert_array_equal(np.asarray(seen[-1]), data != 0)  # the real mask arrived
    # masked steps give 0/0 (nan) as in Keras; kept steps are exp(x)/exp(x) = 1
    np.testing.assert_allclose(y[data != 0], 1.0, rtol=1e-6)
