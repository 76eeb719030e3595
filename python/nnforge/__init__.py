"""nnforge: a Keras-style deep-learning framework on its own C++ and CUDA kernels.

Use it as you would Keras::

    import nnforge as keras
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
"""
from __future__ import annotations

__version__ = "0.1.0"

from ._thread_policy import kernel_thread_policy

with kernel_thread_policy():  # idle kernel threads sleep instead of spinning (shared cores)
    from . import _cpu  # noqa: F401  (fail early and clearly if the extension is missing)
from . import backend, config, random_state
from . import ops
from . import random
from .core import GradientTape, KerasTensor, Tensor, Variable
from . import activations, constraints, initializers, regularizers
from . import layers, losses, metrics, optimizers
from . import callbacks, datasets, utils
from .layers import Input, InputLayer, InputSpec, Layer
from .models import Model, Sequential
from . import models, saving
from .models import clone_model, load_model, model_from_json
from . import explain  # noqa: E402  (attribution maps; a tool on top of models)
from . import quantizers  # noqa: E402  (keras.quantizers: int8 configs)
from . import compression  # noqa: E402  (pruning, distillation; a tool on top of models)
from . import distribution  # mpi4py is imported only when a job uses it
from . import applications  # noqa: E402  (ImageNet architectures, built on models)

Loss = losses.Loss
Metric = metrics.Metric
Optimizer = optimizers.Optimizer
Callback = callbacks.Callback


def version() -> str:
    return __version__


__all__ = ["GradientTape", "Input", "InputLayer", "KerasTensor", "Layer", "Model", "Sequential",
           "Tensor", "Variable", "activations", "backend", "callbacks", "config", "constraints",
           "datasets", "initializers", "layers", "load_model", "losses", "metrics", "models",
           "ops", "optimizers", "regularizers", "saving", "utils"]
__all__ += ["distribution"]
