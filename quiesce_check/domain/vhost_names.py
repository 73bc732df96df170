"""What a model that uses `vhost` is, as its explanations need it: constants, pages, overrides.

Takes the model's constants and the code of the files it was built from; gives
`VhostNames`: a constant or enum member by name, a page's role (the available
ring, the used ring, a request's buffer), a word's name (`word 0 of page 1 (the
used ring's used->idx)`), what writes behind the guest (a vhost or vhost-user
back-end, a vDPA device, a VFIO device), and which of the vocabulary's steps the
model overrides (then an explanation states what the trace shows, not the
vocabulary's default rule). Also declares every name of the vocabulary the
explainer reads (a test holds each to vhost.qdl). Imports `domain.constants`.
"""

from __future__ import annotations

from quiesce_check.domain.constants import ModelNames

# The vocabulary's state the explainer reads, by variable name.
VARIABLES = ("mem", "tgt", "sending", "copied", "bmap", "syncs", "phase", "kvm_dirty", "vlog", "vfio_dirty", "qdirty",
             "log_enabled", "log_live", "started", "suspended", "device_reset", "stop_point", "late_write", "torn",
             "stage", "executed_src", "executed_tgt", "done_tgt", "duplicated", "last_avail_idx", "saved_last_avail",
             "saved_inflight", "inflight", "io_cancelled", "target_running", "crashed", "cancelled", "busy", "be_req",
             "vcpus_running")
# ... its constants and parameters
CONSTANTS = ("PAGES", "WORDS", "NREQ", "AVAIL", "USED", "DEVICE", "LOGS_DATA", "LOGS_USED", "LOG_ADDR_OK",
             "ACK_LOG_ENABLE", "DRAIN", "CANCEL_SYNC", "VFIO_TRACKING", "TARGET_RESUBMIT_INFLIGHT", "REQ_PAGE",
             "IDEMPOTENT", "WATCHED")
# ... the enum members it names
MEMBERS = ("Vhost", "Vdpa", "Vfio", "NoTracking", "DeviceLog", "AllDirty", "SkipDrainRecordInflight", "Live",
           "FinalSend", "Unused", "Popped", "DataWritten", "Pushed", "Consumed")
# ... the properties it has sentences for (`explain_<name>`)
PROPERTIES = ("image_consistent", "no_torn_page", "quiescent_after_stop", "no_lost_completion",
              "no_duplicate_execution")
# The vocabulary's steps whose default rule an explanation states (overridable `default`
# declarations): the back-end's log mark, GET_VRING_BASE, log_put, the sync, the target.
STEPS = ("be_write", "be_log", "log_mark", "get_vring_base", "log_put", "sync_dirty", "unmap_used", "Backend",
         "Target")


class VhostNames(ModelNames):
    """The model's constants by name, and what its own files override (`ModelNames`)."""

    # what writes behind the guest ------------------------------------------------------
    def device(self) -> str:
        return self.member("DEVICE")

    def device_phrase(self) -> str:
        """`the back-end`, `the vDPA device`, `the VFIO device`."""
        return {"Vdpa": "the vDPA device", "Vfio": "the VFIO device"}.get(self.device(), "the back-end")

    def writer(self, process: str) -> str:
        """A process's name as a sentence gives it: the vocabulary's Backend is the device."""
        return {"Backend": self.device_phrase(), "Guest": "the guest", "Qemu": "QEMU",
                "Target": "the target's back-end"}.get(process, process)

    # pages and words --------------------------------------------------------------------
    def requests_of(self, p: int) -> list[int]:
        pages = self.const("REQ_PAGE")
        return [r for r, q in enumerate(pages) if q == p] if isinstance(pages, tuple) else []

    def data_page(self, p: int) -> bool:
        return bool(self.requests_of(p)) and p not in (self.const("AVAIL"), self.const("USED"))

    def page_role(self, p: int) -> str:
        if p == self.const("USED"):
            return "the used ring"
        if p == self.const("AVAIL"):
            return "the available ring"
        reqs = self.requests_of(p)
        if reqs:
            return " and ".join(f"request {r}'s buffer" for r in reqs)
        return ""

    def page_name(self, p: int) -> str:
        """`page 2 (request 0's buffer)`."""
        role = self.page_role(p)
        return f"page {p} ({role})" if role else f"page {p}"

    def word_name(self, p: int, w: int) -> str:
        """`word 0 of page 1 (the used ring's used->idx)`, `word 1 of page 2 (request 0's buffer)`."""
        if p == self.const("USED"):
            return f"word {w} of page {p} (the used ring's " + ("used->idx)" if w == 0 else f"element {w - 1})")
        if p == self.const("AVAIL"):
            return f"word {w} of page {p} (the available ring's " + ("avail->idx)" if w == 0 else f"entry {w - 1})")
        role = self.page_role(p)
        return f"word {w} of page {p}" + (f" ({role})" if role else "")

    def watched(self, p: int) -> bool:
        w = self.const("WATCHED")
        return not isinstance(w, tuple) or bool(w[p])
