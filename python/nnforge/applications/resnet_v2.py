"""ResNet50V2, ResNet101V2, ResNet152V2 (``keras.applications.resnet_v2``): pre-activation
residual blocks on resnet.py's builder."""
from __future__ import annotations

from nnforge import layers

from . import imagenet_utils as iu
from .resnet import EPS, ResNet


def residual_block_v2(x, filters: int, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """Pre-activation bottleneck: BN + ReLU first; the stride sits on the 3x3 conv; the identity
    shortcut is max-pooled when the block downsamples."""
    preact = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False,
                      name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters: int, blocks: int, stride1=2, name=None):
    """``blocks`` V2 blocks; the first has a conv shortcut, the last downsamples."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _v2(depths, name: str, weights_name: str, **kwargs):
    def stack_fn(x):
        x = stack_residual_blocks_v2(x, 64, depths[0], name="conv2")
        x = stack_residual_blocks_v2(x, 128, depths[1], name="conv3")
        x = stack_residual_blocks_v2(x, 256, depths[2], name="conv4")
        return stack_residual_blocks_v2(x, 512, depths[3], stride1=1, name="conv5")
    return ResNet(stack_fn, True, True, name=name, weights_name=weights_name, **kwargs)


_PAPER = "He et al., Identity Mappings in Deep Residual Networks, ECCV 2016"
ResNet50V2 = iu.make_application(_v2, "ResNet50V2", "resnet_v2", "resnet50v2", paper=_PAPER,
                                 depths=(3, 4, 6, 3), weights_name="resnet50v2")
ResNet101V2 = iu.make_application(_v2, "ResNet101V2", "resnet_v2", "resnet101v2",
                                  paper=_PAPER, depths=(3, 4, 23, 3),
                                  weights_name="resnet101v2")
ResNet152V2 = iu.make_application(_v2, "ResNet152V2", "resnet_v2", "resnet152v2",
                                  paper=_PAPER, depths=(3, 8, 36, 3),
                                  weights_name="resnet152v2")


preprocess_input = iu.make_preprocess_input("resnet_v2", "tf")
decode_predictions = iu.decode_predictions
