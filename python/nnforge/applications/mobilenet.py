"""MobileNet (``keras.applications.mobilenet``): depthwise separable convolutions; Keras's layer
names, so Keras 3 weights files load by name."""
from __future__ import annotations

from nnforge import layers

from . import imagenet_utils as iu

# (pointwise filters, stride) of blocks 1..13
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
           (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
_SIZES = (128, 160, 192, 224)


def _conv_block(inputs, filters: int, alpha: float, kernel=(3, 3), strides=(1, 1)):
    x = layers.Conv2D(int(filters * alpha), kernel, padding="same", use_bias=False,
                      strides=strides, name="conv1")(inputs)
    x = layers.BatchNormalization(axis=-1, name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters: int, alpha: float,
                          depth_multiplier=1, strides=(1, 1), block_id=1):
    """Depthwise 3x3 (BN, ReLU6) then pointwise 1x1 (BN, ReLU6); strided blocks pad (0, 1)."""
    x = inputs
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(inputs)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides,
                               use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same",
                      use_bias=False, strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True,
              weights="imagenet", input_tensor=None, pooling=None, classes=1000,
              classifier_activation="softmax", name=None):
    iu.check_weights_arg(weights, include_top, classes)
    default = 224
    if input_shape is not None and input_shape[0] == input_shape[1] and \
            input_shape[0] in _SIZES:
        default = input_shape[0]
    input_shape = iu.obtain_input_shape(input_shape, default, 32, "channels_last", include_top,
                                        weights)
    rows, cols = input_shape[0], input_shape[1]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be "
                             f"1.  Received depth_multiplier={depth_multiplier}")
        if alpha not in [0.25, 0.50, 0.75, 1.0]:
            raise ValueError("If imagenet weights are being loaded, alpha can be one of`0.25`, "
                             f"`0.50`, `0.75` or `1.0` only.  Received alpha={alpha}")
        if rows != cols or rows not in _SIZES:
            rows = 224
    img_input = iu.model_input(input_tensor, input_shape)
    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, stride) in enumerate(_BLOCKS, 1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=(stride, stride),
                                  block_id=block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        iu.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = iu.classifier(x, False, pooling, classes, classifier_activation, weights,
                          pool_name=None)
    name = name if name is not None else f"mobilenet_{alpha:0.2f}_{rows}"
    return iu.finish(img_input, input_tensor, x, name, weights,
                     f"mobilenet_{float(alpha)}_{rows}", include_top)


MobileNet.__doc__ = iu.application_doc(
    "MobileNet", "mobilenet", "MobileNet", "mobilenet_<alpha>_<rows>",
    paper="Howard et al., MobileNets: Efficient Convolutional Neural Networks for Mobile Vision "
          "Applications, 2017",
    extra="\n        alpha: width multiplier (0.25, 0.5, 0.75, 1.0 for ImageNet weights)."
          "\n        depth_multiplier: depthwise channel multiplier.\n        dropout: rate "
          "before the classifier.")


preprocess_input = iu.make_preprocess_input("mobilenet", "tf")
decode_predictions = iu.decode_predictions
