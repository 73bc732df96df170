"""What a model that uses `xen` is, as its explanations need it: constants, ring, overrides.

Takes the model's constants and the texts of the files it was built from; gives
`XenNames`: a constant or enum member by name, whether the model has a ring and
which pages are ring pages (its own files name one of the vocabulary's ring
operations or constants, or its frontend's recovery reads the migrated ring),
a word's name (`word 1 of page 0 (the ring's rsp_prod)`), which of Xen's steps
the model overrides (then an explanation states what the trace shows, not
Xen's default rule), and whether a process is a block backend. Also declares
every name of the vocabulary the explainer reads (a test holds each to
xen.qdl). Imports `domain.constants`, `domain.model_text`, `lang.types`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from quiesce_check.domain.constants import ModelNames
from quiesce_check.domain.model_text import identifiers
from quiesce_check.lang.types import TArray, TEnum, Type, Value

# The vocabulary's state the explainer reads, by variable name.
VARIABLES = ("mem", "tgt", "source", "resumed", "cancelled", "logdirty", "dirty", "grant", "mapping", "phase",
             "pass", "todo", "sending", "copied", "final_read", "torn", "late_write", "copying", "shadow", "executed",
             "duplicated", "garbage_seen", "unseen_event", "event_sent", "bad_gref", "fe_req_prod_pvt",
             "fe_rsp_cons")
# ... its constants and parameters
CONSTANTS = ("PAGE_WORDS", "WATCHED", "WATCH_PAGE", "ZEROED_ON_RESTORE", "REQ_OP", "REQ_PAGE", "RESULT_PAGE",
             "REQ_RING", "RECOVERY", "MAXVAL", "LIVE_PASSES", "EARLY_STOP", "RING", "RINGS", "RING_AT", "RING_PAGES",
             "WORDS", "REQ_PROD_AT", "RSP_PROD_AT", "REQ_CONS_AT", "RSP_CONS_AT", "CONS_IN_PAGE", "SLOTS_AT",
             "SLOT_WORDS", "SLOTS", "MSG_EVENT", "GRANTS_MIGRATED", "PAGES", "RESEND")
# ... the enum members it names
MEMBERS = ("Destroyed", "Setup", "Outstanding", "Completed", "CompletedFromImage", "Reissued", "Read",
           "ReuseRing", "XbInitComms")
# ... the properties it has sentences for (`explain_<name>`)
PROPERTIES = ("image_consistent", "no_torn_page", "quiescent_after_suspend", "no_lost_completion",
              "no_duplicate_execution", "no_lost_watch_event", "grant_refs_valid")
# A model whose own files name one of these has a ring (at RING); one that names none has no
# ring, and its page RING is a page like any other.
RING_NAMES = ("RING", "RINGS", "RING_AT", "RING_PAGES", "REQ_PROD_AT", "RSP_PROD_AT", "REQ_CONS_AT", "RSP_CONS_AT",
              "SLOTS_AT", "SLOT_WORDS", "slot_at", "slot_page", "fe_queue", "fe_push", "fe_push_ring",
              "fe_response_ready", "fe_ready_on", "fe_take_response", "fe_take_from", "be_request_ready",
              "be_ready_on", "ring_id", "ring_id_on", "be_consumed")
# The frontend recoveries in which the vocabulary itself reads the migrated ring.
RING_RECOVERIES = ("ReuseRing", "XbInitComms")
# Xen's steps that decide what the bitmap holds (overridable `default` declarations). What the
# default of each does is said as a rule only when the model keeps it.
XEN_STEPS = ("guest_write", "map_grant", "map_foreign", "unmap", "map_write", "copy_write", "copy_mark",
             "hypervisor_final_clean", "hypervisor_clean")

# A process whose name says it serves a block device (Linux blkback, tapdisk, QEMU's qdisk): a
# request it runs twice reaches a disk. Of any other backend the explainer cannot say what a
# request is.
BLOCK_BACKEND = re.compile(r"blk|tapdisk|qdisk|vbd", re.IGNORECASE)

class XenNames(ModelNames):
    """The model's constants by name, and what its own files say about its ring and its Xen.

    `own` is the code of the files the model was built from other than the vocabulary, or
    None when they are not known: then the model counts as having no ring and as overriding
    every step of Xen (what cannot be known is not said)."""

    def __init__(self, consts: Mapping[str, tuple[Value, Type]], own: str | None) -> None:
        super().__init__(consts, own)
        self.idents = identifiers(own) if own is not None else None
        self.has_ring = self.idents is not None and (bool(self.idents & set(RING_NAMES))
                                                     or self.member("RECOVERY") in RING_RECOVERIES)
        self._ring_pages = self._find_ring_pages() if self.has_ring else {}

    # constants -------------------------------------------------------------------
    def member_value(self, const: str, member: str) -> int | None:
        """The value of enum `member` of the element type of constant `const`."""
        t = self.const_types.get(const)
        while isinstance(t, TArray):
            t = t.elem
        return t.members.index(member) if isinstance(t, TEnum) and member in t.members else None

    def page_words(self, p: int) -> int:
        words = self.const("PAGE_WORDS")
        return int(words[p]) if isinstance(words, tuple) else 0

    def resend_pages(self) -> set[int]:
        """The pages the toolstack sends again after the final pass (RESEND)."""
        r = self.const("RESEND")
        return {p for p, x in enumerate(r) if x} if isinstance(r, tuple) else set()

    def watched(self, p: int) -> bool:
        """Whether the image properties judge page p (the vocabulary's `judged`): WATCHED names it,
        WATCH_PAGE does not narrow them to another page, and the restore does not reset it."""
        w, only, zeroed = self.const("WATCHED"), self.const("WATCH_PAGE"), self.const("ZEROED_ON_RESTORE")
        if isinstance(w, tuple) and not w[p]:
            return False
        if isinstance(only, int) and only != self.const("PAGES") and only != p:
            return False
        return not (isinstance(zeroed, tuple) and zeroed[p])

    # Xen ---------------------------------------------------------------------------
    def block_backend(self, process: str) -> bool:
        """Whether `process` (a shown name, `Blkback` or `Blkback[1]`) serves a block device."""
        return bool(BLOCK_BACKEND.search(process.split("[", 1)[0]))

    # the ring ----------------------------------------------------------------------
    def _find_ring_pages(self) -> dict[int, tuple[int, int]]:
        """Each ring page: (its ring, its place among the ring's pages)."""
        at = self.const("RING_AT")
        if isinstance(at, tuple):
            per = self.const("RING_PAGES", 1)
            per = per if isinstance(per, int) and per > 0 else 1
            return {int(first) + j: (k, j) for k, first in enumerate(at) for j in range(per)}
        ring = self.const("RING")
        return {ring: (0, 0)} if isinstance(ring, int) and not isinstance(ring, bool) else {}

    def ring_of(self, p: int) -> tuple[int, int] | None:
        return self._ring_pages.get(p)

    def _at(self, name: str, ring: int) -> int | None:
        """Constant `name` (a word's place in a ring page) for ring `ring`, if the model has it."""
        v = self.const(name)
        if isinstance(v, tuple):
            v = v[ring] if ring < len(v) else None
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    def ring_role(self, ring: int, page: int, w: int) -> str | None:
        """What word w of the ring's page `page` (0: its first, with the indices) holds, if the
        vocabulary says: the slots run on across the ring's pages (io/ring.h)."""
        roles = [("REQ_PROD_AT", "req_prod"), ("RSP_PROD_AT", "rsp_prod")]
        if self.const("CONS_IN_PAGE"):
            roles += [("REQ_CONS_AT", "req_cons"), ("RSP_CONS_AT", "rsp_cons")]
        for name, role in roles:
            if page == 0 and self._at(name, ring) == w:
                return role
        base, size, slots = self._at("SLOTS_AT", ring), self._at("SLOT_WORDS", ring), self._at("SLOTS", ring)
        words = self.const("WORDS")
        if base is None or not size or slots is None or (page and not isinstance(words, int)):
            return None
        offset = page * (words or 0) + w
        k, j = divmod(offset - base, size)
        return f"slot {k} {'id' if j == 0 else 'operation or status'}" if 0 <= k < slots and offset >= base else None

    def word_name(self, p: int, w: int) -> str:
        """`word 1 of page 0 (the ring's rsp_prod)`; a page that is no ring page has no role."""
        where = self.ring_of(p)
        if where is None:
            return f"word {w} of page {p}"
        k, j = where
        ring = "the ring's" if len({r for r, _ in self._ring_pages.values()}) == 1 else f"ring {k}'s"
        role = self.ring_role(k, j, w)
        return f"word {w} of page {p} ({ring} {role if role else 'words'})"

    def page_name(self, p: int) -> str:
        """`page 0 (ring)` for a ring page, else `page 1`."""
        return f"page {p}" + (" (ring)" if self.ring_of(p) is not None else "")
