"""Bounded model checking held to breadth-first search.

On every model of the repository, at the same bound, the two must report the
same verdict and counterexamples of the same (shortest) length; with
--continue, every property's shortest counterexample has the same length.
BMC may say incomplete where bfs completed (it knows it is complete only
past the longest loop-free path), never more than bfs. Its traces are
ordinary traces: they replay, export to ITF and re-import.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.compile import z3gen
from quiesce_check.compile.deadline import Deadline
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.bmc import bmc
from quiesce_check.engines.result import Options, Result, Status, Verdict
from quiesce_check.engines.symbolic import SymbolicMismatch
from quiesce_check.output.itf import to_itf
from quiesce_check.replay import replay
from tests.conftest import ROOT, build, model_files

HERE = Path(__file__).parent / "models"
CLI_MODELS = sorted(p for p in (ROOT / "tests" / "cli" / "models").glob("*.qdl") if p.name != "big.qdl")
PRECOPY = "models/precopy_backend.qdl"


def agree(built: Built, depth: int, time_limit: float | None = None) -> tuple[Result, Result]:
    """bfs --max-depth D and bmc --depth D: the same verdict and shortest length, or bmc
    incomplete where bfs completed below the bound."""
    r_bfs = bfs(built.model, Options(max_depth=depth, backend="python", deadline=Deadline(time_limit)))
    r_bmc = bmc(built.model, Options(depth=depth, deadline=Deadline(time_limit)))
    if r_bfs.trace is not None or r_bmc.trace is not None:
        assert r_bmc.verdict is r_bfs.verdict
        assert r_bfs.trace is not None and r_bmc.trace is not None
        assert len(r_bmc.trace.steps) == len(r_bfs.trace.steps)
    elif r_bmc.complete:
        assert r_bfs.complete and r_bmc.verdict is r_bfs.verdict
    else:
        assert r_bmc.verdict is Verdict.INCOMPLETE
        assert r_bfs.verdict in (Verdict.INCOMPLETE, Verdict.HOLDS, Verdict.VACUOUS)
        assert all(p.status in (Status.INCOMPLETE, Status.REACHED) for p in r_bmc.properties)
    return r_bfs, r_bmc


# A model with more slots than this is held to bfs in CI at a smaller depth (the slow test goes deeper)
LARGE = 40


@pytest.mark.parametrize("path", [*model_files(), *CLI_MODELS], ids=lambda p: p.name)
def test_bmc_agrees_with_bfs_on_every_model(path: Path) -> None:
    built = build_file(str(path))
    agree(built, depth=4 if len(built.program.layout.slots) > LARGE else 10)


@pytest.mark.slow
@pytest.mark.parametrize("path", [*model_files(), *CLI_MODELS], ids=lambda p: p.name)
def test_bmc_agrees_with_bfs_on_every_model_deeper(path: Path) -> None:
    agree(build_file(str(path)), depth=30, time_limit=600)


# Shortest counterexamples of the precopy variants (SPIN's BFS trails and bfs agree on them)
@pytest.mark.parametrize(("params", "verdict", "length"), [
    ({"PERSISTENT": True}, Verdict.ASSERTION, 16),
    ({"KEEP_PROCESSING": True}, Verdict.ASSERTION, 15),
    ({"RESPOND_FIRST": True}, Verdict.ASSERTION, 16),
])
def test_precopy_variants_shortest_counterexamples(params: dict, verdict: Verdict, length: int) -> None:
    r_bfs, r_bmc = agree(build_file(PRECOPY, params), depth=20)
    assert r_bmc.verdict is verdict and r_bmc.trace is not None and len(r_bmc.trace.steps) == length


@pytest.mark.slow
def test_precopy_safe_variant_is_complete() -> None:
    # no loop-free path leaves the initial state for more than bfs's depth plus a few steps
    r_bfs, r_bmc = agree(build_file(PRECOPY), depth=20)
    assert r_bmc.verdict is Verdict.HOLDS and r_bmc.complete
    assert r_bmc.symbolic is not None and r_bmc.symbolic.complete_at is not None
    assert r_bmc.symbolic.complete_at >= r_bfs.stats.depth


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["PERSISTENT", "KEEP_PROCESSING", "RESPOND_FIRST"])
def test_precopy_variants_three_pages(variant: str) -> None:
    agree(build_file(PRECOPY, {variant: True, "NPAGES": 3, "NREQ": 2}), depth=25)


EVERY_KIND = """
var x: 0..6 = 0;
var y: 0..3 = 0;
var z: bool = false;
action step when x < 6 { x := x + 1; }
action other when y < 3 and x > 1 { y := y + 1; }
action flip when y == 3 { z := not z; }
invariant small_x: x < 4;
invariant small_y: y < 2;
invariant never_z: not z;
reachable y_two: y == 2;
"""


def test_every_property_gets_its_shortest_counterexample_with_continue() -> None:
    built = build(EVERY_KIND)
    r_bfs = bfs(built.model, Options(keep_going=True, backend="python"))
    r_bmc = bmc(built.model, Options(keep_going=True, depth=12))
    assert set(r_bfs.traces) == set(r_bmc.traces) == {"small_x", "small_y", "never_z"}
    for name, t in r_bfs.traces.items():
        assert len(r_bmc.traces[name].steps) == len(t.steps), name
    # the lead counterexample is the shortest
    assert r_bmc.trace is not None and r_bmc.trace.property == "small_x" and len(r_bmc.trace.steps) == 4
    # goal witnesses are shortest too
    assert len(r_bmc.witnesses["y_two"].steps) == len(r_bfs.witnesses["y_two"].steps) == 4


@pytest.mark.parametrize("name", ["race.qdl", "invariant.qdl", "deadlock.qdl", "assert.qdl", "div_zero.qdl"])
def test_counterexamples_are_ordinary_traces(name: str) -> None:
    built = build_file(str(ROOT / "tests" / "cli" / "models" / name))
    r = bmc(built.model, Options(depth=10))
    assert r.trace is not None
    doc = to_itf(built.model.info, r.trace, name, {})
    rep = replay(built.model, doc)
    assert rep.ok, rep.message
    assert rep.reproduced == f"{r.trace.kind} {r.trace.property}"


def test_a_model_whose_target_never_resumes_is_vacuous() -> None:
    built = build_file(str(HERE / "never_resumes.qdl"))
    assert bfs(built.model).verdict is Verdict.VACUOUS
    r = bmc(built.model, Options(depth=20))
    assert r.verdict is Verdict.VACUOUS and r.complete
    (prop,) = [p for p in r.properties if p.name == "image_consistent"]
    assert prop.status is Status.VACUOUS and "premise never holds" in prop.detail


def test_premise_reached_is_said() -> None:
    built = build("var x: 0..3 = 0; action a when x < 3 { x := x + 1; } invariant i: x == 2 => x > 1; "
                  "terminal t: x == 3;")
    r = bmc(built.model, Options(depth=2))
    (prop,) = [p for p in r.properties if p.name == "i"]
    assert prop.status is Status.INCOMPLETE and "premise holds after 2 steps" in prop.detail
    r = bmc(built.model, Options(depth=10))
    (prop,) = [p for p in r.properties if p.name == "i"]
    assert r.verdict is Verdict.HOLDS and prop.status is Status.HOLDS and "premise holds after 2 steps" in prop.detail


def test_actions_that_never_fire_are_listed() -> None:
    built = build("""
var x: 0..3 = 0;
action up when x < 2 { x := x + 1; }
action jump when x == 3 { x := 0; }
terminal top: x == 2;
""")
    r = bmc(built.model, Options(depth=3))
    assert r.verdict is Verdict.HOLDS and r.symbolic is not None
    assert r.symbolic.first_step == [1, None]
    assert r.symbolic.never == [1]
    short = bmc(built.model, Options(depth=1))
    assert short.verdict is Verdict.INCOMPLETE and short.symbolic is not None
    assert short.symbolic.first_step == [1, None] and short.symbolic.never == []


def test_at_the_bound_states_are_checked_as_bfs_checks_them() -> None:
    # the deadlock is in the state after 3 steps: bfs --max-depth 3 does not expand it, nor does bmc
    built = build("var x: 0..3 = 0; action a when x < 3 { x := x + 1; }")
    assert bmc(built.model, Options(depth=3)).verdict is Verdict.INCOMPLETE
    r = bmc(built.model, Options(depth=4))
    assert r.verdict is Verdict.DEADLOCK and r.trace is not None and len(r.trace.steps) == 3


def test_time_limit_is_incomplete() -> None:
    built = build_file(PRECOPY, {"NPAGES": 3, "NREQ": 2})
    r = bmc(built.model, Options(depth=40, deadline=Deadline(0.5)))
    assert r.verdict is Verdict.INCOMPLETE and r.limit is not None and "--time-limit" in r.limit


def test_a_path_that_does_not_replay_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    built = build_file(str(ROOT / "tests" / "cli" / "models" / "invariant.qdl"))
    real = z3gen.Encoding.state

    def wrong(self: z3gen.Encoding, model: object, k: int, family: str = "s") -> tuple:
        s = real(self, model, k, family)  # type: ignore[arg-type]
        return s if k == 0 else tuple(0 if isinstance(v, int) and not isinstance(v, bool) else v for v in s)

    monkeypatch.setattr(z3gen.Encoding, "state", wrong)
    with pytest.raises(SymbolicMismatch):
        bmc(built.model, Options(depth=10))


@pytest.mark.parametrize("encoding", z3gen.ENCODINGS)
def test_both_encodings_agree(encoding: str) -> None:
    built = build_file(PRECOPY, {"PERSISTENT": True})
    r = bmc(built.model, Options(depth=20, encoding=encoding))
    assert r.verdict is Verdict.ASSERTION and r.trace is not None and len(r.trace.steps) == 16


def test_a_safe_model_is_complete_and_holds() -> None:
    built = build_file(str(ROOT / "examples" / "two_phase_commit.qdl"))
    r_bfs, r_bmc = agree(built, depth=20)
    assert r_bmc.verdict is r_bfs.verdict is Verdict.HOLDS and r_bmc.complete
    assert r_bmc.symbolic is not None and r_bmc.symbolic.complete_at is not None


def test_models_without_state_or_with_many_initial_states() -> None:
    built = build_text("action a { skip; } invariant t: true;", "t.qdl")
    agree(built, depth=3)
    built = build("var x: 0..3 = any; var y: bool in {true, false}; action up when x < 3 { x := x + 1; } "
                  "terminal t: x == 3; invariant i: not (x == 3 and y);")
    agree(built, depth=5)
