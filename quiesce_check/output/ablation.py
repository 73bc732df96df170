"""An ablation of a hook's obligations (`quiesce-check hook --ablate`) for people and for files.

Takes the `Hook` and its `Ablation` from `hooks`, and the `Runs` behind its rows from
`ablation_runs` when they were kept; gives the terminal's table (printed on a rich `Console`:
what breaks without each obligation, the safety properties (and a deadlock or a failed step) in
one column and the liveness properties in the next, the shortest counterexample, a lasso's with
where its cycle starts, and the whole explanation of why; the minimal sets), the JSON the
`--json` file holds under `ablation` (each `why` whole), and the HTML the `--html` page shows:
the table after the verdicts, each row linked to its own counterexample, drawn after the page's
own (every string escaped). A row that breaks nothing more than every obligation does is not
shown as passing when every obligation fails already. Without kept runs, a row's why is its
`Outcome`'s first sentence and it links to nothing. Imports `ablation_runs` (the runs), `hooks`
(the data), `output.html` (a counterexample's section), `output.terminal`, `regress` (how a
lasso's length reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from quiesce_check.ablation_runs import Run, Runs
from quiesce_check.hooks import MAX_EXHAUSTIVE, Ablation, Hook, Outcome
from quiesce_check.output.html import counterexample_section
from quiesce_check.output.terminal import length_text
from quiesce_check.regress import counterexample_text


def sets_text(sets: Sequence[frozenset[str]], order: Sequence[str]) -> str:
    """`{a, b}; {c}` in the obligations' order, or `none`."""
    return "; ".join("{" + ", ".join(n for n in order if n in s) + "}" for s in sets) if sets else "none"


def _why(o: Outcome, run: Run | None, key: str | None) -> str:
    """The whole explanation of `key`'s counterexample in `o`'s run: the kept run's, else the
    `Outcome`'s first sentence."""
    if key is None:
        return ""
    whole = run.why(key) if run is not None else None
    return whole or o.why.get(key, "")


def ablation_json(ab: Ablation, runs: Runs | None = None) -> dict[str, Any]:
    def outcome(o: Outcome, run: Run | None) -> dict[str, Any]:
        return {"on": sorted(o.on), "statuses": o.statuses, "lengths": o.lengths, "loops": o.loops,
                "why": {p: _why(o, run, p) for p in o.why}, "problem": o.problem, "states": o.states,
                "liveness": sorted(o.live)}
    without = runs.without if runs is not None else {}
    return {"full": outcome(ab.full, runs.full if runs is not None else None),
            "without": {n: outcome(o, without.get(n)) for n, o in ab.without.items()},
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


def _still_failing(ab: Ablation, runs: Runs | None) -> str | None:
    """What fails with every obligation, and why (its shortest counterexample's whole
    explanation); None when every property holds."""
    if ab.full.keeps_all:
        return None
    first = min(ab.full.lengths, key=lambda p: (ab.full.lengths[p], p), default=None)
    return (f"With every obligation, {', '.join(ab.full.broken())} still fail"
            + (f" ({counterexample_text(ab.full.lengths[first], ab.full.loops.get(first))}): "
               f"{_why(ab.full, runs.full if runs is not None else None, first)}" if first else ".")
            + " The hook needs something it does not list.")


def _shown(runs: Runs | None, name: str, first: str | None) -> Run | None:
    """The kept run of the row without `name`, if it holds the row's counterexample."""
    run = runs.without.get(name) if runs is not None else None
    return run if run is not None and first is not None and run.trace(first) is not None else None


def _html_row(hook: Hook, ab: Ablation, runs: Runs | None, i: int, n: str) -> str:
    o = ab.without[n]
    more, first = _without(ab, n)
    safety, live = _split(o, more)
    run = _shown(runs, n, first)
    # breaking nothing more than every obligation passes only if every obligation passes
    quiet = "holds" if ab.full.keeps_all else "unchanged"
    what = (f'<td class="violated">{escape(safety)}</td>' if safety else "<td>-</td>" if live
            else f'<td class="{quiet}">{escape(_nothing(ab))}</td>')
    length = escape(_length(o, first))
    if run is not None:
        length = f'<a href="#ablation-cex-{i}">{length}</a>'
    live_cell = f'<td class="violated">{escape(live)}</td>' if live else "<td>-</td>"
    return (f'<tr id="ablation-{i}"><td>{escape(n)}</td><td>{escape(hook.obligations[n])}</td>{what}{live_cell}'
            f"<td>{length}</td><td>{escape(_why(o, run, first))}</td></tr>")


def ablation_html(hook: Hook, ab: Ablation, runs: Runs | None = None) -> str:
    """The ablation as an HTML section (every string escaped): each row's shortest counterexample
    links to its drawing (`ablation_counterexamples`)."""
    names = list(hook.obligations)
    rows = [_html_row(hook, ab, runs, i, n) for i, n in enumerate(names)]
    minimal = sets_text(ab.minimal, names) if ab.exhaustive else "not searched"
    failing = _still_failing(ab, runs)
    return ('<h2>Ablation: each obligation removed in turn</h2><div class="scroll"><table id="ablation"><tr>'
            "<th>without</th><th>obligation</th><th>violated</th><th>liveness violated</th><th>shortest</th>"
            "<th>why</th></tr>" + "".join(rows) + "</table></div>"
            + (f'<p class="why" id="ablation-full">{escape(failing)}</p>' if failing else "")
            + f'<p id="minimal">Minimal sets of obligations that keep every property: {escape(minimal)}</p>')


def ablation_counterexamples(hook: Hook, ab: Ablation, runs: Runs | None, model_path: str) -> list[str]:
    """Each row's own counterexample, drawn as the page draws its own, with the id its row links to."""
    out = []
    for i, n in enumerate(hook.obligations):
        _, first = _without(ab, n)
        run = _shown(runs, n, first)
        if run is None or first is None:
            continue
        trace = run.trace(first)
        assert trace is not None  # `_shown` keeps only a run that has it
        heading = f"Without {n}: {first} ({length_text(trace)})"
        out.append(counterexample_section(run.info, trace, model_path, heading, f"ablation-cex-{i}",
                                          f"ablation-timeline-{i}", run.explain, run.annotate))
        out.append(f'<p class="sub"><a href="#ablation-{i}">back to the ablation</a></p>')
    return out


def render_ablation(out: Console, hook: Hook, ab: Ablation, runs: Runs | None = None) -> None:
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
                      Text(_why(o, runs.without.get(n) if runs is not None else None, first)))
    out.print(table)
    failing = _still_failing(ab, runs)
    if failing is not None:
        out.print(Text(failing, style="bold red"), soft_wrap=True)
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
