"""Adaptive average and max pooling (``keras.layers.AdaptiveAveragePooling1D/2D/3D``,
``AdaptiveMaxPooling1D/2D/3D``) on one base, ``BaseAdaptivePooling(rank)``: the output has a
fixed spatial size; output ``i`` pools the bins ``[floor(i*L/out), ceil((i+1)*L/out))`` of each
spatial axis (``ops.adaptive_average_pool`` / ``ops.adaptive_max_pool``)."""
from __future__ import annotations

from nnforge import ops
from nnforge.utils.argument_validation import standardize_data_format, standardize_tuple

from .layer import Layer

_DIMS = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
         3: "(batch, depth, height, width, channels)"}


class BaseAdaptivePooling(Layer):
    """Base of the adaptive pooling layers.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        output_size: int or tuple of ``rank`` ints: the spatial size of the output.
        data_format: None or ``"channels_last"``.
    """

    _op = None

    def __init__(self, rank: int, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        where = f"{type(self).__name__} '{self.name}'"
        self.rank = rank
        self.output_size = standardize_tuple(output_size, rank, "output_size", where)
        self.data_format = standardize_data_format(data_format, where)

    def _check(self, shape) -> None:
        if len(shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a "
                             f"{self.rank + 2}-D input {_DIMS[self.rank]}, got shape "
                             f"{tuple(shape)}")

    def build(self, input_shape) -> None:
        self._check(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + self.output_size + (input_shape[-1],)

    def call(self, inputs):
        self._check(tuple(inputs.shape))
        return type(self)._op(inputs, self.output_size)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"output_size": list(self.output_size), "data_format": self.data_format})
        return config


def _adaptive_class(name: str, rank: int, op, what: str, example_in, example_out):
    def __init__(self, output_size, data_format=None, **kwargs):
        BaseAdaptivePooling.__init__(self, rank, output_size, data_format, **kwargs)

    doc = (f"Adaptive {what} pooling of a {_DIMS[rank]} input to ``output_size``\n"
           f"    (``keras.layers.{name}``).\n\n"
           "    Args:\n"
           f"        output_size: int or tuple of {rank} ints.\n"
           "        data_format: None or ``\"channels_last\"``.\n\n"
           "    Example:\n\n"
           f"    >>> nnforge.layers.{name}(2)(np.ones({example_in}, \"float32\")).shape\n"
           f"    {example_out}\n")
    return type(name, (BaseAdaptivePooling,), {"__init__": __init__, "__doc__": doc,
                                               "_op": staticmethod(op),
                                               "__module__": __name__})


AdaptiveAveragePooling1D = _adaptive_class("AdaptiveAveragePooling1D", 1,
                                           ops.adaptive_average_pool, "average", (1, 7, 3),
                                           (1, 2, 3))
AdaptiveAveragePooling2D = _adaptive_class("AdaptiveAveragePooling2D", 2,
                                           ops.adaptive_average_pool, "average", (1, 7, 5, 3),
                                           (1, 2, 2, 3))
AdaptiveAveragePooling3D = _adaptive_class("AdaptiveAveragePooling3D", 3,
                                           ops.adaptive_average_pool, "average",
                                           (1, 7, 5, 4, 3), (1, 2, 2, 2, 3))
AdaptiveMaxPooling1D = _adaptive_class("AdaptiveMaxPooling1D", 1, ops.adaptive_max_pool, "max",
                                       (1, 7, 3), (1, 2, 3))
AdaptiveMaxPooling2D = _adaptive_class("AdaptiveMaxPooling2D", 2, ops.adaptive_max_pool, "max",
                                       (1, 7, 5, 3), (1, 2, 2, 3))
AdaptiveMaxPooling3D = _adaptive_class("AdaptiveMaxPooling3D", 3, ops.adaptive_max_pool, "max",
                                       (1, 7, 5, 4, 3), (1, 2, 2, 2, 3))
