"""What any vocabulary's picture of a counterexample shares: passes as spans, the step circled.

Takes an explainer that has sentences for `image_consistent` and `no_torn_page`
(its `escaping_write`, `torn_send` and their `explain_*`, its names' `page_name`),
the vocabulary's events of the trace (with their `History` as `h`) and the spans of
its timeline; gives the highlights: the escaping write on its page's source row, or
the torn send's two writes (and the send as a span), the write after the stop, or, for
any other property, the
last step with the whole explanation. Also `pass_spans`, a span per pass from each page's
sends, `recoloured`, the marks of the trace's steps each of the kind a vocabulary
says, and `extended`, a timeline with what a vocabulary adds. Imports `domain.history`,
`trace.timeline`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from quiesce_check.domain.history import History, Send
from quiesce_check.trace.timeline import Highlight, Mark, Moment, Row, Span, Timeline


class _Events(Protocol):
    h: History


def image_highlights(x: Any, ev: _Events, spans: list[Span], late: tuple[str, int | None, Callable[[], list[str]]],
                     ) -> list[Highlight]:
    """The step the explanation is about, circled with it (a torn send also gets its span); `late`
    is the vocabulary's property of a write after the stop, its step and its sentences."""
    h = ev.h
    prop = h.trace.property
    if prop == late[0] and late[1] is not None:
        return [Highlight(late[1], h.who(late[1]), " ".join(late[2]()), "late")]
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
    text = " ".join(x.explain(h.info, h.trace))
    return [Highlight(h.n, h.who(h.n), text, "other")] if text and h.n >= 1 else []


def pass_spans(pages: Iterable[int], sends: Callable[[int], list[Send]]) -> list[Span]:
    """A span per pass, from the first to the last step of the sends that belong to it."""
    by_pass: dict[str, list[int]] = {}
    for p in pages:
        for s in sends(p):
            by_pass.setdefault(s.label, []).extend((s.first, s.last))
    return [Span(min(v), max(v), label) for label, v in by_pass.items()]


def extended(tl: Timeline, marks: list[Mark], spans: list[Span], moments: list[Moment], rows: list[Row],
             highlights: list[Highlight], legend: dict[str, str]) -> Timeline:
    """`tl` with its marks replaced and what a vocabulary adds after its own."""
    return Timeline(tl.steps, tl.lanes, marks, tl.spans + spans, tl.moments + sorted(moments, key=lambda m: m.step),
                    tl.rows + rows, tl.highlights + highlights, {**tl.legend, **legend})


def recoloured(h: History, tl: Timeline, kind_of: Callable[[int, str], str]) -> list[Mark]:
    """`tl`'s marks, each of a step with a state after it of the kind `kind_of(step, kind)` says."""
    return [m if m.step > h.n else Mark(m.step, m.lane, m.label, kind_of(m.step, m.kind)) for m in tl.marks]
