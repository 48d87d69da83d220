#!/usr/bin/env bash
# CTest driver: the browser test on a real `mnsim run` report (not sample data): a small scenario
# whose title and notes hold markup (hostile_title.toml) is run, then its report.html is opened
# in headless Chromium by report_browser_test.mjs with the expected literal title.
# Usage: run_mnsim.sh MNSIM_BIN OUTDIR
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: run_mnsim.sh MNSIM_BIN OUTDIR" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
"$root/scripts/install-browser-test-deps.sh"
rm -rf "$2"
"$1" run "$here/hostile_title.toml" --out "$2/run" --quiet --threads 2
node "$here/report_browser_test.mjs" "$2/run/report.html" "$2" '<script>alert(1)</script> & "scars"'
