#!/usr/bin/env python3
"""The Xen scenario models at sizes larger than the regression manifest's.

    python bench/xen_models.py [--only NAME,...] [--python]

Each run is a whole command, `quiesce-check check MODEL --continue --json`,
with an empty compiler cache (so generating and compiling the C search is
included). Prints a table (distinct states, verdicts, wall and search
seconds, states per second, peak memory, bytes per stored state), then one
line per run:
  run=NAME states=N verdict=V wall_s=S search_s=S states_per_s=R peak_mb=M bytes_per_state=B
The verdicts are those of the same scenarios in specs/regress.toml: a larger
size must not change them (a change is printed as DIFFERS and the exit code
is 1).
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

# name, model, parameters, the verdict of each property expected (as at the manifest's size)
RUNS: list[tuple[str, str, dict[str, str], dict[str, str]]] = [
    ("S1-4pages", "s1_guest_only_writes.qdl", {"PAGES": "4", "WRITES": "4"},
     {"image_consistent": "holds", "no_torn_page": "holds", "quiescent_after_suspend": "holds"}),
    ("S6a-2passes", "s6_torn_send_during_backend_write.qdl", {"LIVE_PASSES": "2"},
     {"no_torn_page": "violated", "no_visible_torn_response": "holds"}),
    ("S6-anyorder-2passes", "s6_torn_send_during_backend_write.qdl", {"LIVE_PASSES": "2", "COPY_ORDER": "AnyOrder"},
     {"no_torn_page": "violated", "no_visible_torn_response": "violated"}),
    ("S9-3req-2passes", "s9_blkfront_recover.qdl", {"NREQS": "3", "LIVE_PASSES": "2"},
     {"no_lost_completion": "holds", "no_duplicate_execution": "holds", "image_consistent": "violated"}),
    ("S15-3req", "s15_quiesce_handshake.qdl", {"NREQS": "3"},
     {"image_consistent": "holds", "no_torn_page": "holds", "quiescent_after_suspend": "holds",
      "no_lost_completion": "holds"}),
    ("S15-2req-persistent", "s15_quiesce_handshake.qdl", {"NREQS": "2", "PERSISTENT": "true"},
     {"image_consistent": "holds", "no_torn_page": "holds", "quiescent_after_suspend": "holds",
      "no_lost_completion": "holds"}),
    ("v2-3req", "v2_blkfront_blkback.qdl", {"NREQS": "3"},
     {"image_consistent": "violated", "no_lost_completion": "holds", "no_duplicate_execution": "holds"}),
]


def run(model: str, params: dict[str, str], props: list[str], backend: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": tmp}
        out_json = Path(tmp) / "r.json"
        cmd = [sys.executable, str(ROOT / "bench" / "_peak.py"), sys.executable, "-m", "quiesce_check", "check",
               str(ROOT / "models" / model), "--continue", "--no-coverage", "--backend", backend,
               "--json", str(out_json)]
        for k, v in params.items():
            cmd += ["--param", f"{k}={v}"]
        for p in props:
            cmd += ["--property", p]
        start = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
        doc = json.loads(out_json.read_text())
        peak = int(r.stderr.strip().splitlines()[-1].split("=")[1])
    verdicts = {p["name"]: p["status"] for p in doc["properties"] if p["kind"] in ("invariant", "final")}
    return {"states": doc["stats"]["distinct"], "wall": wall, "search": doc["stats"]["seconds"],
            "peak": peak, "store": doc["stats"]["store_bytes"], "verdict": doc["verdict"], "props": verdicts,
            "backend": doc["backend"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated run names")
    ap.add_argument("--python", action="store_true", help="run the searches in Python, not in generated C")
    args = ap.parse_args()
    chosen = [r for r in RUNS if not args.only or r[0] in args.only.split(",")]
    backend = "python" if args.python else "native"
    lines = []
    differs = 0
    print(f"{'run':22} {'states':>11} {'wall s':>7} {'search s':>8} {'states/s':>11} {'peak MB':>8} "
          f"{'B/state':>8}  verdicts")
    for name, model, params, expect in chosen:
        r = run(model, params, list(expect), backend)
        got = {p: r["props"].get(p, "?") for p in expect}
        ok = got == expect
        differs += not ok
        rate = r["states"] / r["search"] if r["search"] else 0.0
        per_state = (r["store"] / r["states"]) if r["store"] and r["states"] else float("nan")
        shown = ", ".join(f"{p} {v}" for p, v in got.items())
        print(f"{name:22} {r['states']:>11,} {r['wall']:>7.2f} {r['search']:>8.2f} {rate:>11,.0f} "
              f"{r['peak'] / 2**20:>8.1f} {per_state:>8.1f}  {shown}{'' if ok else '  DIFFERS'}")
        lines.append(f"run={name} states={r['states']} verdict={r['verdict'].replace(' ', '_')} wall_s={r['wall']:.2f} "
                     f"search_s={r['search']:.2f} states_per_s={rate:.0f} peak_mb={r['peak'] / 2**20:.1f} "
                     f"bytes_per_state={per_state:.1f}")
    print()
    print("\n".join(lines))
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
