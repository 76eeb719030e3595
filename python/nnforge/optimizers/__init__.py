"""nnforge.optimizers: Keras's optimizers; SGD and Adam run as fused C++/CUDA kernels."""
from . import schedules
from .adam import Adam, Adamax, AdamW, Nadam
from .optimizer import Optimizer
from .others import Adadelta, Adagrad, RMSprop
from .sgd import SGD

_NAMES = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "adamax": Adamax, "nadam": Nadam,
          "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta}
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
        cls = _CLASSES.get(identifier.get("class_name")) or _NAMES.get(
            str(identifier.get("class_name")).lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer config {identifier!r}")
        return cls.from_config(identifier.get("config", {}))
    raise TypeError(f"Could not interpret optimizer {identifier!r}")


def serialize(opt: Optimizer) -> dict:
    return {"module": "keras.optimizers", "class_name": type(opt).__name__,
            "config": opt.get_config(), "registered_name": None}


def deserialize(config: dict) -> Optimizer:
    return get(config)
