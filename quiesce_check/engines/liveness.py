"""Liveness on the reachable graph: fair cycles that break a temporal property, as lassos.

Takes a `Model` whose `info.liveness` is not empty; gives `check_liveness`, which explores
every reachable state and step once more, keeping the graph, and for each liveness property
(each instance of a parameterised one) finds a fair behaviour that breaks it, or none.

A behaviour is an infinite sequence of states, each the initial state or a successor of the
one before, in which a state may also repeat (a stuttering step: nothing happens). Without
fairness a behaviour may stutter for ever at any state, as in TLA+; a state without
successors repeats for ever. A fairness assumption F (a set of actions) rules out the
behaviours that end in a cycle where F stays enabled and is never taken (weak) or is enabled
again and again and never taken (strong).

A property is broken by a lasso: a prefix, then a cycle repeated for ever. Each property
names the states the cycle must stay in (`stay`), the states its prefix may pass through
once the property is pending (`entry`), and whether the cycle must visit a state (`accept`):

    eventually p          the whole behaviour in not-p, from an initial state
    always eventually p   a cycle in not-p, after any prefix
    eventually always p   a cycle through a not-p state, after any prefix
    p ~> q                a state with p and not q, then not-q for ever

The cycles are found on the strongly connected components of the states allowed
(Tarjan's algorithm, iterative), refined as Emerson and Lei do for strong fairness: a
component where a strongly fair action is enabled somewhere and never taken inside
loses the states where it is enabled, and what remains is split again. Weak fairness
needs no refinement: a component in which a weakly fair action is enabled everywhere and
never taken holds no fair cycle at all; otherwise the cycle through all of it is fair. The
prefix is a shortest path to a state of a fair component; the cycle is built from that state
through what fairness and `accept` require, and back. Imports `compile.*`, `engines.common`,
`engines.result`, `trace.types`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from quiesce_check.compile.ir import Fairness, Liveness
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import AssertFailure, Choices, Model, ModelInfo, StepError
from quiesce_check.engines.common import Clock
from quiesce_check.trace.types import Step, Trace

# one edge: (action, choices, target state's number)
Edge = tuple[int, Choices, int]


class PredicateFailed(Exception):
    """A liveness property's predicate could not be evaluated in a state (a value outside its
    type, a division by zero): the path to that state and the reason."""

    def __init__(self, states: list[State], steps: list[Step], message: str) -> None:
        super().__init__(message)
        self.states = states
        self.steps = steps
        self.message = message


class Stopped(Exception):
    """A limit (time, interrupt) ended the liveness search; `why` says which."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass
class Graph:
    """Every reachable state (numbered in breadth-first order), its steps, and what the
    liveness properties' predicates give there; `parent` and `via` give a shortest path to
    each state from an initial one."""

    states: list[State]
    edges: list[list[Edge]]
    values: list[list[tuple[bool, bool]]]
    initial: int   # states 0..initial-1 are initial
    parent: list[int]
    via: list[Step | None]

    def path_to(self, v: int) -> tuple[list[int], list[Step]]:
        nodes, steps = [], []
        while v >= 0:
            nodes.append(v)
            step = self.via[v]
            if step is not None:
                steps.append(step)
            v = self.parent[v]
        return nodes[::-1], steps[::-1]


def explore(model: Model, clock: Clock, check: Callable[[], str | None] | None = None) -> Graph:
    """The reachable graph, breadth first. `check`, called now and then, returns a reason to
    stop (Stopped) or None."""
    index: dict[State, int] = {}
    states: list[State] = []
    parent: list[int] = []
    via: list[Step | None] = []
    for s in model.initial_states():
        if s not in index:
            index[s] = len(states)
            states.append(s)
            parent.append(-1)
            via.append(None)
    initial = len(states)
    edges: list[list[Edge]] = []
    values: list[list[tuple[bool, bool]]] = []
    head = 0
    while head < len(states):
        if head % 4096 == 0 and check is not None:
            why = check()
            if why:
                raise Stopped(why)
        s = states[head]
        out: list[Edge] = []
        for ai, ch, t in model.successors(s):
            k = index.get(t)
            if k is None:
                k = index[t] = len(states)
                states.append(t)
                parent.append(head)
                via.append(Step(ai, ch))
            out.append((ai, ch, k))
        edges.append(out)
        try:
            values.append(model.temporal(s))
        except StepError as e:
            g = Graph(states, edges, values, initial, parent, via)
            nodes, steps = g.path_to(head)
            raise PredicateFailed([states[v] for v in nodes], steps,
                                  f"evaluating a liveness property: {e.message}") from None
        head += 1
    return Graph(states, edges, values, initial, parent, via)


class _Mask:
    """A set of node numbers that answers `mask[v]` as a bytearray does."""

    def __init__(self, members: set[int]) -> None:
        self.members = members

    def __getitem__(self, v: int) -> bool:
        return v in self.members


def _sccs(nodes: Sequence[int], allowed: _Mask, edges: list[list[Edge]]) -> list[list[int]]:
    """The strongly connected components of the graph induced on `allowed` (Tarjan, iterative),
    of the nodes reachable from `nodes` in it."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, i = work[-1]
            succ = edges[v]
            while i < len(succ):
                w = succ[i][2]
                i += 1
                if not allowed[w]:
                    continue
                if w not in index:
                    work[-1] = (v, i)
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, 0))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(comp)
    return out


@dataclass
class _Problem:
    stay: bytearray      # the states the cycle (and a pending prefix) stays in
    accept: bytearray | None  # the cycle must visit one of these (None: any cycle)
    entry: list[int]     # where the property becomes pending (the prefix's switch point)
    free_prefix: bool    # whether the prefix may pass outside `stay` before an entry state


def _problem(g: Graph, k: int, live: Liveness) -> _Problem:
    n = len(g.states)
    p = bytearray(g.values[v][k][0] for v in range(n))
    if live.kind == "eventually":
        stay = bytearray(not x for x in p)
        return _Problem(stay, None, [v for v in range(g.initial) if stay[v]], False)
    if live.kind == "always_eventually":
        stay = bytearray(not x for x in p)
        return _Problem(stay, None, [v for v in range(n) if stay[v]], True)
    if live.kind == "eventually_always":
        return _Problem(bytearray(b"\x01") * n, bytearray(not x for x in p), list(range(n)), True)
    q = bytearray(g.values[v][k][1] for v in range(n))
    stay = bytearray(not x for x in q)
    return _Problem(stay, None, [v for v in range(n) if p[v] and not q[v]], True)


class LivenessCheck:
    """One property instance on the graph, under the model's fairness assumptions."""

    def __init__(self, g: Graph, fair_sets: list[tuple[Fairness, frozenset[int]]], k: int, live: Liveness,
                 info: ModelInfo | None = None, enabled: list[bytearray] | None = None) -> None:
        self.g = g
        self.info = info  # for the words of a lasso's explanation: who waits, who is starved
        self.fair = fair_sets
        self.k = k
        self.live = live
        self.pb = _problem(g, k, live)
        # per fairness: the states where one of its actions is enabled (the same for every
        # property: `check_liveness` works it out once)
        self.enabled = enabled if enabled is not None else enabled_sets(g, fair_sets)

    def reachable(self) -> list[int]:
        """The states a pending prefix reaches from the entry states, inside `stay`."""
        seen = set(self.pb.entry)
        todo = list(self.pb.entry)
        stay = self.pb.stay
        while todo:
            v = todo.pop()
            for _, _, w in self.g.edges[v]:
                if stay[w] and w not in seen:
                    seen.add(w)
                    todo.append(w)
        return sorted(seen)

    def fair_components(self) -> list[list[int]]:
        """Every fair component (after refinement) inside what a pending prefix reaches."""
        region = self.reachable()
        work = _sccs(region, _Mask(set(region)), self.g.edges)
        fair: list[list[int]] = []
        while work:
            comp = work.pop()
            inside = set(comp)
            if self.pb.accept is not None and not any(self.pb.accept[v] for v in comp):
                continue
            taken = {a for v in comp for a, _, w in self.g.edges[v] if w in inside}
            remove: set[int] = set()
            ok = True
            for (f, acts), en in zip(self.fair, self.enabled, strict=True):
                if taken & acts:
                    continue
                where = [v for v in comp if en[v]]
                if not f.strong and len(where) == len(comp):
                    ok = False
                    break
                if f.strong:
                    remove.update(where)
            if not ok:
                continue
            if not remove:
                fair.append(comp)
                continue
            rest = inside - remove
            if rest:
                work += _sccs(sorted(rest), _Mask(rest), self.g.edges)
        return fair

    def prefix(self, targets: set[int]) -> tuple[list[int], list[Step]] | None:
        """A shortest path from an initial state to a target state, pending from an entry state
        on: breadth first over (state, pending)."""
        g, pb = self.g, self.pb
        entry = set(pb.entry)
        parent: dict[tuple[int, bool], tuple[tuple[int, bool], Step] | None] = {}
        queue: deque[tuple[int, bool]] = deque()

        def push(node: tuple[int, bool], back: tuple[tuple[int, bool], Step] | None) -> None:
            if node not in parent:
                parent[node] = back
                queue.append(node)
                if not node[1] and node[0] in entry:
                    # the property may become pending here: the same state, no step taken, so
                    # found now, at the same distance (found later, it could be found farther)
                    push((node[0], True), back)
        for v in range(g.initial):
            if pb.free_prefix:
                push((v, False), None)
            elif v in entry:
                push((v, True), None)
        while queue:
            node = queue.popleft()
            v, pending = node
            if pending and v in targets:
                nodes, steps = [v], []
                cur: tuple[int, bool] = node
                while parent[cur] is not None:
                    prev, step = parent[cur]  # type: ignore[misc]
                    nodes.append(prev[0])
                    steps.append(step)
                    cur = prev
                return nodes[::-1], steps[::-1]
            for a, ch, w in g.edges[v]:
                if pending and not pb.stay[w]:
                    continue
                push((w, pending), (node, Step(a, ch)))
        return None

    def cycle(self, comp: set[int], start: int) -> tuple[list[int], list[Step]]:
        """A cycle from `start` inside `comp` that fairness and `accept` allow: the states after
        `start` and the steps; no step at all when stuttering at `start` for ever is fair."""
        g = self.g
        nodes: list[int] = [start]
        steps: list[Step] = []
        taken: set[int] = set()

        def needs() -> list[int]:
            """The fairness assumptions (by position) not yet met by the cycle so far."""
            out = []
            for i, ((f, acts), en) in enumerate(zip(self.fair, self.enabled, strict=True)):
                if taken & acts:
                    continue
                if f.strong and not any(en[v] for v in comp):
                    continue
                if not f.strong and any(not en[v] for v in nodes):
                    continue
                out.append(i)
            return out

        def walk(goal: Callable[[int, Edge | None], bool]) -> None:
            """Extend the path, breadth first inside `comp`, to the nearest state (edge None) or
            step meeting `goal`; the step is taken."""
            src = nodes[-1]
            back: dict[int, tuple[int, Edge] | None] = {src: None}
            queue = deque([src])
            while queue:
                v = queue.popleft()
                if goal(v, None) and v != src:
                    self._append(nodes, steps, taken, back, v)
                    return
                for e in g.edges[v]:
                    if e[2] not in comp:
                        continue
                    if goal(v, e):
                        self._append(nodes, steps, taken, back, v)
                        nodes.append(e[2])
                        steps.append(Step(e[0], e[1]))
                        taken.add(e[0])
                        return
                    if e[2] not in back:
                        back[e[2]] = (v, e)
                        queue.append(e[2])
            raise AssertionError("a fair component without the state or step its fairness needs")

        accept = self.pb.accept
        if accept is not None and not accept[start]:
            walk(lambda v, e: e is None and bool(accept[v]))
        while True:
            missing = needs()
            if not missing:
                break
            acts, en = self.fair[missing[0]][1], self.enabled[missing[0]]

            def takes(v: int, e: Edge | None, acts: frozenset[int] = acts) -> bool:
                return e is not None and e[0] in acts

            def rests(v: int, e: Edge | None, en: bytearray = en) -> bool:
                return e is None and not en[v]
            walk(takes if any(e[2] in comp and e[0] in acts for v in comp for e in g.edges[v]) else rests)
        if steps and nodes[-1] != start:
            walk(lambda v, e: e is not None and e[2] == start)
        return nodes, steps

    @staticmethod
    def _append(nodes: list[int], steps: list[Step], taken: set[int],
                back: dict[int, tuple[int, Edge] | None], v: int) -> None:
        path: list[tuple[int, Edge]] = []
        while back[v] is not None:
            u, e = back[v]  # type: ignore[misc]
            path.append((u, e))
            v = u
        for _, e in reversed(path):
            nodes.append(e[2])
            steps.append(Step(e[0], e[1]))
            taken.add(e[0])

    def lasso(self) -> Trace | None:
        """A shortest prefix to a fair component and a cycle in it; or, when shorter in all, a
        shortest prefix to a state of one where stuttering for ever is fair."""
        comps = self.fair_components()
        if not comps:
            return None
        owner = {v: i for i, c in enumerate(comps) for v in c}
        found = self.prefix(set(owner))
        if found is None:
            raise AssertionError("a fair component no prefix reaches")
        pre_nodes, pre_steps = found
        start = pre_nodes[-1]
        cyc_nodes, cyc_steps = self.cycle(set(comps[owner[start]]), start)
        accept = self.pb.accept
        still = {v for v in owner if (accept is None or accept[v]) and not any(en[v] for en in self.enabled)}
        if cyc_steps and still:
            resting = self.prefix(still)
            if resting is not None and len(resting[1]) <= len(pre_steps) + len(cyc_steps):
                (pre_nodes, pre_steps), cyc_nodes, cyc_steps = resting, [resting[0][-1]], []
        g = self.g
        loop = len(pre_nodes) - 1
        states = [g.states[v] for v in pre_nodes] + [g.states[v] for v in cyc_nodes[1:]]
        enabled = [{e[0] for e in g.edges[v]} for v in (cyc_nodes[:-1] if cyc_steps else cyc_nodes)]
        why = lasso_why(self.info, [g.states[v] for v in cyc_nodes], cyc_steps, enabled) if self.info else []
        return Trace(tuple(states), tuple(pre_steps + cyc_steps), "liveness", self.live.name,
                     lasso_message(self.live, len(cyc_steps), why), loop=loop)

def lasso_message(live: Liveness, cycle: int, why: Sequence[str] = ()) -> str:
    """What a lasso of `live` whose cycle has `cycle` steps (0: it stutters) shows, and `why`
    (`lasso_why`)."""
    what = {"eventually": "never holds", "always_eventually": "stops holding for good",
            "eventually_always": "keeps failing again and again",
            "leads_to": "becomes pending and is never met"}[live.kind]
    where = f" ({live.instance})" if live.instance else ""
    how = "stutters for ever" if not cycle else f"repeats a cycle of {cycle} step{'s' * (cycle != 1)}"
    return f"liveness `{live.name}`{where} ({live.span}) {what}: the behaviour {how}" + (
        ". " + "; ".join(why) if why else "")


def cycle_enabled(model: Model, trace: Trace) -> list[set[int]]:
    """The actions enabled at each state of a lasso's cycle (the last state, for a stutter)."""
    assert trace.loop is not None
    cycle = trace.states[trace.loop:-1] if trace.loop < len(trace.steps) else trace.states[-1:]
    out = []
    for s in cycle:
        try:
            out.append({a for a, _, _ in model.successors(s)})
        except (StepError, AssertFailure) as e:
            out.append({e.action})   # a step that fails there is enabled there; the words stay rough
    return out


def lasso_why(info: ModelInfo, cycle: Sequence[State], steps: Sequence[Step], enabled: Sequence[set[int]]) -> list[str]:
    """On a lasso's cycle (its states, the last repeating the first unless it stutters; its
    steps; the actions enabled at each state), each process (or plain action) that never moves:
    waiting for ever (never enabled there) at its statement, or starved (enabled and never
    taken), with the fairness that would rule the cycle out."""
    moved = {info.actions[st.action].process or info.actions[st.action].name for st in steps}
    actors: dict[str, set[int]] = {}
    for a in info.actions:
        actors.setdefault(a.process or a.name, set()).add(a.index)
    out: list[str] = []
    for actor, mine in actors.items():
        if actor in moved:
            continue
        kind = ("process " if any(a.process == actor for a in info.actions) else "action ") + actor
        can = [bool(mine & en) for en in enabled]
        if all(can):
            out.append(f"{actor} can move throughout and never does (`fair {kind}` would rule this out)")
        elif any(can):
            out.append(f"{actor} can move now and then and never does (`strong fair {kind}` would rule this out)")
        else:
            at = _waiting_at(info, actor, cycle[0])
            if at:
                out.append(f"{actor} waits for ever at {at}")
    return out


def _waiting_at(info: ModelInfo, actor: str, state: State) -> str | None:
    """The statement a process stands at in `state` (one whose guard is false there); None for
    a process that has ended or a plain action."""
    for a in info.actions:
        if a.process == actor and a.pc_slot is not None and state[a.pc_slot] == a.pc_value:
            if a.text.startswith("("):   # the end of a loop or of the process, no statement
                return None
            return f"line {a.span.line} (`{a.text}`)"
    return None


def fairness_sets(model: Model) -> list[tuple[Fairness, frozenset[int]]]:
    """Each fairness assumption and the numbers of the actions it covers."""
    info = model.info
    return [(f, frozenset(a.index for a in info.actions if f.covers(a))) for f in info.fairness]


def enabled_sets(g: Graph, fair_sets: list[tuple[Fairness, frozenset[int]]]) -> list[bytearray]:
    """Per fairness assumption, a flag per state: whether one of its actions is enabled there."""
    return [bytearray(any(e[0] in acts for e in g.edges[v]) for v in range(len(g.states))) for _, acts in fair_sets]


def check_liveness(model: Model, graph: Graph, check: Callable[[], str | None] | None = None) -> dict[str, Trace]:
    """The first lasso of each liveness property broken (by name: the first instance broken),
    in declaration order. `check`, called between instances, returns a reason to stop."""
    fair = fairness_sets(model)
    enabled = enabled_sets(graph, fair)
    out: dict[str, Trace] = {}
    for k, live in enumerate(model.info.liveness):
        if live.name in out:
            continue
        why = check() if check is not None else None
        if why:
            raise Stopped(why)
        trace = LivenessCheck(graph, fair, k, live, model.info, enabled).lasso()
        if trace is not None:
            out[live.name] = trace
    return out
