#!/usr/bin/env bash
# GPU check for nnforge on a machine with an NVIDIA GPU and no internet.
#
# Needs: Python (3.12 on the reference machine) with NumPy, CuPy, pybind11, scikit-build-core and
# pytest installed; CMake; nvcc (and compute-sanitizer from the same toolkit); PyTorch optional
# (the benchmarks compare against it when present).
#
# Steps, each under `timeout`, the whole run within GPU_CHECK_BUDGET_S (default 470 s, < 8 min):
#   1. pip install --no-build-isolation --no-deps .   (builds nnforge._cpu and nnforge._cuda)
#   2. tests/gpu under compute-sanitizer memcheck (CuPy's memory pool off, so every array is its
#      own allocation and memcheck sees accesses past its end)
#   3. benchmarks/gpu.py (sgemm vs cuBLAS at FP32/TF32/BF16; seed models vs PyTorch)
# Everything goes to stdout as Markdown that can be pasted into benchmarks/RESULTS.md.
# Exit status: 0 when the build, the tests and the sanitizer all passed.
#
# Usage: tools/gpu_check.sh            (PYTHON=... to pick the interpreter)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-python3}
BUDGET=${GPU_CHECK_BUDGET_S:-470}
START=$SECONDS
LOGDIR=$(mktemp -d /tmp/nnforge_gpu_check.XXXXXX)
STATUS=0
declare -a SUMMARY=()

# Seconds a stage may take: its own cap, but never past the overall budget.
limit() {
  local want=$1 left=$((BUDGET - (SECONDS - START)))
  ((left < want)) && want=$left
  ((want < 5)) && want=5
  echo "$want"
}

record() {  # record <stage> <rc> <seconds>
  local verdict="ok"
  if [[ $2 -eq 124 || $2 -eq 137 ]]; then verdict="TIMED OUT"; elif [[ $2 -ne 0 ]]; then verdict="FAILED (rc=$2)"; fi
  SUMMARY+=("| $1 | $verdict | $3 s |")
  [[ $verdict == ok ]] || STATUS=1
}

echo "# nnforge GPU check"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "- GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1 || echo 'nvidia-smi not available')"
echo "- nvcc: $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'not found')"
echo "- $($PY -c 'import sys, platform; print("Python", platform.python_version())')," \
     "$($PY -c 'import numpy; print("NumPy", numpy.__version__)' 2>/dev/null || echo 'NumPy missing')," \
     "$($PY -c 'import cupy; print("CuPy", cupy.__version__)' 2>/dev/null || echo 'CuPy missing')," \
     "$($PY -c 'import torch; print("PyTorch", torch.__version__)' 2>/dev/null || echo 'PyTorch not installed')"
echo "- CPU cores: $(nproc)"

# ---- 1. build ---------------------------------------------------------------------------------
echo
echo "## 1. Build: pip install --no-build-isolation --no-deps ."
echo
export NNFORGE_REQUIRE_CUDA=1
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
t0=$SECONDS
timeout "$(limit 200)" "$PY" -m pip install --no-build-isolation --no-deps -v . \
  >"$LOGDIR/build.log" 2>&1
rc=$?
record "build" $rc $((SECONDS - t0))
echo '```'
grep -E "nnforge: |CUDA compiler identification|Successfully installed|error|Error" "$LOGDIR/build.log" | grep -v "^ *-- Performing" | head -20
if [[ $rc -ne 0 ]]; then echo "--- last lines of the build log ---"; tail -40 "$LOGDIR/build.log"; fi
echo "build: rc=$rc in $((SECONDS - t0)) s"
echo '```'

# Which nnforge the tests will import, and what its CUDA module says.
echo
echo '```'
"$PY" - <<'EOF' 2>&1
import nnforge, nnforge._cuda as c
print("nnforge from", nnforge.__file__)
print("nnforge._cuda: devices", c.device_count(), "| runtime", c.runtime_version(),
      "| driver", c.driver_version(),
      "| compute capability", c.compute_capability(0) if c.device_count() else None,
      "| tensor cores for tf32/bf16:", c.tensor_cores_used("tf32") if c.device_count() else None)
from nnforge.backend import cuda
print("backend.cuda.is_available():", cuda.is_available())
EOF
echo '```'

# ---- 2. tests under compute-sanitizer ------------------------------------------------------------
echo
echo "## 2. tests/gpu under compute-sanitizer memcheck"
echo
SAN=$(command -v compute-sanitizer || true)
if [[ -z $SAN ]]; then
  for d in "$(dirname "$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")" \
           /usr/local/cuda/bin /usr/local/cuda/compute-sanitizer; do
    [[ -x $d/compute-sanitizer ]] && SAN=$d/compute-sanitizer && break
  done
fi
t0=$SECONDS
if [[ -n $SAN ]]; then
  NNFORGE_CUPY_NO_POOL=1 timeout "$(limit 220)" "$SAN" --tool memcheck --error-exitcode 99 \
    --print-limit 20 "$PY" -m pytest tests/gpu -q -rfEs -p no:cacheprovider --maxfail=25 \
    >"$LOGDIR/tests.log" 2>&1
  rc=$?
  stage="tests/gpu + memcheck"
else
  echo "compute-sanitizer not found: running tests/gpu without it"
  timeout "$(limit 220)" "$PY" -m pytest tests/gpu -q -rfEs -p no:cacheprovider --maxfail=25 \
    >"$LOGDIR/tests.log" 2>&1
  rc=$?
  stage="tests/gpu (no sanitizer)"
  STATUS=1
fi
record "$stage" $rc $((SECONDS - t0))
echo '```'
# pytest's summary lines, failures, skips and the sanitizer's verdict.
grep -E "^(FAILED|ERROR|SKIPPED)|passed|failed|error|=========" "$LOGDIR/tests.log" | tail -60
echo "tests: rc=$rc in $((SECONDS - t0)) s (99 = memcheck found errors)"
echo '```'
if [[ $rc -ne 0 ]]; then
  echo
  echo "<details><summary>last 80 lines of the test log</summary>"
  echo
  echo '```'
  tail -80 "$LOGDIR/tests.log"
  echo '```'
  echo "</details>"
fi

# ---- 3. benchmarks ----------------------------------------------------------------------------
echo
t0=$SECONDS
left=$((BUDGET - (SECONDS - START)))
if ((left > 30)); then
  timeout "$(limit 150)" "$PY" benchmarks/gpu.py --strict $([[ $left -lt 120 ]] && echo --quick) \
    2>"$LOGDIR/bench.err" | sed 's/^# /### /; s/^## /### /'
  rc=${PIPESTATUS[0]}
  record "benchmarks/gpu.py" $rc $((SECONDS - t0))
  if [[ $rc -ne 0 ]]; then echo '```'; tail -20 "$LOGDIR/bench.err"; echo '```'; fi
else
  echo "### Benchmarks skipped: ${left} s left of the ${BUDGET} s budget"
  record "benchmarks/gpu.py" 124 0
fi

# ---- summary ----------------------------------------------------------------------------------
echo
echo "## Summary"
echo
echo "| stage | result | time |"
echo "|---|---|---:|"
printf '%s\n' "${SUMMARY[@]}"
echo
echo "Total: $((SECONDS - START)) s (budget ${BUDGET} s). Logs: $LOGDIR"
exit $STATUS
