"""ConvNeXt Tiny, Small, Base, Large, XLarge (``keras.applications.convnext``): depthwise 7x7
convolutions, LayerNormalization, inverted-bottleneck Dense layers, layer scale and stochastic
depth; the model normalises its 0-255 input itself (``include_preprocessing``). Keras's layer
names and nesting (stem and downsampling blocks are Sequential models), so Keras 3 weights files
load."""
from __future__ import annotations

import numpy as np

from nnforge import initializers, layers, ops, random
from nnforge.layers import Layer
from nnforge.models import Sequential

from . import imagenet_utils as iu

MODEL_CONFIGS = {
    "tiny": ([3, 3, 9, 3], [96, 192, 384, 768]),
    "small": ([3, 3, 27, 3], [96, 192, 384, 768]),
    "base": ([3, 3, 27, 3], [128, 256, 512, 1024]),
    "large": ([3, 3, 27, 3], [192, 384, 768, 1536]),
    "xlarge": ([3, 3, 27, 3], [256, 512, 1024, 2048]),
}


class StochasticDepth(Layer):
    """Drops the whole residual branch of a sample with probability ``drop_path_rate`` while
    training (scaling the kept ones by 1 / keep probability); the identity otherwise.

    Args:
        drop_path_rate: probability of dropping a sample's branch.

    Example:

    >>> StochasticDepth(0.1)(np.ones((2, 3)), training=False).shape
    (2, 3)
    """
    _keras_module = "keras.src.applications.convnext"

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        if training:
            keep_prob = 1 - self.drop_path_rate
            shape = (ops.shape(x)[0],) + (1,) * (len(ops.shape(x)) - 1)
            mask = ops.floor(keep_prob + random.uniform(shape, 0, 1))
            return (x / keep_prob) * mask
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"drop_path_rate": self.drop_path_rate})
        return config


class LayerScale(Layer):
    """Multiplies its input by a learned per-channel ``gamma`` initialised to ``init_values``.

    Args:
        init_values: the initial scale.
        projection_dim: number of channels.

    Example:

    >>> LayerScale(1e-6, 4)(np.ones((2, 4))).shape
    (2, 4)
    """
    _keras_module = "keras.src.applications.convnext"

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, _):
        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values),
                                     trainable=True, name="gamma")
        self.built = True

    def call(self, x):
        return x * self.gamma

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"init_values": self.init_values, "projection_dim": self.projection_dim})
        return config


def convnext_block(inputs, projection_dim: int, drop_path_rate=0.0,
                   layer_scale_init_value=1e-6, name=None):
    """Depthwise 7x7 -> LayerNorm -> Dense(4C) -> GELU -> Dense(C) -> layer scale, added to the
    input through stochastic depth."""
    x = layers.Conv2D(filters=projection_dim, kernel_size=7, padding="same",
                      groups=projection_dim, name=f"{name}_depthwise_conv")(inputs)
    x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
    x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
    if layer_scale_init_value is not None:
        x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
    if drop_path_rate:
        layer = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
    else:
        layer = layers.Activation("linear", name=f"{name}_identity")
    return inputs + layer(x)


def ConvNeXt(depths, projection_dims, drop_path_rate=0.0, layer_scale_init_value=1e-6,
             default_size=224, name="convnext", include_preprocessing=True, include_top=True,
             weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", weights_name=None):
    """The ConvNeXt body for ``depths`` blocks of ``projection_dims`` channels per stage."""
    iu.check_weights_arg(weights, include_top, classes)
    input_shape = iu.obtain_input_shape(input_shape, default_size, 32, "channels_last",
                                        include_top, weights)
    img_input = iu.model_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing and input_shape[-1] == 3:
        x = layers.Normalization(
            mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
            variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
            name=f"{name}_prestem_normalization")(x)
    downsample = [Sequential([
        layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm")],
        name=f"{name}_stem")]
    for i in range(3):
        downsample.append(Sequential([
            layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
            layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                          name=f"{name}_downsampling_conv_{i}")],
            name=f"{name}_downsampling_block_{i}"))
    rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsample[i](x)
        for j in range(depths[i]):
            x = convnext_block(x, projection_dims[i], rates[cur + j], layer_scale_init_value,
                               name=f"{name}_stage_{i}_block_{j}")
        cur += depths[i]
    if include_top:
        iu.validate_activation(classifier_activation, weights)
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        x = layers.Dense(classes, activation=classifier_activation,
                         name=f"{name}_head_dense")(x)
    else:
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D()(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    return iu.finish(img_input, input_tensor, x, name, weights, weights_name, include_top)


def _variant(size: str):
    depths, dims = MODEL_CONFIGS[size]
    title = f"ConvNeXt{size.capitalize() if size != 'xlarge' else 'XLarge'}"

    def application(include_top=True, include_preprocessing=True, weights="imagenet",
                    input_tensor=None, input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", name=f"convnext_{size}"):
        return ConvNeXt(depths, dims, name=name, include_top=include_top,
                        include_preprocessing=include_preprocessing, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                        classes=classes, classifier_activation=classifier_activation,
                        weights_name=f"convnext_{size}")

    return iu.name_application(
        application, title, "convnext", title, f"convnext_{size}",
        paper="Liu et al., A ConvNet for the 2020s, CVPR 2022",
        extra="\n        include_preprocessing: normalise 0-255 inputs inside the model.")


ConvNeXtTiny = _variant("tiny")
ConvNeXtSmall = _variant("small")
ConvNeXtBase = _variant("base")
ConvNeXtLarge = _variant("large")
ConvNeXtXLarge = _variant("xlarge")


preprocess_input = iu.make_preprocess_input("convnext", "none")
decode_predictions = iu.decode_predictions
