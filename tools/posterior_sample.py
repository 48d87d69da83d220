#!/usr/bin/env python3
"""Writes the posterior sample data file (data/posterior_sample.toml) from the output folder of
`mnsim calibrate` (calibration.json and posterior.csv): one row per particle, [weight, the value
of each sampled parameter in its data file's unit]. The final particles of the sampler are
equally weighted (docs/calibration.md, "Method"), so every weight is 1.

    tools/posterior_sample.py RESULTS_DIR "mnsim calibrate examples/11_calibrate.toml -j 2" \
        COMMIT [RESULTS_DIR2 "mnsim calibrate examples/14_calibrate_pih.toml -j 2"] \
        > data/posterior_sample.toml

With a second run (a factor of the posterior independent of the first: docs/calibration.md,
"The PIH threshold") particle i of the first run is paired with particle i of the second: two
independent, equally weighted samples of the two factors, so each pair is a draw of their
product, the joint posterior. Both runs must have the same number of particles.
"""
import csv
import json
import sys
from pathlib import Path


def cal_version(folder: Path) -> str:
    return json.loads((folder / "calibration.json").read_text())["mnsim_version"]


def main() -> int:
    if len(sys.argv) not in (4, 6):
        print(__doc__, file=sys.stderr)
        return 2
    folder, command, commit = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    made_with = f"mnsim {cal_version(folder)} at commit {commit}"
    cal = json.loads((folder / "calibration.json").read_text())
    keys = [p["key"] for p in cal["parameters"]]
    units = [p["unit"] for p in cal["parameters"]]
    with open(folder / "posterior.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    evaluations = cal["model_evaluations"]
    if len(sys.argv) == 6:
        folder2, command2 = Path(sys.argv[4]), sys.argv[5]
        cal2 = json.loads((folder2 / "calibration.json").read_text())
        keys2 = [p["key"] for p in cal2["parameters"]]
        with open(folder2 / "posterior.csv", newline="") as f:
            rows2 = list(csv.DictReader(f))
        if len(rows2) != len(rows) or set(keys) & set(keys2):
            print("posterior_sample.py: the two runs need as many particles and other parameters",
                  file=sys.stderr)
            return 2
        keys += keys2
        units += [p["unit"] for p in cal2["parameters"]]
        rows = [{**a, **b} for a, b in zip(rows, rows2)]
        command = f"{command}; {command2} (particle i with particle i)"
        evaluations = f"{evaluations} + {cal2['model_evaluations']}"
    out = [
        "# Posterior sample of the calibrated parameters (docs/calibration.md, \"Example 11\"), read by",
        "# the predictive bands (docs/outputs.md, \"Predictive bands\"): the final particles of the run(s)",
        f"#   {command}",
        f"# ({made_with}; {evaluations} model evaluations; "
        f"{len(rows)} particles, equally weighted).",
        "# data/posterior.toml holds the summary of the same run. Written by tools/posterior_sample.py.",
        "# Each particle: [weight, then the value of each parameter in its data file's unit].",
        "",
        "[sample]",
        f"command = \"{command}\"",
        f"made_with = \"{made_with}\"",
        "parameters = [" + ", ".join(f'"{k}"' for k in keys) + "]",
        "units = [" + ", ".join(f'"{u}"' for u in units) + "]",
        "particles = [",
    ]
    for r in rows:
        out.append("  [1, " + ", ".join(repr(float(r[k])) for k in keys) + "],")
    out.append("]")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
