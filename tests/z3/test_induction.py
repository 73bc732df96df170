"""k-induction: proofs, counterexamples to induction, lemmas, vacuity and coverage by proof.

Its base case is bounded model checking, so its violations are bfs's; what it
proves must be what a complete bfs finds (or it says incomplete, never more).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quiesce_check.build import build_file, build_text
from quiesce_check.compile.deadline import Deadline
from quiesce_check.engines import ENGINES
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.common import check_state, expand
from quiesce_check.engines.induction import induction
from quiesce_check.engines.result import Options, Status, Verdict
from quiesce_check.engines.spec import requested
from quiesce_check.engines.symbolic import replay_steps
from tests.conftest import ROOT, build, model_files

HERE = Path(__file__).parent / "models"
CLI_MODELS = sorted(p for p in (ROOT / "tests" / "cli" / "models").glob("*.qdl") if p.name != "big.qdl")


def agree_with_bfs(path: Path, depth: int, time_limit: float | None = None) -> Verdict:
    built = build_file(str(path))
    if ENGINES["induction"].unchecked(requested(built.model.info, True)):
        pytest.skip("induction does not check every property kind of this model (run_checked refuses it)")
    r_bfs = bfs(built.model, Options(backend="python"))
    r = induction(built.model, Options(depth=depth, deadline=Deadline(time_limit)))
    if r_bfs.trace is not None or r.trace is not None:
        assert r.verdict is r_bfs.verdict
        assert r.trace is not None and r_bfs.trace is not None
        assert len(r.trace.steps) == len(r_bfs.trace.steps)
    elif r.verdict is not Verdict.INCOMPLETE:
        assert r.verdict is r_bfs.verdict
        statuses = {(p.kind, p.name): p.status for p in r_bfs.properties}
        assert {(p.kind, p.name): p.status for p in r.properties} == statuses
    return r.verdict


@pytest.mark.parametrize("path", [p for p in model_files() if "examples" in p.parts] + CLI_MODELS,
                         ids=lambda p: p.name)
def test_induction_agrees_with_bfs(path: Path) -> None:
    agree_with_bfs(path, depth=12)


@pytest.mark.slow
@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_induction_agrees_with_bfs_on_every_model(path: Path) -> None:
    agree_with_bfs(path, depth=30, time_limit=300)


@pytest.mark.parametrize("name", ["peterson.qdl", "two_phase_commit.qdl"])
def test_safe_examples_are_proved(name: str) -> None:
    r = induction(build_file(str(ROOT / "examples" / name)).model, Options(depth=12))
    assert r.verdict is Verdict.HOLDS
    invariants = [p for p in r.properties if p.kind == "invariant"]
    assert invariants and all(p.status is Status.HOLDS and p.detail for p in invariants)


def test_counterexample_to_induction_is_labelled_not_a_violation() -> None:
    built = build_file(str(HERE / "lemma_needed.qdl"))
    assert bfs(built.model).verdict is Verdict.HOLDS
    r = induction(built.model, Options(depth=6))
    assert r.verdict is Verdict.INCOMPLETE and r.exit_code == 20
    assert r.trace is None and not r.traces
    assert r.symbolic is not None and r.symbolic.cti is not None
    cti = r.symbolic.cti
    assert len(cti.steps) == 6 and cti.property == "below_top"
    # it starts from a state no initial state leads to, each step is the model's, and its end breaks the claim
    assert cti.states[0] not in built.model.initial_states()
    assert replay_steps(built.model, cti.states, from_initial=False) == list(cti.steps)
    assert [v[1] for v in check_state(built.model, cti.states[-1])] == ["below_top"]
    (prop,) = [p for p in r.properties if p.name == "below_top"]
    assert prop.status is Status.INCOMPLETE


def test_a_lemma_makes_it_inductive() -> None:
    text = (HERE / "lemma_needed.qdl").read_text() + "check even;\naction odd when x % 2 == 1 { skip; }\n"
    built = build_text(text, "lemma.qdl")
    r = induction(built.model, Options(depth=6))
    assert r.verdict is Verdict.HOLDS
    by_name = {p.name: p for p in r.properties}
    assert by_name["even"].kind == "lemma"
    assert "1-induction" in by_name["below_top"].detail and "1-induction" in by_name["even"].detail
    # the action guarded by an odd x is proved never to fire
    assert r.symbolic is not None and r.symbolic.never == [2]


def test_a_false_lemma_is_a_violation() -> None:
    built = build("""
var x: 0..5 = 0;
action up when x < 5 { x := x + 1; }
terminal top: x == 5;
lemma small: x < 3;
""")
    r_bfs = bfs(built.model)
    r = induction(built.model, Options(depth=8))
    assert r.verdict is r_bfs.verdict is Verdict.VIOLATED
    assert r.trace is not None and r_bfs.trace is not None and len(r.trace.steps) == len(r_bfs.trace.steps) == 3
    assert r.trace.message.startswith("lemma `small`")


def test_a_model_whose_target_never_resumes_is_vacuous_by_proof() -> None:
    built = build_file(str(HERE / "never_resumes.qdl"), {"PAGES": 4})
    r = induction(built.model, Options(depth=10))
    assert r.verdict is Verdict.VACUOUS and r.exit_code == 21
    (prop,) = [p for p in r.properties if p.name == "image_consistent"]
    assert prop.status is Status.VACUOUS and "induction" in prop.detail and "premise never holds" in prop.detail
    assert r.symbolic is not None and r.symbolic.complete_at is None   # proved, not enumerated


def test_unreachable_goal_is_proved_unreachable() -> None:
    built = build_file(str(ROOT / "tests" / "cli" / "models" / "vacuous.qdl"))
    r = induction(built.model, Options(depth=5))
    assert r.verdict is Verdict.VACUOUS
    (goal,) = [p for p in r.properties if p.kind == "reachable"]
    assert goal.status is Status.UNREACHED


def test_failing_steps_and_deadlocks_are_base_case_violations() -> None:
    for name, verdict in (("assert.qdl", Verdict.ASSERTION), ("deadlock.qdl", Verdict.DEADLOCK),
                          ("div_zero.qdl", Verdict.MODEL_ERROR)):
        built = build_file(str(ROOT / "tests" / "cli" / "models" / name))
        r = induction(built.model, Options(depth=5))
        assert r.verdict is verdict, name
        assert r.trace is not None
        if verdict is not Verdict.DEADLOCK:
            assert len(r.trace.steps) == len(r.trace.states)  # the last step fails: no state after it
            expand_fails = False
            try:
                expand(built.model, r.trace.states[-1])
            except Exception:  # noqa: BLE001
                expand_fails = True
            assert expand_fails
