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


def random_walks(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    opts = options or Options()
    rep = reporter or NullReporter()
    rng = random.Random(opts.seed)
    clock = Clock(opts.time_limit, opts.deadline)
    gauge = MemoryGauge(opts.memory_limit)
    n = len(model.info.actions)
    stats = Stats(fired=[0] * n, new=[0] * n)
    seen: set[State] = set()
    hit: set[int] = set()
    end_hit: set[int] = set()
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
            state = initial[rng.randrange(len(initial))]
            states: list[State] = [state]
            steps: list[Step] = []
            bad, goals = inspect(model, state)
            if bad:
                found = trace_from_path(states, steps, *bad[0])
                break
            if state not in seen:
                stats.generated += 1
            seen.add(state)
            hit.update(goals)
            for _ in range(depth_bound):
                if clock.expired():
                    limit = f"--time-limit {opts.time_limit:g}s"
                    break
                try:
                    succs = expand(model, state)
                except Failure as f:
                    found = trace_from_path(states, steps + [f.step], f.kind, f.prop, f.message)
                    break
                if not succs:
                    bad, goals = at_end(model, state, opts.check_deadlock)
                    end_hit.update(goals)
                    if bad:
                        found = trace_from_path(states, steps, *bad[0])
                    break
                ai, ch, state = succs[rng.randrange(len(succs))]
                stats.generated += 1
                stats.fired[ai] += 1
                if state not in seen:
                    if opts.max_states is not None and len(seen) >= opts.max_states:
                        limit = f"--max-states {opts.max_states}"
                        break
                    stats.new[ai] += 1
                    seen.add(state)
                states.append(state)
                steps.append(Step(ai, ch))
                stats.depth = max(stats.depth, len(steps))
                bad, goals = inspect(model, state)
                if bad:
                    found = trace_from_path(states, steps, *bad[0])
                    break
                hit.update(goals)
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
    out = Outcome({found.property: found} if found else {}, found, False, hit, end_hit)
    return Result(engine="random", verdict=final_verdict(model.info, out, opts.check_deadlock),
                  properties=property_results(model.info, out, opts.check_deadlock),
                  stats=stats, trace=found, traces=out.traces, limit=limit, seed=opts.seed, complete=False)
