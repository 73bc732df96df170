"""What the symbolic engines (bmc, induction) share: claims, the solver, traces, results.

Takes a compiled model (its `Program`, encoded by `compile.z3gen`) and `Options`;
gives `Claim`s (each property, each kind of failure, each goal and each action,
as the condition under which one state, or one step, breaks or hits it, decided
as the explicit engines decide it), `Solving` (one Z3 solver under the time
limit, with statistics, and `unknown` raised as `Undecided`, never taken for an
answer), `Unrolling` (frames from the initial states and the transition relation
between them, with each step's action when it is tracked), `counterexample` and
`step_counterexample` (a path the solver found, rebuilt as an ordinary `Trace` by
replaying it, with its actions, through the compiled model: a path that does not
replay is a `SymbolicMismatch`, an internal error, never a verdict), and
`assemble` (the `Result`, with rows for step and liveness properties).
Imports `compile.*`, `engines.common`, `engines.result`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import z3

from quiesce_check.compile.ir import Program, Property
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model, StepError
from quiesce_check.compile.z3gen import Encoding, encode
from quiesce_check.engines.common import Clock, Failure, at_end, check_step, expand, inspect
from quiesce_check.engines.interrupt import Interrupts
from quiesce_check.engines.result import (
    CheckKind,
    Options,
    PropertyResult,
    Reporter,
    Result,
    Stats,
    Status,
    Symbolic,
    Verdict,
    check_kind,
    first_reported,
    lead_verdict,
)
from quiesce_check.trace.types import Step, Trace, TraceKind

# --depth when none is given
DEFAULT_DEPTH = 20

# What a claim is about (see `Claim`)
ClaimKind = Literal["failure", "error", "end-error", "invariant", "final", "deadlock", "step-error", "step",
                    "goal", "end-goal", "action", "auto"]
SAFETY = ("failure", "error", "end-error", "invariant", "final", "deadlock", "step-error", "step")
# claims about a step (their `bad` is over the encoding's `cur`, `nxt` and `act`)
OVER_STEP = ("step-error", "step")
# claims about states without successors: found where a search expands a state
AT_END = ("end-error", "final", "deadlock", "end-goal")


class SymbolicMismatch(Exception):
    """The solver's path does not replay on the compiled model: a bug, never a verdict."""


class Undecided(Exception):
    """The solver gave no answer: the time limit, an interrupt, or its own limits."""


class QueryTimeout(Exception):
    """One query ran out of the time its caller allowed it (the run goes on)."""


@runtime_checkable
class SolverReporter(Protocol):
    def solving(self, depth: int, queries: int, elapsed: float) -> None: ...


def program_of(model: Model) -> Program:
    if model.program is None:
        raise TypeError("the symbolic engines need a compiled model (with its program)")
    return model.program


# ------------------------------------------------------------------ claims


@dataclass(frozen=True)
class Claim:
    """A condition on one state: `bad` is a template over the encoding's current frame.

    Safety claims (`failure`: some step from the state fails; `error`: evaluating
    the invariants, goals or liveness predicates in it is a model error;
    `end-error`: it has no successor and evaluating the final-state properties
    or the terminal predicates in it is; `invariant`, `final`, `deadlock`) are
    broken where `bad` holds; the others (`goal`, `end-goal`, `action`, and
    `auto`: a candidate invariant the engine guessed) are hit there. The claims
    `step-error` (evaluating the step properties over a step is a model error)
    and `step` (a step property, `always step`) are about a step: their `bad`
    is a template over a step (`Encoding.at_step`).
    """

    key: str
    kind: ClaimKind
    index: int        # into the invariants, finals, goals, end goals or actions
    bad: z3.BoolRef

    @property
    def safety(self) -> bool:
        return self.kind in SAFETY

    @property
    def over_step(self) -> bool:
        return self.kind in OVER_STEP

    def at(self, enc: Encoding, k: int, family: str = "s") -> z3.BoolRef:
        """`bad` at frame k, or for a claim about a step, at the step from frame k."""
        return enc.at_step(self.bad, k, family) if self.over_step else enc.at(self.bad, k, family)


def claims(enc: Encoding, check_deadlock: bool) -> list[Claim]:
    """Every claim, safety claims first in the order a result reports violations of one length."""
    e = enc
    fails = z3.Or(e.step_error, e.step_failed)
    dead = z3.And(z3.Not(fails), z3.Not(e.enabled))
    end_error = z3.And(dead, z3.Or(e.final_error, e.terminal_error) if check_deadlock else e.final_error)
    out = [Claim("failure", "failure", -1, fails),
           Claim("error", "error", -1, z3.Or(e.inv_error, e.goal_error, e.temporal_error)),
           Claim("end-error", "end-error", -1, end_error)]
    if e.step_values:
        out.append(Claim("step-error", "step-error", -1, e.step_value_error))
    out += [Claim(f"invariant{i}", "invariant", i, z3.And(z3.Not(e.inv_error), z3.Not(v)))
            for i, v in enumerate(e.invariants)]
    out += [Claim(f"step{i}", "step", i, z3.And(z3.Not(e.step_value_error), z3.Not(v)))
            for i, v in enumerate(e.step_values)]
    out += [Claim(f"final{i}", "final", i, z3.And(dead, z3.Not(e.final_error), z3.Not(v)))
            for i, v in enumerate(e.finals)]
    if check_deadlock:
        out.append(Claim("deadlock", "deadlock", -1,
                         z3.And(dead, z3.Not(e.final_error), z3.Not(e.terminal_error), z3.Not(e.terminal))))
    out += [Claim(f"goal{j}", "goal", j, z3.And(z3.Not(e.inv_error), z3.Not(e.goal_error), v))
            for j, v in enumerate(e.goals)]
    out += [Claim(f"end{j}", "end-goal", j, z3.And(dead, z3.Not(e.final_error), v))
            for j, v in enumerate(e.end_goals)]
    out += [Claim(f"action{a.index}", "action", a.index, a.enabled) for a in e.actions]
    return out


# ------------------------------------------------------------------ the solver


# The Z3 solver each integer encoding runs best on: both bit-blast to SAT (incrementally);
# Z3's default solver, the SMT core, was 10 to 100 times slower on every repository model.
SOLVER_LOGIC = {"int": "QF_FD", "bv": "QF_BV"}


class Solving:
    """One Z3 solver: queries under the time limit, counted and timed."""

    def __init__(self, ctx: z3.Context, clock: Clock, info: Symbolic, interrupts: Interrupts | None = None) -> None:
        self.solver = z3.SolverFor(SOLVER_LOGIC[info.encoding], ctx=ctx)
        self.clock = clock
        self.info = info
        self.interrupts = interrupts

    def add(self, *constraints: z3.BoolRef) -> None:
        self.solver.add(*constraints)

    def check(self, query: z3.BoolRef | None = None, *assumptions: z3.BoolRef,
              cap: int | None = None) -> z3.ModelRef | None:
        """A model when `query` can hold (with the assertions and assumptions), else None.
        With `cap`, a query that needs more than that many of the solver's resource units
        raises `QueryTimeout`: a count of the solver's own work, not a time, so that a run
        gives the same answers however loaded the machine is."""
        remaining = self.clock.remaining()
        if remaining is not None and remaining <= 0:
            raise Undecided(f"--time-limit {self.clock.limit:g}s")
        if self.interrupts is not None and self.interrupts.requested:
            raise Undecided("interrupted")
        self.solver.set("timeout", max(1, int(remaining * 1000)) if remaining is not None else 4294967295)
        self.solver.set("rlimit", cap or 0)  # counted from this query's start; 0: no limit
        if query is not None:
            self.solver.push()
            self.solver.add(query)
        start = time.perf_counter()
        used = _resources(self.solver)
        try:
            answer = self.solver.check(*assumptions)
            model = self.solver.model() if answer == z3.sat else None
        except KeyboardInterrupt:
            raise Undecided("interrupted") from None
        except z3.Z3Exception as e:  # a cancelled check
            raise Undecided(f"the solver stopped: {e}") from None
        finally:
            self.info.queries += 1
            self.info.solver_seconds += time.perf_counter() - start
            self.info.resources += max(0, _resources(self.solver) - used)
            if query is not None:
                self.solver.pop()
        if answer == z3.unknown:
            reason = self.solver.reason_unknown()
            if cap is not None and "resource limit" in reason:
                raise QueryTimeout(reason)
            if self.clock.expired() or reason in ("timeout", "canceled"):
                raise Undecided(f"--time-limit {self.clock.limit:g}s" if self.clock.limit is not None
                                else "interrupted")
            raise Undecided(f"the solver could not decide a query ({reason})")
        return model


def _resources(solver: z3.Solver) -> int:
    """The resource units the solver's context has counted so far (Z3's `rlimit count`)."""
    try:
        return int(solver.statistics().get_key_value("rlimit count"))
    except z3.Z3Exception:
        return 0


class Unrolling:
    """Frames 0..last of the `s` family: frame 0 initial, each next one a step further.

    Facts (templates proved to hold in every reachable state) constrain every
    frame; `simple` is the assumption that the frames are pairwise distinct.
    With `tracked`, each step's action is a variable (`Encoding.action`) that
    the step is bound to (`Encoding.chosen`), for what reads it: the step
    properties, fairness.
    """

    def __init__(self, enc: Encoding, solving: Solving, tracked: bool = False) -> None:
        self.enc = enc
        self.solving = solving
        self.tracked = tracked
        self.simple = z3.Bool("simple_path", enc.ctx)
        self.facts: list[z3.BoolRef] = []
        self.step_facts: list[z3.BoolRef] = []
        self.last = 0
        solving.add(enc.at(enc.ranges, 0), enc.at(enc.init, 0))

    def extend(self) -> None:
        k = self.last + 1
        e = self.enc
        self.solving.add(e.at(e.ranges, k), e.step(k - 1), *[e.at(f, k) for f in self.facts])
        if self.tracked:
            self.solving.add(e.at_step(e.chosen, k - 1), *[e.at_step(f, k - 1) for f in self.step_facts])
        self.solving.add(*[z3.Implies(self.simple, e.distinct(j, k)) for j in range(k)])
        self.last = k

    def fact(self, claim: Claim) -> None:
        """A claim proved: it holds in every reachable state (of every reachable step)."""
        template = z3.Not(claim.bad)
        if claim.over_step:
            # the steps are tracked, or the model has no step property for a claim to be about
            self.step_facts.append(template)
            self.solving.add(*[self.enc.at_step(template, k) for k in range(self.last)])
            return
        self.facts.append(template)
        self.solving.add(*[self.enc.at(template, k) for k in range(self.last + 1)])

    def states(self, model: z3.ModelRef, last: int) -> list[State]:
        return [self.enc.state(model, k) for k in range(last + 1)]

    def taken(self, model: z3.ModelRef, last: int) -> list[int]:
        """The action of each step up to frame `last` (the steps must be `tracked`)."""
        assert self.tracked
        return [self.enc.action_value(model, k) for k in range(last)]


def sweep(solving: Solving, enc: Encoding, pending: Sequence[Claim], k: int, family: str = "s",
          assumptions: Sequence[z3.BoolRef] = ()) -> list[tuple[Claim, z3.ModelRef]]:
    """Every claim of `pending` whose `bad` can hold at frame k (at the step from it, for a claim
    about a step), each with a model showing it."""
    left = list(pending)
    found: list[tuple[Claim, z3.ModelRef]] = []
    while left:
        terms = {c.key: c.at(enc, k, family) for c in left}
        model = solving.check(z3.Or(*terms.values()), *assumptions)
        if model is None:
            break
        hit = [c for c in left if z3.is_true(model.eval(terms[c.key], model_completion=True))]
        if not hit:
            raise SymbolicMismatch("the solver's model satisfies none of the claims it was asked about")
        found += [(c, model) for c in hit]
        left = [c for c in left if c not in hit]
    return found


# ------------------------------------------------------------------ traces


def replay_steps(model: Model, states: Sequence[State], from_initial: bool = True,
                 actions: Sequence[int] | None = None) -> list[Step]:
    """The steps of the compiled model that lead through `states` (by `actions`, when given: the
    action matters to fairness and to step properties), or `SymbolicMismatch`."""
    if from_initial and states[0] not in set(model.initial_states()):
        raise SymbolicMismatch(f"the solver's initial state {states[0]} is not an initial state")
    steps = []
    for k in range(len(states) - 1):
        try:
            succs = expand(model, states[k])
        except Failure as f:
            raise SymbolicMismatch(f"step {k + 1}: the solver's path goes on after a failing step "
                                   f"({f.message})") from None
        match = next(((ai, ch) for ai, ch, t in succs
                      if t == states[k + 1] and (actions is None or ai == actions[k])), None)
        if match is None:
            by = "" if actions is None else f" by action {actions[k]}"
            raise SymbolicMismatch(f"step {k + 1}: no step of the compiled model leads from {states[k]} "
                                   f"to {states[k + 1]}{by}")
        steps.append(Step(*match))
    return steps


def _shows(model: Model, state: State, claim: Claim,
           check_deadlock: bool) -> tuple[TraceKind, str, str, Step | None] | None:
    """What the compiled model says `state` shows for `claim`: (kind, property, message, failing
    step), or None when it does not show it."""
    info = model.info
    if claim.kind == "failure":
        try:
            expand(model, state)
        except Failure as f:
            return f.kind, f.prop, f.message, f.step
        return None
    if claim.kind in ("error", "invariant", "goal"):
        bad, goals = inspect(model, state)
        for kind, prop, message in bad:
            if (claim.kind == "error" and kind == "model-error") or \
                    (claim.kind == "invariant" and kind == "invariant" and prop == info.invariants[claim.index].name):
                return kind, prop, message, None
        if claim.kind == "error":
            try:
                model.temporal(state)
            except StepError as e:
                return "model-error", "model error", f"evaluating a liveness property: {e.message}", None
        if claim.kind == "goal":
            errors = any(kind == "model-error" for kind, _, _ in bad)
            return ("goal", info.reachables[claim.index].name, "", None) \
                if claim.index in goals and not errors else None
        if claim.kind == "invariant":
            return None
    if claim.kind == "action":
        try:
            succs = expand(model, state)
        except Failure:
            # another step fails here, and that failure ends the search (it is found at the next
            # depth): the compiled model expands no further, so it cannot refute the solver
            return "goal", info.actions[claim.index].label, "", None
        return ("goal", info.actions[claim.index].label, "", None) if any(a == claim.index for a, _, _ in succs) \
            else None
    try:
        if expand(model, state):
            return None
    except Failure:
        return None
    bad, goals = at_end(model, state, check_deadlock)
    for kind, prop, message in bad:
        if (claim.kind == "end-error" and kind == "model-error") or (claim.kind == kind == "deadlock") or \
                (claim.kind == kind == "final" and prop == info.finals[claim.index].name):
            return kind, prop, message, None
    if claim.kind == "end-goal" and claim.index in goals and not any(k == "model-error" for k, _, _ in bad):
        return "goal", info.end_goals[claim.index].name, "", None
    return None


def step_counterexample(model: Model, states: Sequence[State], actions: Sequence[int], claim: Claim,
                        from_initial: bool = True) -> Trace:
    """The solver's path whose last step breaks a claim about a step, as a `Trace` ending in the
    state after that step; each step and the last step's verdict checked on the compiled model."""
    steps = replay_steps(model, states, from_initial, actions)
    for kind, prop, message in check_step(model, states[-2], actions[-1], states[-1]):
        if (claim.kind == "step-error" and kind == "model-error") or \
                (claim.kind == "step" and kind == "action" and prop == model.info.step_properties[claim.index].name):
            return Trace(tuple(states), tuple(steps), kind, prop, message)
    raise SymbolicMismatch(f"the compiled model does not show the solver's {claim.kind} ({claim.key}) in the "
                           f"step from {states[-2]} to {states[-1]}")


def counterexample(model: Model, states: Sequence[State], claim: Claim, check_deadlock: bool,
                   from_initial: bool = True) -> Trace:
    """The solver's path as a `Trace`, each step and the ending checked on the compiled model."""
    steps = replay_steps(model, states, from_initial)
    shown = _shows(model, states[-1], claim, check_deadlock)
    if shown is None:
        raise SymbolicMismatch(f"the compiled model does not show the solver's {claim.kind} "
                               f"({claim.key}) in state {states[-1]}")
    kind, prop, message, extra = shown
    if extra is not None:
        steps.append(extra)
    return Trace(tuple(states), tuple(steps), kind, prop, message)


# ------------------------------------------------------------------ results


@dataclass
class Findings:
    """What a symbolic run established, by claim key."""

    depth: int = 0                                         # every behaviour this long was checked
    traces: dict[str, Trace] = field(default_factory=dict)  # by property name, as the explicit engines
    violated: set[str] = field(default_factory=set)
    hit: dict[str, int] = field(default_factory=dict)       # goal, end goal, action -> depth met
    simulated: set[str] = field(default_factory=set)        # ... met by simulation: not a first depth
    witnesses: dict[str, Trace] = field(default_factory=dict)
    proved: dict[str, int] = field(default_factory=dict)    # holds in every reachable state: by k-induction
    dropped: set[str] = field(default_factory=set)          # guessed invariants given up
    complete_at: int | None = None
    proved_at: int | None = None
    limit: str | None = None
    cti: Trace | None = None
    not_inductive: list[str] = field(default_factory=list)  # the claims the first round of the last k dropped
    # every liveness property without a lasso holds: why (None: undecided)
    live_decided: str | None = None

    def settled(self, c: Claim) -> bool:
        return c.key in self.violated or c.key in self.hit or c.key in self.proved \
            or c.key in self.dropped or self.complete_at is not None


def steps_text(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


class _Rows:
    """How each property's status was established, in words: the pieces `property_rows` puts together."""

    def __init__(self, found: Findings) -> None:
        self.found = found
        self.bound = f"within {steps_text(found.depth)}"
        self.stopped = bool(found.traces) and found.complete_at is None
        self.undecided = "undecided: the search ended at a counterexample" if self.stopped \
            else f"no violation {self.bound}"
        self.complete = found.complete_at is not None

    def holds(self, key: str) -> bool:
        return self.complete or key in self.found.proved

    def how(self, key: str) -> str:
        if key in self.found.proved:
            return f"proved by {self.found.proved[key]}-induction"
        return f"every reachable state checked (none is more than {steps_text(self.found.complete_at or 0)} away)"

    def met(self, key: str) -> str:
        n = self.found.hit[key]
        return f"in a simulated run, after {steps_text(n)}" if key in self.found.simulated else f"after {steps_text(n)}"

    def premise(self, goal: Claim | None) -> tuple[str, str]:
        """(reached | unreachable | unknown, what to say)."""
        if goal is None:
            return "none", ""
        if goal.key in self.found.hit:
            return "reached", f"its premise holds {self.met(goal.key)}"
        if self.holds(goal.key):
            return "unreachable", "its premise never holds"
        return "unknown", f"its premise was not reached {self.bound} and not proved unreachable"

    def declared(self, kind: CheckKind, p: Property, key: str, premise: Claim | None) -> tuple[PropertyResult, bool]:
        """An invariant's, a lemma's or a final property's row; and whether its premise is unresolved."""
        trace = self.found.traces.get(p.name)
        if trace is not None and trace.kind in ("invariant", "final"):
            return PropertyResult(kind, p.name, Status.VIOLATED, f"after {steps_text(len(trace.steps))}"), False
        state, said = self.premise(premise if p.kind != "lemma" else None)
        if not self.holds(key):
            return PropertyResult(kind, p.name, Status.INCOMPLETE, "; ".join(x for x in (self.undecided, said) if x)), False
        if state == "unreachable":
            return PropertyResult(kind, p.name, Status.VACUOUS, f"{self.how(key)}; {said}"), False
        how = "; ".join(x for x in (self.how(key), said) if x)
        return PropertyResult(kind, p.name, Status.HOLDS, how), state == "unknown"

    def goal(self, name: str, key: str) -> PropertyResult:
        if key in self.found.hit:
            return PropertyResult("reachable", name, Status.REACHED, self.met(key))
        if self.holds(key):
            return PropertyResult("reachable", name, Status.UNREACHED, self.how(key))
        return PropertyResult("reachable", name, Status.INCOMPLETE, f"not reached {self.bound}")

    def liveness(self, name: str) -> PropertyResult:
        trace = self.found.traces.get(name)
        if trace is not None and trace.kind == "liveness":
            then = "stuttering" if trace.loop == len(trace.steps) else f"the cycle from state {trace.loop}"
            return PropertyResult("liveness", name, Status.VIOLATED,
                                  f"a fair lasso: {steps_text(len(trace.steps))}, then {then} for ever")
        if self.found.live_decided is not None:
            return PropertyResult("liveness", name, Status.HOLDS, self.found.live_decided)
        return PropertyResult("liveness", name, Status.INCOMPLETE,
                              self.undecided if self.stopped else f"no fair lasso {self.bound}")

    def row(self, kind: CheckKind, name: str, key: str, violated: bool) -> PropertyResult:
        if violated:
            return PropertyResult(kind, name, Status.VIOLATED)
        if self.holds(key):
            return PropertyResult(kind, name, Status.HOLDS, self.how(key))
        return PropertyResult(kind, name, Status.INCOMPLETE, self.undecided)


def property_rows(model: Model, cs: Sequence[Claim], found: Findings,
                  check_deadlock: bool) -> tuple[list[PropertyResult], bool]:
    """Each property's status and how it was established; and whether anything is unresolved."""
    info = model.info
    by_key = {c.key: c for c in cs}
    words = _Rows(found)
    unresolved = False
    rows: list[PropertyResult] = []
    premise_of = {info.reachables[c.index].name: c for c in cs
                  if c.kind == "goal" and info.reachables[c.index].kind == "premise"}
    end_premise_of = {info.end_goals[c.index].name: c for c in cs if c.kind == "end-goal"}
    for kind, props, table in (("invariant", info.invariants, premise_of), ("final", info.finals, end_premise_of)):
        for i, p in enumerate(props):
            row, open_premise = words.declared(check_kind(p), p, f"{kind}{i}", table.get(p.name))
            rows.append(row)
            unresolved |= open_premise
        if kind == "invariant":
            rows += [words.row("action", sp.name, f"step{i}", sp.name in found.traces)
                     for i, sp in enumerate(info.step_properties)]
    rows += [words.liveness(name) for name in dict.fromkeys(p.name for p in info.liveness)]
    rows += [words.goal(g.name, f"goal{j}") for j, g in enumerate(info.reachables) if g.kind != "premise"]
    if info.asserts:
        failed = [t for t in found.traces.values() if t.kind == "assertion"]
        rows.append(words.row("assertion", failed[0].property if failed else "every assert", "failure", bool(failed)))
    if check_deadlock:
        rows.append(words.row("deadlock", "no deadlock", "deadlock", "deadlock" in found.traces))
    if not all(words.holds(k) for k in by_key if k in ("failure", "error", "end-error", "step-error")):
        unresolved = True
    return rows, unresolved


def assemble(engine: str, model: Model, cs: Sequence[Claim], found: Findings, info: Symbolic,
             options: Options, clock: Clock) -> Result:
    mi = model.info
    rows, unresolved = property_rows(model, cs, found, options.check_deadlock)
    first = first_reported(mi, found.traces)
    if first is not None:
        verdict = lead_verdict(first, found.traces)
    elif unresolved or any(r.status is Status.INCOMPLETE for r in rows):
        verdict = Verdict.INCOMPLETE
    elif any(r.status in (Status.VACUOUS, Status.UNREACHED) for r in rows):
        verdict = Verdict.VACUOUS
    else:
        verdict = Verdict.HOLDS
    info.depth = found.depth
    info.complete_at = found.complete_at
    info.proved_at = found.proved_at
    info.cti = found.cti
    info.not_inductive = list(found.not_inductive)
    info.generated = sum(1 for c in cs if c.kind == "auto" and c.key in found.proved)
    info.never = sorted(c.index for c in cs if c.kind == "action" and c.key not in found.hit
                        and (c.key in found.proved or found.complete_at is not None))
    stats = Stats(fired=[0] * len(mi.actions), new=[0] * len(mi.actions))
    stats.depth = found.depth
    stats.elapsed = clock.elapsed()
    limit = found.limit
    if verdict is Verdict.INCOMPLETE and limit is None:
        limit = f"--depth {found.depth}"
    complete = found.complete_at is not None and not any(t.kind in ("assertion", "model-error")
                                                         for t in found.traces.values()) \
        and (not mi.liveness or found.live_decided is not None)
    return Result(engine=engine, verdict=verdict, properties=rows, stats=stats, trace=first,
                  traces=dict(found.traces), limit=limit if verdict is Verdict.INCOMPLETE else None,
                  complete=complete, witnesses=found.witnesses, backend="z3", symbolic=info)


class Run:
    """One symbolic run's common state: the model, its encoding and claims, the solver's clock."""

    def __init__(self, model: Model, options: Options, reporter: Reporter) -> None:
        self.model = model
        self.options = options
        self.reporter = reporter
        self.clock = Clock(options.deadline)
        self.ctx = z3.Context()
        self.enc = encode(program_of(model), self.ctx, options.encoding)
        self.claims = claims(self.enc, options.check_deadlock)
        self.depth = DEFAULT_DEPTH if options.depth is None else options.depth
        self.info = Symbolic(encoding=self.enc.arith, depth=0, first_step=[None] * len(model.info.actions))
        self.found = Findings()
        # entered by the engine for its search: Ctrl-C or SIGTERM is a request, honoured before the
        # next query (an exception raised inside Z3's ctypes calls would come out as another one)
        self.interrupts = Interrupts()

    def stopped(self, e: BaseException) -> bool:
        """Whether `e`, raised during the search, is an interrupt's doing."""
        return isinstance(e, KeyboardInterrupt) or self.interrupts.requested or "KeyboardInterrupt" in str(e)

    def progress(self, depth: int) -> None:
        if isinstance(self.reporter, SolverReporter):
            self.reporter.solving(depth, self.info.queries, self.clock.elapsed())

    def proved(self, claim: Claim, k: int) -> None:
        self.found.proved[claim.key] = k
        if claim.safety:
            self.found.proved_at = max(k, self.found.proved_at or 0)

    def claim_name(self, claim: Claim) -> str:
        """The name a result shows for a safety claim's property."""
        info = self.model.info
        if claim.kind == "invariant":
            return info.invariants[claim.index].name
        if claim.kind == "final":
            return info.finals[claim.index].name
        if claim.kind == "step":
            return info.step_properties[claim.index].name
        return {"failure": "every assert", "deadlock": "no deadlock"}.get(claim.kind, "no model error")

    def pending(self, safety: bool | None = None) -> list[Claim]:
        return [c for c in self.claims if not self.found.settled(c) and (safety is None or c.safety == safety)]

    def trace(self, states: Sequence[State], claim: Claim, from_initial: bool = True) -> Trace:
        return counterexample(self.model, states, claim, self.options.check_deadlock, from_initial)

    def record_hit(self, claim: Claim, depth: int, states: Sequence[State], simulated: bool = False) -> None:
        """A goal or an action met at `depth`: the first depth unless `simulated`; the witness is
        checked by replay. (A candidate invariant met is simply dropped.)"""
        self.found.hit[claim.key] = depth
        if claim.kind == "auto":
            return
        trace = self.trace(states, claim)
        if simulated:
            self.found.simulated.add(claim.key)
        if claim.kind == "action":
            self.info.first_step[claim.index] = depth + 1
            if simulated:
                self.info.simulated.append(claim.index)
        elif claim.kind == "goal" and self.model.info.reachables[claim.index].kind != "premise":
            self.found.witnesses[trace.property] = trace

    def result(self, engine: str) -> Result:
        return assemble(engine, self.model, self.claims, self.found, self.info, self.options, self.clock)
