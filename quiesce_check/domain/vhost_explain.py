"""Counterexamples of the vhost vocabulary's properties, explained in QEMU's words.

Takes a trace of a model that uses `vhost` (its states, read through the layout by
variable name), the model's constants and the code of its own files; gives
sentences that name the page and word, the writer (the back-end, the vDPA or VFIO
device, the guest), the pass that last sent the page, the device's stop point
(GET_VRING_BASE's reply, SUSPEND, STOP), QEMU's last read of the back-end's log
(log_put), and why no sync took the page again: the back-end never logged it
(LOGS_DATA), logged another page (LOG_ADDR_OK), had not yet seen the request to
log (ACK_LOG_ENABLE), wrote after log_put, keeps no log (vDPA, VFIO without
tracking), or cancelled the request whose data had landed (SkipDrain). For lost
and duplicated requests, the target's start index and its used index from the
image. Every clause is computed from the trace and the model (`domain.vhost_events`,
`domain.vhost_names`); a clause that cannot be computed is left out, and a rule of
the vocabulary's default steps is said only of a model that keeps them. A model's
own invariant or final property gets the last writes to what it reads
(`domain.own`); `domain.vhost_timeline` lays a trace out for pictures.
Imports `compile.model`, `domain.*`, `lang.types`, `trace.timeline`, `trace.types`.
"""

from __future__ import annotations

from collections.abc import Mapping

from quiesce_check.compile.model import ModelInfo
from quiesce_check.domain.history import History, Send
from quiesce_check.domain.own import explain_own, pages_phrase
from quiesce_check.domain.vhost_events import VhostEvents
from quiesce_check.domain.vhost_names import PROPERTIES, VhostNames
from quiesce_check.domain.vhost_requests import RequestWords
from quiesce_check.domain.vhost_timeline import annotate
from quiesce_check.lang.types import Type, Value
from quiesce_check.trace.timeline import Timeline
from quiesce_check.trace.types import Trace

# The faults a model that changed the vocabulary's state beyond recognition makes the
# explainer meet: then the trace table says it all.
UNRECOGNISED = (KeyError, IndexError, StopIteration, TypeError, ValueError, AttributeError)


def upper(text: str) -> str:
    return text[:1].upper() + text[1:]


class VhostExplainer(RequestWords):
    def __init__(self, consts: Mapping[str, tuple[Value, Type]], own: str | None = None) -> None:
        self.names = VhostNames(consts, own)

    # entry points ------------------------------------------------------------------------
    def explain(self, info: ModelInfo, trace: Trace) -> list[str]:
        if trace.kind not in ("invariant", "final"):
            return []
        try:
            ev = VhostEvents(History(info, trace), self.names)
            out = getattr(self, f"explain_{trace.property}")(ev) if trace.property in PROPERTIES else []
            return out or explain_own(ev.h, [(r.step, f"at step {r.step} {r.name} took {pages_phrase(r.took)}")
                                             for r in ev.reads])
        except UNRECOGNISED:
            return []

    def annotate(self, info: ModelInfo, trace: Trace, tl: Timeline) -> Timeline:
        """The timeline with what the vocabulary knows (`domain.vhost_timeline`)."""
        try:
            return annotate(self, VhostEvents(History(info, trace), self.names), tl)
        except UNRECOGNISED:
            return tl

    # when a write came, and why no sync took its page again ---------------------------
    def last_send(self, ev: VhostEvents, p: int, before: int) -> Send | None:
        sends = [s for s in ev.sends(p) if s.first <= before]
        return sends[-1] if sends else None

    def timing(self, ev: VhostEvents, k: int, p: int) -> str:
        """`, after GET_VRING_BASE replied at step 11 and after QEMU's last read of its log
        (log_put) at step 12`, or, before the stop, after the page's last send."""
        clauses = []
        if ev.stop_point is not None and ev.stop_point < k:
            clauses.append(f"after {ev.stop_label()}")
        if ev.log_put is not None and ev.log_put < k and self.names.device() == "Vhost":
            clauses.append(f"after QEMU's last read of its log (log_put) at step {ev.log_put}")
        if ev.target_start is not None and ev.target_start < k:
            clauses.append(f"after the target started at step {ev.target_start}")
        if not clauses:
            s = self.last_send(ev, p, k)
            if s is not None:
                clauses.append(f"after the page's last send ({s.steps}, {s.label})" if s.last < k
                               else f"during the page's last send ({s.steps}, {s.label})")
        if not clauses:
            return ""
        return ", " + (", ".join(clauses[:-1]) + " and " + clauses[-1] if len(clauses) > 1 else clauses[0])

    def why_unsent(self, ev: VhostEvents, k: int, p: int) -> str:
        """Why no read of the dirty logs after step k took page p; "" when one did."""
        if any(p in r.took for r in ev.reads_after(k)):
            return ""
        marks = ev.marks(p, k)
        if marks:
            return f"its mark of page {p} at step {marks[0]} was lost before any sync read the log"
        reason = self.unmarked(ev, k, p)
        s = self.last_send(ev, p, ev.h.n)
        sent = f"; the target has page {p} from its last send ({s.steps}, {s.label})" if s is not None else ""
        return reason + sent

    def unmarked(self, ev: VhostEvents, k: int, p: int) -> str:
        """Why nothing QEMU reads marked page p after a write at step k."""
        n, h = self.names, ev.h
        for r in n.requests_of(p):
            c = ev.became(lambda v, r=r: v["io_cancelled"][r], k + 1)
            if c is not None and n.const("CANCEL_SYNC"):
                return (f"GET_VRING_BASE at step {c} cancelled request {r}, whose data had landed "
                        f"(DRAIN = {n.member('DRAIN')}), and with it the log mark of page {p} that was to follow")
        if n.device() == "Vdpa":
            return f"nothing marked page {p}: a vDPA device keeps no dirty log (kernel vhost-vdpa has none)"
        if n.device() == "Vfio" and n.member("VFIO_TRACKING") == "NoTracking":
            return f"nothing marked page {p}: QEMU tracks none of the VFIO device's DMA (VFIO_TRACKING = NoTracking)"
        if ev.log_put is not None and ev.log_put < k:
            return f"nothing QEMU reads marked page {p} after it: no sync after log_put reads the back-end's log"
        if n.data_page(p) and n.const("LOGS_DATA") is False:
            return f"the back-end never logged page {p} (LOGS_DATA is off)"
        if p == n.const("USED") and n.const("LOGS_USED") is False:
            return "the back-end never logged the used ring (LOGS_USED is off)"
        if n.data_page(p) and n.const("LOG_ADDR_OK") is False:
            avail = n.const("AVAIL")
            at = ev.marks(avail, k)
            return (f"the back-end logged page {avail} instead" + (f" at step {at[0]}" if at else "")
                    + " (the IOVA logged as a GPA, LOG_ADDR_OK is off)")
        if not h.vals[k]["log_enabled"] and n.const("ACK_LOG_ENABLE") is False:
            e = ev.became(lambda v: v["log_enabled"], k)
            return ("the back-end had not yet taken up QEMU's request to log (ACK_LOG_ENABLE is off: QEMU did not "
                    "wait for its ack of SET_FEATURES(LOG_ALL))"
                    + (f"; it did only at step {e}" if e is not None else "") + ", so its marks went nowhere")
        late = self.late_log(ev, k)
        return late or f"nothing marked page {p} after the write"

    def late_log(self, ev: VhostEvents, k: int) -> str:
        """That the back-end's log mark after a write at step k came after log_put, or never came:
        said of a model that keeps the vocabulary's back-end (its log steps are `log_mark(...)`)."""
        if ev.log_put is None or ev.log_put < k or not self.names.default("Backend", "log_mark"):
            return ""
        h = ev.h
        who = h.who(k)
        j = next((j for j in range(k + 1, h.n + 1) if h.who(j) == who and "log_mark(" in h.text(j)), None)
        head = f"the back-end had not logged the page when QEMU read its log for the last time (log_put, step {ev.log_put})"
        return head + (f"; its log mark at step {j} came after that" if j is not None and j > ev.log_put else "")

    # properties --------------------------------------------------------------------------
    def escaping_write(self, h: History) -> tuple[int, int, int] | None:
        """(page, word, step): a watched word the target got wrong, and the source's last write to it."""
        return h.escaping_write(self.names.watched)

    def explain_image_consistent(self, ev: VhostEvents) -> list[str]:
        h = ev.h
        found = self.escaping_write(h)
        if found is None:
            return []
        p, w, k = found
        last = h.vals[-1]
        first = f"{upper(self.names.writer(h.who(k)))} wrote {self.names.word_name(p, w)} at step {k}"
        why = self.why_unsent(ev, k, p)
        return [first + self.timing(ev, k, p) + (";" if why else "."), *([why + "."] if why else []),
                f"The target holds {last['tgt'][p][w]} there; the source's last write left {last['mem'][p][w]}."]

    def torn_send(self, ev: VhostEvents) -> tuple[int, Send, int, int, int, int, int, int] | None:
        """(page, send, w1, c1, k1, w2, k2, c2): the torn send of a watched page (the step that
        ended it set `torn`): word w1 read at step c1 and written at k1 > c1, word w2 written
        at k2 >= k1 and read only at c2 > k2."""
        h = ev.h
        for p in ev.pages:
            ends = [k for k in h.steps_changing(lambda v, p=p: v["torn"][p]) if h.vals[k]["torn"][p]]
            sends = [s for s in ev.sends(p) if ends and s.last == ends[-1]]
            if not self.names.watched(p) or not sends:
                continue
            torn = h.torn_words(sends[-1], p, len(h.vals[0]["mem"][p]))
            if torn is not None:
                return (p, sends[-1], *torn)
        return None

    def explain_no_torn_page(self, ev: VhostEvents) -> list[str]:
        found = self.torn_send(ev)
        if found is None:
            return []
        h, n = ev.h, self.names
        p, s, w1, c1, k1, w2, k2, c2 = found
        why = self.why_unsent(ev, k2, p)
        return [f"Page {p}'s last send ({s.label}, {s.steps}) is torn: QEMU copied {n.word_name(p, w1)} at step {c1}, "
                f"then {n.writer(h.who(k1))} wrote it at step {k1}"
                + (f" and wrote {n.word_name(p, w2)} at step {k2}" if (k2, w2) != (k1, w1) else "")
                + f", which the copy read only at step {c2}: the target holds the first word from before those "
                "writes and the second from after them, a state the source page never had.",
                *([upper(why) + "."] if why else [])]

    def explain_quiescent_after_stop(self, ev: VhostEvents) -> list[str]:
        h, n = ev.h, self.names
        k = ev.became(lambda v: v["late_write"])
        stop = ev.stop_point
        if k is None or stop is None:
            return []
        before, after = h.vals[k - 1]["mem"], h.vals[k]["mem"]
        changed = [(p, w) for p in ev.pages for w in range(len(after[p])) if before[p][w] != after[p][w]]
        who = upper(n.writer(h.who(k)))
        did = f"wrote {n.word_name(*changed[0])}" if changed else f"made a log mark (`{h.text(k)}`)"
        out = [f"{who} {did} at step {k}, after {ev.stop_label()}"
               + (f" and after QEMU's last read of its log (log_put) at step {ev.log_put}"
                  if ev.log_put is not None and ev.log_put < k and n.device() == "Vhost" else "") + "."]
        busy = h.vals[stop - 1]["busy"]
        r = h.vals[stop - 1]["be_req"]
        if busy and n.device() == "Vhost" and n.default("get_vring_base"):
            popped = ev.became(lambda v: v["stage"][r] == h.enum("stage", "Popped"))
            drain = n.member("DRAIN")
            rule = {"ReplyThenComplete": "replies to GET_VRING_BASE at once and completes its I/O afterwards",
                    "SkipDrainRecordInflight": "skips the drain at GET_VRING_BASE and leaves its I/O to the "
                                               "inflight region",
                    "DrainWithTimeout": "gives up waiting for its I/O at GET_VRING_BASE after its timeout"}.get(drain)
            if rule is not None:
                out.append(f"The back-end {rule} (DRAIN = {drain}): it had not finished with request {r}"
                           + (f", popped at step {popped}" if popped is not None else "")
                           + f", when GET_VRING_BASE replied at step {stop}.")
        return out
