"""mnsim.run and the loaders of a run's results against the mnsim program and the files."""

import copy
import json
import shutil

import h5py
import numpy as np
import pandas as pd
import pytest

import mnsim
from conftest import TINY, cli

# Summary keys that hold wall-clock times: the only ones two runs of a scenario may differ in.
WALL = {"generation_wall_s"}


def without_wall(x):
    if isinstance(x, dict):
        return {k: without_wall(v) for k, v in x.items() if k not in WALL}
    if isinstance(x, list):
        return [without_wall(v) for v in x]
    return x


def test_a_dict_gives_the_results_of_its_file_run_by_the_program(tiny_run, tiny_cli):
    ours = tiny_run.summary
    theirs = json.loads((tiny_cli / "summary.json").read_text())
    for key in ("scenario", "sessions", "punctures_first_session", "numerics", "outcome"):
        assert without_wall(ours[key]) == without_wall(theirs[key]), key
    # Not a run that did nothing: the pen punctured and the dermis responded.
    assert ours["sessions"][0]["punctures"] > 0
    assert ours["outcome"]["collagen_change_pct"]["papillary"] != 0
    assert ours["outcome"]["scars"][0]["depth_um_before"] == pytest.approx(150, abs=1e-6)
    with open(f"{tiny_run.folder}/timeseries.csv") as a, open(tiny_cli / "timeseries.csv") as b:
        assert a.read() == b.read()
    # The resolved scenario: the same apart from its header line (start time).
    ours_toml = tiny_run.resolved.split("\n", 1)[1]
    theirs_toml = (tiny_cli / "scenario.resolved.toml").read_text().split("\n", 1)[1]
    assert ours_toml == theirs_toml


def test_overrides_seed_and_a_file_as_the_program_takes_them(tmp_path, mnsim_binary):
    sets = ["device.depth=0.25 mm", "technique.passes=1"]
    ours = mnsim.run(TINY, out=tmp_path / "ours", overrides={"device.depth": "0.25 mm",
                                                             "technique.passes": 1},
                     seed=5, threads=1)
    as_strings = mnsim.run(str(TINY), out=tmp_path / "strings", overrides=sets, seed=5, threads=1)
    args = ["run", TINY, "--out", tmp_path / "cli", "--quiet", "--threads", 1, "--seed", 5]
    for s in sets:
        args += ["--set", s]
    cli(mnsim_binary, *args)
    theirs = json.loads((tmp_path / "cli" / "summary.json").read_text())
    for run in (ours, as_strings):
        assert without_wall(run.summary["outcome"]) == without_wall(theirs["outcome"])
        assert run.summary["run"]["seed"] == 5
        assert run.scenario["device"]["depth"] == "0.25 mm"
        assert run.scenario["technique"]["passes"] == 1
    # The override made a difference: shallower needles than the file's 0.5 mm.
    assert ours.sessions.loc[0, "depth_um_mean"] < 300


def test_a_bad_key_is_an_input_error_naming_the_key_and_its_place(tiny_dict, tmp_path,
                                                                  mnsim_binary):
    d = copy.deepcopy(tiny_dict)
    d["device"]["depht"] = "0.5 mm"
    out = tmp_path / "never"
    with pytest.raises(mnsim.InputError) as info:
        mnsim.run(d, out=out)
    e = info.value
    assert e.file == "<dict>"
    assert e.key == "device.depht"
    text = mnsim.to_toml(d)
    assert text.splitlines()[e.line - 1][e.col - 1:].startswith("depht")
    assert str(e).startswith(f"<dict>:{e.line}:{e.col}: device.depht: ")
    assert "depth" in str(e)  # the suggestion
    assert not out.exists()  # nothing written
    # The program says the same of the same text in a file (exit code 2).
    f = tmp_path / "bad.toml"
    f.write_text(text)
    r = cli(mnsim_binary, "check", f, check=False)
    assert r.returncode == 2
    assert r.stderr.strip() == "error: " + str(e).replace("<dict>", str(f), 1)


def test_a_bad_override_and_a_bad_value_are_input_errors(tiny_dict, tmp_path, mnsim_binary):
    with pytest.raises(mnsim.InputError) as info:
        mnsim.run(TINY, out=tmp_path / "a", overrides={"device.depth": "5 kg"})
    r = cli(mnsim_binary, "check", TINY, "--set", 'device.depth="5 kg"', check=False)
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: {info.value}"
    assert "device.depth" in str(info.value)

    d = copy.deepcopy(tiny_dict)
    d["lesions"][0]["depth"] = None
    with pytest.raises(mnsim.InputError) as info:
        mnsim.run(d, out=tmp_path / "b")
    assert info.value.key == "lesions[0].depth"
    assert "None" in info.value.problem
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_cross_key_error_found_by_the_run_is_an_input_error(tiny_dict, tmp_path,
                                                              mnsim_binary):
    # A lesion outside the patch: found once the run has started (its first stage), on the
    # module's worker thread, and raised as the program reports it.
    d = copy.deepcopy(tiny_dict)
    d["lesions"][0]["x"] = "5 mm"
    with pytest.raises(mnsim.InputError) as info:
        mnsim.run(d, out=tmp_path / "c")
    assert info.value.key.startswith("lesions[0]")
    f = tmp_path / "outside.toml"
    f.write_text(mnsim.to_toml(d))
    r = cli(mnsim_binary, "run", f, "--out", tmp_path / "d", check=False)
    assert r.returncode == 2
    assert r.stderr.strip() == "error: " + str(info.value).replace("<dict>", str(f), 1)
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


def test_dataframes_carry_their_units(tiny_run):
    scars = tiny_run.scars
    assert scars.attrs["units"]["depth_um_before"] == "um"
    assert scars.attrs["units"]["volume_mm3_before"] == "mm^3"
    summary_scar = tiny_run.summary["outcome"]["scars"][0]
    assert scars.iloc[0]["depth_um_after"] == summary_scar["depth_um_after"]
    assert scars.iloc[0]["type"] == "boxcar"

    sessions = tiny_run.sessions
    assert sessions.attrs["units"]["density_per_cm2"] == "1/cm^2"
    assert sessions.attrs["units"]["fraction_bleeding"] == "1"
    assert sessions.loc[0, "punctures"] == tiny_run.summary["sessions"][0]["punctures"]

    ts = tiny_run.timeseries
    units = mnsim.field_units()
    assert units["collagen1"] == "mg/mL" and units["fibroblasts"] == "cells/mm^3"
    assert ts.attrs["quantity_units"]["collagen1"] == "mg/mL"
    assert ts.attrs["units"] == {"time_s": "s", "time_days": "days"}
    assert (ts.loc[ts["quantity"] == "fibroblasts", "unit"] == "cells/mm^3").all()
    raw = pd.read_csv(f"{tiny_run.folder}/timeseries.csv")
    assert len(ts) == len(raw)
    assert np.array_equal(ts["value"].to_numpy(), raw["value"].to_numpy())

    means = tiny_run.layer_means()
    assert means["collagen1"].attrs["units"] == "mg/mL"
    assert means["time"].attrs["units"] == "days"
    row = raw[(raw["quantity"] == "collagen1") & (raw["layer"] == "papillary_dermis")].iloc[-1]
    got = means["collagen1"].sel(time=row["time_days"], layer="papillary_dermis")
    assert float(got) == row["value"]

    # Before and after the session (both at t = 0) are two samples: the needles' damage is in
    # the second only.
    at0 = means["damage"].sel(layer="papillary_dermis").where(means["time_s"] == 0, drop=True)
    assert at0.size == 3 and float(at0[1]) == 0 and float(at0[2]) > 0

    depths = tiny_run.scar_depths
    assert depths.attrs["units"]["depth_um"] == "um"
    assert depths["depth_um"].iloc[0] == pytest.approx(summary_scar["depth_um_before"], rel=1e-6)
    assert depths["depth_um"].iloc[-1] == pytest.approx(summary_scar["depth_um_after"], rel=1e-6)


def test_the_fields_dataset_round_trips_fields_h5(tiny_run):
    ds = tiny_run.fields()
    path = f"{tiny_run.folder}/fields.h5"
    with h5py.File(path, "r") as f:
        names = sorted(f["snapshots"])
        stored = f.attrs["mnsim_fields"].decode().split(",")
        assert sorted(ds.data_vars) == sorted(stored + ["layer"])
        assert ds.sizes["time"] == len(names) >= 3
        for i, n in enumerate(names):
            g = f["snapshots"][n]
            assert float(ds["time"][i]) == g.attrs["time_days"]
            assert str(ds["label"][i].item()) == g.attrs["label"].decode()
            for field in stored:
                np.testing.assert_array_equal(ds[field].isel(time=i).to_numpy(), g[field][...])
                assert ds[field].attrs["units"] == g[field].attrs["units"].decode()
        grid = f["grid"]
        xf, zf = grid["x_faces"][...], grid["z_faces"][...]
        np.testing.assert_allclose(ds["x"].to_numpy(), 0.5 * (xf[:-1] + xf[1:]))
        np.testing.assert_allclose(ds["z"].to_numpy(), 0.5 * (zf[:-1] + zf[1:]))
        np.testing.assert_array_equal(ds["layer"].to_numpy(), grid["layer"][...])
    assert ds["x"].attrs["units"] == ds["y"].attrs["units"] == ds["z"].attrs["units"] == "um"
    assert ds["time"].attrs["units"] == "days"
    # z is height: 0 at the top face, the skin below; the 1 mm patch is 10 cells of 100 um.
    assert float(ds["z_faces"].max()) == 0.0 and float(ds["z"].max()) < 0
    assert ds.sizes["x"] == ds.sizes["y"] == 10
    # Air (the scar's depression) is NaN in every field, tissue is not.
    air = (ds["layer"] == 0).to_numpy()
    assert air.any() and not air.all()
    last = ds["collagen1"].isel(time=-1).to_numpy()
    np.testing.assert_array_equal(np.isnan(last), air)
    # Selections by name and label read the same values.
    one = tiny_run.fields(fields="collagen1", snapshots=["end of follow-up"])
    assert list(one.data_vars) == ["collagen1", "layer"]
    np.testing.assert_array_equal(one["collagen1"].isel(time=0).to_numpy(), last)


def test_scars_csv_and_a_unit_column_are_read_where_a_run_wrote_them(tiny_cli, tmp_path):
    # Runs with per-scar ids write scars.csv and a unit column in timeseries.csv (issue 21,
    # item 2): the loader takes both from the files.
    folder = tmp_path / "run"
    shutil.copytree(tiny_cli, folder)
    (folder / "scars.csv").write_text(
        "time_s,time_days,scar,kind,depth_um,floor_rise_um,rim_rise_um,band_intact\n"
        "0,0,boxcar_1,boxcar,150,0,0,1\n"
        "172800,2,boxcar_1,boxcar,141.5,9.5,1,1\n")
    ts = pd.read_csv(folder / "timeseries.csv")
    ts["unit"] = np.where(ts["quantity"] == "collagen1", "g/L", "1")
    ts.to_csv(folder / "timeseries.csv", index=False)
    run = mnsim.load_run(folder)
    depths = run.scar_depths
    assert list(depths["scar"]) == ["boxcar_1", "boxcar_1"]
    assert list(depths["depth_um"]) == [150, 141.5]
    assert depths.attrs["units"]["floor_rise_um"] == "um"
    assert depths.attrs["units"]["band_intact"] == "1"
    assert run.timeseries.attrs["quantity_units"]["collagen1"] == "g/L"
    assert run.layer_means()["collagen1"].attrs["units"] == "g/L"


def test_load_run_reads_a_folder_of_the_program_and_refuses_others(tiny_cli, tmp_path):
    run = mnsim.load_run(tiny_cli)
    assert run.summary["scenario"]["title"] == "Tiny pen patch"
    assert run.scenario["tissue"]["width"] == "1 mm"
    with pytest.raises(FileNotFoundError):
        mnsim.load_run(tmp_path)


def test_import_sets_the_programs_bounded_spin_unless_the_user_chose_how_threads_wait():
    """`import mnsim` asks libgomp for the spin count the program sets (core/openmp_wait.hpp),
    and keeps a policy or a spin count of the user's (docs/python.md)."""
    import os
    import pathlib
    import re
    import subprocess
    import sys

    header = pathlib.Path(__file__).resolve().parents[2] / "src/core/openmp_wait.hpp"
    count = re.search(r'kDefaultSpinCount = "(\d+)"', header.read_text()).group(1)
    probe = ("import os, mnsim; print(os.environ.get('OMP_WAIT_POLICY'), "
             "os.environ.get('GOMP_SPINCOUNT'))")
    for env, want in [({}, f"None {count}"),
                      ({"OMP_WAIT_POLICY": "passive"}, "passive None"),
                      ({"GOMP_SPINCOUNT": "20000"}, "None 20000")]:
        e = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
        e.update(env)
        r = subprocess.run([sys.executable, "-c", probe], env=e, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == want, (env, r.stdout)
