#!/usr/bin/env bash
# CTest driver: the browser test of the planner's printable page: `mnsim plan --html` on a small
# plan whose title holds markup (hostile_plan.toml), dated with --start-date, then the page is
# opened in headless Chromium by plan_browser_test.mjs (offline, escaped, fits an A4 page).
# Usage: run_plan.sh MNSIM_BIN OUTDIR
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: run_plan.sh MNSIM_BIN OUTDIR" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
"$root/scripts/install-browser-test-deps.sh"
rm -rf "$2"
mkdir -p "$2"
"$1" plan "$here/hostile_plan.toml" --html "$2/plan.html" --start-date 2026-03-02 --threads 2 \
  >/dev/null
node "$here/plan_browser_test.mjs" "$2/plan.html" "$2" '<script>alert(1)</script> & "scars"' \
  2026-03-02
