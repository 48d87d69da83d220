#!/usr/bin/python3
"""fields.xmf through VTK's and ParaView's Xdmf readers (docs/outputs.md, "fields.h5 and fields.xmf").

Usage: /usr/bin/python3 tests/io/xdmf_readers.py MNSIM_BINARY WORK_DIR

Runs a short scenario (example 04 with two sessions a week apart and weekly snapshots, so that
before/after a session and a periodic snapshot share simulated times), then loads every snapshot
of fields.xmf with vtkXdmf3Reader and checks it against fields.h5 (read with h5py): distinct,
increasing times in days; cell counts equal to the grid; the expected arrays with their values
and ranges; air cells masked (NaN, layer 0); z increasing toward the skin surface (surface at the
top). Then ParaView's readers (Xdmf3ReaderS, Xdmf3ReaderT, XDMFReader) load every time step.
Needs python3-paraview (its VTK has the Xdmf readers) and python3-h5py: scripts/install-deps.sh.
"""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

try:
    import vtk
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOXdmf3 import vtkXdmf3Reader
except ImportError as e:
    sys.exit(f"error: VTK with the Xdmf3 reader is needed (Debian python3-paraview; "
             f"scripts/install-deps.sh installs it): {e}")

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "04_single_session_pen.toml")
MINUTE_DAYS = 1.0 / 1440.0
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)


def text(v):
    """An HDF5 string attribute (fixed-length: h5py gives bytes) as str."""
    return v.decode() if isinstance(v, bytes) else str(v)


def run_scenario(mnsim, out):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [mnsim, "run", EXAMPLE, "--out", out, "--quiet", "--set", "course.sessions=2",
           "--set", "course.interval=1 week", "--set", "course.follow_up=2 weeks"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ,
                       OMP_WAIT_POLICY="passive"))
    if r.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited {r.returncode}: {r.stderr}")


def read_h5(path):
    with h5py.File(path, "r") as f:
        check(int(f.attrs["format_version"]) == 2, "format_version 2")
        fields = text(f.attrs["mnsim_fields"]).split(",")
        g = {k: f["grid"][k][:] for k in ("x_faces", "y_faces", "z_faces", "layer")}
        for k in ("x_faces", "y_faces", "z_faces"):
            check(text(f["grid"][k].attrs["units"]) == "um", f"/grid/{k} units um")
        check(text(f["grid"]["z_faces"].attrs["positive"]) == "up", "/grid/z_faces positive up")
        check(text(f["grid"]["layer"].attrs["flag_meanings"]).split()[0] == "outside",
              "/grid/layer: 0 is outside the tissue")
        snaps = []
        for name in sorted(f["snapshots"].keys()):
            s = f["snapshots"][name]
            for fld in fields:
                check(len(text(s[fld].attrs.get("units", ""))) > 0, f"{name}/{fld} has units")
            snaps.append({"time_days": float(s.attrs["time_days"]),
                          "label": text(s.attrs["label"]),
                          "values": {fld: s[fld][:] for fld in fields}})
    return fields, g, snaps


def timesteps(reader):
    reader.UpdateInformation()
    info = reader.GetOutputInformation(0)
    key = vtk.vtkStreamingDemandDrivenPipeline.TIME_STEPS()
    return [info.Get(key, i) for i in range(info.Length(key))] if info.Has(key) else []


def check_vtk(xmf, fields, g, snaps):
    reader = vtkXdmf3Reader()
    reader.SetFileName(xmf)
    times = timesteps(reader)
    print(f"vtkXdmf3Reader: {len(times)} time steps (days): {times}")
    check(len(times) == len(snaps), f"{len(times)} time steps for {len(snaps)} snapshots")
    check(all(b > a for a, b in zip(times, times[1:])), "time steps distinct and increasing")
    nz, ny, nx = g["layer"].shape
    air = g["layer"] == 0
    check(air.any(), "the scenario's scar leaves air cells above it")
    for i, (t, s) in enumerate(zip(times, snaps)):
        # Within the two minutes before the simulated time (a shared time is spread over the
        # minutes before it), never after it.
        check(s["time_days"] - 2.5 * MINUTE_DAYS <= t <= s["time_days"] + 1e-12,
              f"snapshot {i} ({s['label']}): time {t} for simulated day {s['time_days']}")
        reader.UpdateTimeStep(t)
        out = reader.GetOutputDataObject(0)
        where = f"snapshot {i} ({s['label']}, t = {t})"
        check(out.IsA("vtkRectilinearGrid"), f"{where}: a vtkRectilinearGrid")
        check(out.GetNumberOfCells() == nx * ny * nz,
              f"{where}: {out.GetNumberOfCells()} cells, grid has {nx * ny * nz}")
        check(out.GetDimensions() == (nx + 1, ny + 1, nz + 1), f"{where}: dimensions")
        fd = out.GetFieldData()
        check(fd.GetArray("snapshot") is not None and int(fd.GetArray("snapshot").GetValue(0)) == i,
              f"{where}: field data snapshot = {i}")
        check(fd.GetArray("time_days") is not None
              and fd.GetArray("time_days").GetValue(0) == s["time_days"],
              f"{where}: field data time_days")
        z = vtk_to_numpy(out.GetZCoordinates())
        check(np.array_equal(z, g["z_faces"]), f"{where}: z coordinates")
        check(bool(np.all(np.diff(z) > 0)) and z[-1] == 0.0 and z[0] < -1000.0,
              f"{where}: z increases to the surface plane (0) at the top")
        cd = out.GetCellData()
        layer = cd.GetArray("layer")
        check(layer is not None and layer.GetDataTypeAsString() == "unsigned char",
              f"{where}: layer array (unsigned char)")
        lay = vtk_to_numpy(layer).reshape(nz, ny, nx)
        check(np.array_equal(lay, g["layer"]), f"{where}: layer as stored")
        # Surface at the top: down every column the layer index never decreases (air 0 above the
        # stratum corneum 1 ... hypodermis 5 at the bottom).
        check(bool(np.all(np.diff(lay.astype(int), axis=0) <= 0)), f"{where}: layers upward")
        check(bool(np.all(lay[0] == 5)) and bool(np.all(lay[-1] <= 1)),
              f"{where}: hypodermis at the bottom, stratum corneum or air at the top")
        for fld in fields:
            a = cd.GetArray(fld)
            check(a is not None, f"{where}: array {fld}")
            if a is None:
                continue
            v = vtk_to_numpy(a).reshape(nz, ny, nx)
            check(np.array_equal(v, s["values"][fld], equal_nan=True), f"{where}: {fld} = fields.h5")
            check(bool(np.all(np.isnan(v[air]))), f"{where}: {fld} NaN in air")
            tissue = v[~air]
            check(bool(np.all(np.isfinite(tissue))) and tissue.min() >= 0.0,
                  f"{where}: {fld} finite and non-negative in tissue")
            lo, hi = a.GetRange()
            check(np.isfinite(lo) and np.isfinite(hi) and lo == tissue.min() and hi == tissue.max(),
                  f"{where}: {fld} range {lo}..{hi} is the tissue's")
        damage = vtk_to_numpy(cd.GetArray("damage"))
        check(damage[np.isfinite(damage)].max() <= 1.0, f"{where}: damage at most 1")
        collagen = vtk_to_numpy(cd.GetArray("collagen1"))
        check(np.nanmax(collagen) > 50.0, f"{where}: dermal collagen I present (mg/mL)")
        if s["label"] == "before session 1":
            check(np.nanmax(damage) == 0.0, f"{where}: no damage before the first session")
        if s["label"] == "after session 1":
            check(np.nanmax(damage) > 0.1, f"{where}: the session's damage")
    # A threshold on the layer keeps exactly the tissue.
    reader.UpdateTimeStep(times[0])
    th = vtk.vtkThreshold()
    th.SetInputConnection(reader.GetOutputPort())
    th.SetInputArrayToProcess(0, 0, 0, vtk.vtkDataObject.FIELD_ASSOCIATION_CELLS, "layer")
    th.SetLowerThreshold(1)
    th.SetUpperThreshold(5)
    th.SetThresholdFunction(vtk.vtkThreshold.THRESHOLD_BETWEEN)
    th.UpdateTimeStep(times[0])
    check(th.GetOutput().GetNumberOfCells() == int((~air).sum()),
          "Threshold layer 1..5 keeps the tissue cells")
    return times


def check_paraview(xmf, times, ncells):
    try:
        from paraview import servermanager as sm
        from paraview import simple
    except ImportError as e:
        check(False, f"paraview.simple importable (python3-paraview): {e}")
        return
    for name, prop in (("Xdmf3ReaderS", "FileName"), ("Xdmf3ReaderT", "FileName"),
                       ("XDMFReader", "FileNames")):
        r = getattr(simple, name)(**{prop: [xmf]})
        r.UpdatePipelineInformation()
        ts = list(r.TimestepValues)
        check(np.allclose(ts, times, rtol=0, atol=1e-12), f"{name}: time steps {ts}")
        for t in ts:
            r.UpdatePipeline(t)
            d = sm.Fetch(r)
            if d.IsA("vtkMultiBlockDataSet"):
                d = d.GetBlock(0)
            check(d is not None and d.GetNumberOfCells() == ncells
                  and d.GetCellData().GetArray("collagen1") is not None,
                  f"{name}: time {t} loads the grid with its arrays")
        print(f"{name}: {len(ts)} time steps, each {ncells} cells")
        simple.Delete(r)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    mnsim, work = argv[1], os.path.abspath(argv[2])
    out = os.path.join(work, "run")
    run_scenario(mnsim, out)
    fields, g, snaps = read_h5(os.path.join(out, "fields.h5"))
    labels = [s["label"] for s in snaps]
    print(f"fields.h5: {len(snaps)} snapshots {labels}, grid {g['layer'].shape} (nz, ny, nx)")
    check(len(snaps) == 6, f"6 snapshots expected, {len(snaps)}")
    # The reader needs a path with a folder: Xdmf joins a bare file name to its own name.
    xmf = os.path.join(out, "fields.xmf")
    times = check_vtk(xmf, fields, g, snaps)
    check_paraview(xmf, times, g["layer"].size)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("fields.xmf: every snapshot loads in VTK's and ParaView's Xdmf readers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
