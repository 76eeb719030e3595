"""The ``Optimizer`` base class: learning rate (float or schedule), iteration count, per-variable
slots allocated once, gradient clipping, weight decay, and constraints after each update."""
from __future__ import annotations

import math
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from nnforge import backend
from nnforge.core.tensor import Tensor, Variable
from nnforge.saving.keras_saveable import KerasSaveable

from .schedules import LearningRateSchedule, deserialize as _deserialize_schedule
from .schedules import serialize as _serialize_schedule


class _StateScalar:
    """A scalar of an optimizer's saved state that is not a Variable (the iteration count, the
    learning rate): read and written through the optimizer."""

    shape = ()

    def __init__(self, get, set_, dtype):
        self._get, self._set, self.dtype = get, set_, dtype

    def numpy(self):
        return np.asarray(self._get(), dtype=self.dtype)

    def assign(self, value) -> None:
        self._set(np.asarray(value).item())


class Optimizer(KerasSaveable):
    """Base class of optimizers (``keras.optimizers.Optimizer``).

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        weight_decay: decoupled weight decay factor (None: none).
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: clip all gradients together to this global L2 norm.
        name: the optimizer's name.
    """

    _keras_module = "keras.optimizers"

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name: Optional[str] = None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{type(self).__name__}: only one of clipnorm, clipvalue and "
                             "global_clipnorm can be set")
        for n, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                     ("global_clipnorm", global_clipnorm)):
            if v is not None and v <= 0:
                raise ValueError(f"{type(self).__name__}: {n} must be positive, got {v}")
        from nnforge.naming import to_snake_case
        self.name = name or to_snake_case(type(self).__name__)
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        if use_ema:  # the exponential moving average of the variables (Keras's use_ema)
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"{type(self).__name__}: `ema_momentum` must be in the range "
                                 f"[0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int) or
                                            ema_overwrite_frequency < 1):
                raise ValueError(f"{type(self).__name__}: `ema_overwrite_frequency` must be an "
                                 "integer >= 1 or None. Received: ema_overwrite_frequency="
                                 f"{ema_overwrite_frequency}")
        self.use_ema, self.ema_momentum = bool(use_ema), ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self._ema: Dict[int, Tuple[Variable, Variable]] = {}  # id(var) -> (var, its average)
        self.iterations = 0
        self._slots: Dict[int, Tuple[Variable, ...]] = {}
        self._slot_order: List[int] = []
        self.built = False

    # -- learning rate -------------------------------------------------------------------------
    @property
    def learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return lr(self.iterations)
        return lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(value, Tensor):
            value = float(value.numpy())
        if not isinstance(value, LearningRateSchedule):
            if callable(value):
                self._learning_rate = value
                return
            value = float(value)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{type(self).__name__}: learning_rate must be a non-negative "
                                 f"float or a schedule, got {value}")
        self._learning_rate = value

    lr = learning_rate

    def _current_lr(self) -> float:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return float(lr())
        return lr

    # -- slots ---------------------------------------------------------------------------------
    def _slot_names(self) -> Tuple[str, ...]:
        return ()

    def build(self, var_list: Iterable[Variable]) -> None:
        """Create every slot variable once (zeros shaped like each variable)."""
        for v in var_list:
            self._ensure_slots(v)
        self.built = True

    def _ensure_slots(self, v: Variable):
        slots = self._slots.get(id(v))
        if slots is None:
            slots = self._create_slots(v, self._slot_names())
        return slots

    def _create_slots(self, v: Variable, names) -> Tuple[Variable, ...]:
        """New slot variables ``names`` of ``v`` (shaped like it, started by ``_init_slots``),
        recorded in creation order."""
        be = backend.of(v.data)
        slots = tuple(Variable(be.zeros(v.shape, v.data.dtype), trainable=False,
                               name=f"{v.name}_{n}") for n in names)
        for s, n in zip(slots, names):
            s._path = f"{self.name}/{v.path.replace('/', '_')}_{n}"
        self._init_slots(v, slots)
        self._slots[id(v)] = slots
        self._slot_order.append(id(v))
        self._slot_owner = getattr(self, "_slot_owner", {})
        self._slot_owner[id(v)] = v
        return slots

    def _init_slots(self, v: Variable, slots: Tuple[Variable, ...]) -> None:
        """Set the starting values of ``v``'s new slots (zeros unless a subclass says
        otherwise)."""

    @property
    def variables(self) -> List[Variable]:
        """The moving averages (with ``use_ema``), then the slot variables in creation order
        (the iteration count is ``iterations``)."""
        return [avg for _, avg in self._ema.values()] + [
            s for k in self._slot_order for s in self._slots[k]]

    # -- updates -------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars) -> int:
        """Apply ``zip(grads, vars)`` (``tf.keras``'s call); see ``apply``.

        Args:
            grads_and_vars: an iterable of ``(gradient, variable)`` pairs.

        Returns:
            The iteration count after the update.

        Example:

        >>> grads = tape.gradient(loss, model.trainable_variables)
        >>> optimizer.apply_gradients(zip(grads, model.trainable_variables))
        """
        grads, variables = [], []
        for g, v in grads_and_vars:
            grads.append(g)
            variables.append(v)
        return self.apply(grads, variables)

    def apply(self, grads, trainable_variables=None) -> int:
        """Update ``trainable_variables`` from ``grads`` (Keras 3's ``optimizer.apply``).

        Gradients may be Tensors or arrays; a None gradient leaves its variable unchanged.
        Gradients already of the variable's shape, dtype and device (such as ``GradientTape``'s)
        are used without a copy.

        Args:
            grads: a list of gradients, one per variable.
            trainable_variables: the list of Variables to update.

        Returns:
            The iteration count after the update.

        Example:

        >>> grads = tape.gradient(loss, model.trainable_variables)
        >>> optimizer.apply(grads, model.trainable_variables)
        """
        if trainable_variables is None:
            raise ValueError(f"{type(self).__name__}.apply: pass trainable_variables")
        grads, trainable_variables = list(grads), list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for "
                             f"{len(trainable_variables)} variables")
        pairs = []
        for g, v in zip(grads, trainable_variables):
            if g is None:
                continue
            if not isinstance(v, Variable):
                raise TypeError(f"{type(self).__name__}.apply: expected Variables, got "
                                f"{type(v).__name__}")
            gd = g.data if isinstance(g, Tensor) else g
            vd = v.data
            if type(gd) is type(vd) and gd.dtype == vd.dtype and gd.shape == vd.shape:
                pairs.append((gd, v))  # a tape's gradient: used as it is
                continue
            if not backend.is_array(gd):
                gd = np.asarray(gd, dtype=np.float32)
            if tuple(gd.shape) != v.shape:
                raise ValueError(f"{type(self).__name__}.apply: gradient of shape "
                                 f"{tuple(gd.shape)} for variable '{v.path}' of shape {v.shape}")
            if type(gd) is not type(vd) or gd.dtype != vd.dtype:
                be = backend.of(vd)
                if backend.of(gd) is not be:
                    gd = be.asarray(backend.to_numpy(gd))
                gd = be.asarray(gd, dtype=vd.dtype)
            pairs.append((gd, v))
        return self._apply(pairs)

    def _apply(self, pairs) -> int:
        """Update from validated ``(gradient array, variable)`` pairs: arrays already of the
        variable's shape, dtype and device (``apply`` checks them)."""
        if not pairs:
            return self.iterations
        if self.clipvalue is not None or self.clipnorm is not None or \
                self.global_clipnorm is not None:
            pairs = self._clip(pairs)
        lr = self._current_lr()
        step = self.iterations + 1
        slots = self._slots
        wd = self.weight_decay
        if not wd and self._update_all(pairs, lr, step):
            pairs_left = ()  # updated together; the loop below would do the same one by one
        else:
            pairs_left = pairs
        for g, v in pairs_left:
            if wd:
                v.data -= v.data * np.float32(wd * lr)
            s = slots.get(id(v))
            self.update_step(g, v, lr, step, s if s is not None else self._ensure_slots(v))
            if v.constraint is not None:
                v.data[...] = v.constraint(v.data)
        if pairs_left is not pairs:
            for _, v in pairs:
                if v.constraint is not None:
                    v.data[...] = v.constraint(v.data)
        if self.use_ema:
            self._update_ema([v for _, v in pairs], first=step == 1)
        self.iterations = step
        return self.iterations

    # -- the saved state (Keras's optimizer variable list) ---------------------------------------
    def _keras_state(self, var_list) -> list:
        """The optimizer's state in the order Keras saves its variables (``optimizer/vars/<i>``
        of a ``.keras`` file): the iteration count, the learning rate, the moving averages
        (with ``use_ema``), then each variable's slots (created as zeros where the optimizer has
        not stepped yet). Each entry has ``shape``, ``dtype``, ``numpy()`` and ``assign()``."""
        def set_lr(value):
            if not callable(self._learning_rate):  # a schedule computes its own rate
                self.learning_rate = float(value)

        def set_iterations(value):
            self.iterations = int(value)
        state = [_StateScalar(lambda: self.iterations, set_iterations, np.int64),
                 _StateScalar(lambda: float(self.learning_rate), set_lr, np.float32)]
        if self.use_ema:
            state += [self._ensure_ema(v) for v in var_list]
        return state + [s for v in var_list for s in self._ensure_slots(v)]

    # -- exponential moving average (use_ema) --------------------------------------------------
    def _ensure_ema(self, v) -> Variable:
        entry = self._ema.get(id(v))
        if entry is None:
            avg = Variable(backend.of(v.data).zeros(v.shape, v.data.dtype), trainable=False,
                           name=f"{v.name}_average")
            entry = self._ema[id(v)] = (v, avg)
        return entry[1]

    def _update_ema(self, variables, first: bool) -> None:
        m = np.float32(0.0 if first else self.ema_momentum)
        for v in variables:
            avg = self._ensure_ema(v).data
            avg[...] = m * avg + (np.float32(1) - m) * v.data
        if self.ema_overwrite_frequency and (self.iterations + 1) % \
                self.ema_overwrite_frequency == 0:
            self._overwrite_with_average(variables)

    def _overwrite_with_average(self, var_list) -> None:
        for v in var_list:
            entry = self._ema.get(id(v))
            if entry is not None:
                v.data[...] = entry[1].data

    def finalize_variable_values(self, var_list) -> None:
        """Set the final values of the model's variables at the end of ``fit``: with
        ``use_ema``, their moving averages (``Optimizer.finalize_variable_values``).

        Args:
            var_list: the model's trainable variables.
        """
        if self.use_ema:
            self._overwrite_with_average(var_list)

    def _clip(self, pairs):
        if self.clipvalue is not None:
            c = np.float32(self.clipvalue)
            pairs = [(backend.of(g).xp.clip(g, -c, c), v) for g, v in pairs]
        if self.clipnorm is not None:
            out = []
            for g, v in pairs:
                n = float(backend.of(g).xp.sqrt((g * g).sum()))
                out.append((g * np.float32(self.clipnorm / n) if n > self.clipnorm else g, v))
            pairs = out
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(float((g * g).sum()) for g, _ in pairs))
            if total > self.global_clipnorm:
                s = np.float32(self.global_clipnorm / total)
                pairs = [(g * s, v) for g, v in pairs]
        return pairs

    def update_step(self, gradient, variable: Variable, learning_rate: float, step: int,
                    slots: tuple) -> None:
        raise NotImplementedError

    def _update_all(self, pairs, learning_rate: float, step: int) -> bool:
        """Update every ``(gradient, variable)`` pair at once (one kernel call for all of
        them), with exactly the result of ``update_step`` on each in turn; False (nothing done)
        where an optimizer has no such update or cannot use it for these pairs. Called only
        without weight decay; constraints are applied after it."""
        return False

    # -- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        return {
            "name": self.name,
            "learning_rate": _serialize_schedule(lr) if isinstance(lr, LearningRateSchedule)
            else float(lr),
            "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
            "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": None, "gradient_accumulation_steps": None,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = _deserialize_schedule(lr)
        return cls(**config)
