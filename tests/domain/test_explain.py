"""Counterexamples explained in Xen's words: the right page, actor, mechanism and steps.

The step numbers an explanation cites are checked against the trace itself
(the step whose statement is `destroy_source();`, the step by that process
which changed that word), not against the explainer's own reckoning.
"""

from __future__ import annotations

import re

import pytest

from quiesce_check.build import Built, build_file
from quiesce_check.domain.explain import explainer
from quiesce_check.engines import breadth_first
from quiesce_check.engines.result import NullReporter, Options
from quiesce_check.trace.types import Trace
from tests.conftest import ROOT


def run(model: str, params: dict | None = None, prop: str | None = None) -> tuple[Built, Trace, str]:
    built = build_file(str(ROOT / "models" / model), params, [prop] if prop else None)
    result = breadth_first(built.model, Options(), NullReporter())
    assert result.trace is not None
    explain = explainer(built.ast.sources, built.checked.consts)
    assert explain is not None
    return built, result.trace, " ".join(explain(built.model.info, result.trace))


def step_of(built: Built, trace: Trace, text: str) -> int:
    """The 1-based number of the trace's first step whose statement contains `text`."""
    info = built.model.info
    return next(k + 1 for k, s in enumerate(trace.steps) if text in info.actions[s.action].text)


def cited(why: str, pattern: str) -> int:
    m = re.search(pattern, why)
    assert m is not None, (pattern, why)
    return int(m.group(1))


def test_s5_the_ring_write_through_a_long_lived_mapping() -> None:
    built, trace, why = run("s5_persistent_ring_write_after_last_send.qdl")
    assert "page 0 (the ring's" in why and "by Blkback through grant mapping 0" in why
    assert "after the page's last send" in why and "pass 0" in why
    assert cited(why, r"released only when the source was destroyed \(step (\d+)\)") == step_of(
        built, trace, "destroy_source()")
    k = cited(why, r"through grant mapping 0 at step (\d+)")
    assert built.model.info.actions[trace.steps[k - 1].action].process == "Blkback"
    assert trace.states[k - 1] != trace.states[k]


def test_s7a_a_foreign_mapping_is_never_logged() -> None:
    _, _, why = run("s7a_xenstore_ring_unlogged.qdl")
    assert "by Xenstored through its foreign mapping 0" in why and "never logs" in why


def test_s8_a_write_after_the_final_clean() -> None:
    built, trace, why = run("s8_completion_after_final_clean.qdl", prop="quiescent_after_suspend")
    assert why.startswith("Blkback wrote")
    assert cited(why, r"after the final CLEAN at step (\d+)") == step_of(built, trace, "final_clean()")
    assert cited(why, r"suspended at step (\d+)") == step_of(built, trace, "suspend_guest()")


def test_s6_a_torn_send_names_both_writes_and_both_reads() -> None:
    built, trace, why = run("s6_torn_send_during_backend_write.qdl", prop="no_torn_page")
    assert "last send (pass 0" in why and "is torn" in why and "Blkback wrote it through grant mapping 0" in why
    copied, written, read = (cited(why, p) for p in (r"at step (\d+), then", r"mapping 0 at step (\d+)",
                                                      r"read only at step (\d+)"))
    assert copied < written < read


def test_s9_a_request_run_on_both_hosts() -> None:
    built, trace, why = run("s9_blkfront_recover.qdl", None, "no_duplicate_execution")
    m = re.search(r"Request 0 was executed at step (\d+) by the target's backend \(the frontend's recovery issued "
                  r"it again\) and again at step (\d+) by Blkback, on the source", why)
    assert m is not None, why
    first, again = int(m.group(1)), int(m.group(2))
    actions = built.model.info.actions
    assert actions[trace.steps[first - 1].action].process == "TargetFrontend"
    assert actions[trace.steps[again - 1].action].process == "Blkback"
    assert "although the guest had seen it complete on the target" in why
    assert "A READ run again on the source writes only the source's memory" in why


def test_s15_without_recovery_a_request_waits_forever() -> None:
    _, _, why = run("s15_quiesce_handshake.qdl", {"RECOVERY": "NoRecovery"}, "no_lost_completion")
    assert "Request 0 was still outstanding" in why and "NoRecovery" in why


def test_s17_a_frontend_that_trusts_the_migrated_ring() -> None:
    built, trace, why = run("s17_stop_processing_without_unmap.qdl", {"RECOVERY": "ReuseRing"}, "no_lost_completion")
    assert "found a slot of the migrated ring that is not what the ring's indices say it is" in why
    slot = next(i for i, s in enumerate(built.model.info.layout.slots) if s.name == "garbage_seen")
    assert cited(why, r"On the target, step (\d+)") == next(k for k, st in enumerate(trace.states) if st[slot])


@pytest.mark.parametrize("model", ["precopy_backend.qdl"])
def test_a_model_without_the_vocabulary_has_no_explainer(model: str) -> None:
    built = build_file(str(ROOT / "models" / model))
    assert explainer(built.ast.sources, built.checked.consts) is None
