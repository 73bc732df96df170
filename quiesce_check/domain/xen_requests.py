"""The Xen vocabulary's request properties, explained in Xen's words.

Takes the `Events` of a counterexample of `no_lost_completion`, `no_duplicate_execution`,
`no_lost_watch_event` or `grant_refs_valid`; gives sentences that say which request or
watch event, who ran or took it where (on the source, on the target, after a cancelled
migration), and why it was lost, run twice or failed. `RequestWords` is what
`domain.xen.XenExplainer` adds to its memory sentences for these; the data of a request
is explained by the explainer's own `explain_image_word`. Imports `domain.history`,
`domain.xen_events`, `domain.xen_names`.
"""

from __future__ import annotations

from typing import Any

from quiesce_check.domain.history import History
from quiesce_check.domain.xen_events import Events
from quiesce_check.domain.xen_names import XenNames


class RequestWords:
    """The sentences of the request properties (a base of `XenExplainer`)."""

    names: XenNames
    target_only: frozenset[str]   # the model's processes that run only once the target is unpaused

    def const(self, name: str, default: Any = None) -> Any:
        return self.names.const(name, default)

    def member(self, name: str) -> str:
        return self.names.member(name)

    def explain_image_word(self, ev: Events, p: int, w: int) -> list[str]:
        """Why word w of page p is wrong on the target (the explainer's memory sentences)."""
        raise NotImplementedError

    def garbage_sentences(self, h: History, g: int) -> list[str]:
        """What the frontend's step g, which consumed a message that is no answer, found."""
        if h.at(g - 1, "resumed"):
            return [f"On the target, step {g} (`{h.text(g)}`) found a slot of the migrated ring that is not what "
                    "the ring's indices say it is (a response where a request should be, or the reverse):",
                    "the ring page reached the target stale or torn, and a frontend that reuses the ring trusts it."]
        return [f"On the source, step {g} (`{h.text(g)}`) took a message from the ring that answers no "
                "outstanding request of that ring and is no watch event (blkif_interrupt's \"response has "
                "incorrect id\"): the frontend received garbage."]

    def outstanding_sentence(self, h: History, r: int) -> str:
        """Why request r is still outstanding at the end."""
        suspended = h.first_change(lambda v: v["source"])
        cancelled = h.first_change(lambda v: v["cancelled"])
        if h.vals[-1]["cancelled"] and cancelled is not None:
            outstanding = h.enum("shadow", "Outstanding")
            issued = [k for k in range(1, h.n + 1)
                      if h.vals[k]["shadow"][r] == outstanding and h.vals[k - 1]["shadow"][r] != outstanding]
            when = (f"was still outstanding when the migration was cancelled at step {cancelled} and the source "
                    "resumed with the same ring" if not issued or issued[-1] < cancelled else
                    f"was issued at step {issued[-1]}, after the migration was cancelled at step {cancelled} and the "
                    "source resumed with the same ring")
            return (f"Request {r} {when}, and by the end no response to it had reached the guest on the source: "
                    "the guest waits for it forever.")
        return (f"Request {r} was still outstanding when the guest was suspended"
                + (f" (step {suspended})" if suspended is not None else "")
                + f", and after the target resumed nothing issued it again or failed it "
                f"(recovery: {self.member('RECOVERY')}): the guest waits for it forever.")

    def explain_no_lost_completion(self, ev: Events) -> list[str]:
        h = ev.h
        last = h.vals[-1]
        outstanding = h.enum("shadow", "Outstanding")
        g = h.first_change(lambda v: v["garbage_seen"])
        if last["garbage_seen"] and g is not None:
            return self.garbage_sentences(h, g)
        for r, state in enumerate(last["shadow"]):
            if state == outstanding:
                return [self.outstanding_sentence(h, r)]
        # the guest lives on in the target's memory, or in the source's after a cancelled migration
        image, where = ("mem", "on the source (the migration was cancelled)") if last["cancelled"] else (
            "tgt", "on the target")
        completed = {h.enum("shadow", "Completed"), h.enum("shadow", "CompletedFromImage")}
        for r, state in enumerate(last["shadow"]):
            # a response taken on the source: the data is where the guest put it; one taken from
            # the migrated ring: where the device put it (the target's frontend copies it from there)
            pages = self.const("REQ_PAGE" if state == h.enum("shadow", "CompletedFromImage") else "RESULT_PAGE") or ()
            if state in completed and r < len(pages):
                p = int(pages[r])
                want = r + 1
                words = self.names.page_words(p)
                wrong = [w for w in range(words) if last[image][p][w] != want]
                if wrong:
                    seen = h.first_change(lambda v, r=r: v["shadow"][r] in completed)
                    head = (f"The guest saw request {r} complete" + (f" at step {seen}" if seen else "")
                            + f", but {where} its data page {p} holds {list(last[image][p][:words])}, "
                            f"not its data {want}")
                    if image == "mem":
                        return [head + "."]
                    return [head + ":"] + self.explain_image_word(ev, p, wrong[0])
        return []

    def explain_no_duplicate_execution(self, ev: Events) -> list[str]:
        h = ev.h
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
        return out + self.disk_sentence(h, k, r)

    def explain_no_lost_watch_event(self, ev: Events) -> list[str]:
        h = ev.h
        last = h.vals[-1]
        lost = [w for w, n in enumerate(last["unseen_event"]) if n > 0]
        if not lost:
            return []
        w = lost[0]
        # events are taken in the order they were sent: the ones still unseen are the last fired
        fired = [k for k in range(1, h.n + 1) if h.vals[k]["unseen_event"][w] > h.vals[k - 1]["unseen_event"][w]]
        if not fired:
            return []
        f = fired[-1]
        head = f"{h.who(f)} fired watch {w} at step {f} (`{h.text(f)}`)"
        cancelled = h.first_change(lambda v: v["cancelled"])
        if last["cancelled"] and cancelled is not None:
            return [head + f"; the migration was cancelled at step {cancelled}, and by the end the guest, running "
                    "again on the source, had not taken the event from its ring."]
        resumed = ev.resumed_at()
        if resumed is None:
            return []
        recovery = self.member("RECOVERY")
        reregister = "does not register its watches again (xs_resume does, and each then fires once)"
        image = self.event_on_ring(h, w, "tgt", h.n)
        zeroed = self.zeroed_ring(h, w, resumed)
        if zeroed is not None:
            where = (f"The stream carried it ({zeroed}), but the guest is HVM and its restore zeroed the page "
                     f"(ZEROED_ON_RESTORE), and the target's frontend (recovery: {recovery}) {reregister}")
        elif image is not None:
            where = (f"The migrated ring holds it ({image}), but the target's frontend (recovery: {recovery}) "
                     f"does not take it from there and {reregister}")
        elif self.event_on_ring(h, w, "mem", resumed) is not None:
            where = ("The source's ring held it when the target resumed, but the migrated page does not: the "
                     f"page's last send came before the event was written; and the target's frontend (recovery: "
                     f"{recovery}) {reregister}")
        else:
            where = (f"It was not on the ring when the target resumed, and the target's frontend (recovery: "
                     f"{recovery}) {reregister}")
        return [head + f", and the guest had not taken it when the target resumed at step {resumed}.",
                where + ": the guest never learns that the node changed."]

    def zeroed_ring(self, h: History, w: int, resumed: int) -> str | None:
        """Where the image held an event for watch w just before the restore zeroed its page, if so."""
        zeroed = self.const("ZEROED_ON_RESTORE") or ()
        firsts = self.const("RING_AT") or ()
        if not any(first < len(zeroed) and zeroed[first] for first in firsts):
            return None
        return self.event_on_ring(h, w, "tgt", resumed - 1)

    def event_on_ring(self, h: History, w: int, image: str, k: int) -> str | None:
        """Where the rings of `image` (mem or tgt) in state k hold an event for watch w below their
        rsp_prod and at or after the frontend's rsp_cons, if they do."""
        v = h.vals[k]
        event, words, rsp = self.const("MSG_EVENT"), self.const("WORDS"), self.const("RSP_PROD_AT")
        base, size, slots = self.const("SLOTS_AT"), self.const("SLOT_WORDS"), self.const("SLOTS")
        firsts = self.const("RING_AT") or ()
        for r, first in enumerate(firsts):
            for i in range(v["fe_rsp_cons"][r], v[image][first][rsp]):
                page, word = divmod(base + (i % slots) * size, words)
                slot = v[image][first + page]
                if slot[word] == w and slot[word + 1] == event:
                    return f"slot {i % slots} of ring {r}" if len(firsts) > 1 else f"slot {i % slots}"
        return None

    def explain_grant_refs_valid(self, ev: Events) -> list[str]:
        h = ev.h
        k = h.first_change(lambda v: v["bad_gref"])
        if k is None:
            return []
        failed = h.enum("shadow", "Failed")
        r = next((r for r, s in enumerate(h.vals[k]["shadow"]) if s == failed and h.vals[k - 1]["shadow"][r] != failed),
                 None)
        which = f"request {r}" if r is not None else "a request"
        return [f"On the target, step {k} (`{h.text(k)}`) had a backend serve {which} as the source's frontend "
                "issued it: the request names the grant reference of its data page, granted on the source;",
                "grant tables are not migrated (the target rebuilds only the reserved console and xenstore "
                "entries), so the backend's map fails (GNTST_bad_gntref) and the request fails: a frontend that "
                "reuses its old ring must grant its pages again first, as blkif_recover does."]

    def disk_sentence(self, h: History, k: int, r: int) -> list[str]:
        """What a request run again on the source by a block backend does to the disk (of another
        backend the explainer cannot say what a request is)."""
        ops = self.const("REQ_OP") or ()
        who = h.who(k)
        if not (h.at(k - 1, "resumed") and not self.on_target(h, k) and r < len(ops) and self.names.block_backend(who)):
            return []
        if ops[r] == self.names.member_value("REQ_OP", "Read"):
            return ["A READ run again on the source writes only the source's memory; the same interleaving with a "
                    "WRITE puts a stale write on the shared disk after the guest saw that request complete."]
        return ["The stale WRITE reaches the shared disk after the guest saw it complete, and can overwrite what "
                "the guest wrote since."]

    def on_target(self, h: History, k: int) -> bool:
        """Whether step k is of a process that runs only on the target: the vocabulary's
        TargetFrontend, or one of the model's own declared `when resumed`."""
        who = h.who(k).split("[", 1)[0]
        return who == "TargetFrontend" or who in self.target_only

    def executor(self, h: History, k: int) -> str:
        """Who ran a request at step k: a source backend, or the target's (reached through recovery)."""
        who = h.who(k)
        if h.at(k - 1, "resumed") and who == "TargetFrontend":
            return "the target's backend (the frontend's recovery issued it again)"
        if self.on_target(h, k):
            return f"{who}, on the target"
        if h.at(k - 1, "resumed"):
            serves = "serves the old ring" if self.names.has_ring else "runs"
            return f"{who}, on the source, which still {serves} until the source is destroyed"
        return who
