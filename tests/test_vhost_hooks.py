"""The vhost hook specs (specs/hooks/vhost_*.qdl, vdpa_*.qdl) composed with their base models, ablated.

Each test pins what `quiesce-check hook SPEC --model BASE --ablate` finds: that the
whole hook keeps every property, that every obligation is needed, and what breaks
without each, with the reason (from domain-vhost.md's scenarios) beside it. Lengths
are counted by hand from the base model's steps: the guest posts its READ, QEMU
starts the migration (1 step), sends pass 0 (3 pages of 2 words: 6 steps), syncs
(1), pauses the vCPUs (1), then stops the device. Imports `quiesce_check.hooks`.
"""

from __future__ import annotations

from pathlib import Path

from quiesce_check import hooks
from quiesce_check.engines.result import Options
from tests.conftest import ROOT

HOOKS = ROOT / "specs" / "hooks"
BASE = str(HOOKS / "vhost_base.qdl")
VDPA = str(HOOKS / "vdpa_base.qdl")
DRAIN = str(HOOKS / "vhost_drain_before_reply.qdl")
SUSPEND = str(HOOKS / "vdpa_suspend_first.qdl")
SKIP = str(HOOKS / "vhost_skip_drain_inflight.qdl")
FAST = Options(keep_going=True, backend="python")
IC, NT, QAS = "image_consistent", "no_torn_page", "quiescent_after_stop"
NLC, NDE = "no_lost_completion", "no_duplicate_execution"
# the steps before the device's stop: the READ posted before the migration starts (so nothing
# dirties a page in pass 0 and the live sync finds nothing), start, 6 sends, the sync, the pause
BEFORE_STOP = 1 + 1 + 6 + 1 + 1


def ablation(spec: str, model: str) -> tuple[hooks.Hook, hooks.Ablation]:
    probe = hooks.build_composed(spec, model, {})
    hook = hooks.hook_of(probe)
    select = hooks.all_properties(probe)
    on = {n: True for n in hook.obligations}
    built, result = hooks.check_with(spec, model, {}, on, select, FAST)
    full = hooks.summarise(built, result, frozenset(on))
    assert full.keeps_all, full.broken()
    ab = hooks.ablate(spec, model, {}, hook, select, FAST, full, workers=2)
    # every obligation is needed: the one minimal set is all of them
    assert ab.exhaustive and ab.minimal == [frozenset(hook.obligations)]
    return hook, ab


def test_a_back_end_that_drains_before_it_replies_needs_the_stop_the_drain_and_the_wait() -> None:
    hook, ab = ablation(DRAIN, BASE)
    assert list(hook.obligations) == ["stop", "drain", "wait_reply"]
    assert hook.binds == ("Backend", "Qemu")
    # without the drain: V6, libvhost-user's reply-then-complete. The request popped before the
    # reply completes after it: a write after the stop point (QAS), unlogged (the log was put:
    # IC), its used-ring update after or before the ring's last copy (NLC either way), and its
    # data page's final copy can race the write (NT); and, where request_eventually_completes
    # counts only a completion some guest sees, that too (V6(b): published after the used
    # ring's final copy)
    assert set(ab.breaks_without("drain")) - {"request_eventually_completes"} == {QAS, IC, NLC, NT}
    # popped (step 11), SET_VRING_ENABLE (12), GET_VRING_BASE sent (13), the handler sees it
    # (14) and replies at once (15), the device writes (16)
    assert ab.without["drain"].lengths[QAS] == BEFORE_STOP + 6
    # without the stop the back-end pops the request after the reply: it runs on the source past
    # the base QEMU read, and the target runs it again from that base (NDE), besides V6's
    assert {QAS, NDE, IC, NLC} <= set(ab.breaks_without("stop"))
    # SET_VRING_ENABLE (11), sent (12), seen (13), drained (14: nothing in flight), the reply
    # (15), the pop (16), the write (17)
    assert ab.without["stop"].lengths[QAS] == BEFORE_STOP + 7
    # without the wait QEMU puts the log before the reply: the back-end's marks after the last
    # log read are lost (IC), but nothing comes after the stop point, which is the reply: QAS
    # is not what sees it
    broken = ab.breaks_without("wait_reply")
    assert IC in broken and QAS not in broken


def test_a_vdpa_device_suspended_first_must_also_finish_what_it_took_and_be_tracked() -> None:
    hook, ab = ablation(SUSPEND, VDPA)
    assert list(hook.obligations) == ["suspend_first", "finish_in_flight", "track_dma"]
    # without the suspend the device runs while its base is read and until the reset after the
    # used ring's unmap: its DMA lands after the stop point (QAS)
    assert QAS in ab.breaks_without("suspend_first")
    # a suspended device keeps the request it had taken: past the base QEMU read and in no used
    # ring, so the target never runs it (NLC, and the request never completes: liveness); the
    # image itself is right
    assert ab.breaks_without("finish_in_flight") == [NLC, "request_eventually_completes"]
    # no vhost log records vDPA DMA (V10): a write after its page's last live send is never sent
    # again, and a live copy it tore is the final one
    assert {IC, NT} <= set(ab.breaks_without("track_dma"))
    assert QAS not in ab.breaks_without("track_dma")


def test_skipping_the_drain_needs_four_obligations_beyond_the_inflight_region() -> None:
    hook, ab = ablation(SKIP, BASE)
    assert list(hook.obligations) == ["cancel_sync", "log_cancelled", "finish_marks", "migrate_inflight"]
    # V8: a cancelled request's DMA that still lands after the reply is a late, unlogged write;
    # popped (11), SET_VRING_ENABLE (12), GET_VRING_BASE cancels and replies (13), the write (14)
    assert {QAS, IC} <= set(ab.breaks_without("cancel_sync"))
    assert ab.without["cancel_sync"].lengths[QAS] == BEFORE_STOP + 4
    # beyond V8: data the device wrote before the cancellation, its mark dropped with the
    # request: the page is stale in the image (IC) and a live copy it tore is never sent again
    # (NT), although NLC holds (the target resubmits the READ)
    assert set(ab.breaks_without("log_cancelled")) == {IC, NT}
    # a request already published is not in flight, so not cancelled: its last used-ring mark
    # may come after the reply (QAS only: the unmap marks the used ring's page anyway)
    assert ab.breaks_without("finish_marks") == [QAS]
    # without the inflight region the cancelled request is in [used->idx, last_avail_idx): the
    # target neither fetches nor completes it
    assert ab.breaks_without("migrate_inflight") == [NLC, "request_eventually_completes"]


def test_skipping_the_drain_runs_a_request_twice_unless_requests_are_idempotent(tmp_path: Path) -> None:
    # V8: "NDE is UNSAFE unless every request is idempotent": a cancelled request whose DMA ran
    # on the source is resubmitted on the target, with every obligation kept
    base = tmp_path / "base.qdl"
    base.write_text("use vhost(IDEMPOTENT = [false]);\n")
    probe = hooks.build_composed(SKIP, str(base), {})
    select = hooks.all_properties(probe)
    on = {n: True for n in hooks.hook_of(probe).obligations}
    built, result = hooks.check_with(SKIP, str(base), {}, on, select, FAST)
    out = hooks.summarise(built, result, frozenset(on))
    assert [p for p, s in out.statuses.items() if s != "holds"] == [NDE]
