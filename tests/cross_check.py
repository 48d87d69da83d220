#!/usr/bin/env python3
"""Reduced model vs 3D engine on one `mnsim run` output (issue: cohorts use the reduced model,
cross-checked against the full 3D model within 10% on scar depth reduction and collagen change).

usage: cross_check.py RUN_DIR [TOLERANCE]   (relative tolerance, default 0.10)
Reads RUN_DIR/summary.json: outcome.collagen_change_pct.papillary and the mean depth reduction of
the graded scars (3D engine) against outcome.reduced_model (the reduced model fed with what the
device delivered in the same run). Exit 0 when both agree within the tolerance, 1 otherwise."""
import json
import sys


def main():
    run_dir = sys.argv[1]
    tol = float(sys.argv[2]) if len(sys.argv) > 2 else 0.10
    with open(f"{run_dir}/summary.json", encoding="utf-8") as f:
        out = json.load(f)["outcome"]
    red = out["reduced_model"]
    pairs = [("papillary collagen change %", out["collagen_change_pct"]["papillary"],
              red["collagen_change_pct_papillary"])]
    graded = [s for s in out["scars"] if s["type"] not in ("striae", "wrinkle")]
    if graded:
        d3 = sum(100.0 * (1.0 - s["depth_um_after"] / s["depth_um_before"]) for s in graded)
        pairs.append(("scar depth reduction %", d3 / len(graded), red["scar_depth_reduction_pct"]))
    ok = True
    for name, full, reduced in pairs:
        rel = abs(reduced / full - 1.0) if full != 0 else abs(reduced)
        good = rel <= tol
        ok &= good
        print(f"{name}: 3D {full:.2f}, reduced {reduced:.2f}, difference {100 * rel:.1f}% "
              f"({'within' if good else 'outside'} {100 * tol:.0f}%)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
