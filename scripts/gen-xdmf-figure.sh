#!/usr/bin/env bash
# Redraws docs/figures/fields_xdmf_slice.png (docs/outputs.md, "Opening fields.xmf"): runs
# example 04 with the release build, then ParaView's pvpython (Debian paraview, installed by
# scripts/install-deps.sh) renders a slice of its fields.xmf under a virtual X display (xvfb-run,
# Debian xvfb): Debian's ParaView renders through X only.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/release/mnsim}"
[ -x "$bin" ] || { echo "gen-xdmf-figure.sh: build first (scripts/build.sh)" >&2; exit 1; }
for tool in pvpython xvfb-run; do
  command -v "$tool" >/dev/null || { echo "gen-xdmf-figure.sh: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
OMP_WAIT_POLICY=passive "$bin" run examples/04_single_session_pen.toml --out "$work/04" --quiet >/dev/null
xvfb-run -a pvpython tools/xdmf_slice_figure.py "$work/04" docs/figures/fields_xdmf_slice.png
