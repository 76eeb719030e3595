"""``PyDataset``: base class for Python data pipelines that yield whole batches."""
from __future__ import annotations

import math


def _stored_or_default(attr: str, default) -> property:
    """A property stored in ``attr`` that reads ``default`` until it is set."""
    def get(self):
        return getattr(self, attr, default)

    def set_(self, value):
        setattr(self, attr, value)
    return property(get, set_)


class PyDataset:
    """Base class for a dataset that returns one batch per index, as ``keras.utils.PyDataset``.

    Subclasses implement ``__getitem__(index)`` returning a batch (``(x, y)`` or
    ``(x, y, sample_weight)``, or ``x`` alone for prediction) and usually ``__len__()`` giving
    the number of batches per epoch; without ``__len__`` the dataset is treated as infinite
    (``num_batches`` is ``None``) and ``steps_per_epoch`` must be given to ``fit``.
    ``on_epoch_begin``/``on_epoch_end`` are called by the training loop around every epoch
    (shuffle there).

    Args:
        workers: number of workers the training loop may use to fetch batches in parallel.
        use_multiprocessing: whether those workers may be processes rather than threads.
        max_queue_size: how many batches may be prepared ahead.

    Subclasses must call ``super().__init__(**kwargs)`` so these arguments are recorded.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer; got {workers!r}")
        if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, int) \
                or max_queue_size < 1:
            raise ValueError(f"max_queue_size must be a positive integer; got {max_queue_size!r}")
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    # Keras reads these through properties so subclasses that forget super().__init__ still
    # get the defaults.
    workers = _stored_or_default("_workers", 1)
    use_multiprocessing = _stored_or_default("_use_multiprocessing", False)
    max_queue_size = _stored_or_default("_max_queue_size", 10)

    def __getitem__(self, index):
        """Batch number ``index`` (0-based)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement __getitem__(index) returning one batch"
        )

    @property
    def num_batches(self):
        """Batches per epoch: ``len(self)`` when the subclass defines ``__len__``, else None."""
        if hasattr(self, "__len__"):
            return len(self)
        return None

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch (shuffle the index order here)."""


class _SampleBatches(PyDataset):
    """Base of nnforge's own datasets of ``_num_samples()`` samples taken ``batch_size`` at a
    time (``batch_size=None``: one unbatched sample per index): the batch count, the index
    check (negative indices count from the end) and iteration.
    """

    batch_size = None

    def _num_samples(self) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        if self.batch_size is None:
            return self._num_samples()
        return math.ceil(self._num_samples() / self.batch_size)

    def _batch_range(self, index: int) -> slice:
        """The samples of batch ``index``."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        index %= len(self)
        size = 1 if self.batch_size is None else self.batch_size
        return slice(index * size, (index + 1) * size)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
