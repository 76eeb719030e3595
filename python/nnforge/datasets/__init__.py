"""nnforge.datasets: Keras's ``keras.datasets`` loaders. ``mnist`` ships with nnforge; the
others read ``$NNFORGE_DATA_DIR`` (default ``~/.nnforge/datasets``), downloading and
verifying their files when missing and online (never when ``NNFORGE_OFFLINE=1``)."""
from . import cifar10, cifar100, fashion_mnist, imdb, mnist
from . import boston_housing, california_housing, reuters  # noqa: E402  (misc)

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist",
           "imdb", "mnist", "reuters"]
