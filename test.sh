#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests and end-to-end tests on the
# normal build (and a smoke run of bench/run), the unit tests under
# ThreadSanitizer, every fuzz target for a bounded time (fuzz/README.md), then
# the unit and end-to-end tests under AddressSanitizer + UndefinedBehaviorSanitizer.
#   ./test.sh                    everything
#   LOTE_SKIP_ASAN=1 ./test.sh   skip the ASan/UBSan pass (quicker local runs)
#   LOTE_SKIP_TSAN=1 ./test.sh   skip the ThreadSanitizer pass
#   LOTE_SKIP_FUZZ=1 ./test.sh   skip the fuzz targets (LOTE_FUZZ_SECONDS=… sets their time)
set -euo pipefail
cd "$(dirname "$0")"

started=$SECONDS
# Each stage says how long the run has taken so far (CI must stay well under an hour).
stage() { echo "== $1 (at $(((SECONDS - started) / 60))m$(((SECONDS - started) % 60))s)"; }

stage "setup and build"
./setup.sh

run_suite() {  # $1 = build dir
  stage "unit tests ($1)"
  ctest --test-dir "$1" --output-on-failure --timeout 120 -j "$(nproc)"
  stage "end-to-end tests ($1)"
  LOTE_BIN="$PWD/$1/lote" /usr/bin/python3 -m pytest tests/e2e -q -p no:cacheprovider
}

run_compat_tests() {  # once: Azure's GA walkthrough, unchanged but for `az ml` -> `lote`
  stage "Azure compatibility suite"
  LOTE_BIN="$PWD/build/lote" /usr/bin/python3 -m pytest tests/compat -q -p no:cacheprovider
}

run_python_tests() {
  stage "Python runner tests"
  /usr/bin/python3 -m pytest tests/python -q -p no:cacheprovider
}

run_bench_smoke() {  # bench/run's tiny version, so that it does not rot (no times are asserted)
  stage "bench/run --smoke"
  bench/run --smoke --no-build
}

# The unit tests under ThreadSanitizer: only the test binary is built, with
# gcc (the Debian libraries are gcc's) and without libtorch, whose own thread
# pools TSan cannot see into. Races fail the test that ran into them.
run_tsan() {
  stage "unit tests under ThreadSanitizer (build-tsan)"
  # gcc 12's TSan cannot place its shadow memory when the kernel randomizes
  # mmap with more bits than it expects (vm.mmap_rnd_bits > 28 on newer
  # kernels: "unexpected memory mapping"); without address randomization it
  # always can. The build runs the test binary too (test discovery).
  local -a norand=()
  if setarch "$(uname -m)" -R true 2>/dev/null; then norand=(setarch "$(uname -m)" -R); fi
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOTE_WERROR=ON \
    -DLOTE_TSAN=ON -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON -DLOTE_UNIT_TEST_FILTER= >/dev/null
  "${norand[@]}" cmake --build build-tsan --parallel "$(nproc)" --target lote_unit_tests
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$PWD/tests/tsan.supp" \
    "${norand[@]}" ctest --test-dir build-tsan --output-on-failure --timeout 300 -j "$(nproc)"
}

run_suite build
run_compat_tests
run_python_tests
run_bench_smoke

if [[ -z ${LOTE_SKIP_TSAN:-} ]]; then
  run_tsan
fi
if [[ -z ${LOTE_SKIP_FUZZ:-} ]]; then
  stage "fuzz targets"
  fuzz/run.sh
fi

if [[ -z ${LOTE_SKIP_ASAN:-} ]]; then
  # Without libtorch: its TorchScript tests run in the first pass, and the
  # one file that includes it takes minutes to build with the sanitizers.
  stage "AddressSanitizer + UBSan build"
  LOTE_BUILD_DIR=build-asan \
    LOTE_CMAKE_ARGS="-DLOTE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON" ./setup.sh
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan
fi
stage "all tests passed"
