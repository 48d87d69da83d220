#!/usr/bin/env bash
# Times the default course (examples/01_default_cheek.toml, `mnsim run` with its predictive bands)
# for issue 19's target (<= 12 s of wall time on 2 cores; docs/numerics.md, "Where the default
# course's time goes"). Run it on a quiet machine: wall times measured under load are not the
# engine's.
#
# usage: tools/time_default_course.sh [-n RUNS] [-j THREADS] [-p] [BINARY[=DATA_DIR] ...]
#   -n RUNS     runs per binary, interleaved (default 3)
#   -j THREADS  mnsim run --threads (default 2)
#   -p          then one more run of the first binary with --log-level debug, printing its time
#               per phase (wall and CPU seconds of reactions, transport, checks, samples, bands...)
#   BINARY      mnsim binaries to compare (default build/release/mnsim); DATA_DIR sets
#               MNSIM_DATA_DIR for that binary (a baseline built elsewhere: /tmp/base/mnsim=/tmp/base/data)
# A failed run stops the script (its messages are in the temporary folder's err, printed).
# Prints one line per run (binary, wall s, user s, sys s, peak RSS MiB, steps accepted) and the
# median wall and CPU (user + sys) per binary. OMP_WAIT_POLICY is left as the caller has it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
threads=2
phases=0
while getopts "n:j:p" opt; do
  case "$opt" in
    n) runs="$OPTARG" ;;
    j) threads="$OPTARG" ;;
    p) phases=1 ;;
    *) sed -n '2,16p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- build/release/mnsim
scenario="$PWD/examples/01_default_cheek.toml"
work=$(mktemp -d)
trap 'rc=$?; [ $rc -ne 0 ] && [ -s "$work/err" ] && cat "$work/err" >&2; rm -rf "$work"' EXIT
declare -A walls cpus

one_run() {  # binary data_dir out -> prints "wall user sys rss_kib"
  local bin="$1" data="$2" out="$3"
  rm -rf "$out"
  if [ -n "$data" ]; then
    MNSIM_DATA_DIR="$data" /usr/bin/time -f "%e %U %S %M" -o "$work/time" \
      "$bin" run "$scenario" --out "$out" --threads "$threads" -q > /dev/null 2> "$work/err"
  else
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" \
      "$bin" run "$scenario" --out "$out" --threads "$threads" -q > /dev/null 2> "$work/err"
  fi
  tail -1 "$work/time"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $threads threads"
echo "# binary wall_s user_s sys_s rss_MiB steps_accepted"
for ((r = 0; r < runs; r++)); do
  for spec in "$@"; do
    bin="${spec%%=*}"
    data=""
    [ "$spec" != "$bin" ] && data="${spec#*=}"
    read -r wall user sys rss < <(one_run "$bin" "$data" "$work/out")
    steps=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['numerics']['steps_accepted'])" "$work/out/summary.json")
    printf "%s %s %s %s %d %s\n" "$spec" "$wall" "$user" "$sys" $((rss / 1024)) "$steps"
    walls[$spec]+="$wall "
    cpus[$spec]+="$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}') "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for spec in "$@"; do
  echo "median of $runs: $spec: wall $(echo "${walls[$spec]}" | median) s, CPU $(echo "${cpus[$spec]}" | median) s"
done
if [ "$phases" = 1 ]; then
  spec="$1"
  bin="${spec%%=*}"
  data=""
  [ "$spec" != "$bin" ] && data="${spec#*=}"
  rm -rf "$work/out"
  env ${data:+MNSIM_DATA_DIR="$data"} "$bin" run "$scenario" --out "$work/out" --threads "$threads" \
    --log-level debug 2>&1 | sed -n '/time per phase/,/results written/p'
fi
