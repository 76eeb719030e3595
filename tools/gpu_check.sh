#!/usr/bin/env bash
# GPU check for nnforge on a machine with an NVIDIA GPU and no internet.
#
# Needs: Python (3.12 on the reference machine) with NumPy, CuPy, pybind11, scikit-build-core and
# pytest installed; CMake; nvcc (and compute-sanitizer from the same toolkit); PyTorch optional
# (the benchmarks compare against it when present).
#
# Steps, each under `timeout`, the whole run within GPU_CHECK_BUDGET_S (default 560 s, so it fits
# the 10 minutes one device run may take on an H200):
#   1. pip install --no-build-isolation --no-deps .   (builds nnforge._cpu and nnforge._cuda)
#   2. GPU probe. Fails loudly when a GPU is present but unusable: a driver too old for the CUDA
#      runtime nnforge._cuda links statically (the runtime then reports 0 devices while
#      nvidia-smi lists the GPU, and every GPU test would quietly skip), or a compute capability
#      below the oldest the build has code for (every launch would fail). No GPU at all is a
#      failure too: this script exists to exercise one.
#   3. the whole of tests/gpu: every family runs (no --maxfail); a present but unusable GPU makes
#      the GPU tests fail, not skip (tests/gpu/conftest.py)
#   4. tests/gpu/test_kernels_gpu.py and test_rnn_gpu.py (the kernels; not its layer test) under
#      compute-sanitizer memcheck, without the tests that move
#      hundreds of MB (CuPy's memory pool off, so every array is its own allocation and memcheck
#      sees accesses past its end)
#   5. benchmarks/gpu.py (sgemm vs cuBLAS at FP32/TF32/BF16; seed models vs PyTorch on this GPU)
# Everything goes to stdout as Markdown that can be pasted into benchmarks/RESULTS.md.
# Exit status: 0 when the build, the probe, the tests, the sanitizer and the benchmarks all passed.
#
# Usage: tools/gpu_check.sh            (PYTHON=... to pick the interpreter)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-python3}
BUDGET=${GPU_CHECK_BUDGET_S:-560}
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

log_summary() {  # log_summary <log> <regex> <lines> <closing line>: the last matching lines, fenced
  echo '```'
  grep -E "$2" "$1" | tail -"$3"
  echo "$4"
  echo '```'
}

echo "# nnforge GPU check"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "- GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null | head -1 || echo 'nvidia-smi not available')"
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
timeout "$(limit 180)" "$PY" -m pip install --no-build-isolation --no-deps -v . \
  >"$LOGDIR/build.log" 2>&1
rc=$?
record "build" $rc $((SECONDS - t0))
echo '```'
grep -E "nnforge: |CUDA compiler identification|Successfully installed|error|Error" "$LOGDIR/build.log" | grep -v "^ *-- Performing" | head -20
if [[ $rc -ne 0 ]]; then echo "--- last lines of the build log ---"; tail -40 "$LOGDIR/build.log"; fi
echo "build: rc=$rc in $((SECONDS - t0)) s"
echo '```'

# ---- 2. GPU probe -----------------------------------------------------------------------------
echo
echo "## 2. GPU probe"
echo
SMI_GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
cat >"$LOGDIR/probe.py" <<'PROBE'
import sys

import nnforge
import nnforge._cuda as c

smi = int(sys.argv[1])
n = c.device_count()
print("nnforge from", nnforge.__file__)
print("nvidia-smi GPUs:", smi, "| nnforge._cuda: devices", n, "| runtime", c.runtime_version(),
      "| driver", c.driver_version(), "| oldest compute capability built",
      c.min_compute_capability())
try:
    from nnforge.backend import cuda as gb
except ImportError as e:  # no CuPy
    if n == 0 and smi == 0:
        print("NO GPU: neither nvidia-smi nor the CUDA runtime sees one (and CuPy is missing)")
        sys.exit(4)
    print("UNUSABLE GPU: CuPy does not import:", e)
    sys.exit(3)
reason = gb.unusable_reason()
if reason is None and n == 0 and smi > 0:
    reason = (f"nvidia-smi lists {smi} GPU(s) but nnforge._cuda sees none (driver "
              f"{c.driver_version()}, runtime {c.runtime_version()})")
if reason is not None:
    print("UNUSABLE GPU:", reason)
    sys.exit(3)
if n == 0:
    print("NO GPU: neither nvidia-smi nor the CUDA runtime sees one; nothing can be checked")
    sys.exit(4)
print("compute capability", c.compute_capability(0), "| tensor cores for tf32/bf16:",
      c.tensor_cores_used("tf32"), "| backend.cuda.is_available():", gb.is_available())
PROBE
echo '```'
timeout 60 "$PY" "$LOGDIR/probe.py" "${SMI_GPUS:-0}" 2>&1
rc=$?
echo '```'
record "GPU probe" $rc 0
USABLE=0
[[ $rc -eq 0 ]] && USABLE=1

# ---- 3. the whole GPU suite -------------------------------------------------------------------
echo
echo "## 3. tests/gpu (every family; no early stop)"
echo
t0=$SECONDS
timeout "$(limit 200)" "$PY" -m pytest tests/gpu -q -rfEs -p no:cacheprovider \
  >"$LOGDIR/tests.log" 2>&1
rc=$?
record "tests/gpu" $rc $((SECONDS - t0))
# pytest's summary lines, failures, errors and skips (with their reasons).
log_summary "$LOGDIR/tests.log" "^(FAILED|ERROR|SKIPPED)|passed|failed|error|=========" 60 \
  "tests: rc=$rc in $((SECONDS - t0)) s"
if [[ $rc -ne 0 ]]; then
  echo
  echo "<details><summary>last 80 lines of the test log</summary>"
  echo
  echo '```'
  tail -80 "$LOGDIR/tests.log"
  echo '```'
  echo "</details>"
fi

# ---- 4. memcheck ------------------------------------------------------------------------------
echo
echo "## 4. test_kernels_gpu.py and test_rnn_gpu.py under compute-sanitizer memcheck"
echo
SAN=$(command -v compute-sanitizer || true)
if [[ -z $SAN ]]; then
  for d in "$(dirname "$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")" \
           /usr/local/cuda/bin /usr/local/cuda/compute-sanitizer; do
    [[ -x $d/compute-sanitizer ]] && SAN=$d/compute-sanitizer && break
  done
fi
t0=$SECONDS
if [[ -n $SAN && $USABLE -eq 1 ]]; then
  NNFORGE_CUPY_NO_POOL=1 timeout "$(limit 150)" "$SAN" --tool memcheck --error-exitcode 99 \
    --print-limit 20 "$PY" -m pytest tests/gpu/test_kernels_gpu.py tests/gpu/test_rnn_gpu.py \
    -q -rfE -p no:cacheprovider \
    -k "not wraparound and not beyond and not out_of_memory and not layers_take" \
    >"$LOGDIR/memcheck.log" 2>&1
  rc=$?
  record "test_kernels_gpu.py, test_rnn_gpu.py + memcheck" $rc $((SECONDS - t0))
  log_summary "$LOGDIR/memcheck.log" "^(FAILED|ERROR)|passed|failed|ERROR SUMMARY|=========" 30 \
    "memcheck: rc=$rc in $((SECONDS - t0)) s (99 = memcheck found errors)"
else
  echo "not run: $([[ -z $SAN ]] && echo 'compute-sanitizer not found' || echo 'no usable GPU')"
  record "memcheck" 1 0
fi

# ---- 5. benchmarks ----------------------------------------------------------------------------
echo
t0=$SECONDS
left=$((BUDGET - (SECONDS - START)))
if ((left > 30 && USABLE == 1)); then
  timeout "$(limit 170)" "$PY" benchmarks/gpu.py --strict $([[ $left -lt 120 ]] && echo --quick) \
    2>"$LOGDIR/bench.err" | sed 's/^# /### /; s/^## /### /'
  rc=${PIPESTATUS[0]}
  record "benchmarks/gpu.py" $rc $((SECONDS - t0))
  if [[ $rc -ne 0 ]]; then echo '```'; tail -20 "$LOGDIR/bench.err"; echo '```'; fi
else
  echo "### Benchmarks not run: ${left} s left of the ${BUDGET} s budget, usable GPU: $USABLE"
  record "benchmarks/gpu.py" 1 0
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
