"""The kernels' OpenMP threads wait passively by default (python/nnforge/_thread_policy.py), the
user's own setting wins, and the environment is left as the user had it."""
import os
import subprocess
import sys

import pytest

SCRIPT = "import os, nnforge; print('ENV', os.environ.get('OMP_WAIT_POLICY'))"


def run(extra_env: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(extra_env, OMP_DISPLAY_ENV="true")  # libgomp prints its settings when it loads
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120, check=True)


def runtime_policy(proc) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if "OMP_WAIT_POLICY" in ln]
    if not lines:
        pytest.skip("the OpenMP runtime does not print OMP_DISPLAY_ENV (not GNU libgomp)")
    return lines[0].split("=")[1].strip().strip("'")


def test_default_is_passive_and_environment_is_restored():
    proc = run({})
    assert runtime_policy(proc) == "PASSIVE"
    assert "ENV None" in proc.stdout  # not left in the environment for other libraries


@pytest.mark.parametrize("policy", ["active", "passive"])
def test_user_policy_wins(policy):
    proc = run({"OMP_WAIT_POLICY": policy})
    assert runtime_policy(proc) == policy.upper()
    assert f"ENV {policy}" in proc.stdout


def test_user_spincount_is_left_alone():
    proc = run({"GOMP_SPINCOUNT": "1000"})
    assert "ENV None" in proc.stdout
    spin = [ln for ln in proc.stderr.splitlines() if "GOMP_SPINCOUNT" in ln]
    if spin:
        assert "1000" in spin[0]
