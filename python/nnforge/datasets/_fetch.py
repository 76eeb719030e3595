"""One file of Keras's dataset bucket in the data directory: found there, or downloaded (unless
``NNFORGE_OFFLINE=1``) and checked against Keras's published digest."""
from __future__ import annotations

import os
import zipfile

import numpy as np

from . import _files

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def fetch(dataset: str, path, canonical: str, md5=None, sha256=None) -> str:
    """The local path of ``path``: an existing file as given, else ``data_dir()/path``
    (downloaded from Keras's bucket when missing; the digest is checked for the canonical
    file name only)."""
    path = os.fspath(path)
    if os.path.isfile(path):
        return path
    root = _files.data_dir()
    local = os.path.join(root, path)
    if os.path.isfile(local):
        return local
    origin = ORIGIN_FOLDER + canonical
    message = (f"{dataset} file not found: {local}. Download {origin} and put it at {local}, "
               f"or set NNFORGE_DATA_DIR to the folder that contains {path}.")
    if _files.offline():
        raise _files.DatasetNotFoundError(message)
    canon = os.path.basename(path) == canonical
    try:
        _files.download(origin, local, md5=md5 if canon else None,
                        sha256=sha256 if canon else None)
    except OSError as e:
        raise _files.DatasetNotFoundError(message + f" (download failed: {e})") from e
    return local


def load_numeric_npz(path: str, keys) -> dict:
    """The numeric arrays ``keys`` of an ``.npz`` file, read without pickle."""
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise ValueError(f"{path} is missing the key(s) {missing} (has {f.files})")
            out = {k: f[k] for k in keys}
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"{path} is not a readable .npz archive: {e}") from e
    for k, a in out.items():
        if a.dtype.hasobject or not np.issubdtype(a.dtype, np.number):
            raise ValueError(f"{path}: '{k}' must be a numeric array, got {a.dtype}")
    if len({len(a) for a in out.values()}) != 1:
        raise ValueError(f"{path}: the arrays {list(keys)} differ in length")
    return out


def shuffle_split(x, y, test_split: float, seed: int):
    """Keras's split of the housing data sets: shuffled by ``RandomState(seed)``, the first
    ``int(n * (1 - test_split))`` samples for training."""
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 and "
                         "1 (exclusive of 1).")
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (np.array(x[:n]), np.array(y[:n])), (np.array(x[n:]), np.array(y[n:]))
