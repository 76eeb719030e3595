"""``nnforge.random`` (``keras.random``): random tensors with Keras 3's signatures.

Every function takes ``seed``, as Keras's do:

- ``None``: drawn from nnforge's global generator (``nnforge.random_state``), so
  ``utils.set_random_seed`` makes a run reproducible and each call differs;
- an int: the same values at every call with that seed;
- a ``SeedGenerator``: a stream of its own, advanced by each call (the way to get fresh values
  at every step of a custom ``train_step`` while staying reproducible).

Values are drawn on the host by a NumPy ``Generator`` and placed on the current device.
"""
from .random import (SeedGenerator, beta, binomial, categorical, dropout, gamma, normal,
                     randint, shuffle, truncated_normal, uniform)

__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
           "randint", "shuffle", "truncated_normal", "uniform"]
