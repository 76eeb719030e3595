"""Keras 3's guide "Making new layers and models via subclassing" (keras-io guides/
making_new_layers_and_models_via_subclassing.py), with ``import keras`` changed to nnforge and
the final VAE trained on 2,048 digits for 2 epochs; each section is a test asserting what the
guide prints or states."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops


def test_the_layer_class_weights_and_computation():
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(
                shape=(input_dim, units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    np.testing.assert_allclose(np.asarray(y), np.ones((2, 2)) @ linear_layer.w.numpy(),
                               rtol=1e-6)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]


def test_layers_can_have_non_trainable_weights():
    class ComputeSum(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(
                initializer="zeros", shape=(input_dim,), trainable=False
            )

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    x = ops.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    np.testing.assert_array_equal(np.asarray(y), [2.0, 2.0])
    y = my_sum(x)
    np.testing.assert_array_equal(np.asarray(y), [4.0, 4.0])
    assert len(my_sum.weights) == 1
    assert len(my_sum.non_trainable_weights) == 1
    assert my_sum.trainable_weights == []


class Linear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


def test_deferring_weight_creation_and_recursive_composition():
    x = ops.ones((2, 2))
    linear_layer = Linear(32)  # At instantiation, we don't know on what inputs this is going to get called
    y = linear_layer(x)  # The layer's weights are created dynamically the first time the layer is called
    assert tuple(linear_layer.w.shape) == (2, 32) and tuple(y.shape) == (2, 32)

    class MLPBlock(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)
            self.linear_2 = Linear(32)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = keras.activations.relu(x)
            x = self.linear_2(x)
            x = keras.activations.relu(x)
            return self.linear_3(x)

    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
    assert len(mlp.weights) == 6
    assert len(mlp.trainable_weights) == 6
    assert tuple(y.shape) == (3, 1)


def test_backend_agnostic_layers_with_a_seed_generator():
    class Dropout(keras.layers.Layer):
        def __init__(self, rate):
            super().__init__()
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)

    layer = Dropout(0.5)
    a, b = np.asarray(layer(ops.ones((200, 50)))), np.asarray(layer(ops.ones((200, 50))))
    assert set(np.unique(a)) <= {0.0, 2.0} and abs((a == 0).mean() - 0.5) < 0.05
    assert not np.array_equal(a, b)  # the seed generator advances between calls
    again = np.asarray(Dropout(0.5)(ops.ones((200, 50))))
    np.testing.assert_array_equal(a, again)  # same seed, same first mask


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


@pytest.mark.filterwarnings("ignore:Model 'model' does not have any trainable weights")
def test_the_add_loss_method():
    # A layer that uses an ActivityRegularizationLayer
    class OuterLayer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActivityRegularizationLayer(1e-2)

        def call(self, inputs):
            return self.activity_reg(inputs)

    layer = OuterLayer()
    assert len(layer.losses) == 0  # No losses yet since the layer has never been called

    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # We created one loss value

    # `layer.losses` gets reset at the start of each __call__
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # This is the loss created during the call above

    class OuterLayerWithKernelRegularizer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(
                32, kernel_regularizer=keras.regularizers.l2(1e-3)
            )

        def call(self, inputs):
            return self.dense(inputs)

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(ops.zeros((1, 1)))
    # This is `1e-3 * sum(layer.dense.kernel ** 2)`,
    # created by the `kernel_regularizer` above.
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]),
                               1e-3 * np.sum(layer.dense.kernel.numpy() ** 2), rtol=1e-5)

    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)

    # If there is a loss passed in `compile`, the regularization
    # losses get added to it
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.random((2, 3)), np.random.random((2, 3))
    h = model.fit(x, y, verbose=0).history
    np.testing.assert_allclose(h["loss"][0], np.mean((x - y) ** 2) + 1e-2 * np.mean(x),
                               rtol=1e-5)

    # It's also possible not to pass any loss in `compile`,
    # since the model already has a loss to minimize, via the `add_loss`
    # call during the forward pass!
    model.compile(optimizer="adam")
    h = model.fit(x, y, verbose=0).history
    np.testing.assert_allclose(h["loss"][0], 1e-2 * np.mean(x), rtol=1e-5)


def test_serialization_and_the_training_argument():
    # Now you can recreate the layer from its config:
    layer = Linear(64)
    config = layer.get_config()
    assert config["units"] == 64
    new_layer = Linear.from_config(config)
    assert new_layer.units == 64

    class CustomDropout(keras.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs, training=None):
            if training:
                return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
            return inputs

    drop = CustomDropout(0.5)
    x = np.ones((4, 8), "float32")
    np.testing.assert_array_equal(np.asarray(drop(x)), x)
    assert (np.asarray(drop(x, training=True)) == 0).any()


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


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(
        self,
        original_dim,
        intermediate_dim=64,
        latent_dim=32,
        name="autoencoder",
        **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(
            z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1
        )
        self.add_loss(kl_loss)
        return reconstructed


def test_putting_it_all_together_an_end_to_end_example():
    keras.utils.set_random_seed(0)
    (x_train, _), _ = keras.datasets.mnist.load_data()
    x_train = x_train[:2048].reshape(2048, 784).astype("float32") / 255

    original_dim = 784
    vae = VariationalAutoEncoder(784, 64, 32)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())

    h = vae.fit(x_train, x_train, epochs=2, batch_size=64, verbose=0).history
    assert h["loss"][-1] < h["loss"][0]
    assert len(vae.losses) == 1  # the KL term of the last call only
    reconstructed = vae.predict(x_train[:16], verbose=0)
    assert reconstructed.shape == (16, original_dim)
    assert np.mean((reconstructed - x_train[:16]) ** 2) < np.var(x_train[:16])
