"""EfficientNetB0 to B7 (``keras.applications.efficientnet``): MBConv blocks with
squeeze-and-excitation, scaled in width, depth and resolution; the model rescales and normalises
its 0-255 input itself. Keras's layer names and order, so Keras 3 weights files load."""
from __future__ import annotations

import math

from nnforge import layers

from . import imagenet_utils as iu

# (kernel_size, repeats, filters_in, filters_out, expand_ratio, strides) per stage; every block
# has id_skip and se_ratio 0.25.
DEFAULT_BLOCKS = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
                  (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2),
                  (3, 1, 192, 320, 6, 1))
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out",
                                      "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out",
                                       "distribution": "uniform"}}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def squeeze_excite(x, filters: int, input_filters: int, se_ratio: float, activation, name: str):
    """Squeeze-and-excitation of the ``filters`` channels of ``x`` (Keras's EfficientNet
    layers and names): global average, a 1x1 reduction to ``input_filters * se_ratio``
    channels with ``activation``, a 1x1 sigmoid expansion back, times ``x``.

    Args:
        x: the block's (batch, height, width, filters) tensor.
        filters, input_filters: the channels of ``x`` and of the block's input.
        se_ratio: the reduction, relative to ``input_filters``.
        activation: of the reduction.
        name: the block's layer-name prefix.

    Returns:
        ``x`` scaled per channel.

    Example:

    >>> x = squeeze_excite(x, 96, 16, 0.25, "swish", "block2a_")
    """
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(max(1, int(input_filters * se_ratio)), 1, padding="same",
                       activation=activation, kernel_initializer=CONV_KERNEL_INITIALIZER,
                       name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                       kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_expand")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def classifier_head(x, include_top, pooling, classes, classifier_activation, weights,
                    dropout_rate, **dense_kwargs):
    """The EfficientNet families' head (Keras's layers and names): with ``include_top``, global
    average pooling, dropout (when ``dropout_rate > 0``) and the ``predictions`` Dense layer;
    without, the optional ``pooling``.

    Args:
        x: the features after the top convolution.
        include_top, pooling, classes, classifier_activation, weights: the model's arguments.
        dropout_rate: the dropout before the predictions.
        **dense_kwargs: more arguments of the predictions layer.

    Returns:
        The model's output tensor.

    Example:

    >>> x = classifier_head(x, True, None, 1000, "softmax", None, 0.2)
    """
    if not include_top:
        return iu.classifier(x, False, pooling, classes, classifier_activation, weights)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="top_dropout")(x)
    iu.validate_activation(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation,
                        kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions",
                        **dense_kwargs)(x)


def block(inputs, activation="swish", drop_rate=0.0, name="", filters_in=32, filters_out=16,
          kernel_size=3, strides=1, expand_ratio=1, se_ratio=0.0, id_skip=True):
    """MBConv: expand (1x1) -> depthwise -> squeeze-and-excite -> project (1x1), plus the input
    (through stochastic-depth dropout) when shapes allow."""
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False,
                          kernel_initializer=CONV_KERNEL_INITIALIZER,
                          name=f"{name}expand_conv")(inputs)
        x = layers.BatchNormalization(axis=3, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    conv_pad = "same"
    if strides == 2:
        x = layers.ZeroPadding2D(padding=iu.correct_pad(x, kernel_size),
                                 name=f"{name}dwconv_pad")(x)
        conv_pad = "valid"
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding=conv_pad, use_bias=False,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER,
                               name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(axis=3, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, filters_in, se_ratio, activation, name)
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def EfficientNet(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2,
                 drop_connect_rate=0.2, depth_divisor=8, activation="swish",
                 blocks_args="default", name="efficientnet", include_top=True,
                 weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                 classes=1000, classifier_activation="softmax", weights_name=None):
    """The EfficientNet body for one (width, depth, resolution) scaling."""
    blocks_args = DEFAULT_BLOCKS if blocks_args == "default" else blocks_args
    iu.check_weights_arg(weights, include_top, classes)
    input_shape = iu.obtain_input_shape(input_shape, default_size, 32, "channels_last",
                                        include_top, weights)
    img_input = iu.model_input(input_tensor, input_shape)

    def round_filters(filters, divisor=depth_divisor):
        filters *= width_coefficient
        new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
        return int(new_filters + divisor if new_filters < 0.9 * filters else new_filters)

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=3)(x)
    if weights == "imagenet":
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=iu.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=3, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    b = 0
    total = float(sum(round_repeats(args[1]) for args in blocks_args))
    for i, (kernel_size, repeats, f_in, f_out, expand, strides) in enumerate(blocks_args):
        if repeats <= 0:
            raise ValueError("The number of repeats in `EfficientNet` must be > 0. "
                             f"Received: repeats={repeats}")
        f_in, f_out = round_filters(f_in), round_filters(f_out)
        for j in range(round_repeats(repeats)):
            x = block(x, activation, drop_connect_rate * b / total,
                      name=f"block{i + 1}{chr(j + 97)}_", filters_in=f_in if j == 0 else f_out,
                      filters_out=f_out, kernel_size=kernel_size,
                      strides=strides if j == 0 else 1, expand_ratio=expand, se_ratio=0.25,
                      id_skip=True)
            b += 1
    x = layers.Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name="top_conv")(x)
    x = layers.BatchNormalization(axis=3, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    x = classifier_head(x, include_top, pooling, classes, classifier_activation, weights,
                        dropout_rate)
    return iu.finish(img_input, input_tensor, x, name, weights,
                     f"efficientnet{weights_name}", include_top)


def _scaled(width, depth, size, dropout, tag):
    return iu.make_application(
        EfficientNet, f"EfficientNet{tag.upper()}", "efficientnet", f"efficientnet{tag}",
        paper="Tan & Le, EfficientNet: Rethinking Model Scaling for Convolutional Neural "
              "Networks, ICML 2019", size=size, width_coefficient=width,
        depth_coefficient=depth, default_size=size, dropout_rate=dropout, weights_name=tag)


EfficientNetB0 = _scaled(1.0, 1.0, 224, 0.2, "b0")
EfficientNetB1 = _scaled(1.0, 1.1, 240, 0.2, "b1")
EfficientNetB2 = _scaled(1.1, 1.2, 260, 0.3, "b2")
EfficientNetB3 = _scaled(1.2, 1.4, 300, 0.3, "b3")
EfficientNetB4 = _scaled(1.4, 1.8, 380, 0.4, "b4")
EfficientNetB5 = _scaled(1.6, 2.2, 456, 0.4, "b5")
EfficientNetB6 = _scaled(1.8, 2.6, 528, 0.5, "b6")
EfficientNetB7 = _scaled(2.0, 3.1, 600, 0.5, "b7")


preprocess_input = iu.make_preprocess_input("efficientnet", "none")
decode_predictions = iu.decode_predictions
