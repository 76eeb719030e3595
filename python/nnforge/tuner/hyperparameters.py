"""Hyperparameters and the search space (keras-tuner's ``HyperParameters`` API).

A ``HyperParameters`` object is both the search space (every hyperparameter a model builder
declared, with its range and the conditions under which it is active) and the values of one
trial. ``hp.Int(...)``/``hp.Float(...)``/... declare a hyperparameter the first time and return its
current value: the trial's value, the default while the space is being discovered, or ``None``
when its conditional scope is not active (as keras-tuner does, so inactive values are never used
by accident).
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Dict, Iterator, List, Optional, Sequence

_SAMPLINGS = ("linear", "log")


class HyperParameter:
    """Base class of one hyperparameter: a name, a default and the conditions that activate it.

    Args:
        name: unique name in the search space.
        default: value used while the space is discovered and when nothing was sampled.
        conditions: list of ``{"name": parent_name, "values": [...]}``; the hyperparameter is
            active when every parent holds one of its listed values.
    """

    kind = "HyperParameter"

    def __init__(self, name: str, default: Any = None, conditions: Optional[list] = None):
        if not isinstance(name, str) or not name:
            raise ValueError(f"{type(self).__name__}: name must be a non-empty string, got "
                             f"{name!r}")
        self.name = name
        self._default = default
        self.conditions = [dict(c) for c in (conditions or [])]

    @property
    def default(self) -> Any:
        return self._default

    def is_active(self, values: Dict[str, Any]) -> bool:
        """Whether every parent condition holds for ``values``."""
        return all(c["name"] in values and values[c["name"]] in c["values"]
                   for c in self.conditions)

    def grid_values(self) -> List[Any]:
        """The values a grid search walks through, in order."""
        raise NotImplementedError(type(self).__name__)

    def sample(self, rng) -> Any:
        """One value drawn with ``rng`` (a ``numpy.random.Generator``)."""
        raise NotImplementedError(type(self).__name__)

    def get_config(self) -> Dict[str, Any]:
        return {"name": self.name, "default": self._default, "conditions": self.conditions}

    @classmethod
    def from_config(cls, config: Dict[str, Any]) -> "HyperParameter":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_range(kind: str, name: str, min_value, max_value, step, sampling) -> None:
    if sampling not in _SAMPLINGS:
        raise ValueError(f"{kind} {name!r}: sampling must be one of {_SAMPLINGS}, got "
                         f"{sampling!r} ('reverse_log' is not supported)")
    if min_value > max_value:
        raise ValueError(f"{kind} {name!r}: min_value {min_value} > max_value {max_value}")
    if sampling == "log" and min_value <= 0:
        raise ValueError(f"{kind} {name!r}: sampling='log' needs min_value > 0, got "
                         f"{min_value}")
    if step is not None and step <= 0:
        raise ValueError(f"{kind} {name!r}: step must be > 0, got {step}")
    if sampling == "log" and step is not None and step <= 1:
        raise ValueError(f"{kind} {name!r}: with sampling='log' the step is a multiplier and "
                         f"must be > 1, got {step}")


def _log_steps(min_value: float, max_value: float, step: float) -> List[float]:
    # With log sampling keras-tuner multiplies by `step`: min, min*step, ... <= max.
    n = int(math.floor(math.log(max_value / min_value, step) + 1e-9)) + 1
    return [min_value * step ** i for i in range(n)]


class _Range(HyperParameter):
    """Base of ``Int`` and ``Float``: a number in ``[min_value, max_value]`` with an optional
    ``step`` and linear or log ``sampling``; ``cast`` (``int`` or ``float``) makes the bounds,
    the step and the default of that type. The default value is ``min_value``.
    """

    cast = float

    def __init__(self, name: str, min_value, max_value, step, sampling: str, default,
                 conditions: Optional[list]):
        super().__init__(name, default, conditions)
        self._check_bounds(name, min_value, max_value, step)
        self.min_value, self.max_value = self.cast(min_value), self.cast(max_value)
        self.step = None if step is None else self.cast(step)
        self.sampling = sampling
        _check_range(self.kind, name, self.min_value, self.max_value, self.step, sampling)
        if default is not None and not self.min_value <= default <= self.max_value:
            raise ValueError(f"{self.kind} {name!r}: default {default} is outside "
                             f"[{self.min_value}, {self.max_value}]")

    def _check_bounds(self, name: str, min_value, max_value, step) -> None:
        """Refuse bounds or a step of the wrong kind (before they are cast)."""

    @property
    def default(self):
        return self.min_value if self._default is None else self.cast(self._default)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value,
                "step": self.step, "sampling": self.sampling}


class Int(_Range):
    """An integer in ``[min_value, max_value]`` (both included).

    ``step`` is the distance between values (linear sampling; default 1) or the multiplier
    between them (``sampling="log"``: ``Int("units", 32, 512, step=2, sampling="log")`` is one of
    32, 64, 128, 256, 512). The default value is ``min_value``.
    """

    kind = "Int"
    cast = int

    def __init__(self, name: str, min_value: int, max_value: int, step: Optional[int] = None,
                 sampling: str = "linear", default: Optional[int] = None,
                 conditions: Optional[list] = None):
        super().__init__(name, min_value, max_value, step, sampling, default, conditions)

    def _check_bounds(self, name, min_value, max_value, step):
        for arg, v in (("min_value", min_value), ("max_value", max_value), ("step", step)):
            if v is not None and (isinstance(v, bool) or int(v) != v):
                raise ValueError(f"Int {name!r}: {arg} must be an integer, got {v!r}")

    def grid_values(self) -> List[int]:
        if self.sampling == "log" and self.step is not None:
            return [int(round(v)) for v in _log_steps(self.min_value, self.max_value, self.step)]
        return list(range(self.min_value, self.max_value + 1, self.step or 1))

    def sample(self, rng) -> int:
        if self.sampling == "log" and self.step is None:
            v = math.exp(rng.uniform(math.log(self.min_value), math.log(self.max_value + 1)))
            return min(int(v), self.max_value)
        values = self.grid_values()
        return values[int(rng.integers(len(values)))]


class Float(_Range):
    """A float in ``[min_value, max_value]``.

    Without ``step`` any value can be drawn (uniformly, or log-uniformly with
    ``sampling="log"``, the usual choice for a learning rate); with ``step`` only
    ``min_value + k * step`` (linear) or ``min_value * step ** k`` (log). The default value is
    ``min_value``. A grid search walks 10 evenly spaced points (in log space for log sampling)
    when there is no step.
    """

    kind = "Float"

    def __init__(self, name: str, min_value: float, max_value: float,
                 step: Optional[float] = None, sampling: str = "linear",
                 default: Optional[float] = None, conditions: Optional[list] = None):
        super().__init__(name, min_value, max_value, step, sampling, default, conditions)

    def _from_unit(self, u: float) -> float:
        if self.sampling == "log":
            return self.min_value * (self.max_value / self.min_value) ** u
        return self.min_value + u * (self.max_value - self.min_value)

    def grid_values(self) -> List[float]:
        if self.step is None:
            return [self._from_unit(i / 9) for i in range(10)]
        if self.sampling == "log":
            return _log_steps(self.min_value, self.max_value, self.step)
        n = int(math.floor((self.max_value - self.min_value) / self.step + 1e-9)) + 1
        # 12 significant digits: 0.1 * 3 is 0.3, not 0.30000000000000004
        return [float(f"{self.min_value + i * self.step:.12g}") for i in range(n)]

    def sample(self, rng) -> float:
        if self.step is None:
            return self._from_unit(float(rng.uniform()))
        values = self.grid_values()
        return values[int(rng.integers(len(values)))]


class Choice(HyperParameter):
    """One of ``values`` (ints, floats, strings or bools, all of one type).

    The default value is the first entry (or ``None`` when ``None`` is one of the values).
    ``ordered`` (default: True for numbers) is recorded as keras-tuner does.
    """

    kind = "Choice"

    def __init__(self, name: str, values: Sequence[Any], ordered: Optional[bool] = None,
                 default: Any = None, conditions: Optional[list] = None):
        super().__init__(name, default, conditions)
        values = list(values)
        if not values:
            raise ValueError(f"Choice {name!r}: values must not be empty")
        types = {type(v) for v in values if v is not None}
        if len(types) > 1 and not types <= {int, float}:
            raise ValueError(f"Choice {name!r}: all values must have one type, got "
                             f"{sorted(t.__name__ for t in types)}")
        if not types <= {int, float, str, bool}:
            raise ValueError(f"Choice {name!r}: values must be int, float, str or bool, got "
                             f"{sorted(t.__name__ for t in types)}")
        if len(set(values)) != len(values):
            raise ValueError(f"Choice {name!r}: values must be unique, got {values}")
        numeric = types <= {int, float} and bool not in types
        if ordered and not numeric:
            raise ValueError(f"Choice {name!r}: ordered=True needs numeric values")
        self.values = values
        self.ordered = numeric if ordered is None else bool(ordered)
        if default is not None and default not in values:
            raise ValueError(f"Choice {name!r}: default {default!r} is not one of {values}")

    @property
    def default(self) -> Any:
        if self._default is not None:
            return self._default
        return None if None in self.values else self.values[0]

    def grid_values(self) -> List[Any]:
        return list(self.values)

    def sample(self, rng) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "values": self.values, "ordered": self.ordered}


class Boolean(HyperParameter):
    """``True`` or ``False`` (default ``False``)."""

    kind = "Boolean"

    def __init__(self, name: str, default: bool = False, conditions: Optional[list] = None):
        if not isinstance(default, bool):
            raise ValueError(f"Boolean {name!r}: default must be a bool, got {default!r}")
        super().__init__(name, default, conditions)

    def grid_values(self) -> List[bool]:
        return [True, False]

    def sample(self, rng) -> bool:
        return bool(rng.integers(2))


class Fixed(HyperParameter):
    """A value that is not tuned (recorded with the trial's hyperparameters)."""

    kind = "Fixed"

    def __init__(self, name: str, value: Any, conditions: Optional[list] = None):
        if not isinstance(value, (int, float, str, bool)) and value is not None:
            raise ValueError(f"Fixed {name!r}: value must be int, float, str, bool or None, "
                             f"got {type(value).__name__}")
        super().__init__(name, value, conditions)
        self.value = value

    def grid_values(self) -> List[Any]:
        return [self.value]

    def sample(self, rng) -> Any:
        return self.value

    def get_config(self) -> Dict[str, Any]:
        return {"name": self.name, "value": self.value, "conditions": self.conditions}


_KINDS = {cls.kind: cls for cls in (Int, Float, Choice, Boolean, Fixed)}


def hyperparameter_from_config(kind: str, config: Dict[str, Any]) -> HyperParameter:
    if kind not in _KINDS:
        raise ValueError(f"unknown hyperparameter kind {kind!r} (known: {sorted(_KINDS)})")
    return _KINDS[kind].from_config(config)


class HyperParameters:
    """Container for a search space and the values of one trial (keras-tuner's API).

    A model builder receives one and declares what it tunes::

        def build_model(hp):
            model = nnforge.Sequential([nnforge.Input((28, 28)), layers.Flatten(),
                                        layers.Dense(hp.Int("units", 32, 512, step=32),
                                                     activation="relu"),
                                        layers.Dense(10, activation="softmax")])
            lr = hp.Float("lr", 1e-4, 1e-2, sampling="log")
            model.compile(optimizer=nnforge.optimizers.Adam(lr), loss="categorical_crossentropy",
                          metrics=["accuracy"])
            return model

    Attributes:
        values: dict of the active hyperparameters' current values.
        space: list of every declared ``HyperParameter``, in declaration order (a parent is
            always declared before the hyperparameters its condition scopes).
    """

    def __init__(self):
        self.space: List[HyperParameter] = []
        self.values: Dict[str, Any] = {}
        self._conditions: List[dict] = []

    # -- declaring -----------------------------------------------------------------------------
    def _find(self, name: str, conditions: List[dict]) -> Optional[HyperParameter]:
        for hp in self.space:
            if hp.name == name and hp.conditions == conditions:
                return hp
        return None

    def _retrieve(self, hp: HyperParameter) -> Any:
        existing = self._find(hp.name, hp.conditions)
        if existing is None:
            self.space.append(hp)
            existing = hp
        if not existing.is_active(self.values):
            return None
        if hp.name not in self.values:
            self.values[hp.name] = existing.default
        return self.values[hp.name]

    @contextlib.contextmanager
    def _maybe_scope(self, parent_name, parent_values) -> Iterator[None]:
        if parent_name is None:
            yield
        else:
            with self.conditional_scope(parent_name, parent_values):
                yield

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values) -> Iterator[None]:
        """Hyperparameters declared inside are active only when ``parent_name`` holds one of
        ``parent_values``; otherwise declaring them returns ``None``.

        Example::

            model_type = hp.Choice("model_type", ["mlp", "wide"])
            with hp.conditional_scope("model_type", ["wide"]):
                width = hp.Int("width", 256, 1024, step=256)   # None for an "mlp" trial
        """
        if not any(hp.name == parent_name for hp in self.space):
            raise ValueError(f"conditional_scope: the parent hyperparameter {parent_name!r} is "
                             "not defined yet; declare it before the scope")
        if not isinstance(parent_values, (list, tuple)):
            parent_values = [parent_values]
        self._conditions.append({"name": parent_name, "values": list(parent_values)})
        try:
            yield
        finally:
            self._conditions.pop()

    def _conds(self) -> List[dict]:
        return [dict(c) for c in self._conditions]

    def Int(self, name: str, min_value: int, max_value: int, step: Optional[int] = None,
            sampling: str = "linear", default: Optional[int] = None,
            parent_name: Optional[str] = None, parent_values=None) -> Optional[int]:
        """Declare (once) and return an integer hyperparameter; see ``nnforge.tuner.Int``."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Int(name, min_value, max_value, step, sampling, default,
                                      self._conds()))

    def Float(self, name: str, min_value: float, max_value: float, step: Optional[float] = None,
              sampling: str = "linear", default: Optional[float] = None,
              parent_name: Optional[str] = None, parent_values=None) -> Optional[float]:
        """Declare (once) and return a float hyperparameter; see ``nnforge.tuner.Float``."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Float(name, min_value, max_value, step, sampling, default,
                                        self._conds()))

    def Choice(self, name: str, values: Sequence[Any], ordered: Optional[bool] = None,
               default: Any = None, parent_name: Optional[str] = None,
               parent_values=None) -> Any:
        """Declare (once) and return one of ``values``; see ``nnforge.tuner.Choice``."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Choice(name, values, ordered, default, self._conds()))

    def Boolean(self, name: str, default: bool = False, parent_name: Optional[str] = None,
                parent_values=None) -> Optional[bool]:
        """Declare (once) and return a boolean hyperparameter."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Boolean(name, default, self._conds()))

    def Fixed(self, name: str, value: Any, parent_name: Optional[str] = None,
              parent_values=None) -> Any:
        """Declare a hyperparameter that keeps ``value`` (recorded, never tuned)."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Fixed(name, value, self._conds()))

    # -- reading -------------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        """The current value of ``name``; ValueError when it is inactive, KeyError when it was
        never declared."""
        if name in self.values:
            return self.values[name]
        if any(hp.name == name for hp in self.space):
            raise ValueError(f"hyperparameter {name!r} is currently inactive")
        raise KeyError(f"hyperparameter {name!r} does not exist")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def is_active(self, hp) -> bool:
        """Whether ``hp`` (a name or a ``HyperParameter``) is active for the current values."""
        if isinstance(hp, HyperParameter):
            return hp.is_active(self.values)
        return any(h.name == hp and h.is_active(self.values) for h in self.space)

    def copy(self) -> "HyperParameters":
        out = HyperParameters()
        out.space = [hyperparameter_from_config(h.kind, h.get_config()) for h in self.space]
        out.values = dict(self.values)
        return out

    # -- (de)serialization ---------------------------------------------------------------------
    def get_config(self) -> Dict[str, Any]:
        return {"space": [{"class_name": h.kind, "config": h.get_config()} for h in self.space],
                "values": dict(self.values)}

    @classmethod
    def from_config(cls, config: Dict[str, Any]) -> "HyperParameters":
        out = cls()
        out.space = [hyperparameter_from_config(d["class_name"], d["config"])
                     for d in config.get("space", [])]
        out.values = dict(config.get("values", {}))
        return out

    def with_values(self, values: Dict[str, Any]) -> "HyperParameters":
        """A copy of this space holding ``values``."""
        out = self.copy()
        out.values = dict(values)
        return out

    def __repr__(self) -> str:
        return f"HyperParameters(values={self.values!r})"


def space_difference(old: List[dict], new: List[dict]) -> List[str]:
    """Readable differences between two serialized spaces (``get_config()["space"]``)."""
    def key(d):
        return (d["config"]["name"], repr(d["config"].get("conditions", [])))
    old_map, new_map = {key(d): d for d in old}, {key(d): d for d in new}
    out = []
    for k, d in new_map.items():
        if k not in old_map:
            out.append(f"hyperparameter {k[0]!r} was added ({d['class_name']} "
                       f"{_brief(d['config'])})")
    for k, d in old_map.items():
        if k not in new_map:
            out.append(f"hyperparameter {k[0]!r} was removed (stored: {d['class_name']} "
                       f"{_brief(d['config'])})")
    for k in old_map.keys() & new_map.keys():
        a, b = old_map[k], new_map[k]
        if a["class_name"] != b["class_name"]:
            out.append(f"hyperparameter {k[0]!r} changed kind: {a['class_name']} -> "
                       f"{b['class_name']}")
            continue
        for field in sorted(set(a["config"]) | set(b["config"])):
            va, vb = a["config"].get(field), b["config"].get(field)
            if va != vb:
                out.append(f"hyperparameter {k[0]!r}: {field} {va!r} -> {vb!r}")
    return out


def _brief(config: Dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in config.items() if k not in ("name",)
                     and v not in (None, []))
