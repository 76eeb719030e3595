"""nnforge.layers: Keras's layers, one per file, calling nnforge.ops."""
from .layer import Layer
from .input_layer import Input, InputLayer
from .dense import Dense
from .conv2d import Conv2D
from .pooling2d import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D
from .core_layers import Activation, Dropout, Flatten
from .normalization import BatchNormalization
from .merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add,
                      concatenate)
from .reshaping import Cropping2D, Permute, RepeatVector, Reshape, UpSampling2D, ZeroPadding2D
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .global_pooling import (GlobalAveragePooling2D, GlobalAvgPool2D, GlobalMaxPool2D,
                             GlobalMaxPooling2D)
from .spatial_dropout import SpatialDropout2D
from .embedding import Embedding
from .conv1d import (AveragePooling1D, AvgPool1D, Conv1D, GlobalAveragePooling1D, GlobalAvgPool1D,
                     GlobalMaxPool1D, GlobalMaxPooling1D, MaxPool1D, MaxPooling1D)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from .wrappers import Bidirectional, TimeDistributed
from .conv_variants import Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from .op_layer import OpLayer  # noqa: F401  (ops on KerasTensors)
from .masking import Masking
from .merging import average, maximum, minimum, multiply, subtract  # noqa: F401
from .preprocessing import (Normalization, RandomContrast, RandomCrop, RandomFlip, RandomRotation,
                            RandomTranslation, RandomZoom, Rescaling)

Convolution2D = Conv2D


def serialize(layer) -> dict:
    from nnforge.saving.serialization import serialize_layer
    return serialize_layer(layer)


def deserialize(config: dict, custom_objects=None):
    from nnforge.saving.serialization import deserialize_layer
    return deserialize_layer(config, custom_objects)
