"""A counterexample of a model that uses `xen`, laid out on a timeline for pictures.

Takes the `Events` of a trace, the explainer (for its sentences and names) and the
timeline `trace.timeline` drew; gives the timeline with what the vocabulary
knows: the passes as spans, the bitmap reads and the domain's moments, each page
on the source and on the target over time, each write coloured by what Xen made
of it, and the step the explanation is about circled. `LEGEND` gives the words
the legend shows for each kind of mark. Imports `domain.highlights`, `domain.xen_events`,
`trace.timeline` (and `domain.xen` for its type only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from quiesce_check.domain.highlights import extended, image_highlights, pass_spans, recoloured
from quiesce_check.domain.xen_events import Events
from quiesce_check.trace.timeline import Highlight, Mark, Moment, Row, Span, Timeline

if TYPE_CHECKING:
    from quiesce_check.domain.xen import XenExplainer

# What each kind of mark `annotate` draws means, in the order a legend lists them.
LEGEND = {
    "early": "a write before log-dirty is on",
    "send": "the toolstack copies a word",
    "mark": "a write to a page Xen marks before the next CLEAN",
    "write": "a write to a page Xen does not mark before the next CLEAN",
    "late": "a write after the final CLEAN",
}


def annotate(x: XenExplainer, ev: Events, tl: Timeline) -> Timeline:
    """`tl` with the passes, the bitmap reads and the domain's moments, the pages over time,
    the writes by kind and the step to look at."""
    h = ev.h
    pages = range(len(h.vals[0]["mem"]))
    spans = pass_spans(pages, ev.sends)
    highlights = _highlights(x, ev, spans)
    return extended(tl, _marks(ev, tl), spans, _moments(ev), _rows(x, ev), highlights, LEGEND)


def _moments(ev: Events) -> list[Moment]:
    h = ev.h
    moments = [Moment(r.step, "CLEAN", "clean") for r in ev.reads if not r.final]
    destroyed = h.enum("source", "Destroyed")
    for at, label, kind in ((h.first_change(lambda v: v["logdirty"]), "log-dirty on", "event"),
                            (h.first_change(lambda v: v["source"]), "suspend", "suspend"),
                            (ev.final.step if ev.final is not None else None, "final CLEAN", "final"),
                            (ev.resumed_at(), "target resumes", "resume"),
                            (h.first_change(lambda v: v["source"] == destroyed), "source destroyed", "destroy")):
        if at is not None:
            moments.append(Moment(at, label, kind))
    return moments


def _rows(x: XenExplainer, ev: Events) -> list[Row]:
    """Each page's words on the source and on the target, state by state."""
    h = ev.h
    sep = "" if x.const("MAXVAL", 10) < 10 else ","

    def words(v: dict[str, Any], var: str, p: int, n: int) -> str:
        return sep.join(str(w) for w in v[var][p][:n])

    rows = []
    for p in range(len(h.vals[0]["mem"])):
        n = x.names.page_words(p) or len(h.vals[0]["mem"][p])
        name = x.names.page_name(p)
        rows.append(Row(f"{name} source", tuple(words(v, "mem", p, n) for v in h.vals), "source", name))
        rows.append(Row(f"{name} target", tuple(words(v, "tgt", p, n) for v in h.vals), "target", name))
    return rows


def _marks(ev: Events, tl: Timeline) -> list[Mark]:
    """The timeline's marks: each copy of a word a send, each write by what the bitmap made of it.

    A step is a send only when it copies (a page starts or ends its send, or a word is taken):
    `start_migration()`, a CLEAN and the final CLEAN load `todo` and copy nothing, and the
    restore's reset of the target is no copy. A write is marked when its page is in the bitmap
    at the next CLEAN: set by the write, set already (a second write to a dirty page), or set
    later by what Xen marks after the write (an unmap, a grant copy's end)."""
    h = ev.h
    pages = range(len(h.vals[0]["mem"]))
    final = ev.final.step if ev.final is not None else None
    setup = h.enum("phase", "Setup")

    def kind_of(k: int, kind: str) -> str:
        before, after = h.vals[k - 1], h.vals[k]
        if _copies(before, after, pages):
            kind = "send"
        written = [p for p in pages if before["mem"][p] != after["mem"][p]]
        if not written:
            return kind
        if final is not None and k > final:
            return "late"
        if not before["logdirty"] and before["phase"] == setup:
            return "early"  # before migration began: pass 0 sends every page anyway
        return "mark" if all(_marked(ev, k, p) for p in written) else "write"

    return recoloured(h, tl, kind_of)


def _copies(before: dict[str, Any], after: dict[str, Any], pages: range) -> bool:
    """Whether a step copied: a page's send began or ended, a word was taken, or a page left
    `todo` (a page of one word is sent in one step that changes nothing else)."""
    return (before["sending"] != after["sending"] or before["copied"] != after["copied"]
            or any(before["todo"][p] and not after["todo"][p] for p in pages))


def _marked(ev: Events, k: int, p: int) -> bool:
    """Whether the bitmap holds page p, written at step k, when it is next read: its bit is set
    after step k or before that read, or the read marks the page itself."""
    h = ev.h
    reads = {r.step: r for r in ev.reads}
    for j in range(k, h.n + 1):
        if h.vals[j]["dirty"][p]:
            return True
        read = reads.get(j + 1)
        if read is not None:
            return p in read.marked
    return False


def _highlights(x: XenExplainer, ev: Events, spans: list[Span]) -> list[Highlight]:
    late = ev.h.first_change(lambda v: v["late_write"])
    return image_highlights(x, ev, spans, ("quiescent_after_suspend", late,
                                           lambda: x.explain_quiescent_after_suspend(ev)))
