"""The Xen vocabulary's liveness properties, their fairness, and their lassos explained in Xen's words.

Lasso lengths are counted by hand from the steps each actor must take (the toolstack's
steps are listed in docs/xen.md); the steps an explanation cites are checked against the
trace itself (the step whose statement is `suspend_guest();`), not against the explainer's
own reckoning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.compile import ir as I
from quiesce_check.domain.explain import explainer
from quiesce_check.domain.waits import value_of
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import Options, Result, Status
from quiesce_check.trace.types import Trace
from tests.conftest import ROOT

ONE_PAGE = "use xen(PAGES = 1, WORDS = 1, MAXVAL = 1, HANDLES = 1, GRANTS = 1);\n"
# a backend that holds a writable grant mapping of page 0 from the start
MAPPED = ("override var grant = [{valid: true, pfn: 0, writable: true}];\n"
          "override var mapping = [{live: true, pfn: 0, writable: true, foreign: false}];\n")


def check(built: Built) -> Result:
    return bfs(built.model, Options(keep_going=True))


def verdicts(r: Result) -> dict[str, tuple[str, int | None, int | None]]:
    """Each liveness property: its status, and a lasso's length and loop."""
    out = {}
    for p in r.properties:
        if p.kind == "liveness":
            t = r.traces.get(p.name)
            out[p.name] = (p.status.value, len(t.steps) if t else None, t.loop if t else None)
    return out


def why(built: Built, trace: Trace) -> str:
    explain = explainer(built.ast.sources, built.checked.consts)
    assert explain is not None
    return " ".join(explain(built.model.info, trace))


def step_of(built: Built, trace: Trace, text: str) -> int:
    info = built.model.info
    return next(k + 1 for k, s in enumerate(trace.steps) if text in info.actions[s.action].text)


# --------------------------------------------------------------------- the properties

def test_the_default_toolstack_completes_the_migration() -> None:
    r = check(build_text(ONE_PAGE + "check migration_completes;\n", "m.qdl"))
    assert verdicts(r) == {"migration_completes": ("holds", None, None)}


def test_a_toolstack_that_waits_for_ever_never_completes() -> None:
    built = build_text(ONE_PAGE + "override def may_read_final = false;\ncheck migration_completes;\n", "m.qdl")
    r = check(built)
    # log-dirty on, the one word of pass 0, the CLEAN pass, the suspend; then nothing can move
    assert verdicts(r) == {"migration_completes": ("violated", 4, 4)}
    text = why(built, r.traces["migration_completes"])
    assert text.startswith("The target is never resumed: the toolstack suspended the guest at step 4 ")
    assert "`may_read_final` does not hold" in text


def test_a_backend_that_keeps_its_mapping_never_quiesces_though_the_migration_completes() -> None:
    built = build_text(ONE_PAGE + MAPPED + "check backend_eventually_quiesces, migration_completes;\n", "m.qdl")
    r = check(built)
    # start, send, CLEAN pass, suspend, final CLEAN (nothing dirty: no final sends), resume,
    # destroy, and the target's frontend ends: 8 steps, then the end repeats for ever
    assert verdicts(r) == {"backend_eventually_quiesces": ("violated", 8, 8), "migration_completes": ("holds", None, None)}
    t = r.traces["backend_eventually_quiesces"]
    text = why(built, t)
    assert f"when the source was destroyed (step {step_of(built, t, 'destroy_source()')})" in text
    assert "mapping 0 of page 0" in text and "not by quiescing" in text


# the toolstack waits for the backend's unmap before the final CLEAN; the backend unmaps once the
# guest is suspended
UNMAPS = ONE_PAGE + MAPPED + """
process Backend when alive { await after_suspend; unmap(0); }
override def may_read_final = not mapping[0].live;
check backend_eventually_quiesces, migration_completes;
"""


def test_a_backend_that_unmaps_quiesces_if_it_is_fair() -> None:
    r = check(build_text(UNMAPS + "fair process Backend;\n", "m.qdl"))
    assert {p: v[0] for p, v in verdicts(r).items()} == {"backend_eventually_quiesces": "holds",
                                                        "migration_completes": "holds"}


def test_without_fairness_the_backend_may_never_run_and_the_explanation_says_which_is_needed() -> None:
    built = build_text(UNMAPS, "m.qdl")
    r = check(built)
    # start, send, CLEAN pass, suspend: then the backend is never scheduled
    assert verdicts(r)["backend_eventually_quiesces"] == ("violated", 4, 4)
    assert verdicts(r)["migration_completes"] == ("violated", 4, 4)
    text = why(built, r.traces["backend_eventually_quiesces"])
    # the model uses none of the vocabulary's ring operations: page 0 is a page like any other
    assert "mapping 0 of page 0 stays in place for ever" in text and "ring" not in text
    assert "Backend stands at `await after_suspend;`" in text and "`fair process Backend;`" in text


def test_quiescing_for_a_moment_is_not_quiescing_for_good() -> None:
    # the backend unmaps, tells the toolstack, then maps the page again before the source goes
    built = build_text(ONE_PAGE + MAPPED + """
var said: bool = false;
process Backend when alive { await after_suspend; unmap(0); said := true; map_grant(0, 0, true); }
fair process Backend;
override def may_read_final = said;
check backend_eventually_quiesces;
""", "m.qdl")
    r = check(built)
    # start, send, CLEAN pass, suspend (4); the backend's await, unmap, word (7); its map again
    # (8); final CLEAN, the final pass sends page 0 that the unmap marked, resume, destroy (12);
    # the target's frontend ends (13)
    assert verdicts(r) == {"backend_eventually_quiesces": ("violated", 13, 13)}


@pytest.mark.parametrize(("recovery", "answered"), [
    ("NoRecovery", False), ("NetfrontDiscard", True), ("BlkifRecover", True), ("ReuseRing", True),
    ("XbInitComms", False)])
def test_a_request_left_outstanding_is_answered_only_by_a_recovery(recovery: str, answered: bool) -> None:
    # nothing serves the ring on the source: only the target's frontend can answer (reissue,
    # serve from the image) or fail (discard) the request; xb_init_comms fails nothing (xenbus
    # relies on xs_suspend to leave no request outstanding), so with it the request waits
    built = build_text(f"use xen(PAGES = 2, WORDS = 4, MAXVAL = 3, RECOVERY = {recovery});\n"
                       "process Frontend when running { fe_queue(0); }\ncheck request_eventually_answered;\n", "m.qdl")
    r = check(built)
    status = verdicts(r)["request_eventually_answered"][0]
    assert status == ("holds" if answered else "violated")
    if not answered:
        t = r.traces["request_eventually_answered"]
        text = why(built, t)
        assert f"the target resumed at step {step_of(built, t, 'resume_target()')}" in text
        assert f"({recovery}) neither issued it again nor failed it" in text


def test_the_fairness_of_the_vocabulary_is_the_toolstack_and_the_target_frontend() -> None:
    built = build_text(ONE_PAGE, "m.qdl")
    assert [f.text for f in built.model.info.fairness] == [
        "weak fairness of process Toolstack", "weak fairness of process TargetFrontend"]


# ----------------------------------------------------------------------- the models

def run(model: str, params: dict | None = None) -> tuple[Built, Result]:
    built = build_file(str(ROOT / "models" / model), params)
    return built, check(built)


def test_s15_the_handshake_ends() -> None:
    _, r = run("s15_handshake_liveness.qdl")
    assert {p: v[0] for p, v in verdicts(r).items()} == dict.fromkeys(
        ("migration_completes", "backend_eventually_quiesces", "request_eventually_answered"), "holds")


@pytest.mark.parametrize("unfair", ["fair process Blkback;", "fair process QuiesceHook;"])
def test_the_handshake_needs_blkback_and_its_hook_to_be_scheduled(tmp_path: Path, unfair: str) -> None:
    # models/lib/blk.qdl and the S15 hook spec, one of them without its fairness declaration
    blk = (ROOT / "models" / "lib" / "blk.qdl").read_text()
    hook = (ROOT / "specs" / "hooks" / "s15_handshake.qdl").read_text()
    assert blk.count(unfair) + hook.count(unfair) == 1
    (tmp_path / "blk.qdl").write_text(blk.replace(unfair, ""))
    (tmp_path / "hook.qdl").write_text(hook.replace(unfair, ""))
    (tmp_path / "m.qdl").write_text('use "blk.qdl"(NREQS = 1, RECOVERY = BlkifRecover);\nuse "hook.qdl";\n'
                                    "check migration_completes, backend_eventually_quiesces, "
                                    "request_eventually_answered;\n")
    built = build_file(str(tmp_path / "m.qdl"))
    r = check(built)
    assert {p: v[0] for p, v in verdicts(r).items()} == dict.fromkeys(
        ("migration_completes", "backend_eventually_quiesces", "request_eventually_answered"), "violated")
    process = unfair.split()[-1].rstrip(";")
    assert f"`fair process {process};` rules this behaviour out" in why(built, r.traces["migration_completes"])


def test_a_drain_that_waits_for_the_suspended_frontend_hangs() -> None:
    built, r = run("s15_drain_waits_for_frontend.qdl")
    # the toolstack's 9 steps (start, 6 words of pass 0, CLEAN pass, suspend), blkfront's queue
    # and push, blkback's 9 (take, map, the device's two words, unmap, two slot words, publish,
    # the end of its loop) and the hook's await and stop: 22, then every process is blocked
    assert verdicts(r) == dict.fromkeys(
        ("migration_completes", "backend_eventually_quiesces", "request_eventually_answered"), ("violated", 22, 22))
    t = r.traces["migration_completes"]
    text = why(built, t)
    assert f"suspended the guest at step {step_of(built, t, 'suspend_guest()')}" in text
    assert "QuiesceHook waits at `await not inflight and fe_rsp_cons[0] == mem[RING][RSP_PROD_AT];`" in text
    # docs/xen.md shows this explanation as it is printed
    doc = (ROOT / "docs" / "xen.md").read_text().split("suspended guest has taken its response):\n\n```\nWhy: ")[1]
    assert " ".join(doc.split("```")[0].split()) == " ".join(text.split())
    answered = why(built, r.traces["request_eventually_answered"])
    assert "a response waits on the ring (rsp_prod 1) that the frontend has not taken" in answered


def test_a_running_guest_hides_a_missing_ack_from_the_deadlock_check_not_from_liveness() -> None:
    built, r = run("s15_running_guest_hides_missing_ack.qdl")
    assert not [t for t in r.traces.values() if t.kind == "deadlock"]
    assert {p.name: p.status for p in r.properties if p.kind == "deadlock"} == {"no deadlock": Status.HOLDS}
    # 13 steps to the toolstack's wait (see tests/test_hooks.py), then the vCPU's cycle of 2
    assert verdicts(r)["migration_completes"] == ("violated", 15, 13)
    t = r.traces["migration_completes"]
    info = built.model.info
    assert {info.actions[s.action].process for s in t.steps[13:]} == {"Vcpu"}
    text = why(built, t)
    assert "waits for ever to suspend the guest" in text
    assert "only Vcpu moves: the guest keeps running, so some step is always enabled and no deadlock" in text
    # the guest is never suspended: the vocabulary's premise-guarded properties are vacuous
    assert verdicts(r)["backend_eventually_quiesces"][0] == "holds"


# ---------------------------------------------------------------- reading a condition

def test_an_unknown_value_leaves_a_condition_undecided_unless_the_other_side_decides() -> None:
    unknown = I.Chosen(0)
    t, f = I.Const(True), I.Const(False)
    assert value_of(I.Bin("and", unknown, f), ()) is False
    assert value_of(I.Bin("and", unknown, t), ()) is None
    assert value_of(I.Bin("or", unknown, t), ()) is True
    assert value_of(I.Bin("or", unknown, f), ()) is None
    assert value_of(I.Bin("=>", unknown, t), ()) is True
    assert value_of(I.Bin("=>", f, unknown), ()) is True
    assert value_of(I.Bin("==", I.Slot(0), I.Const(2)), (2,)) is True
