"""Bounded model checking: every behaviour of at most K steps, by unrolling the transitions.

Takes a compiled model, `Options` (`depth`: K) and a `Reporter`; gives a `Result`.
One solver holds frames 0..L (frame 0 an initial state, each next frame one step
further), extended one frame at a time. At each length L = 0..K it asks, in this
order: a step from frame L - 1 that fails (an assertion, a runtime model error);
a model error evaluating the properties in frame L; an invariant, a final-state
property or a deadlock broken in frame L. So the first violation found is a
shortest one, as with bfs (of several of one length, bfs reports the one it
meets first, bmc the first in that order, then in declaration order). Frame K
is checked as bfs --max-depth K checks the states at depth K: its invariants
and goals, not what needs its successors (deadlock, final-state properties,
actions firing), so the two cover the same ground at the same bound. Each is
rebuilt as an ordinary `Trace` by replaying it through the compiled model before
it is reported. Goals and actions are met at their first depth (the witnesses
are shortest too). When no loop-free path of length L leaves an initial state,
every reachable state is within L - 1 steps and has been checked: the result is
complete, as an exhaustive search's. Otherwise no violation up to K is
incomplete. With `keep_going` every property gets its shortest counterexample
(a failing step or a model error still ends the run).
Imports `compile.*`, `engines.common`, `engines.result`, `engines.symbolic`.
"""

from __future__ import annotations

import z3

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model
from quiesce_check.engines.result import NullReporter, Options, Reporter, Result
from quiesce_check.engines.symbolic import AT_END, Claim, Run, Solving, Undecided, Unrolling, sweep


class Bmc:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.solving = Solving(run.ctx, run.clock, run.info, run.interrupts)
        self.unroll = Unrolling(run.enc, self.solving)

    def violation(self, claim: Claim, model: z3.ModelRef, last: int) -> None:
        found = self.run.found
        trace = self.run.trace(self.unroll.states(model, last), claim)
        found.traces.setdefault(trace.property, trace)
        found.violated.add(claim.key)

    def length(self, n: int) -> bool:
        """Check everything a trace of `n` steps can show; True when the run is over."""
        run, found = self.run, self.run.found
        enc, solving, keep_going = run.enc, self.solving, run.options.keep_going
        if n >= 1:
            failing = [c for c in run.pending(True) if c.kind == "failure"]
            for claim, model in sweep(solving, enc, failing, n - 1):
                self.violation(claim, model, n - 1)
                return True
            self.unroll.extend()
            if solving.check(None, self.unroll.simple) is None:
                found.complete_at = n - 1
                return True
        # at the bound, states are checked but not expanded, as by bfs --max-depth
        expanded = n < run.depth
        errors = [c for c in run.pending(True) if c.kind in ("error", "end-error") and (expanded or c.kind == "error")]
        for claim, model in sweep(solving, enc, errors, n):
            self.violation(claim, model, n)
            return True
        broken = sweep(solving, enc, [c for c in run.pending(True) if c.kind in ("invariant", "final", "deadlock")
                                      and (expanded or c.kind not in AT_END)], n)
        order = {c.key: k for k, c in enumerate(run.claims)}
        for claim, model in sorted(broken, key=lambda cm: order[cm[0].key]):
            self.violation(claim, model, n)
            if not keep_going:
                return True
        # goals in frame n; where it is expanded, end goals and the actions that can fire from it
        wanted = [c for c in run.pending(False) if expanded or c.kind not in ("action", "end-goal")]
        for claim, model in sweep(solving, enc, wanted, n):
            run.record_hit(claim, n, self.unroll.states(model, n))
        found.depth = n
        return keep_going and not run.pending(True)


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
