#!/usr/bin/env python3
"""Proofs by k-induction against exhaustive breadth-first search, on the same model and sizes.

    python bench/induction.py [--only NAME,...] [--time-limit 600] [--memory-limit 12000]

For each run, two whole commands (start-up, parsing and, for bfs, generating and
compiling the C search with an empty compiler cache, included):
  quiesce-check check specs/proofs/PROOF --engine induction     (the model with its lemmas)
  quiesce-check check models/MODEL --time-limit T --memory-limit M   (bfs, the model alone)
and prints, per run: the induction's verdict, seconds and largest k; bfs's
verdict, distinct states, seconds and peak memory, or the limit that stopped it
and the states it had reached by then. Then one machine-readable line per run:
  run=NAME induction=V induction_s=S k=K bfs=V bfs_states=N bfs_s=S bfs_peak_mb=M bfs_limit=L
The induction must prove (verdict holds) at every size; where bfs completes it
must agree. A run where either does not is printed as DIFFERS (exit code 1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

S1 = ("s1_guest_only_writes.qdl", "s1_guest_only_writes.qdl")
S15 = ("s15_quiesce_handshake.qdl", "s15_quiesce_handshake.qdl")

# name, (proof in specs/proofs/, model in models/), parameters
RUNS: list[tuple[str, tuple[str, str], dict[str, str]]] = [
    ("S1", S1, {}),
    ("S1-4pages", S1, {"PAGES": "4", "WORDS": "2", "WRITES": "4"}),
    ("S1-4pages-3words", S1, {"PAGES": "4", "WORDS": "3", "WRITES": "4"}),
    ("S1-5pages-3words", S1, {"PAGES": "5", "WORDS": "3", "WRITES": "5"}),
    ("S15", S15, {}),
    ("S15-persistent", S15, {"PERSISTENT": "true"}),
    ("S15-reusering-persistent", S15, {"RECOVERY": "ReuseRing", "PERSISTENT": "true"}),
    ("S15-anyorder-3passes", S15, {"COPY_ORDER": "AnyOrder", "LIVE_PASSES": "3", "EARLY_STOP": "true"}),
    ("S15-2req", S15, {"NREQS": "2"}),
    ("S15-3req", S15, {"NREQS": "3"}),
    ("S15-3req-anyorder", S15, {"NREQS": "3", "COPY_ORDER": "AnyOrder"}),
    ("S15-3req-anyorder-2passes", S15, {"NREQS": "3", "COPY_ORDER": "AnyOrder", "LIVE_PASSES": "2",
                                        "EARLY_STOP": "true"}),
]


def check(path: Path, params: dict[str, str], extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": tmp}
        out_json = Path(tmp) / "r.json"
        cmd = [sys.executable, str(ROOT / "bench" / "_peak.py"), sys.executable, "-m", "quiesce_check", "check",
               str(path), "--no-coverage", "--json", str(out_json), *extra]
        for k, v in params.items():
            cmd += ["--param", f"{k}={v}"]
        start = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
        if not out_json.exists():
            raise SystemExit(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{r.stderr}")
        doc = json.loads(out_json.read_text())
        peak = int(r.stderr.strip().splitlines()[-1].split("=")[1])
    return {"doc": doc, "wall": wall, "peak": peak}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated run names")
    ap.add_argument("--time-limit", type=float, default=600, help="bfs: seconds (default 600)")
    ap.add_argument("--memory-limit", type=int, default=12000, help="bfs: MB (default 12000)")
    args = ap.parse_args()
    chosen = [r for r in RUNS if not args.only or r[0] in args.only.split(",")]
    lines = []
    differs = 0
    print(f"{'run':26} {'induction':10} {'s':>7} {'k':>2}  {'bfs':10} {'states':>13} {'s':>8} {'peak MB':>8}  stopped by")
    for name, (proof, model), params in chosen:
        ind = check(ROOT / "specs" / "proofs" / proof, params, ["--engine", "induction"])
        bfs = check(ROOT / "models" / model, params, ["--time-limit", str(args.time_limit),
                                                      "--memory-limit", str(args.memory_limit)])
        i_doc, b_doc = ind["doc"], bfs["doc"]
        k = i_doc["symbolic"]["proved_at"]
        limit = b_doc["limit"] or ""
        ok = i_doc["verdict"] == "holds" and (b_doc["verdict"] in ("holds", "incomplete"))
        differs += not ok
        print(f"{name:26} {i_doc['verdict']:10} {ind['wall']:>7.2f} {k if k is not None else '-':>2}  "
              f"{b_doc['verdict']:10} {b_doc['stats']['distinct']:>13,} {bfs['wall']:>8.2f} "
              f"{bfs['peak'] / 2**20:>8.1f}  {limit}{'' if ok else '  DIFFERS'}")
        lines.append(f"run={name} induction={i_doc['verdict']} induction_s={ind['wall']:.2f} k={k} "
                     f"bfs={b_doc['verdict']} bfs_states={b_doc['stats']['distinct']} bfs_s={bfs['wall']:.2f} "
                     f"bfs_peak_mb={bfs['peak'] / 2**20:.1f} bfs_limit={limit.replace(' ', '_') or '-'}")
    print()
    print("\n".join(lines))
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
