#!/usr/bin/env python3
"""Symmetry reduction: the same model searched with and without it.

    python bench/symmetry.py [--only NAME,...] [--python]

`models/precopy_symmetric.qdl` declares its pages and its backends
`symmetric`; each run is a whole command, `quiesce-check check MODEL
--continue --json` (with an empty compiler cache, so generating and compiling
the C search is included in the wall time), once as it is and once with
`--no-symmetry`. Prints a table (distinct states, states generated, verdict,
the longest counterexample, search and wall seconds) and one line per run:
  run=NAME symmetry=on|off states=N generated=G verdict=V length=L search_s=S wall_s=W
Verdicts and counterexample lengths must be equal with and without symmetry
(a difference is printed as DIFFERS and the exit code is 1).
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
MODEL = ROOT / "models" / "precopy_symmetric.qdl"

# name, parameters
RUNS: list[tuple[str, dict[str, str]]] = [
    ("4-pages-3-backends", {"NPAGES": "4", "NBACKENDS": "3", "WRITES": "2"}),
    ("5-pages-2-backends", {"NPAGES": "5", "NBACKENDS": "2", "WRITES": "2"}),
    ("5-pages-3-backends", {"NPAGES": "5", "NBACKENDS": "3", "WRITES": "2"}),
    ("4-pages-3-backends-persistent", {"NPAGES": "4", "NBACKENDS": "3", "WRITES": "2", "PERSISTENT": "true"}),
]


def run(params: dict[str, str], symmetry: bool, backend: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": tmp}
        out_json = Path(tmp) / "r.json"
        cmd = [sys.executable, "-m", "quiesce_check", "check", str(MODEL), "--continue", "--no-coverage",
               "--backend", backend, "--json", str(out_json)]
        if not symmetry:
            cmd.append("--no-symmetry")
        for k, v in params.items():
            cmd += ["--param", f"{k}={v}"]
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        doc = json.loads(out_json.read_text())
    lengths = [t["length"] for t in doc.get("traces", {}).values()] if isinstance(doc.get("traces"), dict) \
        else []
    return {"states": doc["stats"]["distinct"], "generated": doc["stats"]["generated"], "verdict": doc["verdict"],
            "properties": {p["name"]: p["status"] for p in doc["properties"]},
            "length": max(lengths) if lengths else None, "search_s": doc["stats"]["seconds"], "wall_s": wall}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated run names")
    ap.add_argument("--python", action="store_true", help="run the searches in Python instead of generated C")
    args = ap.parse_args()
    chosen = [r for r in RUNS if not args.only or r[0] in args.only.split(",")]
    backend = "python" if args.python else "native"
    lines, bad = [], False
    print(f"{'run':32} {'symmetry':>8} {'distinct':>12} {'generated':>12} {'verdict':>10} {'length':>6} "
          f"{'search s':>9} {'wall s':>8}")
    for name, params in chosen:
        results = {on: run(params, on, backend) for on in (True, False)}
        same = (results[True]["properties"] == results[False]["properties"]
                and results[True]["length"] == results[False]["length"])
        bad |= not same
        for on, r in results.items():
            print(f"{name:32} {'on' if on else 'off':>8} {r['states']:>12,} {r['generated']:>12,} {r['verdict']:>10} "
                  f"{r['length'] if r['length'] is not None else '-':>6} {r['search_s']:>9.2f} {r['wall_s']:>8.2f}")
            lines.append(f"run={name} symmetry={'on' if on else 'off'} states={r['states']} "
                         f"generated={r['generated']} verdict={r['verdict'].replace(' ', '_')} "
                         f"length={r['length'] if r['length'] is not None else '-'} search_s={r['search_s']:.3f} "
                         f"wall_s={r['wall_s']:.3f}")
        ratio = results[False]["states"] / max(1, results[True]["states"])
        print(f"{'':32} {'':>8} {'x' + format(ratio, '.1f'):>12} fewer states"
              + ("" if same else "   DIFFERS: verdicts or lengths"))
    print()
    print("\n".join(lines))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
