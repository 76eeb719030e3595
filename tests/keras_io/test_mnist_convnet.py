"""keras.io example "Simple MNIST convnet" (keras-io examples/vision/mnist_convnet.py, Keras 3
edition), with ``import keras`` changed to nnforge; trained on 2,048 digits for 3 epochs
instead of 60,000 for 15."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers


@pytest.mark.slow
def test_simple_mnist_convnet():
    keras.utils.set_random_seed(0)
    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    # Load the data and split it between train and test sets
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train, y_train = x_train[:2048], y_train[:2048]
    x_test, y_test = x_test[:512], y_test[:512]

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    assert x_train.shape == (2048, 28, 28, 1)

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    assert model.count_params() == 34826  # as the example's summary prints

    batch_size = 128
    epochs = 3

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    h = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                  validation_split=0.1, verbose=0).history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert h["loss"][-1] < h["loss"][0]

    score = model.evaluate(x_test, y_test, verbose=0)
    assert score[1] > 0.8  # test accuracy (0.1 is chance)
