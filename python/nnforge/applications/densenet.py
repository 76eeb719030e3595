"""DenseNet121, DenseNet169, DenseNet201 (``keras.applications.densenet``): dense blocks joined
by transition blocks; Keras's layer names, so Keras 3 weights files load by name."""
from __future__ import annotations

from nnforge import layers

from . import imagenet_utils as iu

EPS = 1.001e-5


def conv_block(x, growth_rate: int, name: str):
    """BN-ReLU-1x1 (4*growth) -> BN-ReLU-3x3 (growth), concatenated onto the input."""
    x1 = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False,
                       name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, x1])


def dense_block(x, blocks: int, name: str):
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction: float, name: str):
    """BN-ReLU, a 1x1 conv to ``reduction`` of the channels, 2x2 average pooling."""
    x = layers.BatchNormalization(axis=3, epsilon=EPS, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def DenseNet(blocks, include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="densenet",
             weights_name="densenet"):
    """The DenseNet body for ``blocks`` conv blocks in each of the four dense blocks."""
    iu.check_weights_arg(weights, include_top, classes)
    input_shape = iu.obtain_input_shape(input_shape, 224, 32, "channels_last", include_top,
                                        weights)
    img_input = iu.model_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=EPS, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, count in enumerate(blocks):
        x = dense_block(x, count, name=f"conv{stage + 2}")
        if stage < 3:
            x = transition_block(x, 0.5, name=f"pool{stage + 2}")
    x = layers.BatchNormalization(axis=3, epsilon=EPS, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = iu.classifier(x, include_top, pooling, classes, classifier_activation, weights)
    return iu.finish(img_input, input_tensor, x, name, weights, weights_name, include_top)


_PAPER = "Huang et al., Densely Connected Convolutional Networks, CVPR 2017"
DenseNet121 = iu.make_application(DenseNet, "DenseNet121", "densenet", "densenet121",
                                  paper=_PAPER, blocks=[6, 12, 24, 16],
                                  weights_name="densenet121")
DenseNet169 = iu.make_application(DenseNet, "DenseNet169", "densenet", "densenet169",
                                  paper=_PAPER, blocks=[6, 12, 32, 32],
                                  weights_name="densenet169")
DenseNet201 = iu.make_application(DenseNet, "DenseNet201", "densenet", "densenet201",
                                  paper=_PAPER, blocks=[6, 12, 48, 32],
                                  weights_name="densenet201")


preprocess_input = iu.make_preprocess_input("densenet", "torch")
decode_predictions = iu.decode_predictions
