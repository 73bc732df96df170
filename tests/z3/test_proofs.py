"""The proofs in specs/proofs/: k-induction proves S1 and S15 with their lemmas.

Each proof must prove every property its model checks and every lemma it
states; a lemma is a claim like any other, so a false one is refuted (or, where
the bound is too short to refute it, left unproved), never assumed. And when a
proof is missing a lemma, the counterexample to induction reported is for a
claim broken with every other claim assumed, not for one that only lost a lemma.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from quiesce_check.build import build_file, build_text
from quiesce_check.engines.induction import induction
from quiesce_check.engines.result import Options, Result, Status, Verdict
from tests.conftest import ROOT, build

PROOFS = ROOT / "specs" / "proofs"
S1 = PROOFS / "s1_guest_only_writes.qdl"
S15 = PROOFS / "s15_quiesce_handshake.qdl"


def prove(path: Path, **params: object) -> Result:
    built = build_file(str(path), dict(params))  # type: ignore[arg-type]
    return induction(built.model, Options())


def lemmas_declared(path: Path) -> list[str]:
    return [line.split()[1].rstrip(":") for line in path.read_text().splitlines() if line.startswith("lemma ")]


def assert_proved(r: Result, path: Path, properties: set[str]) -> None:
    assert r.verdict is Verdict.HOLDS, [(p.name, p.status, p.detail) for p in r.properties]
    proved = {p.name for p in r.properties if p.status is Status.HOLDS and "induction" in p.detail}
    assert properties <= proved
    # every lemma the file states was used, and proved, not assumed
    lemmas = [p.name for p in r.properties if p.kind == "lemma"]
    assert lemmas == lemmas_declared(path)
    assert set(lemmas) <= proved
    assert r.symbolic is not None and r.symbolic.cti is None and r.symbolic.not_inductive == []


def test_s1_is_proved_with_its_lemmas() -> None:
    r = prove(S1)
    assert_proved(r, S1, {"image_consistent", "no_torn_page", "quiescent_after_suspend"})
    assert r.symbolic is not None and r.symbolic.proved_at == 2


S15_PROPERTIES = {"image_consistent", "no_torn_page", "quiescent_after_suspend", "no_lost_completion",
                  "no_duplicate_execution"}


def test_s15_is_proved_with_its_lemmas() -> None:
    r = prove(S15)
    assert_proved(r, S15, S15_PROPERTIES)


@pytest.mark.slow
@pytest.mark.parametrize("params", [{"PERSISTENT": True}, {"RECOVERY": "ReuseRing"},
                                    {"RECOVERY": "ReuseRing", "PERSISTENT": True},
                                    {"RECOVERY": "NetfrontDiscard"}, {"NREQS": 2},
                                    {"NREQS": 2, "PERSISTENT": True, "RECOVERY": "ReuseRing"}], ids=str)
def test_s15_is_proved_for_other_parameter_sets(params: dict[str, object]) -> None:
    assert_proved(prove(S15, **params), S15, S15_PROPERTIES)


def with_lemma(path: Path, lemma: str) -> str:
    return path.read_text() + lemma + "\n"


def test_a_false_lemma_is_refuted_not_assumed() -> None:
    # that the guest is never suspended would make every property trivially inductive
    text = with_lemma(S1, "lemma never_suspended: phase != AfterSuspend;")
    r = induction(build_text(text, str(S1)).model, Options())
    assert r.verdict is Verdict.VIOLATED
    assert r.trace is not None and r.trace.property == "never_suspended"
    assert not any(p.status is Status.HOLDS and p.name == "never_suspended" for p in r.properties)


def test_a_false_lemma_the_bound_cannot_refute_is_not_assumed() -> None:
    # S5 is unsafe; a lemma restating image_consistent would "prove" it if it were assumed.
    # Its counterexample is 16 steps long: within 3 the lemma can only be left unproved.
    s5 = ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl"
    text = s5.read_text() + ("lemma cheat: source == Destroyed => forall p in Pfn: forall w in Word: "
                             "tgt[p][w] == mem[p][w] or not WATCHED[p];\n")
    r = induction(build_text(text, str(s5)).model, Options(depth=3))
    assert r.verdict is Verdict.INCOMPLETE
    status = {p.name: p.status for p in r.properties}
    assert status["cheat"] is Status.INCOMPLETE and status["image_consistent"] is Status.INCOMPLETE


def test_a_missing_lemma_is_named() -> None:
    # without `resend`, S1's properties are not inductive; the report says which claims fail
    # with everything else assumed, and its counterexample to induction is for one of them
    text = "\n".join(line for line in S1.read_text().splitlines() if not line.startswith("lemma resend"))
    r = induction(build_text(text, str(S1)).model, Options(depth=2))
    assert r.verdict is Verdict.INCOMPLETE
    sym = r.symbolic
    assert sym is not None and sym.cti is not None and sym.not_inductive
    assert sym.cti.property == sym.not_inductive[0]
    assert sym.cti.states[0] not in build_text(text, str(S1)).model.initial_states()


def test_the_counterexample_to_induction_is_for_the_claim_that_fails_first() -> None:
    # x climbs by 2 from 0. `not57` is true but not inductive (55 leads to 57); `below_top`
    # is inductive given `not57`. The report must point at `not57`, the gap a lemma must
    # fill, not at `below_top`, which only lost it (though it is declared first).
    built = build("""
var x: 0..60 = 0;
action up when x <= 58 { x := x + 2; }
action down when x >= 2 { x := x - 2; }
invariant below_top: x != 59;
lemma not57: x != 57;
""")
    r = induction(built.model, Options(depth=3))
    assert r.verdict is Verdict.INCOMPLETE
    sym = r.symbolic
    assert sym is not None and sym.cti is not None
    assert sym.not_inductive == ["not57"] and sym.cti.property == "not57"


def test_a_step_query_is_capped_by_the_solvers_work_not_by_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cap was wall-clock time, and with four test runs sharing two cores the S15 proof gave up
    # at every k and ended incomplete where an idle machine proved it. Counted in the solver's
    # resource units, the cap gives the same answer whatever the clock says: here the clock runs
    # twenty times too fast, and the run does exactly the same work.
    from quiesce_check.engines import common

    first = prove(S1)
    real = common.time.perf_counter
    start = real()
    monkeypatch.setattr(common.time, "perf_counter", lambda: start + (real() - start) * 20)
    slow = prove(S1)
    assert first.verdict is slow.verdict is Verdict.HOLDS
    assert first.symbolic is not None and slow.symbolic is not None
    assert (first.symbolic.resources, first.symbolic.queries, first.symbolic.proved_at) == \
        (slow.symbolic.resources, slow.symbolic.queries, slow.symbolic.proved_at)
    monkeypatch.undo()
    # and a cap too small for any step query leaves the properties unproved, every time alike
    monkeypatch.setattr(importlib.import_module("quiesce_check.engines.induction"), "_STEP_RESOURCES", 1)
    starved = [prove(S1) for _ in range(2)]
    assert starved[0].verdict is starved[1].verdict is Verdict.INCOMPLETE
