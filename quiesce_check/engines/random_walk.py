"""Seeded random simulation: many random walks from the initial states.

Takes a `Model`, `Options` (seed, walks, walk depth) and a `Reporter`; gives a
`Result`. A walk picks a uniformly random successor at each step; the same
seed gives the same walks. It proves nothing: with no counterexample the
verdict is `incomplete`, and the result says how many walks and steps ran.
Imports `compile.model`, `engines.common`, `engines.result`.
"""

from __future__ import annotations

import random

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model
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


class _Walks(Explored):
    """What the walks share: the model, the options, the clock, the statistics and what was met."""

    def walk(self, state: State, depth_bound: int, rng: random.Random) -> tuple[Trace | None, str | None]:
        """One walk from `state` of at most `depth_bound` steps: the counterexample it met, or
        the limit that stopped it."""
        model, opts, stats, seen = self.model, self.opts, self.stats, self.seen
        states: list[State] = [state]
        steps: list[Step] = []
        bad, goals = inspect(model, state)
        if bad:
            return trace_from_path(states, steps, *bad[0]), None
        if state not in seen:
            stats.generated += 1
        seen.add(state)
        self.hit.update(goals)
        for _ in range(depth_bound):
            if self.clock.expired():
                return None, f"--time-limit {opts.time_limit:g}s"
            try:
                succs = expand(model, state)
            except Failure as f:
                return trace_from_path(states, steps + [f.step], f.kind, f.prop, f.message), None
            if not succs:
                bad, goals = at_end(model, state, opts.check_deadlock)
                self.end_hit.update(goals)
                return (trace_from_path(states, steps, *bad[0]) if bad else None), None
            ai, ch, state = succs[rng.randrange(len(succs))]
            stats.generated += 1
            stats.fired[ai] += 1
            if state not in seen:
                if opts.max_states is not None and len(seen) >= opts.max_states:
                    return None, f"--max-states {opts.max_states}"
                stats.new[ai] += 1
                seen.add(state)
            states.append(state)
            steps.append(Step(ai, ch))
            stats.depth = max(stats.depth, len(steps))
            bad, goals = inspect(model, state)
            if bad:
                return trace_from_path(states, steps, *bad[0]), None
            self.hit.update(goals)
        return None, None


def random_walks(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    opts = options or Options()
    rep = reporter or NullReporter()
    rng = random.Random(opts.seed)
    w = _Walks(model, opts)
    clock, stats, seen = w.clock, w.stats, w.seen
    gauge = MemoryGauge(opts.memory_limit)
    found: Trace | None = None
    limit: str | None = None
    initial = list(model.initial_states())
    depth_bound = opts.max_depth if opts.max_depth is not None else opts.walk_depth
    walks = 0
    try:
        for walk in range(opts.walks):
            if clock.expired():
                limit = f"--time-limit {opts.time_limit:g}s"
                break
            if walk % 64 == 0 and seen:
                gauge.measure(next(iter(seen)))
                if gauge.exceeded(len(seen)):
                    limit = gauge.text()
                    break
            if opts.max_states is not None and len(seen) >= opts.max_states:
                limit = f"--max-states {opts.max_states}"
                break
            walks += 1
            found, limit = w.walk(initial[rng.randrange(len(initial))], depth_bound, rng)
            if found is not None or limit:
                break
            if walk % 64 == 0:
                rep.progress(len(seen), stats.generated, stats.depth, opts.walks - walks, clock.elapsed())
    except KeyboardInterrupt:
        limit = "interrupted"
    stats.distinct = len(seen)
    stats.elapsed = clock.elapsed()
    if found is None and limit is None:
        limit = f"random simulation: {walks} walks of at most {depth_bound} steps (seed {opts.seed})"
    out = Outcome({found.property: found} if found else {}, found, False, w.hit, w.end_hit)
    return Result(engine="random", verdict=final_verdict(model.info, out, opts.check_deadlock),
                  properties=property_results(model.info, out, opts.check_deadlock),
                  stats=stats, trace=found, traces=out.traces, limit=limit, seed=opts.seed, complete=False)
