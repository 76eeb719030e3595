"""CIFAR-10 small images classification data set, as ``keras.datasets.cifar10``.

Files: the canonical ``cifar-10-batches-py`` folder (``data_batch_1`` .. ``data_batch_5``,
``test_batch``) inside the data directory (``$NNFORGE_DATA_DIR`` or ``~/.nnforge/datasets``).
When it is missing, ``load_data`` downloads the official archive (unless ``NNFORGE_OFFLINE=1``),
checks its md5 and sha256, and extracts only that folder.

The batches are Python pickles. They are read with a restricted unpickler that rebuilds NumPy
arrays and plain containers only and refuses every other global, so a tampered file cannot
run code (see ``_safe_pickle.py``).

Data: Alex Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009,
https://www.cs.toronto.edu/~kriz/cifar.html (see DATA_LICENSES.md).
"""
from __future__ import annotations

import os

import numpy as np

from . import _files
from ._safe_pickle import restricted_load

DIRNAME = "cifar-10-batches-py"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
NUM_CLASSES = 10


def load_batch(fpath, label_key="labels"):
    """Reads one CIFAR batch file.

    Returns:
        ``(data, labels)``: uint8 array (n, 3, 32, 32) (channels first, as stored) and a
        uint8 label vector (n,).
    """
    with open(fpath, "rb") as f:
        try:
            d = restricted_load(f, encoding="bytes")
        except Exception as e:
            raise ValueError(f"{fpath}: not a valid CIFAR batch file: {e}") from e
    if not isinstance(d, dict):
        raise ValueError(f"{fpath}: expected a dict, got {type(d).__name__}")
    d = {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in d.items()}
    if "data" not in d or label_key not in d:
        raise ValueError(f"{fpath}: missing the 'data' or '{label_key}' entry "
                         f"(found {sorted(map(str, d))})")
    data = d["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{fpath}: 'data' must be a uint8 array of shape (n, 3072), got "
                         f"{getattr(data, 'dtype', type(data).__name__)} "
                         f"{getattr(data, 'shape', '')}")
    labels = d[label_key]
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{fpath}: '{label_key}' must be a list of integers") from e
    if labels.shape[0] != data.shape[0]:
        raise ValueError(f"{fpath}: {data.shape[0]} images but {labels.shape[0]} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError(f"{fpath}: labels out of range")
    return data.reshape(data.shape[0], 3, 32, 32), labels.astype(np.uint8)


def _ensure_files() -> str:
    return _files.ensure_extracted("CIFAR-10", DIRNAME, TRAIN_FILES + (TEST_FILE,), ORIGIN,
                                   ARCHIVE_NAME, md5=ARCHIVE_MD5, sha256=ARCHIVE_SHA256)


def load_data():
    """Loads the CIFAR-10 data set.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` uint8 of shape (N, 32, 32, 3)
        (channels last), ``y`` uint8 of shape (N, 1) with labels 0-9. For the real data set
        N is 50000 and 10000.
    """
    folder = _ensure_files()
    xs, ys = [], []
    for name in TRAIN_FILES:
        x, y = load_batch(os.path.join(folder, name))
        xs.append(x)
        ys.append(y)
    x_train = np.concatenate(xs)
    y_train = np.concatenate(ys)
    x_test, y_test = load_batch(os.path.join(folder, TEST_FILE))

    y_train = y_train.reshape(len(y_train), 1)
    y_test = y_test.reshape(len(y_test), 1)
    x_train = np.ascontiguousarray(x_train.transpose(0, 2, 3, 1))
    x_test = np.ascontiguousarray(x_test.transpose(0, 2, 3, 1))
    return (x_train, y_train), (x_test, y_test)
