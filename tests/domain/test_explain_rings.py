"""Rings as they are, explained: words named by ring and layout, and a request run again on the target.

Expected names come from the ring layouts themselves (io/ring.h: req_prod, rsp_prod, then
two-word slots running on across the ring's pages; xs_wire.h: the data, then req_cons,
req_prod, rsp_cons, rsp_prod), and cited steps from the trace (the step that changed the
word, or the request's execution count), not from the explainer's own reckoning.
"""

from __future__ import annotations

import re

from quiesce_check.build import build_file
from quiesce_check.compile.layout import variable_values
from quiesce_check.domain.explain import xen_explainer
from quiesce_check.domain.xen import XenExplainer
from tests.conftest import ROOT
from tests.domain.test_explain import cited, run


def names(model: str, params: dict | None = None) -> XenExplainer:
    built = build_file(str(ROOT / "models" / model), params)
    x = xen_explainer(built.ast.sources, built.checked.consts)
    assert x is not None
    return x


def test_a_multi_page_ring_names_the_slots_on_its_second_page() -> None:
    x = names("s6b_multipage_ring_torn_response.qdl")   # 4 words a page; slot i at ring offset 2 + 2i
    status_of_slot_1 = 2 + 2 * 1 + 1
    page, word = divmod(status_of_slot_1, 4)
    assert (page, word) == (1, 1)
    assert x.word_name(page, word) == "word 1 of page 1 (the ring's slot 1 operation or status)"
    assert x.word_name(0, 1) == "word 1 of page 0 (the ring's rsp_prod)"


def test_two_rings_are_told_apart() -> None:
    x = names("netfront_netback_two_rings.qdl")   # TX ring on page 0, RX ring on page 1, buffer page 2
    assert x.word_name(1, 1) == "word 1 of page 1 (ring 1's rsp_prod)"
    assert x.word_name(0, 3) == "word 3 of page 0 (ring 0's slot 0 operation or status)"
    assert x.word_name(2, 0) == "word 0 of page 2"


def test_the_xenstore_layout_names_its_consumer_indices() -> None:
    x = names("xenstore_stale_req_cons.qdl")   # one slot of two words, then the four indices
    indices = ("req_cons", "req_prod", "rsp_cons", "rsp_prod")
    assert [x.word_name(0, 2 + n) for n in range(4)] == [f"word {2 + n} of page 0 (the ring's {i})"
                                                         for n, i in enumerate(indices)]


def test_xenstored_publishes_req_cons_through_an_unlogged_mapping() -> None:
    built, trace, why = run("xenstore_stale_req_cons.qdl", prop="image_consistent")
    assert "(the ring's req_cons) was written by Xenstored through grant mapping 0" in why
    k = cited(why, r"through grant mapping 0 at step (\d+)")
    info = built.model.info
    before, after = (variable_values(info.layout, trace.states[i])["mem"][0][2] for i in (k - 1, k))
    assert info.actions[trace.steps[k - 1].action].process == "Xenstored" and (before, after) == (0, 1)


def test_a_request_the_target_runs_from_a_stale_req_cons() -> None:
    built, trace, why = run("xenstore_stale_req_cons.qdl", prop="no_duplicate_execution")
    m = re.search(r"Request 0 was executed at step (\d+) by (\w+)(, on the source, [^,]*)? and again at step (\d+) "
                  r"by (\w+), on the target, and it is not idempotent", why)
    assert m is not None, why
    first, again = int(m.group(1)), int(m.group(4))
    info = built.model.info
    counts = [variable_values(info.layout, s)["executed"][0] for s in trace.states]
    assert [k for k in range(1, len(counts)) if counts[k] != counts[k - 1]] == [first, again]
    assert info.actions[trace.steps[again - 1].action].process == m.group(5) == "TargetXenstored"
    assert "disk" not in why   # a xenstore transaction is not a block WRITE
