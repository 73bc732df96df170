"""Every frontend recovery of the Xen vocabulary survives a ring that holds anything.

A backend that writes one arbitrary message (any id, any status: a response to no
request, a watch event for a watch the guest never registered, a status no protocol
has) and an arbitrary producer index (more messages than requests, up to the index
words' limit) into the shared ring, at any point of the migration, so that the source's
frontend and, through the stream, the target's recovery both read it. Each search must
explore every state without a model error (an index or a value out of its range) or a
failed assertion of the vocabulary, with each RECOVERY the vocabulary declares, both ring
layouts, and both searches (generated C and Python). Verdicts of the properties are
whatever the garbage makes them; only that the search completes is asserted, and that
the garbage was met (the goals below).
"""

from __future__ import annotations

import pytest

from quiesce_check.build import build_text
from quiesce_check.compile.cgen import compiler
from quiesce_check.engines import breadth_first
from quiesce_check.engines.result import NullReporter, Options, Status, Verdict
from quiesce_check.lang.types import TEnum

MODEL = """
param DATA_FIRST = false;   // xs_wire.h's layout (consumer indices in the page) instead of io/ring.h's
use xen(PAGES = 1, WORDS = if DATA_FIRST then 6 else 4, MAXVAL = 4, LIVE_PASSES = 0, HANDLES = 1, GRANTS = 1,
        RING_LAYOUT = if DATA_FIRST then DataFirst else IndicesFirst);

override var grant = [{valid: true, pfn: RING, writable: true}];
override var mapping = [{live: true, pfn: RING, writable: true, foreign: false}];

process Frontend when running {
    fe_queue(0);
    fe_push();
    while true { atomic { await fe_response_ready; fe_take_response(); } }
}

// MAXVAL = 4: every value a word holds, MSG_EVENT among them
process Backend when alive {
    either { with x in Watch { fire_watch(x); } } or { skip; }
    with id in Val { with status in Val { with prod in Val {
        map_write(0, slot_at(0), id);
        map_write(0, slot_at(0) + 1, status);
        map_write(0, RSP_PROD_AT, prod);
    } } }
}

check image_consistent, no_torn_page, quiescent_after_suspend, no_lost_completion,
      no_duplicate_execution, no_lost_watch_event, grant_refs_valid;

// the garbage was met: a message that is not one, more messages than requests, an event taken
reachable garbage_taken: garbage_seen;
reachable index_at_its_limit: fe_rsp_cons[0] == MAXVAL;
reachable event_taken: event_sent[0] and unseen_event[0] == 0;
"""


def recoveries() -> list[str]:
    """The RECOVERY values the vocabulary declares (a new one is tested without a change here)."""
    _, t = build_text(MODEL, "robust.qdl").checked.consts["RECOVERY"]
    assert isinstance(t, TEnum)
    return list(t.members)


BACKENDS = ["python", pytest.param("native", marks=pytest.mark.skipif(compiler() is None, reason="no C compiler"))]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("data_first", [False, True], ids=["io-ring", "xs-wire"])
@pytest.mark.parametrize("recovery", recoveries())
def test_a_recovery_reads_any_ring_without_a_model_error(recovery: str, data_first: bool, backend: str) -> None:
    built = build_text(MODEL, "robust.qdl", {"RECOVERY": recovery, "DATA_FIRST": data_first})
    r = breadth_first(built.model, Options(backend=backend, keep_going=True), NullReporter())
    assert r.backend == backend
    failed = r.trace.message if r.trace is not None else ""
    assert r.verdict not in (Verdict.MODEL_ERROR, Verdict.ASSERTION, Verdict.INCOMPLETE), failed
    assert r.complete and r.limit is None
    status = {p.name: p.status for p in r.properties}
    assert Status.INCOMPLETE not in status.values()
    assert status["every assert"] is Status.HOLDS
    assert [status[g] for g in ("garbage_taken", "index_at_its_limit", "event_taken")] == [Status.REACHED] * 3
