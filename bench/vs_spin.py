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
"""

from __future__ import annotations

import argparse
import json
import os
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


def run_ours(npages: int, nreq: int, variant: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": tmp}
        out_json = Path(tmp) / "r.json"
        cmd = [sys.executable, str(ROOT / "bench" / "_peak.py"), sys.executable, "-m", "quiesce_check", "check",
               str(ROOT / "models/precopy_backend.qdl"), "--param", f"NPAGES={npages}", "--param",
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,M,L")
    ap.add_argument("--variants", default="a,b,c,d")
    ap.add_argument("--reps", type=int, default=1, help="repeat each run; medians are reported")
    args = ap.parse_args()
    missing = [t for t in ("spin", "gcc") if shutil.which(t) is None]
    if missing:
        print(f"missing: {', '.join(missing)} (Debian: apt-get install spin gcc); nothing run", file=sys.stderr)
        return 3
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
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
    print()
    print("\n".join(lines))
    if ratios:
        print(f"ratio={ratios[sizes[-1]] if sizes[-1] in ratios else statistics.median(ratios.values()):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
