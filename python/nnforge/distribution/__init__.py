"""``nnforge.distribution``: data-parallel training over processes, in the shape of Keras 3's
``keras.distribution`` (``initialize``, ``DataParallel``, ``set_distribution``, ...).

Launch the same script on several processes (``mpiexec -n 4 python train.py``, or ``srun``) and
call, before building the model::

    keras.distribution.initialize()
    keras.distribution.set_distribution(keras.distribution.DataParallel())

Then ``fit``/``evaluate``/``predict`` split every global batch over the processes (processes
talk through mpi4py; CuPy arrays through NCCL). Without a distribution set, nothing here runs and
mpi4py is never imported.
"""
from __future__ import annotations

from typing import Optional

from .data_parallel import DataParallel, list_devices, weights_hash
from .launch import initialize

_distribution: Optional[DataParallel] = None


def set_distribution(value: Optional[DataParallel]) -> None:
    """Make ``value`` the strategy that ``fit``/``evaluate``/``predict`` use (None: back to a
    single process).

    Args:
        value: a ``DataParallel`` instance, or None.

    Example:
    >>> keras.distribution.set_distribution(keras.distribution.DataParallel())
    """
    global _distribution
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution expects a DataParallel instance or None, got "
                        f"{type(value).__name__}")
    _distribution = value


def distribution() -> Optional[DataParallel]:
    """The strategy set by ``set_distribution``, or None (single process).

    Example:
    >>> keras.distribution.distribution() is None
    True
    """
    return _distribution


def num_processes() -> int:
    """How many processes the job has (1 unless launched by MPI and ``initialize()``d).

    Example:
    >>> keras.distribution.num_processes()
    1
    """
    from .launch import get_num_processes
    return get_num_processes()


def process_id() -> int:
    """This process's rank in the job, 0 to ``num_processes() - 1`` (0 in a single process).

    Example:
    >>> keras.distribution.process_id()
    0
    """
    from .launch import get_process_id
    return get_process_id()


def assert_replicas_in_sync(model) -> str:
    """Check that every process holds bitwise-identical variables (model and optimizer) by
    comparing a hash of them across processes; a collective: every process must call it.

    Args:
        model: the model trained with ``DataParallel``.

    Returns:
        the common hash (hex SHA-256).

    Raises:
        AssertionError: naming the processes whose hash differs from process 0's.

    Example:
    >>> keras.distribution.assert_replicas_in_sync(model)
    '3f2a9c41...'
    """
    h = weights_hash(model)
    strategy = _distribution
    coll = strategy.collectives if strategy is not None else None
    hashes = coll.allgather_obj(h, "the weight hash check") if coll is not None else [h]
    bad = [i for i, x in enumerate(hashes) if x != hashes[0]]
    if bad:
        raise AssertionError(f"weights differ from process 0's on processes {bad}")
    return h


__all__ = ["initialize", "DataParallel", "set_distribution", "distribution", "list_devices",
           "num_processes", "process_id", "weights_hash", "assert_replicas_in_sync"]
