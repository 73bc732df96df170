"""Counterexamples of the vhost vocabulary explained in QEMU's words, and no Xen word in them.

Each model (tests/domain/models/vhost_*.qdl) sets one parameter of the vocabulary
the explanation must name. Every step an explanation cites is checked against the
trace's states (the step at which `stop_point` became true, the one that stopped the
device, the step that changed the word), not against the explainer's own reckoning;
the pages and indices it names against the model's constants and the final state.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from quiesce_check.build import Built, build_file
from quiesce_check.cli import main
from quiesce_check.domain import vocabulary_path
from quiesce_check.domain.explain import EXPLAINERS, annotator, explainer
from quiesce_check.domain.history import History
from quiesce_check.domain.vhost_explain import VhostExplainer
from quiesce_check.domain.vhost_names import CONSTANTS, MEMBERS, PROPERTIES, STEPS, VARIABLES
from quiesce_check.lang import ast as A
from quiesce_check.lang.parser import parse
from quiesce_check.trace.timeline import timeline
from quiesce_check.trace.types import Trace
from tests.conftest import ROOT
from tests.domain.test_explain import cited
from tests.domain.test_explain_models import first_true, process_at, traces, values, why

MODELS = Path(__file__).resolve().parent / "models"


def model(name: str) -> Built:
    return build_file(str(MODELS / f"vhost_{name}.qdl"))


def const(built: Built, name: str) -> Any:
    return built.checked.consts[name][0]


def changed(v: list[dict[str, Any]], k: int, pick: Any) -> bool:
    return bool(pick(v[k - 1]) != pick(v[k]))


def write_step(text: str, built: Built, trace: Trace, v: list[dict[str, Any]], pattern: str) -> tuple[int, int, int]:
    """(page, word, step) of `wrote word W of page P ... at step K`, checked: the step changed that word."""
    m = re.search(pattern, text)
    assert m is not None, (pattern, text)
    w, p, k = int(m.group(1)), int(m.group(2)), int(m.group(3))
    assert changed(v, k, lambda s: s["mem"][p][w]), (k, text)
    return p, w, k


DATA = r"wrote word (\d+) of page (\d+) \(request 0's buffer\) at step (\d+)"


def stopped(v: list[dict[str, Any]]) -> int:
    """The step that stopped the device: its last log read (log_put)."""
    return next(k for k in range(1, len(v)) if v[k - 1]["started"] and not v[k]["started"])


# ----------------------------------------------------------------------- the templates

def test_v6_a_write_after_get_vring_base_replied() -> None:
    built = model("reply_then_complete")
    trace = traces(built)["quiescent_after_stop"]
    text, v = why(built, trace), values(built, trace)
    p, _, k = write_step(text, built, trace, v, r"The back-end " + DATA)
    assert p == const(built, "REQ_PAGE")[0] and process_at(built, trace, k) == "Backend"
    stop = cited(text, r"after GET_VRING_BASE replied at step (\d+)")
    assert stop == first_true(v, lambda s: s["stop_point"]) < k
    assert "DRAIN = ReplyThenComplete" in text
    popped = cited(text, r"popped at step (\d+)")
    assert v[popped]["last_avail_idx"] == 1 and v[popped - 1]["last_avail_idx"] == 0 and popped < stop


def test_v6_a_write_after_log_put_is_read_by_no_sync() -> None:
    built = model("reply_then_complete")
    trace = traces(built)["image_consistent"]
    text, v = why(built, trace), values(built, trace)
    m = re.search(r"wrote word (\d+) of page (\d+) \(the used ring's used->idx\) at step (\d+)", text)
    assert m is not None, text
    w, p, k = (int(g) for g in m.groups())
    assert p == const(built, "USED") and w == 0 and changed(v, k, lambda s: s["mem"][p][w])
    assert v[-1]["tgt"][p][w] != v[-1]["mem"][p][w]
    assert cited(text, r"after QEMU's last read of its log \(log_put\) at step (\d+)") == stopped(v) < k
    assert cited(text, r"after GET_VRING_BASE replied at step (\d+)") == first_true(v, lambda s: s["stop_point"])
    assert "no sync after log_put reads the back-end's log" in text
    assert f"The target holds {v[-1]['tgt'][p][w]} there; the source's last write left {v[-1]['mem'][p][w]}." in text


def test_v6b_the_used_index_lands_after_the_used_rings_final_copy() -> None:
    built = model("reply_then_complete")
    trace = traces(built)["no_lost_completion"]
    text, v = why(built, trace), values(built, trace)
    used = const(built, "USED")
    n, m = v[-1]["saved_last_avail"], v[-1]["tgt"][used][0]
    assert f"starts at last_avail_idx {n}" in text and f"used->idx {m}, so requests in [{m}, {n})" in text
    k = cited(text, r"wrote used->idx at step (\d+)")
    assert changed(v, k, lambda s: s["mem"][used][0])
    last = cited(text, r"after the used ring page's final copy \(steps \d+-(\d+), the final pass\)")
    assert last < k and v[last - 1]["sending"] == used and v[last]["sending"] != used


def test_v3_the_back_end_never_logged_its_data_page() -> None:
    built = model("data_not_logged")
    trace = traces(built)["image_consistent"]
    text, v = why(built, trace), values(built, trace)
    p, _, k = write_step(text, built, trace, v, DATA)
    assert f"the back-end never logged page {p} (LOGS_DATA is off)" in text
    assert not any(s["vlog"][p] for s in v)   # nothing ever marked it
    first = cited(text, r"after the page's last send \(steps (\d+)-\d+, pass 0\)")
    assert v[first - 1]["bmap"][p] and not v[first]["bmap"][p] and first < k


def test_v4_the_mark_lands_on_another_page() -> None:
    built = model("log_at_iova")
    trace = traces(built)["image_consistent"]
    text, v = why(built, trace), values(built, trace)
    p, _, k = write_step(text, built, trace, v, DATA)
    avail = const(built, "AVAIL")
    at = cited(text, rf"logged page {avail} instead at step (\d+) \(the IOVA logged as a GPA, LOG_ADDR_OK is off\)")
    assert at > k and not v[at - 1]["vlog"][avail] and v[at]["vlog"][avail]
    assert not any(s["vlog"][p] for s in v)


def test_v15_logging_not_yet_acknowledged() -> None:
    built = model("log_enable_unacked")
    trace = traces(built)["image_consistent"]
    text, v = why(built, trace), values(built, trace)
    _, _, k = write_step(text, built, trace, v, DATA)
    assert "ACK_LOG_ENABLE is off" in text and not v[k]["log_enabled"]
    assert cited(text, r"it did only at step (\d+)") == first_true(v, lambda s: s["log_enabled"]) > k


def test_vdpa_keeps_no_log() -> None:
    built = model("vdpa")
    traced = traces(built)
    text, v = why(built, traced["image_consistent"]), values(built, traced["image_consistent"])
    assert text.startswith("The vDPA device wrote") and "a vDPA device keeps no dirty log" in text
    write_step(text, built, traced["image_consistent"], v, DATA)
    lost = traced["no_lost_completion"]
    text, v = why(built, lost), values(built, lost)
    stop = cited(text, r"suspended the vDPA device \(VHOST_VDPA_SUSPEND\) at step (\d+)")
    assert stop == first_true(v, lambda s: s["suspended"]) == first_true(v, lambda s: s["stop_point"])
    n, m = v[-1]["saved_last_avail"], v[-1]["tgt"][const(built, "USED")][0]
    assert f"requests in [{m}, {n}) are neither fetched nor completed" in text and m < n


def test_a_skip_drain_back_end_cancels_the_mark_of_data_that_landed() -> None:
    """The finding beyond the brief's V8: data before the stop, its mark cancelled, the page stale."""
    built = model("skip_drain")
    traced = traces(built)
    assert "no_lost_completion" not in traced   # the target's resubmission keeps it
    trace = traced["image_consistent"]
    text, v = why(built, trace), values(built, trace)
    _, _, k = write_step(text, built, trace, v, DATA)
    c = cited(text, r"GET_VRING_BASE at step (\d+) cancelled request 0, whose data had landed")
    assert c == first_true(v, lambda s: s["io_cancelled"][0]) > k
    assert "DRAIN = SkipDrainRecordInflight" in text


def test_a_torn_page_names_both_writes_and_both_reads() -> None:
    built = model("reply_then_complete")
    trace = traces(built)["no_torn_page"]
    text, v = why(built, trace), values(built, trace)
    m = re.search(r"QEMU copied word (\d+) of page (\d+) .* at step (\d+), then the back-end wrote it at step (\d+) "
                  r"and wrote word (\d+) .* at step (\d+), which the copy read only at step (\d+)", text)
    assert m is not None, text
    w1, p, c1, k1, w2, k2, c2 = (int(g) for g in m.groups())
    assert c1 < k1 <= k2 < c2 and v[-1]["torn"][p]
    assert v[c1]["copied"][w1] and not v[c1 - 1]["copied"][w1]
    assert changed(v, k1, lambda s: s["mem"][p][w1]) and changed(v, k2, lambda s: s["mem"][p][w2])
    assert cited(text, r"QEMU read its log for the last time \(log_put, step (\d+)\)") == stopped(v)


def test_a_request_run_on_both_hosts() -> None:
    built = model("target_from_zero")
    trace = traces(built)["no_duplicate_execution"]
    text, v = why(built, trace), values(built, trace)
    src = cited(text, r"the device ran it on the source at step (\d+)")
    again = cited(text, r"ran it again at step (\d+)")
    assert first_true(v, lambda s: s["executed_src"][0] > 0) == src and process_at(built, trace, src) == "Backend"
    assert changed(v, again, lambda s: s["executed_tgt"][0]) and process_at(built, trace, again) == "Target"
    idx = cited(text, r"used->idx at step (\d+)")
    assert changed(v, idx, lambda s: s["mem"][const(built, "USED")][0]) and idx < again


# ------------------------------------------------------ the vocabulary's names it relies on

def test_every_name_the_vhost_explainer_relies_on_is_declared_in_the_vocabulary() -> None:
    path = vocabulary_path("vhost")
    assert path is not None
    decls = parse(path.read_text(), str(path)).decls
    names = {getattr(d, "name", None) for d in decls}
    assert set(VARIABLES) <= {d.name for d in decls if isinstance(d, A.VarDecl)}
    assert set(CONSTANTS) <= {d.name for d in decls if isinstance(d, A.ParamDecl | A.ConstDecl)}
    assert set(MEMBERS) <= {m.name for d in decls if isinstance(d, A.TypeDecl) and isinstance(d.type, A.EnumType)
                            for m in d.type.members}
    assert set(PROPERTIES) <= {d.name for d in decls if isinstance(d, A.PropertyDecl)}
    assert set(STEPS) <= {d.name for d in decls if getattr(d, "modifier", None) == "default"} & names
    assert all(callable(getattr(VhostExplainer, f"explain_{p}", None)) for p in PROPERTIES)


def test_each_vocabulary_has_its_explainer() -> None:
    built = model("vdpa")
    assert set(EXPLAINERS) == {"xen", "vhost"}
    explain = explainer(built.ast.sources, built.checked.consts)
    assert explain is not None and getattr(explain, "__self__", None).__class__ is VhostExplainer


# ------------------------------------------------------------------- no Xen word leaks

XEN_WORDS = re.compile(r"\b(Xen|CLEAN|grant|toolstack|blkfront|blkback|dom0|xenstore|log-dirty|bitmap's last read)",
                       re.IGNORECASE)


def page_text(tmp_path: Path, qdl: Path, prop: str) -> str:
    out = tmp_path / "page.html"
    main(["check", str(qdl), "--no-coverage", "--property", prop, "--html", str(out)])
    return out.read_text()


@pytest.mark.parametrize("prop", ["image_consistent", "quiescent_after_stop", "no_lost_completion", "no_torn_page"])
def test_a_vhost_counterexample_has_no_xen_word(tmp_path: Path, prop: str) -> None:
    built = model("reply_then_complete")
    trace = traces(built)[prop]
    text = why(built, trace)
    assert text and not XEN_WORDS.search(text), text
    annotate = annotator(built.ast.sources, built.checked.consts)
    assert annotate is not None
    tl = annotate(built.model.info, trace, timeline(built.model.info, trace))
    shown = [*tl.legend.values(), *(r.label for r in tl.rows), *(m.label for m in tl.moments),
             *(s.label for s in tl.spans)]
    assert not [s for s in shown if XEN_WORDS.search(s)], shown
    page = page_text(tmp_path, MODELS / "vhost_reply_then_complete.qdl", prop)
    assert "GET_VRING_BASE" in page and not XEN_WORDS.search(page), XEN_WORDS.findall(page)


def test_a_xen_counterexample_still_has_them(tmp_path: Path) -> None:
    page = page_text(tmp_path, ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl", "image_consistent")
    found = {w.lower() for w in XEN_WORDS.findall(page)}
    assert {"xen", "clean", "grant"} <= found, found


# ------------------------------------------------------------------ a model's own invariant

def test_an_invariant_of_the_models_own_gets_the_last_writes_to_what_it_reads() -> None:
    built = model("own_invariant")
    trace = traces(built)["used_idx_arrives"]
    text = why(built, trace)
    m = re.match(r"`used_idx_arrives` reads (.*?); ", text)
    assert m is not None, text
    assert set(re.split(r", | and ", m.group(1))) == {"target_running", "mem", "tgt"}   # as the invariant says
    slot = {s.name: i for i, s in enumerate(built.model.info.layout.slots)}
    states = trace.states
    writes = re.findall(r"at step (\d+) (\w+) set (\S+) to", text)
    assert writes
    for k, who, name in writes:
        i = slot[name]
        assert process_at(built, trace, int(k)) == who
        assert max(j for j in range(1, len(states)) if states[j - 1][i] != states[j][i]) == int(k)
    used = const(built, "USED")
    assert {name for _, _, name in writes} == {"target_running", f"mem[{used}][0]"}


# ------------------------------------------------------------------------- the timeline

def test_the_timeline_shows_syncs_the_stop_and_log_put_where_the_states_say() -> None:
    built = model("reply_then_complete")
    trace = traces(built)["image_consistent"]
    v = values(built, trace)
    annotate = annotator(built.ast.sources, built.checked.consts)
    assert annotate is not None
    tl = annotate(built.model.info, trace, timeline(built.model.info, trace))
    at = {m.label: m.step for m in tl.moments}
    assert at["GET_VRING_BASE"] == first_true(v, lambda s: s["stop_point"])
    assert at["log_put"] == stopped(v)
    assert at["sync"] == next(k for k in range(1, len(v)) if v[k]["syncs"] != v[k - 1]["syncs"])
    final = History(built.model.info, trace).enum("phase", "FinalSend")
    assert at["final sync"] == first_true(v, lambda s: s["phase"] == final) and at["vCPUs paused"] < at["GET_VRING_BASE"]
    assert at["target starts"] == first_true(v, lambda s: s["target_running"])
    used, data = const(built, "USED"), const(built, "REQ_PAGE")[0]
    labels = [r.label for r in tl.rows]
    assert f"page {used} (the used ring) source" in labels and f"page {data} (request 0's buffer) target" in labels
    late = [m.step for m in tl.marks if m.kind == "late"]
    assert late and all(k > at["GET_VRING_BASE"] and process_at(built, trace, k) == "Backend" for k in late)
    (hl,) = tl.highlights
    assert hl.row == f"page {used} (the used ring) source" and v[hl.step - 1]["mem"][used] != v[hl.step]["mem"][used]
