#!/usr/bin/env bash
# Installs every build, test and report dependency of mnsim from Debian 12 packages.
# Idempotent: packages already installed are skipped, and nothing is done when all are present.
# Works as root (CI, containers) and as a normal user with sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build git pkg-config
  libcli11-dev libfmt-dev libspdlog-dev libtomlplusplus-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpng-dev libhdf5-dev libcairo2-dev fonts-dejavu-core libcpp-httplib-dev
  clang clang-format libclang-rt-14-dev
  python3 python3-numpy python3-h5py python3-matplotlib python3-yaml
  python3-paraview xvfb
  python3-dev pybind11-dev python3-pandas python3-xarray python3-pytest
  jupyter-nbconvert python3-ipykernel python3-nbformat
  libopenmpi-dev openmpi-bin
)
# python3-paraview (ParaView 5.11 with pvpython) gives Debian's python3 `import vtk` with the Xdmf
# readers (vtkXdmf3Reader) that the fields.xmf test uses; Debian's python3-vtk9 lacks them and
# conflicts with it. xvfb (xvfb-run) lets pvpython render docs figures without a display
# (scripts/gen-xdmf-figure.sh).
# pybind11-dev and python3-dev build the Python module (python/, docs/python.md) for Debian's
# python3; python3-pandas and python3-xarray are what it returns results as; python3-pytest runs
# its tests, and jupyter-nbconvert with python3-ipykernel executes the example notebook (ctest).
# libcpp-httplib-dev (cpp-httplib, with its OpenSSL, zlib and Brotli headers) is the HTTP server
# of `mnsim serve` (src/serve, docs/serve.md).
# libopenmpi-dev and openmpi-bin (OpenMPI: mpicxx, mpirun) build and test the mpi preset
# (`mpirun -n N mnsim cohort|sensitivity|plan`, docs/scaling.md); the default build does not use
# them.
# Node.js, npm packages and Chromium for the report's browser test: scripts/install-browser-test-deps.sh
# (called by that test), which keeps an existing Node.js installation.
for arg in "$@"; do
  case "$arg" in
    -h|--help) echo "usage: scripts/install-deps.sh   (installs everything mnsim builds and tests with)"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
