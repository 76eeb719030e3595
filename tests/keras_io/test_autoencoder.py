"""keras.io example "Convolutional autoencoder for image denoising" (keras-io
examples/vision/autoencoder.py, Keras 3 edition), with ``import keras`` changed to nnforge;
trained on 512 digits for 2 + 1 epochs instead of 60,000 for 50 + 100."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from nnforge.models import Model


def preprocess(array):
    """Normalizes the supplied array and reshapes it."""
    array = array.astype("float32") / 255.0
    array = np.reshape(array, (len(array), 28, 28, 1))
    return array


def noise(array):
    """Adds random noise to each image in the supplied array."""
    noise_factor = 0.4
    noisy_array = array + noise_factor * np.random.normal(
        loc=0.0, scale=1.0, size=array.shape
    )
    return np.clip(noisy_array, 0.0, 1.0)


@pytest.mark.slow
def test_denoising_autoencoder():
    keras.utils.set_random_seed(0)
    # Since we only need images from the dataset to encode and decode, we
    # won't use the labels.
    (train_data, _), (test_data, _) = keras.datasets.mnist.load_data()
    train_data, test_data = train_data[:512], test_data[:128]

    # Normalize and reshape the data
    train_data = preprocess(train_data)
    test_data = preprocess(test_data)

    # Create a copy of the data with added noise
    noisy_train_data = noise(train_data)
    noisy_test_data = noise(test_data)

    input = layers.Input(shape=(28, 28, 1))

    # Encoder
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(input)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)

    # Decoder
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

    # Autoencoder
    autoencoder = Model(input, x)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    assert autoencoder.output_shape == (None, 28, 28, 1)
    assert autoencoder.count_params() == 28353  # as the example's summary prints

    h1 = autoencoder.fit(
        x=train_data,
        y=train_data,
        epochs=2,
        batch_size=128,
        shuffle=True,
        validation_data=(test_data, test_data),
        verbose=0,
    ).history
    assert h1["val_loss"][-1] < h1["val_loss"][0] < np.log(2)

    h2 = autoencoder.fit(
        x=noisy_train_data,
        y=train_data,
        epochs=1,
        batch_size=128,
        shuffle=True,
        validation_data=(noisy_test_data, test_data),
        verbose=0,
    ).history
    assert h2["val_loss"][-1] < h1["val_loss"][0]

    predictions = autoencoder.predict(noisy_test_data, verbose=0)
    assert predictions.shape == (128, 28, 28, 1)
    assert 0 <= predictions.min() and predictions.max() <= 1
