"""nnforge.ops: array functions with Keras's names, differentiable under ``GradientTape``.

Each op accepts nnforge Tensors/Variables, NumPy arrays (any dtype or strides: converted), CuPy
arrays and Python scalars, and returns an nnforge ``Tensor``."""
from .math import *  # noqa: F401,F403
from .math import abs, all, any, max, min, sum  # noqa: F401  (names that * skips in linters)
from .nn import (average_pool, binary_crossentropy_mean, categorical_crossentropy, conv,  # noqa
                 conv_transpose, dense, dropout, elu, embedding_lookup, extract_patches, exponential, gelu, hard_sigmoid, leaky_relu, linear,
                 log_softmax, matmul, max_pool, mean_squared_error, relu, relu6, selu, sigmoid,
                 silu, softmax, softplus, softsign, sparse_categorical_crossentropy, swish, tanh)

conv2d = conv
from .array import (argsort, array_split, broadcast_to, cumprod, cumsum, flip,  # noqa: F401
                    in_top_k, meshgrid, sort, split, take, take_along_axis, top_k, unstack)
from .rnn import fused_rnn_available, gru_sequence, lstm_sequence  # noqa: F401,E402
from .conv_nd import (adaptive_average_pool, adaptive_max_pool, depthwise_conv,  # noqa: F401,E402
                      separable_conv)
# keras.ops nn/core breadth (issue #17): nn_extra.py, core.py, ctc.py
from .nn_extra import *  # noqa: F401,F403,E402
from .core import *  # noqa: F401,F403,E402
from .core import map, slice  # noqa: F401,E402  (names that shadow builtins)
from .ctc import ctc_decode, ctc_loss  # noqa: F401,E402
# attention, normalization and einsum (issue #17)
from .attention import dot_product_attention  # noqa: F401,E402
from .einsum import einsum  # noqa: F401,E402
from .normalization import layer_normalization, rms_normalization  # noqa: F401,E402
# NumPy-style functions, linalg and fft (keras.ops.numpy / keras.ops.linalg names)
from .numpy_math import *  # noqa: F401,F403,E402
from .numpy_stats import *  # noqa: F401,F403,E402
from .numpy_array import *  # noqa: F401,F403,E402
from .linalg import *  # noqa: F401,F403,E402
from .fft import *  # noqa: F401,F403,E402
from .einops import rearrange, vectorize  # noqa: F401,E402
from .special import divide_no_nan, erfc, erfinv  # noqa: F401,E402


def _accept_symbolic_tensors() -> None:
    """Let every public op accept functional-API KerasTensors (ops/_symbolic.py)."""
    from types import FunctionType
    from nnforge.core.tensor import KerasTensor
    from ._symbolic import symbolic_dispatch
    skip = {"convert_to_numpy", "shape", "set_symbolic_handler", "ndim"}
    g = globals()
    for name, value in list(g.items()):
        if (isinstance(value, FunctionType) and not name.startswith("_") and name not in skip
                and value.__module__.startswith("nnforge.ops.")):
            g[name] = symbolic_dispatch(value, name)
    eager_shape = g["shape"]

    def shape(x) -> tuple:
        """The shape of ``x`` as a tuple (``keras.ops.shape``; None for a KerasTensor's unknown
        dimensions)."""
        return tuple(x.shape) if isinstance(x, KerasTensor) else eager_shape(x)

    g["shape"] = shape


_accept_symbolic_tensors()

from . import image  # noqa: E402,F401  (keras.ops.image)

def _namespaces() -> None:
    """``ops.numpy`` and ``ops.linalg``: Keras's sub-namespaces, holding the same (symbolic-aware)
    functions as ``ops`` itself, whether reached as attributes or imported from."""
    import importlib
    g = globals()
    np_ns = importlib.import_module(__name__ + ".numpy")
    linalg_ns = importlib.import_module(__name__ + ".linalg")
    np_ns._fill(np_ns, np_ns._NUMPY_NAMES, g)
    np_ns._fill(linalg_ns, np_ns._LINALG_NAMES, g)
    g["numpy"] = np_ns
    g["linalg"] = linalg_ns


_namespaces()
