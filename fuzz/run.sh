#!/usr/bin/env bash
# Builds lote's libFuzzer targets (fuzz/*_fuzzer.cc) into their own build
# folder and runs each one: first over its committed inputs (the seed corpus
# and fuzz/regressions/<target>/, which must all pass), then fuzzing for a
# bounded time. Fails on any crash, leak, timeout, out-of-memory or sanitizer
# report, printing the input that caused it. See fuzz/README.md.
#   fuzz/run.sh                       every target
#   fuzz/run.sh frame query           some targets
#   LOTE_FUZZ_SECONDS=300 fuzz/run.sh yaml_spec   a longer run (default 20 s a target)
#   LOTE_FUZZ_JOBS=1 fuzz/run.sh      one target at a time (default: one per core)
#   LOTE_FUZZ_BUILD_DIR=…             the build folder (default build-fuzz)
#   LOTE_FUZZ_STRICT=1 fuzz/run.sh    also fail the known open defects (fuzz/pending/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${LOTE_FUZZ_SECONDS:-20}
JOBS=${LOTE_FUZZ_JOBS:-$(nproc)}
BUILD=${LOTE_FUZZ_BUILD_DIR:-build-fuzz}
CXX_FUZZ=${LOTE_FUZZ_CXX:-clang++-16}

# The largest input each target is given: enough for its format's structure
# (the CSV reader's refill logic needs records that cross a 4 KiB buffer),
# small enough to stay fast.
declare -A MAX_LEN=(
  [frame]=8192 [result_batch]=4096 [csv_reader]=16384 [planner]=8192 [yaml_spec]=8192
  [invoke_request]=4096 [query]=2048 [token]=1024 [safe_path]=512
  [json_body]=4096 [http_router]=2048 [index_links]=4096 [fs_name]=2048 [parquet]=16384
  [jsonl_reader]=16384 [parquet_output]=8192
)

echo "== fuzz: building into $BUILD"
build_start=$(date +%s)
cmake -S . -B "$BUILD" -G Ninja -DLOTE_FUZZ=ON -DCMAKE_CXX_COMPILER="$CXX_FUZZ" \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$BUILD" --parallel "$(nproc)"
echo "== fuzz: built in $(($(date +%s) - build_start))s"

if (($#)); then
  targets=("$@")
else
  targets=()
  for f in fuzz/*_fuzzer.cc; do
    f=${f#fuzz/}
    targets+=("${f%_fuzzer.cc}")
  done
fi

for sym in llvm-symbolizer-16 llvm-symbolizer; do
  if command -v "$sym" >/dev/null; then
    export ASAN_SYMBOLIZER_PATH UBSAN_SYMBOLIZER_PATH
    ASAN_SYMBOLIZER_PATH=$(command -v "$sym")
    UBSAN_SYMBOLIZER_PATH=$ASAN_SYMBOLIZER_PATH
    break
  fi
done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

LOGS="$BUILD/logs"
mkdir -p "$LOGS"

# files_in DIR...: the regular files under the given folders (none is fine).
files_in() {
  local d
  for d in "$@"; do
    [[ -d $d ]] && find "$d" -type f ! -name 'README*' -print
  done
  return 0
}

# run_target NAME: replays the committed inputs, then fuzzes. Output goes to
# $LOGS/NAME.log and the exit status to $LOGS/NAME.rc (0: clean).
run_target() {
  local t=$1 bin="$BUILD/${t}_fuzzer" log="$LOGS/$1.log" rc=0
  local -a inputs dict=() seeds=()
  mapfile -t inputs < <(files_in "fuzz/corpus/$t" "fuzz/regressions/$t")
  [[ -f fuzz/dict/$t.dict ]] && dict=("-dict=fuzz/dict/$t.dict")
  for d in "fuzz/corpus/$t" "fuzz/regressions/$t"; do [[ -d $d ]] && seeds+=("$d"); done
  mkdir -p "$BUILD/corpus/$t" "$BUILD/artifacts/$t"
  {
    if [[ ! -x $bin ]]; then
      echo "no such fuzz target: $t ($bin)"
      rc=1
    elif ((${#inputs[@]})) &&
      ! "$bin" "${dict[@]}" -artifact_prefix="$BUILD/artifacts/$t/" "${inputs[@]}"; then
      echo "-- FAILED on a committed input (fuzz/corpus/$t or fuzz/regressions/$t)"
      rc=1
    else
      echo "-- replayed ${#inputs[@]} committed inputs; fuzzing for ${SECONDS_EACH}s"
      "$bin" "${dict[@]}" -max_total_time="$SECONDS_EACH" -max_len="${MAX_LEN[$t]:-4096}" \
        -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$BUILD/artifacts/$t/" "$BUILD/corpus/$t" "${seeds[@]}" || rc=1
    fi
  } >"$log" 2>&1
  echo "$rc" >"$LOGS/$t.rc"
}

# Reports a failed target: its sanitizer or invariant report and the input
# that broke it.
report_failure() {
  local t=$1 log="$LOGS/$1.log" a
  echo "!! fuzz target $t FAILED; from $log:"
  # The report itself (libFuzzer's statistics follow it).
  grep -m1 -B2 -A40 -E 'fuzz invariant broken|ERROR: |runtime error|FAILED on a committed' "$log" |
    sed 's/^/   /' || tail -n 40 "$log" | sed 's/^/   /'
  for a in $(files_in "$BUILD/artifacts/$t"); do
    echo "!! input $a (base64: $(base64 -w0 "$a" | head -c 2000))"
    echo "   reproduce: $BUILD/${t}_fuzzer $a"
    echo "   then keep it: cp $a fuzz/regressions/$t/<what-it-tests> (fuzz/README.md)"
  done
}

failed=()
start=$(date +%s)
echo "== fuzz: ${#targets[@]} targets, ${SECONDS_EACH}s each, $JOBS at a time"
for t in "${targets[@]}"; do
  rm -rf "$BUILD/artifacts/$t" "$LOGS/$t.rc"
  while (($(jobs -rp | wc -l) >= JOBS)); do wait -n || true; done
  run_target "$t" &
done
wait
for t in "${targets[@]}"; do
  if [[ $(cat "$LOGS/$t.rc" 2>/dev/null) == 0 ]]; then
    runs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$LOGS/$t.log")
    echo "   $t: clean (${runs:-0} runs)"
  else
    failed+=("$t")
    report_failure "$t"
  fi
done

# The known open defects: their inputs, in strict mode. Informative only.
for t in "${targets[@]}"; do
  rm -f "$LOGS/$t.pending.log"
  mapfile -t pending < <(files_in "fuzz/pending/$t")
  ((${#pending[@]})) || continue
  still=0
  for p in "${pending[@]}"; do
    LOTE_FUZZ_STRICT=1 "$BUILD/${t}_fuzzer" "$p" >>"$LOGS/$t.pending.log" 2>&1 || still=$((still + 1))
  done
  if ((still)); then
    echo "   $t: $still of ${#pending[@]} pending inputs still break (known open defects, fuzz/pending/README.md)"
  else
    echo "   $t: the ${#pending[@]} pending inputs pass in strict mode now: move them to" \
         "fuzz/regressions/$t/ and make the check unconditional (fuzz/pending/README.md)"
  fi
done

echo "== fuzz: $(($(date +%s) - start))s"
if ((${#failed[@]})); then
  echo "== fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "== fuzz: all targets clean"
