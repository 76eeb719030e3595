"""VGG19 (``keras.applications.vgg19``) on vgg16.py's builder."""
from __future__ import annotations

from . import imagenet_utils as iu
from .vgg16 import _PAPER, VGG, decode_predictions, preprocess_input  # noqa: F401

VGG19 = iu.make_application(VGG, "VGG19", "vgg19", "vgg19", paper=_PAPER,
                            convs_per_block=(2, 2, 4, 4, 4), weights_name="vgg19")
