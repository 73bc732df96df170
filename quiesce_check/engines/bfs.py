"""Breadth-first search: the default engine; its counterexamples are shortest.

Takes a `Model`, `Options` and a `Reporter`; gives a `Result`. States are
numbered in the order found; each keeps its parent's number and the step that
reached it, so a counterexample is rebuilt by walking parents back. Every
state at depth d is expanded before any at depth d + 1, and properties are
checked as states are found, so the first counterexample is a shortest one.
With `Options.keep_going` the search goes on past violations of invariants,
final-state properties and deadlocks, and keeps the first (so a shortest)
counterexample of each; an assertion or a model error still ends it.
Imports `compile.model`, `engines.common`, `engines.result`.
"""

from __future__ import annotations

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model
from quiesce_check.engines.common import (
    FATAL,
    Clock,
    Failure,
    Violation,
    at_end,
    expand,
    inspect,
    trace_from_path,
)
from quiesce_check.engines.result import (
    NullReporter,
    Options,
    Outcome,
    Reporter,
    Result,
    Stats,
    Step,
    Trace,
    final_verdict,
    first_reported,
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
        self.end_hit: set[int] = set()
        self.traces: dict[str, Trace] = {}
        self.first: Trace | None = None
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

    def record(self, index: int, violations: list[Violation], extra: Step | None = None) -> bool:
        """Keep the first counterexample of each property; True when the search must stop."""
        for kind, prop, message in violations:
            if prop in self.traces:
                continue
            t = self.trace(index, kind, prop, message, extra)
            self.traces[prop] = t
            if self.first is None:
                self.first = t
            if kind in FATAL or not self.options.keep_going:
                return True
        return False

    def end_of_level(self, head: int) -> bool:
        """Whether state `head`, at the level being finished, is an end that stops the search."""
        state = self.states[head]
        try:
            if expand(self.model, state):
                return False
        except Failure:
            return False  # a step fails there: it is no end
        bad, goals = at_end(self.model, state, self.options.check_deadlock)
        self.end_hit.update(goals)
        return self.record(head, bad)

    def add(self, state: State, parent: int, step: Step | None) -> bool:
        """A new state; True when the search must stop."""
        index = len(self.states)
        self.states.append(state)
        self.parent.append(parent)
        self.via.append(step)
        self.seen[state] = index
        bad, goals = inspect(self.model, state)
        if bad and not self.options.keep_going:
            return self.record(index, bad)  # the search ends here: as in C, no goal counts
        for goal in goals:
            self.hit.setdefault(goal, index)
        return self.record(index, bad)

    def run(self) -> Result:
        clock = Clock(self.options.time_limit)
        model, opts, stats = self.model, self.options, self.stats
        stop = False
        limit: str | None = None
        for s in model.initial_states():
            if s in self.seen:
                continue
            stats.generated += 1
            if self.add(s, -1, None):
                stop = True
                break
        depth_end = len(self.states)  # states before this index are at depth <= current
        depth = 0
        head = 0
        seen = self.seen
        # A violation found while expanding this level is one step deeper than the level; an end
        # (a deadlock, a final property) found at one of the level's states not yet expanded is a
        # step shorter: once the first is found, the rest of the level is checked for ends only.
        finishing = False
        try:
            while not stop and head < len(self.states):
                if head == depth_end:
                    if finishing:
                        break
                    depth += 1
                    depth_end = len(self.states)
                if not finishing and opts.max_depth is not None and depth >= opts.max_depth:
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
                if finishing:
                    if self.end_of_level(head):
                        break
                    head += 1
                    continue
                try:
                    succs = expand(model, state)
                except Failure as f:
                    self.record(head, [(f.kind, f.prop, f.message)], f.step)
                    finishing = True
                    head += 1
                    continue
                if not succs:
                    bad, goals = at_end(model, state, opts.check_deadlock)
                    self.end_hit.update(goals)
                    if self.record(head, bad):
                        break  # an end at this level: nothing shorter is left to find
                for ai, ch, t in succs:
                    stats.generated += 1
                    stats.fired[ai] += 1
                    if t in seen:
                        continue
                    if opts.max_states is not None and len(self.states) >= opts.max_states:
                        limit = f"--max-states {opts.max_states}"
                        break
                    stats.new[ai] += 1
                    if self.add(t, head, Step(ai, ch)):
                        finishing = True
                        break
                if limit:
                    break
                head += 1
        except KeyboardInterrupt:
            limit = "interrupted"
        explored = limit is None and head >= len(self.states) and not any(
            t.kind in FATAL for t in self.traces.values()) and (opts.keep_going or self.first is None)
        self.first = first_reported(model.info, self.traces)
        stats.distinct = len(self.states)
        stats.depth = depth if self.first is None or explored else len(self.first.steps)
        stats.elapsed = clock.elapsed()
        witnesses = {model.info.reachables[g].name: self.trace(i, "goal", model.info.reachables[g].name, "")
                     for g, i in self.hit.items() if model.info.reachables[g].kind != "premise"}
        if not opts.keep_going and self.first is not None:
            self.traces = {self.first.property: self.first}  # a search that stops reports its shortest
        out = Outcome(self.traces, self.first, explored, set(self.hit), self.end_hit)
        return Result(
            engine="bfs", verdict=final_verdict(model.info, out, opts.check_deadlock),
            properties=property_results(model.info, out, opts.check_deadlock),
            stats=stats, trace=self.first, traces=self.traces, limit=limit, complete=explored,
            witnesses=witnesses)


def bfs(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    return BfsSearch(model, options or Options(), reporter or NullReporter()).run()
