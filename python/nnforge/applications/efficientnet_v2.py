"""EfficientNetV2 B0-B3, S, M, L (``keras.applications.efficientnet_v2``): fused and plain MBConv
stages; the model preprocesses its 0-255 input itself (``include_preprocessing``). Keras's
layer names and order, so Keras 3 weights files load."""
from __future__ import annotations

import math

from nnforge import initializers, layers

from . import imagenet_utils as iu
from .efficientnet import CONV_KERNEL_INITIALIZER, classifier_head, squeeze_excite

# (kernel, repeats, filters in, filters out, expand ratio, se ratio, strides, fused) per stage
_B = ((3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1), (3, 2, 32, 48, 4, 0, 2, 1),
      (3, 3, 48, 96, 4, 0.25, 2, 0), (3, 5, 96, 112, 6, 0.25, 1, 0),
      (3, 8, 112, 192, 6, 0.25, 2, 0))
BLOCKS = {
    "s": ((3, 2, 24, 24, 1, 0, 1, 1), (3, 4, 24, 48, 4, 0, 2, 1), (3, 4, 48, 64, 4, 0, 2, 1),
          (3, 6, 64, 128, 4, 0.25, 2, 0), (3, 9, 128, 160, 6, 0.25, 1, 0),
          (3, 15, 160, 256, 6, 0.25, 2, 0)),
    "m": ((3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
          (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0),
          (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0)),
    "l": ((3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
          (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0),
          (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0)),
    "b0": _B, "b1": _B, "b2": _B, "b3": _B,
}


def round_filters(filters, width_coefficient, min_depth, depth_divisor) -> int:
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth,
                   int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def _skip(x, inputs, strides, input_filters, output_filters, survival_probability, name):
    if strides == 1 and input_filters == output_filters:
        if survival_probability:
            x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1),
                               name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def mb_conv_block(inputs, input_filters, output_filters, expand_ratio=1, kernel_size=3,
                  strides=1, se_ratio=0.0, bn_momentum=0.9, activation="swish",
                  survival_probability=0.8, name=""):
    """MBConv: expand 1x1 -> depthwise -> SE -> project 1x1 (+ skip)."""
    filters = input_filters * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters=filters, kernel_size=1, strides=1,
                          kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                          use_bias=False, name=f"{name}expand_conv")(inputs)
        x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    x = layers.DepthwiseConv2D(kernel_size=kernel_size, strides=strides,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                               use_bias=False, name=f"{name}dwconv2")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, input_filters, se_ratio, activation, name)
    x = layers.Conv2D(filters=output_filters, kernel_size=1, strides=1,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                      use_bias=False, name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}project_bn")(x)
    return _skip(x, inputs, strides, input_filters, output_filters, survival_probability, name)


def fused_mb_conv_block(inputs, input_filters, output_filters, expand_ratio=1, kernel_size=3,
                        strides=1, se_ratio=0.0, bn_momentum=0.9, activation="swish",
                        survival_probability=0.8, name=""):
    """Fused MBConv: one kxk expansion conv (or, at ratio 1, the kxk projection) -> SE ->
    project (+ skip)."""
    filters = input_filters * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, kernel_size=kernel_size, strides=strides,
                          kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                          use_bias=False, name=f"{name}expand_conv")(inputs)
        x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation=activation, name=f"{name}expand_activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, input_filters, se_ratio, activation, name)
    x = layers.Conv2D(output_filters, kernel_size=1 if expand_ratio != 1 else kernel_size,
                      strides=1 if expand_ratio != 1 else strides,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                      use_bias=False, name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}project_bn")(x)
    if expand_ratio == 1:
        x = layers.Activation(activation=activation, name=f"{name}project_activation")(x)
    return _skip(x, inputs, strides, input_filters, output_filters, survival_probability, name)


def EfficientNetV2(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2,
                   drop_connect_rate=0.2, depth_divisor=8, min_depth=8, bn_momentum=0.9,
                   activation="swish", blocks_args="default", name="efficientnetv2",
                   include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                   pooling=None, classes=1000, classifier_activation="softmax",
                   include_preprocessing=True, weights_name=None):
    """The EfficientNetV2 body for one variant (``weights_name``: b0..b3, s, m, l)."""
    blocks_args = BLOCKS[weights_name] if blocks_args == "default" else blocks_args
    iu.check_weights_arg(weights, include_top, classes)
    input_shape = iu.obtain_input_shape(input_shape, default_size, 32, "channels_last",
                                        include_top, weights)
    img_input = iu.model_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing:
        if weights_name.startswith("b") and input_shape[-1] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406],
                                     variance=[0.229 ** 2, 0.224 ** 2, 0.225 ** 2], axis=3)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    def rf(f):
        return round_filters(f, width_coefficient, min_depth, depth_divisor)

    x = layers.Conv2D(filters=rf(blocks_args[0][2]), kernel_size=3, strides=2,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                      use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    b = 0
    total = float(sum(args[1] for args in blocks_args))
    for i, (kernel, repeats, f_in, f_out, expand, se, strides, fused) in enumerate(blocks_args):
        if repeats <= 0:
            raise ValueError("The number of repeats in `EfficientNetV2` must be > 0. "
                             f"Received: repeats={repeats}")
        f_in, f_out = rf(f_in), rf(f_out)
        block = fused_mb_conv_block if fused else mb_conv_block
        for j in range(int(math.ceil(depth_coefficient * repeats))):
            x = block(x, input_filters=f_in if j == 0 else f_out, output_filters=f_out,
                      expand_ratio=expand, kernel_size=kernel, strides=strides if j == 0 else 1,
                      se_ratio=se, bn_momentum=bn_momentum, activation=activation,
                      survival_probability=drop_connect_rate * b / total,
                      name=f"block{i + 1}{chr(j + 97)}_")
            b += 1
    x = layers.Conv2D(filters=rf(1280), kernel_size=1, strides=1,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                      use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name="top_bn")(x)
    x = layers.Activation(activation=activation, name="top_activation")(x)
    x = classifier_head(x, include_top, pooling, classes, classifier_activation, weights,
                        dropout_rate, bias_initializer=initializers.Constant(0.0))
    return iu.finish(img_input, input_tensor, x, name, weights,
                     f"efficientnetv2-{weights_name}", include_top)


def _variant(tag: str, width: float, depth: float, size: int):
    def application(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax",
                    include_preprocessing=True, name=f"efficientnetv2-{tag}"):
        return EfficientNetV2(width, depth, size, name=name, include_top=include_top,
                              weights=weights, input_tensor=input_tensor,
                              input_shape=input_shape, pooling=pooling, classes=classes,
                              classifier_activation=classifier_activation,
                              include_preprocessing=include_preprocessing, weights_name=tag)

    return iu.name_application(
        application, f"EfficientNetV2{tag.upper()}", "efficientnet_v2",
        f"EfficientNetV2{tag.upper()}", f"efficientnetv2-{tag}", size=size,
        paper="Tan & Le, EfficientNetV2: Smaller Models and Faster Training, ICML 2021",
        extra="\n        include_preprocessing: rescale (and normalise) 0-255 inputs inside the "
              "model.")


EfficientNetV2B0 = _variant("b0", 1.0, 1.0, 224)
EfficientNetV2B1 = _variant("b1", 1.0, 1.1, 240)
EfficientNetV2B2 = _variant("b2", 1.1, 1.2, 260)
EfficientNetV2B3 = _variant("b3", 1.2, 1.4, 300)
EfficientNetV2S = _variant("s", 1.0, 1.0, 384)
EfficientNetV2M = _variant("m", 1.0, 1.0, 480)
EfficientNetV2L = _variant("l", 1.0, 1.0, 480)


preprocess_input = iu.make_preprocess_input("efficientnet_v2", "none")
decode_predictions = iu.decode_predictions
