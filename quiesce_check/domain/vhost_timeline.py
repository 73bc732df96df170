"""A counterexample of a model that uses `vhost`, laid out on a timeline for pictures.

Takes the `VhostEvents` of a trace, the explainer (for its sentences and names) and
the timeline `trace.timeline` drew; gives the timeline with what the vocabulary
knows: QEMU's passes as spans, the syncs, vm_stop's steps (the vCPUs paused, the
device's stop point, log_put) and the target's start as moments, each page on the
source and on the target over time, each write coloured by who wrote it and
whether it came after the device's stop point, and the step the explanation is
about circled. `LEGEND` gives the words the legend shows for each kind of mark.
Imports `domain.highlights`, `domain.vhost_events`, `trace.timeline` (and `domain.vhost_explain` for
its type only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quiesce_check.domain.highlights import extended, image_highlights, pass_spans, recoloured
from quiesce_check.domain.vhost_events import VhostEvents
from quiesce_check.trace.timeline import Highlight, Mark, Moment, Row, Span, Timeline

if TYPE_CHECKING:
    from quiesce_check.domain.vhost_explain import VhostExplainer

# What each kind of mark `annotate` draws means, in the order a legend lists them.
LEGEND = {
    "send": "QEMU copies a word to the target",
    "mark": "a write to a page KVM has marked, or a log mark",
    "write": "a write to a page no bitmap holds (a back-end or device write before its own log mark)",
    "late": "a write or log mark after the device's stop point",
}


def annotate(x: VhostExplainer, ev: VhostEvents, tl: Timeline) -> Timeline:
    """`tl` with the passes, syncs and vm_stop's steps, the pages over time, the writes by
    kind and the step to look at."""
    spans = pass_spans(ev.pages, ev.sends)
    highlights = _highlights(x, ev, spans)
    return extended(tl, _marks(ev, tl), spans, _moments(ev), _rows(x, ev), highlights, LEGEND)


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
    """The timeline's marks: each copy a send, each write by who wrote it and when, each log mark."""
    h = ev.h
    stop = ev.stop_point

    def kind_of(k: int, kind: str) -> str:
        b, a = h.vals[k - 1], h.vals[k]
        if (b["tgt"] != a["tgt"] or b["copied"] != a["copied"] or b["sending"] != a["sending"]
                or any(b["bmap"][p] and not a["bmap"][p] for p in ev.pages)):
            kind = "send"
        if a["late_write"] and not b["late_write"]:
            return "late"
        written = [p for p in ev.pages if b["mem"][p] != a["mem"][p]]
        if written:
            # a vCPU write to a page KVM marked already is as marked as the write that marked it
            kvm = all(a["kvm_dirty"][p] for p in written)
            return "late" if stop is not None and k > stop and not kvm else "mark" if kvm else "write"
        marked = any(a["vlog"][p] > b["vlog"][p] or a["vfio_dirty"][p] > b["vfio_dirty"][p] for p in ev.pages)
        return "mark" if marked else kind

    return recoloured(h, tl, kind_of)


def _highlights(x: VhostExplainer, ev: VhostEvents, spans: list[Span]) -> list[Highlight]:
    late = ev.became(lambda v: v["late_write"])
    return image_highlights(x, ev, spans, ("quiescent_after_stop", late, lambda: x.explain_quiescent_after_stop(ev)))
