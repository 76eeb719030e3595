"""Vocabulary lookups: StringLookup and IntegerLookup (Keras's ``IndexLookup`` family), and the
category encodings they share with CategoryEncoding.

The vocabulary lives on the host (a Python dict): lookups run on the CPU, as Keras runs them
through ``tf.lookup`` on the CPU, and the integer or encoded output goes to the current device.
A vocabulary learned by ``adapt`` is saved in the ``.keras`` file as Keras saves it:
``assets/<layer path>/vocabulary.txt`` (one token a line, special tokens included); a vocabulary
passed to the constructor stays in the config. TF-IDF weights are saved in the weights file
under the layer's ``vars/idf_weights``."""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from nnforge import backend
from nnforge.core.tensor import KerasTensor, Tensor

from .layer import Layer

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def host_array(x, fn: str) -> np.ndarray:
    """``x`` (list, NumPy/CuPy array, Tensor, bytes) as a NumPy array on the host."""
    if isinstance(x, Tensor):
        return backend.to_numpy(x.data)
    if backend.is_array(x):
        return backend.to_numpy(x)
    if isinstance(x, KerasTensor):
        raise TypeError(f"{fn}: got a symbolic KerasTensor; call the layer on data")
    if hasattr(x, "numpy") and not isinstance(x, (list, tuple, str, bytes)):
        return np.asarray(x.numpy())
    return np.asarray(x)


def decode_strings(a: np.ndarray, encoding: str = "utf-8") -> np.ndarray:
    """An array of Python ``str`` (object dtype), decoding bytes with ``encoding``."""
    if a.dtype.kind == "U":
        return a.astype(object)
    out = np.empty(a.shape, dtype=object)
    flat, src = out.reshape(-1), a.reshape(-1)
    for i, v in enumerate(src):
        flat[i] = v.decode(encoding) if isinstance(v, (bytes, np.bytes_)) else str(v)
    return out


def to_output(a: np.ndarray) -> Tensor:
    """A host result as a Tensor on the current device."""
    be = backend.current()
    return Tensor(be.asarray(a) if be is not backend.cpu else a)


def encode_categorical(ids: np.ndarray, output_mode: str, depth: int, dtype,
                       count_weights: Optional[np.ndarray] = None,
                       where: str = "") -> np.ndarray:
    """Keras's ``encode_categorical_inputs`` on the host: ids in [0, depth) (others ignored)
    to one-hot, multi-hot or count vectors."""
    ids = np.asarray(ids)
    if output_mode == "int":
        return ids.astype(dtype)
    if ids.ndim == 0:
        ids = ids[None]
    if output_mode == "one_hot":
        if ids.shape[-1] == 1 and ids.ndim > 1:
            ids = ids[..., 0]
        valid = (ids >= 0) & (ids < depth)
        out = np.zeros(ids.shape + (depth,), dtype=dtype)
        idx = np.nonzero(valid)
        out[idx + (ids[valid].astype(np.int64),)] = 1
        return out
    if ids.ndim == 1:  # one sample
        ids2 = ids[None]
        w2 = None if count_weights is None else np.asarray(count_weights)[None]
        return encode_categorical(ids2, output_mode, depth, dtype, w2, where)[0]
    lead = ids.shape[:-1]
    flat = ids.reshape(-1, ids.shape[-1])
    out = np.zeros((flat.shape[0], depth), dtype=np.float64)
    rows = np.repeat(np.arange(flat.shape[0]), flat.shape[1])
    cols = flat.reshape(-1).astype(np.int64)
    valid = (cols >= 0) & (cols < depth)
    if output_mode == "multi_hot":
        out[rows[valid], cols[valid]] = 1
    else:
        w = np.ones(cols.shape) if count_weights is None else \
            np.asarray(count_weights, np.float64).reshape(-1)
        np.add.at(out, (rows[valid], cols[valid]), w[valid])
    return out.reshape(lead + (depth,)).astype(dtype)


class IndexLookup(Layer):
    """Base of StringLookup and IntegerLookup: maps tokens to indices in
    ``[mask] + [OOV] * num_oov_indices + vocabulary`` (see those classes)."""

    _string_keys = True

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert: bool = False,
                 output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod", name=None,
                 salt=None, **kwargs):
        cls = type(self).__name__
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"{cls}: if set, `max_tokens` must be greater than 1. Received: "
                             f"max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{cls}: if pad_to_max_tokens is True, must set `max_tokens`. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(f"{cls}: `num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{cls}: invalid oov_method {oov_method!r}; expected 'floormod' "
                             "or 'farmhash'")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"{cls}: invalid value for argument output_mode. Expected one of "
                             f"{_OUTPUT_MODES}. Received: output_mode={output_mode!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{cls}: `output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise ValueError(f"{cls}: sparse outputs are not supported by nnforge (dense "
                             "arrays only); pass sparse=False")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{cls}: `idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: output_mode={output_mode}")
        if salt is not None:
            if not self._string_keys and oov_method != "farmhash":
                raise ValueError(f"{cls}: `salt` can only be used when `oov_method='farmhash'`. "
                                 f"Received: oov_method={oov_method}")
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError(f"{cls}: `salt` must be a tuple of 2 integers or a single "
                                 f"integer. Received: salt={salt}")
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._tokens: list = []
        self._index: dict = {}
        self.idf_weights = None
        self._counts: dict = {}
        self._doc_counts: dict = {}
        self._num_documents = 0
        if output_mode == "tf_idf" and self._has_input_vocabulary and idf_weights is None:
            raise ValueError(f"{cls}: when specifying the `vocabulary` argument, in TF-IDF "
                             "output mode, the `idf_weights` argument must also be provided.")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # ---- vocabulary ----------------------------------------------------------------------------

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def _key(self, token):
        raise NotImplementedError

    def _keys(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, mask and OOV indices included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary; with special tokens, a token's position is its index."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        if not include_special_tokens:
            vocab = vocab[self._token_start_index():]
        return vocab

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and, for ``tf_idf``, the document-frequency weights).

        Args:
            vocabulary: a list/array of tokens, or the path of a text file with one a line.
            idf_weights: one inverse document frequency per token (``tf_idf`` only).
        """
        cls = f"{type(self).__name__} '{self.name}'"
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{cls}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(f"{cls}: `idf_weights` should only be set if output_mode is "
                             f"`'tf_idf'`. Received: output_mode={self.output_mode}")
        if isinstance(vocabulary, (str, os.PathLike)):
            if self.output_mode == "tf_idf":
                raise ValueError(f"{cls}: output_mode 'tf_idf' does not support loading a "
                                 "vocabulary from file.")
            if not os.path.exists(vocabulary):
                raise ValueError(f"{cls}: vocabulary file {vocabulary} does not exist.")
            with open(vocabulary, encoding="utf-8") as f:
                lines = f.read().splitlines()
            while lines and lines[-1] == "":
                lines.pop()
            vocabulary = lines
        vocab = [self._key(v) for v in list(host_array(vocabulary, cls).reshape(-1))] \
            if not isinstance(vocabulary, list) else [self._key(v) for v in vocabulary]
        if not vocab:
            raise ValueError(f"{cls}: cannot set an empty vocabulary. Received: "
                             f"vocabulary={vocabulary}")
        oov_start, token_start = self._oov_start_index(), self._token_start_index()
        special = [self.mask_token] * oov_start + [self.oov_token] * self.num_oov_indices
        found_special = vocab[:token_start] == special
        tokens = vocab[token_start:] if found_special else vocab
        seen, repeated = set(), []
        for t in tokens:
            if t in seen and t not in repeated:
                repeated.append(t)
            seen.add(t)
        if repeated:
            raise ValueError(f"{cls}: the passed vocabulary has at least one repeated term. "
                             f"Please uniquify your dataset. The repeated terms are: {repeated}")
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(f"{cls}: found reserved mask token at unexpected location in "
                             f"`vocabulary`. Either remove all mask and OOV tokens, or include "
                             f"them only at the start of the vocabulary in precisely this "
                             f"order: {special}. Received: mask_token={self.mask_token}")
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            raise ValueError(f"{cls}: found reserved OOV token at unexpected location in "
                             f"`vocabulary`. Received: oov_token={self.oov_token}")
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(f"{cls}: attempted to set a vocabulary larger than the maximum "
                             f"vocab size. Received vocabulary size is "
                             f"{token_start + len(tokens)}; `max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            w = np.asarray(host_array(idf_weights, cls), dtype=np.float64)
            if w.ndim != 1:
                raise ValueError(f"{cls}: TF-IDF data must be a 1-index array.")
            if len(w) != len(vocab):
                raise ValueError(f"{cls}: `idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(w)}; len(vocabulary) is "
                                 f"{len(vocab)}")
            front, fval = (0, 0.0) if found_special else (token_start, float(np.average(w)))
            back = self.max_tokens - front - len(w) if (
                self.pad_to_max_tokens and self.max_tokens is not None) else 0
            self.idf_weights = np.pad(w, (front, back), constant_values=(fval, 0.0)).astype(
                np.float32)

    def _set_tokens(self, tokens: list) -> None:
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = {t: i + start for i, t in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()

    # ---- adapt ---------------------------------------------------------------------------------

    def adapt(self, data, steps=None) -> None:
        """Learn the vocabulary from ``data`` (an array, a list, or an iterable of batches):
        tokens sorted by decreasing count, ties by decreasing token, as Keras sorts them."""
        adapt_in_batches(self, data, steps)

    def reset_state(self) -> None:
        self._counts, self._doc_counts, self._num_documents = {}, {}, 0

    def update_state(self, data) -> None:
        if self._has_input_vocabulary:
            raise ValueError(f"{type(self).__name__} '{self.name}': cannot adapt a layer that "
                             "was constructed with a `vocabulary`.")
        a = self._keys(host_array(data, type(self).__name__))
        if a.ndim == 0:
            a = a[None]
        for t in a.reshape(-1):
            self._counts[t] = self._counts.get(t, 0) + 1
        if self.output_mode == "tf_idf":
            docs = a if a.ndim > 1 else a[:, None]
            docs = docs.reshape(docs.shape[0], -1)
            for row in docs:
                for t in set(row.tolist()):
                    self._doc_counts[t] = self._doc_counts.get(t, 0) + 1
            self._num_documents += docs.shape[0]

    def finalize_state(self) -> None:
        if self._has_input_vocabulary or not self._counts:
            return
        counts = dict(self._counts)
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(special, None)
        # decreasing count, ties by decreasing token (np.lexsort(...)[::-1] in Keras)
        tokens = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        start = self._token_start_index()
        if self.max_tokens:
            tokens = tokens[:max(self.max_tokens - start, 0)]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            dc = np.array([self._doc_counts.get(t, 0) for t in tokens], np.float64)
            idf = np.log(1 + self._num_documents / (1 + dc)).astype(np.float32)
            idf = np.pad(idf, (start, 0), constant_values=np.mean(idf) if len(idf) else 0)
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - idf.size))
            self.idf_weights = idf.astype(np.float32)

    # ---- call ----------------------------------------------------------------------------------

    def _lookup(self, a: np.ndarray) -> np.ndarray:
        cls = f"{type(self).__name__} '{self.name}'"
        if self.invert:
            ids = a.astype(np.int64)
            vocab = self.get_vocabulary()
            out = np.empty(ids.shape, dtype=object)
            flat, src = out.reshape(-1), ids.reshape(-1)
            for i, v in enumerate(src):
                if self.mask_token is not None and v == 0:
                    flat[i] = self.mask_token
                elif self._token_start_index() <= v < len(vocab):
                    flat[i] = vocab[v]
                else:
                    flat[i] = self.oov_token
            return self._invert_output(out)
        keys = self._keys(a)
        default = self._oov_start_index() if self.num_oov_indices == 1 else -1
        out = np.fromiter((self._index.get(t, default) for t in keys.reshape(-1)),
                          dtype=np.int64, count=keys.size).reshape(keys.shape)
        if self.mask_token is not None:
            mask_value = 0 if self.output_mode == "int" else np.iinfo(np.int64).max
            out = np.where(keys == self.mask_token, mask_value, out)
        if self.num_oov_indices > 1:
            oov = out == -1
            if oov.any():
                if not self._string_keys and self.oov_method != "farmhash":
                    bucket = np.mod(keys, self.num_oov_indices)  # integers: v mod n
                else:  # FarmHash (SipHash with a salt) of the token, as TensorFlow's buckets
                    from .hashing import _as_strings, hash_strings
                    bucket = np.zeros(keys.shape, np.int64)
                    bucket[oov] = hash_strings(_as_strings(keys[oov]), self.num_oov_indices,
                                               self.salt)
                out = np.where(oov, bucket + self._oov_start_index(), out)
        elif self.num_oov_indices == 0 and (out == -1).any():
            bad = keys[out == -1]
            raise ValueError(f"{cls}: when `num_oov_indices=0` all inputs should be in "
                             f"vocabulary, found OOV values {bad.tolist()}, consider setting "
                             "`num_oov_indices=1`.")
        return out

    def _invert_output(self, out):
        return out

    def call(self, inputs):
        a = host_array(inputs, type(self).__name__)
        scalar = a.ndim == 0
        if scalar:
            a = a[None]
        ids = self._lookup(a)
        if self.invert:
            return ids[0] if scalar else ids
        if self.output_mode == "int":
            return to_output(ids[0] if scalar else ids)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode_categorical(ids, mode, depth, np.float32)
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                raise ValueError(f"{type(self).__name__} '{self.name}': when `output_mode` is "
                                 "'tf_idf', `idf_weights` must be provided.")
            out = out * self.idf_weights
        return to_output(out.astype(np.float32))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return (tuple(input_shape)[0], depth)

    # ---- saving --------------------------------------------------------------------------------

    def save_own_variables(self, store) -> None:
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            store["idf_weights"] = np.asarray(self.idf_weights)

    def load_own_variables(self, store) -> None:
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self.idf_weights = np.asarray(store["idf_weights"], np.float32)

    def save_assets(self, dir_path: str) -> None:
        if self.input_vocabulary is not None:
            return  # in the config
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary(include_special_tokens=True)))

    def load_assets(self, dir_path: str) -> None:
        if self.input_vocabulary is not None:
            return
        path = os.path.join(dir_path, "vocabulary.txt")
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        if not lines:
            return
        values = [self._key(line) for line in lines]
        if self.output_mode == "tf_idf":  # the weights come from the weights file
            start = self._token_start_index()
            self._set_tokens(values[start:] if values[:start] == self._special() else values)
        else:
            self.set_vocabulary(values)

    def _special(self) -> list:
        return [self.mask_token] * self._oov_start_index() + \
            [self.oov_token] * self.num_oov_indices

    def get_build_config(self):
        return {}

    def build_from_config(self, config) -> None:
        self.built = True

    def get_config(self) -> dict:
        config = super().get_config()
        vocab = self.input_vocabulary
        if vocab is not None and not isinstance(vocab, list):
            vocab = host_array(vocab, type(self).__name__).tolist()
        idf = self.input_idf_weights
        if idf is not None and not isinstance(idf, list):
            idf = np.asarray(host_array(idf, type(self).__name__)).tolist()
        config.update({"invert": self.invert, "max_tokens": self.max_tokens,
                       "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                       "mask_token": self.mask_token, "output_mode": self.output_mode,
                       "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                       "vocabulary_dtype": self.vocabulary_dtype, "idf_weights": idf,
                       "vocabulary": vocab, "vocabulary_size": self._frozen_vocab_size,
                       "oov_method": self.oov_method, "salt": self.salt})
        return config


def _is_batch_iterable(data) -> bool:
    if isinstance(data, (np.ndarray, Tensor, list, tuple, str, bytes)) or backend.is_array(data):
        return False
    return hasattr(data, "__iter__")


def adapt_in_batches(layer, data, steps=None) -> None:
    """Keras's ``adapt`` loop for a layer with ``reset_state``, ``update_state`` and
    ``finalize_state``: reset, update on each batch of ``data``, finalize.

    Args:
        layer: the preprocessing layer to adapt.
        data: an array, list or tensor (one batch), or an iterable of batches.
        steps: at most this many batches of an iterable (None: all of them).

    Example:

    >>> layer = StringLookup()
    >>> adapt_in_batches(layer, iter([["a", "b"], ["a"]]), steps=1)
    >>> layer.get_vocabulary()
    ['[UNK]', 'b', 'a']
    """
    layer.reset_state()
    batches = data if _is_batch_iterable(data) else [data]
    for i, batch in enumerate(batches):
        if steps is not None and i >= steps:
            break
        layer.update_state(batch)
    layer.finalize_state()


class StringLookup(IndexLookup):
    """Maps strings to integer indices (``keras.layers.StringLookup``).

    Indices: ``mask_token`` (if set, output_mode "int") is 0, then ``num_oov_indices`` OOV
    indices, then the vocabulary in order. ``adapt`` learns the vocabulary from data, most
    frequent first.

    Args:
        max_tokens: maximum vocabulary size (special tokens included), or None.
        num_oov_indices: out-of-vocabulary indices; with several, an OOV token goes to the
            bucket of its FarmHash fingerprint (SipHash keyed by ``salt`` when given).
        mask_token: token mapped to index 0 (and dropped by the encodings), or None.
        oov_token: the token ``invert=True`` returns for OOV indices (default "[UNK]").
        vocabulary: a list of strings or a text file path.
        idf_weights: per-token weights for ``output_mode="tf_idf"``.
        invert: map indices back to strings.
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
        pad_to_max_tokens: encodings have ``max_tokens`` columns.
        sparse: must be False (nnforge outputs dense arrays).
        encoding: the text encoding of byte-string inputs.
        salt: an int or a pair of ints: OOV buckets by SipHash keyed by it.

    Example:

    >>> layer = StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer([["a", "c", "d"], ["d", "z", "b"]]).numpy()
    array([[1, 3, 4],
           [4, 0, 2]])
    """

    _string_keys = True

    def __init__(self, max_tokens=None, num_oov_indices: int = 1, mask_token=None,
                 oov_token: str = "[UNK]", vocabulary=None, idf_weights=None,
                 invert: bool = False, output_mode: str = "int", pad_to_max_tokens: bool = False,
                 sparse: bool = False, encoding: str = "utf-8", name=None, salt=None,
                 **kwargs):
        kwargs.pop("vocabulary_dtype", None)
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         vocabulary_dtype="string", idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, name=name, salt=salt,
                         **kwargs)

    def _key(self, token):
        if isinstance(token, (bytes, np.bytes_)):
            return token.decode(self.encoding)
        return str(token)

    def _keys(self, a):
        if a.dtype.kind not in "USO":
            raise ValueError(f"StringLookup '{self.name}': expected string inputs, got dtype "
                             f"{a.dtype} with shape {a.shape}")
        return decode_strings(a, self.encoding)

    def _invert_output(self, out):
        return out.astype(str) if out.size else out.astype("<U1")

    def get_config(self) -> dict:
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    """Maps integers to contiguous indices (``keras.layers.IntegerLookup``).

    Indices: ``mask_token`` (if set, output_mode "int") is 0, then ``num_oov_indices`` OOV
    indices (an OOV value ``v`` goes to bucket ``v mod num_oov_indices``), then the
    vocabulary in order.

    Args:
        max_tokens: maximum vocabulary size (special tokens included), or None.
        num_oov_indices: out-of-vocabulary indices.
        mask_token: value mapped to index 0, or None.
        oov_token: the value ``invert=True`` returns for OOV indices (default -1).
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
        vocabulary: a list of ints or a text file path.
        vocabulary_dtype: "int64" (default) or "int32".
        idf_weights, invert, pad_to_max_tokens, sparse: as in StringLookup.
        oov_method: "floormod" (default) or "farmhash" (hash the decimal string, as
            StringLookup hashes tokens).
        salt: keys SipHash instead of FarmHash for the OOV buckets ("farmhash" only).

    Example:

    >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer([[12, 1138, 42], [42, 1000, 36]]).numpy()
    array([[1, 3, 4],
           [4, 0, 2]])
    """

    _string_keys = False

    def __init__(self, max_tokens=None, num_oov_indices: int = 1, mask_token=None,
                 oov_token: int = -1, vocabulary=None, vocabulary_dtype: str = "int64",
                 idf_weights=None, invert: bool = False, output_mode: str = "int",
                 sparse: bool = False, pad_to_max_tokens: bool = False,
                 oov_method: str = "floormod", salt=None, name=None, **kwargs):
        if oov_token is None:
            raise ValueError("IntegerLookup: the `oov_token` argument must not be None")
        if vocabulary_dtype not in ("int64", "int32"):
            raise ValueError(f"IntegerLookup: vocabulary_dtype must be 'int64' or 'int32', got "
                             f"{vocabulary_dtype!r}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token,
                         vocabulary_dtype=vocabulary_dtype, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
                         oov_method=oov_method, salt=salt, name=name, **kwargs)

    def _key(self, token):
        return int(token)

    def _keys(self, a):
        if a.dtype.kind not in "iub":
            if a.dtype.kind == "f" and np.all(np.mod(a, 1) == 0):
                return a.astype(np.int64)
            raise ValueError(f"IntegerLookup '{self.name}': expected integer inputs, got dtype "
                             f"{a.dtype} with shape {a.shape}")
        return a.astype(np.int64)

    def _invert_output(self, out):
        return to_output(out.astype(np.dtype(self.vocabulary_dtype)))

    def get_config(self) -> dict:
        config = super().get_config()
        for k in ("oov_token", "mask_token"):
            if config[k] is not None:
                config[k] = int(config[k])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
