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
from quiesce_check.engines.common import Explored, Failure, at_end, expand, inspect, trace_from_path
from quiesce_check.engines.memory import MemoryGauge
from quiesce_check.engines.result import (
    NullReporter,
    Options,
    Outcome,
    Reporter,
    Result,
    final_verdict,
    property_results,
)
from quiesce_check.trace.types import Step, Trace

_PROGRESS_EVERY = 2048


class DepthFirst(Explored):
    """One search: the path on the stack, what was seen, met and counted. `order` is the order in
    which a state's successors are tried (the model's own here; the swarm's searches draw theirs)."""

    def __init__(self, model: Model, opts: Options, rep: Reporter) -> None:
        super().__init__(model, opts)
        self.rep = rep
        self.gauge = MemoryGauge(opts.memory_limit)
        self.max_seen_depth = 0
        self.truncated = False  # a state was left unexpanded at --max-depth
        # the current path: states, the steps between them, and each state's pending successors
        self.path: list[State] = []
        self.steps: list[Step] = []
        self.pending: list[Iterator[Successor]] = []

    def visit(self, state: State) -> Trace | None:
        self.seen.add(state)
        bad, goals = inspect(self.model, state)
        self.hit.update(goals)
        if bad:
            return trace_from_path(self.path + [state], self.steps, *bad[0])
        return None

    def order(self, succs: list[Successor]) -> list[Successor]:
        return succs

    def push(self, state: State) -> Trace | None:
        opts = self.opts
        if opts.max_depth is not None and len(self.path) >= opts.max_depth:
            return None
        try:
            succs = expand(self.model, state)
        except Failure as f:
            return trace_from_path(self.path + [state], self.steps + [f.step], f.kind, f.prop, f.message)
        if not succs:
            bad, goals = at_end(self.model, state, opts.check_deadlock)
            self.end_hit.update(goals)
            if bad:
                return trace_from_path(self.path + [state], self.steps, *bad[0])
        self.path.append(state)
        self.pending.append(iter(self.order(succs)))
        self.max_seen_depth = max(self.max_seen_depth, len(self.path) - 1)
        return None

    def search(self) -> tuple[Trace | None, str | None]:
        """The first counterexample met, or the limit that stopped the search."""
        opts, stats = self.opts, self.stats
        # as bfs counts them: each distinct initial state is one transition, and a step that reaches
        # an initial state finds nothing new, whichever the search meets first
        inits = list(dict.fromkeys(self.model.initial_states()))
        initial = set(inits)
        for init in inits:
            stats.generated += 1
            if init in self.seen:
                continue
            found = self.visit(init)
            if found is not None:
                return found, None
            if opts.max_depth is not None and opts.max_depth == 0:
                self.truncated = True
                continue
            found = self.push(init)
            if found is None:
                found, limit = self.descend(initial)
                if limit:
                    return None, limit
            if found is not None:
                return found, None
        return None, None

    def descend(self, initial: set[State]) -> tuple[Trace | None, str | None]:
        """Explore from the state on top of the stack until it is empty again."""
        opts, stats, seen, path, steps, pending = self.opts, self.stats, self.seen, self.path, self.steps, self.pending
        while pending:
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
                self.rep.progress(len(seen), stats.generated, len(path), len(pending), self.clock.elapsed())
                if self.clock.expired():
                    return None, f"--time-limit {opts.time_limit:g}s"
                self.gauge.measure(t)
                if self.gauge.exceeded(len(seen)):
                    return None, self.gauge.text()
            if t in seen:
                continue
            if opts.max_states is not None and len(seen) >= opts.max_states:
                return None, f"--max-states {opts.max_states}"
            if t not in initial:
                stats.new[ai] += 1
            steps.append(Step(ai, ch))
            found = self.visit(t)
            if found is not None:
                return found, None
            if opts.max_depth is not None and len(path) >= opts.max_depth:
                self.truncated = True
                steps.pop()
                continue
            found = self.push(t)
            if found is not None:
                return found, None
            if len(pending) < len(steps) + 1:
                steps.pop()  # t had nothing to explore (bounded): keep steps aligned with path
        return None, None


def dfs(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    opts = options or Options()
    d = DepthFirst(model, opts, reporter or NullReporter())
    found: Trace | None = None
    limit: str | None = None
    try:
        found, limit = d.search()
    except KeyboardInterrupt:
        limit = "interrupted"
    if d.truncated and found is None and limit is None:
        limit = f"--max-depth {opts.max_depth}"
    complete = found is None and limit is None
    stats = d.stats
    stats.distinct = len(d.seen)
    stats.depth = d.max_seen_depth if found is None else len(found.steps)
    stats.elapsed = d.clock.elapsed()
    out = Outcome({found.property: found} if found else {}, found, complete, d.hit, d.end_hit)
    return Result(engine="dfs", verdict=final_verdict(model.info, out, opts.check_deadlock),
                  properties=property_results(model.info, out, opts.check_deadlock),
                  stats=stats, trace=found, traces=out.traces, limit=limit, complete=complete)
