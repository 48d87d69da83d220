#!/usr/bin/env bash
# CTest driver of the consultation app's browser test: starts `mnsim serve --port 0` (any free
# loopback port), opens it in headless Chromium (serve_browser_test.mjs: fill the form, run a
# plan, read the result, print, keyboard and labels, screenshots), then stops the server.
# Usage: run_serve.sh MNSIM_BIN OUTDIR
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: run_serve.sh MNSIM_BIN OUTDIR" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
"$root/scripts/install-browser-test-deps.sh"
rm -rf "$2"
mkdir -p "$2"
# A generous time limit: a loaded CI machine may take minutes for what takes seconds alone.
"$1" serve --port 0 --threads 2 --time-limit 900 >"$2/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 300); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$2/serve.log" | head -n 1 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$server" 2>/dev/null; then
    cat "$2/serve.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "run_serve.sh: mnsim serve printed no address" >&2
  exit 1
fi
node "$here/serve_browser_test.mjs" "$url" "$2"
