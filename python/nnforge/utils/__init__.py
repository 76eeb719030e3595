"""nnforge.utils: Keras's ``keras.utils`` helpers."""
from .io_utils import print_msg
from .numerical_utils import normalize, to_categorical
from .progbar import Progbar
from .py_dataset import PyDataset
from .rng_utils import set_random_seed
from .sequence_utils import pad_sequences

__all__ = [
    "Progbar",
    "PyDataset",
    "normalize",
    "pad_sequences",
    "print_msg",
    "set_random_seed",
    "to_categorical",
]
