#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests and end-to-end tests on the
# normal build (and a smoke run of bench/run), then the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer.
#   ./test.sh                 everything
#   LOTE_SKIP_ASAN=1 ./test.sh   skip the sanitizer pass (quicker local runs)
set -euo pipefail
cd "$(dirname "$0")"

./setup.sh

run_suite() {  # $1 = build dir
  echo "== unit tests ($1)"
  ctest --test-dir "$1" --output-on-failure --timeout 120 -j "$(nproc)"
  echo "== end-to-end tests ($1)"
  LOTE_BIN="$PWD/$1/lote" /usr/bin/python3 -m pytest tests/e2e -q -p no:cacheprovider
}

run_python_tests() {
  echo "== Python runner tests"
  /usr/bin/python3 -m pytest tests/python -q -p no:cacheprovider
}

run_bench_smoke() {  # bench/run's tiny version, so that it does not rot (no times are asserted)
  echo "== bench/run --smoke"
  bench/run --smoke --no-build
}

run_suite build
run_python_tests
run_bench_smoke

if [[ -z ${LOTE_SKIP_ASAN:-} ]]; then
  LOTE_BUILD_DIR=build-asan LOTE_CMAKE_ARGS="-DLOTE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" ./setup.sh
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan
fi
echo "== all tests passed"
