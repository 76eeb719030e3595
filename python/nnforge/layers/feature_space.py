"""FeatureSpace (``keras.utils.FeatureSpace``): one object that preprocesses a dict of
structured features (normalise floats, look up or hash categories, cross them) and concatenates
the encodings, with Keras 3's feature types, ordering (features, then crosses, each sorted by
name), one-hot (multi-hot) encodings and config."""
from __future__ import annotations

import itertools

import numpy as np

from nnforge.core.tensor import KerasTensor

from .category_encoding import CategoryEncoding, Discretization
from .hashing import HashedCrossing, Hashing
from .layer import Layer
from .lookup import IntegerLookup, StringLookup, host_array
from .preprocessing import Normalization, Rescaling

_counter = itertools.count()


def _auto_name(prefix: str) -> str:
    n = next(_counter)
    return prefix if n == 0 else f"{prefix}_{n}"


class TFDIdentity(Layer):
    """The preprocessor of a plain float feature."""

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Cross:
    """A crossing of features hashed into ``crossing_dim`` bins (``FeatureSpace.cross``)."""

    def __init__(self, feature_names, crossing_dim: int, output_mode: str = "one_hot"):
        if output_mode not in {"int", "one_hot"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'int', 'one_hot'}}. Received: output_mode={output_mode}")
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> "Cross":
        return cls(**config)


class Feature:
    """A feature: its input dtype, preprocessing layer and ``output_mode`` ("int",
    "one_hot" or "float") (``FeatureSpace.feature``)."""

    def __init__(self, dtype, preprocessor, output_mode: str):
        if output_mode not in {"int", "one_hot", "float"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'int', 'one_hot', 'float'}}. Received: output_mode={output_mode}")
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            from nnforge.saving.serialization import deserialize_layer
            preprocessor = deserialize_layer(preprocessor)
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self) -> dict:
        from nnforge.saving.serialization import serialize_layer
        return {"dtype": self.dtype, "preprocessor": serialize_layer(self.preprocessor),
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> "Feature":
        return cls(**config)


def _serialize(obj) -> dict:
    return {"module": "keras.src.layers.preprocessing.feature_space",
            "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": type(obj).__name__}


def _deserialize(value, cls):
    if isinstance(value, dict) and "config" in value:
        return cls.from_config(value["config"])
    return value


def _preprocessed(kind: str, name, dtype: str, layer_cls, output_mode: str,
                 **layer_kwargs) -> Feature:
    """A ``FeatureSpace.<kind>(...)`` feature: ``layer_cls(**layer_kwargs)`` as its
    preprocessor, named ``"<name>_preprocessor"`` (``name`` defaults to a fresh
    ``"<kind>_<n>"``)."""
    name = name or _auto_name(kind)
    return Feature(dtype, layer_cls(name=f"{name}_preprocessor", **layer_kwargs), output_mode)


class FeatureSpace(Layer):
    """Preprocesses and encodes a dict of structured features (``keras.utils.FeatureSpace``).

    Each feature is one of "float", "float_rescaled", "float_normalized",
    "float_discretized", "integer_categorical", "string_categorical", "integer_hashed",
    "string_hashed" (or a ``FeatureSpace.<type>(...)`` / ``FeatureSpace.feature(...)`` object).
    ``adapt`` learns the normalisations and vocabularies; calling the FeatureSpace on a dict of
    batches returns the encodings concatenated (``output_mode="concat"``, features then crosses,
    each sorted by name) or as a dict.

    Args:
        features: dict of feature name to feature type or object.
        output_mode: "concat" (default) or "dict".
        crosses: list of feature-name tuples (or ``FeatureSpace.cross`` objects) to cross.
        crossing_dim: hash bins of a cross.
        hashing_dim: hash bins of a hashed feature.
        num_discretization_bins: bins of a discretized float.

    Example:

    >>> fs = FeatureSpace({"age": "float_normalized", "city": "string_categorical"})
    >>> fs.adapt({"age": [20.0, 30.0, 40.0], "city": ["a", "b", "a"]})
    >>> fs({"age": [25.0], "city": ["b"]}).shape
    (1, 4)
    """

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot") -> Cross:
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode) -> Feature:
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None) -> Feature:
        return _preprocessed("float", name, "float32", TFDIdentity, "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None) -> Feature:
        return _preprocessed("float_rescaled", name, "float32", Rescaling, "float",
                             scale=scale, offset=offset)

    @classmethod
    def float_normalized(cls, name=None) -> Feature:
        return _preprocessed("float_normalized", name, "float32", Normalization, "float",
                             axis=-1)

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot",
                          name=None) -> Feature:
        return _preprocessed("float_discretized", name, "float32", Discretization, output_mode,
                             num_bins=num_bins, bin_boundaries=bin_boundaries)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                            name=None) -> Feature:
        return _preprocessed("integer_categorical", name, "int32", IntegerLookup, output_mode,
                             max_tokens=max_tokens, num_oov_indices=num_oov_indices)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                           name=None) -> Feature:
        return _preprocessed("string_categorical", name, "string", StringLookup, output_mode,
                             max_tokens=max_tokens, num_oov_indices=num_oov_indices)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None) -> Feature:
        return _preprocessed("string_hashed", name, "string", Hashing, output_mode,
                             num_bins=num_bins)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None) -> Feature:
        return _preprocessed("integer_hashed", name, "int32", Hashing, output_mode,
                             num_bins=num_bins)

    def __init__(self, features, output_mode: str = "concat", crosses=None,
                 crossing_dim: int = 32, hashing_dim: int = 32,
                 num_discretization_bins: int = 32, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        self.crossing_dim, self.hashing_dim = crossing_dim, hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {n: self._standardize_feature(n, v) for n, v in features.items()}
        self.crosses = []
        for cross in crosses or []:
            cross = _deserialize(cross, Cross)
            if isinstance(cross, Cross):
                self.crosses.append(cross)
                continue
            if not crossing_dim:
                raise ValueError("When specifying `crosses`, the argument `crossing_dim` "
                                 "(dimensionality of the crossing space) should be specified "
                                 "as well.")
            for key in cross:
                if key not in features:
                    raise ValueError("All features referenced in the `crosses` argument should "
                                     "be present in the `features` dict. Received unknown "
                                     f"features: {cross}")
            self.crosses.append(Cross(cross, crossing_dim=crossing_dim))
        self.crosses_by_name = {c.name: c for c in self.crosses}
        if output_mode not in {"dict", "concat"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'dict', 'concat'}}. Received: output_mode={output_mode}")
        self.output_mode = output_mode
        self.preprocessors = {n: f.preprocessor for n, f in self.features.items()}
        self.crossers = {c.name: HashedCrossing(c.crossing_dim, name=c.name)
                         for c in self.crosses}
        self.one_hot_encoders = {}
        self._inputs = None
        self.encoded_features = None
        self._is_adapted = False
        self.built = True

    def _standardize_feature(self, name, feature) -> Feature:
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _deserialize(feature, Feature)
        makers = {"float": lambda: self.float(name=name),
                  "float_normalized": lambda: self.float_normalized(name=name),
                  "float_rescaled": lambda: self.float_rescaled(name=name),
                  "float_discretized": lambda: self.float_discretized(
                      name=name, num_bins=self.num_discretization_bins),
                  "integer_categorical": lambda: self.integer_categorical(name=name),
                  "string_categorical": lambda: self.string_categorical(name=name),
                  "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=name),
                  "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=name)}
        if feature not in makers:
            raise ValueError(f"Invalid feature type: {feature}")
        return makers[feature]()

    # ---- adapt ---------------------------------------------------------------------------------

    def _adaptable(self) -> list:
        out = []
        for name in self.features:
            p = self.preprocessors[name]
            if isinstance(p, Normalization) and p.mean is not None:
                continue
            if getattr(p, "_has_input_vocabulary", False):
                continue
            if isinstance(p, Discretization) and p.num_bins is None:
                continue
            if hasattr(p, "adapt"):
                out.append(name)
        return out

    def adapt(self, dataset) -> None:
        """Learn every adaptable preprocessor's state from ``dataset``: a dict of arrays/lists
        (one row per sample) or an iterable of such dicts (batches)."""
        if isinstance(dataset, dict):
            batches = [dataset]
        elif hasattr(dataset, "__iter__") and not isinstance(dataset, (str, bytes)):
            batches = list(dataset)
            if not all(isinstance(b, dict) for b in batches):
                raise ValueError("`adapt()` can only be called on a dict of arrays/lists or an "
                                 "iterable of such dicts (batches of features). Received "
                                 f"batches of type {type(batches[0]) if batches else None}")
        else:
            raise ValueError("`adapt()` can only be called on a dict of arrays/lists or an "
                             "iterable of such dicts. Received instead: "
                             f"{dataset} (of type {type(dataset)})")
        for name in self._adaptable():
            parts = [host_array(b[name], "FeatureSpace.adapt") for b in batches]
            data = np.concatenate([p.reshape(-1) if p.ndim <= 1 else p.reshape(len(p), -1)
                                   for p in parts])
            if data.ndim == 1:
                data = data[:, None]
            self.preprocessors[name].adapt(data)
        self._is_adapted = True
        self.one_hot_encoders = {}
        self.encoded_features = None

    def _check_if_adapted(self) -> None:
        if not self._is_adapted:
            if not self._adaptable():
                self._is_adapted = True
            else:
                raise ValueError("You need to call `.adapt(dataset)` on the FeatureSpace before "
                                 "you can start using it.")

    # ---- encoding ------------------------------------------------------------------------------

    def _cardinality(self, name, spec):
        p = self.preprocessors.get(name) or self.crossers.get(name)
        if isinstance(p, (IntegerLookup, StringLookup)):
            return p.vocabulary_size()
        if isinstance(p, CategoryEncoding):
            return p.num_tokens
        if isinstance(p, Discretization):
            return p.num_bins
        if isinstance(p, (HashedCrossing, Hashing)):
            return p.num_bins
        raise ValueError(f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a "
                         "standard feature and the dimensionality of its output space is not "
                         "known, thus it cannot be one-hot encoded. Try using "
                         "`output_mode='int'`.")

    def _encode(self, inputs: dict):
        pre = {n: self.preprocessors[n](inputs[n]) for n in sorted(self.features)}
        crossed = {c.name: self.crossers[c.name]([pre[f] for f in c.feature_names])
                   for c in sorted(self.crosses, key=lambda c: c.name)}
        names = sorted(pre) + sorted(crossed)
        values = [pre[n] for n in sorted(pre)] + [crossed[n] for n in sorted(crossed)]
        specs = [self.features[n] for n in sorted(pre)] + \
            [self.crosses_by_name[n] for n in sorted(crossed)]
        out = {}
        for name, value, spec in zip(names, values, specs):
            if spec.output_mode == "one_hot":
                enc = self.one_hot_encoders.get(name)
                if enc is None:
                    enc = CategoryEncoding(num_tokens=self._cardinality(name, spec),
                                           output_mode="multi_hot")
                    self.one_hot_encoders[name] = enc
                value = enc(value)
            out[name] = value
        if self.output_mode == "dict":
            return out
        parts = []
        for name in names:
            v = out[name]
            dt = str(v.dtype)
            if "int" in dt or dt in ("string", "object") or dt.startswith("<U"):
                raise ValueError(f"Cannot concatenate features because feature '{name}' has not "
                                 f"been encoded (it has dtype {dt}). Consider using "
                                 "`output_mode='dict'`.")
            parts.append(v)
        if isinstance(parts[0], KerasTensor):
            from .merging import Concatenate
            return Concatenate(axis=-1)(parts)
        from nnforge import ops
        return ops.concatenate([ops.cast(p, "float32") for p in parts], axis=-1)

    def get_inputs(self) -> dict:
        """A ``keras.Input`` of shape (1,) per feature, with the feature's dtype."""
        self._check_if_adapted()
        if self._inputs is None:
            from .input_layer import Input
            self._inputs = {n: Input(shape=(1,), dtype=f.dtype, name=n)
                            for n, f in self.features.items()}
        return self._inputs

    def get_encoded_features(self):
        """The encodings of ``get_inputs()`` (symbolic tensors), to build a model on."""
        self._check_if_adapted()
        if self.encoded_features is None:
            self.encoded_features = self._encode(self.get_inputs())
        return self.encoded_features

    def __call__(self, data):
        self._check_if_adapted()
        if not isinstance(data, dict):
            raise ValueError("A FeatureSpace can only be called with a dict. Received: "
                             f"data={data} (of type {type(data)})")
        arrays, rebatched = {}, False
        for name, value in data.items():
            a = host_array(value, "FeatureSpace") if not isinstance(value, (int, float, str)) \
                else np.asarray(value)
            if a.ndim == 0:
                a = a.reshape(1, 1)
                rebatched = True
            elif a.ndim == 1:
                a = a[:, None]
            arrays[name] = a
        missing = [n for n in self.features if n not in arrays]
        if missing:
            raise ValueError(f"FeatureSpace '{self.name}': the data lacks the features "
                             f"{missing}")
        out = self._encode(arrays)
        if rebatched:
            if self.output_mode == "concat":
                out = out[0]
            else:
                out = {k: (v[0] if len(v.shape) == 2 and v.shape[0] == 1 else v)
                       for k, v in out.items()}
        return out

    def call(self, data):
        return self(data)

    # ---- config --------------------------------------------------------------------------------

    def get_config(self) -> dict:
        return {"name": self.name,
                "features": {n: _serialize(f) for n, f in self.features.items()},
                "output_mode": self.output_mode,
                "crosses": [_serialize(c) for c in self.crosses],
                "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
                "num_discretization_bins": self.num_discretization_bins}

    @classmethod
    def from_config(cls, config: dict) -> "FeatureSpace":
        config = dict(config)
        for key in ("trainable", "dtype"):
            config.pop(key, None)
        return cls(**config)

    def get_build_config(self) -> dict:
        return {n: {} for n in self.features}

    def build_from_config(self, config) -> None:
        self._is_adapted = True

    def _sublayer_groups(self):
        """The preprocessors, named as Keras's saving library walks them
        (``features/<name>/preprocessor``), so their state saves with the FeatureSpace."""
        return [(f"features/{n}/preprocessor", f.preprocessor) for n, f in self.features.items()]

    def save(self, filepath) -> None:
        """Save to a ``.keras`` file (config, preprocessors' weights and vocabularies)."""
        from nnforge.saving import save_model
        save_model(self, filepath)
