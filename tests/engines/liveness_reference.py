"""A slow reference for liveness, independent of `engines.liveness`: does a fair behaviour break
a property, and is a lasso an engine returned a real one?

Takes a `Model` (explored here, breadth first, without the engines) and a property instance
(its index in `info.liveness`); gives `Explicit` (the reachable graph), `fair_sets` (each
fairness assumption as the action numbers it covers), two deciders and a lasso checker:

- `by_subsets`: whether a violating fair behaviour exists, by trying every set of states as
  the set the behaviour visits for ever. Exponential; for graphs of a dozen states.
- `by_closures`: the same question by strongly connected sets computed from reachability
  closures, cut down while a fairness assumption rules them out (Emerson and Lei's argument,
  written from scratch). Polynomial; for the example models of a few hundred states.
- `lasso_problems`: what is wrong with a liveness trace: not starting in an initial state, a
  step that is not one of the model's, a last state that is not `states[loop]`, a cycle that
  is not fair, or a behaviour that does not break the property. Empty for a good lasso.

Semantics (docs/language.md, engines/liveness.py): a behaviour is an infinite sequence of
states, each a successor of the one before or the same state again (a stutter). A step by an
action is a real step even when it leads back to the same state (as SPIN counts a statement;
TLA+ would call such a step a stutter); a stutter takes no action. Weak fairness of a set F
of actions: never, from some point on, F enabled in every state and never taken; strong: never
F enabled infinitely often and taken finitely often. Enabled at s: some step from s is by an
action of F.

Why sets suffice: in a behaviour on a finite graph, let S be the states visited infinitely
often and T the steps taken infinitely often. From some point on it stays in S and moves only
by T, so S is strongly connected by T (one state alone always is: it may stutter). F is
enabled in every state for good iff every state of S enables F; infinitely often iff one does;
taken infinitely often iff T has a step of F. Taking every step between states of S, round and
round, keeps S, adds steps to T and so only helps fairness: a fair violating behaviour exists
iff some S, strongly connected by all its inner steps, is fair with T = those steps and
breaks the property, and a prefix reaches it:

    eventually p          every state of the prefix and of S has not-p
    always eventually p   every state of S has not-p
    eventually always p   some state of S has not-p
    p ~> q                a state with p and not q, then only not-q states, into S

Imports `compile.layout`, `compile.model`, `trace.types`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Choices, Model
from quiesce_check.trace.types import Trace

Fair = Sequence[tuple[bool, frozenset[int]]]  # (strong, the actions it covers) per assumption
MAX_SUBSET_STATES = 14


@dataclass(frozen=True)
class Explicit:
    """The reachable graph: states numbered as found, each with its steps (action, choices,
    target) and what each liveness property's (p, q) give there."""

    states: list[State]
    initial: frozenset[int]
    edges: list[list[tuple[int, Choices, int]]]
    values: list[list[tuple[bool, bool]]]

    def enabled(self, v: int, acts: frozenset[int]) -> bool:
        return any(a in acts for a, _, _ in self.edges[v])

    def closure(self, sources: Iterable[int], allowed: set[int]) -> set[int]:
        """The states reachable from `sources` (those in `allowed`) through `allowed` states."""
        seen = {v for v in sources if v in allowed}
        todo = list(seen)
        while todo:
            v = todo.pop()
            for _, _, w in self.edges[v]:
                if w in allowed and w not in seen:
                    seen.add(w)
                    todo.append(w)
        return seen


def explicit(model: Model) -> Explicit:
    """Every state reachable from the initial ones, each expanded once."""
    index: dict[State, int] = {}
    states: list[State] = []
    for s in model.initial_states():
        if s not in index:
            index[s] = len(states)
            states.append(s)
    initial = frozenset(range(len(states)))
    edges: list[list[tuple[int, Choices, int]]] = []
    while len(edges) < len(states):
        out = []
        for a, ch, t in model.successors(states[len(edges)]):
            if t not in index:
                index[t] = len(states)
                states.append(t)
            out.append((a, ch, index[t]))
        edges.append(out)
    return Explicit(states, initial, edges, [model.temporal(s) for s in states])


def fair_sets(model: Model) -> list[tuple[bool, frozenset[int]]]:
    """Each fairness assumption of the model: whether strong, and the actions it covers."""
    info = model.info
    return [(f.strong, frozenset(a.index for a in info.actions if f.covers(a))) for f in info.fairness]


def fair_cycle(enabled: Sequence[Sequence[bool]], taken: set[int], fair: Fair) -> bool:
    """Whether going round states (enabled[i][j]: assumption j enabled at the i-th of them)
    taking the actions `taken` again and again satisfies every assumption."""
    for j, (strong, acts) in enumerate(fair):
        if taken & acts:
            continue
        on = [row[j] for row in enabled]
        if (strong and any(on)) or (not strong and all(on)):
            return False
    return True


def _candidates(ex: Explicit, k: int, kind: str) -> tuple[set[int], bool]:
    """The states a violating behaviour may visit for ever (each reached by a prefix the kind
    allows), and whether S must hold a not-p state."""
    everything = set(range(len(ex.states)))
    not_p = {v for v in everything if not ex.values[v][k][0]}
    not_q = {v for v in everything if not ex.values[v][k][1]}
    reachable = ex.closure(ex.initial, everything)
    if kind == "eventually":
        return ex.closure(ex.initial, not_p), False
    if kind == "always_eventually":
        return reachable & not_p, False
    if kind == "eventually_always":
        return reachable, True
    triggers = {v for v in reachable if ex.values[v][k][0] and not ex.values[v][k][1]}
    return ex.closure(triggers, not_q), False


def _fair_set(ex: Explicit, k: int, comp: set[int], needs_not_p: bool, fair: Fair) -> tuple[bool, set[int]]:
    """Whether `comp`, moving by all its inner steps, is a fair violating cycle; if not, the
    states strong fairness rules out of every fair cycle inside it (empty: none is)."""
    if needs_not_p and all(ex.values[v][k][0] for v in comp):
        return False, set()
    taken = {a for v in comp for a, _, w in ex.edges[v] if w in comp}
    enabled = [[ex.enabled(v, acts) for _, acts in fair] for v in sorted(comp)]
    if fair_cycle(enabled, taken, fair):
        return True, set()
    out: set[int] = set()
    for j, (strong, acts) in enumerate(fair):
        if taken & acts:
            continue
        if not strong and all(row[j] for row in enabled):
            return False, set()  # every state inside enables it: no cycle inside is fair
        if strong:
            out |= {v for v in comp if ex.enabled(v, acts)}
    return False, out


def _connected(ex: Explicit, group: set[int]) -> bool:
    start = next(iter(group))
    forward = ex.closure([start], group)
    return forward == group and all(start in ex.closure([v], group) for v in group)


def by_subsets(ex: Explicit, k: int, kind: str, fair: Fair) -> bool:
    """Whether a fair behaviour breaks property instance `k` (of `kind`): every set of states
    tried as the set visited for ever."""
    cand, needs_not_p = _candidates(ex, k, kind)
    if len(cand) > MAX_SUBSET_STATES:
        raise ValueError(f"{len(cand)} candidate states: too many to try every subset")
    for size in range(1, len(cand) + 1):
        for group in combinations(sorted(cand), size):
            comp = set(group)
            if _connected(ex, comp) and _fair_set(ex, k, comp, needs_not_p, fair)[0]:
                return True
    return False


def _components(ex: Explicit, allowed: set[int]) -> list[set[int]]:
    """The strongly connected components inside `allowed`, from reachability closures."""
    reach = {v: ex.closure([v], allowed) for v in allowed}
    out: list[set[int]] = []
    placed: set[int] = set()
    for v in sorted(allowed):
        if v not in placed:
            comp = {w for w in reach[v] if v in reach[w]}
            placed |= comp
            out.append(comp)
    return out


def by_closures(ex: Explicit, k: int, kind: str, fair: Fair) -> bool:
    """`by_subsets`'s answer for larger graphs: a component no fairness rules out is a fair
    cycle; strong fairness not met inside one rules out its states that enable it, and what
    is left is split again."""
    cand, needs_not_p = _candidates(ex, k, kind)
    work = _components(ex, cand)
    while work:
        comp = work.pop()
        ok, out = _fair_set(ex, k, comp, needs_not_p, fair)
        if ok:
            return True
        if out:
            work += _components(ex, comp - out)
    return False


def lasso_problems(model: Model, trace: Trace, k: int, fair: Fair) -> list[str]:
    """What keeps `trace` from being a fair behaviour of `model` that breaks property instance
    `k`; empty when it is one."""
    states, steps, loop = trace.states, trace.steps, trace.loop
    if trace.kind != "liveness" or loop is None or not 0 <= loop < len(states):
        return [f"not a lasso: kind {trace.kind}, loop {loop}"]
    problems = []
    if len(states) != len(steps) + 1:
        problems.append(f"{len(states)} states for {len(steps)} steps")
    if states[0] not in set(model.initial_states()):
        problems.append("the first state is not initial")
    for i, step in enumerate(steps[:len(states) - 1]):
        if (step.action, step.choices, states[i + 1]) not in model.successors(states[i]):
            problems.append(f"step {i + 1} is not a step of the model")
    if states[-1] != states[loop]:
        problems.append(f"the last state is not state {loop}")
    cycle = set(states[loop:])
    taken = {s.action for s in steps[loop:]}
    enabled = [[any(a in acts for a, _, _ in model.successors(s)) for _, acts in fair] for s in cycle]
    if not fair_cycle(enabled, taken, fair):
        problems.append("the cycle is not fair")
    if not _breaks(model, trace, k):
        problems.append("the behaviour does not break the property")
    return problems


def _breaks(model: Model, trace: Trace, k: int) -> bool:
    kind = model.info.liveness[k].kind
    values = [model.temporal(s)[k] for s in trace.states]
    loop = trace.loop or 0
    cycle = values[loop:]
    if kind == "eventually":
        return not any(p for p, _ in values)
    if kind == "always_eventually":
        return not any(p for p, _ in cycle)
    if kind == "eventually_always":
        return not all(p for p, _ in cycle)
    return any(p and not q and not any(q2 for _, q2 in values[min(i, loop):])
               for i, (p, q) in enumerate(values))
