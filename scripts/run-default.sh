#!/usr/bin/env bash
# Quick start 1: installs dependencies, builds mnsim and runs the shipped default scenario.
# Extra arguments are passed to `mnsim run` (e.g. --out DIR, --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release
exec build/release/mnsim run examples/01_default_cheek.toml --out results/default "$@"
