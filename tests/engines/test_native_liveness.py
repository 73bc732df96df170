"""Step properties and liveness in the generated C search, held to the Python reference.

Figures worked out by hand on small counters and on weak against strong fairness (the distinction
of Baier and Katoen, Principles of Model Checking, 2008, section 3.5.2); an oracle for tiny graphs
that decides from the definition alone whether a fair behaviour breaks a property (some set of
states a cycle can stay in: strongly connected by its own steps or one state stuttering, inside
what the property allows, meeting every fairness assumption; reached by a pending prefix); the C
and Python searches agreeing exactly, verdicts and lassos, on random models with liveness
properties and fairness of every kind and on the repository's models given liveness properties;
the time limit, Ctrl-C and the memory limit stopping the liveness check cleanly; a resumed
search; the memory the graph takes.
"""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.cli import main
from quiesce_check.compile import cgen
from quiesce_check.compile import ir as I
from quiesce_check.compile.deadline import Deadline
from quiesce_check.compile.model import Model
from quiesce_check.compile.pygen import CompiledModel, compile_program
from quiesce_check.engines import breadth_first
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.common import Clock
from quiesce_check.engines.interrupt import Interrupts
from quiesce_check.engines.native import NativeLiveness, NativeSearch, native_bfs
from quiesce_check.engines.result import NullReporter, Options, Result, Status, Verdict
from quiesce_check.lang.errors import ModelError
from tests.compile.test_differential import random_model
from tests.conftest import ROOT, model_files
from tests.engines.toys import SPAN, Graph, _is_one_of

pytestmark = pytest.mark.skipif(cgen.compiler() is None, reason="no C compiler")
# each example compiles a C search (a few tenths of a second): few in CI, many in the slow run
EXAMPLES = int(os.environ.get("QC_EXAMPLES", "6"))
MANY = 25 * EXAMPLES


def agree(model: Model, options: Options | None = None) -> Result:
    """Both searches on `model`: the same result in every part, every lasso state for state and
    step for step; gives the C search's."""
    opts = options or Options()
    py, nat = bfs(model, opts), native_bfs(model, opts)  # type: ignore[arg-type]
    assert nat.backend == "native", nat.note
    assert (nat.verdict, nat.limit, nat.complete) == (py.verdict, py.limit, py.complete)
    assert [(p.name, p.status) for p in nat.properties] == [(p.name, p.status) for p in py.properties]
    assert set(nat.traces) == set(py.traces)
    for name, t in py.traces.items():
        u = nat.traces[name]
        assert (u.kind, u.states, u.steps, u.loop, u.message) == (t.kind, t.states, t.steps, t.loop, t.message)
    assert (nat.stats.distinct, nat.stats.generated, nat.stats.depth, nat.stats.fired, nat.stats.new) == (
        py.stats.distinct, py.stats.generated, py.stats.depth, py.stats.fired, py.stats.new)
    return nat


def lasso(result: Result, name: str) -> tuple[int, int] | None:
    """A liveness property's lasso as (steps, the step its cycle starts at), None when it holds."""
    t = result.traces.get(name)
    assert t is None or (t.kind == "liveness" and t.loop is not None)
    return None if t is None else (len(t.steps), t.loop)  # type: ignore[return-value]


# ------------------------------------------------------------------ figures by hand

COUNTER = "var x: 0..3 = 0;\nprocess P { while true { x := (x + 1) % 4; } }\n"
LIVE = """liveness ev2: eventually x == 2;
liveness lt: x == 1 ~> x == 2;
liveness ae0: always eventually x == 0;
liveness ea0: eventually always x == 0;
liveness each(i in 0..3): eventually x == i;
"""


def test_a_counter_without_fairness_may_stop_anywhere() -> None:
    # x counts 0, 1, 2, 3, 0, ... and, with no fairness, may stop for ever at any state (TLA+):
    # at 0 before reaching 2 (no step), at 1 where 1 waits for 2 (one step), and at 1 where x is
    # not 0 (one step; the cycle through 0 is longer). `each`: i = 0 holds at once, i = 1 is the
    # first instance broken, by stopping at 0
    r = agree(build_text(COUNTER + LIVE, "c.qdl").model)
    assert r.verdict is Verdict.LIVENESS and r.exit_code == 13
    assert [lasso(r, n) for n in ("ev2", "lt", "ae0", "ea0", "each")] == [(0, 0), (1, 1), (1, 1), (1, 1), (0, 0)]
    assert "(i = 1)" in r.traces["each"].message


def test_a_fair_counter_keeps_counting() -> None:
    # the one fair behaviour counts for ever: everything but `eventually always x == 0` holds,
    # and that fails by the whole cycle: back at 0 after 4 steps, from the start
    r = agree(build_text(COUNTER + LIVE + "fair process P;\n", "c.qdl").model)
    assert [lasso(r, n) for n in ("ev2", "lt", "ae0", "ea0", "each")] == [None, None, None, (4, 0), None]
    assert r.traces["ea0"].states[0] == r.traces["ea0"].states[4] and r.traces["ea0"].states[0][0] == 0


def test_weak_fairness_of_one_process_does_not_move_another() -> None:
    # only Q is fair: Q toggling y for ever while P never moves is fair, and x never reaches 2:
    # the cycle is Q's two steps from the start. With P fair too, P must count to 2
    text = """var x: 0..2 = 0;\nvar y: bool = false;
process P { while true { x := (x + 1) % 3; } }\nprocess Q { while true { y := not y; } }
liveness px: eventually x == 2;\nfair process Q;\n"""
    assert lasso(agree(build_text(text, "w.qdl").model), "px") == (2, 0)
    assert lasso(agree(build_text(text + "fair process P;\n", "w.qdl").model), "px") is None


@pytest.mark.parametrize("strength, expected", [("", (2, 0)), ("strong ", None)])
def test_weak_against_strong_fairness(strength: str, expected: tuple[int, int] | None) -> None:
    # `finish` is enabled only while b holds, and Q toggles b for ever: weakly fair, `finish` is
    # never continuously enabled, so Q's two-step toggle from the start breaks `eventually done`;
    # strongly fair, it is enabled again and again, so it is taken (Baier and Katoen, 3.5.2)
    text = f"""var b: bool = false;\nvar done: bool = false;
process Q {{ while true {{ b := not b; }} }}
action finish when b and not done {{ done := true; }}
liveness fin: eventually done;\nfair process Q;\n{strength}fair action finish;\n"""
    assert lasso(agree(build_text(text, "s.qdl").model), "fin") == expected


STEPS = COUNTER + """always step wraps: x' == (x + 1) % 4;
always step mover: by(P);
always step grows: x' > x;
always step small: x' < 3;
"""


@pytest.mark.parametrize("keep_going", [False, True])
def test_step_properties(keep_going: bool) -> None:
    # every step adds one modulo 4, and only P moves; x' > x fails first at the step from 3 to 0
    # (three steps to 3, then the bad one), x' < 3 at the step from 2 to 3 (three steps): the
    # search stops at the shorter; with --continue each property keeps its first
    r = agree(build_text(STEPS, "s.qdl").model, Options(keep_going=keep_going))
    assert r.verdict is Verdict.VIOLATED and r.exit_code == 12
    assert r.trace is not None and r.trace.property == "small" and r.trace.kind == "action"
    assert [s[0] for s in r.trace.states] == [0, 1, 2, 3]
    if keep_going:
        assert [s[0] for s in r.traces["grows"].states] == [0, 1, 2, 3, 0]
        status = {p.name: p.status for p in r.properties}
        assert status["wraps"] is Status.HOLDS and status["mover"] is Status.HOLDS
    else:
        assert set(r.traces) == {"small"}


def test_who_moves() -> None:
    text = """var x: 0..2 = 0;\nvar y: bool = false;
process P { while true { x := (x + 1) % 3; } }\nprocess Q { while true { y := not y; } }
always step p_moves_x: x' == x or by(P);\nalways step q_moves_x: x' == x or by(Q);\n"""
    r = agree(build_text(text, "b.qdl").model, Options(keep_going=True))
    assert "p_moves_x" not in r.traces and len(r.traces["q_moves_x"].steps) == 1


def test_properties_that_cannot_be_evaluated_are_model_errors() -> None:
    # a step property dividing by x' fails at the step back to 0 (four steps); the Python
    # reference agrees
    step = agree(build_text(COUNTER + "always step s: 4 / x' >= 0;\n", "e.qdl").model)
    assert step.verdict is Verdict.MODEL_ERROR and step.trace is not None and len(step.trace.steps) == 4
    # a liveness property dividing by x fails in the initial state. (The Python reference stops
    # with StepError there, an internal error: only the C search is checked here.)
    live = native_bfs(build_text(COUNTER + "liveness l: 4 / x == 1 ~> x == 2;\n", "e.qdl").model)  # type: ignore[arg-type]
    assert live.verdict is Verdict.MODEL_ERROR and live.trace is not None and live.trace.steps == ()
    assert "evaluating a liveness property" in live.trace.message
    assert {p.name: p.status for p in live.properties}["l"] is Status.INCOMPLETE


def test_the_migration_completes_under_fairness() -> None:
    # models/precopy_backend.qdl: no state repeats (every step advances a bounded counter or a
    # process) and every state without successors has `done` (its deadlock check holds), so with
    # any steps guaranteed the migration completes; with none, the initial state may stutter for
    # ever; with only the backend fair, too (it has nothing to do at the start). SPIN agrees:
    # bench/vs_spin.py, `pan -a` and `pan -a -f` find no acceptance cycle for `<> done`
    base = (ROOT / "models" / "precopy_backend.qdl").read_text() + "liveness finishes: eventually done;\n"
    fairs = {"": (0, 0), "fair system;": None, "fair process Backend;": (0, 0),
             "fair process Guest; fair process Frontend; fair process Backend; fair process Migration;": None,
             "strong fair system;": None}
    for fair, expected in fairs.items():
        assert lasso(agree(build_text(base + fair + "\n", "p.qdl").model), "finishes") == expected


# ------------------------------------------------------------------ an oracle for tiny graphs

def _pending_distances(edges: list[tuple[int, int, str]], init: tuple[int, ...], stay: set[int],
                       entry: set[int], free: bool) -> dict[tuple[int, int], int]:
    """Fewest steps to each (state, pending), pending from an entry state on and inside `stay`."""
    dist: dict[tuple[int, int], int] = {}
    todo: deque[tuple[int, int]] = deque()
    for v in init:
        if free or v in entry:
            dist[(v, 0 if free else 1)] = 0
            todo.append((v, 0 if free else 1))
    while todo:
        v, pending = todo.popleft()
        d = dist[(v, pending)]
        if not pending and v in entry and dist.get((v, 1), d + 1) > d:
            dist[(v, 1)] = d
            todo.appendleft((v, 1))
        for s, t, _ in edges:
            if s == v and (not pending or t in stay) and dist.get((t, pending), d + 2) > d + 1:
                dist[(t, pending)] = d + 1
                todo.append((t, pending))
    return dist


def _connected(cycle: set[int], inner: list[tuple[int, int, str]]) -> bool:
    for c in cycle:
        seen, todo = {c}, [c]
        while todo:
            v = todo.pop()
            for s, t, _ in inner:
                if s == v and t not in seen:
                    seen.add(t)
                    todo.append(t)
        if seen != cycle:
            return False
    return True


def oracle(edges: list[tuple[int, int, str]], init: tuple[int, ...], fair: list[tuple[bool, str]],
           kind: str, p: set[int], q: set[int]) -> int | None:
    """Whether a fair behaviour breaks the property, from the definitions: the fewest steps before
    its cycle (None: it holds). A cycle stays in a set C for ever; it can take every step inside
    C, visits every state of C, and C is one state (stuttering) or strongly connected."""
    stay = set(range(1 + max([*init, *(v for e in edges for v in e[:2])]))) if kind == "eventually_always" else \
        {v for v in range(1 + max([*init, *(v for e in edges for v in e[:2])])) if v not in (q if kind == "leads_to" else p)}
    entry = {v for v in stay if v in p} if kind == "leads_to" else stay
    dist = _pending_distances(edges, init, stay, entry, kind != "eventually")
    best: int | None = None
    for r in range(1, len(stay) + 1):
        for cycle in map(set, itertools.combinations(sorted(stay), r)):
            inner = [e for e in edges if e[0] in cycle and e[1] in cycle]
            if (r > 1 and not _connected(cycle, inner)) or (kind == "eventually_always" and not cycle - p):
                continue
            taken = {a for _, _, a in inner}
            unfair = False
            for strong, act in fair:
                enabled = [any(s == v and a == act for s, _, a in edges) for v in cycle]
                unfair |= act not in taken and (any(enabled) if strong else all(enabled))
            reach = [dist[(v, 1)] for v in cycle if (v, 1) in dist]
            if not unfair and reach and (best is None or min(reach) < best):
                best = min(reach)
    return best


@st.composite
def tiny_graph(draw: st.DrawFn) -> tuple[Any, ...]:
    n = draw(st.integers(1, 6))
    edges = [(s, t, draw(st.sampled_from("ABC"))) for s in range(n)
             for t in draw(st.lists(st.integers(0, n - 1), max_size=3))]
    init = tuple(sorted(set(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2)))))
    fair = draw(st.lists(st.tuples(st.booleans(), st.sampled_from("ABC")), max_size=3))
    kinds = st.sampled_from(["eventually", "always_eventually", "eventually_always", "leads_to"])
    props = draw(st.lists(st.tuples(kinds, st.sets(st.integers(0, n - 1)), st.sets(st.integers(0, n - 1))),
                          min_size=1, max_size=3))
    return n, edges, init, fair, props


def tiny_model(n: int, edges: list[tuple[int, int, str]], init: tuple[int, ...], fair: list[tuple[bool, str]],
               props: list[tuple[str, set[int], set[int]]]) -> CompiledModel:
    """One action per edge (toys.Graph), named by its letter: a fairness assumption on a letter
    (a plain action's name) covers every edge of that letter."""
    g = Graph({s: [t for s2, t, _ in edges if s2 == s] for s in range(n)}, init=init)
    program = g.program()
    assert g.edge_list == [(s, t) for s, t, _ in edges]
    actions = tuple(dataclasses.replace(a, name=edges[k][2]) for k, a in enumerate(program.actions))
    lives = tuple(I.Liveness(kind, f"l{k}", "", _is_one_of(sorted(p)),  # type: ignore[arg-type]
                             _is_one_of(sorted(q)) if kind == "leads_to" else None, SPAN)
                  for k, (kind, p, q) in enumerate(props))
    fairs = tuple(I.Fairness(strong, f"action {a}", SPAN, family="", action=a) for strong, a in fair)
    return compile_program(dataclasses.replace(program, actions=actions, liveness=lives, fairness=fairs))


def check_tiny(case: tuple[Any, ...], backend: str) -> None:
    n, edges, init, fair, props = case
    model = tiny_model(n, edges, init, fair, props)
    opts = Options(check_deadlock=False)
    r = agree(model, opts) if backend == "native" else bfs(model, opts)
    for k, (kind, p, q) in enumerate(props):
        fewest = oracle(edges, init, fair, kind, p, q)
        found = lasso(r, f"l{k}")
        assert (found is None) == (fewest is None)
        # the prefix is a shortest one to a fair cycle, unless stopping for ever is fair at a
        # state reached in fewer steps than prefix and cycle together
        if found is not None and fewest is not None:
            assert found[1] >= fewest and (found[1] == fewest or found[1] == found[0])


@settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_graph())
def test_tiny_graphs_against_the_definition(case: tuple[Any, ...]) -> None:
    check_tiny(case, "native")


@pytest.mark.slow
@settings(max_examples=MANY, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_graph())
def test_many_tiny_graphs_against_the_definition(case: tuple[Any, ...]) -> None:
    check_tiny(case, "native")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_graph())
def test_the_python_reference_against_the_definition(case: tuple[Any, ...]) -> None:
    # the reference the C search is held to, held in turn to the definition (no C compiled)
    check_tiny(case, "python")


# ------------------------------------------------------------------ random and repository models

PREDICATE_ATOMS = ["x == 0", "x >= 2", "x == 1", "y == 1", "y == 0", "b", "a[0] == a[1]", "a[2] == 2"]


@st.composite
def predicate(draw: st.DrawFn, labels: tuple[str, ...], depth: int = 2) -> str:
    """A state predicate that can always be evaluated (the Python reference cannot report one
    that fails)."""
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from([*PREDICATE_ATOMS, *labels]))
    op = draw(st.sampled_from(["and", "or", "not"]))
    a = draw(predicate(labels, depth - 1))
    return f"(not {a})" if op == "not" else f"({a} {op} {draw(predicate(labels, depth - 1))})"


@st.composite
def temporal_lines(draw: st.DrawFn, text: str) -> str:
    """Liveness properties of every kind, fairness of every kind on what `text` declares, and
    perhaps a step property, for a model `text` with processes P0.., actions act0.."""
    labels = tuple(sorted(set(re.findall(r"(P\d@l\d+)", text))))
    procs = sorted(set(re.findall(r"process (P\d)", text)))
    acts = sorted(set(re.findall(r"action (act\d)", text)))
    lines = []
    for k in range(draw(st.integers(1, 3))):
        p = draw(predicate(labels))
        lines.append(f"liveness l{k}: " + draw(st.sampled_from([
            f"eventually {p}", f"always eventually {p}", f"eventually always {p}",
            f"{p} ~> {draw(predicate(labels))}"])) + ";")
    targets = ["system", *(f"process {p}" for p in procs), *(f"action {a}" for a in acts),
               *(f"action {label.replace('@', '.')}" for label in labels)]
    for target in draw(st.lists(st.sampled_from(targets), max_size=4, unique=True)):
        lines.append(f"{draw(st.sampled_from(['', 'weak ', 'strong ']))}fair {target};")
    if draw(st.booleans()):
        var = draw(st.sampled_from(["x", "y", "a[1]"]))
        lines.append(f"always step s0: {var}' >= {draw(st.sampled_from(['x', 'y', '1']))} "
                     f"or by({draw(st.sampled_from(procs + acts))});")
    return text + "\n".join(lines) + "\n"


@st.composite
def cyclic_model(draw: st.DrawFn) -> str:
    """Processes that run for ever (so that most models are explored whole and have cycles),
    labelled here and there, and guarded actions."""
    conds = st.sampled_from(["x < 2", "x == 3", "y == 0", "y != 1", "b", "not b", "x + y > 2", "true"])
    lines = ["var x: 0..3 = 0;", "var y: 0..2 = 0;", "var b: bool = false;", "var a: array[0..2] of 0..2 = [0, 1, 2];"]

    def step(depth: int, proc: str, labels: list[str]) -> str:
        label = ""
        if draw(st.integers(0, 3)) == 0:
            label = f"l{len(labels)}: "
            labels.append(f"{proc}@l{len(labels)}")
        kind = draw(st.sampled_from(["x", "y", "b", "await", *(["either", "if"] if depth else [])]))
        body = {"x": f"x := (x + {draw(st.integers(1, 3))}) % 4;", "y": f"y := (y + {draw(st.integers(1, 2))}) % 3;",
                "b": "b := not b;", "await": f"await {draw(conds)};"}.get(kind)
        if body is None:
            a, b = step(depth - 1, proc, labels), step(depth - 1, proc, labels)
            body = f"either {{ {a} }} or {{ {b} }}" if kind == "either" else f"if {draw(conds)} {{ {a} }} else {{ {b} }}"
        return label + body
    labels: list[str] = []
    for i in range(draw(st.integers(1, 3))):
        body = " ".join(step(1, f"P{i}", labels) for _ in range(draw(st.integers(1, 3))))
        lines.append(f"process P{i} {{ {draw(st.sampled_from(['while true', 'while x != 3', 'while not b']))} "
                     f"{{ {body} }} }}")
    for i in range(draw(st.integers(0, 2))):
        lines.append(f"action act{i} when {draw(conds)} {{ a[{i}] := (a[{i}] + 1) % 3; }}")
    lines += [f"reachable here{k}: {label};" for k, label in enumerate(labels)]  # for temporal_lines to find
    return "\n".join(lines) + "\n"


def built_or_reject(text: str, path: str) -> Built:
    """The model, or the example rejected when it asks fairness of a label no step starts at
    (E043: control only passes through it)."""
    try:
        return build_text(text, path)
    except ModelError as e:
        assume(not any(d.code == "E043" for d in e.diagnostics))
        raise


def random_agrees(text: str) -> None:
    built = built_or_reject(text, "random.qdl")
    agree(built.model, Options(max_states=3000))
    agree(built.model, Options(max_states=3000, keep_going=True))


def run_for_ever_agrees(text: str) -> None:
    built = built_or_reject(text, "cyclic.qdl")
    agree(built.model, Options(check_deadlock=False))
    agree(built.model, Options(keep_going=True))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_model().flatmap(temporal_lines))
def test_random_models(text: str) -> None:
    random_agrees(text)


@settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cyclic_model().flatmap(temporal_lines))
def test_models_that_run_for_ever(text: str) -> None:
    run_for_ever_agrees(text)


@pytest.mark.slow
@settings(max_examples=MANY, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_model().flatmap(temporal_lines))
def test_many_random_models(text: str) -> None:
    random_agrees(text)


@pytest.mark.slow
@settings(max_examples=MANY * 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cyclic_model().flatmap(temporal_lines))
def test_many_models_that_run_for_ever(text: str) -> None:
    run_for_ever_agrees(text)


def given_liveness(built: Built) -> list[CompiledModel]:
    """The model with liveness properties of every kind over its own invariants and goals, a
    step property, and each of five fairness settings: none, weak and strong fairness of the
    system, every process and plain action weakly fair, and alternately strong and weak."""
    program = built.program
    span = program.actions[0].span
    preds = [p.expr for p in (*program.invariants, *program.reachables)][:3] or [I.Const(True)]
    lives = tuple(live for j, e in enumerate(preds) for live in (
        I.Liveness("eventually", f"ev{j}", "", e, None, span),
        I.Liveness("always_eventually", f"ae{j}", "", I.Un("not", e), None, span),
        I.Liveness("eventually_always", f"ea{j}", "", e, None, span),
        I.Liveness("leads_to", f"lt{j}", "", I.Un("not", e), e, span)))
    procs = sorted({a.process for a in program.actions if a.process})
    plain = sorted({a.name for a in program.actions if not a.process})

    def each(strong: Any) -> tuple[I.Fairness, ...]:
        return tuple([I.Fairness(strong(j), f"process {p}", span, process=p) for j, p in enumerate(procs)]
                     + [I.Fairness(strong(j), f"action {a}", span, family="", action=a) for j, a in enumerate(plain)])
    fairs = [(), (I.Fairness(False, "system", span),), (I.Fairness(True, "system", span),),
             each(lambda j: False), each(lambda j: j % 2 == 0)]
    step = (I.StepProperty("first_grows", I.Bin("<=", I.Slot(0), I.Slot(len(program.layout.slots))), span),)
    return [CompiledModel(dataclasses.replace(program, liveness=lives, fairness=f, step_properties=step))
            for f in fairs]


# a few, in CI: the slow run below takes them all
SOME = [p for p in model_files() if p.name in (
    "peterson.qdl", "two_phase_commit.qdl", "precopy_backend.qdl", "s19_quiesce_without_ack.qdl",
    "s7b_xenstore_ring_torn_copy.qdl")]


@pytest.mark.parametrize("path", SOME, ids=lambda p: p.name)
def test_repository_models(path: Path) -> None:
    for model in given_liveness(build_file(str(path))):
        agree(model)


@pytest.mark.slow
@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_repository_models_in_full(path: Path) -> None:
    for model in given_liveness(build_file(str(path))):
        agree(model, Options(keep_going=True))


# ------------------------------------------------------------------ limits, resuming, memory

def test_the_time_limit_stops_the_liveness_check() -> None:
    # the limit has passed when the search ends (a small model ends in one slice, before any look
    # at the clock): both stop in the liveness check, the safety verdicts stand
    built = build_text(COUNTER + LIVE + "invariant small: x < 4;\n", "t.qdl")
    cgen.load_native(built.program)  # compiled now, not under the limit
    r = agree(built.model, Options(deadline=Deadline(1.0, time.perf_counter() - 5)))
    assert r.verdict is Verdict.INCOMPLETE and r.exit_code == 20
    assert r.limit == "--time-limit 1s (checking liveness)"
    assert {p.name: p.status for p in r.properties}["small"] is Status.HOLDS


class _Requested:
    requested = True


class _NotRequested:
    requested = False


def _explored(text: str, options: Options | None = None) -> tuple[NativeSearch, Any]:
    """A C search of `text` run to its end (not its liveness check), and its library."""
    built = build_text(text, "l.qdl")
    lib = cgen.load_native(built.program)
    search = NativeSearch(built.model, lib, options or Options(), NullReporter())
    with Interrupts() as interrupts:
        assert search.drive(interrupts, Clock(None)) == (cgen.DONE, None)
    return search, lib


def test_ctrl_c_stops_the_liveness_check() -> None:
    search, _ = _explored(COUNTER + LIVE)
    try:
        check = NativeLiveness(search, _Requested(), Clock(None))  # type: ignore[arg-type]
        check.check()
        assert (check.found, check.why) == ({}, "interrupted (checking liveness)")
        assert check.undecided() == {"ev2", "lt", "ae0", "ea0", "each"}
    finally:
        search.close()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to see the check's thread")
def test_ctrl_c_during_the_liveness_check_from_the_command_line(tmp_path: Path) -> None:
    # 3,000 instances that hold, each a pass over the 90,002 states (size S): seconds of checking.
    # The check runs its calls into C in a second thread: once one exists, the search is over
    model = tmp_path / "m.qdl"
    model.write_text((ROOT / "models" / "precopy_backend.qdl").read_text()
                     + "liveness each(i in 0..2999): eventually always true;\nfair system;\n")
    env = {k: v for k, v in os.environ.items() if k != "QUIESCE_CHECK_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "quiesce_check", "check", str(model), "--param", "NPAGES=3",
                             "--param", "NREQ=2", "--no-coverage"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        deadline = time.monotonic() + 300
        while len(os.listdir(f"/proc/{proc.pid}/task")) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the check ended before it was stopped"
            time.sleep(0.002)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "Traceback" not in out + err and proc.returncode == 20, err
    assert "interrupted (checking liveness)" in out and "Verdict: incomplete (exit 20)" in out


def test_a_call_into_c_is_stopped_by_the_flag_it_reads() -> None:
    # the engine sets the flag while the call runs (here one that waits for it), and the call ends
    check = NativeLiveness.__new__(NativeLiveness)
    check.interrupts, check.clock, check.seen = _Requested(), Clock(None), None  # type: ignore[assignment]

    def waits(stop: Any) -> int:
        flag = ctypes.cast(stop, ctypes.POINTER(ctypes.c_int))
        while not flag.contents.value:
            time.sleep(0.001)
        return cgen.STOPPED
    assert check.call(waits) == cgen.STOPPED and check.seen == "interrupted (checking liveness)"
    assert all(t.name != "qc-liveness" for t in threading.enumerate())


def test_the_c_check_honours_its_stop_flag_and_can_run_again() -> None:
    # 90,002 states (bench/vs_spin.py, size S): the flag is read every 65,536 steps of the check
    text = (ROOT / "models" / "precopy_backend.qdl").read_text() + "liveness f: eventually done;\nfair system;\n"
    search, lib = _explored(text.replace("param NPAGES = 2;", "param NPAGES = 3;").replace("param NREQ = 1;",
                                                                                             "param NREQ = 2;"))
    try:
        L, ctx = lib.lib, search.ctx
        assert L.qc_live_setup(ctx, 1, (ctypes.c_uint8 * 1)(0), (ctypes.c_uint64 * 64)(*[1] * 64)) == 0
        assert L.qc_live_graph(ctx, ctypes.byref(ctypes.c_int(0))) == 0
        assert L.qc_live_check(ctx, 0, cgen.LIVE_KINDS["eventually"], ctypes.byref(ctypes.c_int(1))) == cgen.STOPPED
        assert L.qc_live_check(ctx, 0, cgen.LIVE_KINDS["eventually"], ctypes.byref(ctypes.c_int(0))) == cgen.DONE
    finally:
        search.close()


def test_every_memory_limit_gives_the_answer_or_names_the_limit() -> None:
    text = (ROOT / "models" / "precopy_backend.qdl").read_text() + "liveness f: eventually done;\n"
    model = build_text(text, "m.qdl").model
    whole = native_bfs(model)  # type: ignore[arg-type]
    assert whole.limit is None and lasso(whole, "f") == (0, 0)
    stopped_in_liveness = 0
    for kib in range(8, 400, 4):
        r = native_bfs(model, Options(memory_limit=kib * 1024))  # type: ignore[arg-type]
        if r.limit is None:
            assert (r.verdict, lasso(r, "f")) == (whole.verdict, lasso(whole, "f"))
            continue
        assert r.limit.startswith("--memory-limit") and r.verdict is Verdict.INCOMPLETE
        if r.limit.endswith("(checking liveness)"):
            stopped_in_liveness += 1   # the search ran to its end: its own verdicts stand
            assert r.complete and {p.name: p.status for p in r.properties}["completes"] is Status.REACHED
    assert stopped_in_liveness


def test_a_resumed_search_rebuilds_the_graph(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "m.qdl"
    model.write_text(COUNTER.replace("0..3", "0..30").replace("% 4", "% 31") + LIVE + "fair process P;\n")
    full, resumed, d = tmp_path / "full.json", tmp_path / "r.json", tmp_path / "ck"
    assert main(["check", str(model), "--backend", "python", "--json", str(full)]) == 13
    assert main(["check", str(model), "--backend", "native", "--max-states", "10", "--checkpoint", str(d)]) == 20
    assert main(["resume", str(d), "--backend", "native", "--json", str(resumed)]) == 13
    capsys.readouterr()
    a, b = json.loads(full.read_text()), json.loads(resumed.read_text())
    assert b["backend"] == "native" and a["traces"] == b["traces"] and a["properties"] == b["properties"]


def test_the_graph_costs_about_what_the_search_does() -> None:
    # size S of bench/vs_spin.py: the graph (a 4-byte target and a 1-byte action per step, a
    # 4-byte offset per state) within twice the visited-state store, per state
    text = (ROOT / "models" / "precopy_backend.qdl").read_text() + "liveness f: eventually done;\nfair system;\n"
    search, lib = _explored(text.replace("param NPAGES = 2;", "param NPAGES = 3;").replace("param NREQ = 1;",
                                                                                             "param NREQ = 2;"))
    try:
        _, states, *_, store = search.stats()
        assert states == 90_002
        check = NativeLiveness(search, _NotRequested(), Clock(None))  # type: ignore[arg-type]
        check.check()
        assert (check.found, check.undecided(), check.why) == ({}, frozenset(), None)
        used = (ctypes.c_uint64 * 2)()
        lib.lib.qc_live_bytes(search.ctx, used)
        assert used[0] / states <= 2 * store / states
    finally:
        search.close()


def test_the_default_engine_checks_temporal_properties_in_c() -> None:
    built = build_text(COUNTER + LIVE + STEPS.removeprefix(COUNTER), "d.qdl")
    r = breadth_first(built.model, Options(backend="native"), NullReporter())
    assert r.backend == "native" and r.verdict is Verdict.VIOLATED
