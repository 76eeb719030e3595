"""nnforge.datasets: Keras's ``keras.datasets`` loaders (mnist ships with nnforge; cifar10 and
imdb read ``$NNFORGE_DATA_DIR`` or ``~/.nnforge/datasets``, downloading when online)."""
from . import cifar10, imdb, mnist

__all__ = ["cifar10", "imdb", "mnist"]
