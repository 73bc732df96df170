#!/usr/bin/env python3
"""`hook --ablate` of a seven-obligation hook: how long it takes, and what it leaves in the cache.

    python bench/ablation.py [--reps N] [--before REV] [--jobs N]

The run is the whole command,

    quiesce-check hook specs/hooks/s15_handshake_split.qdl --model models/v2_blkfront_blkback.qdl
        --param NREQS=1 --param PERSISTENT=true --ablate --no-coverage --json FILE

(seven obligations: 7 removals, then up to 127 subsets searched for the minimal sets; one search
of that model takes a few hundredths of a second). Each repetition runs it twice in a fresh
compiler cache: `cold` (the cache empty, so generating and compiling the C is included) and
`warm` (the same command again, the cache kept). `--before REV` also runs the command, once and
cold, with the package as it was at git revision REV (`git archive`; nothing in the working tree
changes): e1097c1, before the ablation compiled the model once, built and compiled every subset
on its own. Prints one line per run:

  run=cold wall_s=S libraries=L cache_mb=M minimal=[[...]]

and checks that every run found the same ablation (its JSON), exiting 1 if not.
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
COMMAND = ["hook", str(ROOT / "specs" / "hooks" / "s15_handshake_split.qdl"),
           "--model", str(ROOT / "models" / "v2_blkfront_blkback.qdl"),
           "--param", "NREQS=1", "--param", "PERSISTENT=true", "--ablate", "--no-coverage"]


def run(cache: str, name: str, jobs: int | None, package: Path = ROOT) -> dict:
    out_json = Path(cache) / f"{name}.json"
    env = {**os.environ, "XDG_CACHE_HOME": cache, "PYTHONPATH": str(package)}
    cmd = [sys.executable, "-m", "quiesce_check", *COMMAND, "--json", str(out_json)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=package)
    wall = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"{name}: exit {r.returncode}\n{r.stderr}")
    doc = json.loads(out_json.read_text())
    folder = Path(cache) / "quiesce-check"
    return {"name": name, "wall": wall, "ablation": doc["ablation"], "libraries": len(list(folder.glob("qc_*.so"))),
            "cache_mb": sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / (1024 * 1024)}


def package_at(rev: str, into: Path) -> Path:
    """The package as it was at `rev`, extracted into `into`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "quiesce_check"], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def line(r: dict) -> str:
    minimal = r["ablation"].get("minimal_sets")
    return (f"run={r['name']} wall_s={r['wall']:.2f} libraries={r['libraries']} cache_mb={r['cache_mb']:.1f} "
            f"minimal={json.dumps(minimal, separators=(',', ':'))}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=1, help="repetitions of the cold and warm runs")
    ap.add_argument("--before", metavar="REV", help="also run the package as it was at this git revision")
    ap.add_argument("--jobs", type=int, help="passed to hook --jobs")
    args = ap.parse_args()
    results = []
    for _ in range(args.reps):
        with tempfile.TemporaryDirectory() as cache:
            results.append(run(cache, "cold", args.jobs))
            results.append(run(cache, "warm", args.jobs))
    if args.before:
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as old:
            results.append(run(cache, "before", args.jobs, package_at(args.before, Path(old))))
    for r in results:
        print(line(r))
    same = all(r["ablation"] == results[0]["ablation"] for r in results)
    print(f"same_ablation={'yes' if same else 'DIFFERS'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
