"""Which process am I: detecting an MPI launch from the environment, starting MPI through
mpi4py, and making a failing process end the whole job.

Nothing here imports mpi4py until ``initialize()`` finds an MPI launch, so a single-process
``import nnforge`` never loads MPI.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Mapping, Optional

# Variables that the common launchers put in every process's environment:
# MPICH/Hydra and Intel MPI (PMI_*), Open MPI (OMPI_*), PMIx-based launchers, Intel MPI's local
# rank, and Slurm's srun (SLURM_STEP_NUM_TASKS exists inside a job step, not in the batch script).
_MPI_ENV_VARS = ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK",
                 "PMIX_RANK", "MPI_LOCALRANKID", "MPI_LOCALNRANKS")

_state: dict = {"comm": None, "local_rank": 0, "local_size": 1, "initialized": False}
_ABORT_GRACE_S = 0.5  # abort(): time for the launcher to forward the last output first


def launched_with_mpi(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether this process was started by an MPI launcher (``mpiexec``, ``mpirun``, ``srun``).

    Args:
        environ: the environment to inspect (default ``os.environ``).

    Returns:
        True when one of the launchers' variables is set.

    Example:
    >>> launched_with_mpi({"PMI_SIZE": "2", "PMI_RANK": "1"})
    True
    """
    env = os.environ if environ is None else environ
    if any(v in env for v in _MPI_ENV_VARS):
        return True
    return "SLURM_STEP_NUM_TASKS" in env and "SLURM_PROCID" in env


def initialize(job_addresses: Optional[str] = None, num_processes: Optional[int] = None,
               process_id: Optional[int] = None) -> None:
    """Start the multi-process runtime when this process was launched by MPI; else do nothing.

    The signature is Keras 3's (``keras.distribution.initialize``). MPI itself knows the job's
    addresses, its size and this process's rank, so the arguments are only checked against
    what MPI reports. Calling it twice is harmless.

    In a job of more than one process, an exception that reaches the top level calls
    ``MPI_Abort``, so the launcher ends every process with a non-zero status instead of leaving
    the others waiting in a collective; and where nnforge computes on CUDA, each process takes
    the GPU numbered by its rank on its machine (call ``initialize()`` before building models).

    Args:
        job_addresses: ignored (MPI's launcher connects the processes).
        num_processes: when given, must equal the number of MPI processes.
        process_id: when given, must equal this process's MPI rank.

    Example:
    >>> import nnforge as keras
    >>> keras.distribution.initialize()   # under `mpiexec -n 2 python train.py`
    >>> keras.distribution.num_processes()
    2
    """
    if not _state["initialized"] and launched_with_mpi():
        from mpi4py import MPI  # noqa: WPS433 (imported only for a real MPI launch)
        comm = MPI.COMM_WORLD
        _state["comm"] = comm
        local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())
        _state["local_rank"], _state["local_size"] = local.Get_rank(), local.Get_size()
        local.Free()
        if comm.Get_size() > 1:
            _install_abort_on_error(comm)
            _pick_gpu(_state["local_rank"])
        _state["initialized"] = True
    size, rank = get_num_processes(), get_process_id()
    if num_processes is not None and int(num_processes) != size:
        raise ValueError(f"initialize: num_processes={num_processes} but MPI started {size} "
                         f"process(es)")
    if process_id is not None and int(process_id) != rank:
        raise ValueError(f"initialize: process_id={process_id} but this process has MPI rank "
                         f"{rank}")


def get_comm() -> Any:
    """The ``mpi4py`` world communicator, or None in a single process."""
    return _state["comm"]


def get_num_processes() -> int:
    comm = _state["comm"]
    return 1 if comm is None else comm.Get_size()


def get_process_id() -> int:
    comm = _state["comm"]
    return 0 if comm is None else comm.Get_rank()


def get_local_rank() -> int:
    """This process's rank among the processes on its machine (picks its GPU)."""
    return _state["local_rank"]


def get_local_size() -> int:
    return _state["local_size"]


def abort(code: int = 1) -> None:
    """End every process of the job now (``MPI_Abort``); in a single process, exit."""
    comm = _state["comm"]
    sys.stderr.flush()
    sys.stdout.flush()
    if comm is not None:
        if comm.Get_size() > 1:
            # MPI_Abort races with mpiexec forwarding this process's last output (the reason
            # the job ends): a moment for the launcher to read it first.
            time.sleep(_ABORT_GRACE_S)
        comm.Abort(code)
    os._exit(code)


def _pick_gpu(local_rank: int) -> None:
    """One process per GPU: where nnforge computes on CUDA, use the GPU numbered by this
    process's rank on its machine (before any array is allocated on the default GPU)."""
    from nnforge import backend
    if backend.get_device() == "cuda":
        from .nccl import select_device
        select_device(local_rank)


def _install_abort_on_error(comm) -> None:
    previous = sys.excepthook

    def excepthook(exc_type, exc, tb):
        try:
            previous(exc_type, exc, tb)
            sys.stderr.write(f"nnforge.distribution: process {comm.Get_rank()} of "
                             f"{comm.Get_size()} raised {exc_type.__name__}; aborting the "
                             f"job\n")
            sys.stderr.flush()
            time.sleep(0.5)  # let the launcher forward the traceback before MPI_Abort
        finally:
            abort(1)

    sys.excepthook = excepthook
