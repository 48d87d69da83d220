#!/usr/bin/env bash
# mnsim over MPI ranks (docs/scaling.md), run by ctest in the mpi build (label mpi).
#
#   mpi_test.sh MNSIM SOURCE_DIR WORK reference        one process, 2 threads: the reference files
#   mpi_test.sh MNSIM SOURCE_DIR WORK ranks K          mpirun -n K: byte for byte the reference
#   mpi_test.sh MNSIM SOURCE_DIR WORK errors K         bad input under mpirun -n K: one line from
#                                                      rank 0, exit 2, nothing written; a rank that
#                                                      fails mid-run ends the job (no hang)
#
# Small inputs (a few seconds each): a 2-arm cohort of 12 patients with a 2-draw parameter band
# (split over the ranks as the patients are), a Sobol' analysis of 3
# parameters, a 16-particle calibration of 2 parameters, a plan over two catalog devices.
# mpirun runs with --oversubscribe (CI has 2 cores)
# and -q (no banner of its own); as root it needs OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM), which the
# mpi test preset sets.
set -euo pipefail
mnsim=$1
src=$2
work=$3
what=$4
ranks=${5:-1}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

cohort_args=(cohort "$src/examples/06_split_face_pen_vs_roller.toml" --set population.size=12
  --set bands.posterior_draws=2)
sens_args=(sensitivity "$src/tests/mpi/sensitivity_small.toml" --quiet)
cal_args=(calibrate "$src/tests/mpi/calibrate_small.toml" --quiet)
plan_args=(plan "$src/examples/03_plan_patient.toml" --set 'search.devices=["roller_192_mf8","dermapen_2012"]'
  --set search.sessions_max=2 --set search.expand=2 --set search.replicates=4 --set search.posterior_draws=4 --set search.top=3)

mpi() {
  local n=$1
  shift
  mpirun -q --oversubscribe -n "$n" "$@"
}

# Every output of the three commands into folder $1, run by the command prefix in the rest.
run_all() {
  local out=$1
  shift
  mkdir -p "$out"
  "$@" "$mnsim" "${cohort_args[@]}" --out "$out/cohort" >"$out/cohort.stdout"
  "$@" "$mnsim" "${sens_args[@]}" --out "$out/sens" >/dev/null
  # The run's wall time, threads and ranks differ by design: compare the rest.
  /usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j.pop("run"); print(json.dumps(j, indent=1))' \
    "$out/sens/sensitivity.json" >"$out/sens/sensitivity.norun.json"
  "$@" "$mnsim" "${cal_args[@]}" --out "$out/cal" >/dev/null
  /usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j.pop("run"); print(json.dumps(j, indent=1))' \
    "$out/cal/calibration.json" >"$out/cal/calibration.norun.json"
  "$@" "$mnsim" "${plan_args[@]}" --json "$out/plan.json" --csv "$out/plan.csv" --html "$out/plan.html" \
    >"$out/plan.stdout"
  "$@" "$mnsim" "${plan_args[@]}" --export 1 >"$out/plan_export.toml"
}

compare() {
  local a=$1 b=$2
  for f in cohort/cohort.json cohort/patients_roller.csv cohort/patients_pen.csv \
    sens/sensitivity.csv sens/sensitivity.png sens/sensitivity.norun.json \
    cal/posterior.csv cal/calibration.png cal/calibration.norun.json \
    plan.json plan.csv plan.html plan.stdout plan_export.toml; do
    [ -s "$a/$f" ] || fail "$a/$f is missing or empty"
    cmp -s "$a/$f" "$b/$f" || fail "$b/$f differs from the one-process $a/$f"
  done
  # The cohort's standard output: the same JSON (its lines with times and the folder differ).
  local timing='^[0-9]+ patients x .* s; wrote |, [0-9.]+ s of CPU$'
  cmp -s <(grep -vE "$timing" "$a/cohort.stdout") <(grep -vE "$timing" "$b/cohort.stdout") ||
    fail "the cohort's standard output differs"
}

# Runs "$@" under mpirun -n $ranks and checks: exit code $1, exactly one line on stderr that
# contains $2, nothing on stdout, no folder $3. Its files are in the test's own folder $d (ctest
# runs the errors tests of 1, 2 and 3 ranks at once).
one_line() {
  local code=$1 text=$2 folder=$3
  shift 3
  local rc=0
  timeout 120 mpirun -q --oversubscribe -n "$ranks" "$@" >"$d/out.txt" 2>"$d/err.txt" || rc=$?
  [ "$rc" -eq "$code" ] || fail "exit $rc (expected $code) from: $* ; stderr: $(cat "$d/err.txt")"
  [ "$(wc -l <"$d/err.txt")" -eq 1 ] || fail "not one line on stderr from: $* : $(cat "$d/err.txt")"
  grep -qF -- "$text" "$d/err.txt" || fail "'$text' not in: $(cat "$d/err.txt")"
  [ ! -s "$d/out.txt" ] || fail "standard output from: $*"
  [ -z "$folder" ] || [ ! -e "$folder" ] || fail "$folder was written"
}

case "$what" in
  reference)
    rm -rf "$work/ref"
    run_all "$work/ref" env OMP_NUM_THREADS=2
    # The cohort carries its parameter-uncertainty band, which the ranks split too.
    grep -q '"parameter_uncertainty"' "$work/ref/cohort/cohort.json" ||
      fail "no parameter-uncertainty band in the reference cohort.json"
    ;;
  ranks)
    [ -d "$work/ref" ] || fail "no reference (the mpi_reference test)"
    out="$work/ranks$ranks"
    rm -rf "$out"
    # 1 or 3 ranks with 1 thread each, 2 ranks with 2 threads each.
    threads=$([ "$ranks" -eq 2 ] && echo 2 || echo 1)
    run_all "$out" mpi "$ranks" env OMP_NUM_THREADS="$threads"
    compare "$work/ref" "$out"
    echo "$ranks ranks x $threads threads: every output byte for byte the one-process run"
    ;;
  errors)
    d="$work/errors$ranks"
    rm -rf "$d"
    mkdir -p "$d"
    # A bad key in the input: file:line:col from rank 0 alone.
    printf 'seed = 1\n[population]\nsize = "many"\n' >"$d/bad.toml"
    one_line 2 "bad.toml:3:" "$d/o1" "$mnsim" cohort "$d/bad.toml" --out "$d/o1"
    one_line 2 "sensitivity" "$d/o2" "$mnsim" sensitivity "$d/bad.toml" --out "$d/o2"
    one_line 2 "bad.toml" "$d/o2c" "$mnsim" calibrate "$d/bad.toml" --out "$d/o2c"
    one_line 2 "bad.toml" "" "$mnsim" plan "$d/bad.toml"
    # A bad flag value.
    one_line 2 "--threads" "$d/o3" "$mnsim" "${cohort_args[@]}" --threads 0 --out "$d/o3"
    # Inclusion criteria no patient meets: found by the ranks that draw the patients, reported
    # once (the lowest patient's), before the folder is opened.
    one_line 2 "patient 0: no scar inventory" "$d/o4" "$mnsim" "${cohort_args[@]}" \
      --set population.min_baseline_grade=4 --set population.scars.icepick=0 \
      --set population.scars.boxcar_shallow=0 --set population.scars.boxcar_deep=0 \
      --set population.scars.rolling=0.01 --out "$d/o4"
    # A folder that is not an mnsim output: the root's check, every rank's error.
    mkdir -p "$d/foreign" && echo keep >"$d/foreign/notes.txt"
    one_line 2 "--out" "" "$mnsim" "${cohort_args[@]}" --out "$d/foreign"
    [ "$(cat "$d/foreign/notes.txt")" = keep ] || fail "a foreign folder was changed"
    if [ "$ranks" -gt 1 ]; then
      # What does not split over ranks is refused, not run N times.
      one_line 2 "does not split its work over MPI ranks" "$d/o5" "$mnsim" run \
        "$src/examples/04_single_session_pen.toml" --out "$d/o5"
      one_line 2 "--shard" "$d/o6" "$mnsim" "${cohort_args[@]}" --shard 1/2 --out "$d/o6"
      one_line 2 "--resume" "" "$mnsim" "${cohort_args[@]}" --resume "$d/o7"
      # A state folder of a job array is for tasks without mpirun (docs/scaling.md).
      one_line 2 "--state: a state folder of a job array does not combine with" "$d/st" \
        "$mnsim" "${plan_args[@]}" --state "$d/st" --shard 1/2
      # Found after the split work (every rank holds the plan): still one line from rank 0.
      one_line 2 "--export" "" "$mnsim" "${plan_args[@]}" --export 99
      # A rank that fails outside the ranks' agreement (test hook: an exception on the last rank
      # in the middle of the work) ends the job with its message; the others do not wait.
      last=$((ranks - 1))
      rc=0
      MNSIM_TEST_RANK_FAILS="$last:throw" timeout 120 mpirun -q --oversubscribe -n "$ranks" \
        "$mnsim" "${cohort_args[@]}" --out "$d/o8" >/dev/null 2>"$d/err8.txt" || rc=$?
      [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a failing rank: exit $rc ($(cat "$d/err8.txt"))"
      grep -qF "rank $last of $ranks: " "$d/err8.txt" || fail "no message of the failing rank: $(cat "$d/err8.txt")"
      [ ! -e "$d/o8/cohort.json" ] || fail "results written although a rank failed"
      # A rank killed by a signal: mpirun ends the others.
      rc=0
      MNSIM_TEST_RANK_FAILS="$last:kill" timeout 120 mpirun -q --oversubscribe -n "$ranks" \
        "$mnsim" "${cohort_args[@]}" --out "$d/o9" >/dev/null 2>"$d/err9.txt" || rc=$?
      [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a killed rank: exit $rc ($(cat "$d/err9.txt"))"
      [ ! -e "$d/o9/cohort.json" ] || fail "results written although a rank was killed"
    fi
    echo "$ranks ranks: bad input is one line from rank 0 with exit 2, nothing written"
    ;;
  *)
    fail "unknown test '$what'"
    ;;
esac
