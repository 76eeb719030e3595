"""``HyperModel``: a model builder that declares its hyperparameters (keras-tuner's API)."""
from __future__ import annotations

from typing import Callable, Union


class HyperModel:
    """Subclass and define ``build(hp)`` returning a compiled model; optionally override
    ``fit(hp, model, *args, **kwargs)`` to tune training arguments (batch size, epochs, ...).

    Example::

        class MLP(HyperModel):
            def build(self, hp):
                model = nnforge.Sequential([...hp.Int("units", 32, 256, step=32)...])
                model.compile(...)
                return model

            def fit(self, hp, model, *args, **kwargs):
                return model.fit(*args, batch_size=hp.Choice("batch_size", [32, 64]), **kwargs)
    """

    def __init__(self, name: str = None, tunable: bool = True):
        self.name = name
        self.tunable = tunable

    def build(self, hp):
        """Build and compile a model for the hyperparameters ``hp``."""
        raise NotImplementedError(f"{type(self).__name__}.build(hp) must be defined")

    def fit(self, hp, model, *args, **kwargs):
        """Train ``model``; the default calls ``model.fit(*args, **kwargs)``."""
        return model.fit(*args, **kwargs)


class _FunctionHyperModel(HyperModel):
    def __init__(self, build_fn: Callable):
        super().__init__(name=getattr(build_fn, "__name__", None))
        self._build_fn = build_fn

    def build(self, hp):
        return self._build_fn(hp)


def get_hypermodel(hypermodel: Union[HyperModel, Callable]) -> HyperModel:
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel):
        return _FunctionHyperModel(hypermodel)
    raise ValueError("hypermodel must be a HyperModel or a function build_model(hp) returning a "
                     f"compiled model, got {type(hypermodel).__name__}")
