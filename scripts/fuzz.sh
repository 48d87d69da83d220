#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs one (or all) for a number of seconds each.
# Usage: scripts/fuzz.sh [TARGET|all] [SECONDS]     e.g. scripts/fuzz.sh scenario_fuzz 60
# Corpora live in build/fuzz/corpus/<target> (seeded from examples/ and tests/); crashes are
# written to build/fuzz/crashes/ and make the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-all}"
seconds="${2:-60}"
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;; esac
scripts/install-deps.sh >/dev/null
gen=()
if command -v ninja >/dev/null 2>&1 && [ ! -f build/fuzz/CMakeCache.txt ]; then gen=(-G Ninja); fi
cmake --preset fuzz "${gen[@]}" >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
targets=()
if [ "$target" = all ]; then
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
else
  [ -f "fuzz/$target.cpp" ] || { echo "fuzz.sh: no fuzz target '$target' (see fuzz/*_fuzz.cpp)" >&2; exit 2; }
  targets=("$target")
fi
mkdir -p build/fuzz/crashes
status=0
for t in "${targets[@]}"; do
  corpus="build/fuzz/corpus/$t"
  mkdir -p "$corpus"
  seeds="fuzz/seeds/$t"
  [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  if [ "$t" = scenario_fuzz ]; then
    cp -n examples/*.toml "$corpus"/ 2>/dev/null || true
    find tests -name '*.toml' -size -64k -exec cp -n {} "$corpus"/ \; 2>/dev/null || true
  fi
  echo "fuzz.sh: running $t for $seconds s"
  if ! "build/fuzz/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="build/fuzz/crashes/$t-" -print_final_stats=1 "$corpus" 2>build/fuzz/$t.log; then
    echo "fuzz.sh: $t FOUND A CRASH; see build/fuzz/crashes/ and build/fuzz/$t.log" >&2
    tail -30 "build/fuzz/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build/fuzz/$t.log" || true
    echo "fuzz.sh: $t: no crash in $seconds s"
  fi
done
exit $status
