"""``timeseries_dataset_from_array``: sliding windows over a sequence as a ``PyDataset``."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .py_dataset import _SampleBatches


class TimeseriesDataset(_SampleBatches):
    """Batches of windows ``data[start + p + arange(0, length * rate, rate)]`` (and
    ``targets[start + p]``), one per start position ``p``."""

    def __init__(self, data, targets, positions, sequence_length, sampling_rate, batch_size,
                 start_index, end_index):
        super().__init__()
        self.data = data
        self.targets = targets
        self.positions = positions
        self.sequence_length, self.sampling_rate = sequence_length, sampling_rate
        self.batch_size = batch_size
        self.start_index, self.end_index = start_index, end_index

    def _num_samples(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: int):
        pos = self.positions[self._batch_range(index)]
        steps = np.arange(0, self.sequence_length * self.sampling_rate, self.sampling_rate)
        window = np.asarray(self.data[self.start_index:self.end_index])
        x = window[pos[:, None] + steps[None]]
        if self.targets is not None:
            y = np.asarray(self.targets[self.start_index:self.end_index])[pos]
            return (x[0], y[0]) if self.batch_size is None else (x, y)
        return x[0] if self.batch_size is None else x


def timeseries_dataset_from_array(data, targets, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: Optional[int] = 128,
                                  shuffle: bool = False, seed: Optional[int] = None,
                                  start_index: Optional[int] = None,
                                  end_index: Optional[int] = None, format: str = "tf"):
    """Sliding windows over ``data`` (``keras.utils.timeseries_dataset_from_array``), as a
    ``PyDataset`` of batches.

    Window ``i`` starts at ``p_i = i * sequence_stride`` (within ``data[start_index:end_index]``)
    and holds ``sequence_length`` steps ``sampling_rate`` apart; its target is
    ``targets[start_index + p_i]``.

    Args:
        data: an array-like with the time steps on the first axis.
        targets: targets aligned with ``data``, or None.
        sequence_length: steps per window.
        sequence_stride: steps between window starts.
        sampling_rate: steps between the samples of a window.
        batch_size: windows per batch (None: single windows).
        shuffle: shuffle the windows' order (once, from ``seed``, with NumPy's RandomState as
            Keras does; Keras's extra ``tf.data`` buffer shuffle is not reproduced).
        seed: the shuffling seed.
        start_index, end_index: the part of ``data`` to use.
        format: ``"tf"`` or ``"grain"`` (both give a PyDataset here).

    Example:

    >>> ds = timeseries_dataset_from_array(np.arange(10), None, sequence_length=5,
    ...                                    batch_size=2)
    >>> ds[0]
    array([[0, 1, 2, 3, 4],
           [1, 2, 3, 4, 5]])
    """
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= n:
            raise ValueError(f"`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= n:
            raise ValueError(f"`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: "
                             f"end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= n:
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: "
                             f"{name}={value}, for data of length {n}")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    start = start_index or 0
    end = n if end_index is None else end_index
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(positions)
    return TimeseriesDataset(data, targets, positions, int(sequence_length), int(sampling_rate),
                             batch_size, start, end)
