"""`--store exact` against `--store fingerprint` on the pre-copy model: states, seconds, bytes a
state of the visited set and peak resident memory, one line per run:

    scale model=precopy size=L workers=1 store=fingerprint cluster=none states=... seconds=...
    speedup=... bytes_per_state=... peak_bytes=...

(`speedup` against `store=exact` on the same size, measured in the same run; `seconds` the search
alone, from the JSON report; `peak_bytes` the whole process's, C compiler cache warm.)

    python bench/fingerprint_store.py              # size L (NPAGES 4, NREQ 4), as bench/vs_spin.py
    python bench/fingerprint_store.py --sizes M L
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"S": (3, 2), "M": (4, 3), "L": (4, 4)}


def run(size: str, store: str) -> dict[str, float]:
    npages, nreq = SIZES[size]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "out.json"
        cmd = [sys.executable, str(ROOT / "bench" / "_peak.py"), sys.executable, "-m", "quiesce_check", "check",
               str(ROOT / "models" / "precopy_backend.qdl"), "--param", f"NPAGES={npages}", "--param",
               f"NREQ={nreq}", "--store", store, "--no-coverage", "--json", str(report)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        peak = int(proc.stderr.strip().splitlines()[-1].removeprefix("peak_bytes="))
        doc = json.loads(report.read_text())
    stats = doc["stats"]
    return {"states": stats["distinct"], "seconds": stats["seconds"],
            "bytes_per_state": stats["store_bytes"] / stats["distinct"], "peak": peak}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", choices=list(SIZES), default=["L"])
    args = p.parse_args()
    for size in args.sizes:
        base = run(size, "exact")
        for store, r in (("exact", base), ("fingerprint", run(size, "fingerprint"))):
            if r["states"] != base["states"]:
                raise SystemExit(f"size {size}: {store} counted {r['states']:,} states, exact {base['states']:,}")
            print(f"scale model=precopy size={size} workers=1 store={store} cluster=none states={r['states']} "
                  f"seconds={r['seconds']:.2f} speedup={base['seconds'] / r['seconds']:.2f} "
                  f"bytes_per_state={r['bytes_per_state']:.2f} peak_bytes={r['peak']}", flush=True)


if __name__ == "__main__":
    main()
