"""Keras 3's guide "The Sequential model" (keras-io guides/sequential_model.py), with
``import keras`` changed to nnforge; each section is a test asserting what the guide prints."""
import numpy as np

import nnforge as keras
from nnforge import layers, ops


def test_when_to_use_a_sequential_model():
    # Define Sequential model with 3 layers
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    # Call model on a test input
    x = ops.ones((3, 3))
    y = model(x)

    # is equivalent to this function:
    layer1, layer2, layer3 = model.layers
    y2 = layer3(layer2(layer1(x)))
    assert tuple(y.shape) == (3, 4)
    np.testing.assert_allclose(np.asarray(y), np.asarray(y2), rtol=1e-6)


def test_creating_a_sequential_model():
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )
    assert len(model.layers) == 3

    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))

    model.pop()
    assert len(model.layers) == 2

    model = keras.Sequential(name="my_sequential")
    model.add(layers.Dense(2, activation="relu", name="layer1"))
    model.add(layers.Dense(3, activation="relu", name="layer2"))
    model.add(layers.Dense(4, name="layer3"))
    assert model.name == "my_sequential"


def test_specifying_the_input_shape_in_advance():
    layer = layers.Dense(3)
    assert layer.weights == []  # Empty

    # Call layer on a test input
    x = ops.ones((1, 4))
    y = layer(x)
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]

    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )  # No weights at this stage!

    # Call the model on a test input
    x = ops.ones((1, 4))
    y = model(x)
    assert len(model.weights) == 6  # "Number of weights after calling the model: 6"

    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    lines = []
    model.summary(print_fn=lines.append)
    assert "10" in "\n".join(lines)  # Total params: 10
    assert len(model.layers) == 1  # the Input object is not a layer


def test_a_common_debugging_workflow():
    model = keras.Sequential()
    model.add(keras.Input(shape=(250, 250, 3)))  # 250x250 RGB images
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    # The answer was: (40, 40, 32), so we can keep downsampling...
    assert model.output_shape == (None, 40, 40, 32)

    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))
    # And now?
    assert model.output_shape == (None, 4, 4, 32)

    # Now that we have 4x4 feature maps, time to apply global max pooling.
    model.add(layers.GlobalMaxPooling2D())

    # Finally, we add a classification layer.
    model.add(layers.Dense(10))
    assert model.output_shape == (None, 10)
    assert tuple(model(np.zeros((1, 250, 250, 3), "float32")).shape) == (1, 10)


def test_feature_extraction_with_a_sequential_model():
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )

    # Call feature extractor on test input.
    x = ops.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    assert [tuple(f.shape) for f in features] == [(1, 123, 123, 32), (1, 121, 121, 32),
                                                 (1, 119, 119, 32)]

    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    # Call feature extractor on test input.
    x = ops.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    assert tuple(features.shape) == (1, 121, 121, 32)
    np.testing.assert_allclose(
        np.asarray(features),
        np.asarray(initial_model.layers[1](initial_model.layers[0](x))), rtol=1e-5)


def test_transfer_learning_with_a_sequential_model():
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(10),
        ]
    )

    # Freeze all layers except the last one.
    for layer in model.layers[:-1]:
        layer.trainable = False

    frozen = [w.numpy().copy() for w in model.layers[0].weights]
    last = model.layers[-1].kernel.numpy().copy()
    # Recompile and train (this will only update the weights of the last layer).
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    rng = np.random.default_rng(0)
    model.fit(rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64), epochs=1,
              verbose=0)
    assert len(model.trainable_weights) == 2
    for a, b in zip(frozen, model.layers[0].weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert not np.array_equal(last, model.layers[-1].kernel.numpy())
