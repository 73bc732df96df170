"""Liveness verdicts known from outside the checker, and a brute-force reference to hold it to.

The models are in examples/, each with its source and its expected figures derived in its
header: Peterson's algorithm (starvation free under weak fairness of each process, not
without), the dining philosophers (the naive table deadlocks and starves; the ordered one
needs strong fairness), a busy-waiting mutual exclusion that livelocks under any fairness,
and two results published with TLA+'s TLC: Dijkstra's mutual exclusion (L. Lamport's spec
in github.com/tlaplus/Examples: deadlock free, not starvation free, and TLC's state count)
and Dijkstra's self-stabilising token ring (TLC's verdict and counts at the published size).

A lasso is pinned by its shape, (prefix steps, cycle steps), a cycle of 0 steps being
stuttering for ever in the last state; each shape is derived by hand in the model's header
or beside the test. Every lasso is also checked to be real by `liveness_reference` (an
initial state, the model's steps, a fair cycle, the property broken), and every verdict is
decided again by its closures, apart from `engines.liveness`. The searches run in Python.

Then `LivenessCheck` is held to the brute-force reference (every set of states tried as the
set a behaviour visits for ever) on random graphs with random fairness, on the pure-Python
graph model and, through bfs, on the same graph compiled from its IR.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiesce_check.build import Built, build_text
from quiesce_check.cli import main
from quiesce_check.compile.layout import State, variable_values
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.common import Clock
from quiesce_check.engines.liveness import LivenessCheck, explore, fairness_sets
from quiesce_check.engines.result import Options, Result, Status, Verdict
from quiesce_check.trace.types import Step, Trace
from tests.conftest import ROOT
from tests.engines.liveness_reference import (
    by_closures,
    by_subsets,
    explicit,
    fair_sets,
    lasso_problems,
)
from tests.engines.toys import Graph, Live, fair

EXAMPLES = ROOT / "examples"
FAIRNESS = re.compile(r"^(?:weak |strong )?fair .*;\n", re.M)
PETERSON, DINING, LIVELOCK = "peterson_starvation.qdl", "dining_philosophers.qdl", "mutex_livelock.qdl"
DIJKSTRA, TOKEN_RING = "dijkstra_mutex.qdl", "token_ring.qdl"


def build(name: str, fairness: str | None = None, select: list[str] | None = None, **params: int | bool) -> Built:
    """An example; with `fairness`, its fairness declarations replaced by these."""
    text = (EXAMPLES / name).read_text()
    if fairness is not None:
        text = FAIRNESS.sub("", text) + fairness + "\n"
    return build_text(text, name, dict(params), select)


def check(built: Built, **options: bool) -> Result:
    return bfs(built.model, Options(backend="python", **options))


def status(r: Result, kind: str, name: str) -> Status:
    (found,) = [p.status for p in r.properties if p.kind == kind and p.name == name]
    return found


def instance(built: Built, name: str, text: str = "") -> int:
    """The index in `info.liveness` of the instance `text` ("i = 1") of property `name`."""
    return next(k for k, live in enumerate(built.model.info.liveness) if live.name == name and live.instance == text)


def shape(trace: Trace) -> tuple[int, int]:
    """(steps before the cycle, steps in it); 0 in it: the last state stutters for ever."""
    assert trace.loop is not None
    return trace.loop, len(trace.steps) - trace.loop


def real(built: Built, trace: Trace, k: int) -> None:
    assert lasso_problems(built.model, trace, k, fair_sets(built.model)) == []


def decided(built: Built, name: str) -> bool:
    """Whether a fair behaviour breaks some instance of `name`, by the reference's closures."""
    ex, fairness = explicit(built.model), fair_sets(built.model)
    return any(by_closures(ex, k, live.kind, fairness)
               for k, live in enumerate(built.model.info.liveness) if live.name == name)


def lasso_of(built: Built, k: int) -> Trace | None:
    """The checker's lasso for one instance (bfs reports the first instance broken)."""
    model = built.model
    return LivenessCheck(explore(model, Clock(None)), fairness_sets(model), k, model.info.liveness[k]).lasso()


def steps_by(built: Built, steps: Sequence[Step]) -> Counter[str]:
    """How many of `steps` each process instance takes."""
    return Counter(built.model.info.actions[s.action].process for s in steps)


def values(built: Built, state: State) -> dict:
    return variable_values(built.program.layout, state)


# ------------------------------------------------------------------ Peterson


def test_peterson_is_starvation_free_under_weak_fairness() -> None:
    b = build(PETERSON)
    r = check(b)
    assert r.verdict is Verdict.HOLDS and status(r, "liveness", "starvation_free") is Status.HOLDS
    assert r.stats.distinct == 62
    # a process may stay in its non-critical section while the other enters
    assert status(r, "reachable", "enters_while_other_stays_idle") is Status.REACHED
    assert not decided(b, "starvation_free")


def test_peterson_without_fairness_a_process_stops() -> None:
    # P[1] leaves its non-critical section (one step) and nothing moves again
    b = build(PETERSON, fairness="")
    r = check(b)
    assert r.verdict is Verdict.LIVENESS
    trace = r.traces["starvation_free"]
    assert shape(trace) == (1, 0)
    real(b, trace, instance(b, "starvation_free", "i = 1"))
    assert decided(b, "starvation_free")


def test_peterson_starves_a_fair_process_when_the_other_stops_with_its_flag_up() -> None:
    # only P[2] is fair: P[1] raises its flag (2 steps) and stops; P[2] raises its own, gives
    # the turn to P[1] (3 steps) and waits at a3 for ever
    b = build(PETERSON, fairness="fair process P[2];")
    k = instance(b, "starvation_free", "i = 2")
    trace = lasso_of(b, k)
    assert trace is not None and shape(trace) == (5, 0)
    real(b, trace, k)
    assert values(b, trace.states[-1]) == {"c": (True, True), "turn": 1}
    assert steps_by(b, trace.steps) == {"P[1]": 2, "P[2]": 3}


def test_peterson_lets_a_process_stay_idle_for_ever() -> None:
    # under the same fairness, P[2] (and P[1]) may go idle for good: two steps, then nothing
    b = build(PETERSON, select=["p2_enters_often"])
    r = check(b)
    trace = r.traces["p2_enters_often"]
    assert shape(trace) == (2, 0)
    real(b, trace, 0)
    assert b.model.successors(trace.states[-1]) == []


# ------------------------------------------------------------------ dining philosophers


def test_naive_table_deadlocks_after_each_takes_a_fork() -> None:
    b = build(DINING)
    r = check(b)
    assert r.verdict is Verdict.DEADLOCK and r.trace is not None and len(r.trace.steps) == 6
    assert values(b, r.trace.states[-1]) == {"taken": (True, True, True)}
    assert check(b, check_deadlock=False).stats.distinct == 63


@pytest.mark.parametrize("fairness", ["strong fair process P;", "fair process P;"])
def test_naive_table_starves_at_the_deadlock(fairness: str) -> None:
    b = build(DINING, fairness=fairness)
    r = check(b, check_deadlock=False)
    assert r.verdict is Verdict.LIVENESS
    trace = r.traces["fed"]
    assert shape(trace) == (6, 0)
    real(b, trace, instance(b, "fed", "i = 0"))
    assert b.model.successors(trace.states[-1]) == []


def test_naive_table_without_fairness_starves_at_once() -> None:
    b = build(DINING, fairness="")
    trace = check(b, check_deadlock=False).traces["fed"]
    assert shape(trace) == (1, 0)
    real(b, trace, instance(b, "fed", "i = 0"))


def test_ordered_table_is_starvation_free_under_strong_fairness() -> None:
    b = build(DINING, ORDERED=True)
    r = check(b)
    assert r.verdict is Verdict.HOLDS and status(r, "liveness", "fed") is Status.HOLDS
    assert r.stats.distinct == 60
    assert not decided(b, "fed")


def test_ordered_table_starves_under_weak_fairness() -> None:
    # philosopher 0 gets hungry (one step); philosophers 1 and 2 each go round once (five steps
    # each), philosopher 2 holding fork 0 on the way, while philosopher 0 never moves
    b = build(DINING, fairness="fair process P;", ORDERED=True)
    r = check(b)
    trace = r.traces["fed"]
    assert r.verdict is Verdict.LIVENESS and shape(trace) == (1, 10)
    real(b, trace, instance(b, "fed", "i = 0"))
    assert steps_by(b, trace.steps[1:]) == {"P[1]": 5, "P[2]": 5}
    assert any(values(b, s)["taken"][0] for s in trace.states[1:])


def test_ordered_table_starves_under_strong_fairness_of_all_pick_ups_together() -> None:
    b = build(DINING, fairness="fair process P;\nstrong fair action P.take_first;\nstrong fair action P.take_second;",
              ORDERED=True)
    r = check(b)
    assert r.verdict is Verdict.LIVENESS
    real(b, r.traces["fed"], instance(b, "fed", "i = 0"))
    assert decided(b, "fed")


# ------------------------------------------------------------------ the livelock


@pytest.mark.parametrize("fairness", ["fair process P;", "strong fair process P;"])
def test_busy_waiting_livelocks_under_fairness(fairness: str) -> None:
    b = build(LIVELOCK, fairness=fairness)
    r = check(b)
    assert r.verdict is Verdict.LIVENESS and status(r, "invariant", "mutual_exclusion") is Status.HOLDS
    assert r.stats.distinct == 60
    trace = r.traces["someone_enters"]
    assert shape(trace) == (6, 6)
    real(b, trace, 0)
    assert steps_by(b, trace.steps[6:]) == {"P[0]": 3, "P[1]": 3}


def test_busy_waiting_without_fairness_stops_at_once() -> None:
    b = build(LIVELOCK, fairness="")
    trace = check(b).traces["someone_enters"]
    assert shape(trace) == (0, 0)
    real(b, trace, 0)


@pytest.mark.parametrize(("name", "code"), [(LIVELOCK, 13), (PETERSON, 0), (DINING, 11)])
def test_exit_codes(capsys: pytest.CaptureFixture[str], name: str, code: int) -> None:
    assert main(["check", str(EXAMPLES / name), "--backend", "python"]) == code
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err


# ------------------------------------------------------------------ Dijkstra's mutual exclusion


def pcs(b: Built, state: State) -> tuple[str, ...]:
    (place,) = [p for p in b.program.layout.places if p.name == "pc"]
    return tuple(place.type.elem.members[v] for v in values(b, state)["pc"])


def test_dijkstra_is_deadlock_free_under_lspec() -> None:
    b = build(DIJKSTRA)
    r = check(b)
    assert r.verdict is Verdict.HOLDS
    assert status(r, "liveness", "deadlock_freedom") is Status.HOLDS
    assert not decided(b, "deadlock_freedom")


def test_dijkstra_is_deadlock_free_but_not_starvation_free_under_spec() -> None:
    b = build(DIJKSTRA, fairness="fair process P;\nfair process Ncs;",
              select=["mutual_exclusion", "deadlock_free", "starvation_free"])
    r = check(b)
    assert status(r, "liveness", "deadlock_free") is Status.HOLDS and not decided(b, "deadlock_free")
    assert status(r, "liveness", "starvation_free") is Status.VIOLATED and decided(b, "starvation_free")
    trace = r.traces["starvation_free"]
    k = instance(b, "starvation_free", "i = 1")
    real(b, trace, k)
    # not a process that stops: process 1 is passed over while process 2 keeps entering
    assert shape(trace)[1] > 0
    cycle = [pcs(b, s) for s in trace.states[trace.loop:]]
    assert all(p[0] != "CS" for p in cycle) and any(p[1] == "CS" for p in cycle)


@pytest.mark.slow
def test_dijkstra_published_model() -> None:
    # TLC, LSpec-model/MC.out: no error, 282810 generated, 90882 distinct, depth 54 (states)
    r = check(build(DIJKSTRA, N=3))
    assert r.verdict is Verdict.HOLDS
    assert (r.stats.distinct, r.stats.generated, r.stats.depth) == (90_882, 282_810, 53)


# ------------------------------------------------------------------ the self-stabilising token ring


def test_token_ring_stabilises() -> None:
    # 3^4 states, all initial; 27 with c[0] = c[3] enable create_token, 54 enable each pass_token
    b = build(TOKEN_RING)
    r = check(b)
    assert r.verdict is Verdict.HOLDS and status(r, "liveness", "stabilises") is Status.HOLDS
    assert (r.stats.distinct, r.stats.generated, r.stats.depth) == (81, 81 + 27 + 3 * 54, 0)
    assert not decided(b, "stabilises")


def test_token_ring_without_fairness_stays_unstable() -> None:
    b = build(TOKEN_RING, fairness="")
    trace = check(b).traces["stabilises"]
    assert shape(trace) == (0, 0)
    real(b, trace, 0)


def test_token_ring_below_the_assumed_size_need_not_stabilise() -> None:
    # N = 4 > M + 1: outside TokenRing.tla's assumption; no published lasso, so the verdict is
    # held to the reference's, and the lasso to being real
    b = build(TOKEN_RING, N=4, M=2)
    r = check(b)
    assert r.verdict is Verdict.LIVENESS and decided(b, "stabilises")
    real(b, r.traces["stabilises"], 0)


@pytest.mark.slow
def test_token_ring_published_size() -> None:
    # specifications/ewd426/manifest.json: success, distinctStates 46656, totalStates 248832
    r = check(build(TOKEN_RING, N=6, M=6))
    assert r.verdict is Verdict.HOLDS
    assert (r.stats.distinct, r.stats.generated, r.stats.depth) == (46_656, 248_832, 0)


# ------------------------------------------------------------------ the reference on toys


def verdicts(graph: Graph) -> list[tuple[bool, bool, bool]]:
    """Per property: (LivenessCheck found a lasso, by_subsets, by_closures); every lasso real."""
    model = graph.model()
    ex, fairness, g = explicit(model), fair_sets(model), explore(model, Clock(None))
    out = []
    for k, live in enumerate(model.info.liveness):
        trace = LivenessCheck(g, fairness_sets(model), k, live).lasso()
        if trace is not None:
            assert lasso_problems(model, trace, k, fairness) == [], (graph, k)
        out.append((trace is not None, by_subsets(ex, k, live.kind, fairness), by_closures(ex, k, live.kind, fairness)))
    return out


def test_weak_fairness_is_met_by_a_step_enabled_only_now_and_then() -> None:
    # 0 <-> 1 by B; A leads from 0 to 2, enabled at 0 only. Weakly fair A: going round 0, 1
    # never reaches 2 (A is not enabled for good). Strongly fair A: it is enabled again and
    # again, so it is taken.
    edges, owner = {0: [1, 2], 1: [0], 2: [2]}, {(0, 1): "B", (1, 0): "B", (0, 2): "A", (2, 2): "B"}
    reach2 = (Live("eventually", "reach2", frozenset({2})),)
    weak = Graph(edges, owner=owner, liveness=reach2, fairness=(fair("A"), fair("B")))
    strong = Graph(edges, owner=owner, liveness=reach2, fairness=(fair("A", strong=True), fair("B")))
    assert verdicts(weak) == [(True, True, True)]
    assert verdicts(strong) == [(False, False, False)]


def test_a_step_back_to_the_same_state_is_taken() -> None:
    # 0 loops by A and A also leads to 1: a behaviour going round the loop takes A again and
    # again, which weak fairness of A asks (as SPIN counts a statement that changes nothing;
    # TLA+ would call that step a stutter and make WF(A) lead to 1)
    g = Graph({0: [0, 1], 1: [1]}, owner={(0, 0): "A", (0, 1): "A", (1, 1): "A"},
              liveness=(Live("eventually", "reach1", frozenset({1})),), fairness=(fair("A"),))
    assert verdicts(g) == [(True, True, True)]


# 0 -> 1 -> 2 <-> 3: under weak fairness of all steps, x == 1 once, then 2, 3, 2, 3, ... breaks
# `always eventually x == 1`: two steps, then a cycle of two. The prefix must pass 0, where
# the property may already become pending (x != 1), to become pending at 2.
PASSING_ENTRY = Graph({0: [1], 1: [2], 2: [3], 3: [2]}, liveness=(Live("always_eventually", "often1", frozenset({1})),),
                      fairness=(fair(""),))
PASSING_ENTRY_QDL = """var x: 0..3 = 0;
action a when x == 0 { x := 1; }
action b when x == 1 { x := 2; }
action c when x == 2 { x := 3; }
action d when x == 3 { x := 2; }
liveness often_one: always eventually x == 1;
fair system;
"""


def test_a_prefix_passes_a_state_where_the_property_could_become_pending() -> None:
    assert verdicts(PASSING_ENTRY) == [(True, True, True)]


def test_a_prefix_passes_a_state_where_the_property_could_become_pending_from_the_command_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "often_one.qdl"
    path.write_text(PASSING_ENTRY_QDL)
    code = main(["check", str(path), "--backend", "python"])
    capsys.readouterr()
    assert code == 13
    built = build_text(PASSING_ENTRY_QDL, "often_one.qdl")
    assert shape(check(built).traces["often_one"]) == (2, 2)


KINDS = ["eventually", "always_eventually", "eventually_always", "leads_to"]
OWNERS = ["A", "B", "C"]


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    n = draw(st.integers(1, 6))
    nodes = st.integers(0, n - 1)
    edges = {v: draw(st.lists(nodes, max_size=3, unique=True)) for v in range(n)}
    owner = {(v, w): draw(st.sampled_from(OWNERS)) for v in edges for w in edges[v]}
    lives = tuple(Live(kind, f"l{k}", frozenset(draw(st.sets(nodes))), frozenset(draw(st.sets(nodes))))
                  for k, kind in enumerate(draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=2))))
    fairness = tuple(fair(draw(st.sampled_from(["", *OWNERS])), draw(st.booleans()))
                     for _ in range(draw(st.integers(0, 3))))
    init = tuple(sorted(draw(st.sets(nodes, min_size=1, max_size=2))))
    return Graph(edges, init=init, owner=owner, liveness=lives, fairness=fairness)


# a fixed, small sample in CI (derandomized); QC_EXAMPLES=2000 samples afresh, more widely
_EXAMPLES = int(os.environ.get("QC_EXAMPLES") or "0") or None


@settings(max_examples=_EXAMPLES or 300, deadline=None, derandomize=_EXAMPLES is None,
          suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_liveness_check_agrees_with_the_brute_force_reference(graph: Graph) -> None:
    found = verdicts(graph)
    assert all(a == b == c for a, b, c in found), (graph, found)
    # the same graph compiled from its IR, through the whole breadth-first search
    compiled = graph.compiled()
    r = bfs(compiled, Options(backend="python", check_deadlock=False))
    broken = [(k, live.name) for k, (live, (a, _, _)) in enumerate(zip(graph.liveness, found, strict=True)) if a]
    assert {p.name for p in r.properties if p.status is Status.VIOLATED} == {name for _, name in broken}
    for k, name in broken:
        assert lasso_problems(compiled, r.traces[name], k, fair_sets(compiled)) == []
