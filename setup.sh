#!/usr/bin/env bash
# Installs every Debian package lote's build and tests need (skipped when all
# are present), then builds lote into build/.
#   ./setup.sh            install + build (RelWithDebInfo, warnings are errors)
#   LOTE_BUILD_DIR=… LOTE_CMAKE_ARGS="…" ./setup.sh   another build flavour
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libsqlite3-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libcpp-httplib-dev libmicrohttpd-dev libcli11-dev
  libssl-dev libcurl4-openssl-dev libxgboost-dev libtorch-dev libgtest-dev libgmock-dev
  libsnappy-dev libzstd-dev zlib1g-dev  # src/parquet's page codecs (docs/parquet.md)
  libsimdjson-dev  # JSON Lines input (src/native/jsonl_reader.h)
  python3 python3-pytest python3-numpy python3-pandas python3-sklearn python3-xgboost python3-yaml
  python3-torch
  curl ca-certificates
  slurm-wlm slurm-client munge  # scripts/slurm-local and its e2e tests (docs/compute.md)
  prometheus  # promtool checks GET /metrics in the e2e tests (docs/metrics.md)
  chromium  # the dashboard's browser test (tests/e2e/test_dashboard.py, with tests/browser's playwright-core)
  clang-16 libfuzzer-16-dev libclang-rt-16-dev llvm-16  # fuzz/ (clang-14 cannot build lote: fuzz/README.md)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm write the Parquet test files (tests/parquet_tool, with DuckDB
# from npm). Any node >= 18 on PATH will do (NodeSource's nodejs ships its own
# npm, which Debian's npm package would conflict with); Debian's otherwise.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# DuckDB from npm, pinned by tests/parquet_tool/package-lock.json: it writes
# the Parquet test files (the unit tests read committed copies; one test
# regenerates them with it). Reinstalled only when the lock file changes.
tool=tests/parquet_tool
stamp=$tool/node_modules/.lote-lock-sha256
want=$(sha256sum "$tool/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing $tool's npm packages (npm ci)"
  (cd "$tool" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
fi

# playwright-core from npm, pinned by tests/browser/package-lock.json: it
# drives Debian's chromium in the dashboard's test. Same stamp as above.
tool=tests/browser
stamp=$tool/node_modules/.lote-lock-sha256
want=$(sha256sum "$tool/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing $tool's npm packages (npm ci)"
  (cd "$tool" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
fi

BUILD_DIR=${LOTE_BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOTE_WERROR=ON -DLOTE_UNIT_TEST_FILTER= ${LOTE_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
