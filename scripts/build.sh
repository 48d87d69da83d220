#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Installs dependencies first.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
scripts/install-deps.sh
gen=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "build/$preset/CMakeCache.txt" ]; then gen=(-G Ninja); fi
cmake --preset "$preset" "${gen[@]}" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
