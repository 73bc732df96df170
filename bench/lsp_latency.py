"""How long the language server takes to check a document once typing pauses, and to find a
definition: `analyse` (parse, expand its `use`s, check) and `definition` on every shipped model,
timed in this process (the server adds `lsp.DEBOUNCE` and the protocol's few milliseconds).

    python bench/lsp_latency.py [--reps N]

Prints one line per model: its lines; the median seconds to check it with every used file parsed
anew (the first check), and with them kept parsed as the server keeps them (`lsp.UseCache`: every
check after the first); the median seconds for a definition of its last name. Then the slowest
of each.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quiesce_check.lsp import UseCache, analyse, definition  # noqa: E402


def timed(reps: int, run, *args) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args()
    models = sorted([*ROOT.glob("models/*.qdl"), *ROOT.glob("models/vhost/*.qdl"), *ROOT.glob("examples/*.qdl")])
    analyse("var x: bool = false; process P { x := true; }", "warm.qdl")  # the grammar, loaded once
    print(f"{'model':58} {'lines':>5} {'first s':>8} {'again s':>8} {'definition s':>12}")
    worst = (0.0, 0.0, 0.0)
    uses = UseCache()
    for path in models:
        text = path.read_text()
        first_s = timed(args.reps, analyse, text, str(path))
        result = analyse(text, str(path), uses)
        check_s = timed(args.reps, analyse, text, str(path), uses)
        # a name in the body of the last process (or the model's last line)
        lines = text.split("\n")
        spots = [(k + 1, m.start() + 1) for k, line in enumerate(lines)
                 for m in re.finditer(r"\b[a-z_]\w*\b", line) if not line.lstrip().startswith("//")]
        line, col = spots[-1] if spots else (1, 1)
        def_s = timed(args.reps, definition, result, text, line, col)
        worst = (max(worst[0], first_s), max(worst[1], check_s), max(worst[2], def_s))
        print(f"{str(path.relative_to(ROOT)):58} {len(lines):5} {first_s:8.3f} {check_s:8.3f} {def_s:12.4f}")
    print(f"slowest: first check {worst[0]:.3f} s, check again {worst[1]:.3f} s, definition {worst[2]:.4f} s")


if __name__ == "__main__":
    main()
