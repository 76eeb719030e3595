"""nnforge.utils: Keras's ``keras.utils`` helpers."""
from nnforge.saving.object_registration import (custom_object_scope, get_custom_objects,
                                                register_keras_serializable)

from .file_utils import extract_archive, get_file, validate_file
from .image_dataset import image_dataset_from_directory
from .image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize
from .io_utils import print_msg
from .model_visualization import model_to_dot, plot_model
from .numerical_utils import normalize, to_categorical
from .progbar import Progbar
from .py_dataset import PyDataset
from .rng_utils import set_random_seed
from .sequence_utils import pad_sequences
# datasets and features for preprocessing (helper prep)
from .text_dataset import audio_dataset_from_directory, text_dataset_from_directory
from .timeseries_dataset import timeseries_dataset_from_array
# Keras API breadth (misc): config, dtypes, graph questions, dataset split, logging, registry
from .session import clear_session
from .data_utils import pack_x_y_sample_weight, unpack_x_y_sample_weight
from nnforge.saving.object_registration import (CustomObjectScope, get_registered_name,
                                                get_registered_object)
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object
from . import bounding_boxes
from .config import Config
from .dataset_utils import split_dataset
from .dtype_utils import standardize_dtype
from .graph_utils import get_source_inputs, is_keras_tensor
from .io_utils import (disable_interactive_logging, enable_interactive_logging,
                       is_interactive_logging_enabled)

# Keras 3 keeps the Keras 2 name as an alias.
Sequence = PyDataset

__all__ = [
    "Config", "CustomObjectScope", "bounding_boxes", "clear_session", "deserialize_keras_object",
    "disable_interactive_logging", "enable_interactive_logging", "get_registered_name",
    "get_registered_object", "get_source_inputs", "is_interactive_logging_enabled",
    "is_keras_tensor", "pack_x_y_sample_weight", "serialize_keras_object", "split_dataset",
    "standardize_dtype", "unpack_x_y_sample_weight",
    "Progbar",
    "PyDataset",
    "Sequence",
    "array_to_img",
    "custom_object_scope",
    "extract_archive",
    "get_custom_objects",
    "get_file",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "model_to_dot",
    "normalize",
    "pad_sequences",
    "plot_model",
    "print_msg",
    "save_img",
    "register_keras_serializable",
    "set_random_seed",
    "smart_resize",
    "to_categorical",
    "validate_file",
    # (helper prep)
    "FeatureSpace",
    "audio_dataset_from_directory",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]


def __getattr__(name):
    # keras.utils.FeatureSpace is a layer: imported on first use (nnforge.layers imports utils)
    if name == "FeatureSpace":
        from nnforge.layers.feature_space import FeatureSpace
        return FeatureSpace
    raise AttributeError(f"module 'nnforge.utils' has no attribute {name!r}")
