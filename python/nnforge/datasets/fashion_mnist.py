"""Fashion-MNIST, as ``keras.datasets.fashion_mnist``.

Files: the four gzip'd IDX files in ``<data dir>/fashion-mnist/`` (data dir:
``$NNFORGE_DATA_DIR`` or ``~/.nnforge/datasets``), downloaded from Keras's bucket when
missing and online, each checked against the sha256 Keras publishes. The IDX headers (magic
number, dimensions) are validated before the data is used.

Copyright Zalando SE, MIT licence (https://github.com/zalandoresearch/fashion-mnist).
"""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np

from . import _files

DIRNAME = "fashion-mnist"
BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASHES = {
    "train-labels-idx1-ubyte.gz":
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz":
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz":
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz":
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}


def read_idx(path: str, expected_ndim: int) -> np.ndarray:
    """Read a (gzip'd) IDX file of unsigned bytes, checking its header."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX file")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08 or ndim != expected_ndim:
        raise ValueError(f"{path}: not an unsigned-byte IDX file with {expected_ndim} dims")
    header = 4 + 4 * ndim
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    count = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != count:
        raise ValueError(f"{path}: header says {count} bytes of data, file has "
                         f"{len(raw) - header}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims).copy()


def _path(name: str) -> str:
    folder = os.path.join(_files.data_dir(), DIRNAME)
    path = os.path.join(folder, name)
    if os.path.isfile(path):
        return path
    message = (f"Fashion-MNIST file not found: {path}. Download {BASE_URL + name} "
               f"(sha256 {FILE_HASHES[name]}) into {folder}, or set NNFORGE_DATA_DIR to the "
               f"folder that contains {DIRNAME}/.")
    if _files.offline():
        raise _files.DatasetNotFoundError(message)
    try:
        _files.download(BASE_URL + name, path, sha256=FILE_HASHES[name])
    except OSError as e:
        raise _files.DatasetNotFoundError(message + f" (download failed: {e})") from e
    return path


def load_data():
    """Loads the Fashion-MNIST data set.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays (60000, 28, 28), (60000,),
        (10000, 28, 28), (10000,).
    """
    y_train = read_idx(_path("train-labels-idx1-ubyte.gz"), 1)
    x_train = read_idx(_path("train-images-idx3-ubyte.gz"), 3)
    y_test = read_idx(_path("t10k-labels-idx1-ubyte.gz"), 1)
    x_test = read_idx(_path("t10k-images-idx3-ubyte.gz"), 3)
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError("Fashion-MNIST: image and label counts differ")
    return (x_train, y_train), (x_test, y_test)
