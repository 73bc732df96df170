"""Integers as bit-vectors or as Z3 integers: bmc and induction on the repository's models.

Runs each symbolic engine on each model (and the precopy variants) in both
encodings, and prints one line per run: verdict, counterexample length, solver
queries, seconds in Z3 and in all, and the ratio of the integer encoding's
time to the bit-vector encoding's. The verdicts of the two must agree (the
script says so if they do not).

    .venv/bin/python bench/z3_encodings.py [--depth 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quiesce_check.build import build_file  # noqa: E402
from quiesce_check.compile.deadline import Deadline  # noqa: E402
from quiesce_check.engines.bmc import bmc  # noqa: E402
from quiesce_check.engines.induction import induction  # noqa: E402
from quiesce_check.engines.result import Options  # noqa: E402

PRECOPY = ROOT / "models" / "precopy_backend.qdl"
CASES = [(p, {}) for p in sorted([*ROOT.glob("models/*.qdl"), *ROOT.glob("examples/*.qdl")])]
CASES += [(PRECOPY, {v: True}) for v in ("PERSISTENT", "KEEP_PROCESSING", "RESPOND_FIRST")]
CASES += [(PRECOPY, {"NPAGES": 3, "PERSISTENT": True, "NREQ": 2})]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs")
    ap.add_argument("--time-limit", type=float, default=300)
    args = ap.parse_args()
    totals = {"bv": 0.0, "int": 0.0}
    print(f"{'model':48} {'engine':9} {'enc':3} {'verdict':17} {'len':>3} {'queries':>7} "
          f"{'z3 s':>7} {'all s':>7} {'int/bv':>6}")
    for path, params in CASES:
        built = build_file(str(path), params)
        name = path.name + "".join(f" {k}={v}" for k, v in params.items())
        for engine in (bmc, induction):
            seen: dict[str, tuple[str, float]] = {}
            for enc in ("bv", "int"):
                best = None
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    r = engine(built.model, Options(depth=args.depth, encoding=enc, deadline=Deadline(args.time_limit)))
                    took = time.perf_counter() - start
                    if best is None or took < best[0]:
                        best = (took, r)
                assert best is not None
                took, r = best
                sym = r.symbolic
                assert sym is not None
                totals[enc] += took
                ratio = f"{took / seen['bv'][1]:6.2f}" if enc == "int" and seen["bv"][1] > 0 else ""
                length = len(r.trace.steps) if r.trace else "-"
                print(f"{name[:48]:48} {r.engine:9} {enc:3} {r.verdict.value:17} {length:>3} {sym.queries:>7} "
                      f"{sym.solver_seconds:7.2f} {took:7.2f} {ratio:>6}", flush=True)
                seen[enc] = (r.verdict.value, took)
            if seen["bv"][0] != seen["int"][0]:
                print(f"  the encodings disagree on {name}: {seen}")
    print(f"total: bit-vectors {totals['bv']:.1f} s, integers {totals['int']:.1f} s, "
          f"ratio {totals['int'] / totals['bv']:.2f}")


if __name__ == "__main__":
    main()
