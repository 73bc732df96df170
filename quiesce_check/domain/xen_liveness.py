"""Lassos of the Xen vocabulary's liveness properties, explained in Xen's words.

Takes the `History` of a liveness counterexample of `migration_completes`,
`backend_eventually_quiesces` or `request_eventually_answered`; gives sentences that say
what never happens and why: at which of its steps the toolstack waits for ever and for
what, where the guest's request stands (on the ring, behind a suspended frontend, on a
target that never resumes), which backend mapping is still live; then who moves round the
cycle (a guest that keeps running: why no deadlock is reported) and who stands still, with
the fairness each would have needed (`domain.waits`). `domain.xen.XenExplainer` holds one and gives it the model's constants
(`Names`). Imports `domain.history`, `domain.waits`.
"""

from __future__ import annotations

from typing import Any, Protocol

from quiesce_check.domain.history import History
from quiesce_check.domain.waits import movers, still, still_sentence


class Names(Protocol):
    """The model's constants, by name (`XenExplainer` is one)."""

    def const(self, name: str, default: Any = None) -> Any: ...

    def member(self, name: str) -> str: ...

    def ring_of(self, p: int) -> tuple[int, int] | None: ...


class LivenessWords:
    """The sentences for the vocabulary's liveness properties."""

    def __init__(self, names: Names) -> None:
        self.const = names.const
        self.member = names.member
        self.ring_of = names.ring_of

    # the toolstack -----------------------------------------------------------------
    def toolstack_wait(self, h: History, k: int) -> str:
        """What the toolstack is doing, for ever, from state k on."""
        v = h.vals[k]
        phase = {h.enum("phase", m): m for m in ("Setup", "Live", "AfterSuspend", "FinalPass", "Resumed", "Done",
                                                 "Cancelled")}
        now = phase[v["phase"]]
        suspended = h.first_change(lambda x: x["source"])
        if now == "Setup":
            return "the toolstack never starts the migration"
        if now == "Live":
            done = not any(v["todo"]) and (v["pass"] == self.const("LIVE_PASSES") or self.const("EARLY_STOP"))
            if done:
                return ("the toolstack has done its live passes and waits for ever to suspend the guest: "
                        "`may_suspend` does not hold (it always does unless the model makes the suspend wait, "
                        "for a quiesce hook's acknowledgement say)")
            return f"the toolstack stays in its live passes (pass {v['pass']}) and never suspends the guest"
        if now == "AfterSuspend":
            if any(c == 2 for c in v["copying"]):
                return (f"the toolstack suspended the guest at step {suspended} and its final CLEAN waits for a "
                        "grant copy's mark that never lands")
            return (f"the toolstack suspended the guest at step {suspended} and waits for ever to read the bitmap "
                    "the last time: `may_read_final` does not hold (it always does unless the model makes the "
                    "final CLEAN wait, for the backends' acknowledgement say)")
        if now == "FinalPass":
            return "the toolstack never finishes the final pass"
        if now == "Cancelled":
            cancelled = h.first_change(lambda x: x["cancelled"])
            return f"the migration was cancelled at step {cancelled} and the source resumed"
        return "the toolstack has resumed the target" if now == "Resumed" else "the migration is over"

    # who moves, who waits ------------------------------------------------------------
    def cycle_lines(self, h: History) -> list[str]:
        """Who moves round the cycle, and who stands still and under which fairness."""
        trace = h.trace
        assert trace.loop is not None
        stutters = trace.loop == len(trace.steps)
        lines = []
        if stutters:
            lines.append(f"From state {trace.loop} on nothing moves.")
        else:
            who = movers(h.info, trace)
            line = (f"Round the cycle (steps {trace.loop + 1}-{len(trace.steps)}) only {', '.join(who)} "
                    f"move{'s' if len(who) == 1 else ''}")
            if h.vals[trace.loop]["source"] == h.enum("source", "Running"):
                line += (": the guest keeps running, so some step is always enabled and no deadlock is "
                         "reported; only a liveness property sees the hang")
            lines.append(line + ".")
        # the toolstack's wait is said in Xen's words; the target's frontend runs only once it resumes
        said = {"Toolstack"} | (set() if h.vals[trace.loop]["resumed"] else {"TargetFrontend"})
        return lines + [still_sentence(s, stutters) for s in still(h.info, trace) if s.process not in said]

    # the properties --------------------------------------------------------------------
    def explain_migration_completes(self, h: History) -> list[str]:
        loop = h.trace.loop
        assert loop is not None
        return [f"The target is never resumed: {self.toolstack_wait(h, loop)}."] + self.cycle_lines(h)

    def live_writers(self, h: History, k: int) -> list[str]:
        """What lets a backend write guest memory in state k: live writable mappings, copies under way."""
        v = h.vals[k]
        out = [self.mapping_name(i, m[1], m[3]) for i, m in enumerate(v["mapping"]) if m[0] and m[2]]
        out += [f"a grant copy into grant {g}" for g, c in enumerate(v["copying"]) if c]
        return out

    def mapping_name(self, h: int, pfn: int, foreign: bool) -> str:
        ring = " (the ring)" if self.ring_of(pfn) is not None else ""
        return f"{'foreign ' if foreign else ''}mapping {h} of page {pfn}{ring}"

    def explain_backend_eventually_quiesces(self, h: History) -> list[str]:
        loop = h.trace.loop
        assert loop is not None
        destroyed = h.enum("source", "Destroyed")
        suspended = h.first_change(lambda x: x["source"])
        if h.vals[loop]["source"] == destroyed:
            gone = h.first_change(lambda x: x["source"] == destroyed)
            if gone is None:
                return []
            held = self.live_writers(h, gone - 1)
            return [f"The backends never quiesce: when the source was destroyed (step {gone}), "
                    + " and ".join(held or ["a writable mapping"]) + " was still in place;",
                    "they stopped writing the guest's memory only because the destruction took their mappings away, "
                    "not by quiescing (unmapping, stopping their grant copies) while the source was suspended."]
        bad = next(k for k in range(loop, h.n + 1) if not self.quiet(h, k))
        held = self.live_writers(h, bad)
        first = (f"After the guest was suspended (step {suspended}), the backends never stop being able to write "
                 f"its memory: " + " and ".join(held) + (" stays" if len(held) == 1 else " stay")
                 + " in place for ever" if held else "")
        return ([first + "."] if first else []) + self.cycle_lines(h)

    @staticmethod
    def quiet(h: History, k: int) -> bool:
        v = h.vals[k]
        return not any(m[0] and m[2] for m in v["mapping"]) and not any(v["copying"])

    def explain_request_eventually_answered(self, h: History) -> list[str]:
        loop = h.trace.loop
        assert loop is not None
        outstanding = h.enum("shadow", "Outstanding")
        waiting = [r for r in range(len(h.vals[loop]["shadow"]))
                   if all(h.vals[k]["shadow"][r] == outstanding for k in range(loop, h.n + 1))]
        if not waiting:
            return []
        r = waiting[0]
        issued = h.first_change(lambda x: x["shadow"][r] == outstanding)
        v = h.vals[loop]
        head = f"Request {r}, which the guest issued at step {issued}, is never answered: "
        if v["resumed"]:
            resumed = h.first_change(lambda x: x["resumed"])
            return [head + f"the target resumed at step {resumed}, and its frontend's recovery "
                    f"({self.member('RECOVERY')}) neither issued it again nor failed it; the guest waits for it for ever."
                    ] + self.cycle_lines(h)
        where = self.ring_status(h, loop)
        if v["source"] == h.enum("source", "Running"):
            return [head + f"{where}, and {self.toolstack_wait(h, loop)}."] + self.cycle_lines(h)
        suspended = h.first_change(lambda x: x["source"])
        return [head + f"{where}; the guest was suspended at step {suspended}, so its frontend cannot take a "
                f"response on the source, and the target, where recovery would answer it, never resumes: "
                f"{self.toolstack_wait(h, loop)}."] + self.cycle_lines(h)

    def ring_status(self, h: History, k: int) -> str:
        """Where the ring stands in state k, from the frontend's side."""
        v = h.vals[k]
        firsts = self.const("RING_AT") or (self.const("RING", 0),)
        rings = [(v["mem"][p][self.const("REQ_PROD_AT", 0)], v["mem"][p][self.const("RSP_PROD_AT", 1)],
                  v["fe_req_prod_pvt"][i], v["fe_rsp_cons"][i]) for i, p in enumerate(firsts)]
        name = (lambda i: "the ring") if len(rings) == 1 else (lambda i: f"ring {i}")
        for i, (_, rsp_prod, _, cons) in enumerate(rings):
            if rsp_prod > cons:
                return (f"a response waits on {name(i)} (rsp_prod {rsp_prod}) that the frontend has not taken "
                        f"(it took {cons})")
        for i, (req_prod, _, pvt, _) in enumerate(rings):
            if pvt > req_prod:
                return f"the frontend queued it but never published it on {name(i)} (req_prod {req_prod})"
        req_prod, rsp_prod = rings[0][0], rings[0][1]
        return f"it is on the ring (req_prod {req_prod}) and no backend answers it (rsp_prod {rsp_prod})"
