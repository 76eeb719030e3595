"""IMDB movie review sentiment data set, as ``keras.datasets.imdb``.

Files, in the data directory (``$NNFORGE_DATA_DIR`` or ``~/.nnforge/datasets``):

* ``imdb.npz``: Keras's file (keys ``x_train``, ``y_train``, ``x_test``, ``y_test``; the
  ``x`` arrays are object arrays of integer lists, which ``.npy`` stores as a pickle).
* ``imdb_word_index.json``: word -> rank.

When a file is missing it is downloaded from Keras's storage bucket (unless
``NNFORGE_OFFLINE=1``) and checked against Keras's published digest.

Safety: ``np.load(..., allow_pickle=True)`` would run whatever a tampered file asks for. We
read the ``.npz`` member by member: numeric arrays with ``allow_pickle=False``; object arrays
with the restricted unpickler of ``_safe_pickle`` (NumPy array reconstruction only, any other
global refused), then check that every review is a flat list of non-negative integers.

Differences from Keras: ``x_train``/``x_test`` are 1-D object arrays of Python lists (older
Keras returned these; newer Keras returns plain lists). Both index as ``x[i]`` and feed
``pad_sequences`` the same way; the arrays also accept fancy indexing.
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from . import _files
from ._safe_pickle import restricted_load

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
NPZ_NAME = "imdb.npz"
NPZ_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_NAME = "imdb_word_index.json"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _fetch(name: str, md5=None, sha256=None) -> str:
    root = _files.data_dir()
    path = os.path.join(root, name)
    if os.path.isfile(path):
        return path
    message = (
        f"IMDB file not found: {path}. Download {ORIGIN_FOLDER + name} and put it at {path}, "
        f"or set NNFORGE_DATA_DIR to the folder that contains {name}."
    )
    if _files.offline():
        raise _files.DatasetNotFoundError(message)
    try:
        _files.download(ORIGIN_FOLDER + name, path, md5=md5, sha256=sha256)
    except OSError as e:
        raise _files.DatasetNotFoundError(message + f" (download failed: {e})") from e
    return path


def _read_npy_member(zf: zipfile.ZipFile, member: str, path: str):
    with zf.open(member) as fp:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"{path}:{member}: unsupported .npy format version {version}")
        if not dtype.hasobject:
            count = int(np.prod(shape, dtype=np.int64))
            raw = fp.read(count * dtype.itemsize)
            if len(raw) != count * dtype.itemsize:
                raise ValueError(f"{path}:{member}: truncated array data")
            arr = np.frombuffer(raw, dtype=dtype).copy()
            return arr.reshape(shape, order="F" if fortran_order else "C")
        try:
            arr = restricted_load(fp, allow_object_arrays=True, encoding="latin1")
        except Exception as e:
            raise ValueError(f"{path}:{member}: refused or unreadable object array: {e}") from e
    if not isinstance(arr, np.ndarray) or arr.shape != tuple(shape):
        raise ValueError(f"{path}:{member}: pickled data does not match its header {shape}")
    return arr


def _read_npz(path: str, keys) -> dict:
    """The arrays ``keys`` of the ``.npz`` file ``path``, member by member
    (``_read_npy_member``: object arrays through the restricted unpickler)."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path} is not an .npz archive: {e}") from e
    with zf:
        names = set(zf.namelist())
        missing = [k for k in keys if k + ".npy" not in names]
        if missing:
            raise ValueError(f"{path} is missing the key(s) {missing}")
        return {k: _read_npy_member(zf, k + ".npy", path) for k in keys}


def _as_int_lists(arr, path: str, key: str):
    """The 1-D array ``arr`` of word-id sequences as an object array of lists of ints >= 0."""
    if arr.ndim != 1:
        raise ValueError(f"{path}: {key} must be 1-D, got shape {arr.shape}")
    out = np.empty(len(arr), dtype=object)
    for i, seq in enumerate(arr):
        if isinstance(seq, np.ndarray):
            if seq.ndim != 1 or not np.issubdtype(seq.dtype, np.integer):
                raise ValueError(f"{path}: {key}[{i}] is not a 1-D integer sequence")
            seq = seq.tolist()
        elif not isinstance(seq, (list, tuple)):
            raise ValueError(f"{path}: {key}[{i}] is a {type(seq).__name__}, expected a list")
        if not all(isinstance(w, int) and not isinstance(w, bool) and w >= 0 for w in seq):
            raise ValueError(f"{path}: {key}[{i}] holds something other than word ids >= 0")
        out[i] = list(seq)
    return out


def _check_labels(y, path: str, key: str) -> None:
    """Refuse ``y`` unless it is a 1-D integer array."""
    if y.dtype.hasobject or not np.issubdtype(y.dtype, np.integer) or y.ndim != 1:
        raise ValueError(f"{path}: {key} must be a 1-D integer array")


def _read_imdb_npz(path: str):
    arrays = _read_npz(path, _KEYS)
    for k in ("x_train", "x_test"):
        arrays[k] = _as_int_lists(arrays[k], path, k)
    for k in ("y_train", "y_test"):
        _check_labels(arrays[k], path, k)
    for split in ("train", "test"):
        if len(arrays["x_" + split]) != len(arrays["y_" + split]):
            raise ValueError(f"{path}: x_{split} and y_{split} differ in length")
    return arrays


def _remove_long_seq(maxlen, seq, label):
    new_seq, new_label = [], []
    for x, y in zip(seq, label):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def _to_object_array(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out


def load_data(path=NPZ_NAME, num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads the IMDB data set (Keras semantics).

    Args:
        path: file name inside the data directory, or an absolute/existing path.
        num_words: keep only the ``num_words`` most frequent words (ids ``>= num_words``
            become ``oov_char``, or are dropped when ``oov_char`` is None).
        skip_top: ids below ``skip_top`` are treated like rare words.
        maxlen: drop reviews whose length (after adding ``start_char``) is ``>= maxlen``.
        seed: shuffling seed (train and test are shuffled separately, as Keras).
        start_char: id prepended to every review (None: nothing prepended).
        oov_char: id for out-of-vocabulary words.
        index_from: offset added to every word id.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    if os.path.isfile(os.fspath(path)):
        path = os.fspath(path)
    else:
        path = _fetch(os.fspath(path), sha256=NPZ_SHA256 if path == NPZ_NAME else None)
    arrays = _read_imdb_npz(path)
    x_train, labels_train = arrays["x_train"], arrays["y_train"]
    x_test, labels_test = arrays["x_test"], arrays["y_test"]

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    if start_char is not None:
        x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
        x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    elif index_from:
        x_train = [[w + index_from for w in x] for x in x_train]
        x_test = [[w + index_from for w in x] for x in x_test]
    else:
        x_train = [list(x) for x in x_train]
        x_test = [list(x) for x in x_test]

    if maxlen:
        x_train, labels_train = _remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
                "was kept. Increase maxlen."
            )

    xs = x_train + x_test
    labels = np.concatenate([np.asarray(labels_train), np.asarray(labels_test)])

    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)

    if oov_char is not None:
        xs = [[w if (skip_top <= w < num_words) else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]

    idx = len(x_train)
    return ((_to_object_array(xs[:idx]), labels[:idx]),
            (_to_object_array(xs[idx:]), labels[idx:]))


def get_word_index(path=WORD_INDEX_NAME):
    """The dict mapping each word to its index (1 = most frequent) in the IMDB data set."""
    if os.path.isfile(os.fspath(path)):
        path = os.fspath(path)
    else:
        path = _fetch(os.fspath(path), md5=WORD_INDEX_MD5 if path == WORD_INDEX_NAME else None)
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict):
        raise ValueError(f"{path}: expected a JSON object mapping words to indices")
    return index
