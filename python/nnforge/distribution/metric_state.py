"""The state of Keras metrics as numbers that can be summed over processes.

Every built-in metric keeps additive state (a total and a count, confusion counts per
threshold, per-class true/false positives), so the metric of the whole data is the metric of
the summed states. A metric's state attributes are found once per class by probing: the
attributes that ``reset_state()`` assigns.
"""
from __future__ import annotations

import copy
from typing import Dict, List, Tuple

import numpy as np

_NUMERIC = (int, float, np.integer, np.floating, np.ndarray)
_state_names_cache: Dict[type, Tuple[Tuple[str, ...], bool]] = {}


def state_names(metric) -> Tuple[Tuple[str, ...], bool]:
    """The names of ``metric``'s state attributes, and whether some may be None (lazily built
    state such as F1Score's per-class counts, whose shape is known only after an update)."""
    cls = type(metric)
    hit = _state_names_cache.get(cls)
    if hit is not None:
        return hit
    candidates = [k for k, v in vars(metric).items()
                  if v is None or isinstance(v, _NUMERIC) and not isinstance(v, bool)]
    sentinel = object()
    names, reset_values = [], {}
    for k in candidates:  # a state attribute is one that reset_state() assigns
        probe = copy.copy(metric)
        setattr(probe, k, sentinel)
        try:
            probe.reset_state()
        except Exception:  # reset_state needs k (configuration): not state
            continue
        if getattr(probe, k) is not sentinel:
            names.append(k)
            reset_values[k] = getattr(probe, k)
    names = tuple(names)
    lazy = any(reset_values[k] is None for k in names)
    _state_names_cache[cls] = (names, lazy)
    return names, lazy


def get_states(metrics) -> List[list]:
    """A copy of each metric's state values (floats, arrays or None), in order."""
    out = []
    for m in metrics:
        names, _ = state_names(m)
        out.append([np.array(getattr(m, k), copy=True) if isinstance(getattr(m, k), np.ndarray)
                    else getattr(m, k) for k in names])
    return out


def set_states(metrics, states) -> None:
    for m, values in zip(metrics, states):
        names, _ = state_names(m)
        for k, v in zip(names, values):
            setattr(m, k, v)


def pack(metrics) -> np.ndarray:
    """The states of metrics without lazy state, flattened into one float64 vector."""
    parts = []
    for m in metrics:
        for k in state_names(m)[0]:
            parts.append(np.asarray(getattr(m, k), dtype=np.float64).reshape(-1))
    return np.concatenate(parts) if parts else np.zeros(0)


def unpack(metrics, flat: np.ndarray) -> None:
    """Write ``flat`` (from ``pack``, summed over processes) back into the metrics' states,
    keeping each attribute's type (Python float or array)."""
    i = 0
    for m in metrics:
        for k in state_names(m)[0]:
            old = getattr(m, k)
            if isinstance(old, np.ndarray):
                n = old.size
                setattr(m, k, flat[i:i + n].reshape(old.shape).astype(old.dtype, copy=False))
            else:
                n = 1
                setattr(m, k, float(flat[i]))
            i += n


def sum_lazy(states_per_process: List[list]) -> list:
    """Sum states gathered from every process, where a None (nothing seen yet) is zero."""
    out = []
    for values in zip(*states_per_process):
        present = [v for v in values if v is not None]
        out.append(None if not present else
                   (sum(np.asarray(v, dtype=np.float64) for v in present)
                    if isinstance(present[0], np.ndarray) else float(sum(present))))
    return out
