"""``set_random_seed``: one call makes a run reproducible."""
from __future__ import annotations

import random

import numpy as np

from .. import random_state


def set_random_seed(seed):
    """Seeds Python's ``random``, NumPy's global ``np.random`` and nnforge's global generator
    (``nnforge.random_state``, which initializers, dropout and shuffling draw from).

    Args:
        seed: integer in ``[0, 2**32)`` (NumPy's legacy seeding limit).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            f"Expected `seed` argument to be an integer. Received: seed={seed!r} "
            f"(of type {type(seed).__name__})"
        )
    seed = int(seed)
    if seed < 0 or seed >= 2**32:
        raise ValueError(
            f"Expected `seed` argument to be in [0, 2**32). Received: seed={seed}"
        )
    random.seed(seed)
    np.random.seed(seed)
    random_state.set_global_seed(seed)
