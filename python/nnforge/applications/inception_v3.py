"""InceptionV3 (``keras.applications.inception_v3``). Layers are created in Keras's order (Keras 3
weights files key weights by layer class and order) with Keras's names."""
from __future__ import annotations

from nnforge import layers

from . import imagenet_utils as iu


def conv2d_bn(x, filters: int, num_row: int, num_col: int, padding="same", strides=(1, 1),
              name=None):
    """Conv (no bias) -> BN (no scale) -> ReLU."""
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding,
                      use_bias=False, name=f"{name}_conv" if name else None)(x)
    x = layers.BatchNormalization(axis=3, scale=False, name=f"{name}_bn" if name else None)(x)
    return layers.Activation("relu", name=name)(x)


def _avg_branch(x, filters: int):
    b = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(b, filters, 1, 1)


def _block_35(x, pool_filters: int, name: str):
    b1 = conv2d_bn(x, 64, 1, 1)
    b5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
    b3 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
    return layers.concatenate([b1, b5, b3, _avg_branch(x, pool_filters)], axis=3, name=name)


def _block_17(x, mid: int, name: str):
    b1 = conv2d_bn(x, 192, 1, 1)
    b7 = conv2d_bn(conv2d_bn(conv2d_bn(x, mid, 1, 1), mid, 1, 7), 192, 7, 1)
    d = conv2d_bn(x, mid, 1, 1)
    for filters, (r, c) in ((mid, (7, 1)), (mid, (1, 7)), (mid, (7, 1)), (192, (1, 7))):
        d = conv2d_bn(d, filters, r, c)
    return layers.concatenate([b1, b7, d, _avg_branch(x, 192)], axis=3, name=name)


def _block_8(x, i: int):
    b1 = conv2d_bn(x, 320, 1, 1)
    b3 = conv2d_bn(x, 384, 1, 1)
    b3 = layers.concatenate([conv2d_bn(b3, 384, 1, 3), conv2d_bn(b3, 384, 3, 1)], axis=3,
                            name=f"mixed9_{i}")
    d = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
    d = layers.concatenate([conv2d_bn(d, 384, 1, 3), conv2d_bn(d, 384, 3, 1)], axis=3)
    return layers.concatenate([b1, b3, d, _avg_branch(x, 192)], axis=3, name=f"mixed{9 + i}")


def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="inception_v3"):
    iu.check_weights_arg(weights, include_top, classes)
    input_shape = iu.obtain_input_shape(input_shape, 299, 75, "channels_last", include_top,
                                        weights)
    img_input = iu.model_input(input_tensor, input_shape)
    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _block_35(x, 32, "mixed0")
    x = _block_35(x, 64, "mixed1")
    x = _block_35(x, 64, "mixed2")
    b3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    d = conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3)
    d = conv2d_bn(d, 96, 3, 3, strides=(2, 2), padding="valid")
    x = layers.concatenate([b3, d, layers.MaxPooling2D((3, 3), strides=(2, 2))(x)], axis=3,
                           name="mixed3")
    x = _block_17(x, 128, "mixed4")
    x = _block_17(x, 160, "mixed5")
    x = _block_17(x, 160, "mixed6")
    x = _block_17(x, 192, "mixed7")
    b3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    b7 = conv2d_bn(conv2d_bn(conv2d_bn(x, 192, 1, 1), 192, 1, 7), 192, 7, 1)
    b7 = conv2d_bn(b7, 192, 3, 3, strides=(2, 2), padding="valid")
    x = layers.concatenate([b3, b7, layers.MaxPooling2D((3, 3), strides=(2, 2))(x)], axis=3,
                           name="mixed8")
    x = _block_8(x, 0)
    x = _block_8(x, 1)
    x = iu.classifier(x, include_top, pooling, classes, classifier_activation, weights)
    return iu.finish(img_input, input_tensor, x, name, weights, "inception_v3", include_top)


InceptionV3.__doc__ = iu.application_doc(
    "InceptionV3", "inception_v3", "Inception-v3", "inception_v3", size=299, min_size=75,
    paper="Szegedy et al., Rethinking the Inception Architecture for Computer Vision, CVPR 2016")


preprocess_input = iu.make_preprocess_input("inception_v3", "tf")
decode_predictions = iu.decode_predictions
