"""InceptionResNetV2 (``keras.applications.inception_resnet_v2``): Inception blocks with scaled
residual connections. Layers are created in Keras's order with Keras's names, so Keras 3 weights
files load."""
from __future__ import annotations

from nnforge import layers
from nnforge.layers import Layer

from . import imagenet_utils as iu


def conv2d_bn(x, filters: int, kernel_size, strides=1, padding="same", activation="relu",
              use_bias=False, name=None):
    """Conv -> BN (no scale; only without bias) -> activation."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
                      name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=3, scale=False,
                                      name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


class CustomScaleLayer(Layer):
    """``inputs[0] + inputs[1] * scale``: the scaled residual connection.

    Args:
        scale: the residual branch's scale.

    Example:

    >>> CustomScaleLayer(0.5)([np.ones((1, 2)), np.ones((1, 2))]).numpy()
    array([[1.5, 1.5]], dtype=float32)
    """
    _keras_module = "keras.src.applications.inception_resnet_v2"

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config


# per block type: branches, each a list of (filters, kernel) convolutions
_BLOCKS = {"block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
           "block17": [[(192, 1)], [(128, 1), (160, [1, 7]), (192, [7, 1])]],
           "block8": [[(192, 1)], [(192, 1), (224, [1, 3]), (256, [3, 1])]]}


def inception_resnet_block(x, scale: float, block_type: str, block_idx: int,
                           activation="relu"):
    """Parallel branches, concatenated, a linear 1x1 back to the input's channels, added to the
    input scaled by ``scale``, then the activation."""
    if block_type not in _BLOCKS:
        raise ValueError("Unknown Inception-ResNet block type. Expects \"block35\", "
                         f"\"block17\" or \"block8\", but got: {block_type}")
    branches = []
    for convs in _BLOCKS[block_type]:
        b = x
        for filters, kernel in convs:
            b = conv2d_bn(b, filters, kernel)
        branches.append(b)
    name = f"{block_type}_{block_idx}"
    mixed = layers.Concatenate(axis=3, name=f"{name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[3], 1, activation=None, use_bias=True, name=f"{name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_ac")(x)
    return x


def InceptionResNetV2(include_top=True, weights="imagenet", input_tensor=None,
                      input_shape=None, pooling=None, classes=1000,
                      classifier_activation="softmax", name="inception_resnet_v2"):
    iu.check_weights_arg(weights, include_top, classes)
    input_shape = iu.obtain_input_shape(input_shape, 299, 75, "channels_last", include_top,
                                        weights)
    img_input = iu.model_input(input_tensor, input_shape)
    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)
    b0 = conv2d_bn(x, 96, 1)
    b1 = conv2d_bn(conv2d_bn(x, 48, 1), 64, 5)
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3)
    bp = conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1)
    x = layers.Concatenate(axis=3, name="mixed_5b")([b0, b1, b2, bp])
    for i in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=i)
    b0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 256, 3), 384, 3, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=3, name="mixed_6a")([b0, b1, bp])
    for i in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=i)
    b0 = conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid")
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 288, 3), 320, 3, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=3, name="mixed_7a")([b0, b1, b2, bp])
    for i in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=i)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8", block_idx=10)
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    x = iu.classifier(x, include_top, pooling, classes, classifier_activation, weights,
                      pool_name="avg_pool" if include_top else None)
    return iu.finish(img_input, input_tensor, x, name, weights, "inception_resnet_v2",
                     include_top)


InceptionResNetV2.__doc__ = iu.application_doc(
    "InceptionResNetV2", "inception_resnet_v2", "Inception-ResNet-v2", "inception_resnet_v2",
    size=299, min_size=75,
    paper="Szegedy et al., Inception-v4, Inception-ResNet and the Impact of Residual "
          "Connections on Learning, AAAI 2017")


preprocess_input = iu.make_preprocess_input("inception_resnet_v2", "tf")
decode_predictions = iu.decode_predictions
