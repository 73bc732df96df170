"""Engines: pinned counts against SPIN's published figures, verdicts, limits, traces."""

from __future__ import annotations

import pytest

from quiesce_check.build import build_file, build_text
from quiesce_check.engines import ENGINES, SYMBOLIC, breadth_first
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.dfs import dfs
from quiesce_check.engines.random_walk import random_walks
from quiesce_check.engines.result import NullReporter, Options, Status, Verdict
from tests.conftest import bfs_levels, build

PRECOPY = "models/precopy_backend.qdl"

# Distinct states, transitions and depth of the safe variant, from SPIN 6.5.2 on
# the same protocol at the same atomicity (shared/peers/RESULTS.md, variant a,
# K = 1, MAXV = 1: "states stored", "transitions", "depth reached"). pan counts
# the initial state as one transition; so does `generated`.
SPIN_SAFE = {
    (2, 1): (1_829, 3_546, 19),
    (2, 2): (9_262, 20_646, 24),
    (3, 1): (12_585, 28_436, 23),
    (3, 2): (90_002, 231_993, 28),
}


@pytest.mark.parametrize(("size", "expected"), SPIN_SAFE.items(), ids=lambda v: str(v))
def test_precopy_safe_variant_matches_spin(size: tuple[int, int], expected: tuple[int, int, int]) -> None:
    npages, nreq = size
    r = bfs(build_file(PRECOPY, {"NPAGES": npages, "NREQ": nreq}).model)
    assert r.verdict is Verdict.HOLDS and r.complete
    assert (r.stats.distinct, r.stats.generated, r.stats.depth) == expected


# Shortest counterexample lengths: SPIN's BFS trails (RESULTS.md, "shortest"
# column): 3*NPAGES + 10 transitions for b and d, 3*NPAGES + 9 for c.
@pytest.mark.parametrize(("variant", "extra"), [("PERSISTENT", 10), ("KEEP_PROCESSING", 9), ("RESPOND_FIRST", 10)])
@pytest.mark.parametrize("npages", [2, 3])
def test_precopy_broken_variants_shortest_trace(variant: str, extra: int, npages: int) -> None:
    r = bfs(build_file(PRECOPY, {variant: True, "NPAGES": npages, "NREQ": 2 if npages == 3 else 1}).model)
    assert r.verdict is Verdict.ASSERTION
    assert r.trace is not None and len(r.trace.steps) == 3 * npages + extra
    assert r.trace.kind == "assertion"


COUNTER = """
param N = 5;
var x: 0..N = 0;
action inc when x < N { x := x + 1; }
action reset when x == N { x := 0; }
invariant small: x <= N;
reachable top: x == N;
"""


def test_all_engines_agree_on_a_safe_model() -> None:
    model = build_text(COUNTER, "c.qdl").model
    r_bfs = bfs(model)
    r_dfs = dfs(model)
    assert r_bfs.verdict is r_dfs.verdict is Verdict.HOLDS
    assert r_bfs.stats.distinct == r_dfs.stats.distinct == 6  # x in 0..5
    r_rnd = random_walks(model, Options(seed=3, walks=20, walk_depth=20))
    assert r_rnd.verdict is Verdict.INCOMPLETE and r_rnd.seed == 3   # a simulation proves nothing
    assert {p.name: p.status for p in r_rnd.properties}["top"] is Status.REACHED


def test_bfs_trace_is_shortest_and_dfs_trace_is_valid() -> None:
    built = build_text(COUNTER.replace("invariant small: x <= N;", "invariant below: x < 4;"), "c.qdl")
    r = bfs(built.model)
    assert r.verdict is Verdict.VIOLATED and r.trace is not None
    assert len(r.trace.steps) == 4 and r.trace.property == "below"
    d = dfs(built.model)
    assert d.verdict is Verdict.VIOLATED and d.trace is not None
    # every step of the DFS trace is a real transition of the model
    for k, step in enumerate(d.trace.steps):
        succs = built.model.successors(d.trace.states[k])
        assert (step.action, step.choices, d.trace.states[k + 1]) in succs


def test_deadlock_and_terminal() -> None:
    text = "var x: 0..2 = 0;\naction inc when x < 2 { x := x + 1; }\n"
    r = bfs(build_text(text, "d.qdl").model)
    assert r.verdict is Verdict.DEADLOCK and r.trace is not None and len(r.trace.steps) == 2
    r = bfs(build_text(text + "terminal full: x == 2;\n", "d.qdl").model)
    assert r.verdict is Verdict.HOLDS
    r = bfs(build_text(text, "d.qdl").model, Options(check_deadlock=False))
    assert r.verdict is Verdict.HOLDS
    # a process that runs to its end is not deadlocked
    r = bfs(build_text("var x: 0..2 = 0;\nprocess P { x := 1; x := 2; }\n", "p.qdl").model)
    assert r.verdict is Verdict.HOLDS and r.stats.distinct == 3


def test_unreached_goal_is_vacuous() -> None:
    r = bfs(build_text(COUNTER.replace("reachable top: x == N;", "reachable never: x > N;"), "c.qdl").model)
    assert r.verdict is Verdict.VACUOUS
    assert {p.name: p.status for p in r.properties}["never"] is Status.UNREACHED


def test_runtime_error_is_reported_with_its_trace() -> None:
    text = "var x: 0..3 = 0;\nvar a: array[0..1] of bool = [false, false];\naction inc { x := x + 1; }\n"
    r = bfs(build_text(text, "e.qdl").model)
    assert r.verdict is Verdict.MODEL_ERROR and r.trace is not None
    assert len(r.trace.steps) == 4 and len(r.trace.states) == 4  # the fourth step fails: 4 is outside 0..3
    r = bfs(build_text(text.replace("x := x + 1;", "x := x + 1; a[x - 1] := true;"), "e.qdl").model)
    assert r.verdict is Verdict.MODEL_ERROR and "index" in r.trace.message


@pytest.mark.parametrize("engine", sorted(set(ENGINES) - set(SYMBOLIC)))  # bmc and induction take --depth
def test_limits_give_incomplete(engine: str) -> None:
    model = build_file(PRECOPY, {"NPAGES": 3, "NREQ": 2}).model
    # random: walks enough to meet 1000 states; swarm: its bound is per search, each meets it
    r = ENGINES[engine].run(model, Options(max_states=1000, walks=4 if engine == "swarm" else 100_000), None)
    assert r.verdict is Verdict.INCOMPLETE and r.limit is not None and "max-states" in r.limit
    assert r.stats.distinct <= 1000


def test_max_depth_bounds_bfs_exactly() -> None:
    model = build_file(PRECOPY).model
    r = bfs(model, Options(max_depth=6))
    assert r.verdict is Verdict.INCOMPLETE and r.limit == "--max-depth 6"
    assert r.stats.distinct == sum(len(level) for level in bfs_levels(model, 6))


def test_random_is_reproducible() -> None:
    model = build_file(PRECOPY, {"PERSISTENT": True}).model
    a = random_walks(model, Options(seed=7, walks=500))
    b = random_walks(model, Options(seed=7, walks=500))
    assert a.verdict is Verdict.ASSERTION and a.trace == b.trace


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_violation_in_an_initial_state_is_never_lost(engine: str) -> None:
    # the first initial state violates, the second does not: a zero-step trace
    # must still end the search (a trace is never judged by its truthiness)
    text = "var x: 0..1 in {0, 1};\nprocess P { skip; }\ninvariant nonzero: x != 0;\n"
    r = ENGINES[engine].run(build_text(text, "i.qdl").model, Options(walks=10), None)
    assert r.verdict is Verdict.VIOLATED
    assert r.trace is not None and r.trace.steps == () and r.trace.states[0][0] == 0


FOR_LABEL = """
var lock: bool = false;
process W[i in 0..1] {
    for r in 0..1 {
        if r == 0 { atomic { await not lock; lock := true; } }
        cs: skip;
        if r == 0 { lock := false; }
    }
}
invariant mutex: not (W[0]@cs and W[1]@cs);
"""


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_a_label_in_a_for_loop_names_every_iteration(engine: str) -> None:
    # W[1] runs round 0 (3 steps) and stands at `cs` of round 1, unlocked;
    # W[0] takes the lock and stands at `cs` of round 0: 4 steps
    r = ENGINES[engine].run(build_text(FOR_LABEL, "f.qdl").model, Options(walks=2000), None)
    assert r.verdict is Verdict.VIOLATED
    if engine == "bfs":
        assert r.trace is not None and len(r.trace.steps) == 4


@pytest.mark.parametrize("text", [
    "var x: 0..5 = 0;\nprocess P { while x < 5 { x := x + 1; } }\ninvariant i: x < 5 or x > 10000000000000000000;\n",
    "param BIG = 9223372036854775808;\nvar x: 0..BIG = 0;\nprocess P { x := BIG; }\ninvariant i: x < 100;\n",
])
def test_numbers_beyond_64_bits_are_exact(text: str) -> None:
    r = ENGINES["bfs"].run(build_text(text, "b.qdl").model, Options(), None)
    assert r.verdict is Verdict.VIOLATED
    assert r.backend == "python" and r.note is not None and "64 bits" in r.note


@pytest.mark.parametrize("backend", ["python", "native"])
@pytest.mark.parametrize("end", ["", "final ends_at_one: s == 1;\n"])
def test_an_end_one_step_shorter_than_a_violation_found_first_is_reported(backend: str, end: str) -> None:
    # BFS expands the state reached by `a` before the one reached by `b`, and meets the invariant's
    # violation (2 steps) before it expands the end `b` leads to (1 step: a deadlock, or a state
    # where the final property fails): the rest of the level is checked, and the end is reported
    text = ("var s: 0..3 = 0;\naction a when s == 0 { s := 1; }\naction b when s == 0 { s := 2; }\n"
            "action c when s == 1 { s := 3; }\ninvariant not_three: s != 3;\n" + end)
    r = breadth_first(build(text).model, Options(backend=backend), NullReporter())
    assert r.trace is not None and len(r.trace.steps) == 1
    assert r.trace.kind == ("final" if end else "deadlock")
    assert list(r.traces) == [r.trace.property]
