#!/usr/bin/env bash
# CTest driver of the report browser test: installs Chromium, Node.js and playwright-core when
# missing (scripts/install-browser-test-deps.sh, idempotent), writes the sample report with
# REPORT_SAMPLE_BIN into OUTDIR, then opens it in headless Chromium (report_browser_test.mjs).
# Usage: run.sh REPORT_SAMPLE_BIN OUTDIR
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: run.sh REPORT_SAMPLE_BIN OUTDIR" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
sample_bin="$1"
out="$2"

"$root/scripts/install-browser-test-deps.sh"

rm -rf "$out"
mkdir -p "$out"
"$sample_bin" "$out/report"
node "$here/report_browser_test.mjs" "$out/report/report.html" "$out"
