"""Breadth-first search: the default engine; its counterexamples are shortest.

Takes a `Model`, `Options` and a `Reporter`; gives a `Result`. States are
numbered in the order found; each keeps its parent's number and the step that
reached it, so a counterexample is rebuilt by walking parents back. Every
state at depth d is expanded before any at depth d + 1, and properties are
checked as states are found, so the first counterexample is a shortest one.
With `Options.keep_going` the search goes on past violations of invariants,
final-state properties and deadlocks, and keeps the first (so a shortest)
counterexample of each; an assertion or a model error still ends it.

Limits (states, depth, time, memory) and Ctrl-C end it between two
expansions, or inside one for the state limit, and say what was covered.
With `Options.checkpoint` the search saves itself (`engines.checkpoint`)
periodically and when it ends, as it stood before the expansion under way, so
that `resume` goes on to exactly the result an uninterrupted run gives.
Imports `compile.*`, `engines.*`.
"""

from __future__ import annotations

import array

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model, Successor
from quiesce_check.compile.packing import pack_layout
from quiesce_check.engines.checkpoint import (
    ROOT_PARENT,
    CheckpointError,
    Snapshot,
    write_checkpoint,
)
from quiesce_check.engines.common import (
    DEADLOCK_MESSAGE,
    FATAL,
    Clock,
    Failure,
    Violation,
    at_end,
    check_state,
    check_step,
    expand,
    inspect,
    trace_from_path,
)
from quiesce_check.engines.interrupt import Interrupts
from quiesce_check.engines.liveness import PredicateFailed, Stopped, check_liveness, explore
from quiesce_check.engines.memory import MemoryGauge
from quiesce_check.engines.result import (
    NullReporter,
    Options,
    Outcome,
    Reporter,
    Result,
    Stats,
    final_verdict,
    first_reported,
    property_results,
)
from quiesce_check.trace.types import Step, Trace, TraceKind

_PROGRESS_EVERY = 2048
# ... or after this many successors, when states have many: limits and Ctrl-C are seen promptly
_CHECK_GENERATED = 1 << 16


class BfsSearch:
    def __init__(self, model: Model, options: Options, reporter: Reporter, resume: Snapshot | None = None) -> None:
        self.model = model
        self.options = options
        self.reporter = reporter
        self.states: list[State] = []
        self.parent: list[int] = []
        self.via: list[Step | None] = []
        self.seen: dict[State, int] = {}
        self.hit: dict[int, int] = {}  # goal -> first state that reached it
        self.end_hit: dict[int, int] = {}  # end goal -> first state without successors that reached it
        self.traces: dict[str, Trace] = {}
        # property -> (state index, whether its expansion found it rather than its arrival)
        self.first_at: dict[str, tuple[int, bool]] = {}
        self.first: Trace | None = None
        n = len(model.info.actions)
        self.stats = Stats(fired=[0] * n, new=[0] * n)
        self.head = 0
        self.depth = 0
        self.depth_end = 0
        # the expansion under way: (head, states before it, its successors, how many were counted)
        self.pending: tuple[int, int, list[Successor], int] | None = None
        self.elapsed_before = 0.0
        self.saved: str | None = None
        self.clock: Clock | None = None
        self.last_save = 0.0  # when (on `clock`) the last periodic checkpoint was written
        self.packing = pack_layout(model.info.layout)
        self.packed_words = array.array("Q")
        self.packed_parents = array.array("I")
        self.packed_count = 0
        self.save_error: str | None = None
        self.interrupts: Interrupts | None = None
        if resume is not None:
            self.restore(resume)

    # traces ---------------------------------------------------------------
    def step_between(self, parent: int, child: int) -> Step:
        """The step that first led from `parent` to `child`: the first successor, in the fixed
        order, giving it (as the search recorded it when it found `child`)."""
        target = self.states[child]
        for ai, ch, t in self.model.successors(self.states[parent]):
            if t == target:
                return Step(ai, ch)
        raise CheckpointError(f"the saved search has state {child} as a successor of state {parent}, "
                              "which no step of this model gives")

    def path_to(self, index: int) -> tuple[list[State], list[Step]]:
        states, steps = [], []
        while index >= 0:
            states.append(self.states[index])
            step = self.via[index]
            if step is None and self.parent[index] >= 0:
                step = self.step_between(self.parent[index], index)
            if step is not None:
                steps.append(step)
            index = self.parent[index]
        return states[::-1], steps[::-1]

    def trace(self, index: int, kind: TraceKind, prop: str, message: str, extra: Step | None = None) -> Trace:
        states, steps = self.path_to(index)
        if extra is not None:
            steps.append(extra)
        return trace_from_path(states, steps, kind, prop, message)

    def record(self, index: int, violations: list[Violation], extra: Step | None = None,
               at_expansion: bool = False, after: State | None = None) -> bool:
        """Keep the first counterexample of each property; True when the search must stop.
        `extra` is a step from state `index` the trace ends with: one that failed, or (with
        `after`, the state it led to) one that broke a step property."""
        for kind, prop, message in violations:
            if prop in self.traces:
                continue
            if after is None:
                t = self.trace(index, kind, prop, message, extra)
            else:
                states, steps = self.path_to(index)
                t = trace_from_path([*states, after], [*steps, *([extra] if extra else [])], kind, prop, message)
            self.traces[prop] = t
            self.first_at[prop] = (index, at_expansion)
            if self.first is None:
                self.first = t
            if kind in FATAL or not self.options.keep_going:
                return True
        return False

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

    # saving and resuming ----------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The search as it stood before the expansion under way (if one was cut short)."""
        info = self.model.info
        count, head = len(self.states), self.head
        fired, fresh, generated = list(self.stats.fired), list(self.stats.new), self.stats.generated
        if self.pending is not None:
            head, count, succs, counted = self.pending
            undone: set[State] = set()
            for ai, _, t in succs[:counted]:
                generated -= 1
                fired[ai] -= 1
                index = self.seen.get(t)
                if index is not None and index >= count and t not in undone:
                    fresh[ai] -= 1
                    undone.add(t)
        if count == 0:
            generated = 0  # stopped among the initial states: they are added again

        def kept(index: int, at_expansion: bool) -> bool:
            return index < head if at_expansion else index < count

        firsts = {prop: i for prop, (i, at_exp) in self.first_at.items() if kept(i, at_exp)
                  and self.traces[prop].kind not in FATAL}
        # packed once: each checkpoint packs only the states found since the one before
        packing = self.packing
        for s in self.states[self.packed_count:count]:
            self.packed_words.extend(packing.pack(s))
        self.packed_parents.extend(ROOT_PARENT if p < 0 else p for p in self.parent[self.packed_count:count])
        self.packed_count = max(self.packed_count, count)
        words = memoryview(self.packed_words)[:count * packing.words]
        parents = memoryview(self.packed_parents)[:count]
        return Snapshot(
            words=packing.words, count=count, head=head, level_end=max(head, min(self.depth_end, count)),
            depth=self.depth, generated=generated, fired=fired, fresh=fresh,
            goal_first=[self.hit[k] if k in self.hit and self.hit[k] < count else -1
                        for k in range(len(info.reachables))],
            end_goal_first=[self.end_hit[k] if k in self.end_hit and self.end_hit[k] < head else -1
                            for k in range(len(info.end_goals))],
            inv_first=[firsts.get(p.name, -1) for p in info.invariants],
            fin_first=[firsts.get(p.name, -1) for p in info.finals],
            deadlock_first=firsts.get("deadlock", -1), elapsed=self.elapsed_before + self.clock_elapsed(),
            states=words, parents=parents)

    def clock_elapsed(self) -> float:
        return self.clock.elapsed() if self.clock is not None else 0.0

    def save(self) -> None:
        plan = self.options.checkpoint
        if plan is None:
            return
        snap = self.snapshot()
        try:
            self.saved = str(write_checkpoint(plan.directory, plan.meta, snap))
        except CheckpointError as e:
            self.save_error = str(e)
        finally:
            for view in (snap.states, snap.parents):
                if isinstance(view, memoryview):
                    view.release()  # the packed arrays grow again after this

    def restore(self, snap: Snapshot) -> None:
        """Go on from a saved search: its states, parents, queue, counters and records."""
        info, model = self.model.info, self.model
        packing = pack_layout(info.layout)
        snap.check_shape(packing.words, len(info.actions), len(info.reachables), len(info.end_goals),
                         len(info.invariants), len(info.finals))
        words = memoryview(snap.states).cast("B").cast("Q")
        parents = memoryview(snap.parents).cast("B").cast("I")
        ranges = [(s.lo, s.hi) for s in info.layout.slots]
        initial = set(model.initial_states())
        for i in range(snap.count):
            w = tuple(words[i * packing.words:(i + 1) * packing.words])
            state = packing.unpack(w)
            if packing.pack(state) != w or any(not lo <= int(v) <= hi for v, (lo, hi) in zip(state, ranges,
                                                                                          strict=True)):
                raise CheckpointError(f"the saved search holds a state that is not of this model (state {i})")
            p = parents[i]
            if p != ROOT_PARENT and p >= i:
                raise CheckpointError(f"the saved search links state {i} to a later parent")
            if p == ROOT_PARENT and (state not in initial or (i and parents[i - 1] != ROOT_PARENT)):
                raise CheckpointError(f"the saved search holds state {i} as an initial state; it is not one")
            if state in self.seen:
                raise CheckpointError(f"the saved search holds state {i} twice")
            self.states.append(state)
            self.parent.append(-1 if p == ROOT_PARENT else p)
            self.via.append(None)
            self.seen[state] = i
        self.head, self.depth, self.depth_end = snap.head, snap.depth, snap.level_end
        self.stats.generated, self.stats.fired, self.stats.new = snap.generated, list(snap.fired), list(snap.fresh)
        self.hit = {k: i for k, i in enumerate(snap.goal_first) if i >= 0}
        self.end_hit = {k: i for k, i in enumerate(snap.end_goal_first) if i >= 0}
        self.elapsed_before = snap.elapsed
        for k, i in enumerate(snap.inv_first):
            if i >= 0:
                name = info.invariants[k].name
                match = [v for v in check_state(model, self.states[i]) if v[1] == name]
                if not match:
                    raise CheckpointError(f"the saved search says state {i} violates `{name}`; it does not")
                self.record(i, match[:1])
        for k, i in enumerate(snap.fin_first):
            if i >= 0:
                name = info.finals[k].name
                match = [v for v in at_end(model, self.states[i], False)[0] if v[1] == name]
                if not match:
                    raise CheckpointError(f"the saved search says state {i} violates `{name}`; it does not")
                self.record(i, match[:1], at_expansion=True)
        if snap.deadlock_first >= 0:
            self.record(snap.deadlock_first, [("deadlock", "deadlock", DEADLOCK_MESSAGE)], at_expansion=True)

    # the search -------------------------------------------------------------
    def run(self) -> Result:
        with Interrupts() as interrupts:
            self.interrupts = interrupts
            return self.search(interrupts)

    def end_of_level(self, head: int) -> bool:
        """Whether state `head`, at the level being finished, is an end that stops the search."""
        state = self.states[head]
        try:
            if expand(self.model, state):
                return False
        except Failure:
            return False  # a step fails there: it is no end
        bad, goals = at_end(self.model, state, self.options.check_deadlock)
        for goal in goals:
            self.end_hit.setdefault(goal, head)
        return self.record(head, bad, at_expansion=True)

    def add_initial(self) -> tuple[bool, str | None]:
        """The initial states, each one transition: (whether the search stops, the limit that stopped it)."""
        opts, stats = self.options, self.stats
        for s in self.model.initial_states():
            if s in self.seen:
                continue
            stats.generated += 1
            self.pending = (0, 0, [], 0)
            if opts.max_states is not None and len(self.states) >= opts.max_states:
                return True, f"--max-states {opts.max_states}"
            if self.add(s, -1, None):
                return True, None
        self.pending = None
        return False, None

    def between(self, head: int, clock: Clock, gauge: MemoryGauge) -> str | None:
        """Every so often: progress, the time and memory limits, a periodic checkpoint.
        The limit that stops the search, or None."""
        opts, plan = self.options, self.options.checkpoint
        self.stats.distinct = len(self.states)
        self.reporter.progress(len(self.states), self.stats.generated, self.depth, len(self.states) - head,
                               clock.elapsed())
        if clock.expired():
            return f"--time-limit {opts.time_limit:g}s"
        gauge.measure(self.states[0])
        if gauge.exceeded(len(self.states)):
            return gauge.text()
        if plan is not None and clock.elapsed() - self.last_save >= plan.every:
            self.save()
            self.last_save = clock.elapsed()
        return None

    def search(self, interrupts: Interrupts) -> Result:
        """The search, level by level. A violation found while expanding a level is one step
        deeper than the level; an end (a deadlock, a final property) found at one of the level's
        states not yet expanded is a step shorter: once the first is found, the rest of the level
        is checked for ends only. Meanwhile a checkpoint saves the search as it was before the
        expansion that found it."""
        clock = self.clock = Clock(self.options.deadline)
        gauge = MemoryGauge(self.options.memory_limit)
        model, opts, stats, seen = self.model, self.options, self.stats, self.seen
        stop, limit, consistent, finishing = False, None, True, False
        stepping = bool(model.info.step_properties)
        if not self.states:
            stop, limit = self.add_initial()
            self.depth_end = len(self.states)  # states before this index are at depth <= current
        next_check = stats.generated + _CHECK_GENERATED
        try:
            while not stop and self.head < len(self.states):
                head = self.head
                if interrupts.requested:
                    limit = "interrupted"
                    break
                if head == self.depth_end:
                    if finishing:
                        break
                    self.depth += 1
                    self.depth_end = len(self.states)
                if not finishing and opts.max_depth is not None and self.depth >= opts.max_depth:
                    limit = f"--max-depth {opts.max_depth}"
                    break
                if (head % _PROGRESS_EVERY == 0 and head) or stats.generated >= next_check:
                    next_check = stats.generated + _CHECK_GENERATED
                    limit = self.between(head, clock, gauge)
                    if limit:
                        break
                state = self.states[head]
                if finishing:
                    if self.end_of_level(head):
                        break
                    self.head = head + 1
                    continue
                mark = len(self.states)
                self.pending = (head, mark, [], 0)
                try:
                    succs = expand(model, state)
                except Failure as f:
                    self.record(head, [(f.kind, f.prop, f.message)], f.step, at_expansion=True)
                    finishing = True
                    self.head = head + 1
                    continue
                if not succs:
                    bad, goals = at_end(model, state, opts.check_deadlock)
                    for goal in goals:
                        self.end_hit.setdefault(goal, head)
                    if self.record(head, bad, at_expansion=True):
                        break  # an end at this level: nothing shorter is left to find
                counted = 0
                for ai, ch, t in succs:
                    counted += 1
                    stats.generated += 1
                    stats.fired[ai] += 1
                    if stepping:
                        bad = check_step(model, state, ai, t)
                        if bad and self.record(head, bad, Step(ai, ch), True, t):
                            finishing = True
                            break
                    if t in seen:
                        continue
                    if opts.max_states is not None and len(self.states) >= opts.max_states:
                        limit = f"--max-states {opts.max_states}"
                        break
                    stats.new[ai] += 1
                    if self.add(t, head, Step(ai, ch)):
                        finishing = True
                        break
                if limit or finishing:
                    self.pending = (head, mark, succs, counted)
                if limit:
                    break
                if not finishing:
                    self.pending = None
                self.head = head + 1
        except KeyboardInterrupt:
            limit = "interrupted"
            consistent = False  # a second Ctrl-C, anywhere: the last periodic checkpoint stands
        return self.result(limit, consistent, clock)

    def result(self, limit: str | None, consistent: bool, clock: Clock) -> Result:
        """The search's `Result`, saved a last time when it is consistent."""
        model, opts, stats, plan = self.model, self.options, self.stats, self.options.checkpoint
        explored = limit is None and self.head >= len(self.states) and not any(
            t.kind in FATAL for t in self.traces.values()) and (opts.keep_going or self.first is None)
        self.first = first_reported(model.info, self.traces)
        stats.distinct = len(self.states)
        stats.depth = self.depth if self.first is None or explored else len(self.first.steps)
        stats.elapsed = self.elapsed_before + clock.elapsed()
        if plan is not None and consistent:
            self.save()
        undecided: frozenset[str] = frozenset()
        if explored and model.info.liveness:
            undecided, limit = self.liveness(clock)
            self.first = first_reported(model.info, self.traces)
        witnesses = {model.info.reachables[g].name: self.trace(i, "goal", model.info.reachables[g].name, "")
                     for g, i in sorted(self.hit.items()) if model.info.reachables[g].kind != "premise"}
        traces = self.traces
        if not opts.keep_going and self.first is not None:
            # a search that stops reports its shortest; the liveness check, run once every state
            # was explored, decided every liveness property
            traces = {name: t for name, t in traces.items() if t is self.first or t.kind == "liveness"}
        out = Outcome(traces, self.first, explored, set(self.hit), set(self.end_hit), undecided)
        return Result(
            engine="bfs", verdict=final_verdict(model.info, out, opts.check_deadlock),
            properties=property_results(model.info, out, opts.check_deadlock),
            stats=stats, trace=self.first, traces=traces, limit=limit, complete=explored,
            witnesses=witnesses, checkpoint=self.saved,
            note=f"the checkpoint was not written: {self.save_error}" if self.save_error else None)


    def liveness(self, clock: Clock) -> tuple[frozenset[str], str | None]:
        """Once every state is explored: the liveness properties, on the graph explored again
        with its steps. The names left undecided, and the limit that stopped the check."""
        opts = self.options

        def limit() -> str | None:
            if clock.expired():
                return f"--time-limit {opts.time_limit:g}s (checking liveness)"
            return None
        interrupts = self.interrupts

        def check() -> str | None:
            return "interrupted (checking liveness)" if interrupts is not None and interrupts.requested else limit()
        try:
            graph = explore(self.model, clock, check)
            self.traces.update(check_liveness(self.model, graph, check))
        except Stopped as e:
            names = frozenset(p.name for p in self.model.info.liveness if p.name not in self.traces)
            return names, e.why
        except PredicateFailed as e:
            failed = trace_from_path(e.states, e.steps, "model-error", "model error", e.message)
            self.traces["model error"] = failed
            return frozenset(p.name for p in self.model.info.liveness if p.name not in self.traces), None
        except KeyboardInterrupt:
            names = frozenset(p.name for p in self.model.info.liveness if p.name not in self.traces)
            return names, "interrupted (checking liveness)"
        return frozenset(), None


def bfs(model: Model, options: Options | None = None, reporter: Reporter | None = None,
        resume: Snapshot | None = None) -> Result:
    return BfsSearch(model, options or Options(), reporter or NullReporter(), resume).run()
