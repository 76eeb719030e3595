"""``EpochIterator``: the batches of one epoch of ``fit``, ``evaluate`` or ``predict``, whatever
the user passed (arrays, lists or dicts of arrays, a ``PyDataset``, a generator)."""
from __future__ import annotations

from typing import Any, Iterator, Optional, Tuple

import numpy as np

from . import data_adapter as da


class EpochIterator:
    """Iterates over the batches of one epoch, as Keras's ``EpochIterator`` does.

    In-memory arrays are sliced into batches (shuffled per epoch when ``shuffle`` is set);
    a ``PyDataset``/``keras.utils.Sequence`` or a generator is read item by item, each item being
    ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.

    Args:
        x: the inputs: an array, a list/dict of arrays, or a PyDataset/generator.
        y: the targets (None with a PyDataset/generator).
        sample_weight: per-sample weights (arrays only).
        batch_size: samples per batch for arrays (default 32).
        steps_per_epoch: at most this many batches per epoch (default: all the data).
        shuffle: for arrays: True (a new permutation each epoch), 'batch' (shuffle whole
            batches) or False.
        rng: the NumPy Generator used for shuffling.
        what: the calling method ('fit', 'evaluate', 'predict'), named in error messages.

    Example:

    >>> it = EpochIterator(x, y, batch_size=16, shuffle=True, rng=np.random.default_rng(0))
    >>> for step, (xb, yb, swb) in it.enumerate_epoch():
    ...     ...
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size: Optional[int] = None,
                 steps_per_epoch: Optional[int] = None, shuffle=False,
                 rng: Optional[np.random.Generator] = None, what: str = "fit"):
        self.what = what
        if da.is_iterable_data(x):
            if y is not None:
                raise ValueError(f"{what}: y must be None when x is a PyDataset or generator")
            self._batches = da.IterableBatches(x, steps_per_epoch, what)
        else:
            self._batches = da.ArrayBatches(x, y, sample_weight,
                                            32 if batch_size is None else batch_size,
                                            shuffle, rng, steps_per_epoch, what)

    @property
    def num_batches(self) -> Optional[int]:
        """Batches per epoch (None for a generator of unknown length)."""
        return len(self._batches)


    def enumerate_epoch(self) -> Iterator[Tuple[int, Tuple[Any, Any, Any]]]:
        """Yields ``(step, (x, y, sample_weight))`` for each batch of one epoch."""
        return enumerate(self._batches.epoch())
