"""nnforge's global random state: one NumPy Generator that initializers, dropout and shuffling
draw from, so that ``utils.set_random_seed(s)`` makes a whole run reproducible."""
from __future__ import annotations

from typing import Optional

import numpy as np

_rng: np.random.Generator = np.random.default_rng()


def set_global_seed(seed: Optional[int]) -> None:
    """Reseed the global generator (``None``: fresh OS entropy)."""
    global _rng
    _rng = np.random.default_rng(seed)


def global_rng() -> np.random.Generator:
    return _rng


def get_state() -> dict:
    """The generator's state, JSON-serialisable (for checkpoints)."""
    return _rng.bit_generator.state


def set_state(state: dict) -> None:
    _rng.bit_generator.state = state


def make_rng(seed: Optional[int]) -> np.random.Generator:
    """A generator for a layer or initializer: seeded when ``seed`` is given, else drawn from the
    global generator (so it still follows ``set_random_seed``)."""
    if seed is None:
        return np.random.default_rng(_rng.integers(0, 2**63 - 1))
    return np.random.default_rng(seed)
