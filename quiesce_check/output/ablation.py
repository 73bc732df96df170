"""An ablation of a hook's obligations (`quiesce-check hook --ablate`) for people and for files.

Takes the `Hook` and its `Ablation` from `hooks`; gives the terminal's table (printed on a
rich `Console`: what breaks without each obligation, the safety properties (and a deadlock or a
failed step) in one column and the liveness properties in the next, the shortest
counterexample, a lasso's with where its cycle starts, and why; the minimal sets), the JSON the
`--json` file holds under `ablation`, and the HTML section the `--html` page shows after the
verdicts (every string escaped). Imports `hooks` (the data), `regress` (how a lasso's length
reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from quiesce_check.hooks import MAX_EXHAUSTIVE, Ablation, Hook, Outcome
from quiesce_check.regress import counterexample_text


def sets_text(sets: Sequence[frozenset[str]], order: Sequence[str]) -> str:
    """`{a, b}; {c}` in the obligations' order, or `none`."""
    return "; ".join("{" + ", ".join(n for n in order if n in s) + "}" for s in sets) if sets else "none"


def ablation_json(ab: Ablation) -> dict[str, Any]:
    def outcome(o: Outcome) -> dict[str, Any]:
        return {"on": sorted(o.on), "statuses": o.statuses, "lengths": o.lengths, "loops": o.loops, "why": o.why,
                "problem": o.problem, "states": o.states, "liveness": sorted(o.live)}
    return {"full": outcome(ab.full), "without": {n: outcome(o) for n, o in ab.without.items()},
            "breaks_without": {n: ab.breaks_without(n) for n in ab.without},
            "minimal_sets": [sorted(s) for s in ab.minimal], "exhaustive": ab.exhaustive,
            "needed": sorted(ab.needed())}


def _without(ab: Ablation, name: str) -> tuple[list[str], str | None]:
    """What breaks without obligation `name` and not with every obligation; and the row's own
    shortest counterexample: of what it newly breaks, else of anything it breaks."""
    o = ab.without[name]
    more = ab.breaks_without(name)
    first = min((p for p in (more or o.lengths) if p in o.lengths), key=lambda p: (o.lengths[p], p), default=None)
    return more, first


def _split(o: Outcome, broken: list[str]) -> tuple[str, str]:
    """What broke, as the two columns say it: safety properties (and a deadlock or a failed step),
    then liveness properties."""
    def live(p: str) -> bool:
        return p.split(" (")[0] in o.live  # `name (incomplete)` names a property too
    return ", ".join(p for p in broken if not live(p)), ", ".join(p for p in broken if live(p))


def _length(o: Outcome, p: str | None) -> str:
    """The shortest counterexample of `p`: `21`, or a lasso's `13 steps, then a cycle of 2 steps`."""
    if p is None:
        return "-"
    return counterexample_text(o.lengths[p], o.loops[p]) if p in o.loops else str(o.lengths[p])


def _nothing(ab: Ablation) -> str:
    """A row that breaks nothing new: the obligation is not needed, unless something breaks anyway."""
    return "nothing more than with every obligation" if not ab.full.keeps_all else "nothing: not needed"


def ablation_html(hook: Hook, ab: Ablation) -> str:
    """The ablation as an HTML section (every string escaped)."""
    names = list(hook.obligations)
    rows = []
    for n in names:
        o = ab.without[n]
        more, first = _without(ab, n)
        safety, live = _split(o, more)
        rows.append(f"<tr><td>{escape(n)}</td><td>{escape(hook.obligations[n])}</td>"
                    f'<td class="{"violated" if safety else "holds"}">{escape(safety or ("-" if live else _nothing(ab)))}</td>'
                    f'<td class="{"violated" if live else "holds"}">{escape(live or "-")}</td>'
                    f"<td>{escape(_length(o, first))}</td><td>{escape(o.why.get(first, '') if first else '')}</td></tr>")
    minimal = sets_text(ab.minimal, names) if ab.exhaustive else "not searched"
    return ('<h2>Ablation: each obligation removed in turn</h2><table id="ablation"><tr><th>without</th>'
            "<th>obligation</th><th>violated</th><th>liveness violated</th><th>shortest</th><th>why</th></tr>"
            + "".join(rows) + "</table>"
            f'<p id="minimal">Minimal sets of obligations that keep every property: {escape(minimal)}</p>')


def render_ablation(out: Console, hook: Hook, ab: Ablation) -> None:
    """The ablation for the terminal: a row per obligation, then the minimal sets."""
    names = list(hook.obligations)
    out.print()
    table = Table(title="Ablation: each obligation removed in turn", title_justify="left", show_edge=False)
    for col in ("without", "then violated", "liveness then violated", "shortest", "why"):
        table.add_column(col, justify="right" if col == "shortest" else "left")
    for n in names:
        o = ab.without[n]
        more, first = _without(ab, n)
        safety, live = _split(o, more)
        what = (Text(safety or "-", style="bold red" if safety else "") if more
                else Text(_nothing(ab), style="yellow"))
        table.add_row(Text(n), what, Text(live or "-", style="bold red" if live else ""), Text(_length(o, first)),
                      Text(o.why.get(first, "") if first else ""))
    out.print(table)
    if not ab.full.keeps_all:
        first = min(ab.full.lengths, key=lambda p: (ab.full.lengths[p], p), default=None)
        out.print(Text(f"With every obligation, {', '.join(ab.full.broken())} still fail"
                       + (f" ({counterexample_text(ab.full.lengths[first], ab.full.loops.get(first))}): "
                          f"{ab.full.why.get(first, '')}" if first else ".")
                       + " The hook needs something it does not list.", style="bold red"), soft_wrap=True)
    if not ab.exhaustive:
        out.print(Text(f"{len(names)} obligations: more than {MAX_EXHAUSTIVE}, so the minimal sets were not "
                       "searched"), soft_wrap=True)
        return
    out.print(Text(f"Minimal sets of obligations that keep every property: {sets_text(ab.minimal, names)}",
                   style="bold"), soft_wrap=True)
    if ab.minimal:
        spare = [n for n in names if n not in ab.needed()]
        out.print(Text("Not needed: " + ", ".join(spare) if spare else "Every obligation is needed."),
                  soft_wrap=True)
