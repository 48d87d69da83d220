"""mnsim.reduced, mnsim.cohort, mnsim.plan and mnsim.sweep against the mnsim program."""

import json
import tomllib

import numpy as np
import pandas as pd
import pytest

import mnsim
from conftest import HERE, TINY, cli

COHORT = HERE / "cohort_small.toml"
PLAN = HERE / "plan_small.toml"

PATIENT = {
    "patient": {"site": "medial_cheek", "age": "31 years", "sex": "female", "fitzpatrick": 3},
    "scars": [{"kind": "boxcar", "depth": "0.3 mm", "width": "2 mm"}],
}


def test_the_reduced_model_for_one_patient():
    one = mnsim.reduced(PATIENT, {"needle_length": "1.0 mm", "passes": 8, "sessions": 1})
    three = mnsim.reduced(PATIENT, {"needle_length": "1.0 mm", "passes": 8, "sessions": 3,
                                    "outcome_times": [{"follow_up": "24 weeks"}]})
    assert one.values["sessions"] == 1 and three["sessions"] == 3
    assert "roller_192_mf8" in three.protocol
    assert one.scars.loc[0, "depth_um_before"] == pytest.approx(300)
    assert one.scars.attrs["units"]["depth_um_before"] == "um"
    assert one.units["papillary_collagen_change_pct"] == "%"
    # More sessions: more new collagen and a shallower scar.
    assert three["papillary_collagen_change_pct"] > one["papillary_collagen_change_pct"] > 0
    assert three.scars.loc[0, "depth_um_after"] < one.scars.loc[0, "depth_um_after"] < 300
    # Two outcome times (8 weeks, the default follow-up, and 24 weeks).
    assert list(three.times["follow_up_days"]) == [56, 168]
    assert three.times.attrs["units"]["follow_up_days"] == "days"
    assert len(one.channel_course) == 13


def test_the_reduced_model_is_the_model_of_cohorts(tmp_path):
    # A one-patient cohort of this patient's site, age, sex and skin type without variability:
    # it draws its own scar, but the skin away from scars, the needles and the downtime are the
    # patient's, in patients.csv (rounded) as in mnsim.reduced.
    protocol = {"needle_length": "1.0 mm", "passes": 8, "sessions": 2}
    r = mnsim.reduced(PATIENT, protocol)
    c = mnsim.cohort({"seed": 1, "population": {"size": 1, "age_mean": "31 years",
                                                "age_sd": "0 years", "female_fraction": 1.0,
                                                "scars": {"boxcar_shallow": 1}},
                      "protocol": protocol}, out=tmp_path / "c")
    row = c.patients.iloc[0]
    assert (row["site"], row["sex"], row["fitzpatrick"]) == ("medial_cheek", "female", 3)
    assert row["age_years"] == 31
    for col, scale, digits in [("papillary_collagen_change_pct", 1, 3),
                               ("reticular_collagen_change_pct", 1, 3),
                               ("erythema_days", 1, 3), ("barrier_hours", 1, 3),
                               ("depth_reached_mm", 1e-3, 4)]:
        name = "depth_reached_um" if col == "depth_reached_mm" else col
        assert row[col] == pytest.approx(r[name] * scale, abs=0.6 * 10**-digits), col
    assert r["papillary_collagen_change_pct"] > 1


def test_a_bad_protocol_key_names_the_protocol_dict():
    with pytest.raises(mnsim.InputError) as info:
        mnsim.reduced(PATIENT, {"needle_length": "1.0 mm", "pases": 8})
    assert info.value.file == "<protocol dict>"
    assert info.value.key == "protocol.pases"
    assert "passes" in str(info.value)


def test_a_cohort_dict_gives_the_files_of_the_program(tmp_path, mnsim_binary):
    ours = mnsim.cohort(tomllib.loads(COHORT.read_text()), out=tmp_path / "ours", threads=1)
    cli(mnsim_binary, "cohort", COHORT, "--out", tmp_path / "cli", "--threads", 1)
    assert ours.summary == json.loads((tmp_path / "cli" / "cohort.json").read_text())
    theirs = pd.read_csv(tmp_path / "cli" / "patients.csv")
    pd.testing.assert_frame_equal(ours.patients.drop(columns="arm"), theirs)
    assert ours.arms == ["protocol"] and len(ours.patients) == 24
    units = ours.patients.attrs["units"]
    assert units["depth_reached_mm"] == "mm"
    assert units["scar_depth_reduction_pct"] == "%"
    assert units["age_years"] == "years"
    assert "gb_quantitative_after" not in units  # a grade has no unit
    assert mnsim.load_cohort(tmp_path / "cli").summary == ours.summary


def test_a_plan_is_the_program_s_plan(tmp_path, mnsim_binary):
    p = mnsim.plan(PLAN, threads=1)
    cli(mnsim_binary, "plan", PLAN, "--threads", 1, "--json", tmp_path / "plan.json",
        "--csv", tmp_path / "plan.csv")
    assert p.json == json.loads((tmp_path / "plan.json").read_text())
    assert len(p.evaluated) == len(pd.read_csv(tmp_path / "plan.csv"))
    assert 1 <= len(p.ranked) <= 3
    exported = cli(mnsim_binary, "plan", PLAN, "--threads", 1, "--export", 1).stdout
    s = p.scenario(1)
    assert s.text == exported
    checked = mnsim.check(s)
    assert checked["memory_mib"] > 0
    assert "[device]" in checked["resolved"]


def sweep_dict(scenario):
    return {
        "title": "tiny depth x passes",
        "scenario": str(scenario),
        "axis": [{"key": "device.depth", "values": ["0.25 mm", "0.5 mm"]},
                 {"key": "technique.passes", "values": [1, 2]},
                 {"key": "course.follow_up", "values": ["1 day"]}],
    }


def test_a_sweep_dict_gives_the_csv_of_the_program(tmp_path, mnsim_binary):
    d = sweep_dict(TINY)
    ours = mnsim.sweep(d, out=tmp_path / "ours", threads=1)
    f = tmp_path / "sweep.toml"
    f.write_text(mnsim.to_toml(d))
    cli(mnsim_binary, "sweep", f, "--out", tmp_path / "cli", "--threads", 1, "--quiet")
    theirs = mnsim.load_sweep(tmp_path / "cli")
    a = ours.table.drop(columns="run.wall_time_s")
    b = theirs.table.drop(columns="run.wall_time_s")
    pd.testing.assert_frame_equal(a, b)
    assert ours.failed == [] and list(a["status"]) == ["ok"] * 4
    assert ours.axes == ["device.depth", "technique.passes", "course.follow_up"]
    assert a.attrs["units"]["outcome.collagen_change_pct.papillary"] == "%"
    assert a.attrs["units"]["sessions[0].depth_um_mean"] == "um"

    ds = ours.dataset()
    assert dict(ds.sizes) == {"device.depth": 2, "technique.passes": 2}
    assert list(ds["device.depth"].to_numpy()) == [0.25, 0.5]
    assert ds["device.depth"].attrs["units"] == "mm"
    assert ds.attrs["fixed course.follow_up"] == "1 day"
    col = "sessions[0].punctures"
    assert ds[col].sel({"device.depth": 0.5, "technique.passes": 2}).item() == (
        a[(a["device.depth"] == "0.5 mm") & (a["technique.passes"] == 2)][col].item())
    # Two passes puncture more than one.
    assert (ds[col].sel({"technique.passes": 2}) > ds[col].sel({"technique.passes": 1})).all()
    assert ds["sessions[0].depth_um_mean"].attrs["units"] == "um"
    assert np.all(np.diff(ds["sessions[0].depth_um_mean"].sel({"technique.passes": 1})) > 0)


def test_a_sweep_point_that_is_wrong_is_named_before_anything_runs(tmp_path):
    d = sweep_dict(TINY)
    d["axis"][0]["values"] = ["0.25 mm", "7 furlongs"]
    with pytest.raises(mnsim.InputError) as info:
        mnsim.sweep(d, out=tmp_path / "s")
    e = info.value
    assert e.file == "<dict>"
    assert mnsim.to_toml(d).splitlines()[e.line - 1][e.col - 1:].startswith('"7 furlongs"')
    assert not (tmp_path / "s").exists()
