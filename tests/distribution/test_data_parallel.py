"""``DataParallel`` end to end: the same script under ``mpiexec -n 2`` and ``-n 3`` against one
plain process (seed MLP and CNN on small subsets with an uneven last batch, a synchronized
BatchNormalization model), plus process failures."""
import json
import os
import re

import numpy as np
import pytest

pytest.importorskip("mpi4py")

from .launcher import launch  # noqa: E402

MODELS = "mlp,cnn,bnmlp,cnn_sgd"
# 194 rows, global batch 32: six full batches and a last one of 2 rows, so with 3 processes
# the last batch leaves one process without rows. 50 validation rows: 32 + 18.
COMMON = ["--rows", "194", "--batch", "32", "--epochs", "3", "--models", MODELS]


def results(out, rank, model):
    npz = np.load(os.path.join(out, f"rank{rank}_{model}.npz"))
    with open(os.path.join(out, f"rank{rank}_{model}.json")) as f:
        meta = json.load(f)
    return npz, meta


def weights(npz, epoch):
    keys = sorted((k for k in npz.files if k.startswith(f"w{epoch}_")),
                  key=lambda k: int(k.split("_")[1]))
    return [npz[k] for k in keys]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    rc, so, se, _ = launch(None, COMMON + ["--distributed", "0"], out)
    assert rc == 0, se
    return out


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    out = tmp_path_factory.mktemp("two")
    rc, so, se, _ = launch(2, COMMON + ["--verbose", "1", "--checkpoint", "1"], out)
    assert rc == 0, se
    return out, so


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    out = tmp_path_factory.mktemp("three")
    rc, so, se, _ = launch(3, COMMON, out)
    assert rc == 0, se
    return out


def test_single_process_path_imports_no_mpi4py(single):
    for model in MODELS.split(","):
        _, meta = results(single, 0, model)
        assert meta["mpi4py_imported"] is False


@pytest.mark.parametrize("nprocs", [2, 3])
def test_weight_hashes_identical_on_every_process_after_every_epoch(nprocs, two, three):
    out = two[0] if nprocs == 2 else three
    for model in MODELS.split(","):
        hashes = [list(results(out, r, model)[0]["hashes"]) for r in range(nprocs)]
        assert len(hashes[0]) == 3
        assert all(h == hashes[0] for h in hashes)
        # and the weights themselves, bitwise
        for r in range(1, nprocs):
            for a, b in zip(weights(results(out, 0, model)[0], 2),
                            weights(results(out, r, model)[0], 2)):
                assert np.array_equal(a, b)


@pytest.mark.parametrize("nprocs", [2, 3])
@pytest.mark.parametrize("model", MODELS.split(","))
def test_n_processes_train_like_one_process(nprocs, model, single, two, three):
    out = two[0] if nprocs == 2 else three
    ref, ref_meta = results(single, 0, model)
    got, got_meta = results(out, nprocs - 1, model)
    for a, b in zip(weights(got, 0), weights(ref, 0)):  # after one epoch
        # Summing a batch's gradient in shards changes float32 rounding (~1e-7 relative). Adam
        # divides each gradient by its running RMS, so where a convolution's gradient nearly
        # cancels (random images, random labels) that rounding becomes a visible part of
        # the step: there the CNN is held to 2% of one Adam step (lr 1e-3) per element; with
        # SGD it meets rtol 1e-5 like the MLP. (The BatchNormalization model: 1e-6.)
        atol = {"cnn": 2e-5, "bnmlp": 1e-6}.get(model, 1e-7)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=atol)
    # the logs come from the summed metric states: the single-process values
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(got_meta["history"][key][0], ref_meta["history"][key][0],
                                   rtol=1e-5)
    # every process logs the same values
    for r in range(nprocs - 1):
        assert results(out, r, model)[1]["history"] == got_meta["history"]


@pytest.mark.parametrize("nprocs", [2, 3])
def test_validation_evaluate_and_predict_equal_single_process(nprocs, single, two, three):
    out = two[0] if nprocs == 2 else three
    ref, ref_meta = results(single, 0, "mlp")
    for r in range(nprocs):
        got, meta = results(out, r, "mlp")
        # evaluated after 3 epochs; accuracy counts agree exactly, the loss to float rounding
        np.testing.assert_allclose(meta["history"]["val_accuracy"],
                                   ref_meta["history"]["val_accuracy"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(meta["evaluate"]["accuracy"],
                                   ref_meta["evaluate"]["accuracy"], atol=1e-12)
        np.testing.assert_allclose(meta["evaluate"]["loss"], ref_meta["evaluate"]["loss"],
                                   rtol=1e-4)
        assert got["pred"].shape == ref["pred"].shape == (50, 10)  # every row, in order
        np.testing.assert_allclose(got["pred"], ref["pred"], rtol=1e-3, atol=1e-6)


def test_one_progress_bar_and_one_writer(two):
    out, stdout = two
    # one "Epoch i/3" header per epoch and model, not one per process
    assert len(re.findall(r"Epoch 1/3", stdout)) == len(MODELS.split(","))
    assert len(re.findall(r"Epoch 3/3", stdout)) == len(MODELS.split(","))
    # process 0 wrote each checkpoint once; process 1 wrote nothing
    for model in MODELS.split(","):
        assert results(out, 0, model)[1]["writes"] == 3
        assert results(out, 1, model)[1]["writes"] == 0
    ckpts = sorted(f for f in os.listdir(out) if f.startswith("mlp-ckpt"))
    assert ckpts == ["mlp-ckpt-1.keras", "mlp-ckpt-2.keras", "mlp-ckpt-3.keras"]


def test_sigkill_mid_epoch_ends_job_and_checkpoint_resumes(two, tmp_path):
    killed = tmp_path / "killed"
    killed.mkdir()
    args = ["--rows", "194", "--batch", "32", "--epochs", "3", "--models", "mlp",
            "--checkpoint", "1", "--fault", "kill", "--fault-at", "2,2"]
    rc, so, se, end = launch(2, args, killed)
    assert rc != 0
    with open(killed / "fault_time") as f:
        fault_time = float(f.read())
    assert end - fault_time < 30, f"the job took {end - fault_time:.1f} s to end"
    assert not os.path.exists(killed / "mlp-ckpt-3.keras")

    resumed = tmp_path / "resumed"
    resumed.mkdir()
    rc, so, se, _ = launch(2, ["--models", "mlp", "--rows", "194", "--batch", "32",
                               "--epochs", "3", "--resume", str(killed / "mlp-ckpt-2.keras")],
                           resumed)
    assert rc == 0, se
    uninterrupted = weights(results(two[0], 0, "mlp")[0], 2)
    for r in range(2):
        got = weights(results(resumed, r, "mlp")[0], 0)
        for a, b in zip(got, uninterrupted):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("fault", ["raise", "stall"])
def test_failing_or_stalled_process_ends_job_nonzero_within_30s(fault, tmp_path):
    args = ["--rows", "194", "--batch", "32", "--epochs", "1", "--models", "mlp",
            "--fault", fault, "--fault-at", "0,2", "--timeout", "5"]
    rc, so, se, end = launch(2, args, tmp_path, timeout=90)
    assert rc != 0
    with open(tmp_path / "fault_time") as f:
        elapsed = end - float(f.read())
    assert elapsed < 30, f"the job took {elapsed:.1f} s to end after the {fault}"
    if fault == "raise":
        assert "injected failure on process 1" in se
    else:
        assert "a peer died or hangs" in se


def test_example_runs_under_mpiexec_and_only_process_0_prints(tmp_path):
    import subprocess
    import sys

    from .launcher import ROOT, env, mpiexec
    cmd = [mpiexec(), "-n", "2", sys.executable, os.path.join(ROOT, "examples",
                                                              "distributed_mnist.py"),
           "--epochs", "0", "--seed", "0"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env(), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Training on 2 process(es): ['cpu:0', 'cpu:1']") == 1
    assert r.stdout.count("Test accuracy:") == 1
