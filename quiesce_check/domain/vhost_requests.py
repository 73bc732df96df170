"""The vhost vocabulary's request properties in QEMU's words: lost completions, requests run twice.

Takes the `VhostEvents` of a counterexample; gives the sentences of
`no_lost_completion` (a request the guest saw complete whose buffer reached the
target without its data, with why no sync took the page again; a request popped
on the source that neither host completes, with the target's start at the
migrated last_avail_idx N and the image's used->idx M, and when the used ring's
element and index were written against the final copy of the used ring's page)
and `no_duplicate_execution` (a request run on both hosts). `RequestWords` is a
mixin of `VhostExplainer`, whose `names`, `why_unsent` and `last_send` it uses.
Imports `domain.history`, `domain.vhost_events`, `domain.vhost_names` (types).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quiesce_check.domain.history import Send
from quiesce_check.domain.vhost_events import VhostEvents

if TYPE_CHECKING:
    from quiesce_check.domain.vhost_names import VhostNames


class RequestWords:
    names: VhostNames

    def why_unsent(self, ev: VhostEvents, k: int, p: int) -> str:
        raise NotImplementedError

    def last_send(self, ev: VhostEvents, p: int, before: int) -> Send | None:
        raise NotImplementedError

    def in_image_used(self, ev: VhostEvents, r: int) -> bool:
        tgt = ev.h.vals[-1]["tgt"][self.names.const("USED")]
        return any(tgt[1 + i] == r for i in range(min(tgt[0], len(tgt) - 1)))

    def explain_no_lost_completion(self, ev: VhostEvents) -> list[str]:
        h, n = ev.h, self.names
        last = h.vals[-1]
        for r, stage in enumerate(last["stage"]):
            if stage == h.enum("stage", "Unused"):
                continue
            seen = stage == h.enum("stage", "Consumed") or self.in_image_used(ev, r)
            p = n.const("REQ_PAGE")[r]
            data = all(word == r + 1 for word in last["tgt"][p])
            if seen and not data and not last["done_tgt"][r]:
                return self.completed_without_data(ev, r, p)
            if not seen and not last["done_tgt"][r]:
                return self.neither_completes(ev, r)
        return []

    def completed_without_data(self, ev: VhostEvents, r: int, p: int) -> list[str]:
        h, n = ev.h, self.names
        took = ev.became(lambda v: v["stage"][r] == h.enum("stage", "Consumed"))
        how = (f"the guest took its used element at step {took}" if took is not None
               else "the target's copy of the used ring holds its element below used->idx")
        writes = ev.writes(p)
        head = f"Request {r} completed ({how}), but its buffer, {n.page_name(p)}, reached the target without its data"
        if not writes:
            return [head + f": nothing wrote page {p} on the source."]
        k = writes[-1]
        why = self.why_unsent(ev, k, p)
        return [head + f": {n.writer(h.who(k))} wrote it at step {k}" + (f"; {why}." if why else ".")]

    def neither_completes(self, ev: VhostEvents, r: int) -> list[str]:
        h, n = ev.h, self.names
        last = h.vals[-1]
        used = n.const("USED")
        start, image_idx = last["saved_last_avail"], last["tgt"][used][0]
        popped = ev.became(lambda v: v["stage"][r] == h.enum("stage", "Popped"))
        head = (f"Request {r} was popped by the back-end at step {popped}" if popped is not None
                else f"Request {r} was made available")
        out = [head + ", and neither host completed it."]
        if n.default("Target") and start > image_idx:
            out.append(f"The target starts at last_avail_idx {start} (what GET_VRING_BASE returned) with the image's "
                       f"used->idx {image_idx}, so requests in [{image_idx}, {start}) are neither fetched nor completed"
                       + ("; the inflight region is not migrated (TARGET_RESUBMIT_INFLIGHT is off)."
                          if n.const("TARGET_RESUBMIT_INFLIGHT") is False else "."))
        fate = self.used_fate(ev, used)
        if fate:
            out.append(fate)
        return out

    def used_fate(self, ev: VhostEvents, used: int) -> str:
        """When used->idx was written on the source, against the used ring page's final copy (V6 a/b)."""
        h, n = ev.h, self.names
        idx = h.steps_changing(lambda v: v["mem"][used][0])
        s = self.last_send(ev, used, h.n)
        if not idx:
            stop = ev.stop_point
            return (f"The source never published its used element: {ev.stop_label()}, before it did." if stop is not None
                    else "")
        k = idx[-1]
        if s is not None and k > s.last:
            return (f"{n.writer(h.who(k)).capitalize()} wrote used->idx at step {k}, after the used ring page's final "
                    f"copy ({s.steps}, {s.label}): the target's used ring does not show it.")
        return ""

    def explain_no_duplicate_execution(self, ev: VhostEvents) -> list[str]:
        h, n = ev.h, self.names
        k = ev.became(lambda v: v["duplicated"])
        if k is None:
            return []
        r = next(i for i in range(len(h.vals[k]["executed_tgt"]))
                 if h.vals[k]["executed_tgt"][i] != h.vals[k - 1]["executed_tgt"][i])
        src = ev.became(lambda v: v["executed_src"][r] > 0)
        published = h.vals[k]["stage"][r] in (h.enum("stage", "Pushed"), h.enum("stage", "Consumed"))
        why = []
        if published:
            idx = h.steps_changing(lambda v: v["mem"][n.const("USED")][0])
            why.append("its completion had been published on the source"
                       + (f" (used->idx at step {idx[-1]})" if idx else ""))
        idem = n.const("IDEMPOTENT")
        if isinstance(idem, tuple) and not idem[r]:
            why.append("it is not idempotent")
        return [f"Request {r} ran on both hosts: the device ran it on the source"
                + (f" at step {src}" if src is not None else "")
                + f", and {n.writer(h.who(k))} ran it again at step {k}"
                + (", although " + " and ".join(why) if why else "") + "."]
