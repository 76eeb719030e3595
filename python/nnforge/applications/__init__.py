"""``keras.applications``: the classic ImageNet architectures with Keras's arguments, layer
names and parameter counts. nnforge downloads nothing: ``weights`` is None, a weights file path
(e.g. one Keras 3 saved for the same architecture) or ``"imagenet"`` read from
``$NNFORGE_DATA_DIR`` (see ``imagenet_utils``)."""
from . import (convnext, densenet, efficientnet, efficientnet_v2, imagenet_utils,  # noqa: F401
               inception_resnet_v2, inception_v3, mobilenet, mobilenet_v2, mobilenet_v3, resnet, resnet50, resnet_v2,
               vgg16, vgg19, xception)
from .convnext import (ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny,  # noqa: F401
                       ConvNeXtXLarge)
from .densenet import DenseNet121, DenseNet169, DenseNet201  # noqa: F401
from .efficientnet import (EfficientNetB0, EfficientNetB1, EfficientNetB2,  # noqa: F401
                           EfficientNetB3, EfficientNetB4, EfficientNetB5, EfficientNetB6,
                           EfficientNetB7)
from .efficientnet_v2 import (EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2,  # noqa: F401
                              EfficientNetV2B3, EfficientNetV2L, EfficientNetV2M,
                              EfficientNetV2S)
from .inception_resnet_v2 import InceptionResNetV2  # noqa: F401
from .inception_v3 import InceptionV3  # noqa: F401
from .mobilenet import MobileNet  # noqa: F401
from .mobilenet_v2 import MobileNetV2  # noqa: F401
from .mobilenet_v3 import MobileNetV3Large, MobileNetV3Small  # noqa: F401
from .resnet import ResNet50, ResNet101, ResNet152  # noqa: F401
from .resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2  # noqa: F401
from .vgg16 import VGG16  # noqa: F401
from .vgg19 import VGG19  # noqa: F401
from .xception import Xception  # noqa: F401
