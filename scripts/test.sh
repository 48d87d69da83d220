#!/usr/bin/env bash
# Quick start 2: installs dependencies, builds mnsim and runs the whole test suite.
# Usage: scripts/test.sh [PRESET [CTEST ARGS...]]   (release by default; asan for the sanitizer build)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
scripts/build.sh "$preset"
ctest --preset "$preset" -j "$(nproc)" "$@"
