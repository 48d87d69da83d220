#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs one (or all, at once) for a number of seconds
# of one core each.
# Usage: scripts/fuzz.sh [TARGET|all] [SECONDS]     e.g. scripts/fuzz.sh heightmap_fuzz 60
# Targets: fuzz/*_fuzz.cpp (scenario_fuzz, heightmap_fuzz, checkpoint_fuzz). Corpora live in
# build/fuzz/corpus/<target> (seeded from fuzz/seeds/<target>, examples/ and tests/); crashes are
# written to build/fuzz/crashes/ and make the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-all}"
seconds="${2:-60}"
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;; esac
scripts/install-deps.sh >/dev/null
gen=()
if command -v ninja >/dev/null 2>&1 && [ ! -f build/fuzz/CMakeCache.txt ]; then gen=(-G Ninja); fi
targets=()
if [ "$target" = all ]; then
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
else
  [ -f "fuzz/$target.cpp" ] || { echo "fuzz.sh: no fuzz target '$target' (see fuzz/*_fuzz.cpp)" >&2; exit 2; }
  targets=("$target")
fi
cmake --preset fuzz "${gen[@]}" >/dev/null
# Only the fuzz targets (and the library they link), not the CLI or the doc generator.
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]}"
mkdir -p build/fuzz/crashes
# The targets run at once, each for SECONDS of one core: with more targets than cores they share
# the cores for SECONDS x targets / cores of wall time (3 targets on 2 cores: 90 s for 60).
cores=$(nproc)
wall=$seconds
if [ "${#targets[@]}" -gt "$cores" ]; then
  wall=$(( (seconds * ${#targets[@]} + cores - 1) / cores ))
fi
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' INT TERM
for t in "${targets[@]}"; do
  corpus="build/fuzz/corpus/$t"
  mkdir -p "$corpus"
  seeds="fuzz/seeds/$t"
  [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  if [ "$t" = scenario_fuzz ]; then
    cp -n examples/*.toml "$corpus"/ 2>/dev/null || true
    find tests -name '*.toml' -size -64k -exec cp -n {} "$corpus"/ \; 2>/dev/null || true
  fi
  if [ "$t" = heightmap_fuzz ]; then
    # The test CSVs, behind the selector byte 1 (CSV reader).
    for f in tests/lesions/data/*.csv; do
      [ -f "$f" ] && { printf '\001'; cat "$f"; } > "$corpus/test_$(basename "$f").bin"
    done
  fi
  echo "fuzz.sh: running $t for $wall s ($seconds s of a core; ${#targets[@]} targets on $cores cores)"
  "build/fuzz/fuzz/$t" -max_total_time="$wall" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="build/fuzz/crashes/$t-" -print_final_stats=1 "$corpus" 2>build/fuzz/$t.log &
  pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
  t=${targets[$i]}
  if ! wait "${pids[$i]}"; then
    echo "fuzz.sh: $t FOUND A CRASH; see build/fuzz/crashes/ and build/fuzz/$t.log" >&2
    tail -30 "build/fuzz/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build/fuzz/$t.log" || true
    echo "fuzz.sh: $t: no crash in $wall s"
  fi
done
exit $status
