"""What a trace of a model that uses `xen` says happened, in the vocabulary's terms.

Takes a `History`; gives `Events`: each page's sends (from the step that starts one
to the step that ends it, and the pass it belongs to), the bitmap reads (the
steps that loaded `todo` from `dirty`: each CLEAN, which pages it took and which
it marked itself, as a Xen that marks mapped frames at the final CLEAN does),
the marks of each page (the steps where `dirty[p]` went from false to true, and
what made them: a guest write, an unmap, the end of a grant copy), and how a
step wrote a page (a marked write, a grant copy, a grant or foreign mapping).
Everything is read from the states by variable name. Imports `domain.history`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from quiesce_check.domain.history import History, Send


@dataclass(frozen=True)
class BitmapRead:
    """A step that read the log-dirty bitmap (a CLEAN): the pages it took for the next pass,
    those of them it marked itself (no earlier step had), whether it was the final one."""

    step: int
    took: frozenset[int]
    marked: frozenset[int]
    final: bool

    @property
    def name(self) -> str:
        return "the final CLEAN" if self.final else "the CLEAN"


@dataclass(frozen=True)
class Mark:
    """Step `step` marked page `page` in the bitmap; `cause` says what did (`Guest's write`, `the
    unmap of mapping 0`, `the final CLEAN itself`)."""

    step: int
    page: int
    cause: str


@dataclass(frozen=True)
class Write:
    """How a step wrote a page: `phrase` for a sentence, `kind` (guest | copy | foreign | grant |
    other), and the mapping handle (foreign, grant) or grant reference (copy) it went through."""

    phrase: str
    kind: str
    index: int | None = None


class Events:
    """The vocabulary's events in one trace."""

    def __init__(self, h: History) -> None:
        self.h = h
        self._marks: dict[int, list[Mark]] = {}

    # the toolstack ------------------------------------------------------------------
    def sends(self, p: int) -> list[Send]:
        """Every send of page p in the trace: from the step that starts it to the one that ends it."""
        h = self.h
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
                out.append(Send(first, k, self.pass_label(k)))
                start = None
        return out

    def pass_label(self, k: int) -> str:
        if self.h.at(k, "final_read"):
            resend = self.resend_at
            return "the resend after the final pass" if resend is not None and resend <= k else "the final pass"
        n = self.h.at(k, "pass")
        return "pass 0" if n == 0 else f"live pass {n}"

    def copy_step(self, send: Send, w: int) -> int | None:
        """The step of `send` that read word w."""
        return self.h.copy_step(send, w)

    @cached_property
    def reads(self) -> list[BitmapRead]:
        """Every bitmap read, in order. A read is a step with log-dirty on that begins the final
        pass, ends a live pass, or empties the bitmap into `todo`; it took the pages `todo`
        holds after it, and marked itself those of them neither in the bitmap nor in `todo` before."""
        h = self.h
        out = []
        for k in range(1, h.n + 1):
            b, a = h.vals[k - 1], h.vals[k]
            final = a["final_read"] and not b["final_read"]
            emptied = any(b["dirty"]) and not any(a["dirty"]) and a["todo"] != b["todo"]
            if not b["logdirty"] or not (final or a["pass"] != b["pass"] or emptied):
                continue
            took = frozenset(p for p, t in enumerate(a["todo"]) if t)
            marked = frozenset(p for p in took if not b["dirty"][p] and not b["todo"][p])
            out.append(BitmapRead(k, took, marked, bool(final)))
        return out

    @cached_property
    def final(self) -> BitmapRead | None:
        """The final CLEAN: the step where `final_read` became true."""
        return next((r for r in self.reads if r.final), None)

    def reads_after(self, k: int) -> list[BitmapRead]:
        return [r for r in self.reads if r.step > k]

    @cached_property
    def resend_at(self) -> int | None:
        """The step that loaded pages to send again after the final pass (`RESEND`): `todo` went from
        empty to not, after the final CLEAN, with no bitmap read."""
        h = self.h
        for k in range(1, h.n + 1):
            b, a = h.vals[k - 1], h.vals[k]
            if b["final_read"] and not any(b["todo"]) and any(a["todo"]) and b["dirty"] == a["dirty"]:
                return k
        return None

    def resumed_at(self) -> int | None:
        """The step that unpaused the target domain."""
        return self.h.first_change(lambda v: v["resumed"])

    # the bitmap ------------------------------------------------------------------------
    def marks(self, p: int) -> list[Mark]:
        """Every step that marked page p: set its bit, or (a CLEAN) took it without an earlier mark."""
        if p not in self._marks:
            self._marks[p] = self._find_marks(p)
        return self._marks[p]

    def _find_marks(self, p: int) -> list[Mark]:
        h = self.h
        reads = {r.step: r for r in self.reads}
        out = []
        for k in range(1, h.n + 1):
            r = reads.get(k)
            if r is not None and p in r.marked:
                out.append(Mark(k, p, self.read_mark_cause(r, p)))
            elif h.vals[k]["dirty"][p] and not h.vals[k - 1]["dirty"][p]:
                out.append(Mark(k, p, self.mark_cause(k, p)))
        return out

    def read_mark_cause(self, r: BitmapRead, p: int) -> str:
        held = self.held_by(r.step, p)
        return f"{r.name} itself" + (f", while mapping {held} held it" if held is not None else "")

    def held_by(self, k: int, p: int) -> int | None:
        """The writable grant mapping of page p live before step k, if there is one."""
        return next((i for i, m in enumerate(self.h.at(k - 1, "mapping")) if m[0] and m[1] == p and m[2] and not m[3]),
                    None)

    def mark_cause(self, k: int, p: int) -> str:
        """What marked page p at step k (which set its bit)."""
        h = self.h
        b, a = h.vals[k - 1], h.vals[k]
        if b["mem"][p] != a["mem"][p]:
            return f"{h.who(k)}'s write"
        for i, (m0, m1) in enumerate(zip(b["mapping"], a["mapping"], strict=True)):
            if m0[0] and not m1[0] and m0[1] == p:
                return f"the unmap of mapping {i}"
        for g, (c0, c1) in enumerate(zip(b["copying"], a["copying"], strict=True)):
            if c0 and not c1 and b["grant"][g][1] == p:
                return f"the end of the grant copy through grant {g}"
        return f"{h.who(k)}'s `{h.text(k)}`"

    # writes ---------------------------------------------------------------------------
    def how_written(self, k: int, p: int) -> Write:
        """How step k wrote page p."""
        h = self.h
        before, after = h.vals[k - 1], h.vals[k]
        if after["dirty"][p] and not before["dirty"][p]:
            return Write("with a write Xen marked", "guest")
        # a copy's first word sets `copying`; a later word, or a copy done in one step, shows in its statement
        copies = [g for g, (valid, pfn, writable) in enumerate(before["grant"]) if valid and writable and pfn == p]
        for g in copies:
            if after["copying"][g] and not before["copying"][g]:
                return Write("by grant copy", "copy", g)
        if copies and "copy_write" in h.text(k):
            return Write("by grant copy", "copy", next((g for g in copies if before["copying"][g]), copies[0]))
        for index, m in enumerate(before["mapping"]):
            live, pfn, writable, foreign = m
            if live and pfn == p and writable:
                if foreign:
                    return Write(f"through its foreign mapping {index}", "foreign", index)
                return Write(f"through grant mapping {index}", "grant", index)
        return Write("with a write Xen does not log", "other")

    def copy_end(self, g: int, k: int) -> int | None:
        """The step from k on that ended the grant copy through grant g, which wrote at step k (its
        mark, if log-dirty is on): k itself for a copy done in one step."""
        if self.h.at(k, "copying")[g] == 0:
            return k
        return self.h.first_change(lambda v: v["copying"][g] == 0, k + 1)

    def unmapped_at(self, index: int, k: int) -> int | None:
        """The first step from k on that took mapping `index` away (step k's write comes before its unmap)."""
        return self.h.first_change(lambda v: v["mapping"][index][0], k)

    def marked_at(self, k: int, p: int) -> bool:
        return any(m.step == k for m in self.marks(p))
