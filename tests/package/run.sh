#!/usr/bin/env bash
# The installation and the CMake package (README "Installing"): installs the build into a fresh
# prefix, checks what is installed, runs the installed mnsim (which must read the installed data
# files), configures, builds and runs a consumer project out of tree with
# find_package(mnsim VERSION EXACT) and mnsim::mnsim, and moves the installation.
# With PYTHON and PYTHON_DIR (the interpreter and the package folder under the prefix, when the
# Python module is built), the installed Python module imports, runs and reads the installed data
# files, before and after the move.
# usage: run.sh BUILD_DIR WORK_DIR VERSION [PYTHON PYTHON_DIR]
set -euo pipefail
build=$1 work=$2 version=$3 python=${4:-} pydir=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in bin/mnsim lib/libmnsim.a include/mnsim/core/units.hpp include/mnsim/skin/atlas.hpp \
         share/mnsim/data/sites.toml share/mnsim/data/references.toml \
         lib/cmake/mnsim/mnsimConfig.cmake lib/cmake/mnsim/mnsimConfigVersion.cmake \
         lib/cmake/mnsim/mnsimTargets.cmake share/doc/mnsim/LICENSE share/doc/mnsim/CITATION.cff; do
  [ -f "$prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
if grep -rq "$(cd "$here/../.." && pwd)" "$prefix/lib/cmake/mnsim"; then
  echo "the installed CMake package names the source tree" >&2
  exit 1
fi

# The installed program reads the installed data files (not the source tree's).
env -u MNSIM_DATA_DIR "$prefix/bin/mnsim" catalog sites >"$work/sites.txt"
atlas_line=$(head -n 1 "$work/sites.txt")
case "$atlas_line" in
  *"($prefix/share/mnsim/data/sites.toml;"*) ;;
  *) echo "installed mnsim read its atlas elsewhere: $atlas_line" >&2; exit 1 ;;
esac
env -u MNSIM_DATA_DIR "$prefix/bin/mnsim" catalog --bibtex >"$work/references.bib"
grep -q '^@article{meng2022,$' "$work/references.bib"

# The installed Python module: imported from the prefix alone (not the build tree), reading the
# installed data files, and running the reduced model.
check_python() {
  local prefix=$1
  [ -n "$python" ] || return 0
  local out
  out=$(cd "$work" && env -u MNSIM_DATA_DIR PYTHONPATH="$prefix/$pydir" "$python" -c '
import mnsim, sys
print(mnsim.__file__)
print(mnsim.data_dir())
r = mnsim.reduced({"patient": {"site": "medial_cheek"},
                   "scars": [{"kind": "boxcar", "depth": "0.3 mm", "width": "2 mm"}]},
                  {"needle_length": "1.0 mm", "passes": 8, "sessions": 1})
print("reduction", round(r["scar_depth_reduction_pct"], 3))
')
  echo "$out"
  grep -qx "$prefix/$pydir/mnsim/__init__.py" <<<"$out" || { echo "mnsim imported from elsewhere" >&2; exit 1; }
  grep -qx "$prefix/share/mnsim/data" <<<"$out" || { echo "installed mnsim module reads other data" >&2; exit 1; }
  grep -q "^reduction [0-9]" <<<"$out"
}
if [ -n "$python" ]; then
  for f in "$pydir/mnsim/__init__.py" "$pydir/mnsim/results.py" "$pydir/mnsim/_install.py"; do
    [ -f "$prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
  done
  ls "$prefix/$pydir/mnsim/"_mnsim*.so >/dev/null
fi
check_python "$prefix"

# A consumer project out of tree.
cmake -S "$here/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release -DMNSIM_VERSION="$version" \
  -DCMAKE_CXX_FLAGS="${MNSIM_CONSUMER_CXX_FLAGS:-}" \
  -DCMAKE_EXE_LINKER_FLAGS="${MNSIM_CONSUMER_LINKER_FLAGS:-}" >"$work/consumer-configure.log"
cmake --build "$work/consumer" >"$work/consumer-build.log"
out=$(env -u MNSIM_DATA_DIR "$work/consumer/consumer")
echo "$out"
grep -qx "1.5 mm = 0.0015 m" <<<"$out"
grep -q " sites in $prefix/share/mnsim/data/sites.toml\$" <<<"$out"

# The version file refuses another version.
if cmake -S "$here/consumer" -B "$work/consumer-wrong" -DCMAKE_PREFIX_PATH="$prefix" \
     -DMNSIM_VERSION=99.0.0 >"$work/consumer-wrong.log" 2>&1; then
  echo "find_package(mnsim 99.0.0 EXACT) found version $version" >&2
  exit 1
fi
# A moved installation still finds its data files.
mv "$prefix" "$work/moved"
env -u MNSIM_DATA_DIR "$work/moved/bin/mnsim" catalog sites >"$work/sites-moved.txt"
case "$(head -n 1 "$work/sites-moved.txt")" in
  *"($work/moved/share/mnsim/data/sites.toml;"*) ;;
  *) echo "moved mnsim read its atlas elsewhere: $(head -n 1 "$work/sites-moved.txt")" >&2; exit 1 ;;
esac
check_python "$work/moved"
echo "package: installed, consumer built and run, installation moved"
