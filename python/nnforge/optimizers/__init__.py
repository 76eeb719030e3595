"""nnforge.optimizers: Keras's optimizers; SGD and Adam run as fused C++/CUDA kernels."""
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object

from . import schedules
from .adam import Adam, Adamax, AdamW, Nadam
from .optimizer import Optimizer
from .others import Adadelta, Adagrad, RMSprop
from .sgd import SGD
# Ftrl, Lion, Lamb, Adafactor, Muon, ScheduleFreeAdamW, LossScaleOptimizer
from .adafactor import Adafactor
from .ftrl import Ftrl
from .lamb import Lamb
from .lion import Lion
from .loss_scale_optimizer import LossScaleOptimizer
from .multi_optimizer import MultiOptimizer, OptimizerMap
from .muon import Muon
from .schedule_free_adamw import ScheduleFreeAdamW

_NAMES = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "adamax": Adamax, "nadam": Nadam,
          "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
          "ftrl": Ftrl, "lion": Lion, "lamb": Lamb, "adafactor": Adafactor, "muon": Muon,
          "schedulefreeadamw": ScheduleFreeAdamW}
_CLASSES = {c.__name__: c for c in _NAMES.values()}


def get(identifier) -> Optimizer:
    """An optimizer instance for a name ('adam'), a class, a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier.lower()) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown optimizer {identifier!r}; known: {sorted(_NAMES)}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize_keras_object(identifier, module="keras.optimizers", kind="optimizer")
    raise TypeError(f"Could not interpret optimizer {identifier!r}")


def serialize(opt: Optimizer) -> dict:
    """The serialized form of an optimizer (through the registry)."""
    return serialize_keras_object(opt)


def deserialize(config: dict) -> Optimizer:
    return get(config)
