"""MobileNetV3Small and MobileNetV3Large (``keras.applications.mobilenet_v3``): inverted residual
blocks with squeeze-and-excitation and hard-swish; the model rescales its input itself
(``include_preprocessing``). Keras's layer names, so Keras 3 weights files load by name."""
from __future__ import annotations

from nnforge import layers

from . import imagenet_utils as iu
from .mobilenet_v2 import _make_divisible

# (expansion, filters, kernel ("k": 5, or 3 when minimalistic), stride, SE, activation
# ("relu" or "act": hard-swish, relu when minimalistic)) per block
_SMALL = ((1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"),
          (88 / 24, 24, 3, 1, False, "relu"), (4, 40, "k", 2, True, "act"),
          (6, 40, "k", 1, True, "act"), (6, 40, "k", 1, True, "act"), (3, 48, "k", 1, True, "act"),
          (3, 48, "k", 1, True, "act"), (6, 96, "k", 2, True, "act"), (6, 96, "k", 1, True, "act"),
          (6, 96, "k", 1, True, "act"))
_LARGE = ((1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
          (3, 40, "k", 2, True, "relu"), (3, 40, "k", 1, True, "relu"),
          (3, 40, "k", 1, True, "relu"), (6, 80, 3, 2, False, "act"), (2.5, 80, 3, 1, False, "act"),
          (2.3, 80, 3, 1, False, "act"), (2.3, 80, 3, 1, False, "act"),
          (6, 112, 3, 1, True, "act"), (6, 112, 3, 1, True, "act"), (6, 160, "k", 2, True, "act"),
          (6, 160, "k", 1, True, "act"), (6, 160, "k", 1, True, "act"))


def _depth(v, divisor=8, min_value=None) -> int:
    return _make_divisible(v, divisor, min_value)


def relu(x):
    return layers.ReLU()(x)


def hard_sigmoid(x):
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _bn(x, name: str):
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)(x)


def _se_block(inputs, filters: int, se_ratio: float, prefix: str):
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(
        inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv_1")(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, hard_sigmoid(x)])


def _inverted_res_block(x, expansion, filters: int, kernel_size: int, stride: int, se_ratio,
                        activation, block_id: int):
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[-1]
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same",
                          use_bias=False, name=f"{prefix}expand")(x)
        x = activation(_bn(x, f"{prefix}expand_bn"))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=iu.correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride,
                               padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = activation(_bn(x, f"{prefix}depthwise_bn"))
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
                      name=f"{prefix}project")(x)
    x = _bn(x, f"{prefix}project_bn")
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def MobileNetV3(blocks, last_point_ch: int, input_shape=None, alpha=1.0, model_type="large",
                minimalistic=False, include_top=True, weights="imagenet", input_tensor=None,
                classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax",
                include_preprocessing=True, name=None):
    """The MobileNetV3 body around ``blocks`` (one of the tables above)."""
    iu.check_weights_arg(weights, include_top, classes)
    if input_shape is not None and input_tensor is not None and \
            input_tensor.shape[2] != input_shape[1]:
        raise ValueError("When backend.image_data_format()=channels_last, input_shape[1] must "
                         "equal input_tensor.shape[2].  Received input_shape="
                         f"{input_shape}, input_tensor.shape={input_tensor.shape}")
    if input_shape is None and input_tensor is not None:
        input_shape = (input_tensor.shape[2], input_tensor.shape[1], 3)
    if input_shape is None:
        input_shape = (None, None, 3)
    rows, cols = input_shape[0], input_shape[1]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError("Input size must be at least 32x32; Received `input_shape="
                         f"{input_shape}`")
    if weights == "imagenet" and ((not minimalistic and alpha not in [0.75, 1.0])
                                  or (minimalistic and alpha != 1.0)):
        raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.75`, "
                         "`1.0` for non minimalistic or `1.0` for minimalistic only.")
    img_input = iu.model_input(input_tensor, input_shape)
    kernel, activation, se_ratio = (3, relu, None) if minimalistic else (5, hard_swish, 0.25)
    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="conv")(x)
    x = activation(_bn(x, "conv_bn"))
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(x, expansion, _depth(filters * alpha),
                                kernel if k == "k" else k, stride, se_ratio if se else None,
                                activation if act == "act" else relu, block_id)
    last_conv_ch = _depth(x.shape[-1] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False,
                      name="conv_1")(x)
    x = activation(_bn(x, "conv_1_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True,
                          name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        iu.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    stem = f"mobilenet_v3_{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}"
    return iu.finish(img_input, input_tensor, x, name, weights, stem, include_top)


_EXTRA = ("\n        alpha: width multiplier.\n        minimalistic: no squeeze-and-excite, "
          "hard-swish or 5x5 convolutions.\n        dropout_rate: rate before the logits."
          "\n        include_preprocessing: rescale 0-255 inputs to [-1, 1] inside the model.")
_PAPER = "Howard et al., Searching for MobileNetV3, ICCV 2019"


def _application(fn_name: str, blocks, last_point_ch: int, model_type: str):
    """The public constructor ``fn_name`` of one MobileNetV3 size (Keras's signature)."""
    def application(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,
                    weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                    dropout_rate=0.2, classifier_activation="softmax",
                    include_preprocessing=True, name=fn_name):
        return MobileNetV3(blocks, last_point_ch, input_shape, alpha, model_type, minimalistic,
                           include_top, weights, input_tensor, classes, pooling, dropout_rate,
                           classifier_activation, include_preprocessing, name=name)

    return iu.name_application(application, fn_name, "mobilenet_v3", fn_name,
                               "mobilenet_v3_<type>_224_<alpha>", paper=_PAPER, extra=_EXTRA)


MobileNetV3Small = _application("MobileNetV3Small", _SMALL, 1024, "small")
MobileNetV3Large = _application("MobileNetV3Large", _LARGE, 1280, "large")


preprocess_input = iu.make_preprocess_input("mobilenet_v3", "none")
decode_predictions = iu.decode_predictions
