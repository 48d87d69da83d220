#!/usr/bin/env bash
# Redraws the model figures of docs/model.md ("Scar remodelling") into docs/figures/ from the
# reduced model (tools/gen_model_figures.cpp). Run after a model or data change, with the
# release build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/release/gen_model_figures}"
[ -x "$bin" ] || { echo "gen-figures.sh: build first (scripts/build.sh)" >&2; exit 1; }
"$bin" docs/figures
