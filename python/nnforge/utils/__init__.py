"""nnforge.utils: Keras's ``keras.utils`` helpers."""
from nnforge.saving.object_registration import (custom_object_scope, get_custom_objects,
                                                register_keras_serializable)

from .file_utils import extract_archive, get_file, validate_file
from .io_utils import print_msg
from .numerical_utils import normalize, to_categorical
from .progbar import Progbar
from .py_dataset import PyDataset
from .rng_utils import set_random_seed
from .sequence_utils import pad_sequences

# Keras 3 keeps the Keras 2 name as an alias.
Sequence = PyDataset

__all__ = [
    "Progbar",
    "PyDataset",
    "Sequence",
    "custom_object_scope",
    "extract_archive",
    "get_custom_objects",
    "get_file",
    "normalize",
    "pad_sequences",
    "print_msg",
    "register_keras_serializable",
    "set_random_seed",
    "to_categorical",
    "validate_file",
]
