#!/usr/bin/env python3
"""Grid and time-step convergence study of a scenario's outcomes (issue 17, item 5;
docs/numerics.md, "Convergence of example 01").

usage: convergence.py MNSIM SCENARIO OUT_DIR [--grids 200,100,50] [--rtols 1e-3,2.5e-4,6.25e-5]
                      [--grid-only] [--jobs 2] [--no-run]
       convergence.py --self-test

Runs SCENARIO three times on grids refined by 2 ([tissue] resolution, default rtol) and three
times with the error tolerance divided by 4 (the step of a first-order scheme halves when its
local-error tolerance, which grows as h^2, is divided by 4), at the scenario's own resolution
(--grid-only: the three grids alone). For each outcome it reports the Richardson extrapolation and the grid convergence index of
Roache (1994, J Fluids Eng 116:405) in the form of Celik et al. (2008, J Fluids Eng 130:078001):
with phi1 the finest, r = 2,

    p = ln|(phi3 - phi2) / (phi2 - phi1)| / ln r        (observed order)
    phi_ext = (r^p phi1 - phi2) / (r^p - 1)
    GCI_fine = 1.25 |(phi1 - phi2) / phi1| / (r^p - 1)

Where the differences change sign (oscillatory convergence) or p is not between 0.5 and 4, the
GCI is not defined and the table says so, giving the spread of the three values instead.
Markdown on stdout. tools/convergence_patch.toml is example 01 on a 4 x 3 mm patch, the scenario
of the study in docs/numerics.md ("Why space did not converge")."""
import argparse
import json
import math
import os
import re
import subprocess
import sys

OUTCOMES = [
    ("papillary collagen change, %", lambda o: o["collagen_change_pct"]["papillary"]),
    ("reticular collagen change, %", lambda o: o["collagen_change_pct"]["reticular"]),
    ("epidermal thickness change, %", lambda o: o["epidermal_thickness_change_pct"]),
    ("elastin change, %", lambda o: o["elastin_change_pct"]),
]


def scar_outcomes(o):
    out = []
    for i, s in enumerate(o.get("scars", [])):
        out.append((f"scar {i + 1} ({s['type']}) depth after, um",
                    lambda o, i=i: o["scars"][i]["depth_um_after"]))
    for i, s in enumerate(o.get("scars", [])):
        out.append((f"scar {i + 1} floor rise / rim rise, um",
                    lambda o, i=i: (o["scars"][i]["floor_rise_um"], o["scars"][i]["rim_rise_um"])))
    out.append(("G&B quantitative after", lambda o: o["goodman_baron"]["quantitative_after"]))
    return out


def variant(text, resolution=None, rtol=None):
    if resolution is not None:
        text, n = re.subn(r'(?m)^resolution\s*=\s*"[^"]*"', f'resolution = "{resolution} um"', text)
        if n != 1:
            sys.exit("convergence.py: the scenario needs one [tissue] resolution line")
    if rtol is not None:
        if re.search(r"(?m)^\[numerics\]", text):
            sys.exit("convergence.py: give a scenario without a [numerics] section")
        text += f"\n[numerics]\nrtol = {rtol}\n"
    return text


def run(mnsim, text, out, jobs):
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "scenario.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    subprocess.run([mnsim, "run", path, "--out", os.path.join(out, "run"), "--force", "--quiet",
                    "-j", str(jobs)], check=True, stdout=subprocess.DEVNULL)


def load(out):
    with open(os.path.join(out, "run", "summary.json"), encoding="utf-8") as f:
        return json.load(f)


def gci(phi):
    """phi = (fine, medium, coarse), r = 2."""
    f1, f2, f3 = phi
    e21, e32 = f2 - f1, f3 - f2
    if e21 == 0.0:
        return None, f1, 0.0, "identical on the two finest"
    if e32 == 0.0 or e21 * e32 < 0.0:
        return None, None, None, "oscillatory"
    p = math.log(abs(e32 / e21)) / math.log(2.0)
    if not 0.5 <= p <= 4.0:
        return p, None, None, "order outside 0.5-4"
    rp = 2.0 ** p
    ext = (rp * f1 - f2) / (rp - 1.0)
    g = 1.25 * abs(e21 / f1) / (rp - 1.0) if f1 != 0.0 else float("nan")
    return p, ext, g, ""


def table(title, labels, summaries, outcomes):
    print(f"\n{title}\n")
    print(f"| outcome | {' | '.join(labels)} | order p | extrapolated | GCI (finest) |")
    print("|---|" + "---|" * (len(labels) + 3))
    for name, get in outcomes:
        vals = [get(s["outcome"]) for s in summaries]
        if isinstance(vals[0], tuple):  # a pair shown for the record, not a convergence study
            cells = " | ".join(f"{a:.4g} / {b:.4g}" for a, b in vals)
            print(f"| {name} | {cells} | | | |")
            continue
        p, ext, g, note = gci((vals[2], vals[1], vals[0]))
        cells = " | ".join(f"{v:.4g}" for v in vals)
        if note:
            spread = max(vals) - min(vals)
            tail = f"{'' if p is None else f'{p:.2f}'} | {note}; spread {spread:.3g} | -"
        else:
            tail = f"{p:.2f} | {ext:.4g} | {100 * g:.2f}%"
        print(f"| {name} | {cells} | {tail} |")
    steps = [s["numerics"]["steps_accepted"] for s in summaries]
    print(f"\nsteps accepted: {' / '.join(str(x) for x in steps)}")


def self_test():
    """gci() on phi(h) = 3 + 0.5 h^p (h = 1, 2, 4): the order, the limit and Celik's GCI."""
    for p in (1.0, 2.0):
        phi = tuple(3.0 + 0.5 * h ** p for h in (1.0, 2.0, 4.0))
        got_p, ext, g, note = gci(phi)
        want_g = 1.25 * abs((phi[1] - phi[0]) / phi[0]) / (2.0 ** p - 1.0)
        if note or abs(got_p - p) > 1e-12 or abs(ext - 3.0) > 1e-12 or abs(g - want_g) > 1e-15:
            print(f"self-test failed for p = {p}: {got_p}, {ext}, {g}, {note}")
            return 1
    if gci((1.0, 2.0, 1.5))[3] != "oscillatory" or gci((1.0, 1.4, 1.5))[3] == "":
        print("self-test failed: oscillatory or divergent sequences not recognised")
        return 1
    print("self-test passed")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser()
    ap.add_argument("mnsim")
    ap.add_argument("scenario")
    ap.add_argument("out")
    ap.add_argument("--grids", default="200,100,50", help="resolutions in um, coarse to fine")
    ap.add_argument("--rtols", default="1e-3,2.5e-4,6.25e-5", help="loose to tight")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--grid-only", action="store_true", help="the three grid runs alone")
    ap.add_argument("--no-run", action="store_true")
    a = ap.parse_args()
    with open(a.scenario, encoding="utf-8") as f:
        text = f.read()
    grids = [float(x) for x in a.grids.split(",")]
    rtols = [float(x) for x in a.rtols.split(",")]
    if len(grids) != 3 or len(rtols) != 3:
        sys.exit("convergence.py: three grids and three tolerances")
    runs = [(f"grid_{g:g}", variant(text, resolution=f"{g:g}")) for g in grids]
    if not a.grid_only:
        runs += [(f"rtol_{t:g}", variant(text, rtol=t)) for t in rtols]
    for name, t in runs:
        if not a.no_run:
            run(a.mnsim, t, os.path.join(a.out, name), a.jobs)
    summ = {name: load(os.path.join(a.out, name)) for name, _ in runs}
    outs = OUTCOMES + scar_outcomes(summ[runs[0][0]]["outcome"])
    table("Grid (resolution " + " / ".join(f"{g:g}" for g in grids) + " um, default rtol)",
          [f"{g:g} um" for g in grids], [summ[f"grid_{g:g}"] for g in grids], outs)
    if not a.grid_only:
        table("Time step (rtol " + " / ".join(f"{t:g}" for t in rtols) + ", default grid)",
              [f"rtol {t:g}" for t in rtols], [summ[f"rtol_{t:g}"] for t in rtols], outs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
