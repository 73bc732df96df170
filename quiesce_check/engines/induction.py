"""k-induction: proves properties for every reachable state without enumerating states.

Takes a compiled model, `Options` (`depth`: the largest k, and the bound of the
base case) and a `Reporter`; gives a `Result`. For k = 0, 1, ...: the base case
is bounded model checking to length k (`engines.bmc`: its violations are real
ones, replayed and reported as such); the step case asks a second solver for a
loop-free path of k + 1 states, not necessarily reachable, whose first k states
satisfy the claims and whose last breaks one. Claims are every safety property
(invariants, the user's lemmas, final-state properties, no deadlock, no failing
step, no model error, and the step properties: a claim about a step holds of
the first k steps and is asked of the step from the last state, to any state)
and, to settle vacuity and coverage, the negation of every goal and premise
and of each action's enabledness. Liveness is not proved here (the engine's
spec refuses a model with a liveness property). They are proved together,
Houdini-style: a counterexample to induction drops the claims its last state
breaks, and the rest are tried again, until the remaining set is inductive (a
claim proved holds in every reachable state, and constrains both solvers from
then on). A safety claim still unproved at the largest k is reported with its
counterexample to induction: a short trace from a state not known to be
reachable, labelled as such, not a violation (verdict incomplete). The one
reported is for a claim dropped in the first round that dropped any (with every
claim still standing assumed), and the result names every claim dropped in
that round: those are the ones a lemma must help; the claims dropped later
may only have leant on them.
Imports `compile.*`, `engines.*`.
"""

from __future__ import annotations

import random
import time

import z3

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model
from quiesce_check.engines.bmc import Bmc
from quiesce_check.engines.common import FATAL, Failure, at_end, expand, inspect
from quiesce_check.engines.result import NullReporter, Options, Reporter, Result
from quiesce_check.engines.symbolic import (
    Claim,
    QueryTimeout,
    Run,
    Solving,
    SymbolicMismatch,
    Undecided,
    step_counterexample,
)

_FAMILY = "u"
# The simulation that settles reachable goals and actions before the solver starts
_WALKS = 200
_WALK_STEPS = 400
# The walks are bounded by their number and length, not by a time, so that the invariants guessed
# from them (and so the proofs) are the same on a loaded machine; this time only guards against a
# model whose steps are so slow that the walks alone would take longer.
_SIMULATION_SECONDS = 30.0
_IDLE_WALKS = 20   # ... stops early after this many walks in a row that meet nothing new
# The least a step-case query is allowed, in the solver's resource units (about two seconds of
# solving on a 2-core machine of 2026): a count, not a time, so that the answer does not depend
# on the machine's load.
_STEP_RESOURCES = 5_000_000


def simulate(run: Run) -> set[State]:
    """Seeded random walks through the compiled model: every goal, premise and action they
    meet is reachable, so the step case need not try to prove it unreachable. Gives the
    states visited (as many as `_VISITED`)."""
    model = run.model
    rng = random.Random(run.options.seed)
    wanted = {c.key: c for c in run.pending(False)}
    initial = list(model.initial_states())
    visited: set[State] = set()
    start = time.perf_counter()
    idle = 0
    for _ in range(_WALKS):
        if time.perf_counter() - start > _SIMULATION_SECONDS or not initial or idle >= _IDLE_WALKS:
            break
        state = rng.choice(initial)
        path = [state]
        before = (len(visited), len(wanted))
        for depth in range(_WALK_STEPS):
            if len(visited) < _VISITED:
                visited.add(state)
            bad, goals = inspect(model, state)
            if any(kind in FATAL for kind, _, _ in bad):
                break
            for g in goals:
                meet(run, wanted, f"goal{g}", depth, path)
            try:
                succs = expand(model, state)
            except Failure:
                break
            if not succs:
                end_bad, end_goals = at_end(model, state, run.options.check_deadlock)
                if not any(kind == "model-error" for kind, _, _ in end_bad):
                    for g in end_goals:
                        meet(run, wanted, f"end{g}", depth, path)
                break
            for ai, _, _ in succs:
                meet(run, wanted, f"action{ai}", depth, path)
            state = rng.choice(succs)[2]
            path.append(state)
        idle = idle + 1 if (len(visited), len(wanted)) == before else 0
    return visited


# a slot with at most this many values gets a candidate per value never seen there
_FEW_VALUES = 32
# ... at a process position, at most this many
_FEW_AT = 8
# candidates from the states visited: at most this many states looked at, candidates made
_VISITED = 20_000
_MOST_GUESSES = 20_000


def guesses(run: Run, visited: set[State]) -> list[Claim]:
    """Invariants the simulation suggests, to strengthen the step case. They are proved or
    dropped like every claim, so a wrong guess costs time, never soundness.

    Per slot: a slot that kept one value keeps it; it never holds a value it was never
    seen with (small ranges) or stays within the bounds it was seen in. Per position of
    a process (a value of its program counter) and slot: there, the slot holds the one
    value it was seen with, or never one it was not seen with (small ranges). Protocol
    invariants are often of that second kind: where the toolstack stands, which phase it
    is in; while a backend holds a request, which flags are set.
    """
    enc = run.enc
    slots = run.model.info.layout.slots
    out: list[Claim] = []

    def add(bad: z3.BoolRef, slot: int) -> None:
        if len(out) < _MOST_GUESSES:
            out.append(Claim(f"auto{len(out)}", "auto", slot, bad))

    seen: list[set[int]] = [set() for _ in slots]
    pcs = sorted(run.model.info.layout.pc_slot.values())
    at: dict[tuple[int, int], list[set[int]]] = {}
    for state in visited:
        for values, v in zip(seen, state, strict=True):
            values.add(int(v))
        for pc in pcs:
            sets = at.setdefault((pc, int(state[pc])), [set() for _ in slots])
            for values, v in zip(sets, state, strict=True):
                values.add(int(v))
    for i, (info, values) in enumerate(zip(slots, seen, strict=True)):
        if len(values) == 1:
            add(z3.Not(enc.slot_compare(i, "==", next(iter(values)))), i)
        elif info.hi - info.lo < _FEW_VALUES:
            for v in range(info.lo, info.hi + 1):
                if v not in values:
                    add(z3.Not(enc.slot_compare(i, "!=", v)), i)
        else:
            if min(values) > info.lo:
                add(z3.Not(enc.slot_compare(i, ">=", min(values))), i)
            if max(values) < info.hi:
                add(z3.Not(enc.slot_compare(i, "<=", max(values))), i)
    for (pc, where), sets in sorted(at.items()):
        here = enc.slot_compare(pc, "==", where)
        for i, (info, values) in enumerate(zip(slots, sets, strict=True)):
            if i == pc or len(values) == len(seen[i]):
                continue  # nothing the position adds to what holds everywhere
            if len(values) == 1:
                add(z3.And(here, z3.Not(enc.slot_compare(i, "==", next(iter(values))))), i)
            elif info.hi - info.lo < _FEW_AT:
                for v in sorted(seen[i] - values):
                    add(z3.And(here, enc.slot_compare(i, "==", v)), i)
    return out


def meet(run: Run, wanted: dict[str, Claim], key: str, depth: int, path: list[State]) -> None:
    claim = wanted.pop(key, None)
    if claim is not None:
        run.record_hit(claim, depth, path[:depth + 1], simulated=True)


class StepCase:
    """Frames u0..uk, a loop-free path of arbitrary (in-range) states; claim c assumed in the
    first k frames (a claim about a step: in the first k steps) under the literal `assume[c]`.
    The step from the last frame that a claim about a step is checked on is part of the query
    only: it leads to a frame u(k+1) that need not differ from the others."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.enc = run.enc
        self.solving = Solving(run.ctx, run.clock, run.info, run.interrupts)
        self.assume = {c.key: z3.Bool(f"assume_{n}", run.ctx) for n, c in enumerate(run.claims)}
        self.facts: list[z3.BoolRef] = []
        self.step_facts: list[z3.BoolRef] = []
        self.tracked = bool(run.model.info.step_properties)
        self.k = 0
        self.solving.add(self.enc.at(self.enc.ranges, 0, _FAMILY))

    def extend(self) -> None:
        e, k = self.enc, self.k
        self.solving.add(*[z3.Implies(self.assume[c.key], z3.Not(c.at(e, k, _FAMILY)))
                           for c in self.run.claims if not self.run.found.settled(c)])
        self.solving.add(e.at(e.ranges, k + 1, _FAMILY), e.step(k, _FAMILY),
                         *[e.distinct(j, k + 1, _FAMILY) for j in range(k + 1)],
                         *[e.at(f, k + 1, _FAMILY) for f in self.facts],
                         *[e.at_step(f, k, _FAMILY) for f in self.step_facts])
        if self.tracked:
            self.solving.add(e.at_step(e.chosen, k, _FAMILY))
        self.k = k + 1

    def fact(self, claim: Claim) -> None:
        """A claim proved: it holds in every reachable state (of every reachable step) from now on."""
        template = z3.Not(claim.bad)
        if claim.over_step:
            self.step_facts.append(template)
            self.solving.add(*[self.enc.at_step(template, j, _FAMILY) for j in range(self.k)])
            return
        self.facts.append(template)
        self.solving.add(*[self.enc.at(template, j, _FAMILY) for j in range(self.k + 1)])

    def broken(self, c: Claim) -> z3.BoolRef:
        """Claim c broken at the last frame; a claim about a step, by a step from it."""
        e, k = self.enc, self.k
        if not c.over_step:
            return e.at(c.bad, k, _FAMILY)
        return z3.And(e.step(k, _FAMILY), e.at_step(e.chosen, k, _FAMILY), e.at(e.ranges, k + 1, _FAMILY),
                      c.at(e, k, _FAMILY))

    def prove(self, candidates: list[Claim]) -> tuple[list[Claim], dict[str, tuple[int, z3.ModelRef]]]:
        """The largest subset of `candidates` that is k-inductive (Houdini), and for each
        candidate dropped the round that dropped it (1: with every candidate assumed) and the
        model of the counterexample to induction that did.

        A query may use at least `_STEP_RESOURCES`, else half the solver's work in the run so far:
        a step query that takes longer proves nothing at this k (no counterexample either),
        so that one hard query at a large k cannot stall the base case, which may finish
        the search sooner (a completeness proof, a violation)."""
        left = list(candidates)
        ctis: dict[str, tuple[int, z3.ModelRef]] = {}
        cap = max(_STEP_RESOURCES, self.run.info.resources // 2)
        rounds = 0
        while left:
            rounds += 1
            bad = {c.key: self.broken(c) for c in left}
            try:
                model = self.solving.check(z3.Or(*bad.values()), *[self.assume[c.key] for c in left], cap=cap)
            except QueryTimeout:
                return [], ctis
            if model is None:
                return left, ctis
            dropped = [c for c in left if z3.is_true(model.eval(bad[c.key], model_completion=True))]
            if not dropped:
                raise SymbolicMismatch("the solver's counterexample to induction breaks no claim")
            for c in dropped:
                ctis[c.key] = (rounds, model)
            left = [c for c in left if c not in dropped]
        return [], ctis

    def states(self, model: z3.ModelRef, step: bool = False) -> list[State]:
        """The frames of a counterexample to induction (with the frame after the last step, for a
        claim about a step)."""
        return [self.enc.state(model, j, _FAMILY) for j in range(self.k + 1 + step)]

    def taken(self, model: z3.ModelRef) -> list[int]:
        return [self.enc.action_value(model, j, _FAMILY) for j in range(self.k + 1)]


def induction(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    run = Run(model, options or Options(), reporter or NullReporter())
    found = run.found
    last_cti: tuple[list[Claim], list[State], list[int]] | None = None
    try:
        with run.interrupts:
            run.claims += guesses(run, simulate(run))
            base = Bmc(run)
            step = StepCase(run)
            for k in range(run.depth + 1):
                run.progress(k)
                if base.length(k):
                    break
                while step.k < k:
                    step.extend()
                # the guesses get one chance, at k = 1 (k = 0 when the bound is 0): proving
                # thousands of them again at every k would cost more than they help
                candidates = [c for c in run.pending() if c.kind != "auto" or k <= 1]
                proved, ctis = step.prove(candidates)
                for c in proved:
                    run.proved(c, k)
                    base.unroll.fact(c)
                    step.fact(c)
                if k >= 1:
                    found.dropped.update(c.key for c in run.claims if c.kind == "auto" and c.key not in found.proved)
                # the claims dropped first were broken with every other claim standing assumed: their
                # counterexample says what is missing; those dropped later may only have needed them
                failing = [c for c in run.pending(True) if c.key in ctis]
                if failing:
                    first = min(ctis[c.key][0] for c in failing)
                    roots = [c for c in failing if ctis[c.key][0] == first]
                    cti = ctis[roots[0].key][1]
                    last_cti = (roots, step.states(cti, roots[0].over_step),
                                step.taken(cti) if roots[0].over_step else [])
                # actions that may fire are coverage, not verdict: they do not keep the search going
                if not [c for c in run.pending() if c.kind not in ("action", "auto")]:
                    break
    except Undecided as e:
        found.limit = str(e)
    except (KeyboardInterrupt, Exception) as e:  # a second Ctrl-C or SIGTERM: what was proved so far
        if not run.stopped(e):
            raise
        found.limit = "interrupted"
    if last_cti is not None and run.pending(True) and not found.traces:
        roots, states, taken = last_cti
        found.cti = step_counterexample(model, states, taken, roots[0], from_initial=False) if roots[0].over_step \
            else run.trace(states, roots[0], from_initial=False)
        found.not_inductive = [run.claim_name(c) for c in roots]
    return run.result("induction")
