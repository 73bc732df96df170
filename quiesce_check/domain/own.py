"""A model's own invariant or final property, explained from its trace: who last wrote what it reads.

Takes the `History` of a counterexample of a property the vocabulary has no sentences
for (a model's `invariant` or `final`) and the vocabulary's moments worth citing
beside them (step, words: a bitmap read, a sync of the dirty logs); gives sentences
that name the variables the property reads (the slots its compiled expression reads,
`compile.ir`) and the last write to each of them that the trace made: its step, its
actor, its statement and the value it left, in the order they happened, with the
moments that came between them. Nothing is said of why: the property is the model's,
and what it means is not known here. Any vocabulary uses it. Imports `compile.ir`,
`compile.layout`, `domain.history`.
"""

from __future__ import annotations

from quiesce_check.compile import ir as I
from quiesce_check.compile.layout import format_slot
from quiesce_check.domain.history import History

# At most this many steps are cited (the latest); the others are counted.
MAX_STEPS = 8


def slots_read(e: I.Expr) -> set[int]:
    """The state slots expression `e` reads."""
    if isinstance(e, I.Slot):
        return {e.index}
    if isinstance(e, I.Table):
        return set(e.slots) | slots_read(e.index)
    if isinstance(e, I.Checked):
        return slots_read(e.index)
    if isinstance(e, I.Un):
        return slots_read(e.a)
    if isinstance(e, I.Bin):
        return slots_read(e.a) | slots_read(e.b)
    if isinstance(e, I.Ite):
        return slots_read(e.cond) | slots_read(e.then) | slots_read(e.orelse)
    if isinstance(e, I.Count):
        return set().union(*(slots_read(t) for t in e.terms))
    return set()


def pages_phrase(pages: frozenset[int]) -> str:
    """`page 2`, `pages 0, 1 and 2`, or `no page`: the pages a moment (a CLEAN, a sync) took."""
    shown = [str(p) for p in sorted(pages)]
    if not shown:
        return "no page"
    return f"page {shown[0]}" if len(shown) == 1 else "pages " + ", ".join(shown[:-1]) + " and " + shown[-1]


def explain_own(h: History, moments: list[tuple[int, str]]) -> list[str]:
    """The last writes to what the violated property reads, with the `moments` (step, words)
    that came between them."""
    info, trace = h.info, h.trace
    props = info.invariants if trace.kind == "invariant" else info.finals if trace.kind == "final" else ()
    prop = next((q for q in props if q.name == trace.property), None)
    if prop is None:
        return []
    layout = info.layout
    slots = sorted(s for s in slots_read(prop.expr) if not layout.slots[s].name.endswith(".pc"))
    if not slots:
        return []
    names = [p.name for p in layout.places if any(p.base <= s < p.base + p.count for s in slots)]
    head = f"`{prop.name}` reads {', '.join(names[:-1]) + ' and ' if len(names) > 1 else ''}{names[-1]}"
    states = trace.states
    last: dict[int, list[int]] = {}
    for s in slots:
        k = next((k for k in range(h.n, 0, -1) if states[k - 1][s] != states[k][s]), None)
        if k is not None:
            last.setdefault(k, []).append(s)
    if not last:
        return [f"{head}; none of it changed since the initial state."]
    steps = sorted(last)
    left_out, steps = steps[:-MAX_STEPS], steps[-MAX_STEPS:]
    events: list[tuple[int, str]] = []
    for k in steps:
        sets = [f"{layout.slots[s].name} to {format_slot(layout, s, states[k][s])}" for s in last[k]]
        events.append((k, f"at step {k} {h.who(k)} set {', '.join(sets)} (`{h.text(k)}`)"))
    events += [(k, text) for k, text in moments if steps[0] < k]
    events.sort()
    earlier = f" ({len(left_out)} earlier step{'s' if len(left_out) > 1 else ''} left out)" if left_out else ""
    them = "them" if len(names) > 1 else "it"
    return [f"{head}; the last writes to {them}, in order{earlier}: " + "; ".join(text for _, text in events) + "."]
