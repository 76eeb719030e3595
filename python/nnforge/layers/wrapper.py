"""``Wrapper`` (the base of layers that wrap another layer) and ``SpectralNormalization``."""
from __future__ import annotations

import numpy as np

from nnforge import initializers, ops
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object

from .input_spec import InputSpec
from .layer import Layer


class Wrapper(Layer):
    """Abstract base of the layers that wrap another layer (``keras.layers.Wrapper``);
    subclasses implement ``call``.

    Args:
        layer: the layer to wrap.

    The wrapped layer's config is saved under ``"layer"``; its weights are the wrapper's.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. "
                             "Please ensure wrapped layer is a valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None) -> None:
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self) -> dict:
        config = super().get_config()
        config["layer"] = serialize_keras_object(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"), custom_objects=custom_objects,
                                         module=("keras.layers", "keras"), kind="layer")
        return cls(layer, **config)


def _l2_normalize_all(x: np.ndarray) -> np.ndarray:
    """Keras's ``ops.normalize(x, axis=None)``: ``x * min(rsqrt(sum(x^2)), 1e7)``."""
    inv = 1.0 / np.sqrt(np.sum(np.square(x, dtype=np.float32)))
    return x * np.minimum(inv, np.float32(1e7))


class SpectralNormalization(Wrapper):
    """Spectral normalization of a layer's kernel (Miyato et al., 2018),
    ``keras.layers.SpectralNormalization``: in training, ``power_iterations`` steps of the
    power method estimate the kernel's largest singular value ``sigma`` and the kernel is
    replaced by ``kernel / sigma`` (the wrapped layer's variable is assigned, as in Keras);
    the wrapped layer then runs. At inference the layer runs as it is.

    Args:
        layer: a layer with a ``kernel`` (Dense, Conv...) or ``embeddings`` attribute.
        power_iterations: number of power-method steps per training call (> 0).

    Example:

    >>> sn = SpectralNormalization(nnforge.layers.Dense(3))
    >>> sn(np.ones((2, 4), "float32"), training=True).shape
    (2, 3)
    """

    def __init__(self, layer, power_iterations: int = 1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape) -> None:
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        if hasattr(self.layer, "kernel"):
            kernel = self.layer.kernel
        elif hasattr(self.layer, "embeddings"):
            kernel = self.layer.embeddings
        else:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' "
                             "nor 'embeddings'")
        object.__setattr__(self, "kernel", kernel)  # the wrapped layer's variable, not ours
        self.kernel_shape = tuple(kernel.shape)
        self.vector_u = self.add_weight(shape=(1, self.kernel_shape[-1]),
                                        initializer=initializers.TruncatedNormal(stddev=0.02),
                                        trainable=False, name="vector_u")
        self.built = True

    def normalized_weights(self):
        """(new ``vector_u``, spectrally normalized kernel) as NumPy arrays."""
        w = np.asarray(self.kernel.numpy(), np.float32).reshape(-1, self.kernel_shape[-1])
        u = np.asarray(self.vector_u.numpy(), np.float32)
        for _ in range(self.power_iterations):
            v = _l2_normalize_all(u @ w.T)
            u = _l2_normalize_all(v @ w)
        sigma = (v @ w) @ u.T
        kernel = (w / sigma).reshape(self.kernel_shape).astype(np.float32)
        return u.astype(np.float32), kernel

    def call(self, inputs, training=False):
        if training and not np.all(np.asarray(self.kernel.numpy()) == 0):
            u, kernel = self.normalized_weights()
            self.vector_u.assign(u)
            self.kernel.assign(kernel)
        return ops.cast(self.layer(inputs), np.dtype(inputs.dtype).name
                        if np.dtype(inputs.dtype).kind == "f" else "float32")

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config
