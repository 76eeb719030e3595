"""ResNet50, ResNet101, ResNet152 (``keras.applications.resnet``) and the builder they share with
ResNetV2 (resnet_v2.py): Keras's layer names, so Keras 3 weights files load by name."""
from __future__ import annotations

from typing import Callable

from nnforge import layers

from . import imagenet_utils as iu

EPS = 1.001e-5


def ResNet(stack_fn: Callable, preact: bool, use_bias: bool, include_top=True,
           weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
           classifier_activation="softmax", name="resnet", weights_name=None):
    """The ResNet / ResNetV2 body around ``stack_fn`` (the residual stacks): a 7x7/2 stem, 3x3/2
    max pooling, the stacks, (V2: a final BN + ReLU), and the classifier."""
    iu.check_weights_arg(weights, include_top, classes)
    input_shape = iu.obtain_input_shape(input_shape, 224, 32, "channels_last", include_top,
                                        weights)
    img_input = iu.model_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(axis=3, epsilon=EPS, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = layers.BatchNormalization(axis=3, epsilon=EPS, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = iu.classifier(x, include_top, pooling, classes, classifier_activation, weights)
    return iu.finish(img_input, input_tensor, x, name, weights, weights_name or name,
                     include_top)


def residual_block_v1(x, filters: int, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """Bottleneck block: 1x1 (stride) -> kxk -> 1x1 (4*filters), each BN (+ReLU), plus the
    shortcut (a 1x1 conv + BN when ``conv_shortcut``), then ReLU."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="SAME", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters: int, blocks: int, stride1=2, name=None):
    """``blocks`` V1 blocks; the first downsamples by ``stride1`` with a conv shortcut."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def _v1(depths, name: str, weights_name: str, **kwargs):
    def stack_fn(x):
        x = stack_residual_blocks_v1(x, 64, depths[0], stride1=1, name="conv2")
        x = stack_residual_blocks_v1(x, 128, depths[1], name="conv3")
        x = stack_residual_blocks_v1(x, 256, depths[2], name="conv4")
        return stack_residual_blocks_v1(x, 512, depths[3], name="conv5")
    return ResNet(stack_fn, False, True, name=name, weights_name=weights_name, **kwargs)


_PAPER = "He et al., Deep Residual Learning for Image Recognition, CVPR 2016"
ResNet50 = iu.make_application(_v1, "ResNet50", "resnet", "resnet50", paper=_PAPER,
                               depths=(3, 4, 6, 3), weights_name="resnet50")
ResNet101 = iu.make_application(_v1, "ResNet101", "resnet", "resnet101", paper=_PAPER,
                                depths=(3, 4, 23, 3), weights_name="resnet101")
ResNet152 = iu.make_application(_v1, "ResNet152", "resnet", "resnet152", paper=_PAPER,
                                depths=(3, 8, 36, 3), weights_name="resnet152")


preprocess_input = iu.make_preprocess_input("resnet", "caffe")
decode_predictions = iu.decode_predictions
