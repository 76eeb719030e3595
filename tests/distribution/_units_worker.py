"""Checks that need several processes but no model: the NCCL reducer driven through a stand-in
NCCL module (pointers, counts, data type and the unique-id broadcast exercised as on a GPU,
the sum done over MPI), the object collectives, and a collective's deadline."""
import argparse
import ctypes

import numpy as np
from mpi4py import MPI

import nnforge as keras
from nnforge.distribution.collectives import Collectives, CollectiveTimeout
from nnforge.distribution.nccl import NcclReducer


class FakeNccl:
    """The subset of ``cupy.cuda.nccl`` that ``NcclReducer`` uses, summing over MPI."""
    NCCL_FLOAT64 = 8
    NCCL_SUM = 0
    created = []

    @staticmethod
    def get_unique_id():
        return tuple(int(v) for v in np.random.default_rng().integers(-128, 128, 128))

    class NcclCommunicator:
        def __init__(self, ndev, uid, rank):
            FakeNccl.created.append((ndev, uid, rank))

        def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
            assert datatype == FakeNccl.NCCL_FLOAT64 and op == FakeNccl.NCCL_SUM
            assert sendbuf == recvbuf and stream == 0
            arr = np.ctypeslib.as_array(ctypes.cast(sendbuf, ctypes.POINTER(ctypes.c_double)),
                                        shape=(count,))
            MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, arr, op=MPI.SUM)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.parse_args()
    keras.distribution.initialize()
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    coll = Collectives(comm, timeout=20.0)

    # NCCL reducer: unique id from process 0 on every process, weighted fused sum.
    reducer = NcclReducer(coll, nccl=FakeNccl, xp=np, stream=lambda: 0)
    ndev, uid, r = FakeNccl.created[-1]
    uids = coll.allgather_obj(uid)
    assert ndev == size and r == rank and all(u == uids[0] for u in uids), uids
    a = np.full((3, 2), rank + 1, dtype=np.float32)
    b = np.arange(5, dtype=np.float32) * (rank + 1)
    weights = [(i + 1) / sum(range(1, size + 1)) for i in range(size)]
    for _ in range(2):  # the second call reuses the fused buffer
        a[...] = rank + 1
        b[...] = np.arange(5) * (rank + 1)
        reducer.reduce_([a, b], weights[rank])
        expect = sum(w * (i + 1) for i, w in enumerate(weights))
        np.testing.assert_allclose(a, np.full((3, 2), expect), rtol=1e-6)
        np.testing.assert_allclose(b, np.arange(5) * expect, rtol=1e-6)
        assert a.dtype == np.float32

    # Random streams: identical shuffling state on every process, dropout streams distinct
    # per process and reproducible from the seed.
    def dropout_draws(seed):
        keras.utils.set_random_seed(seed)  # the same layer streams on every process ...
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.5)])
        keras.utils.set_random_seed(seed + rank)  # ... and different global states
        strategy = keras.distribution.DataParallel()
        strategy.begin(model, "fit")
        shuffle = keras.random_state.global_rng().integers(0, 2**31, 4).tolist()
        return shuffle, model.layers[-1]._rng.integers(0, 2**31, 4).tolist()

    first = dropout_draws(7)
    again = dropout_draws(7)
    everyone = coll.allgather_obj(first)
    assert first == again, "the per-process streams are not reproducible"
    assert all(e[0] == everyone[0][0] for e in everyone), "shuffling differs across processes"
    assert len({tuple(e[1]) for e in everyone}) == size, "dropout streams coincide"

    # Object collectives.
    got = coll.allgather_obj({"rank": rank, "payload": list(range(rank))})
    assert [g["rank"] for g in got] == list(range(size))
    assert coll.bcast_obj(("from", rank), root=size - 1) == ("from", size - 1)

    # A collective that a peer joins too late ends at its deadline.
    comm.Barrier()
    late = np.ones(3)
    if rank == 0:
        short = Collectives(comm, timeout=1.0, abort=False)
        try:
            short.allreduce_(late)
        except CollectiveTimeout as e:
            assert "a peer died or hangs" in str(e)
            print("deadline OK", flush=True)
            e.request.Wait()  # the peers join below, so the job can finish cleanly
        else:
            raise AssertionError("the allreduce completed without its peers")
    else:
        import time
        time.sleep(2.0)
        comm.Iallreduce(MPI.IN_PLACE, late, op=MPI.SUM).Wait()  # nonblocking, as on 0
    assert late.tolist() == [size] * 3
    print(f"process {rank} OK", flush=True)

if __name__ == "__main__":
    main()
