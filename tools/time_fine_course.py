#!/usr/bin/python3
"""Times and sizes example 01 (the default course) at 20 um: its 1 cm^2 patch on a 500 x 500 x 74
grid (18.5 million cells), issue 19's target of <= 20 minutes and <= 10 GiB for the five-session
course (docs/numerics.md, "1 cm² at 20 µm: measured").

usage: tools/time_fine_course.py [-s STEPS] [--one-session FOLLOW_UP] [-j THREADS] [--data DIR]
                                [BINARY]
  -s STEPS    stop after this many accepted steps (the process is killed: no results); 0 runs
              the whole course into a temporary folder (default 0)
  --one-session FOLLOW_UP
              one session followed for FOLLOW_UP (e.g. "10 minutes") instead of the course: the
              whole run, results included, at the grid of the course (its peak after the steps)
  -j THREADS  mnsim run --threads (default 2)
  --data DIR  MNSIM_DATA_DIR for BINARY (a build elsewhere)
  BINARY      default build/release/mnsim

Runs `mnsim run --log-level debug` on examples/01_default_cheek.toml with resolution = "20 um"
(nothing else changed) and reads the process's CPU clock (all threads, /proc/PID/stat) and peak
resident memory (VmHWM, /proc/PID/status) at each accepted step. Prints the setup (tissue,
engine, to the first step), every accepted step (its solves and CPU), and at the end the CPU per
solve, the peak RSS and, for a whole course, its wall and CPU time. Run it on a quiet machine
with about 12 GiB free: the run needs about 10 GiB (`mnsim check` says how much).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

STEP = re.compile(r"t = ([0-9.e+-]+) h, dt = ([0-9.e+-]+) s, steps (\d+) accepted, (\d+) rejected, (\d+) solves")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-s", "--steps", type=int, default=0)
    ap.add_argument("--one-session")
    ap.add_argument("-j", "--threads", type=int, default=2)
    ap.add_argument("--data")
    ap.add_argument("binary", nargs="?", default="build/release/mnsim")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "examples", "01_default_cheek.toml")) as f:
        text = f.read()
    if 'resolution = "100 um"' not in text:
        sys.exit("examples/01_default_cheek.toml no longer says resolution = \"100 um\"")
    text = text.replace('resolution = "100 um"', 'resolution = "20 um"')
    if a.one_session:
        if "sessions = 5" not in text or 'follow_up = "6 months"' not in text:
            sys.exit("examples/01_default_cheek.toml no longer has sessions = 5, follow_up = \"6 months\"")
        text = text.replace("sessions = 5", "sessions = 1").replace(
            'follow_up = "6 months"', f'follow_up = "{a.one_session}"')
    env = dict(os.environ)
    if a.data:
        env["MNSIM_DATA_DIR"] = a.data
    with tempfile.TemporaryDirectory() as work:
        scenario = os.path.join(work, "fine.toml")
        with open(scenario, "w") as f:
            f.write(text)
        cmd = [a.binary, "run", scenario, "--out", os.path.join(work, "out"), "--threads",
               str(a.threads), "--log-level", "debug"]
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {os.cpu_count()} cores, load "
              f"{open('/proc/loadavg').read().split()[0]}, {a.threads} threads, {a.binary}")
        print("# accepted solves t_h dt_s cpu_s wall_s peak_MiB")
        first = None  # (cpu, solves) at the end of the first accepted step
        last = None
        peak = 0.0
        for line in p.stderr:
            if "grid" in line and "cells" in line and "MiB" in line:
                print("#", line.strip())
            m = STEP.search(line)
            if not m:
                if "error" in line.lower() or "failure" in line.lower():
                    print(line.rstrip(), file=sys.stderr)
                continue
            try:
                cpu, peak = cpu_s(p.pid), max(peak, peak_mib(p.pid))
            except OSError:
                break
            acc, solves = int(m.group(3)), int(m.group(5))
            wall = time.monotonic() - t0
            print(f"{acc} {solves} {float(m.group(1)):.4g} {float(m.group(2)):.3g} {cpu:.1f} {wall:.1f} {peak:.0f}",
                  flush=True)
            if first is None:
                first = (cpu, solves)
            last = (cpu, solves, acc)
            if a.steps and acc >= a.steps:
                p.kill()
                break
        p.stderr.close()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = rc = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        peak = max(peak, ru.ru_maxrss / 1024.0)
        if first and last and last[1] > first[1]:
            print(f"CPU per solve after the first step: {(last[0] - first[0]) / (last[1] - first[1]):.2f} s "
                  f"({last[1] - first[1]} solves)")
        print(f"peak RSS: {peak:.0f} MiB ({peak / 1024:.2f} GiB); CPU of the process "
              f"{ru.ru_utime + ru.ru_stime:.0f} s, wall {wall:.0f} s")
        if not a.steps:
            print(f"whole course: exit {rc}")
        elif rc not in (0, -9):
            print(f"mnsim exited {rc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
