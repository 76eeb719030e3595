"""VGG16 (``keras.applications.vgg16``) and the VGG builder VGG19 shares (vgg19.py)."""
from __future__ import annotations

from nnforge import layers

from . import imagenet_utils as iu


def VGG(convs_per_block, include_top=True, weights="imagenet", input_tensor=None,
        input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
        name="vgg16", weights_name="vgg16"):
    """Five blocks of 3x3 'same' ReLU convolutions (64, 128, 256, 512, 512 filters;
    ``convs_per_block`` of them) each closed by 2x2 max pooling; the top is Flatten, two Dense(4096,
    relu) and the classifier."""
    iu.check_weights_arg(weights, include_top, classes)
    input_shape = iu.obtain_input_shape(input_shape, 224, 32, "channels_last", include_top,
                                        weights)
    img_input = iu.model_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), 1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        iu.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = iu.classifier(x, False, pooling, classes, classifier_activation, weights,
                          pool_name=None)
    return iu.finish(img_input, input_tensor, x, name, weights, weights_name, include_top)


_PAPER = "Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image " \
         "Recognition, ICLR 2015"
VGG16 = iu.make_application(VGG, "VGG16", "vgg16", "vgg16", paper=_PAPER,
                            convs_per_block=(2, 2, 3, 3, 3), weights_name="vgg16")


preprocess_input = iu.make_preprocess_input("vgg16", "caffe")
decode_predictions = iu.decode_predictions
