"""Counterexamples of the Xen vocabulary's properties, explained in Xen's words.

Takes a trace of a model that uses `xen` (its states, read through the layout by
variable name), the model's constants and the code of its own files; gives one
or two sentences that name the page, the write, the actor, the pass and the
reason the bitmap missed it. Every clause is computed from the trace and the
model (`domain.xen_events`: the sends, the bitmap reads and what each took, the
marks of each page and what made them; `domain.xen_names`: the ring, the
overridden Xen steps, the kind of backend), and a clause that cannot be computed
is left out: Xen's default rule for a mapping or a copy is said only of a model
that keeps Xen's default steps, a ring's words are named only in a model with a
ring, a disk only for a block backend. Nothing is written per model. A model's
own invariant or final property gets the last writes to what it reads
(`domain.xen_own`); a lasso of a liveness property is explained by
`domain.xen_liveness`; the request properties' sentences are `domain.xen_requests`';
`domain.xen_timeline` lays a trace out for pictures.
Imports `compile.model`, `domain.*`, `lang.types`, `trace.timeline`, `trace.types`.
"""

from __future__ import annotations

from collections.abc import Mapping

from quiesce_check.compile.model import ModelInfo
from quiesce_check.domain.history import History
from quiesce_check.domain.xen_events import BitmapRead, Events, Send, Write
from quiesce_check.domain.xen_liveness import LivenessWords
from quiesce_check.domain.xen_names import PROPERTIES, XenNames
from quiesce_check.domain.xen_own import explain_own
from quiesce_check.domain.xen_requests import RequestWords
from quiesce_check.domain.xen_timeline import annotate
from quiesce_check.lang.types import Type, Value
from quiesce_check.trace.timeline import Timeline
from quiesce_check.trace.types import Trace

__all__ = ["Send", "XenExplainer"]

# The faults a model that changed the vocabulary's state beyond recognition makes the
# explainer meet: then the trace table says it all.
UNRECOGNISED = (KeyError, IndexError, StopIteration, TypeError, ValueError, AttributeError)


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


class XenExplainer(RequestWords):
    def __init__(self, consts: Mapping[str, tuple[Value, Type]], own: str | None = None,
                 target_only: frozenset[str] = frozenset()) -> None:
        self.names = XenNames(consts, own)
        self.target_only = target_only   # the model's processes that run only once the target is unpaused
        self.lasso = LivenessWords(self)

    # names (also what `LivenessWords` reads) -----------------------------------------
    def ring_of(self, p: int) -> tuple[int, int] | None:
        return self.names.ring_of(p)

    def word_name(self, p: int, w: int) -> str:
        return self.names.word_name(p, w)

    # entry points ------------------------------------------------------------------------
    def explain(self, info: ModelInfo, trace: Trace) -> list[str]:
        if trace.kind not in ("invariant", "final", "liveness") or (trace.kind == "liveness" and trace.loop is None):
            return []
        try:
            h = History(info, trace)
            if trace.kind == "liveness":
                method = getattr(self.lasso, f"explain_{trace.property}", None)
                return method(h) if method is not None else []
            ev = Events(h)
            out = getattr(self, f"explain_{trace.property}")(ev) if trace.property in PROPERTIES else []
            return out or explain_own(ev)
        except UNRECOGNISED:
            return []

    def annotate(self, info: ModelInfo, trace: Trace, tl: Timeline) -> Timeline:
        """The timeline with what the vocabulary knows (`domain.xen_timeline`)."""
        try:
            return annotate(self, Events(History(info, trace)), tl)
        except UNRECOGNISED:
            return tl

    # why the bitmap missed a write ----------------------------------------------------------
    def why_missed(self, ev: Events, k: int, p: int, write: Write) -> str:
        """Why no bitmap read after step k took page p; "" when one did (the marks do not explain it)."""
        after = ev.reads_after(k)
        if any(p in r.took for r in after):
            return ""
        if not after:
            return self.after_last_read(ev, k, p, write)
        last = after[-1]
        mech = self.mechanism(ev, k, p, write, last)
        if mech:
            return f"{mech}, so {'the final pass' if last.final else 'the pass after it'} did not send page {p} again"
        return f"no bitmap read after it named page {p}"

    @staticmethod
    def where(read: BitmapRead) -> str:
        return f"the final CLEAN (step {read.step})" if read.final else f"the bitmap's last read (step {read.step})"

    # Xen's steps each default rule is about: it is said only of a model that keeps them all
    RULES: dict[str, tuple[str, ...]] = {
        "foreign": ("map_foreign", "map_write", "unmap"),
        "grant": ("map_grant", "map_write", "unmap", "hypervisor_final_clean", "hypervisor_clean"),
        "copy": ("copy_write", "copy_mark"),
    }

    def keeps_rule(self, kind: str) -> bool:
        return kind in self.RULES and self.names.default(*self.RULES[kind])

    def mechanism(self, ev: Events, k: int, p: int, write: Write, last: BitmapRead) -> str:
        """What kept page p out of every bitmap read from step k to `last`, or "". No step marked
        the page in between (else a read would have taken it); Xen's rule is said only of a
        model that keeps the steps of Xen it is about, else what the trace shows."""
        where = self.where(last)
        silent = f"no step marked page {p} between the write and {where}"
        if write.index is None:
            return ""
        if write.kind == "foreign":
            return "Xen never logs a write through a foreign mapping" if self.keeps_rule("foreign") else silent
        if write.kind == "grant":
            when = self.unmap_when(ev, k, p, write.index, last)
            if when is None:
                return ""
            if self.keeps_rule("grant"):
                return f"Xen logs a write through a grant mapping only when it is unmapped, and mapping {write.index} was {when}"
            return f"{silent}: mapping {write.index} was {when}"
        if write.kind == "copy":
            return self.copy_mechanism(ev, k, p, write.index, last)
        return ""

    def unmap_when(self, ev: Events, k: int, p: int, index: int, last: BitmapRead) -> str | None:
        """When mapping `index`, which step k wrote page p through, went, as against `last`."""
        h = ev.h
        u = ev.unmapped_at(index, k)
        if u is None:
            m = h.at(last.step - 1, "mapping")[index]
            held = m[0] and m[1] == p and h.first_change(lambda v: v["mapping"][index], last.step) is None
            return f"still in place when {self.where(last)} read the bitmap" if held else "never unmapped"
        if h.at(u, "source") == h.enum("source", "Destroyed"):
            return f"released only when the source was destroyed (step {u})"
        if u > last.step:
            return f"unmapped only at step {u}, after {self.where(last)}"
        if ev.marked_at(u, p):
            return None
        return f"unmapped at step {u} without marking page {p}" + ("" if h.at(u - 1, "logdirty") else " (log-dirty was off)")

    def copy_mechanism(self, ev: Events, k: int, p: int, g: int, last: BitmapRead) -> str:
        """When the grant copy through grant g that wrote page p at step k was marked, as against `last`."""
        where = self.where(last)
        end = ev.copy_end(g, k)
        if end is None:
            if self.names.default("copy_write", "copy_mark"):
                return f"Xen marks a grant copy's destination after its words, and this mark had not landed by {where}"
            return f"the grant copy through grant {g} had not ended by {where}"
        if ev.marked_at(end, p):
            return f"Xen marked the grant copy's destination only at step {end}, after {where}" if end > last.step else ""
        off = "" if ev.h.at(end - 1, "logdirty") else " (log-dirty was off)"
        return f"the grant copy ended at step {end} without marking page {p}{off}"

    def after_last_read(self, ev: Events, k: int, p: int, write: Write) -> str:
        """Why a write at step k that no bitmap read followed was missed."""
        h = ev.h
        resumed = ev.resumed_at()
        last = ev.reads[-1] if ev.reads else None
        off = "" if h.at(k - 1, "logdirty") else ", with log-dirty off"
        if last is not None:
            head = ("it came after the final CLEAN (step {}), the bitmap's last read" if last.final
                    else "it came after the bitmap's last read (step {})").format(last.step)
            if resumed is not None and resumed < k:
                head += f", and after the target resumed (step {resumed}){off}"
        elif resumed is not None and resumed < k:
            head = f"it came after the target resumed (step {resumed}){off}, and no bitmap read came after it"
        else:
            head = "no bitmap read came after it"
        return head + self.late_detail(ev, k, p, write)

    def late_detail(self, ev: Events, k: int, p: int, write: Write) -> str:
        """What else the trace says of a write at step k after the bitmap's last read: that read
        took page p (and what had marked it) and the pass after it sent the page before the
        write, or why the write would not have been marked anyway."""
        last = ev.reads[-1] if ev.reads else None
        if last is not None and p in last.took:
            return "; " + self.taken(ev, last, p, k)
        if write.kind == "copy" and write.index is not None:
            end = ev.copy_end(write.index, k)
            if end is None:
                return ""
            if ev.marked_at(end, p):
                return f"; Xen marked the grant copy's destination at step {end}, with no bitmap read after it"
            off = " with log-dirty off" if not ev.h.at(end - 1, "logdirty") else ""
            return f"; the grant copy ended at step {end}{off} without marking page {p}"
        if last is None or not self.keeps_rule(write.kind):
            return ""
        mech = self.mechanism(ev, k, p, write, last)
        return f"; and {mech}" if mech else ""

    @staticmethod
    def taken(ev: Events, read: BitmapRead, p: int, k: int) -> str:
        """That bitmap read `read` took page p, what had marked it, and the send that followed,
        as against a write at step k."""
        if p in read.marked:
            held = ev.held_by(read.step, p)
            text = f"{read.name} had marked page {p} itself" + (
                f" (mapping {held} still held it)" if held is not None else "")
        else:
            mark = next((m for m in reversed(ev.marks(p)) if m.step < read.step), None)
            text = f"{read.name} had taken page {p}" + (
                f" (marked at step {mark.step} by {mark.cause})" if mark is not None else "")
        resend = next((s for s in ev.sends(p) if read.step < s.first <= k), None)
        if resend is not None:
            text += f", and {resend.label} sent page {p} again ({resend.steps}" + (
                "), before this write" if resend.last < k else "); this write came during that send")
        return text

    # properties --------------------------------------------------------------------------
    def escaping_write(self, h: History) -> tuple[int, int, int] | None:
        """(page, word, step): a watched word the target got wrong, and the source's last write to it."""
        return h.escaping_write(self.names.watched)

    def explain_image_consistent(self, ev: Events) -> list[str]:
        h = ev.h
        found = self.escaping_write(h)
        if found is None:
            return []
        p, w, k = found
        last = h.vals[-1]
        write = ev.how_written(k, p)
        sends = [s for s in ev.sends(p) if s.last < k or (s.first <= k <= s.last)]
        first = f"{_upper(self.word_name(p, w))} was written by {h.who(k)} {write.phrase} at step {k}"
        if sends:
            s = sends[-1]
            copied = ev.copy_step(s, w)
            if s.last < k:
                first += f", after the page's last send ({s.steps}, {s.label})"
            elif copied is not None and copied < k:
                first += f", after the page's last send ({s.steps}, {s.label}) had copied it at step {copied}"
        why = self.why_missed(ev, k, p, write)
        return [first + (";" if why else "."), *([why + "."] if why else []),
                f"The target holds {last['tgt'][p][w]} there; the source's last write left {last['mem'][p][w]}."]

    def torn_send(self, ev: Events) -> tuple[int, Send, int, int, int, int, int, int] | None:
        """(page, send, w1, c1, k1, w2, k2, c2): a watched page's last send that read word w1 at
        step c1, which was written at step k1 >= c1, while word w2 was written at step k2 >= k1
        and read only at step c2 > k2: the target holds a page the source never had."""
        h = ev.h
        last = h.vals[-1]
        for p in range(len(last["torn"])):
            if not (last["torn"][p] and self.names.watched(p)):
                continue
            sends = ev.sends(p)
            if not sends:
                continue
            s = sends[-1]
            torn = h.torn_words(s, p, self.names.page_words(p) or len(last["mem"][p]))
            if torn is not None:
                return (p, s, *torn)
        return None

    def explain_no_torn_page(self, ev: Events) -> list[str]:
        found = self.torn_send(ev)
        if found is None:
            return []
        h = ev.h
        p, s, w1, c1, k1, w2, k2, c2 = found
        write = ev.how_written(k1, p)
        why = self.why_missed(ev, k1, p, write)
        return [
            f"Page {p}'s last send ({s.label}, {s.steps}) is torn: it copied "
            f"{self.word_name(p, w1)} at step {c1}, then {h.who(k1)} wrote it {write.phrase} at step {k1}"
            + (f" and wrote {self.word_name(p, w2)} at step {k2}" if (k2, w2) != (k1, w1) else "")
            + f", which the copy read only at step {c2}: the target holds the first word from before "
            "those writes and the second from after them, a state the source page never had.",
            *([_upper(why) + "."] if why else []),
        ]

    def explain_quiescent_after_suspend(self, ev: Events) -> list[str]:
        h = ev.h
        k = h.first_change(lambda v: v["late_write"])
        final = ev.final
        if k is None or final is None:
            return []
        before, after = h.vals[k - 1]["mem"], h.vals[k]["mem"]
        changed = [(p, w) for p in range(len(after)) for w in range(len(after[p])) if before[p][w] != after[p][w]]
        what = self.word_name(*changed[0]) if changed else "guest memory"
        suspended = h.first_change(lambda v: v["source"])
        first = (f"{h.who(k)} wrote {what} at step {k} (`{h.text(k)}`), after the final CLEAN at step {final.step}"
                 + (f" (the guest was suspended at step {suspended})" if suspended is not None else ""))
        if ev.reads_after(final.step):
            return [first + "."]
        fate = self.late_fate(ev, k, changed[0][0]) if changed else ""
        return [first + ";", "the bitmap is not read again after that CLEAN, so no mark can bring the write to the "
                "target" + (f": {fate}." if fate else ".")]

    def late_fate(self, ev: Events, k: int, p: int) -> str:
        """Whether the final pass can still carry a write to page p at step k."""
        final = ev.final
        if final is None:
            return ""
        resent = [s for s in ev.sends(p) if ev.resend_at is not None and s.last >= ev.resend_at and s.first > k]
        if resent:
            return (f"the resend after the final pass sent page {p} again after it ({resent[-1].steps}), which is "
                    "what carries the write to the target, not the bitmap")
        resend = self.names.resend_pages()
        if p in resend and (ev.resend_at is None or ev.resend_at > k):
            return (f"page {p} is among the pages the toolstack sends again after the final pass (RESEND), and "
                    "that send may carry the write, but it came after the bitmap's last read all the same")
        if p not in final.took:
            return f"the final CLEAN did not take page {p}, so the final pass does not send it"
        sent = [s for s in ev.sends(p) if s.first > final.step and s.last < k]
        if sent:
            return f"the final pass had already sent page {p} ({sent[-1].steps})"
        return "it reaches the target only if the final pass happens to copy that word after it"

    def explain_image_word(self, ev: Events, p: int, w: int) -> list[str]:
        h = ev.h
        writes = h.steps_changing(lambda v: v["mem"][p][w])
        if not writes:
            return [f"{self.word_name(p, w)} was never written on the source: the data went elsewhere."]
        k = writes[-1]
        write = ev.how_written(k, p)
        why = self.why_missed(ev, k, p, write)
        return [f"{self.word_name(p, w)} was written by {h.who(k)} {write.phrase} at step {k}" + (";" if why else "."),
                *([why + "."] if why else [])]
