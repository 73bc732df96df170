"""Bounded model checking: every behaviour of at most K steps, by unrolling the transitions.

Takes a compiled model, `Options` (`depth`: K) and a `Reporter`; gives a `Result`.
One solver holds frames 0..L (frame 0 an initial state, each next frame one step
further, with the action it takes when the model has step or liveness
properties), extended one frame at a time. At each length L = 0..K it asks, in
this order: a step from frame L - 1 that fails (an assertion, a runtime model
error); the step from frame L - 1 to frame L breaking a step property (or its
evaluation a model error); a model error evaluating the properties in frame L;
an invariant, a final-state property or a deadlock broken in frame L; a fair
lasso of L steps breaking a liveness property (`engines.lassos`). So the first
violation found is a shortest one, as with bfs (of several of one length, bfs
reports the one it meets first, bmc the first in that order, then in
declaration order), and the first lasso has the fewest steps, prefix and cycle
together. Frame K is checked as bfs --max-depth K checks the states at depth K:
its invariants and goals, not what needs its successors (deadlock, final-state
properties, actions firing), so the two cover the same ground at the same
bound. Each is rebuilt as an ordinary `Trace` by replaying it through the
compiled model before it is reported. Goals and actions are met at their first
depth (the witnesses are shortest too). When no loop-free path of length L
leaves an initial state, every reachable state is within L - 1 steps and has
been checked, and every step from one: the result is complete, as an
exhaustive search's, except for liveness. A liveness property holds when no
longer lasso can be the shortest: with no fairness, then too (a behaviour may
stop at any state, so a shortest lasso is a path to a state, stuttering
there); with fairness, when the lasso search has no loop-free path of length L
(`Lassos.complete`), and until then the search goes on for lassos alone.
Otherwise no violation up to K is incomplete. With `keep_going` every property
gets its shortest counterexample (a failing step or a model error still ends
the run).
Imports `compile.*`, `engines.lassos`, `engines.result`, `engines.symbolic`.
"""

from __future__ import annotations

import z3

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model
from quiesce_check.engines.lassos import Lassos
from quiesce_check.engines.result import NullReporter, Options, Reporter, Result
from quiesce_check.engines.symbolic import (
    AT_END,
    Claim,
    Run,
    Solving,
    Undecided,
    Unrolling,
    step_counterexample,
    steps_text,
    sweep,
)


class Bmc:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.solving = Solving(run.ctx, run.clock, run.info, run.interrupts)
        info = run.model.info
        self.unroll = Unrolling(run.enc, self.solving, tracked=bool(info.liveness or info.step_properties))
        self.lassos = Lassos(run, self.unroll, self.solving) if info.liveness else None
        if self.lassos is not None:
            self.lassos.extend()

    def violation(self, claim: Claim, model: z3.ModelRef, last: int) -> None:
        found = self.run.found
        states = self.unroll.states(model, last)
        if claim.over_step:
            trace = step_counterexample(self.run.model, states, self.unroll.taken(model, last), claim)
        else:
            trace = self.run.trace(states, claim)
        found.traces.setdefault(trace.property, trace)
        found.violated.add(claim.key)

    def report(self, broken: list[tuple[Claim, z3.ModelRef]], last: int) -> bool:
        """Record the claims broken at frame `last`, in the order of the claims; True when the run
        is over (the first ends it, unless `keep_going`; a model error ends it anyway)."""
        order = {c.key: k for k, c in enumerate(self.run.claims)}
        for claim, model in sorted(broken, key=lambda cm: order[cm[0].key]):
            self.violation(claim, model, last)
            if not self.run.options.keep_going or claim.kind in ("failure", "error", "end-error", "step-error"):
                return True
        return False

    def length(self, n: int) -> bool:
        """Check everything a trace of `n` steps can show; True when the run is over."""
        run, found = self.run, self.run.found
        enc, solving = run.enc, self.solving
        safety = found.complete_at is None
        if n >= 1:
            if safety and self.report(sweep(solving, enc, [c for c in run.pending(True) if c.kind == "failure"],
                                             n - 1)[:1], n - 1):
                return True
            self.unroll.extend()
            if self.lassos is not None:
                self.lassos.extend()
            # every step from every state the search checks, including those from the states
            # at the depth where it finds itself complete
            if safety and self.report(sweep(solving, enc, [c for c in run.pending(True) if c.over_step], n - 1), n):
                return True
            if safety and solving.check(None, self.unroll.simple) is None:
                found.complete_at = n - 1
                safety = False
                if self.lassos is not None and not self.lassos.fair:
                    found.live_decided = (f"no lasso breaks it: with no fairness a behaviour may stop at any "
                                          f"state, so a shortest lasso stutters at a state no further than the "
                                          f"longest loop-free behaviour ({steps_text(n - 1)}), and none was found")
        if safety and self.states(n):
            return True
        if self.lassos is None or found.live_decided is not None or not self.lassos.pending():
            return not safety
        for trace in self.lassos.length(n):
            found.traces.setdefault(trace.property, trace)
            if not run.options.keep_going:
                return True
        if self.lassos.fair and self.lassos.pending() and self.lassos.complete():
            found.live_decided = (f"no fair lasso of at most {steps_text(n)}, and none longer can be the shortest: "
                                  f"the states with the lasso's flags have no loop-free path of {steps_text(n)}")
        found.depth = n
        return (not safety or run.options.keep_going and not run.pending(True)) and (
            found.live_decided is not None or not self.lassos.pending())

    def states(self, n: int) -> bool:
        """The claims about frame `n` and the goals met there; True when the run is over."""
        run, found = self.run, self.run.found
        enc, solving = run.enc, self.solving
        # at the bound, states are checked but not expanded, as by bfs --max-depth
        expanded = n < run.depth
        errors = [c for c in run.pending(True) if c.kind in ("error", "end-error") and (expanded or c.kind == "error")]
        if self.report(sweep(solving, enc, errors, n)[:1], n):
            return True
        if self.report(sweep(solving, enc, [c for c in run.pending(True) if c.kind in ("invariant", "final", "deadlock")
                                            and (expanded or c.kind not in AT_END)], n), n):
            return True
        # goals in frame n; where it is expanded, end goals and the actions that can fire from it
        wanted = [c for c in run.pending(False) if expanded or c.kind not in ("action", "end-goal")]
        for claim, model in sweep(solving, enc, wanted, n):
            run.record_hit(claim, n, self.unroll.states(model, n))
        found.depth = n
        return self.lassos is None and run.options.keep_going and not run.pending(True)


def bmc(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    run = Run(model, options or Options(), reporter or NullReporter())
    search = Bmc(run)
    try:
        with run.interrupts:
            for n in range(run.depth + 1):
                run.progress(n)
                if search.length(n):
                    break
    except Undecided as e:
        run.found.limit = str(e)
    except (KeyboardInterrupt, Exception) as e:  # a second Ctrl-C or SIGTERM: what was found so far
        if not run.stopped(e):
            raise
        run.found.limit = "interrupted"
    return run.result("bmc")


def states_at_depth(model: Model, depth: int, encoding: str = "bv", limit: int = 100_000) -> set[State]:
    """Every state at the end of a path of `depth` steps from an initial state, enumerated by
    the solver with a blocking clause per state found (for differential tests)."""
    run = Run(model, Options(encoding=encoding), NullReporter())
    solving = Solving(run.ctx, run.clock, run.info)
    unroll = Unrolling(run.enc, solving)
    for _ in range(depth):
        unroll.extend()
    found: set[State] = set()
    while len(found) < limit:
        m = solving.check()
        if m is None:
            break
        state = run.enc.state(m, depth)
        found.add(state)
        solving.add(z3.Not(run.enc.equals(depth, state)))
    return found
