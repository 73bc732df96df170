"""Counterexamples of the Xen vocabulary's properties, explained in Xen's words.

Takes a trace of a model that uses `xen` (its states, read through the
layout by variable name) and the model's constants; gives one or two
sentences that name the page, the write, the actor, the pass and the reason
the bitmap missed it. Everything is computed from the trace: which step last
wrote the word, the page's last send, the bitmap reads around them, the
mapping the write went through and when it was unmapped. Nothing is written
per model. A lasso of a liveness property is explained by `domain.xen_liveness`:
who waits for ever, for what, and under which fairness. Also lays a trace out
on a timeline for pictures (`annotate`), with the words its legend gives each
kind of mark (`LEGEND`). Imports `compile.ir`, `compile.model`, `domain.history`,
`domain.waits`, `domain.xen_liveness`, `lang.types`, `trace.timeline`, `trace.types`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from quiesce_check.compile import ir as I
from quiesce_check.compile.model import ModelInfo
from quiesce_check.domain.history import History
from quiesce_check.domain.waits import value_of
from quiesce_check.domain.xen_liveness import LivenessWords
from quiesce_check.lang.types import TArray, TEnum, Type, Value
from quiesce_check.trace.timeline import Highlight, Mark, Moment, Row, Span, Timeline
from quiesce_check.trace.types import Trace


@dataclass(frozen=True)
class Send:
    """One send of a page: the steps of its first and last word, the pass it belonged to."""

    first: int
    last: int
    label: str


# What each kind of mark `annotate` draws means, in the order a legend lists them.
LEGEND = {
    "early": "a write before log-dirty is on",
    "send": "the toolstack copies a word",
    "mark": "a write Xen marks",
    "write": "a write Xen does not mark",
    "late": "a write after the final CLEAN",
}


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def on_target(h: History, k: int) -> bool:
    """Whether step k is of a process that runs only on the target: the vocabulary's
    TargetFrontend, or one whose steps first wait for a condition on `resumed` that is false
    before the target is unpaused (a model's own `process ... when resumed`)."""
    action = h.info.actions[h.trace.steps[k - 1].action]
    if action.process == "TargetFrontend":
        return True
    place = next((v for v in h.info.layout.places if v.name == "resumed"), None)
    for stmt in action.body:   # its conditions come first: the program counter's, then the `when`
        if not isinstance(stmt, I.Guard):
            return False
        if place is not None and place.base in slots_read(stmt.cond) and value_of(stmt.cond, h.trace.states[0]) is False:
            return True
    return False


def slots_read(e: I.Expr) -> set[int]:
    """The state slots an expression reads."""
    if isinstance(e, I.Slot):
        return {e.index}
    if isinstance(e, I.Table):
        return set(e.slots) | slots_read(e.index)
    if isinstance(e, I.Checked | I.Un):
        return slots_read(e.index if isinstance(e, I.Checked) else e.a)
    if isinstance(e, I.Bin):
        return slots_read(e.a) | slots_read(e.b)
    if isinstance(e, I.Ite):
        return slots_read(e.cond) | slots_read(e.then) | slots_read(e.orelse)
    if isinstance(e, I.Count):
        return set().union(*(slots_read(t) for t in e.terms))
    return set()


class XenExplainer:
    def __init__(self, consts: Mapping[str, tuple[Value, Type]]) -> None:
        self.consts = {name: value for name, (value, _) in consts.items()}
        self.const_types = {name: t for name, (_, t) in consts.items()}
        self.lasso = LivenessWords(self)

    # names ---------------------------------------------------------------------
    def const(self, name: str, default: Any = None) -> Any:
        return self.consts.get(name, default)

    def member(self, name: str) -> str:
        t = self.const_types.get(name)
        v = self.consts.get(name)
        return t.members[v] if isinstance(t, TEnum) and isinstance(v, int) else str(v)

    def word_name(self, p: int, w: int) -> str:
        """`word 1 of page 0 (the ring's rsp_prod)`; `word 0 of page 3 (ring 1's slot 1 id)`."""
        found = self.ring_word(p, w)
        if found is None:
            return f"word {w} of page {p}"
        k, offset = found
        indices = {"REQ_PROD_AT": "req_prod", "RSP_PROD_AT": "rsp_prod"}
        if self.const("CONS_IN_PAGE"):   # xs_wire.h keeps the consumer indices in the page too
            indices.update({"REQ_CONS_AT": "req_cons", "RSP_CONS_AT": "rsp_cons"})
        role = next((name for at, name in indices.items() if offset == self.const(at)), None)
        if role is None:
            base, size, slots = self.const("SLOTS_AT", 0), self.const("SLOT_WORDS", 2), self.const("SLOTS", 1)
            i, j = divmod(offset - base, size)
            role = f"slot {i} {'id' if j == 0 else 'operation or status'}" if 0 <= i < slots else "words"
        whose = "the ring's" if (self.const("RINGS") or 1) == 1 else f"ring {k}'s"
        return f"word {w} of page {p} ({whose} {role})"

    def ring_word(self, p: int, w: int) -> tuple[int, int] | None:
        """(ring, offset): the ring page p belongs to, and word w's offset from that ring's first
        word (a ring's slots run on across its pages); None if p is no ring's page."""
        starts = self.const("RING_AT")
        if not isinstance(starts, tuple):
            starts = (self.const("RING"),)
        pages, words = self.const("RING_PAGES") or 1, self.const("WORDS") or 0
        for k, start in enumerate(starts):
            if isinstance(start, int) and start <= p < start + pages:
                return k, (p - start) * words + w
        return None

    def page_words(self, p: int) -> int:
        words = self.const("PAGE_WORDS")
        return int(words[p]) if isinstance(words, tuple) else 0

    def watched(self, p: int) -> bool:
        w = self.const("WATCHED")
        return bool(w[p]) if isinstance(w, tuple) else True

    # events --------------------------------------------------------------------
    def sends(self, h: History, p: int) -> list[Send]:
        """Every send of page p in the trace: from the step that starts it to the one that ends it."""
        none = len(h.at(0, "mem"))
        out: list[Send] = []
        start: int | None = None
        for k in range(1, h.n + 1):
            before, after = h.vals[k - 1], h.vals[k]
            if before["sending"] != p and after["sending"] == p:
                start = k
            if before["todo"][p] and not after["todo"][p] and (before["sending"] == p or after["sending"] == p
                                                               or before["sending"] == none):
                first = start if start is not None else k
                out.append(Send(first, k, self.pass_label(h, k)))
                start = None
        return out

    def pass_label(self, h: History, k: int) -> str:
        if h.at(k, "final_read"):
            return "the final pass"
        n = h.at(k, "pass")
        return "pass 0" if n == 0 else f"live pass {n}"

    def copy_step(self, h: History, send: Send, w: int) -> int | None:
        """The step of `send` that read word w."""
        for k in range(send.first, send.last + 1):
            before, after = h.vals[k - 1]["copied"], h.vals[k]["copied"]
            if after[w] and not before[w]:
                return k
            if k == send.last and not before[w]:
                return k  # the last word: `copied` is cleared by the same step
        return None

    def final_clean(self, h: History) -> int | None:
        return h.first_change(lambda v: v["final_read"])

    def how_written(self, h: History, k: int, p: int) -> tuple[str, str]:
        """How step k wrote page p: (phrase, kind) with kind guest | copy | foreign | grant | other."""
        before, after = h.vals[k - 1], h.vals[k]
        if after["dirty"][p] and not before["dirty"][p]:
            return "with a write Xen marked", "guest"
        if "copy_write" in h.text(k):
            return "by grant copy", "copy"
        for index, m in enumerate(before["mapping"]):
            live, pfn, writable, foreign = m
            if live and pfn == p and writable:
                if foreign:
                    return f"through its foreign mapping {index}", "foreign"
                return f"through grant mapping {index}", "grant"
        return "with a write Xen does not log", "other"

    def why_missed(self, h: History, k: int, p: int, kind: str, final: int | None) -> str:
        """Why no bitmap read after step k named page p."""
        late = final is not None and k > final
        mech = self.mechanism(h, k, p, kind, final)
        if late:
            return (f"it came after the final CLEAN (step {final}), the bitmap's last read"
                    + (f"; and {mech}" if mech else ""))
        if mech:
            return f"{mech}, so the final pass did not send page {p} again"
        return f"no bitmap read after it named page {p}"

    def mechanism(self, h: History, k: int, p: int, kind: str, final: int | None) -> str:
        """What kept Xen from marking page p for the write at step k, or ""."""
        where = f"the final CLEAN (step {final})" if final is not None else "the bitmap's last read"
        if kind == "foreign":
            return "Xen never logs a write through a foreign mapping"
        if kind == "grant":
            index = next(i for i, m in enumerate(h.at(k - 1, "mapping")) if m[0] and m[1] == p and m[2] and not m[3])
            unmapped = h.first_change(lambda v: v["mapping"][index][0], k)
            if unmapped is not None and h.at(unmapped, "source") == h.enum("source", "Destroyed"):
                when = f"released only when the source was destroyed (step {unmapped})"
            elif unmapped is not None and (final is None or unmapped > final):
                when = f"unmapped only at step {unmapped}, after {where}"
            elif unmapped is None:
                when = f"still in place when {where} read the bitmap"
            else:
                return ""
            return f"Xen logs a write through a grant mapping only when it is unmapped, and mapping {index} was {when}"
        if kind == "copy":
            mark = h.first_change(lambda v: v["dirty"][p], k)
            if mark is None:
                return f"Xen marks a grant copy's destination after its words, and this mark had not landed by {where}"
            if final is not None and mark > final:
                return f"Xen marked the grant copy's destination only at step {mark}, after {where}"
        return ""

    # properties ----------------------------------------------------------------
    def explain(self, info: ModelInfo, trace: Trace) -> list[str]:
        if trace.kind not in ("invariant", "final", "liveness") or (trace.kind == "liveness" and trace.loop is None):
            return []
        try:
            h = History(info, trace)
            method = getattr(self if trace.kind != "liveness" else self.lasso, f"explain_{trace.property}", None)
            return method(h) if method is not None else []
        except (KeyError, IndexError, StopIteration, TypeError, ValueError):
            return []  # a model that changed the vocabulary's state beyond recognition: the table says it all

    def escaping_write(self, h: History) -> tuple[int, int, int] | None:
        """(page, word, step): a watched word the target got wrong, and the source's last write to it."""
        last = h.vals[-1]
        bad = [(p, w) for p in range(len(last["mem"])) if self.watched(p)
               for w in range(len(last["mem"][p])) if last["tgt"][p][w] != last["mem"][p][w]]
        for p, w in bad:
            writes = h.steps_changing(lambda v, p=p, w=w: v["mem"][p][w])
            if writes:
                return p, w, writes[-1]
        return None

    def explain_image_consistent(self, h: History) -> list[str]:
        found = self.escaping_write(h)
        if found is None:
            return []
        p, w, k = found
        last = h.vals[-1]
        how, kind = self.how_written(h, k, p)
        final = self.final_clean(h)
        sends = [s for s in self.sends(h, p) if s.last < k or (s.first <= k <= s.last)]
        first = f"{_upper(self.word_name(p, w))} was written by {h.who(k)} {how} at step {k}"
        if sends:
            s = sends[-1]
            copied = self.copy_step(h, s, w)
            if s.last < k:
                first += f", after the page's last send (steps {s.first}-{s.last}, {s.label})"
            elif copied is not None and copied < k:
                first += f", after the page's last send (steps {s.first}-{s.last}, {s.label}) had copied it at step {copied}"
        return [first + ";", self.why_missed(h, k, p, kind, final) + ".",
                f"The target holds {last['tgt'][p][w]} there; the source's last write left {last['mem'][p][w]}."]

    def torn_send(self, h: History) -> tuple[int, Send, int, int, int, int, int, int] | None:
        """(page, send, w1, c1, k1, w2, k2, c2): a watched page's last send that read word w1 at
        step c1, which was written at step k1 >= c1, while word w2 was written at step k2 >= k1
        and read only at step c2 > k2: the target holds a page the source never had."""
        last = h.vals[-1]
        for p in range(len(last["torn"])):
            if not (last["torn"][p] and self.watched(p)):
                continue
            sends = self.sends(h, p)
            if not sends:
                continue
            s = sends[-1]
            copy_at = {w: self.copy_step(h, s, w) for w in range(self.page_words(p) or len(last["mem"][p]))}
            writes = [(k, w) for k in range(s.first, s.last + 1) for w in copy_at
                      if h.vals[k - 1]["mem"][p][w] != h.vals[k]["mem"][p][w]]
            for k1, w1 in writes:
                c1 = copy_at.get(w1)
                if c1 is None or c1 >= k1:
                    continue  # not yet copied when written
                for k2, w2 in writes:
                    c2 = copy_at.get(w2)
                    if k2 >= k1 and c2 is not None and c2 > k2:
                        return p, s, w1, c1, k1, w2, k2, c2
        return None

    def explain_no_torn_page(self, h: History) -> list[str]:
        found = self.torn_send(h)
        if found is None:
            return []
        p, s, w1, c1, k1, w2, k2, c2 = found
        how, kind = self.how_written(h, k1, p)
        return [
            f"Page {p}'s last send ({s.label}, steps {s.first}-{s.last}) is torn: it copied "
            f"{self.word_name(p, w1)} at step {c1}, then {h.who(k1)} wrote it {how} at step {k1}"
            + (f" and wrote {self.word_name(p, w2)} at step {k2}" if (k2, w2) != (k1, w1) else "")
            + f", which the copy read only at step {c2}: the target holds the first word from before "
            "those writes and the second from after them, a state the source page never had.",
            _upper(self.why_missed(h, k1, p, kind, self.final_clean(h))) + ".",
        ]

    def explain_quiescent_after_suspend(self, h: History) -> list[str]:
        k = h.first_change(lambda v: v["late_write"])
        final = self.final_clean(h)
        if k is None or final is None:
            return []
        before, after = h.vals[k - 1]["mem"], h.vals[k]["mem"]
        changed = [(p, w) for p in range(len(after)) for w in range(len(after[p])) if before[p][w] != after[p][w]]
        what = self.word_name(*changed[0]) if changed else "guest memory"
        suspended = h.first_change(lambda v: v["source"])
        return [f"{h.who(k)} wrote {what} at step {k} (`{h.text(k)}`), after the final CLEAN at step {final}"
                + (f" (the guest was suspended at step {suspended})" if suspended is not None else "") + ";",
                "the bitmap is not read again after that CLEAN, so the write is never marked: it reaches the "
                "target only if the final pass happens to copy that word after it."]

    def explain_no_lost_completion(self, h: History) -> list[str]:
        last = h.vals[-1]
        outstanding = h.enum("shadow", "Outstanding")
        g = h.first_change(lambda v: v["garbage_seen"])
        if last["garbage_seen"] and g is not None:
            return [f"On the target, step {g} (`{h.text(g)}`) found a slot of the migrated ring that is not what "
                    "the ring's indices say it is (a response where a request should be, or the reverse):",
                    "the ring page reached the target stale or torn, and a frontend that reuses the ring trusts it."]
        suspended = h.first_change(lambda v: v["source"])
        for r, state in enumerate(last["shadow"]):
            if state == outstanding:
                return [f"Request {r} was still outstanding when the guest was suspended"
                        + (f" (step {suspended})" if suspended is not None else "")
                        + f", and after the target resumed nothing issued it again or failed it "
                        f"(recovery: {self.member('RECOVERY')}): the guest waits for it forever."]
        completed = {h.enum("shadow", "Completed"), h.enum("shadow", "CompletedFromImage")}
        for r, state in enumerate(last["shadow"]):
            # a response taken on the source: the data is where the guest put it; one taken from
            # the migrated ring: where the device put it (the target's frontend copies it from there)
            pages = self.const("REQ_PAGE" if state == h.enum("shadow", "CompletedFromImage") else "RESULT_PAGE") or ()
            if state in completed and r < len(pages):
                p = int(pages[r])
                want = r + 1
                words = self.page_words(p)
                wrong = [w for w in range(words) if last["tgt"][p][w] != want]
                if wrong:
                    seen = h.first_change(lambda v, r=r: v["shadow"][r] in completed)
                    return [f"The guest saw request {r} complete" + (f" at step {seen}" if seen else "")
                            + f", but on the target its data page {p} holds {list(last['tgt'][p][:words])}, "
                            f"not its data {want}:"] + self.explain_image_word(h, p, wrong[0])
        return []

    def explain_image_word(self, h: History, p: int, w: int) -> list[str]:
        writes = h.steps_changing(lambda v: v["mem"][p][w])
        if not writes:
            return [f"{self.word_name(p, w)} was never written on the source: the data went elsewhere."]
        k = writes[-1]
        how, kind = self.how_written(h, k, p)
        return [f"{self.word_name(p, w)} was written by {h.who(k)} {how} at step {k};",
                self.why_missed(h, k, p, kind, self.final_clean(h)) + "."]

    def explain_no_duplicate_execution(self, h: History) -> list[str]:
        k = h.first_change(lambda v: v["duplicated"])
        if k is None:
            return []
        before, after = h.vals[k - 1]["executed"], h.vals[k]["executed"]
        again = [r for r in range(len(after)) if after[r] != before[r]]
        if not again:
            return []
        r = again[0]
        completed = {h.enum("shadow", m) for m in ("Completed", "CompletedFromImage", "Reissued")}
        if h.vals[k - 1]["shadow"][r] in completed:
            seen = h.first_change(lambda v: v["shadow"][r] in completed)
            where = " on the target" if h.vals[k - 1]["shadow"][r] == h.enum("shadow", "Reissued") else ""
            why = f"although the guest had seen it complete{where} at step {seen}"
        else:
            why = "and it is not idempotent: running it twice is not the same as once"
        first = h.first_change(lambda v: v["executed"][r] > 0)
        if first is None:
            return []
        out = [f"Request {r} was executed at step {first} by {self.executor(h, first)} and again at step {k} by "
               f"{self.executor(h, k)}, {why}."]
        ops = self.const("REQ_OP") or ()
        # the disk: a block request's (xs_wire.h's layout is xenstore's, whose requests touch no disk)
        block = self.member("RING_LAYOUT") != "DataFirst"
        if h.at(k - 1, "resumed") and not on_target(h, k) and block and r < len(ops):
            if ops[r] == self.member_value("REQ_OP", "Read"):
                out.append("A READ run again on the source writes only the source's memory; the same "
                           "interleaving with a WRITE puts a stale write on the shared disk after the guest "
                           "saw that request complete.")
            else:
                out.append("The stale WRITE reaches the shared disk after the guest saw it complete, and can "
                           "overwrite what the guest wrote since.")
        return out

    def member_value(self, const: str, member: str) -> int | None:
        """The value of enum `member` of the element type of constant `const`."""
        t = self.const_types.get(const)
        while isinstance(t, TArray):
            t = t.elem
        return t.members.index(member) if isinstance(t, TEnum) and member in t.members else None

    def executor(self, h: History, k: int) -> str:
        """Who ran a request at step k: a source backend, or the target's (reached through recovery,
        or a process of the model's own that runs only once the target is unpaused)."""
        who = h.who(k)
        if h.at(k - 1, "resumed") and who == "TargetFrontend":
            return "the target's backend (the frontend's recovery issued it again)"
        if on_target(h, k):
            return f"{who}, on the target"
        if h.at(k - 1, "resumed"):
            return f"{who}, on the source, which still serves the old ring until the source is destroyed"
        return who

    # pictures --------------------------------------------------------------------
    def annotate(self, info: ModelInfo, trace: Trace, tl: Timeline) -> Timeline:
        """The timeline with what the vocabulary knows: the passes, the bitmap reads and the
        domain's moments, each page on the source and on the target, and the step to look at."""
        try:
            h = History(info, trace)
            return self._annotate(h, tl)
        except (KeyError, IndexError, StopIteration, TypeError, ValueError):
            return tl

    def _annotate(self, h: History, tl: Timeline) -> Timeline:
        pages = range(len(h.vals[0]["mem"]))
        by_pass: dict[str, list[int]] = {}
        sends: dict[int, list[Send]] = {}
        for p in pages:
            sends[p] = self.sends(h, p)
            for s in sends[p]:
                by_pass.setdefault(s.label, []).extend((s.first, s.last))
        spans = [Span(min(v), max(v), label) for label, v in by_pass.items()]
        moments = []
        for step in h.steps_changing(lambda v: v["pass"]):
            moments.append(Moment(step, "CLEAN", "clean"))
        for at, label, kind in ((h.first_change(lambda v: v["logdirty"]), "log-dirty on", "event"),
                                (h.first_change(lambda v: v["source"]), "suspend", "suspend"),
                                (self.final_clean(h), "final CLEAN", "final"),
                                (h.first_change(lambda v: v["resumed"]), "target resumes", "resume")):
            if at is not None:
                moments.append(Moment(at, label, kind))
        destroyed = h.enum("source", "Destroyed")
        gone = h.first_change(lambda v: v["source"] == destroyed)
        if gone is not None:
            moments.append(Moment(gone, "source destroyed", "destroy"))
        rows = []
        sep = "" if self.const("MAXVAL", 10) < 10 else ","

        def words(v: dict[str, Any], var: str, p: int, n: int) -> str:
            return sep.join(str(x) for x in v[var][p][:n])

        for p in pages:
            n = self.page_words(p) or len(h.vals[0]["mem"][p])
            name = f"page {p}" + (" (ring)" if p == self.const("RING") else "")
            rows.append(Row(f"{name} source", tuple(words(v, "mem", p, n) for v in h.vals), "source", name))
            rows.append(Row(f"{name} target", tuple(words(v, "tgt", p, n) for v in h.vals), "target", name))
        marks = []
        final = self.final_clean(h)
        for m in tl.marks:
            k = m.step
            if k > h.n:
                marks.append(m)
                continue
            before, after = h.vals[k - 1], h.vals[k]
            kind = m.kind
            if before["tgt"] != after["tgt"] or before["copied"] != after["copied"] or before["todo"] != after["todo"]:
                kind = "send"
            if before["mem"] != after["mem"]:
                marked = any(after["dirty"][p] and not before["dirty"][p] for p in pages)
                if final is not None and k > final:
                    kind = "late"
                elif not before["logdirty"] and before["phase"] == h.enum("phase", "Setup"):
                    kind = "early"  # before migration began: pass 0 sends every page anyway
                else:
                    kind = "mark" if marked else "write"
            marks.append(Mark(k, m.lane, m.label, kind))
        highlights = []
        prop = h.trace.property
        if prop == "image_consistent" and (found := self.escaping_write(h)) is not None:
            p, w, k = found
            name = f"page {p}" + (" (ring)" if p == self.const("RING") else "")
            highlights.append(Highlight(k, h.who(k), " ".join(self.explain_image_consistent(h)), "escape",
                                        f"{name} source"))
        elif prop == "no_torn_page" and (torn := self.torn_send(h)) is not None:
            p, s, _, _, k1, _, k2, _ = torn
            name = f"page {p}" + (" (ring)" if p == self.const("RING") else "")
            text = " ".join(self.explain_no_torn_page(h))
            highlights.append(Highlight(k1, h.who(k1), text, "torn", f"{name} source"))
            if k2 != k1:
                highlights.append(Highlight(k2, h.who(k2), "", "torn", f"{name} source"))
            spans.append(Span(s.first, s.last, f"torn send of page {p}", "torn"))
        elif prop == "quiescent_after_suspend" and (late := h.first_change(lambda v: v["late_write"])) is not None:
            highlights.append(Highlight(late, h.who(late), " ".join(self.explain_quiescent_after_suspend(h)), "late"))
        else:
            text = " ".join(self.explain(h.info, h.trace))
            if text and h.n >= 1:
                highlights.append(Highlight(h.n, h.who(h.n), text, "other"))
        return Timeline(tl.steps, tl.lanes, marks, tl.spans + spans, tl.moments + sorted(moments, key=lambda m: m.step),
                        tl.rows + rows, tl.highlights + highlights, {**tl.legend, **LEGEND})
