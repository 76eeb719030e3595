"""Reuters newswire topic classification data set, as ``keras.datasets.reuters``.

Files, in the data directory (``$NNFORGE_DATA_DIR`` or ``~/.nnforge/datasets``):

* ``reuters.npz``: Keras's file (keys ``x``: an object array of word-id lists, ``y``: the
  topic of each newswire, 0-45);
* ``reuters_word_index.json``: word -> rank.

When a file is missing it is downloaded from Keras's bucket (unless ``NNFORGE_OFFLINE=1``) and
checked against Keras's digest. The object array is read with the restricted unpickler (as
``imdb``): NumPy arrays and lists of integers only, any other global refused.

Differences from Keras: ``x_train``/``x_test`` are 1-D object arrays of lists (Keras builds
them with ``np.array(..., dtype=object)``, which is 2-D when every newswire has the same
length); both index and feed ``pad_sequences`` the same way.
"""
from __future__ import annotations

import json

import numpy as np

from ._fetch import fetch
from .imdb import _as_int_lists, _check_labels, _read_npz, _remove_long_seq, _to_object_array

NPZ_NAME = "reuters.npz"
NPZ_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_NAME = "reuters_word_index.json"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead")


def _read_reuters_npz(path: str):
    arrays = _read_npz(path, ("x", "y"))
    x = _as_int_lists(arrays["x"], path, "x")
    y = arrays["y"]
    _check_labels(y, path, "y")
    if len(x) != len(y):
        raise ValueError(f"{path}: x and y differ in length ({len(x)} and {len(y)})")
    return x, y


def load_data(path=NPZ_NAME, num_words=None, skip_top: int = 0, maxlen=None,
              test_split: float = 0.2, seed: int = 113, start_char=1, oov_char=2,
              index_from: int = 3):
    """Loads the Reuters newswire data set (Keras semantics).

    Args:
        path: file name inside the data directory, or an existing path.
        num_words: keep only the ``num_words`` most frequent words (rarer ids become
            ``oov_char``, or are dropped when ``oov_char`` is None).
        skip_top: ids below ``skip_top`` are treated like rare words.
        maxlen: drop newswires whose length (after ``start_char``) is ``>= maxlen``.
        test_split: the fraction of the data kept for the test set.
        seed: the seed of the shuffle before the split.
        start_char: id prepended to every newswire (None: nothing).
        oov_char: id of out-of-vocabulary words.
        index_from: offset added to every word id.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = nnforge.datasets.reuters.load_data(
    ...     num_words=10000)
    """
    xs, labels = _read_reuters_npz(fetch("Reuters", path, NPZ_NAME, sha256=NPZ_SHA256))
    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    else:
        xs = [list(x) for x in xs]
    if maxlen:
        xs, labels = _remove_long_seq(maxlen, xs, labels)
        if not xs:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             "sequence was kept. Increase maxlen.")
    labels = np.asarray(labels)
    if not num_words:
        num_words = max(max(x) for x in xs if x)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = int(len(xs) * (1 - test_split))
    return ((_to_object_array(xs[:idx]), np.array(labels[:idx])),
            (_to_object_array(xs[idx:]), np.array(labels[idx:])))


def get_word_index(path=WORD_INDEX_NAME) -> dict:
    """The dict mapping each word to its index (1 = most frequent) in the Reuters data set.

    Args:
        path: file name inside the data directory, or an existing path.

    Returns:
        ``{word: index}``.

    Example:

    >>> index = nnforge.datasets.reuters.get_word_index()
    """
    path = fetch("Reuters word index", path, WORD_INDEX_NAME, md5=WORD_INDEX_MD5)
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict):
        raise ValueError(f"{path}: expected a JSON object mapping words to indices")
    return index


def get_label_names() -> tuple:
    """The names of the 46 topics, indexed by label (``keras.datasets.reuters.get_label_names``).

    Returns:
        A tuple of 46 strings.

    Example:

    >>> nnforge.datasets.reuters.get_label_names()[3]
    'earn'
    """
    return _LABEL_NAMES
