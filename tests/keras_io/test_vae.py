"""keras.io example "Variational AutoEncoder" (keras-io examples/generative/vae.py, Keras 3
edition), with ``import keras`` changed to nnforge and ``tf.GradientTape`` to nnforge's; trained
on 1,024 MNIST digits for 3 epochs instead of 70,000 for 30."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def build_encoder_decoder(latent_dim=2):
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")
    return encoder, decoder


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [
            self.total_loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def train_step(self, data):
        with keras.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(
                    keras.losses.binary_crossentropy(data, reconstruction),
                    axis=(1, 2),
                )
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


@pytest.mark.slow
def test_vae_trains_with_its_own_train_step():
    keras.utils.set_random_seed(0)
    encoder, decoder = build_encoder_decoder()
    assert [tuple(t.shape) for t in encoder.outputs] == [(None, 2)] * 3
    assert tuple(decoder.output.shape) == (None, 28, 28, 1)

    (x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
    mnist_digits = np.concatenate([x_train[:768], x_test[:256]], axis=0)
    mnist_digits = np.expand_dims(mnist_digits, -1).astype("float32") / 255

    vae = VAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam())
    h = vae.fit(mnist_digits, epochs=3, batch_size=128, verbose=0).history
    assert set(h) == {"loss", "reconstruction_loss", "kl_loss"}
    # a per-image binary cross-entropy summed over 784 pixels: 543 (log 2 per pixel) at
    # the start, well below after training
    assert h["reconstruction_loss"][0] < 784 * np.log(2)
    assert h["loss"][-1] < h["loss"][0]
    assert h["reconstruction_loss"][-1] < 0.75 * 784 * np.log(2)
    np.testing.assert_allclose(np.add(h["reconstruction_loss"], h["kl_loss"]), h["loss"],
                               rtol=1e-5)
    assert all(k >= 0 for k in h["kl_loss"])  # a KL divergence

    # the decoder maps latent points to images; the Sampling layer draws fresh noise
    x_decoded = decoder.predict(np.array([[0.5, -0.5]]), verbose=0)
    assert x_decoded.shape == (1, 28, 28, 1) and 0 <= x_decoded.min() <= x_decoded.max() <= 1
    z_mean, _, z1 = encoder.predict(mnist_digits[:8], verbose=0)
    _, _, z2 = encoder.predict(mnist_digits[:8], verbose=0)
    assert z_mean.shape == (8, 2) and not np.allclose(z1, z2)
