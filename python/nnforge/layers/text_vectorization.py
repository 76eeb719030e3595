"""TextVectorization: strings to token indices or bag-of-words vectors (Keras semantics:
standardize, split, n-grams, then a StringLookup with mask token ``""``), on the host."""
from __future__ import annotations

import re

import numpy as np

from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object

from .layer import Layer
from .lookup import StringLookup, adapt_in_batches, decode_strings, host_array

_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WHITESPACE = re.compile(r"[ \t\n\r\v\f]+")


class TextVectorization(Layer):
    """Maps text to integer sequences or to vectors (``keras.layers.TextVectorization``).

    Each string is standardized (``"lower_and_strip_punctuation"``: ASCII lower case, ASCII
    punctuation removed), split (``"whitespace"`` or ``"character"``), optionally turned into
    n-grams, and looked up in a vocabulary learned by ``adapt`` (most frequent first) or given.
    Index 0 is padding (the mask token ``""``), 1 is out-of-vocabulary.

    Args:
        max_tokens: maximum vocabulary size, padding and OOV included.
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None, or a callable on a NumPy array of strings.
        split: ``"whitespace"`` (default), ``"character"``, None, or a callable returning a list
            of tokens per string.
        ngrams: None, an int n (1..n-grams) or a tuple of widths.
        output_mode: ``"int"`` (default), ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: pad or truncate the ``"int"`` output to this length.
        pad_to_max_tokens: vector outputs have ``max_tokens`` columns.
        vocabulary: a list of tokens or a text file path.
        idf_weights: for ``"tf_idf"`` with a given vocabulary.
        sparse, ragged: must be False (nnforge outputs dense arrays).
        encoding: the text encoding of byte-string inputs.

    Example:

    >>> vectorizer = TextVectorization(output_sequence_length=4)
    >>> vectorizer.adapt(["the cat sat", "the dog"])
    >>> vectorizer(["The dog sat!"]).numpy()
    array([[2, 4, 3, 0]])
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode: str = "int",
                 output_sequence_length=None, pad_to_max_tokens: bool = False,
                 vocabulary=None, idf_weights=None, sparse: bool = False, ragged: bool = False,
                 encoding: str = "utf-8", name=None, **kwargs):
        cls = "TextVectorization"
        if not (standardize is None or callable(standardize) or standardize in (
                "lower_and_strip_punctuation", "lower", "strip_punctuation")):
            raise ValueError(f"{cls}: invalid value for argument standardize: {standardize!r}")
        if not (split is None or callable(split) or split in ("whitespace", "character")):
            raise ValueError(f"{cls}: invalid value for argument split: {split!r}")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode not in ("int", "one_hot", "multi_hot", "count", "tf_idf"):
            raise ValueError(f"{cls}: invalid value for argument output_mode: {output_mode!r}")
        if not (ngrams is None or isinstance(ngrams, int) or isinstance(ngrams, tuple)
                and all(isinstance(i, int) for i in ngrams)):
            raise ValueError(f"{cls}: `ngrams` must be None, an integer, or a tuple of integers. "
                             f"Received: ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None or
                                         isinstance(output_sequence_length, int)):
            raise ValueError(f"{cls}: `output_sequence_length` must be either None or an "
                             f"integer when `output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(f"{cls}: `output_sequence_length` must not be set if `output_mode` "
                             f"is not 'int'. Received output_sequence_length="
                             f"{output_sequence_length}.")
        if sparse or ragged:
            raise ValueError(f"{cls}: sparse and ragged outputs are not supported by nnforge "
                             "(dense arrays only)")
        has_vocab = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._has_input_vocabulary = has_vocab
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, has_input_vocabulary=has_vocab, encoding=encoding,
            vocabulary_size=vocabulary_size, name=f"{self.name}_lookup")
        self.built = True

    # ---- preprocessing -------------------------------------------------------------------------

    def _standardized(self, a: np.ndarray) -> np.ndarray:
        s = self._standardize
        if callable(s):
            return decode_strings(np.asarray(s(a.astype(str))), self._encoding)
        out = a.copy()
        flat = out.reshape(-1)
        for i, t in enumerate(flat):
            if s in ("lower", "lower_and_strip_punctuation"):
                t = t.translate(_ASCII_LOWER)
            if s in ("strip_punctuation", "lower_and_strip_punctuation"):
                t = _PUNCTUATION.sub("", t)
            flat[i] = t
        return out

    def _tokens(self, data) -> list:
        """A list of token lists, one per input string (or per row when split is None)."""
        a = host_array(data, "TextVectorization")
        if a.dtype.kind not in "USO":
            raise ValueError(f"TextVectorization '{self.name}': expected string inputs, got "
                             f"dtype {a.dtype} with shape {a.shape}")
        a = decode_strings(a, self._encoding)
        if a.ndim == 0:
            a = a[None]
        a = self._standardized(a)
        if self._split is None:
            rows = [list(r) for r in (a.reshape(-1, 1) if a.ndim == 1 else
                                      a.reshape(a.shape[0], -1))]
        else:
            if a.ndim > 1:
                if a.shape[-1] != 1:
                    raise ValueError(f"TextVectorization '{self.name}': when tokenizing "
                                     "strings, the input rank must be 1 or the last shape "
                                     f"dimension must be 1. Received: inputs.shape={a.shape} "
                                     f"with rank={a.ndim}")
                a = a[..., 0]
            a = a.reshape(-1)
            if self._split == "whitespace":
                rows = [[t for t in _WHITESPACE.split(s) if t] for s in a]
            elif self._split == "character":
                rows = [list(s) for s in a]
            else:
                rows = [[str(t) for t in self._split(s)] for s in a]
        if self._ngrams is not None:
            rows = [[" ".join(r[i:i + n]) for n in self._ngrams for i in range(len(r) - n + 1)]
                    for r in rows]
        return rows

    def _padded(self, rows: list, length=None) -> np.ndarray:
        width = max((len(r) for r in rows), default=0) if length is None else length
        out = np.full((len(rows), width), "", dtype=object)
        for i, r in enumerate(rows):
            r = r[:width]
            out[i, :len(r)] = r
        return out

    # ---- vocabulary ----------------------------------------------------------------------------

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary (and for ``"tf_idf"`` the document frequencies) from ``data``:
        a list or array of strings, or an iterable of batches of them."""
        adapt_in_batches(self, data, steps)

    def update_state(self, data) -> None:
        self._lookup_layer.update_state(self._padded(self._tokens(data)))

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary: ``""`` (padding), ``"[UNK]"``, then the tokens."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The vocabulary size, padding and OOV included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and ``idf_weights`` for ``"tf_idf"``)."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ---- call ----------------------------------------------------------------------------------

    def call(self, inputs):
        rows = self._tokens(inputs)
        if self._output_mode == "int":
            return self._lookup_layer.call(self._padded(rows, self._output_sequence_length))
        return self._lookup_layer.call(self._padded(rows))

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        lk = self._lookup_layer
        depth = lk.max_tokens if lk.pad_to_max_tokens else lk._frozen_vocab_size
        return (input_shape[0], depth)

    # ---- saving --------------------------------------------------------------------------------

    def _sublayer_groups(self):
        return []  # the lookup is internal: its state is saved as this layer's, as in Keras

    def save_own_variables(self, store) -> None:
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store) -> None:
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path: str) -> None:
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path: str) -> None:
        self._lookup_layer.load_assets(dir_path)

    def get_build_config(self):
        return {}

    def build_from_config(self, config) -> None:
        self.built = True

    def get_config(self) -> dict:
        lk = self._lookup_layer
        std, split = self._standardize, self._split
        config = super().get_config()
        vocab = lk.input_vocabulary
        if vocab is not None and not isinstance(vocab, list):
            vocab = host_array(vocab, "TextVectorization").tolist()
        idf = lk.input_idf_weights
        if idf is not None and not isinstance(idf, list):
            idf = np.asarray(host_array(idf, "TextVectorization")).tolist()
        config.update({
            "max_tokens": lk.max_tokens,
            "standardize": std if std is None or isinstance(std, str) else
            serialize_keras_object(std),
            "split": split if split is None or isinstance(split, str) else
            serialize_keras_object(split),
            "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lk.pad_to_max_tokens, "sparse": lk.sparse,
            "ragged": self._ragged, "vocabulary": vocab, "idf_weights": idf,
            "encoding": self._encoding, "vocabulary_size": self.vocabulary_size()})
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                config[key] = deserialize_keras_object(config[key])
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return super().from_config(config)
