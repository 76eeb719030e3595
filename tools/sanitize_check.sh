#!/usr/bin/env bash
# Build nnforge._cpu with -fsanitize=address,undefined and run the kernel tests against it.
# Usage: bash tools/sanitize_check.sh   (needs pytest and hypothesis in the active Python)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build/asan
STAGE="$(mktemp -d /tmp/nnforge-asan.XXXXXX)"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNNFORGE_SANITIZE=ON \
  -DNNFORGE_DISABLE_CUDA=ON -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" \
  -DPython_EXECUTABLE="$(command -v python)" > "$STAGE/cmake.log"
cmake --build "$BUILD" -j2 --target _cpu > "$STAGE/build.log"
cp -r python/nnforge "$STAGE/nnforge"
rm -f "$STAGE"/nnforge/_cpu*.so "$STAGE"/nnforge/_cuda*.so
cp "$BUILD"/_cpu*.so "$STAGE/nnforge/"
LIBASAN="$(gcc -print-file-name=libasan.so)"
LIBUBSAN="$(gcc -print-file-name=libubsan.so)"
# libstdc++ preloaded too: without it ASan's interceptor cannot find __cxa_throw and the first
# C++ exception (a binding's ValueError) would abort the interpreter.
LIBSTDCXX="$(gcc -print-file-name=libstdc++.so)"
echo "== sanitizer run: kernel tests against $BUILD (ASan + UBSan)"
# Python itself is not built with ASan: leaks of the interpreter are not ours, so leak detection
# is off; any other ASan/UBSan report aborts the run (halt_on_error / -fno-sanitize-recover).
LD_PRELOAD="$LIBASAN $LIBUBSAN $LIBSTDCXX" ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 PYTHONPATH="$STAGE:$PWD" \
  python -m pytest tests/kernels -q -p no:cacheprovider -x
