"""Toy models for the engine tests, built by hand: no parser, no checker, no lowering.

Takes nothing; gives `Graph`, an explicit state graph (nodes are the integers
0..n-1, edges an adjacency dict; each edge may be owned by a process, the graph may state
liveness properties over its nodes (`Live`) and fairness on its processes), and two
independent implementations of it:
`GraphModel`, a pure-Python `compile.model.Model` that walks the adjacency dict,
and `Graph.program()`, the same graph as a hand-built IR `Program` (one action per
edge: `when node == src { node := dst }`) for `compile.pygen.compile_program`,
the generated C search and the Z3 engines. Both number actions, order
successors and name properties alike, so every engine must give the same
counts and traces on both. Also gives the toys themselves, each with the
figures a test derives from it by hand. Imports `compile.*`, `lang.errors`,
`lang.types`; never the front end (`build`, `lang.parser`, `lang.checker`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, reduce

from quiesce_check.compile import ir as I

# The one import of `Program`: it is moving from `compile.lower` to `compile.ir`.
from quiesce_check.compile.ir import Program, TemporalKind
from quiesce_check.compile.layout import Layout, SlotInfo, State, VarPlace
from quiesce_check.compile.model import AssertFailure, ModelInfo, StepError, Successor
from quiesce_check.compile.pygen import CompiledModel, compile_program
from quiesce_check.lang.errors import Span
from quiesce_check.lang.types import TInt

SPAN = Span("toy", 1, 1, 1, 1)
NODE = 0  # the one slot of a graph's state: the node it is at
ASSERTION, MODEL_ERROR = "assertion", "model-error"


def _is_one_of(nodes: Sequence[int]) -> I.Expr:
    """`node == a or node == b ...` (false for no node)."""
    terms: list[I.Expr] = [I.Bin("==", I.Slot(NODE), I.Const(k)) for k in sorted(nodes)]
    return reduce(lambda a, b: I.Bin("or", a, b), terms) if terms else I.Const(False)


@dataclass(frozen=True)
class Live:
    """A liveness property of a graph: its kind, its name, and the nodes where its `p` (and,
    for leads-to, its `q`) hold."""

    kind: TemporalKind
    name: str
    p: frozenset[int]
    q: frozenset[int] = frozenset()


def fair(process: str, strong: bool = False) -> I.Fairness:
    """Fairness of the steps a process owns (`Graph.owner`); "" for all steps (`fair system`)."""
    if not process:
        return I.Fairness(strong, "system", SPAN)
    return I.Fairness(strong, f"process {process}", SPAN, process=process)


@dataclass(frozen=True)
class Graph:
    """A state graph: the state is `(node,)`, node in 0..n-1 (n: one more than the largest node
    named anywhere here, so `bad` may name nodes no edge reaches).

    `edges[src]` lists the successors of `src` in order (a node with none and not in
    `terminal` is a deadlock); `bad` maps an invariant's name to the nodes where it
    fails; `fail` marks the nodes from which a step fails: with a false `assert`
    (`ASSERTION`) or by storing `n` in the node slot, outside its type (`MODEL_ERROR`).
    """

    edges: Mapping[int, Sequence[int]]
    init: tuple[int, ...] = (0,)
    bad: Mapping[str, frozenset[int]] = field(default_factory=dict)
    terminal: frozenset[int] = frozenset()
    fail: Mapping[int, str] = field(default_factory=dict)
    owner: Mapping[tuple[int, int], str] = field(default_factory=dict)
    liveness: tuple[Live, ...] = ()
    fairness: tuple[I.Fairness, ...] = ()

    @property
    def size(self) -> int:
        named = [*self.edges, *(d for ds in self.edges.values() for d in ds), *self.init, *self.terminal,
                 *self.fail, *(k for ks in self.bad.values() for k in ks)]
        return max(named) + 1

    @property
    def edge_list(self) -> list[tuple[int, int]]:
        """Every edge, in action order: by source node, then as listed."""
        return [(src, dst) for src in sorted(self.edges) for dst in self.edges[src]]

    @property
    def failing(self) -> list[int]:
        """The nodes whose step fails, in action order (after every edge)."""
        return sorted(self.fail)

    def fail_action(self, node: int) -> int:
        return len(self.edge_list) + self.failing.index(node)

    def assert_id(self, node: int) -> int:
        return [k for k in self.failing if self.fail[k] == ASSERTION].index(node)

    # the IR -----------------------------------------------------------------
    def layout(self) -> Layout:
        t = TInt(0, self.size - 1)
        return Layout(slots=[SlotInfo("node", t, 0, self.size - 1)], places=[VarPlace("node", t, NODE, 1)])

    def actions(self) -> tuple[I.Action, ...]:
        at = [I.Guard(I.Bin("==", I.Slot(NODE), I.Const(src))) for src, _ in self.edge_list]
        out = [I.Action(k, f"{src}->{dst}", self.owner.get((src, dst), ""), f"{src}->{dst}", SPAN, None, None,
                        (at[k], I.Assign((((NODE,), None),), (I.Const(dst),), "node")), ())
               for k, (src, dst) in enumerate(self.edge_list)]
        for node in self.failing:
            guard = I.Guard(I.Bin("==", I.Slot(NODE), I.Const(node)))
            step: I.Stmt = (I.Assert(I.Const(False), self.assert_id(node)) if self.fail[node] == ASSERTION
                            else I.Assign((((NODE,), None),), (I.Const(self.size),), "node"))
            out.append(I.Action(self.fail_action(node), f"fail@{node}", "", f"fail@{node}", SPAN, None, None,
                                (guard, step), ()))
        return tuple(out)

    def invariants(self) -> tuple[I.Property, ...]:
        return tuple(I.Property("invariant", name, I.Un("not", _is_one_of(sorted(nodes))), SPAN)
                     for name, nodes in self.bad.items())

    def asserts(self) -> tuple[I.AssertInfo, ...]:
        return tuple(I.AssertInfo(self.assert_id(k), f"false at {k}", SPAN) for k in self.failing
                     if self.fail[k] == ASSERTION)

    def temporal(self) -> tuple[I.Liveness, ...]:
        return tuple(I.Liveness(live.kind, live.name, "", _is_one_of(sorted(live.p)),
                                _is_one_of(sorted(live.q)) if live.kind == "leads_to" else None, SPAN)
                     for live in self.liveness)

    def program(self) -> Program:
        terminals = () if not self.terminal else (
            I.Property("terminal", "end", _is_one_of(sorted(self.terminal)), SPAN),)
        return Program(layout=self.layout(), actions=self.actions(), initial=tuple((k,) for k in self.init),
                       invariants=self.invariants(), reachables=(), terminals=terminals, asserts=self.asserts(),
                       choice_names=(), end_pcs=(), liveness=self.temporal(), fairness=self.fairness)

    def info(self) -> ModelInfo:
        return ModelInfo(self.layout(), self.actions(), self.invariants(), (), self.asserts(), (),
                         liveness=self.temporal(), fairness=self.fairness)

    def compiled(self) -> CompiledModel:
        return compile_program(self.program())

    def model(self) -> GraphModel:
        return GraphModel(self)


class GraphModel:
    """A `Model` that reads the graph's adjacency dict directly (no IR is run)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.info = graph.info()
        self.edge_index = {e: k for k, e in enumerate(graph.edge_list)}
        self.program: Program | None = None  # no IR: the engines that read one refuse this model

    def initial_states(self) -> Sequence[State]:
        return [(k,) for k in self.graph.init]

    def successors(self, state: State) -> list[Successor]:
        g, node = self.graph, state[NODE]
        if node in g.fail:
            ai = g.fail_action(node)
            if g.fail[node] == ASSERTION:
                raise AssertFailure(ai, (), g.assert_id(node))
            raise StepError(ai, (), f"node := {g.size} is outside its type 0..{g.size - 1}")
        return [(self.edge_index[(node, dst)], (), (dst,)) for dst in g.edges.get(node, ())]

    def violations(self, state: State) -> list[int]:
        return [k for k, nodes in enumerate(self.graph.bad.values()) if state[NODE] in nodes]

    def reached(self, state: State) -> list[int]:
        return []

    def final_violations(self, state: State) -> list[int]:
        return []

    def end_reached(self, state: State) -> list[int]:
        return []

    def is_terminal(self, state: State) -> bool:
        return state[NODE] in self.graph.terminal

    def temporal(self, state: State) -> list[tuple[bool, bool]]:
        node = state[NODE]
        return [(node in live.p, live.kind == "leads_to" and node in live.q) for live in self.graph.liveness]

    def step_violations(self, before: State, action: int, after: State) -> list[int]:
        return []  # a graph states no `always step` property


@dataclass(frozen=True)
class Toy:
    """A graph and its two implementations, built once per test session."""

    name: str
    graph: Graph

    @cached_property
    def python(self) -> GraphModel:
        return self.graph.model()

    @cached_property
    def compiled(self) -> CompiledModel:
        return self.graph.compiled()

    def edge(self, a: State, b: State) -> bool:
        return b[NODE] in self.graph.edges.get(a[NODE], ())


# The toys. Each test derives its expected figures from these definitions by hand.

# stateright's binary clock: one bit flipping forever. The slot is 0..3 (as stateright's is a u8),
# so the invariant that the clock stays 0 or 1 is a real one (2, 3 are in its type, never reached);
# 2 and 3 have no edge either, so they would be deadlocks were they reached.
BINARY_CLOCK = Toy("binary clock", Graph({0: [1], 1: [0]}, bad={"in_range": frozenset({2, 3})}))

# 0 -> 1 -> 2 -> 0, and 1 -> 3; 3 is a proper end (terminal).
CYCLE = Toy("cycle", Graph({0: [1], 1: [2, 3], 2: [0], 3: []}, terminal=frozenset({3})))

# The same graph without the terminal declaration: 3 is a deadlock.
CYCLE_DEADLOCK = Toy("cycle, 3 a deadlock", Graph({0: [1], 1: [2, 3], 2: [0], 3: []}))

# A deadlock at 5, three steps deep, by one shortest path 0 -> 2 -> 4 -> 5.
DEADLOCK = Toy("deadlock", Graph({0: [1, 2], 1: [3], 2: [3, 4], 3: [0], 4: [5], 5: []}))

# `never5` fails at 5: by 0 -> 1 -> 3 -> 5 (three steps, the one shortest path) and by
# 0 -> 2 -> 4 -> 6 -> 5 (four). 0 lists 2 first, so a depth-first search takes the longer one.
SHORTEST = Toy("shortest", Graph({0: [2, 1], 1: [3], 2: [4], 3: [5], 4: [6], 5: [0], 6: [5]},
                                 bad={"never5": frozenset({5})}))

# Three properties broken at known depths: `not3` at 3 (0 -> 1 -> 3), a deadlock at 4 (0 -> 2 -> 4),
# `not5` at 5 (0 -> 1 -> 3 -> 5).
MULTI = Toy("multi", Graph({0: [1, 2], 1: [3], 2: [4], 3: [5], 4: [], 5: [0]},
                           bad={"not3": frozenset({3}), "not5": frozenset({5})}))

# An invariant broken in the initial state, which has a self-loop.
BAD_START = Toy("bad start", Graph({0: [0]}, bad={"not0": frozenset({0})}))

# 0 -> 1 -> 2 -> 0, the step from 2 fails: a false assertion, or a store outside the slot's type.
ASSERTING = Toy("asserting", Graph({0: [1], 1: [2], 2: [0]}, fail={2: ASSERTION}))
ERRING = Toy("erring", Graph({0: [1], 1: [2], 2: [0]}, fail={2: MODEL_ERROR}))

TOYS = (BINARY_CLOCK, CYCLE, CYCLE_DEADLOCK, DEADLOCK, SHORTEST, MULTI, BAD_START, ASSERTING, ERRING)
