#!/usr/bin/python3
"""Loads an mnsim run and plots a depth cross-section of one field before and after the course.

Usage: /usr/bin/python3 examples/plot_cross_section.py RESULTS_DIR [FIELD] [OUT.png]
  RESULTS_DIR  a folder written by `mnsim run` (it holds fields.h5)
  FIELD        a field stored in fields.h5 (default: collagen1)
  OUT.png      output image (default: RESULTS_DIR/cross_section_FIELD.png)
Needs python3-h5py and python3-matplotlib (Debian packages; scripts/install-deps.sh installs them).
"""
import json
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def text(v):
    """An HDF5 string attribute (fixed-length: h5py gives bytes) as str."""
    return v.decode() if isinstance(v, bytes) else str(v)


def results_complete(run):
    """An mnsim results folder says in its marker whether its results are complete
    (docs/reliability.md, "Output folders"); a folder being written, or left by a killed run, is
    not read."""
    try:
        with open(f"{run}/.mnsim-output", encoding="utf-8") as f:
            marker = json.load(f)
    except FileNotFoundError:
        print(f"error: {run}: not an mnsim results folder (no .mnsim-output)", file=sys.stderr)
        return False
    except ValueError:
        return True  # written by an mnsim before the marker recorded its state
    if marker.get("state") != "complete":
        print(f"error: {run}: its results are not complete (state '{marker.get('state')}'): "
              "the run is still writing them, or was killed (mnsim run ... --resume)",
              file=sys.stderr)
        return False
    return True


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    run = argv[1]
    field = argv[2] if len(argv) > 2 else "collagen1"
    out = argv[3] if len(argv) > 3 else f"{run}/cross_section_{field}.png"
    if not results_complete(run):
        return 2
    with h5py.File(f"{run}/fields.h5", "r") as f:
        names = text(f.attrs["mnsim_fields"])
        if field not in names.split(","):
            print(f"error: {run}/fields.h5: no field '{field}' (fields: {names})", file=sys.stderr)
            return 2
        x = f["grid/x_faces"][:] / 1000.0  # um -> mm
        z = f["grid/z_faces"][:]           # um
        snaps = sorted(f["snapshots"].keys())
        first, last = f["snapshots"][snaps[0]], f["snapshots"][snaps[-1]]
        j = first[field].shape[1] // 2     # middle row in y
        before = first[field][:, j, :]
        after = last[field][:, j, :]
        labels = (text(first.attrs["label"]), text(last.attrs["label"]))
        unit = text(first[field].attrs.get("units", ""))
        if int(f.attrs.get("format_version", 1)) < 2:
            # Written by mnsim before fields.h5 format 2: depth downward from the top cell, air
            # stored as 0. Turned into format 2's height upward (air is not known: left as is).
            z, before, after = -z[::-1], before[::-1], after[::-1]
    # Format 2 stores NaN in the air above a depressed surface: drawn blank.
    before, after = np.ma.masked_invalid(before), np.ma.masked_invalid(after)
    vmax = float(max(before.max(), after.max()))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True, constrained_layout=True)
    for ax, data, label in zip(axes, (before, after), labels):
        mesh = ax.pcolormesh(x, z, data, vmin=0.0, vmax=vmax, cmap="viridis")
        ax.set_title(label)
        ax.set_xlabel("x (mm)")
    axes[0].set_ylabel("height above the unlesioned surface (um)")
    fig.colorbar(mesh, ax=axes, label=f"{field} ({unit})" if unit else field)
    fig.savefig(out, dpi=100)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
