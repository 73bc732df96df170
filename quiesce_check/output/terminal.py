"""Render a result for the terminal with rich: verdicts, statistics, coverage, the trace.

Takes a `Result`, the model's `ModelInfo` and a rich `Console`; prints. The
counterexample is a table of steps with only the variables that changed; a
model error or failed assertion that stopped the search is said again, with
where and at which step, just above the verdict.
Lines people grep or copy (statistics and the seed, the verdict) are printed
unwrapped; the heading of a counterexample wraps, and tables fit themselves to
the console's width without cutting a value or a file name (`output.trace_table`).
Steps that cannot fire with the model's parameters are listed apart from the
coverage table. Imports `compile.*`, `engines.result`, `trace.steps`,
`trace.timeline` (the type of an explanation), `output.trace_table`, `printable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from quiesce_check.compile.model import ModelInfo
from quiesce_check.engines.result import Result, Status, Verdict, halt_note
from quiesce_check.output.trace_table import Changes, StepCells, Unit, trace_table
from quiesce_check.printable import printable
from quiesce_check.trace.steps import TraceRow, rows
from quiesce_check.trace.timeline import Explain
from quiesce_check.trace.types import Trace


def _t(text: str, style: str = "") -> Text:
    """Text for the terminal: whatever of it came from the model (names, statements, paths,
    messages) with control characters escaped."""
    return Text(printable(text), style=style)


_STATUS_STYLE = {
    Status.HOLDS: "green", Status.REACHED: "green", Status.VIOLATED: "bold red",
    Status.UNREACHED: "yellow", Status.INCOMPLETE: "yellow", Status.VACUOUS: "yellow",
}
_VERDICT_STYLE = {
    Verdict.HOLDS: "bold green", Verdict.VIOLATED: "bold red", Verdict.ASSERTION: "bold red",
    Verdict.DEADLOCK: "bold red", Verdict.MODEL_ERROR: "bold red", Verdict.LIVENESS: "bold red", Verdict.INCOMPLETE: "bold yellow",
    Verdict.VACUOUS: "bold yellow",
}


def render_properties(console: Console, result: Result) -> None:
    table = Table(title="Properties", title_justify="left", show_edge=False)
    # a name or a verdict too wide for its column is folded onto the next line, never cut
    table.add_column("kind", no_wrap=True)
    table.add_column("property", overflow="fold")
    table.add_column("result", overflow="fold")
    details = any(p.detail for p in result.properties)
    if details:
        table.add_column("how", overflow="fold")
    for p in result.properties:
        shown = p.status.value
        trace = result.traces.get(p.name) if p.status is Status.VIOLATED else None
        if trace is not None and (trace.kind == p.kind or (p.kind == "lemma" and trace.kind == "invariant")):
            shown += f" ({length_text(trace)})"
        elif p.status is Status.VACUOUS and not p.detail:
            shown += " (its premise never held)"
        cells = [_t(p.kind), _t(p.name), _t(shown, style=_STATUS_STYLE[p.status])]
        table.add_row(*cells, *([_t(p.detail)] if details else []))
    console.print(table)


def covered_text(info: ModelInfo, result: Result, unused: Mapping[int, str] | None = None) -> str:
    """What a search that stopped early covered: states, depth, and the steps it never fired
    (of those that can fire with these parameters)."""
    unused = unused or {}
    fired = result.stats.fired
    never = [a.label for a in info.actions
             if a.index not in unused and (a.index >= len(fired) or not fired[a.index])]
    usable = len(info.actions) - len(unused)
    text = f"covered: {result.stats.distinct:,} distinct states, to depth {result.stats.depth}; "
    if not never:
        return text + f"every one of the {usable} steps fired"
    shown = ", ".join(never[:6]) + (", ..." if len(never) > 6 else "")
    return text + f"{len(never)} of {usable} steps never fired ({shown})"


def seconds_text(x: float) -> str:
    """Seconds with two figures that mean something: `2.21 s`, `0.004 s`."""
    return f"{x:.3f} s" if x < 0.01 else f"{x:.2f} s"


def render_symbolic_stats(console: Console, result: Result) -> None:
    sym = result.symbolic
    assert sym is not None
    encoding = "bit-vectors" if sym.encoding == "bv" else "integers"
    steps = "1 step" if sym.depth == 1 else f"{sym.depth} steps"
    console.print(_t(
        f"every behaviour of at most {steps} checked; {sym.queries:,} solver queries, "
        f"{sym.solver_seconds:.2f} s in Z3 ({encoding}), {result.stats.elapsed:.2f} s in all"), soft_wrap=True)
    if sym.complete_at is not None:
        console.print(_t(f"complete: no loop-free behaviour is longer than {sym.complete_at} steps, so every "
                           "reachable state was checked"), soft_wrap=True)
    if sym.proved_at is not None:
        guessed = f", with {sym.generated} invariants it guessed and proved" if sym.generated else ""
        console.print(_t(f"k-induction: the properties proved were proved with k <= {sym.proved_at}{guessed}"),
                      soft_wrap=True)
    if result.limit:
        console.print(_t(f"stopped: {result.limit}", style="yellow"), soft_wrap=True)
    if result.note:
        console.print(_t(f"note: {result.note}", style="yellow"), soft_wrap=True)


def render_stats(console: Console, result: Result, info: ModelInfo | None = None,
                 unused: Mapping[int, str] | None = None, prepared: float | None = None) -> None:
    """The search's figures. `prepared`: the seconds spent before the search (reading, checking
    and compiling the model), said apart from the search's own time."""
    if result.symbolic is not None:
        render_symbolic_stats(console, result)
        return
    s = result.stats
    took = f"{seconds_text(s.elapsed)} searching"
    if prepared is not None:
        took += f" after {seconds_text(prepared)} building and compiling the model"
    console.print(_t(
        f"{s.generated:,} states generated, {s.distinct:,} distinct, "
        f"depth {s.depth}, {took}, {s.rate:,.0f} distinct states/s"
        + (f", seed {result.seed}" if result.seed is not None else "")), soft_wrap=True)
    if result.collision is not None:
        each = f"{result.store_bytes / s.distinct:.1f} bytes each, " if result.store_bytes and s.distinct else ""
        console.print(_t(f"visited states: {each}as 64-bit fingerprints; {collision_text(result.collision)}"),
                      soft_wrap=True)
    elif result.store_bytes and s.distinct:
        console.print(_t(f"visited states: {result.store_bytes / s.distinct:.1f} bytes each, kept whole "
                           "(exact: no hash compaction, no collisions)"), soft_wrap=True)
    if result.symmetry:
        console.print(_t(f"symmetry: {result.symmetry}"), soft_wrap=True)
    if result.limit:
        console.print(_t(f"stopped: {result.limit}", style="yellow"), soft_wrap=True)
        if info is not None:
            console.print(_t(covered_text(info, result, unused), style="yellow"), soft_wrap=True)
    if result.note:
        console.print(_t(f"note: {result.note}", style="yellow"), soft_wrap=True)


def collision_text(p: float) -> str:
    """What the chance of a fingerprint collision is, as the statistics say it."""
    if p == 0:
        return "a packed state fits in 64 bits, so its fingerprint is one-to-one: no collision can hide a state"
    return (f"the probability that a fingerprint collision hid a state is about {p:.1e} "
            "(distinct x (generated - distinct) / 2^64, TLC's optimistic estimate)")


def verdict_text(result: Result) -> str:
    """`holds`, qualified by the chance that a fingerprint collision hid a state that would have
    broken it (a violation found is real: its trace was replayed)."""
    text = result.verdict.value
    if result.collision and result.verdict in (Verdict.HOLDS, Verdict.VACUOUS):
        text += f" (unless a fingerprint collision hid a state: probability about {result.collision:.1e})"
    return text


def _coverage_table(*counts: str) -> Table:
    """The coverage table's columns: the names and the file and line are never cut, the
    statement wraps."""
    table = Table(title="Coverage", title_justify="left", show_edge=False)
    table.add_column("process", no_wrap=True)
    table.add_column("action", overflow="fold")
    table.add_column("at", no_wrap=True)
    for name in counts:
        table.add_column(name, justify="right", no_wrap=True)
    return table


def render_symbolic_coverage(console: Console, info: ModelInfo, result: Result, main_path: str | None,
                             unused: Mapping[int, str]) -> None:
    sym = result.symbolic
    assert sym is not None
    table = _coverage_table("first fires")
    never = set(sym.never) - set(unused)
    unseen = 0
    for a in info.actions:
        if a.index in unused:
            continue
        first = sym.first_step[a.index] if a.index < len(sym.first_step) else None
        if first is not None:
            shown, style = f"step {first}" + (" (simulated)" if a.index in sym.simulated else ""), ""
        elif a.index in never:
            shown, style = "never (proved)", "yellow"
        else:
            shown, style = f"not within {sym.depth} steps", "yellow"
            unseen += 1
        table.add_row(_t(a.process or "-"), _t(a.text), _t(where_text(f"{a.span.path}:{a.span.line}", main_path)),
                      _t(shown), style=style)
    console.print(table)
    if never:
        console.print(f"[yellow]{len(never)} action(s) can never fire[/]")
    if unseen:
        console.print(f"[yellow]{unseen} action(s) did not fire within {sym.depth} steps[/]")
    render_unused(console, info, unused, main_path)


def render_coverage(console: Console, info: ModelInfo, result: Result, main_path: str | None = None,
                    unused: Mapping[int, str] | None = None) -> None:
    """How often each step fired. The steps that cannot fire with these parameters (`unused`:
    a branch for another setting) are left out of the table and listed apart below it."""
    unused = unused or {}
    if result.symbolic is not None:
        render_symbolic_coverage(console, info, result, main_path, unused)
        return
    table = _coverage_table("fired", "new states")
    never = 0
    for a in info.actions:
        if a.index in unused:
            continue
        fired = result.stats.fired[a.index] if a.index < len(result.stats.fired) else 0
        new = result.stats.new[a.index] if a.index < len(result.stats.new) else 0
        never += fired == 0
        style = "yellow" if fired == 0 else ""
        table.add_row(_t(a.process or "-"), _t(a.text), _t(where_text(f"{a.span.path}:{a.span.line}", main_path)),
                      _t("never" if fired == 0 else f"{fired:,}"), _t(f"{new:,}"), style=style)
    console.print(table)
    if never:
        console.print(f"[yellow]{never} action(s) never fired[/]")
    render_unused(console, info, unused, main_path)


def unused_lines(info: ModelInfo, unused: Mapping[int, str], main_path: str | None = None) -> list[str]:
    """One line per setting that rules steps out: `not used with RECOVERY=BlkifRecover: 13 steps
    (xen.qdl:505, 510, ...)`; the steps ruled out with no parameter named in their conditions
    (a constant decides, `await false`) on a line of their own."""
    by_reason: dict[str, list[int]] = {}
    for k, reason in sorted(unused.items()):
        by_reason.setdefault(reason, []).append(k)
    out = []
    for reason in sorted(by_reason, key=lambda r: (r == "", r)):
        actions = [info.actions[k] for k in by_reason[reason]]
        places: dict[str, dict[int, None]] = {}
        for a in actions:
            where = where_text(f"{a.span.path}:{a.span.line}", main_path)
            name, _, line = where.rpartition(":") if ":" in where else ("", "", where)
            places.setdefault(name, {})[int(line.removeprefix("line "))] = None
        at = "; ".join((f"{name}:" if name else "line ") + ", ".join(map(str, sorted(lines)))
                       for name, lines in places.items())
        if reason:
            out.append(f"{_steps(len(actions))} not used with {reason} ({at})")
        else:
            them = "it" if len(actions) == 1 else "them"
            out.append(f"{_steps(len(actions))} can never fire, a condition on constants rules {them} out ({at})")
    return out


def render_unused(console: Console, info: ModelInfo, unused: Mapping[int, str], main_path: str | None) -> None:
    for line in unused_lines(info, unused, main_path):
        console.print(_t(line, style="dim"))


def where_text(where: str, main_path: str | None) -> str:
    """`line 12` in the model itself, `xen.qdl:40` in a file it uses."""
    if not where:
        return ""
    path, _, line = where.rpartition(":")
    return f"line {line}" if main_path is None or path == main_path else f"{Path(path).name}:{line}"


def _steps(n: int) -> str:
    return "1 step" if n == 1 else f"{n} steps"


def length_text(trace: Trace) -> str:
    """`3 steps`; for a lasso, `3 steps, then a cycle of 4 steps`."""
    return lasso_text(trace) if trace.loop is not None else _steps(len(trace.steps))


def lasso_text(trace: Trace) -> str:
    """`3 steps, then a cycle of 4 steps` for a lasso; `3 steps, then stuttering` for one that stays."""
    assert trace.loop is not None
    cycle = len(trace.steps) - trace.loop
    return f"{_steps(trace.loop)}, then {'stuttering' if cycle == 0 else 'a cycle of ' + _steps(cycle)}"


def state_name(k: int) -> str:
    """The state of row k of a trace's table."""
    return "the initial state" if k == 0 else f"the state after step {k}"


def loop_text(info: ModelInfo, trace: Trace) -> str:
    """What a lasso does after its last row."""
    assert trace.loop is not None
    n, loop = len(trace.steps), trace.loop
    where = state_name(loop)
    if loop == n:
        why = ("the model assumes no fairness, so a behaviour may stop anywhere" if not info.fairness
               else "no step a fairness assumption covers is enabled there")
        return f"The behaviour stays in {where} for ever ({why})."
    repeats = f"step {n} repeats" if loop + 1 == n else f"steps {loop + 1} to {n} repeat"
    return f"The cycle starts at step {loop}: step {n} leads back to {where}, and {repeats} for ever."


def cycle_marks(trace: Trace, utf: bool = True) -> dict[int, str]:
    """For a lasso's table, by row: where the cycle starts, the rows in it, the step that closes it
    (or the state the behaviour stays in for ever)."""
    if trace.loop is None:
        return {}
    n, loop = len(trace.steps), trace.loop
    if loop == n:
        return {n: ("\u21ba" if utf else "@") + " for ever"}
    top, mid, bottom = ("\u250c", "\u2502", "\u2514") if utf else ("+", "|", "+")
    marks = {k: mid for k in range(loop + 1, n)}
    marks[loop] = f"{top} starts"
    marks[n] = f"{bottom} back to {loop}"
    return marks


def render_trace(console: Console, info: ModelInfo, trace: Trace, main_path: str | None = None,
                 explain: Explain | None = None, cti: bool = False, not_inductive: Sequence[str] = (),
                 unproved: Sequence[str] = ()) -> None:
    console.print()
    if cti:
        console.print(_t(f"Counterexample to induction ({_steps(len(trace.steps))} from a state not known to be "
                           f"reachable): {trace.message}", style="bold yellow"), soft_wrap=True)
        console.print(_t("Not a violation: its first state may be unreachable. A `lemma` that rules such "
                           "states out, or a larger --depth, may prove the property.", style="yellow"),
                      soft_wrap=True)
        if not_inductive:
            later = [n for n in unproved if n not in not_inductive]
            console.print(_t("Not inductive even with every other property and lemma still standing assumed: "
                               + ", ".join(not_inductive) + "."
                               + (f" Given up after these, and perhaps needing only them: {', '.join(later)}."
                                  if later else ""), style="yellow"), soft_wrap=True)
    else:
        console.print(_t(f"Counterexample ({length_text(trace)}): {trace.message}", style="bold red"))
    utf = console.encoding.lower().replace("-", "").startswith("utf")
    cycle = cycle_marks(trace, utf)
    cells = [StepCells(str(row.index), cycle.get(row.index, ""), printable(row.process),
                       printable("a state not known to be reachable" if cti and row.index == 0
                                 else row.text or row.action),
                       printable(row.choices), printable(where_text(row.where, main_path)),
                       changes_cell(trace, row, utf))
             for row in rows(info, trace, whole_first=cti)]
    console.print(trace_table(console.width, cells, bool(cycle)))
    if trace.loop is not None:
        console.print(_t(loop_text(info, trace), style="bold"))
    lines = explain(info, trace) if explain is not None else []
    if lines:
        console.print(_t("Why: " + " ".join(lines), style="bold"), soft_wrap=False)


def changes_cell(trace: Trace, row: TraceRow, utf: bool = True) -> Changes | Text:
    """What a step changed, each change a unit the table keeps whole (`name: before→after`, or
    `name=value` in the initial state); for the step that failed, why it failed."""
    if row.failed:
        return _t(f"FAILS: {trace.message}", style="bold red")
    if row.index == 0:
        return Changes([Unit(printable(f"{c.name}={c.after}")) for c in row.changes])
    arrow = "\u2192" if utf else "->"
    return Changes([Unit(printable(f"{c.name}: {c.before}{arrow}{c.after}"), len(printable(c.name)) + 2)
                    for c in row.changes])


def render_result(console: Console, info: ModelInfo, result: Result, coverage: bool = True,
                  main_path: str | None = None, explain: Explain | None = None,
                  unused: Mapping[int, str] | None = None, prepared: float | None = None) -> None:
    """Everything a search found. `unused`: the steps that cannot fire with these parameters,
    by action index, with the settings that rule them out (`compile.unused`); `prepared`: the
    seconds before the search."""
    render_properties(console, result)
    console.print()
    render_stats(console, result, info, unused, prepared)
    if coverage:
        console.print()
        render_coverage(console, info, result, main_path, unused)
    shown = [result.trace] if result.trace is not None else []
    shown += sorted((t for t in result.traces.values() if t is not result.trace), key=lambda t: len(t.steps))
    for trace in shown:
        render_trace(console, info, trace, main_path, explain)
    if result.symbolic is not None and result.symbolic.cti is not None:
        render_trace(console, info, result.symbolic.cti, main_path, None, cti=True,
                     not_inductive=result.symbolic.not_inductive,
                     unproved=[p.name for p in result.properties if p.status is Status.INCOMPLETE])
    console.print()
    halted = halt_note(info, result)
    if halted is not None:
        console.print(_t(halted[0].upper() + halted[1:], style="bold red"), soft_wrap=True)
    console.print(_t(f"Verdict: {verdict_text(result)} (exit {result.exit_code})",
                       style=_VERDICT_STYLE[result.verdict]), soft_wrap=True)
