"""A counterexample of a model that uses `vhost`, laid out on a timeline for pictures.

Takes the `VhostEvents` of a trace, the explainer (for its sentences and names) and
the timeline `trace.timeline` drew; gives the timeline with what the vocabulary
knows: QEMU's passes as spans, the syncs, vm_stop's steps (the vCPUs paused, the
device's stop point, log_put) and the target's start as moments, each page on the
source and on the target over time, each write coloured by who wrote it and
whether it came after the device's stop point, and the step the explanation is
about circled. `LEGEND` gives the words the legend shows for each kind of mark.
Imports `domain.vhost_events`, `trace.timeline` (and `domain.vhost_explain` for
its type only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quiesce_check.domain.vhost_events import VhostEvents
from quiesce_check.trace.timeline import Highlight, Mark, Moment, Row, Span, Timeline

if TYPE_CHECKING:
    from quiesce_check.domain.vhost_explain import VhostExplainer

# What each kind of mark `annotate` draws means, in the order a legend lists them.
LEGEND = {
    "send": "QEMU copies a word to the target",
    "mark": "a vCPU write KVM marks, or a log mark",
    "write": "a back-end or device write (nothing marks it but its own log mark)",
    "late": "a write or log mark after the device's stop point",
}


def annotate(x: VhostExplainer, ev: VhostEvents, tl: Timeline) -> Timeline:
    """`tl` with the passes, syncs and vm_stop's steps, the pages over time, the writes by
    kind and the step to look at."""
    by_pass: dict[str, list[int]] = {}
    for p in ev.pages:
        for s in ev.sends(p):
            by_pass.setdefault(s.label, []).extend((s.first, s.last))
    spans = [Span(min(v), max(v), label) for label, v in by_pass.items()]
    highlights = _highlights(x, ev, spans)
    return Timeline(tl.steps, tl.lanes, _marks(ev, tl), tl.spans + spans,
                    tl.moments + sorted(_moments(ev), key=lambda m: m.step), tl.rows + _rows(x, ev),
                    tl.highlights + highlights, {**tl.legend, **LEGEND})


def _moments(ev: VhostEvents) -> list[Moment]:
    moments = [Moment(r.step, {"sync": "sync", "log_put": "log_put", "final": "final sync"}[r.kind],
                      "final" if r.kind == "final" else "sync") for r in ev.reads]
    stop = ev.stop_point
    stop_name = {"Vdpa": "SUSPEND", "Vfio": "STOP"}.get(x_device(ev), "GET_VRING_BASE")
    for at, label, kind in ((ev.became(lambda v: not v["vcpus_running"]), "vCPUs paused", "suspend"),
                            (stop, stop_name, "stop"),
                            (ev.target_start, "target starts", "resume")):
        if at is not None:
            moments.append(Moment(at, label, kind))
    return moments


def x_device(ev: VhostEvents) -> str:
    """The device kind, or "" when the stop point was GET_VRING_BASE's reply."""
    k = ev.stop_point
    return ev.names.device() if k is not None and ev.changed(k, "suspended") else ""


def _rows(x: VhostExplainer, ev: VhostEvents) -> list[Row]:
    """Each page's words on the source and on the target, state by state."""
    rows = []
    for p in ev.pages:
        name = x.names.page_name(p)
        for var, where in (("mem", "source"), ("tgt", "target")):
            rows.append(Row(f"{name} {where}", tuple(",".join(str(w) for w in v[var][p]) for v in ev.h.vals), where,
                            name))
    return rows


def _marks(ev: VhostEvents, tl: Timeline) -> list[Mark]:
    h = ev.h
    stop = ev.stop_point
    marks = []
    for m in tl.marks:
        k = m.step
        if k > h.n:
            marks.append(m)
            continue
        b, a = h.vals[k - 1], h.vals[k]
        kind = m.kind
        if b["tgt"] != a["tgt"] or b["copied"] != a["copied"] or b["bmap"] != a["bmap"] and a["sending"] != b["sending"]:
            kind = "send"
        if a["late_write"] and not b["late_write"]:
            kind = "late"
        elif b["mem"] != a["mem"]:
            kvm = any(a["kvm_dirty"][p] and not b["kvm_dirty"][p] for p in ev.pages)
            kind = "late" if stop is not None and k > stop and not kvm else "mark" if kvm else "write"
        elif b["vlog"] != a["vlog"] and any(a["vlog"]) or b["vfio_dirty"] != a["vfio_dirty"] and any(a["vfio_dirty"]):
            kind = "mark"
        marks.append(Mark(k, m.lane, m.label, kind))
    return marks


def _highlights(x: VhostExplainer, ev: VhostEvents, spans: list[Span]) -> list[Highlight]:
    """The step the explanation is about, circled with it (a torn send also gets its span)."""
    h = ev.h
    prop = h.trace.property
    if prop == "image_consistent" and (found := x.escaping_write(h)) is not None:
        p, _, k = found
        return [Highlight(k, h.who(k), " ".join(x.explain_image_consistent(ev)), "escape",
                          f"{x.names.page_name(p)} source")]
    if prop == "no_torn_page" and (torn := x.torn_send(ev)) is not None:
        p, s, _, _, k1, _, k2, _ = torn
        row = f"{x.names.page_name(p)} source"
        out = [Highlight(k1, h.who(k1), " ".join(x.explain_no_torn_page(ev)), "torn", row)]
        if k2 != k1:
            out.append(Highlight(k2, h.who(k2), "", "torn", row))
        spans.append(Span(s.first, s.last, f"torn send of page {p}", "torn"))
        return out
    if prop == "quiescent_after_stop" and (late := ev.became(lambda v: v["late_write"])) is not None:
        return [Highlight(late, h.who(late), " ".join(x.explain_quiescent_after_stop(ev)), "late")]
    text = " ".join(x.explain(h.info, h.trace))
    return [Highlight(h.n, h.who(h.n), text, "other")] if text and h.n >= 1 else []
