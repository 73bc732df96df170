"""Fair lassos as Z3 terms: bounded model checking of liveness with the loop-back encoding.

Takes a `Run` (`engines.symbolic`) whose model has liveness properties and the `Unrolling`
of its frames, with each step's action tracked; gives `Lassos`, which finds, at each length
n, the lassos of n steps that break a liveness property under the model's fairness, and
tells when no longer lasso can be the shortest one (the properties without one hold).

A lasso of n steps is frames 0..n and a loop start l in 0..n with frame n equal to frame l
(Biere, Cimatti, Clarke and Zhu, 1999): the behaviour repeats the cycle of steps l..n-1 for
ever; l = n is a stutter for ever at frame n (no steps repeat). A step that repeats a state
anywhere else adds nothing: a cycle's states and the actions it takes are the same without
it, so a shortest lasso never has one, and the encoding has none. A lasso is fair when, for
each fairness assumption F, some step of the cycle takes an action F covers, or F is
disabled at some state of the cycle (weak) or at every one (strong); at a stutter, when
nothing fair is enabled. It breaks

    eventually p          when p holds at no frame
    always eventually p   when p holds at no frame of the cycle (l..n)
    eventually always p   when p fails at some frame of the cycle
    p ~> q                when q holds at no frame of the cycle, and at some frame p holds
                          and q holds neither there nor later

Each of these is a flag per frame, defined from the one before (as the liveness-to-safety
translation of Biere, Artho and Schuppan, 2002, keeps it in a copy of the state): whether
the loop has started (`inside`), per fairness assumption whether it was enabled at every
(weak) or some (strong) frame of the cycle so far and whether the cycle took it, per
property what it needs. The frame's state with its flags, and the state the loop started
from (which the translation saves), is a state of that translation's product, and whether a
lasso closes there, fair and breaking the property, depends on that product state alone.
Two frames' product states differ when their states or one of their flags do (two frames
inside the loop share its start). When no path of product states without a repetition is
n steps long, every reachable product state is within n - 1 steps, the closing ones too:
the lengths searched already held the shortest lasso, if there was one (`complete`).

A stutter at a state where a step fails is no behaviour to report: the failing step is
found at the next length, as bfs finds it. Every lasso found is rebuilt by replaying its
states and actions through the compiled model, and the compiled model must show it: the
last state is the loop's, the fairness holds and the property breaks, evaluated in Python
(`SymbolicMismatch` if not).
Imports `compile.*`, `engines.common`, `engines.liveness` (`fairness_sets`),
`engines.symbolic`, `trace.types`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import z3

from quiesce_check.compile.ir import Fairness, Liveness
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model
from quiesce_check.engines.common import Failure, expand
from quiesce_check.engines.liveness import cycle_enabled, fairness_sets, lasso_message, lasso_why
from quiesce_check.engines.symbolic import Run, Solving, SymbolicMismatch, Unrolling, replay_steps
from quiesce_check.trace.types import Trace

# stutters at states with a failing step excluded one at a time, at most this many per length
_MOST_BLOCKED = 8


def _fails(model: Model, state: State) -> bool:
    """Whether a step from `state` fails (an assertion, a model error)."""
    try:
        expand(model, state)
    except Failure:
        return True
    return False


@dataclass
class _Frame:
    """The loop's and the properties' flags at one frame."""

    save: z3.BoolRef            # the loop starts here
    inside: z3.BoolRef          # the loop has started, here or before
    enabled: list[z3.BoolRef]   # per fairness: enabled at every frame of the loop so far (weak), at some (strong)
    took: list[z3.BoolRef]      # per fairness: a step of the loop so far took it
    live: list[list[z3.BoolRef]]  # per liveness instance: its flags (`_live_flags`)

    def product(self) -> list[z3.BoolRef]:
        """The flags that, with the state, make the frame's product state."""
        return [self.inside, *self.enabled, *self.took, *[f for fs in self.live for f in fs]]


class Lassos:
    """The flags of frames 0..last, and the lasso queries over them."""

    def __init__(self, run: Run, unroll: Unrolling, solving: Solving) -> None:
        assert unroll.tracked
        self.run = run
        self.enc = run.enc
        self.unroll = unroll
        self.solving = solving
        self.fair = fairness_sets(run.model)
        self.enabled_at = [self.enc.enabled_of(sorted(acts)) for _, acts in self.fair]
        self.live: Sequence[Liveness] = run.model.info.liveness
        self.frames: list[_Frame] = []
        self.simple = z3.Bool("simple_lasso_path", self.enc.ctx)
        fails = next(c for c in run.claims if c.kind == "failure")
        self.fails = fails.bad

    def pending(self) -> list[int]:
        """The liveness instances not yet broken (by name: one broken instance breaks its property)."""
        return [k for k, live in enumerate(self.live) if live.name not in self.run.found.traces]

    def extend(self) -> None:
        """The flags of the next frame (which the unrolling must have)."""
        j = len(self.frames)
        assert j <= self.unroll.last
        e, ctx = self.enc, self.enc.ctx
        prev = self.frames[-1] if self.frames else None

        def var(name: str) -> z3.BoolRef:
            return z3.Bool(f"lasso_{name}_{j}", ctx)

        false = z3.BoolVal(False, ctx)
        was = prev.inside if prev is not None else false
        save, inside = var("save"), var("inside")
        defs = [inside == z3.Or(was, save), z3.Not(z3.And(was, save))]
        enabled, took = [], []
        for i, ((f, acts), template) in enumerate(zip(self.fair, self.enabled_at, strict=True)):
            en = e.at(template, j)
            before = prev.enabled[i] if prev is not None else false
            flag = var(f"enabled{i}")
            # weak: enabled at every state of the loop so far; strong: at some
            defs.append(flag == (z3.And(inside, z3.Or(en, z3.And(was, before))) if f.strong
                                 else z3.And(inside, en, z3.Or(save, before))))
            enabled.append(flag)
            taken = var(f"took{i}")
            # step j - 1 is in the loop when the loop started at frame j - 1 or before
            defs.append(taken == (z3.And(was, z3.Or(prev.took[i], e.took(j - 1, sorted(acts)))) if prev is not None
                                  else false))
            took.append(taken)
        live = []
        for k, prop in enumerate(self.live):
            flags, terms = _live_flags(prop, f"lasso_live{k}_{j}", (inside, save, was), e.at(e.temporal[k][0], j),
                                       e.at(e.temporal[k][1], j), prev.live[k] if prev is not None else None)
            live.append(flags)
            defs += terms
        frame = _Frame(save, inside, enabled, took, live)
        self.solving.add(*defs)
        # the product state of each earlier frame differs from this one's
        mine = frame.product()
        self.solving.add(*[z3.Implies(self.simple, z3.Or(e.distinct(i, j), *[a != b for a, b in zip(
            other.product(), mine, strict=True)])) for i, other in enumerate(self.frames)])
        self.frames.append(frame)

    def query(self, n: int, which: Sequence[int]) -> tuple[z3.BoolRef, dict[int, z3.BoolRef]]:
        """A fair lasso of n steps that breaks one of the instances `which`; and per instance,
        the term that says it breaks it."""
        e, last = self.enc, self.frames[n]
        closes = [z3.Implies(f.save, z3.Not(e.distinct(j, n))) for j, f in enumerate(self.frames[:n])]
        fair = [z3.Implies(en, took) for en, took in zip(last.enabled, last.took, strict=True)]
        breaks = {k: _broken(self.live[k], last.live[k]) for k in which}
        return z3.And(last.inside, *closes, *fair, z3.Or(*breaks.values())), breaks

    def length(self, n: int) -> list[Trace]:
        """The lassos of n steps that break a pending instance, one per instance broken (the
        frames and flags up to n must be made)."""
        out: list[Trace] = []
        left = self.pending()
        stutter = self.frames[n].save
        blocked: list[z3.BoolRef] = []
        while left:
            query, breaks = self.query(n, left)
            model = self.solving.check(z3.And(query, *blocked))
            if model is None:
                break
            hit = [k for k in left if z3.is_true(model.eval(breaks[k], model_completion=True))]
            if not hit:
                raise SymbolicMismatch("the solver's lasso breaks none of the properties it was asked about")
            loop = next(j for j, f in enumerate(self.frames[:n + 1])
                        if z3.is_true(model.eval(f.save, model_completion=True)))
            states = self.unroll.states(model, n)
            if loop == n and _fails(self.run.model, states[-1]):
                # a step from the last state fails: the search finds that at the next length, as
                # bfs does; a stutter there is no behaviour to report. Saying so in the query for
                # every state costs more than the search (the conditions of every failure): one
                # state at a time, then all at once if there are many
                blocked.append(z3.Not(z3.And(stutter, self.enc.equals(n, states[-1]))))
                if len(blocked) > _MOST_BLOCKED:
                    blocked = [z3.Not(z3.And(stutter, self.enc.at(self.fails, n)))]
                continue
            steps = replay_steps(self.run.model, states, True, self.unroll.taken(model, n))
            for k in hit:
                live = self.live[k]
                trace = Trace(tuple(states), tuple(steps), "liveness", live.name, "", loop=loop)
                why = lasso_why(self.run.model.info, states[loop:], steps[loop:],
                                cycle_enabled(self.run.model, trace))
                trace = dataclasses.replace(trace, message=lasso_message(live, n - loop, why))
                if not shows(self.run.model, trace, k, self.fair):
                    raise SymbolicMismatch(f"the compiled model does not show the solver's lasso for "
                                           f"`{live.title}`: {states}, loop at {loop}")
                out.append(trace)
            left = [k for k in left if k not in hit and self.live[k].name not in {t.property for t in out}]
        return out

    def complete(self) -> bool:
        """Whether no path of distinct product states is as long as the frames made: then
        every lasso shorter than that was searched, and a longer one is never the shortest."""
        return self.solving.check(None, self.simple) is None


def _live_flags(live: Liveness, name: str, loop: tuple[z3.BoolRef, z3.BoolRef, z3.BoolRef],
                p: z3.BoolRef, q: z3.BoolRef, prev: list[z3.BoolRef] | None) -> tuple[list[z3.BoolRef], list[z3.BoolRef]]:
    """One liveness instance's flags at a frame (variables named from `name`), and their
    definitions: `loop` is the frame's (inside, save) and whether the loop had started before
    it; p and q are the instance's predicates at the frame; `prev` its flags at the frame before
    (None at frame 0)."""
    inside, save, was = loop
    false = z3.BoolVal(False, p.ctx)
    a = z3.Bool(f"{name}a", p.ctx)
    before = prev[0] if prev is not None else None
    if live.kind == "eventually":
        # p at no frame so far
        return [a], [a == (z3.Not(p) if before is None else z3.And(z3.Not(p), before))]
    if live.kind == "always_eventually":
        # p at no frame of the loop so far
        return [a], [a == z3.And(inside, z3.Not(p), save if before is None else z3.Or(save, before))]
    if live.kind == "eventually_always":
        # p fails at some frame of the loop so far
        return [a], [a == z3.And(inside, z3.Or(z3.Not(p), z3.And(was, false if before is None else before)))]
    # leads-to: pending (p held at some frame, and q at none since), and q at no frame of the loop so far
    b = z3.Bool(f"{name}b", p.ctx)
    quiet = prev[1] if prev is not None else None
    return [a, b], [a == z3.And(z3.Or(false if before is None else before, p), z3.Not(q)),
                    b == z3.And(inside, z3.Not(q), save if quiet is None else z3.Or(save, quiet))]


def _broken(live: Liveness, flags: list[z3.BoolRef]) -> z3.BoolRef:
    """At the frame that closes the loop: the lasso breaks the instance."""
    return z3.And(*flags) if live.kind == "leads_to" else flags[0]


def shows(model: Model, trace: Trace, k: int, fair: Sequence[tuple[Fairness, frozenset[int]]]) -> bool:
    """Whether the compiled model says the lasso `trace` is a fair behaviour that breaks
    liveness instance k: evaluated state by state, in Python, apart from the solver."""
    states, loop = trace.states, trace.loop
    if loop is None or not 0 <= loop < len(states) or states[-1] != states[loop]:
        return False
    cycle = states[loop:]
    taken = {s.action for s in trace.steps[loop:]}
    for f, acts in fair:
        enabled = []
        for v in cycle:
            try:
                enabled.append(any(a in acts for a, _, _ in expand(model, v)))
            except Failure:
                return False
        if (any(enabled) if f.strong else all(enabled)) and not taken & acts:
            return False
    live = model.info.liveness[k]
    p = [model.temporal(v)[k][0] for v in states]
    q = [model.temporal(v)[k][1] for v in states]
    if live.kind == "eventually":
        return not any(p)
    if live.kind == "always_eventually":
        return not any(p[loop:])
    if live.kind == "eventually_always":
        return not all(p[loop:])
    return not any(q[loop:]) and any(p[i] and not any(q[i:]) for i in range(len(states)))
