"""Symmetry reduction for breadth-first search: one canonical state per orbit.

Takes a `Model` and a `compile.symmetry.Symmetry`; gives `Reduced`, the model
whose states are canonical representatives (its initial states and every
successor are canonicalised), `self_check`, which samples reachable states
and permutations and refuses a declaration the model does not respect, and
`concretise`, which turns a trace through representatives into a real trace
of the model: from the initial state, at each step, the first successor
whose canonical form is the next representative. Searching the reduced
model visits each orbit once, at the depth of its nearest member (the
permutations map initial states to initial states and steps to steps), so
verdicts and shortest-counterexample lengths are those of the full search.
Imports `compile.*`, `engines.common`, `engines.result`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model, StepError, Successor
from quiesce_check.compile.symmetry import Permutation, Symmetry, SymType, show_state
from quiesce_check.engines.common import Failure, expand
from quiesce_check.engines.result import Result
from quiesce_check.trace.types import Step, Trace

# How many reachable states the self-check samples, and the seed it samples them with.
SAMPLES = 300
SEED = 0


class SymmetryBreach(Exception):
    """The model does not respect a `symmetric type` declaration: `types` name the declarations
    (with their spans), `message` says where it fails."""

    def __init__(self, types: Sequence[SymType], message: str) -> None:
        super().__init__(message)
        self.types = list(types)
        self.message = message


class Reduced:
    """`model` with every state replaced by its canonical representative."""

    def __init__(self, model: Model, symmetry: Symmetry) -> None:
        self.base = model
        self.symmetry = symmetry
        self.info = model.info
        self.program = None  # its steps are the base model's, each state made canonical

    def initial_states(self) -> Sequence[State]:
        canon = self.symmetry.canon
        return list(dict.fromkeys(canon(s) for s in self.base.initial_states()))

    def successors(self, state: State) -> list[Successor]:
        canon = self.symmetry.canon
        return [(ai, ch, canon(t)) for ai, ch, t in self.base.successors(state)]

    def violations(self, state: State) -> list[int]:
        return self.base.violations(state)

    def reached(self, state: State) -> list[int]:
        return self.base.reached(state)

    def final_violations(self, state: State) -> list[int]:
        return self.base.final_violations(state)

    def end_reached(self, state: State) -> list[int]:
        return self.base.end_reached(state)

    def is_terminal(self, state: State) -> bool:
        return self.base.is_terminal(state)

    def temporal(self, state: State) -> list[tuple[bool, bool]]:
        return self.base.temporal(state)  # never asked: engines refuse liveness with symmetry

    def step_violations(self, before: State, action: int, after: State) -> list[int]:
        return self.base.step_violations(before, action, after)  # likewise


# ------------------------------------------------------------------ self-check


def _outcome(model: Model, state: State) -> object:
    """A state's successors (as a set), or that a step fails there. Not which failure: a state
    with several failing steps reports the first in the order of its steps, and a permutation
    of it may meet another first."""
    try:
        return frozenset(t for _, _, t in expand(model, state))
    except Failure:
        return "fails"


def _properties(model: Model, state: State, ends: bool) -> dict[str, object]:
    probes: list[tuple[str, Callable[[State], object]]] = [
        ("invariants", lambda s: frozenset(model.violations(s))), ("goals", lambda s: frozenset(model.reached(s)))]
    if ends:
        probes += [("final properties", lambda s: frozenset(model.final_violations(s))),
                   ("end goals", lambda s: frozenset(model.end_reached(s))),
                   ("terminal predicates", model.is_terminal)]
    out: dict[str, object] = {}
    for what, probe in probes:
        try:
            out[what] = probe(state)
        except StepError:
            out[what] = "error"
    return out


def _sample(model: Model, rng: random.Random, count: int) -> list[State]:
    """Reachable states: the first of a breadth-first search, then the states of random walks."""
    init = list(model.initial_states())
    seen: dict[State, None] = dict.fromkeys(init)
    queue = list(init)
    head = 0
    while head < len(queue) and len(seen) < count // 2:
        try:
            succs = expand(model, queue[head])
        except Failure:
            succs = []
        head += 1
        for _, _, t in succs:
            if t not in seen and len(seen) < count // 2:
                seen[t] = None
                queue.append(t)
    budget = count * 20
    while len(seen) < count and budget > 0 and init:
        state = rng.choice(init)
        for _ in range(200):
            budget -= 1
            try:
                succs = expand(model, state)
            except Failure:
                break
            if not succs:
                break
            state = rng.choice(succs)[2]
            seen.setdefault(state, None)
            if len(seen) >= count or budget <= 0:
                break
    return list(seen)


def self_check(model: Model, symmetry: Symmetry, samples: int = SAMPLES, seed: int = SEED) -> int:
    """Check, on sampled states, that the model treats the symmetric values alike: the initial
    states are closed under every permutation, and for a sampled state s and permutation p,
    the successors of p(s) are the images of those of s (or a step fails in both), and every
    property says the same of both. Returns the number of (state, permutation) pairs checked;
    raises `SymmetryBreach` at the first that differs."""
    rng = random.Random(seed)
    layout = model.info.layout
    init = set(model.initial_states())
    gens = symmetry.generators()
    others = list(symmetry.perms[1:])

    def breach(perm: Permutation, what: str) -> SymmetryBreach:
        return SymmetryBreach(symmetry.moved_types(perm), f"with the values permuted ({symmetry.describe(perm)}), "
                              + what)

    for s in sorted(init):
        for g in gens:
            if symmetry.apply(g, s) not in init:
                raise breach(g, f"the initial state {show_state(layout, s)} becomes "
                             f"{show_state(layout, symmetry.apply(g, s))}, which is not an initial state")
    pairs = 0
    for s in _sample(model, rng, samples):
        perms = list(gens) + ([rng.choice(others)] if others else [])
        succs = _outcome(model, s)
        props = _properties(model, s, succs == frozenset())
        for p in perms:
            ps = symmetry.apply(p, s)
            pairs += 1
            psuccs = _outcome(model, ps)
            if isinstance(succs, frozenset) and isinstance(psuccs, frozenset):
                images = {symmetry.apply(p, t): t for t in sorted(succs)}
                if images.keys() != psuccs:
                    extra = sorted(images.keys() - psuccs)
                    if extra:
                        raise breach(p, f"state {show_state(layout, s)} has the successor "
                                     f"{show_state(layout, images[extra[0]])}; permuted, they are "
                                     f"{show_state(layout, ps)} and {show_state(layout, extra[0])}, and the second "
                                     "is no successor of the first")
                    missing = sorted(psuccs - images.keys())[0]
                    raise breach(p, f"state {show_state(layout, s)} becomes {show_state(layout, ps)}, which has "
                                 f"the successor {show_state(layout, missing)}: no successor of the first "
                                 "becomes it")
            elif succs != psuccs:
                fails, ok = (s, ps) if not isinstance(succs, frozenset) else (ps, s)
                raise breach(p, f"a step fails in state {show_state(layout, fails)} and none in "
                             f"{show_state(layout, ok)}, one permutation of the other")
            pprops = _properties(model, ps, succs == frozenset())
            for what, value in props.items():
                if pprops.get(what) != value:
                    raise breach(p, f"the {what} do not say the same of state {show_state(layout, s)} and of "
                                 f"{show_state(layout, ps)}")
    return pairs


# ------------------------------------------------------------- concrete traces


def concretise(model: Model, symmetry: Symmetry, trace: Trace) -> Trace:
    """A trace through canonical representatives made a trace of `model`: it starts in the
    representative of the initial orbit (an initial state: the initial states are closed under
    the permutations) and takes, at each step, the first successor (the recorded step if it
    fits) whose canonical form is the next representative."""
    canon = symmetry.canon
    state = trace.states[0]
    states = [state]
    steps: list[Step] = []
    for k, target in enumerate(trace.states[1:]):
        recorded = trace.steps[k]
        try:
            succs = expand(model, state)
        except Failure as f:  # a step failing here failed in no representative the search expanded
            raise SymmetryBreach(symmetry.types, f"a step fails in state {show_state(model.info.layout, state)} "
                                 f"({f.message}), and none in the permutation of it the search met") from None
        fits = [(ai, ch, t) for ai, ch, t in succs if canon(t) == target]
        if not fits:
            raise SymmetryBreach(symmetry.types, f"state {show_state(model.info.layout, state)} has no successor "
                                 "in the orbit its representative leads to")
        ai, ch, t = next((x for x in fits if (x[0], x[1]) == (recorded.action, recorded.choices)), fits[0])
        steps.append(Step(ai, ch))
        states.append(t)
        state = t
    if len(trace.steps) == len(trace.states):
        # The last step failed in the representative the search expanded. A state has as many
        # failing steps as its permutations do, but its first (the one its expansion reports)
        # need not be its permutation's first: so the run is carried, whole, onto the
        # representative itself, where the same failure is met.
        states, steps = _onto(model, symmetry, states, trace.states[-1])
        try:
            expand(model, states[-1])
        except Failure as f:
            steps.append(f.step)
        else:
            raise SymmetryBreach(symmetry.types, f"a step fails in a permutation of state "
                                 f"{show_state(model.info.layout, state)}, and none in the state itself")
    return replace(trace, states=tuple(states), steps=tuple(steps))


def _onto(model: Model, symmetry: Symmetry, states: list[State], end: State) -> tuple[list[State], list[Step]]:
    """The image of the run through `states` under the permutation that takes its last state
    to `end`: a run of the model too (the permutations map initial states to initial states
    and steps to steps), with each step found again."""
    perm = next((p for p in symmetry.perms if symmetry.apply(p, states[-1]) == end), None)
    if perm is None:
        raise SymmetryBreach(symmetry.types, f"state {show_state(model.info.layout, states[-1])} is no "
                             f"permutation of {show_state(model.info.layout, end)}, its representative")
    image = [symmetry.apply(perm, s) for s in states]
    if image[0] not in set(model.initial_states()):
        raise SymmetryBreach(symmetry.types, f"the initial state {show_state(model.info.layout, states[0])} "
                             f"becomes {show_state(model.info.layout, image[0])}, which is not an initial state")
    steps: list[Step] = []
    for a, b in zip(image, image[1:], strict=False):
        try:
            succs = expand(model, a)
        except Failure as f:
            raise SymmetryBreach(symmetry.types, f"a step fails in state {show_state(model.info.layout, a)} "
                                 f"({f.message}), and none in a permutation of it") from None
        step = next((Step(ai, ch) for ai, ch, t in succs if t == b), None)
        if step is None:
            raise SymmetryBreach(symmetry.types, f"state {show_state(model.info.layout, a)} has no successor "
                                 f"{show_state(model.info.layout, b)}, though a permutation of it has the "
                                 "permuted successor")
        steps.append(step)
    return image, steps


def concretise_result(model: Model, symmetry: Symmetry, result: Result) -> Result:
    """Every trace of a result found on the reduced model, made a trace of `model`."""
    done: dict[int, Trace] = {}

    def real(t: Trace) -> Trace:
        if id(t) not in done:
            done[id(t)] = concretise(model, symmetry, t)
        return done[id(t)]

    result.traces = {k: real(t) for k, t in result.traces.items()}
    if result.trace is not None:
        result.trace = real(result.trace)
    result.witnesses = {k: real(t) for k, t in result.witnesses.items()}
    return result
