"""CategoryEncoding and Discretization: integer categories and binned floats to one-hot,
multi-hot or count vectors (Keras's ``encode_categorical_inputs``), computed on the host."""
from __future__ import annotations

import numpy as np

from .layer import Layer
from .lookup import adapt_in_batches, encode_categorical, host_array, to_output

_MODES = ("int", "one_hot", "multi_hot", "count")


class CategoryEncoding(Layer):
    """Encodes integer features in ``[0, num_tokens)`` (``keras.layers.CategoryEncoding``).

    Args:
        num_tokens: the number of categories; inputs must lie in ``[0, num_tokens)``.
        output_mode: ``"multi_hot"`` (default; one row per sample, a 1 for each category
            present), ``"one_hot"`` (a vector per input value) or ``"count"`` (how often each
            category occurs; ``count_weights`` weights them).
        sparse: must be False (nnforge outputs dense arrays).

    Example:

    >>> CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1]).numpy()
    array([[0., 0., 0., 1.],
           [0., 0., 1., 0.],
           [1., 0., 0., 0.],
           [0., 1., 0., 0.]], dtype=float32)
    """

    def __init__(self, num_tokens=None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"CategoryEncoding '{self.name}': unknown arg for output_mode: "
                             f"{output_mode}")
        if num_tokens is None:
            raise ValueError(f"CategoryEncoding '{self.name}': num_tokens must be set to use "
                             "this layer. If the number of tokens is not known beforehand, use "
                             "the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"CategoryEncoding '{self.name}': `num_tokens` must be >= 1. "
                             f"Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError(f"CategoryEncoding '{self.name}': sparse outputs are not "
                             "supported by nnforge; pass sparse=False")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, sparse
        self.built = True

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"CategoryEncoding '{self.name}': `count_weights` is not used when "
                             f"`output_mode` is not `'count'`. Received "
                             f"`count_weights={count_weights}`.")
        a = host_array(inputs, "CategoryEncoding")
        if a.dtype.kind == "f":
            a = a.astype(np.int64)
        if a.size and (a.min() < 0 or a.max() >= self.num_tokens):
            raise ValueError(f"CategoryEncoding '{self.name}': input values must be in the "
                             f"range 0 <= values < num_tokens with num_tokens="
                             f"{self.num_tokens}; got values in [{a.min()}, {a.max()}]")
        w = None if count_weights is None else host_array(count_weights, "CategoryEncoding")
        return to_output(encode_categorical(a, self.output_mode, self.num_tokens, np.float32,
                                            w))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            if input_shape[-1] != 1 or len(input_shape) == 1:
                return input_shape + (self.num_tokens,)
            return input_shape[:-1] + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return config


def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """Sorted values sampled every ``len/(1/epsilon)`` (at least every one), with weights:
    the summary Keras's Discretization merges batch by batch."""
    v = np.sort(values.reshape(-1))
    step = max(v.size * epsilon, 1)
    picked = v[int(step - 1)::int(step)]
    return np.stack([picked, np.full(picked.shape, step, dtype=picked.dtype)])


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Resample a summary at cumulative-weight fractions epsilon, 2 epsilon, ..., 1."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cum = np.cumsum(summary[1])
    frac = cum / cum[-1]
    values = np.interp(fractions, frac, summary[0])
    cum_new = np.interp(fractions, frac, cum)
    weights = np.diff(np.concatenate([[0.0], cum_new]))
    return np.stack([values, weights]).astype(np.float32)


class Discretization(Layer):
    """Buckets float features by ranges (``keras.layers.Discretization``).

    ``bin_boundaries`` ``[b0, b1, ...]`` give bins ``(-inf, b0), [b0, b1), ..., [bn, inf)``;
    or ``num_bins`` and ``adapt(data)`` put the boundaries at approximate quantiles.

    Args:
        bin_boundaries: sorted boundaries, or None (then ``num_bins`` and ``adapt``).
        num_bins: number of bins to learn with ``adapt``.
        epsilon: error tolerance of the quantile summary (default 0.01).
        output_mode: ``"int"`` (bin index, int32), ``"one_hot"``, ``"multi_hot"`` or
            ``"count"``.
        sparse: must be False (nnforge outputs dense arrays).

    Example:

    >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])([[-1.5, 1.0, 3.4, 0.5]]).numpy()
    array([[0, 2, 3, 1]], dtype=int32)
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, dtype=None, name=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        if sparse:
            raise ValueError(f"Discretization '{self.name}': sparse outputs are not supported "
                             "by nnforge; pass sparse=False")
        if output_mode not in _MODES:
            raise ValueError(f"Discretization '{self.name}': invalid value for argument "
                             f"output_mode. Expected one of {_MODES}. Received: "
                             f"output_mode={output_mode!r}")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"Discretization '{self.name}': `num_bins` must be greater than or "
                             f"equal to 0. Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"Discretization '{self.name}': both `num_bins` and "
                             f"`bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError(f"Discretization '{self.name}': you need to set either "
                             "`num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins, self.epsilon = num_bins, epsilon
        self.output_mode, self.sparse = output_mode, sparse
        self.summary = None if self.bin_boundaries else np.zeros((2, 0), np.float32)
        self.built = True

    def adapt(self, data, steps=None) -> None:
        """Learn ``num_bins - 1`` boundaries at approximate quantiles of ``data`` (an array or
        an iterable of batches)."""
        if self.num_bins is None:
            raise ValueError(f"Discretization '{self.name}': cannot adapt a Discretization layer "
                             "that has been initialized with `bin_boundaries`, use `num_bins` "
                             "instead.")
        adapt_in_batches(self, data, steps)

    def update_state(self, data) -> None:
        s = _summarize(np.asarray(host_array(data, "Discretization"), np.float32), self.epsilon)
        merged = np.concatenate([s, self.summary], axis=1)
        merged = merged[:, np.argsort(merged[0], kind="quicksort")]
        self.summary = _compress(merged, self.epsilon)

    def finalize_state(self) -> None:
        if self.num_bins is None:
            return
        self.bin_boundaries = _compress(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self) -> None:
        if self.num_bins is not None:
            self.summary = np.zeros((2, 0), np.float32)

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f"Discretization '{self.name}': you need to either pass the "
                             "`bin_boundaries` argument at construction time or call "
                             "`adapt(dataset)` before you can start using the layer.")
        a = host_array(inputs, "Discretization")
        idx = np.digitize(a, np.asarray(self.bin_boundaries, dtype=a.dtype if a.dtype.kind == "f"
                                        else np.float64)).astype(np.int32)
        depth = len(self.bin_boundaries) + 1
        if self.output_mode == "int":
            return to_output(idx)
        return to_output(encode_categorical(idx, self.output_mode, depth, np.float32))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else \
            self.num_bins
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        if len(input_shape) >= 2:
            return (input_shape[0],) + input_shape[2:] + (depth,)
        return (depth,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                       "epsilon": self.epsilon, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config

    @classmethod
    def from_config(cls, config: dict):
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # an adapted layer: both are set; the boundaries apply after construction
            config = dict(config)
            boundaries = config.pop("bin_boundaries")
            layer = super().from_config(config)
            layer.bin_boundaries = boundaries
            return layer
        return super().from_config(config)
