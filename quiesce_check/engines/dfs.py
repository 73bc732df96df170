"""Depth-first search: finds a counterexample fast, not a shortest one.

Takes a `Model`, `Options` and a `Reporter`; gives a `Result`. The stack holds
the current path (state, its remaining successors), so a counterexample is
the stack itself. Visited states are kept in a set; with `--max-depth` a state
first met deeper than the bound is not expanded and the result is incomplete.
Imports `compile.model`, `engines.common`, `engines.result`.
"""

from __future__ import annotations

from collections.abc import Iterator

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model, Successor
from quiesce_check.engines.common import Clock, Failure, at_end, expand, inspect, trace_from_path
from quiesce_check.engines.memory import MemoryGauge
from quiesce_check.engines.result import (
    NullReporter,
    Options,
    Outcome,
    Reporter,
    Result,
    Stats,
    final_verdict,
    property_results,
)
from quiesce_check.trace.types import Step, Trace

_PROGRESS_EVERY = 2048


def dfs(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    opts = options or Options()
    rep = reporter or NullReporter()
    clock = Clock(opts.time_limit, opts.deadline)
    gauge = MemoryGauge(opts.memory_limit)
    n = len(model.info.actions)
    stats = Stats(fired=[0] * n, new=[0] * n)
    seen: set[State] = set()
    hit: set[int] = set()
    end_hit: set[int] = set()
    found: Trace | None = None
    limit: str | None = None
    max_seen_depth = 0

    # the current path: states, the steps between them, and each state's pending successors
    path: list[State] = []
    steps: list[Step] = []
    pending: list[Iterator[Successor]] = []

    def visit(state: State) -> Trace | None:
        seen.add(state)
        bad, goals = inspect(model, state)
        hit.update(goals)
        if bad:
            return trace_from_path(path + [state], steps, *bad[0])
        return None

    def push(state: State) -> Trace | None:
        nonlocal max_seen_depth
        if opts.max_depth is not None and len(path) >= opts.max_depth:
            return None
        try:
            succs = expand(model, state)
        except Failure as f:
            return trace_from_path(path + [state], steps + [f.step], f.kind, f.prop, f.message)
        if not succs:
            bad, goals = at_end(model, state, opts.check_deadlock)
            end_hit.update(goals)
            if bad:
                return trace_from_path(path + [state], steps, *bad[0])
        path.append(state)
        pending.append(iter(succs))
        max_seen_depth = max(max_seen_depth, len(path) - 1)
        return None

    truncated = False
    try:
        for init in model.initial_states():
            if found is not None or limit:
                break
            if init in seen:
                continue
            stats.generated += 1
            found = visit(init)
            if found is not None:
                break
            if opts.max_depth is not None and opts.max_depth == 0:
                truncated = True
                continue
            found = push(init)
            while found is None and pending:
                succ = next(pending[-1], None)
                if succ is None:
                    pending.pop()
                    path.pop()
                    if steps:
                        steps.pop()
                    continue
                ai, ch, t = succ
                stats.generated += 1
                stats.fired[ai] += 1
                if stats.generated % _PROGRESS_EVERY == 0:
                    rep.progress(len(seen), stats.generated, len(path), len(pending), clock.elapsed())
                    if clock.expired():
                        limit = f"--time-limit {opts.time_limit:g}s"
                        break
                    gauge.measure(t)
                    if gauge.exceeded(len(seen)):
                        limit = gauge.text()
                        break
                if t in seen:
                    continue
                if opts.max_states is not None and len(seen) >= opts.max_states:
                    limit = f"--max-states {opts.max_states}"
                    break
                stats.new[ai] += 1
                steps.append(Step(ai, ch))
                found = visit(t)
                if found is not None:
                    break
                if opts.max_depth is not None and len(path) >= opts.max_depth:
                    truncated = True
                    steps.pop()
                    continue
                found = push(t)
                if found is None and len(pending) < len(steps) + 1:
                    steps.pop()  # t had nothing to explore (bounded): keep steps aligned with path
    except KeyboardInterrupt:
        limit = "interrupted"
    if truncated and found is None and limit is None:
        limit = f"--max-depth {opts.max_depth}"
    complete = found is None and limit is None
    stats.distinct = len(seen)
    stats.depth = max_seen_depth if found is None else len(found.steps)
    stats.elapsed = clock.elapsed()
    out = Outcome({found.property: found} if found else {}, found, complete, hit, end_hit)
    return Result(engine="dfs", verdict=final_verdict(model.info, out, opts.check_deadlock),
                  properties=property_results(model.info, out, opts.check_deadlock),
                  stats=stats, trace=found, traces=out.traces, limit=limit, complete=complete)
