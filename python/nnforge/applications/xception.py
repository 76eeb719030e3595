"""Xception (``keras.applications.xception``): depthwise separable convolutions with residual
connections. Layers are created in Keras's order (Keras 3 weights files key weights by layer
class and order) with Keras's names."""
from __future__ import annotations

from nnforge import layers

from . import imagenet_utils as iu


def _sep_bn(x, filters: int, name: str):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=-1, name=f"{name}_bn")(x)


def _residual(x, filters: int):
    r = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return layers.BatchNormalization(axis=-1)(r)


def _down_block(x, block: int, filters1: int, filters2: int, first_relu: bool = True):
    """relu? -> sepconv -> relu -> sepconv -> 3x3/2 max pool, plus a strided 1x1 residual."""
    residual = _residual(x, filters2)
    if first_relu:
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
    x = _sep_bn(x, filters1, f"block{block}_sepconv1")
    x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
    x = _sep_bn(x, filters2, f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="xception"):
    iu.check_weights_arg(weights, include_top, classes)
    input_shape = iu.obtain_input_shape(input_shape, 299, 71, "channels_last", include_top,
                                        weights)
    img_input = iu.model_input(input_tensor, input_shape)
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=-1, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=-1, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    x = _down_block(x, 2, 128, 128, first_relu=False)
    x = _down_block(x, 3, 256, 256)
    x = _down_block(x, 4, 728, 728)
    for i in range(8):
        residual = x
        prefix = f"block{i + 5}"
        for j in (1, 2, 3):
            x = layers.Activation("relu", name=f"{prefix}_sepconv{j}_act")(x)
            x = _sep_bn(x, 728, f"{prefix}_sepconv{j}")
        x = layers.add([x, residual])
    x = _down_block(x, 13, 728, 1024)
    x = _sep_bn(x, 1536, "block14_sepconv1")
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _sep_bn(x, 2048, "block14_sepconv2")
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    x = iu.classifier(x, include_top, pooling, classes, classifier_activation, weights,
                      pool_name="avg_pool" if include_top else None)
    return iu.finish(img_input, input_tensor, x, name, weights, "xception", include_top)


Xception.__doc__ = iu.application_doc(
    "Xception", "xception", "Xception", "xception", size=299, min_size=71,
    paper="Chollet, Xception: Deep Learning with Depthwise Separable Convolutions, CVPR 2017")


preprocess_input = iu.make_preprocess_input("xception", "tf")
decode_predictions = iu.decode_predictions
