"""examples/tune_mnist.py runs end to end (a small budget; the full run is in RESULTS.md)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nnforge

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_tune_mnist_example_small_budget(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(nnforge.__file__)),
               OMP_NUM_THREADS="1")
    args = ["--trials", "2", "--search-samples", "2000", "--search-epochs", "1", "--epochs", "1",
            "--directory", str(tmp_path)]
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "tune_mnist.py"), *args],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Results summary" in proc.stdout and "Best hyperparameters: {'units':" in proc.stdout
    assert float(re.search(r"Test accuracy: ([0-9.]+)", proc.stdout).group(1)) >= 0.9
    trials = os.listdir(tmp_path / "tune_mnist" / "trials")
    assert sorted(t for t in trials if t.endswith(".json")) == ["trial_0000.json",
                                                                "trial_0001.json"]
