#!/usr/bin/env python3
"""quiesce-check against SPIN on the same pre-copy protocol, in one run.

    python bench/vs_spin.py [--sizes S,M,L] [--variants a,b,c,d] [--reps 1]

Ours: `quiesce-check check models/precopy_backend.qdl` as a whole command,
with an empty compiler cache (so generating and compiling its C search is
included, as SPIN's `spin -a` and gcc are). SPIN: bench/run_spin.sh on
bench/quiesce.pml, the same protocol at the same atomicity. Installs
nothing: it stops if `spin` (Debian package `spin`) or a C compiler is
missing. Sizes: S = NPAGES 3 NREQ 2, M = 4/3, L = 4/4 (K = 1, MAXV = 1).
Variant a (holds) is explored exhaustively by both; b, c, d (violations) by
breadth-first search on both sides, comparing shortest counterexamples.

Prints a table, then one line per size and variant:
  size=M variant=a ours_states=N spin_states=N ours_s=S spin_s=S bytes_per_state=B ratio=R
and last `ratio=R`, the median ratio (ours / SPIN, whole command against whole
command) of variant a at the largest size run.

Liveness (`--liveness S,M`, the default; an empty list runs none): "the
migration eventually completes", `liveness migration_completes: eventually
done;` added to the model and `ltl completes { <> done }` in the Promela twin
(`-DCOMPLETES`), under two fairness assumptions that mean the same in both:
  fairness=system   ours `fair system;` (weak fairness of all steps together:
                    no behaviour stops while a step is enabled) against
                    `pan -a` (SPIN does not stutter while a process is enabled)
  fairness=process  ours `fair process P;` for each of the four processes
                    against `pan -a -f` (SPIN's weak fairness, per process)
Both hold: no state repeats in the protocol and every end is `done`. One line
per size and fairness:
  liveness size=M fairness=system ours_s=S spin_s=S ours_states=N spin_states=N ratio=R
The state counts are equal: SPIN's "states, stored" counts each protocol state
once (the never claim of `<> done` has a single state, so its product with the
protocol has no more; the nested search and the fairness copies of `-f` revisit
states, counted as "visited"); ours are the distinct states, each with the steps
the liveness check reads. Times are whole commands, as above; SPIN's pan is
compiled without -DSAFETY, and with `-a` runs its nested depth-first search.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"S": (3, 2), "M": (4, 3), "L": (4, 4)}
VARIANT_PARAM = {"a": None, "b": "PERSISTENT", "c": "KEEP_PROCESSING", "d": "RESPOND_FIRST"}


# the liveness property, and each fairness setting with the pan flags that mean the same
LIVENESS = "liveness migration_completes: eventually done;\n"
FAIRNESS = {"system": ("fair system;\n", ["-a"]),
            "process": ("".join(f"fair process {p};\n" for p in ("Guest", "Frontend", "Backend", "Migration")),
                        ["-a", "-f"])}


def run_ours(npages: int, nreq: int, variant: str, extra: str = "") -> dict:
    """Our whole command on the model, with `extra` declarations added to it."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": tmp}
        out_json = Path(tmp) / "r.json"
        model = ROOT / "models/precopy_backend.qdl"
        if extra:
            model = Path(tmp) / "precopy_live.qdl"
            model.write_text((ROOT / "models/precopy_backend.qdl").read_text() + extra)
        cmd = [sys.executable, str(ROOT / "bench" / "_peak.py"), sys.executable, "-m", "quiesce_check", "check",
               str(model), "--param", f"NPAGES={npages}", "--param",
               f"NREQ={nreq}", "--no-coverage", "--json", str(out_json)]
        if VARIANT_PARAM[variant]:
            cmd += ["--param", f"{VARIANT_PARAM[variant]}=true"]
        start = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
        doc = json.loads(out_json.read_text())
        peak = int(r.stderr.strip().splitlines()[-1].split("=")[1])
    return {"states": doc["stats"]["distinct"], "wall": wall, "search": doc["stats"]["seconds"],
            "peak": peak, "store": doc["stats"]["store_bytes"], "verdict": doc["verdict"],
            "trail": doc["trace"]["length"] if doc["trace"] else 0, "backend": doc["backend"]}


def run_spin(npages: int, nreq: int, variant: str) -> dict:
    env = dict(os.environ)
    if variant != "a":
        env["MODE"] = "bfs"
    start = time.perf_counter()
    r = subprocess.run([str(ROOT / "bench/run_spin.sh"), variant, str(npages), str(nreq)],
                       capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"run_spin.sh failed: {r.stderr.strip()}")
    kv = dict(item.split("=", 1) for item in r.stdout.split())
    return {"states": int(kv["states"]), "wall": wall, "search": float(kv["pan_s"]),
            "peak": float(kv["memory_mb"]) * 2**20, "verdict": kv["verdict"], "trail": int(kv["trail_steps"])}


def run_spin_liveness(npages: int, nreq: int, flags: list[str]) -> dict:
    """`spin -a -DCOMPLETES`, the C compile and `pan` with `flags` (-a, -f), as a whole command."""
    hashw = 27 if npages * nreq > 12 else 24   # as bench/run_spin.sh sizes pan's table
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "bench/quiesce.pml", tmp)
        start = time.perf_counter()
        for cmd in (["spin", "-a", "-DCOMPLETES", f"-DNPAGES={npages}", f"-DNREQ={nreq}", "quiesce.pml"],
                    ["gcc", "-O2", "-DMEMLIM=20000", "-o", "pan", "pan.c"]):
            r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit(f"{cmd[0]} failed: {(r.stdout + r.stderr).strip()[:300]}")
        compiled = time.perf_counter()
        out = subprocess.run(["./pan", *flags, f"-w{hashw}", "-m100000"], cwd=tmp, capture_output=True,
                             text=True).stdout
        end = time.perf_counter()
    stored = re.search(r"(\d+) states, stored", out)
    errors = re.search(r"errors: (\d+)", out)
    if stored is None or errors is None:
        raise SystemExit(f"pan said: {out.strip()[:300]}")
    return {"states": int(stored.group(1)), "wall": end - start, "search": end - compiled,
            "verdict": "holds" if errors.group(1) == "0" else "violated"}


def liveness(sizes: list[str], reps: int) -> list[str]:
    """The liveness lines: each size and fairness setting, ours against SPIN."""
    lines = []
    print(f"\n{'size':4} {'fairness':8} {'ours states':>12} {'SPIN states':>12} {'ours s':>7} {'SPIN s':>7} "
          f"{'ours MB':>8} {'ratio':>6}  verdicts")
    for size in sizes:
        npages, nreq = SIZES[size]
        for fairness, (decls, flags) in FAIRNESS.items():
            ours_runs = [run_ours(npages, nreq, "a", LIVENESS + decls) for _ in range(reps)]
            spin_runs = [run_spin_liveness(npages, nreq, flags) for _ in range(reps)]
            o = ours_runs[0] | {k: statistics.median(r[k] for r in ours_runs) for k in ("wall", "peak")}
            s = spin_runs[0] | {"wall": statistics.median(r["wall"] for r in spin_runs)}
            ratio = o["wall"] / s["wall"]
            agree = "states equal" if o["states"] == s["states"] else "STATES DIFFER"
            print(f"{size:4} {fairness:8} {o['states']:>12,} {s['states']:>12,} {o['wall']:>7.2f} {s['wall']:>7.2f} "
                  f"{o['peak'] / 2**20:>8.0f} {ratio:>6.2f}  {o['verdict']}/{s['verdict']} (pan {' '.join(flags)}), "
                  f"{agree}")
            lines.append(f"liveness size={size} fairness={fairness} ours_s={o['wall']:.3f} spin_s={s['wall']:.3f} "
                         f"ours_states={o['states']} spin_states={s['states']} ratio={ratio:.3f}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,M,L")
    ap.add_argument("--variants", default="a,b,c,d")
    ap.add_argument("--reps", type=int, default=1, help="repeat each run; medians are reported")
    ap.add_argument("--liveness", default="S,M", help="sizes of the liveness runs (empty: none)")
    args = ap.parse_args()
    missing = [t for t in ("spin", "gcc") if shutil.which(t) is None]
    if missing:
        print(f"missing: {', '.join(missing)} (Debian: apt-get install spin gcc); nothing run", file=sys.stderr)
        return 3
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    live_sizes = [s.strip() for s in args.liveness.split(",") if s.strip()]
    lines, ratios = [], {}
    print(f"{'size':4} {'var':3} {'ours states':>12} {'SPIN states':>12} {'ours s':>7} {'SPIN s':>7} "
          f"{'ours search':>11} {'pan':>7} {'ours st/s':>10} {'pan st/s':>10} {'ours MB':>8} {'SPIN MB':>8} "
          f"{'B/state':>7} {'ratio':>6}  verdicts / trails")
    for size in sizes:
        npages, nreq = SIZES[size]
        for variant in variants:
            ours_runs = [run_ours(npages, nreq, variant) for _ in range(args.reps)]
            spin_runs = [run_spin(npages, nreq, variant) for _ in range(args.reps)]
            o = ours_runs[0] | {k: statistics.median(r[k] for r in ours_runs) for k in ("wall", "search", "peak")}
            s = spin_runs[0] | {k: statistics.median(r[k] for r in spin_runs) for k in ("wall", "search", "peak")}
            ratio = o["wall"] / s["wall"]
            bps = (o["store"] or o["peak"]) / max(1, o["states"])
            agree = "states equal" if o["states"] == s["states"] else "STATES DIFFER"
            if variant != "a":
                agree = f"trail {o['trail']} vs pan -DBFS {s['trail']}" + ("" if o["trail"] == s["trail"] else " DIFFER")
            print(f"{size:4} {variant:3} {o['states']:>12,} {s['states']:>12,} {o['wall']:>7.2f} {s['wall']:>7.2f} "
                  f"{o['search']:>11.2f} {s['search']:>7.2f} {o['states'] / max(o['search'], 1e-9):>10,.0f} "
                  f"{s['states'] / max(s['search'], 1e-9):>10,.0f} {o['peak'] / 2**20:>8.0f} {s['peak'] / 2**20:>8.0f} "
                  f"{bps:>7.1f} {ratio:>6.2f}  {o['verdict']}/{s['verdict']}, {agree}")
            lines.append(f"size={size} variant={variant} ours_states={o['states']} spin_states={s['states']} "
                         f"ours_s={o['wall']:.3f} spin_s={s['wall']:.3f} bytes_per_state={bps:.1f} ratio={ratio:.3f}")
            if variant == "a":
                ratios[size] = ratio
    if live_sizes:
        lines += liveness(live_sizes, args.reps)
    print()
    print("\n".join(lines))
    if ratios:
        print(f"ratio={ratios[sizes[-1]] if sizes[-1] in ratios else statistics.median(ratios.values()):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
