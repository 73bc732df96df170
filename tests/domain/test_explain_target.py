"""Explanations of the vocabulary's newer properties and of a cancelled migration.

A watch event the guest never sees (where it was when the target resumed: nowhere,
on the source's ring only, or in the migrated ring), a request a new backend fails
because the target has none of the source's grant references, a request left
unanswered on the source after a cancelled migration, a page sent again after the
final pass. Each cited step is checked against the trace (the step whose statement
is `cancel_migration()`, the step at which a ghost changed), and each explanation
against the model's variant in which the default assumption is false.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quiesce_check.build import build_file, build_text
from tests.conftest import ROOT
from tests.domain.test_explain import cited, step_of
from tests.domain.test_explain_models import traces, values, why

MODELS = Path(__file__).resolve().parent / "models"


def first_true(v: list[dict], pick) -> int:  # type: ignore[no-untyped-def]
    return next(k for k in range(1, len(v)) if pick(v[k]) and not pick(v[k - 1]))


def test_a_request_left_unanswered_after_a_cancelled_migration() -> None:
    built = build_file(str(MODELS / "cancel_hook_not_undone.qdl"))
    trace = traces(built)["no_lost_completion"]
    text = why(built, trace)
    at = cited(text, r"still outstanding when the migration was cancelled at step (\d+)")
    assert at == step_of(built, trace, "cancel_migration()")
    assert "on the source" in text and "target resumed" not in text and "recovery" not in text
    v = values(built, trace)
    assert v[-1]["cancelled"] and not v[-1]["resumed"]


@pytest.mark.parametrize("recovery", ["NoRecovery", "ReuseRing"])
def test_a_watch_event_not_on_the_ring_when_the_target_resumed(recovery: str) -> None:
    built = build_file(str(MODELS / "watch_event.qdl"), {"RECOVERY": recovery})
    trace = traces(built)["no_lost_watch_event"]
    text, v = why(built, trace), values(built, trace)
    fired = cited(text, r"Xenstored fired watch 0 at step (\d+)")
    assert fired == first_true(v, lambda s: s["unseen_event"][0]) == step_of(built, trace, "fire_watch(0)")
    assert cited(text, r"when the target resumed at step (\d+)") == first_true(v, lambda s: s["resumed"])
    assert f"(recovery: {recovery}) does not register its watches again" in text
    assert "It was not on the ring when the target resumed" in text


def test_a_watch_event_on_the_source_ring_only() -> None:
    # sent while the guest runs: the event is on the source's ring, but the page went before it
    built = build_file(str(MODELS / "watch_event.qdl"), {"RUNNING": True})
    trace = traces(built)["no_lost_watch_event"]
    text, v = why(built, trace), values(built, trace)
    assert "The source's ring held it when the target resumed, but the migrated page does not" in text
    resumed = first_true(v, lambda s: s["resumed"])
    rsp = built.checked.consts["RSP_PROD_AT"][0]
    assert v[resumed]["mem"][0][rsp] == 1 and v[-1]["tgt"][0][rsp] == 0


def test_registering_the_watches_again_recreates_the_event() -> None:
    for running in (False, True):
        built = build_file(str(MODELS / "watch_event.qdl"), {"RECOVERY": "XbInitComms", "RUNNING": running})
        assert "no_lost_watch_event" not in traces(built)


def test_a_new_backend_fails_a_request_naming_a_grant_of_the_source() -> None:
    built = build_file(str(MODELS / "stale_grant.qdl"))
    trace = traces(built)["grant_refs_valid"]
    text, v = why(built, trace), values(built, trace)
    k = cited(text, r"On the target, step (\d+)")
    assert k == first_true(v, lambda s: s["bad_gref"])
    assert "serve request 0 as the source's frontend issued it" in text and "GNTST_bad_gntref" in text
    assert v[k]["shadow"][0] != v[k - 1]["shadow"][0]
    # with the grant table migrated (the non-cooperative design) the map succeeds
    assert "grant_refs_valid" not in traces(build_file(str(MODELS / "stale_grant.qdl"), {"GRANTS_MIGRATED": True}))


RESEND = """
use xen(PAGES = 1, WORDS = 1, MAXVAL = 2, HANDLES = 1, GRANTS = 1, RESEND = [true]);
override var grant = [{valid: true, pfn: 0, writable: true}];
override var mapping = [{live: true, pfn: 0, writable: true, foreign: false}];
process Backend when alive { map_write(0, 0, 2); }
check image_consistent;
"""


def test_a_page_sent_again_after_the_final_pass_is_named_a_resend() -> None:
    built = build_text(RESEND, "resend.qdl")
    trace = traces(built)["image_consistent"]
    text = why(built, trace)
    resend = step_of(built, trace, "resend_pages()")
    send = cited(text, r"after the page's last send \(step (\d+), the resend after the final pass\)")
    assert send > resend
    assert "ring" not in text


def test_a_request_issued_after_the_cancel_is_said_to_be() -> None:
    # the hook's stop outlives the cancel: even a request the guest issues afterwards waits for ever
    built = build_file(str(ROOT / "models" / "cancelled_migration_after_quiesce.qdl"), None, ["no_lost_completion"])
    trace = traces(built)["no_lost_completion"]
    text, v = why(built, trace), values(built, trace)
    issued = cited(text, r"Request 0 was issued at step (\d+), after the migration was cancelled")
    cancelled = cited(text, r"after the migration was cancelled at step (\d+)")
    assert cancelled == step_of(built, trace, "cancel_migration()") < issued
    assert v[issued]["shadow"][0] != v[issued - 1]["shadow"][0]


def test_a_late_write_to_a_page_the_toolstack_sends_again_says_so() -> None:
    built = build_file(str(ROOT / "models" / "toolstack_resends_after_ack.qdl"), {"wait_ack": False},
                       ["quiescent_after_suspend"])
    trace = traces(built)["quiescent_after_suspend"]
    text = why(built, trace)
    p = int(cited(text, r"wrote word \d+ of page (\d+) at step"))
    assert built.checked.consts["RESEND"][0][p]
    assert f"page {p} is among the pages the toolstack sends again after the final pass (RESEND)" in text
