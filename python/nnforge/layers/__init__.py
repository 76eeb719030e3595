"""nnforge.layers: Keras's layers, one per file, calling nnforge.ops."""
from .layer import Layer
from .input_layer import Input, InputLayer
from .dense import Dense
from .conv2d import Conv2D
from .pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D, MaxPool1D,
                      MaxPool2D, MaxPooling1D, MaxPooling2D)
from .core_layers import Activation, Dropout, Flatten
from .normalization import BatchNormalization
from .merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add,
                      concatenate)
from .reshaping import Cropping2D, Permute, RepeatVector, Reshape, UpSampling2D, ZeroPadding2D
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .global_pooling import (GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
                             GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D,
                             GlobalMaxPooling1D, GlobalMaxPooling2D)
from .spatial_dropout import SpatialDropout2D
from .embedding import Embedding
from .conv1d import Conv1D
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from .wrappers import Bidirectional, TimeDistributed
from .conv2d_transpose import Conv2DTranspose
from .depthwise_conv2d import DepthwiseConv2D
from .separable_conv2d import SeparableConv2D
from .op_layer import OpLayer  # noqa: F401  (ops on KerasTensors)
from .masking import Masking
from .merging import average, maximum, minimum, multiply, subtract  # noqa: F401
from .preprocessing import (Normalization, RandomContrast, RandomCrop, RandomFlip, RandomRotation,
                            RandomTranslation, RandomZoom, Rescaling)
# attention, normalization and small core layers (issue #17)
from .input_spec import InputSpec
from .einsum_dense import EinsumDense
from .multi_head_attention import GroupQueryAttention, MultiHeadAttention
from .attention import AdditiveAttention, Attention
from .layer_normalization import (GroupNormalization, LayerNormalization, RMSNormalization,
                                  UnitNormalization)
from .lambda_layer import Identity, Lambda
from .dot import Dot, dot
from .noise import ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise
from .wrapper import SpectralNormalization, Wrapper
from .pipeline import Pipeline
from .reversible_embedding import ReversibleEmbedding

# N-D convolution, pooling and reshaping family (issue #17, conv branch)
from .conv3d import Conv3D
from .conv_transpose import Conv1DTranspose, Conv3DTranspose
from .base_depthwise_conv import DepthwiseConv1D, SeparableConv1D
from .pooling3d import AveragePooling3D, AvgPool3D, MaxPool3D, MaxPooling3D
from .global_pooling3d import (GlobalAveragePooling3D, GlobalAvgPool3D, GlobalMaxPool3D,
                               GlobalMaxPooling3D)
from .adaptive_pooling import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
                               AdaptiveAveragePooling3D, AdaptiveMaxPooling1D,
                               AdaptiveMaxPooling2D, AdaptiveMaxPooling3D)
from .reshaping_1d_3d import (Cropping1D, Cropping3D, UpSampling1D, UpSampling3D, ZeroPadding1D,
                              ZeroPadding3D)
from .spatial_dropout import SpatialDropout1D, SpatialDropout3D
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .stacked_rnn_cells import StackedRNNCells
Convolution1D, Convolution3D = Conv1D, Conv3D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D

from nnforge.saving.serialization import deserialize_layer, serialize_layer

Convolution2D = Conv2D


def serialize(layer) -> dict:
    """The serialized form of a layer (``nnforge.saving.serialize_keras_object``)."""
    return serialize_layer(layer)


def deserialize(config: dict, custom_objects=None):
    """A layer from its serialized form (``nnforge.saving.deserialize_keras_object``)."""
    return deserialize_layer(config, custom_objects)
# preprocessing: lookups, encodings, text (helper prep)
from .lookup import IntegerLookup, StringLookup  # noqa: E402
from .category_encoding import CategoryEncoding, Discretization  # noqa: E402
from .text_vectorization import TextVectorization  # noqa: E402
from .resizing import CenterCrop, Resizing  # noqa: E402
from .image_color import (AutoContrast, Equalization, RandomBrightness,  # noqa: E402
                          RandomColorDegeneration, RandomColorJitter, RandomGrayscale,
                          RandomHue, RandomInvert, RandomPosterization, RandomSaturation,
                          RandomSharpness, Solarization)
from .image_geometry import (RandomElasticTransform, RandomGaussianBlur,  # noqa: E402
                             RandomPerspective, RandomShear)
from .image_mixing import CutMix, MixUp, RandomErasing  # noqa: E402
from .image_policies import AugMix, RandAugment  # noqa: E402
from .image_clahe import (ContrastLimitedAdaptiveHistogramEqualization,  # noqa: E402
                          MaxNumBoundingBoxes)
from .spectrogram import MelSpectrogram, STFTSpectrogram  # noqa: E402
from .hashing import HashedCrossing, Hashing  # noqa: E402
from . import feature_space as _feature_space  # noqa: E402,F401  (keras.utils.FeatureSpace)
