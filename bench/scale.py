#!/usr/bin/env python3
"""How the breadth-first search scales: workers, a Ray cluster, fingerprints.

    python bench/scale.py [--sizes M,L] [--reps 1] [--workers 1,2] [--no-cluster]
                          [--no-fingerprint] [--no-s15] [--s1-big]

Each run is a whole `quiesce-check check` command (the compiler cache warmed
first, so compiling is not timed), on the pre-copy model (models/precopy_backend.qdl)
at sizes M (NPAGES 4, NREQ 3) and L (4, 4), and on S15 with three requests and
pages copied in any order (models/s15_quiesce_handshake.qdl, NREQS=3,
COPY_ORDER=AnyOrder, every property at once with --continue). One line per run:

  scale model=NAME size=M|L|- workers=N store=exact|fingerprint cluster=none|local-2-nodes
        states=... seconds=... speedup=... bytes_per_state=... wall=... peak_mb=...

`seconds` is the search's own time (the run's JSON `stats.seconds`, the median
of --reps runs); `speedup` is that of workers=1, store=exact, cluster=none on the
same model and size in this same run, divided by this one's; `bytes_per_state`
is the memory the visited states take (the tables, `stats.store_bytes`) per
distinct state; `wall` the whole command; `peak_mb` the command's peak resident
memory (for a cluster run: the driver's only, the workers are Ray's processes).

`cluster=local-2-nodes` starts a Ray cluster of two nodes on this machine
(`ray.cluster_utils.Cluster`, bound to 127.0.0.1, one CPU each) and points
`--cluster` at it, with two workers: what the object store and Ray's calls
cost against threads of one process. `--s1-big` adds the large fingerprint
run: S1 at PAGES=5 WORDS=3 WRITES=5 with --store fingerprint (an hour or more).
Every run's counts must equal the baseline's: a difference stops the bench.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"M": {"NPAGES": "4", "NREQ": "3"}, "L": {"NPAGES": "4", "NREQ": "4"}}
S15 = ("s15-3req-anyorder", "s15_quiesce_handshake.qdl", {"NREQS": "3", "COPY_ORDER": "AnyOrder"})
S1_BIG = ("s1-5pages", "s1_guest_only_writes.qdl", {"PAGES": "5", "WORDS": "3", "WRITES": "5"})


def run(model: str, params: dict[str, str], extra: list[str], env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out_json = Path(tmp) / "r.json"
        cmd = [sys.executable, str(ROOT / "bench" / "_peak.py"), sys.executable, "-m", "quiesce_check", "check",
               str(ROOT / "models" / model), "--continue", "--no-coverage", "--json", str(out_json), *extra]
        for k, v in params.items():
            cmd += ["--param", f"{k}={v}"]
        start = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
        if not out_json.exists():
            raise SystemExit(f"{' '.join(cmd)} wrote no report (exit {r.returncode}): {r.stderr.strip()[-500:]}")
        doc = json.loads(out_json.read_text())
    peak = int(r.stderr.strip().splitlines()[-1].split("=")[1])
    stats = doc["stats"]
    return {"states": stats["distinct"], "generated": stats["generated"], "seconds": stats["seconds"],
            "store": stats.get("store_bytes") or 0, "wall": wall, "peak": peak, "verdict": doc["verdict"]}


def median_run(model: str, params: dict[str, str], extra: list[str], env: dict[str, str], reps: int) -> dict:
    runs = [run(model, params, extra, env) for _ in range(reps)]
    return runs[0] | {k: statistics.median(r[k] for r in runs) for k in ("seconds", "wall", "peak")}


class LocalCluster:
    """Two Ray nodes on this machine, on loopback, for the runs with `cluster=local-2-nodes`."""

    def __enter__(self) -> str:
        import ray
        import ray._private.ray_constants as ray_constants
        from ray.cluster_utils import Cluster
        ray_constants.ENABLE_RAY_CLUSTER = False   # Ray's switch for addresses on loopback
        args = {"node_ip_address": "127.0.0.1", "include_dashboard": False, "num_cpus": 1}
        self.cluster = Cluster(initialize_head=True, head_node_args=args)
        self.cluster.add_node(**args)
        ray.init(address=self.cluster.address, _node_ip_address="127.0.0.1", include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
        self.cluster.wait_for_nodes()
        self.ray = ray
        return str(self.cluster.address)

    def __exit__(self, *exc: object) -> None:
        self.ray.shutdown()
        self.cluster.shutdown()


def line(name: str, size: str, workers: int, store: str, cluster: str, r: dict, base: dict) -> str:
    speedup = base["seconds"] / r["seconds"] if r["seconds"] else 0.0
    per = r["store"] / r["states"] if r["states"] else 0.0
    return (f"scale model={name} size={size} workers={workers} store={store} cluster={cluster} "
            f"states={r['states']} seconds={r['seconds']:.3f} speedup={speedup:.2f} bytes_per_state={per:.1f} "
            f"wall={r['wall']:.2f} peak_mb={r['peak'] / 2**20:.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="M,L")
    ap.add_argument("--workers", default="1,2", help="worker counts to run (1 is always run: the baseline)")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--no-cluster", action="store_true")
    ap.add_argument("--no-fingerprint", action="store_true")
    ap.add_argument("--no-s15", action="store_true")
    ap.add_argument("--s1-big", action="store_true")
    args = ap.parse_args()
    counts = sorted({1, *(int(w) for w in args.workers.split(","))})
    subjects = [("precopy", "precopy_backend.qdl", SIZES[s], s) for s in args.sizes.split(",") if s]
    if not args.no_s15:
        subjects.append((S15[0], S15[1], S15[2], "-"))
    lines = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache, "PYTHONPATH": str(ROOT)}
        cluster_ctx = None if args.no_cluster else LocalCluster()
        address = cluster_ctx.__enter__() if cluster_ctx is not None else None
        try:
            for name, model, params, size in subjects:
                # warm the compiler cache: each search has a program of its own
                for warm in ([], ["--workers", "2"], ["--store", "fingerprint"]):
                    run(model, params, ["--max-states", "1", *warm], env)
                base = median_run(model, params, [], env, args.reps)
                for w in counts:
                    r = base if w == 1 else median_run(model, params, ["--workers", str(w)], env, args.reps)
                    check(base, r, f"{name} {size} workers={w}")
                    lines.append(line(name, size, w, "exact", "none", r, base))
                    print(lines[-1], flush=True)
                if not args.no_fingerprint:
                    r = median_run(model, params, ["--store", "fingerprint"], env, args.reps)
                    check(base, r, f"{name} {size} fingerprint")
                    lines.append(line(name, size, 1, "fingerprint", "none", r, base))
                    print(lines[-1], flush=True)
                if address is not None:
                    r = median_run(model, params, ["--cluster", address, "--workers", "2"], env, args.reps)
                    check(base, r, f"{name} {size} cluster")
                    lines.append(line(name, size, 2, "exact", "local-2-nodes", r, base))
                    print(lines[-1], flush=True)
            if args.s1_big:
                name, model, params = S1_BIG
                r = run(model, params, ["--store", "fingerprint"], env)
                lines.append(line(name, "-", 1, "fingerprint", "none", r, r))
                print(lines[-1], flush=True)
        finally:
            if cluster_ctx is not None:
                cluster_ctx.__exit__(None, None, None)
    return 0


def check(base: dict, r: dict, what: str) -> None:
    if (r["states"], r["generated"], r["verdict"]) != (base["states"], base["generated"], base["verdict"]):
        raise SystemExit(f"{what}: {r['states']} states, {r['generated']} generated, {r['verdict']}; one worker: "
                         f"{base['states']}, {base['generated']}, {base['verdict']}")


if __name__ == "__main__":
    sys.exit(main())
