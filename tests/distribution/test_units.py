"""Pieces of ``nnforge.distribution`` checked in one process (launch detection, metric states,
the fused buffer, how a batch is split), and under ``mpiexec`` the NCCL reducer through a
stand-in NCCL module plus the collectives' deadline."""
import subprocess
import sys

import numpy as np
import pytest

import nnforge as keras
from nnforge import distribution
from nnforge.distribution import metric_state
from nnforge.distribution.gradient_reduction import FusedBuffer
from nnforge.distribution.launch import launched_with_mpi

from .launcher import ROOT, env, launch


@pytest.mark.parametrize("environ, expected", [
    ({}, False),
    ({"HOME": "/root"}, False),
    ({"PMI_SIZE": "2", "PMI_RANK": "0"}, True),             # MPICH / Hydra, Intel MPI
    ({"OMPI_COMM_WORLD_SIZE": "4"}, True),                  # Open MPI
    ({"PMIX_RANK": "1"}, True),                             # PMIx launchers
    ({"MPI_LOCALRANKID": "0"}, True),                       # Intel MPI
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "2"}, False),    # an sbatch script, not srun
    ({"SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "2"}, True),  # srun
])
def test_launch_detection(environ, expected):
    assert launched_with_mpi(environ) is expected


def test_single_process_api_and_no_mpi4py_import():
    code = ("import sys, nnforge as k\n"
            "k.distribution.initialize()\n"
            "dp = k.distribution.DataParallel()\n"
            "assert k.distribution.distribution() is None\n"
            "assert (k.distribution.num_processes(), k.distribution.process_id()) == (1, 0)\n"
            "assert k.distribution.list_devices() == ['cpu:0'], k.distribution.list_devices()\n"
            "assert dp.num_processes == 1 and dp.collectives is None\n"
            "assert 'mpi4py' not in sys.modules\n")
    e = {k: v for k, v in env().items() if not launched_with_mpi({k: v})}
    r = subprocess.run([sys.executable, "-c", code], env=e, cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_set_distribution_checks_its_argument():
    with pytest.raises(TypeError, match="DataParallel"):
        distribution.set_distribution("data_parallel")
    with pytest.raises(ValueError, match="timeout"):
        distribution.DataParallel(timeout=0)
    with pytest.raises(ValueError, match="one device per process"):
        distribution.DataParallel(devices=["cpu:0", "cpu:1"])


def _halves_summed(make, y_true, y_pred, lazy=False):
    """A metric over all rows, and the same metric from the summed states of two halves."""
    whole, a, b = make(), make(), make()
    whole.update_state(y_true, y_pred)
    a.update_state(y_true[:7], y_pred[:7])
    b.update_state(y_true[7:], y_pred[7:])
    if lazy:
        summed = metric_state.sum_lazy([metric_state.get_states([a])[0],
                                        metric_state.get_states([b])[0]])
        metric_state.set_states([a], [summed])
    else:
        metric_state.unpack([a], metric_state.pack([a]) + metric_state.pack([b]))
    return np.asarray(whole.result().numpy()), np.asarray(a.result().numpy())


@pytest.mark.parametrize("make", [
    lambda: keras.metrics.get("categorical_accuracy"),
    keras.metrics.Precision, keras.metrics.Recall, keras.metrics.AUC,
    keras.metrics.CategoricalCrossentropy,
])
def test_summed_metric_states_give_the_metric_of_all_rows(make):
    rng = np.random.default_rng(3)
    if make in (keras.metrics.Precision, keras.metrics.Recall, keras.metrics.AUC):
        y_true = rng.integers(0, 2, (20, 1)).astype(np.float32)
        y_pred = rng.random((20, 1), dtype=np.float32)
    else:
        y_true = keras.utils.to_categorical(rng.integers(0, 4, 20), 4)
        y_pred = rng.dirichlet(np.ones(4), 20).astype(np.float32)
    whole, summed = _halves_summed(make, y_true, y_pred)
    np.testing.assert_allclose(summed, whole, rtol=1e-6)


def test_lazy_metric_state_f1_is_summed_with_missing_parts():
    rng = np.random.default_rng(4)
    y_true = keras.utils.to_categorical(rng.integers(0, 3, 20), 3)
    y_pred = rng.dirichlet(np.ones(3), 20).astype(np.float32)
    names, lazy = metric_state.state_names(keras.metrics.F1Score(average="macro"))
    assert lazy and set(names) == {"tp", "fp", "fn", "support"}
    whole, summed = _halves_summed(lambda: keras.metrics.F1Score(average="macro"),
                                   y_true, y_pred, lazy=True)
    np.testing.assert_allclose(summed, whole, rtol=1e-6)
    # a process that saw no rows contributes None
    seen = keras.metrics.F1Score(average="macro")
    seen.update_state(y_true, y_pred)
    states = metric_state.get_states([seen])[0]
    assert metric_state.sum_lazy([states, [None] * 4])[0].tolist() == states[0].tolist()


def test_mean_metric_states_are_total_and_count():
    m = keras.metrics.Mean()
    assert metric_state.state_names(m) == (("total", "count"), False)
    m.update_state(np.array([1.0, 2.0, 6.0]))
    np.testing.assert_array_equal(metric_state.pack([m]), [9.0, 3.0])


def test_fused_buffer_scales_and_writes_back():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([0.5, -1.5], dtype=np.float32)
    fb = FusedBuffer(np)
    buf = fb.pack([a, b], 0.25)
    assert buf.dtype == np.float64
    np.testing.assert_array_equal(buf, np.concatenate([a.ravel(), b]) * 0.25)
    buf *= 4
    fb.unpack([a, b])
    np.testing.assert_array_equal(a, np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(b, [0.5, -1.5])


@pytest.mark.parametrize("rows, nprocs, expected", [
    (7, 3, [3, 2, 2]), (32, 2, [16, 16]), (2, 3, [1, 1, 0]), (1, 2, [1, 0]), (5, 1, [5])])
def test_a_batch_is_split_in_contiguous_shards_in_rank_order(rows, nprocs, expected):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
    y = np.arange(rows * 2, dtype=np.float32).reshape(rows, 2)
    dp = distribution.DataParallel()
    parts, weights = [], []
    for rank in range(nprocs):
        dp.num_processes, dp.process_id = nprocs, rank
        xs, ys, sw = dp.shard_batch(model, x, y, None)
        assert sw is None and len(xs) == len(ys)
        weights.append(dp._weight)
        if expected[rank] == 0:  # no rows: one placeholder row whose weight is 0
            assert len(xs) == 1 and dp._weight == 0.0
            dp.reduce_logs(model)  # forgets the placeholder
            continue
        parts.append(xs)
        assert len(xs) == expected[rank]
    np.testing.assert_array_equal(np.concatenate(parts), x)
    assert sum(weights) == pytest.approx(1.0)


def test_nccl_reducer_and_collectives_over_mpi(tmp_path):
    pytest.importorskip("mpi4py")
    rc, so, se, _ = launch(3, [], tmp_path, script="_units_worker.py", timeout=60)
    assert rc == 0, se
    assert "deadline OK" in so
    assert all(f"process {r} OK" in so for r in range(3))
