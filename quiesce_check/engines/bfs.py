"""Breadth-first search: the default engine; its counterexamples are shortest.

Takes a `Model`, `Options` and a `Reporter`; gives a `Result`. States are
numbered in the order found; each keeps its parent's number and the step that
reached it, so a counterexample is rebuilt by walking parents back. Every
state at depth d is expanded before any at depth d + 1, and properties are
checked as states are found, so the first counterexample is a shortest one.
Imports `compile.model`, `engines.common`, `engines.result`.
"""

from __future__ import annotations

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model
from quiesce_check.engines.common import Clock, Failure, expand, inspect, terminal, trace_from_path
from quiesce_check.engines.result import (
    NullReporter,
    Options,
    Reporter,
    Result,
    Stats,
    Step,
    Trace,
    final_verdict,
    property_results,
)

_PROGRESS_EVERY = 2048


class BfsSearch:
    def __init__(self, model: Model, options: Options, reporter: Reporter) -> None:
        self.model = model
        self.options = options
        self.reporter = reporter
        self.states: list[State] = []
        self.parent: list[int] = []
        self.via: list[Step | None] = []
        self.seen: dict[State, int] = {}
        self.hit: dict[int, int] = {}  # goal -> first state that reached it
        n = len(model.info.actions)
        self.stats = Stats(fired=[0] * n, new=[0] * n)

    def path_to(self, index: int) -> tuple[list[State], list[Step]]:
        states, steps = [], []
        while index >= 0:
            states.append(self.states[index])
            step = self.via[index]
            if step is not None:
                steps.append(step)
            index = self.parent[index]
        return states[::-1], steps[::-1]

    def trace(self, index: int, kind: str, prop: str, message: str, extra: Step | None = None) -> Trace:
        states, steps = self.path_to(index)
        if extra is not None:
            steps.append(extra)
        return trace_from_path(states, steps, kind, prop, message)

    def add(self, state: State, parent: int, step: Step | None) -> tuple[int, Trace | None]:
        index = len(self.states)
        self.states.append(state)
        self.parent.append(parent)
        self.via.append(step)
        self.seen[state] = index
        bad, goals = inspect(self.model, state)
        if bad is not None:
            return index, self.trace(index, *bad)
        for goal in goals:
            self.hit.setdefault(goal, index)
        return index, None

    def run(self) -> Result:
        clock = Clock(self.options.time_limit)
        model, opts, stats = self.model, self.options, self.stats
        found: Trace | None = None
        limit: str | None = None
        for s in model.initial_states():
            if s in self.seen:
                continue
            _, found = self.add(s, -1, None)
            stats.generated += 1
            if found is not None:
                break
        depth_end = len(self.states)  # states before this index are at depth <= current
        depth = 0
        head = 0
        seen = self.seen
        try:
            while found is None and head < len(self.states):
                if head == depth_end:
                    depth += 1
                    depth_end = len(self.states)
                if opts.max_depth is not None and depth >= opts.max_depth:
                    limit = f"--max-depth {opts.max_depth}"
                    break
                if head % _PROGRESS_EVERY == 0 and head:
                    stats.distinct = len(self.states)
                    self.reporter.progress(len(self.states), stats.generated, depth, len(self.states) - head,
                                           clock.elapsed())
                    if clock.expired():
                        limit = f"--time-limit {opts.time_limit:g}s"
                        break
                state = self.states[head]
                try:
                    succs = expand(model, state)
                except Failure as f:
                    found = self.trace(head, f.kind, f.prop, f.message, f.step)
                    break
                if not succs and opts.check_deadlock:
                    term = terminal(model, state)
                    if isinstance(term, tuple):
                        found = self.trace(head, *term)
                        break
                    if not term:
                        found = self.trace(head, "deadlock", "deadlock",
                                           "no step is enabled, and the state is not declared terminal")
                        break
                for ai, ch, t in succs:
                    stats.generated += 1
                    stats.fired[ai] += 1
                    if t in seen:
                        continue
                    if opts.max_states is not None and len(self.states) >= opts.max_states:
                        limit = f"--max-states {opts.max_states}"
                        break
                    stats.new[ai] += 1
                    _, found = self.add(t, head, Step(ai, ch))
                    if found is not None:
                        break
                if limit:
                    break
                head += 1
        except KeyboardInterrupt:
            limit = "interrupted"
        complete = found is None and limit is None
        stats.distinct = len(self.states)
        stats.depth = depth if found is None else len(found.steps)
        stats.elapsed = clock.elapsed()
        hit = set(self.hit)
        witnesses = {model.info.reachables[g].name: self.trace(i, "goal", model.info.reachables[g].name, "")
                     for g, i in self.hit.items()}
        return Result(
            engine="bfs", verdict=final_verdict(model.info, found, complete, hit),
            properties=property_results(model.info, found, complete, hit, opts.check_deadlock),
            stats=stats, trace=found, limit=limit, complete=complete, witnesses=witnesses)


def bfs(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    return BfsSearch(model, options or Options(), reporter or NullReporter()).run()
