#!/usr/bin/env python3
"""Grid and time-step convergence study of a scenario's outcomes (issue 17, item 5;
docs/numerics.md, "Convergence of example 01").

usage: convergence.py MNSIM SCENARIO OUT_DIR [--grids 200,100,50] [--rtols 1e-3,2.5e-4,6.25e-5]
                      [--grid-only] [--jobs 2] [--no-run] [--require-monotone OUTCOME ...]
       convergence.py --self-test

Runs SCENARIO on three grids ([tissue] resolution, default rtol) and, unless --grid-only, with
three error tolerances at the scenario's own resolution (rtol divided by 4: the local error of
the first-order step grows as dt^2, so its step about halves; the step's refinement ratio used is
the measured ratio of the accepted steps). --no-run reads OUT_DIR/grid_G/run and OUT_DIR/rtol_T/run
of an earlier call. Every outcome of summary.json is tabulated: the layer changes, each scar's
depth after and its change (um and %), the Goodman & Baron grades, erythema, PIH, barrier
recovery, channel closure and the channels' open share at 6 and 24 h, bleeding and the reduced
model's bands. Per outcome, with phi1 the finest and r21, r32 the ratios, the procedure of
Celik et al. (2008, J Fluids Eng 130:078001) for the grid convergence index of Roache (1994,
J Fluids Eng 116:405):

    p = |ln|e32 / e21| + q(p)| / ln r21,  q(p) = ln((r21^p - s) / (r32^p - s)),  s = sign(e32 / e21)
    phi_ext = (r21^p phi1 - phi2) / (r21^p - 1)
    GCI_fine = 1.25 |(phi1 - phi2) / phi1| / (r21^p - 1)

An oscillating triplet (e32 / e21 < 0) has no Richardson extrapolation; its uncertainty is half
the band of the three values (Stern et al. 2001, J Fluids Eng 123:793). A triplet whose
differences grow, or whose order is below 0.5, is "not asymptotic": its uncertainty is the whole
band. An order above 4 (the two differences nearly cancel) is not the scheme's: the GCI then
takes the formal order 1 with the safety factor 3 (Roache 1994's GCI of two grids). The table gives the uncertainty of the finest value and of the scenario's default
(its own resolution; the loosest, default tolerance): |phi - phi_ext| + U_finest when monotone.
Markdown on stdout. --require-monotone exits 1 unless the named outcomes converge monotonically
on the grids; --require-convergent unless the finer pair differs by at most half as much as the
coarser pair (|phi1 - phi2| <= |phi2 - phi3| / 2: at least first order at r = 2, of either sign:
where the grid error falls below the time-step error the last difference's sign is the step's)
(tests/convergence_small.toml). tools/convergence_patch.toml is example 01 on a
7 x 4.5 mm patch (docs/numerics.md, "Scar depths")."""
import argparse
import json
import math
import os
import re
import subprocess
import sys

def _open_fraction_at(o, hours):
    """The channels' open fraction at `hours` after the first session (the course's sample at or
    just after it; the course is sampled at fixed times after each session)."""
    for c in o["channels"]["course"]:
        if c["hours"] >= hours - 1e-9:
            return c["open_fraction"]
    return o["channels"]["course"][-1]["open_fraction"]


OUTCOMES = [
    ("papillary collagen change, %", lambda o: o["collagen_change_pct"]["papillary"]),
    ("reticular collagen change, %", lambda o: o["collagen_change_pct"]["reticular"]),
    ("epidermal thickness change, %", lambda o: o["epidermal_thickness_change_pct"]),
    ("elastin change, %", lambda o: o["elastin_change_pct"]),
]

SIDE_EFFECTS = [
    ("erythema, h", lambda o: 24.0 * o["erythema_days"]),
    ("PIH risk, %", lambda o: 100.0 * o["pih_risk"]),
    ("barrier recovery, h", lambda o: o["barrier_recovery_hours"]),
    ("channel closure, h", lambda o: o["channels"]["closure_hours"]),
    ("channels open at 6 h", lambda o: _open_fraction_at(o, 6.0)),
    ("channels open at 24 h", lambda o: _open_fraction_at(o, 24.0)),
    ("bleeding punctures, share", lambda o: o["bleeding_fraction"]),
    ("reduced model: papillary collagen, % (bands)",
     lambda o: o["reduced_model"]["collagen_change_pct_papillary"]),
    ("reduced model: scar depth reduction, % (bands)",
     lambda o: o["reduced_model"]["scar_depth_reduction_pct"]),
]

GRADES = [
    ("G&B qualitative before", lambda o: o["goodman_baron"]["qualitative_before"]),
    ("G&B qualitative after", lambda o: o["goodman_baron"]["qualitative_after"]),
    ("G&B quantitative before", lambda o: o["goodman_baron"]["quantitative_before"]),
    ("G&B quantitative after", lambda o: o["goodman_baron"]["quantitative_after"]),
]


def scar_outcomes(o):
    """Per scar: its depth after, its depth change (before - after) in um and in % of the depth
    before, the rises it is read from (floor / rim, for the record) and, tethered, the share of the
    band left intact."""
    out = []
    for i, s in enumerate(o.get("scars", [])):
        name = f"scar {i + 1} ({s['type']})"
        out.append((f"{name} depth after, um", lambda o, i=i: o["scars"][i]["depth_um_after"]))
        out.append((f"{name} depth change, um",
                    lambda o, i=i: o["scars"][i]["depth_um_before"] - o["scars"][i]["depth_um_after"]))
        out.append((f"{name} depth change, %",
                    lambda o, i=i: 100.0 * (1.0 - o["scars"][i]["depth_um_after"]
                                            / o["scars"][i]["depth_um_before"])))
    for i, s in enumerate(o.get("scars", [])):
        out.append((f"scar {i + 1} floor rise / rim rise, um",
                    lambda o, i=i: (o["scars"][i]["floor_rise_um"], o["scars"][i]["rim_rise_um"])))
        if s["band_intact_fraction"] < 1.0:
            out.append((f"scar {i + 1} ({s['type']}) band intact, share",
                        lambda o, i=i: o["scars"][i]["band_intact_fraction"]))
    return out


def all_outcomes(o):
    out = OUTCOMES + scar_outcomes(o) + GRADES + SIDE_EFFECTS
    if o["channels"]["closure_hours"] is None:
        out = [x for x in out if x[0] != "channel closure, h"]
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


def gci(phi, r21=2.0, r32=2.0, fs=1.25, formal=1.0):
    """Celik et al. (2008, J Fluids Eng 130:078001) on phi = (fine, medium, coarse) with
    refinement ratios r21 = h2/h1 and r32 = h3/h2. Returns a dict:
      kind   'monotone', 'monotone, p > 4', 'oscillatory', 'not asymptotic', 'converged' (the
             two finest equal) or 'constant' (all three equal)
      p      the observed order (Celik's eq. 5a-c, fixed-point iteration when r21 != r32;
             for an oscillatory triplet the same formula with s = -1, shown, not used)
      ext    the Richardson extrapolation phi_ext^21 (monotone only)
      gci    GCI_fine^21 = fs e_a^21 / (r21^p - 1), relative to phi1 (monotone only)
      u      the uncertainty of phi1, absolute: |phi1| gci when monotone; half the band
             (max - min) / 2 of the three values when oscillatory (Stern et al. 2001, J Fluids
             Eng 123:793, for oscillatory convergence; Celik's procedure does not apply); the
             whole band when not asymptotic (p below 0.5, or diverging). An order above 4 is
             not the scheme's (the two differences nearly cancel): the GCI then takes the
             formal order `formal` with the safety factor 3, Roache's (1994) GCI of two grids,
             and its Richardson extrapolation.
    The uncertainty of another value phi of the series (the default's) is |phi - phi_ext| + u
    when monotone, else u (uncertainty_of).
    """
    f1, f2, f3 = (float(x) for x in phi)
    e21, e32 = f2 - f1, f3 - f2
    band = max(f1, f2, f3) - min(f1, f2, f3)
    out = {"kind": "", "p": None, "ext": None, "gci": None, "u": band}
    if band == 0.0:
        out.update(kind="constant", u=0.0)
        return out
    if e21 == 0.0:
        out.update(kind="converged", u=abs(e32))
        return out
    if e32 == 0.0:
        out.update(kind="not asymptotic")
        return out
    ratio = e32 / e21
    s = 1.0 if ratio > 0 else -1.0
    p = math.log(abs(ratio)) / math.log(r21)
    if s > 0 and p <= 0.0:  # the differences grow with refinement (Celik's |.| would hide it)
        out.update(kind="not asymptotic", p=p)
        return out
    for _ in range(200):
        try:
            q = math.log((r21 ** p - s) / (r32 ** p - s))
        except (ValueError, ZeroDivisionError, OverflowError):
            break
        p_new = abs(math.log(abs(ratio)) + q) / math.log(r21)
        if abs(p_new - p) < 1e-12:
            p = p_new
            break
        p = p_new
    out["p"] = p
    if s < 0:
        out.update(kind="oscillatory", u=0.5 * band)
        return out
    if p < 0.5:
        out.update(kind="not asymptotic")
        return out
    kind = "monotone"
    if p > 4.0:
        kind, fs = "monotone, p > 4", 3.0
        rp = r21 ** formal
    else:
        rp = r21 ** p
    ext = (rp * f1 - f2) / (rp - 1.0)
    g = fs * abs(e21 / f1) / (rp - 1.0) if f1 != 0.0 else float("nan")
    out.update(kind=kind, ext=ext, gci=g, u=abs(f1) * g)
    return out


def uncertainty_of(value, res):
    """The uncertainty of one value of the series from gci()'s result: its distance from the
    extrapolation plus the finest's GCI band when monotone, else the series' own band."""
    if res["ext"] is not None:
        return abs(value - res["ext"]) + res["u"]
    return res["u"]


def _fmt(v):
    return f"{v:.4g}"


def table(title, labels, summaries, outcomes, ratios=(2.0, 2.0), default=1):
    """A markdown table: the three values (coarse to fine), Celik's p, phi_ext, GCI_fine, the
    uncertainty of the finest and of the default value (labels[default]). ratios: (r32, r21)."""
    print(f"\n{title}\n")
    print(f"| outcome | {' | '.join(labels)} | kind | order p | extrapolated | GCI (finest) | "
          f"U finest | U {labels[default]} |")
    print("|---|" + "---|" * (len(labels) + 6))
    r32, r21 = ratios
    for name, get in outcomes:
        vals = [get(s["outcome"]) for s in summaries]
        if isinstance(vals[0], tuple):  # a pair shown for the record, not a convergence study
            cells = " | ".join(f"{a:.4g} / {b:.4g}" for a, b in vals)
            print(f"| {name} | {cells} | | | | | | |")
            continue
        res = gci((vals[2], vals[1], vals[0]), r21=r21, r32=r32)
        cells = " | ".join(_fmt(v) for v in vals)
        p = "" if res["p"] is None else f"{res['p']:.2f}"
        ext = "" if res["ext"] is None else _fmt(res["ext"])
        g = "" if res["gci"] is None else f"{100 * res['gci']:.2f}%"
        ud = uncertainty_of(vals[default], res)
        print(f"| {name} | {cells} | {res['kind']} | {p} | {ext} | {g} | {res['u']:.3g} | "
              f"{ud:.3g} |")
    steps = [s["numerics"]["steps_accepted"] for s in summaries]
    print(f"\nsteps accepted: {' / '.join(str(x) for x in steps)}")


def self_test():
    """gci() on phi(h) = 3 + 0.5 h^p (h = 1, 2, 4, and h = 1, 1.5, 3 for unequal ratios): the
    order, the limit and Celik's GCI; oscillatory, diverging and flat triplets."""
    for p in (1.0, 2.0, 1.6):
        for hs in ((1.0, 2.0, 4.0), (1.0, 1.5, 3.0)):
            phi = tuple(3.0 + 0.5 * h ** p for h in hs)
            r21, r32 = hs[1] / hs[0], hs[2] / hs[1]
            res = gci(phi, r21=r21, r32=r32)
            want_g = 1.25 * abs((phi[1] - phi[0]) / phi[0]) / (r21 ** p - 1.0)
            if (res["kind"] != "monotone" or abs(res["p"] - p) > 1e-9
                    or abs(res["ext"] - 3.0) > 1e-9 or abs(res["gci"] - want_g) > 1e-12
                    or abs(uncertainty_of(phi[2], res) - (phi[2] - 3.0 + phi[0] * want_g)) > 1e-9):
                print(f"self-test failed for p = {p}, h = {hs}: {res}")
                return 1
    osc = gci((1.0, 2.0, 1.5))
    if (osc["kind"] != "oscillatory" or osc["u"] != 0.5 or osc["ext"] is not None
            or uncertainty_of(1.5, osc) != 0.5):
        print(f"self-test failed: oscillatory triplet {osc}")
        return 1
    if gci((1.0, 1.4, 1.5))["kind"] != "not asymptotic":  # differences growing: p < 0
        print("self-test failed: a diverging triplet passed as converging")
        return 1
    hi = gci((1.0, 1.001, 1.5))  # p = ln 500 / ln 2 = 9: two grids, formal order 1, Fs = 3
    if hi["kind"] != "monotone, p > 4" or abs(hi["gci"] - 3.0 * 0.001) > 1e-12 or abs(
            hi["ext"] - 0.999) > 1e-12:
        print(f"self-test failed: an order above 4 {hi}")
        return 1
    if gci((2.0, 2.0, 2.0))["kind"] != "constant" or gci((2.0, 2.0, 3.0))["kind"] != "converged":
        print("self-test failed: flat triplets")
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
    ap.add_argument("--require-monotone", action="append", default=[], metavar="OUTCOME",
                    help="exit 1 unless this outcome (a row name) converges monotonically on the "
                         "grids at an order between 0.5 and 4 (repeatable; a test's check)")
    ap.add_argument("--require-convergent", action="append", default=[], metavar="OUTCOME",
                    help="exit 1 unless this outcome's finer grid pair differs by at most half "
                         "as much as the coarser pair, of either sign (repeatable)")
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
    outs = all_outcomes(summ[runs[0][0]]["outcome"])
    res = re.search(r'(?m)^resolution\s*=\s*"([0-9.]+)\s*um"', text)
    default_grid = grids.index(float(res.group(1))) if res and float(res.group(1)) in grids else 1
    grid_runs = [summ[f"grid_{g:g}"] for g in grids]
    table("Grid (resolution " + " / ".join(f"{g:g}" for g in grids) + " um, default rtol)",
          [f"{g:g} um" for g in grids], grid_runs, outs,
          ratios=(grids[0] / grids[1], grids[1] / grids[2]), default=default_grid)
    failed = []
    for name in a.require_monotone:
        get = dict(outs).get(name)
        if get is None:
            sys.exit(f"convergence.py: --require-monotone: no outcome named {name!r}")
        v = [get(s["outcome"]) for s in grid_runs]
        res = gci((v[2], v[1], v[0]), r21=grids[1] / grids[2], r32=grids[0] / grids[1])
        if res["kind"] != "monotone":  # p > 4 is not the scheme's order either
            failed.append(f"{name}: {' / '.join(f'{x:.6g}' for x in v)} is {res['kind']}")
    for name in a.require_convergent:
        get = dict(outs).get(name)
        if get is None:
            sys.exit(f"convergence.py: --require-convergent: no outcome named {name!r}")
        v = [get(s["outcome"]) for s in grid_runs]
        if not abs(v[2] - v[1]) <= 0.5 * abs(v[1] - v[0]):
            failed.append(f"{name}: {' / '.join(f'{x:.6g}' for x in v)}: the finer pair differs "
                          "by more than half the coarser pair")
    if not a.grid_only:
        # The step's refinement ratio is measured: the ratio of the accepted steps (the mean step
        # over the course is its length over their number).
        n = [summ[f"rtol_{t:g}"]["numerics"]["steps_accepted"] for t in rtols]
        table("Time step (rtol " + " / ".join(f"{t:g}" for t in rtols) + ", default grid; "
              f"step ratios from the accepted steps: {n[1] / n[0]:.2f}, {n[2] / n[1]:.2f})",
              [f"rtol {t:g}" for t in rtols], [summ[f"rtol_{t:g}"] for t in rtols], outs,
              ratios=(n[1] / n[0], n[2] / n[1]), default=0)
    for f in failed:
        print(f"convergence.py: {f}, not monotone at an order of 0.5-4", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
