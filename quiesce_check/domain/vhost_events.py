"""What a trace of a model that uses `vhost` says happened, in QEMU's terms.

Takes a `History` and the model's `VhostNames`; gives `VhostEvents`: each page's
sends (from the step that took it from QEMU's bitmap, `bmap`, to the step that
read its last word, and the pass it belongs to), the reads of the dirty logs (each
live sync, the device's `log_put`, the final sync: the pages each took and from
which log), the device's stop point and QEMU's last read of the back-end's log,
the start of the target, and the marks of each page (the steps that set it in the
vhost log or the VFIO device's DMA log). Everything is read from the states by
variable name. Imports `domain.history`, `domain.vhost_names`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from quiesce_check.domain.history import History, Send
from quiesce_check.domain.vhost_names import VhostNames


@dataclass(frozen=True)
class LogRead:
    """A step that read dirty logs into QEMU's bitmap: a live sync, the device's `log_put`
    (the last read of the back-end's log) or the final sync; the pages it took."""

    step: int
    kind: str      # sync | log_put | final
    took: frozenset[int]

    @property
    def name(self) -> str:
        return {"sync": "a live sync", "log_put": "log_put", "final": "the final sync"}[self.kind]


class VhostEvents:
    """The vocabulary's events in one trace."""

    def __init__(self, h: History, names: VhostNames) -> None:
        self.h = h
        self.names = names
        self.pages = range(len(h.vals[0]["mem"]))

    def changed(self, k: int, var: str) -> bool:
        return bool(self.h.vals[k - 1][var] != self.h.vals[k][var])

    def became(self, pick: object, start: int = 1) -> int | None:
        """The first step from `start` after which `pick(values)` holds and did not before."""
        h = self.h
        return next((k for k in range(max(1, start), h.n + 1)
                     if pick(h.vals[k]) and not pick(h.vals[k - 1])), None)  # type: ignore[operator]

    # QEMU's passes ----------------------------------------------------------------------
    def sends(self, p: int) -> list[Send]:
        """Every send of page p: from the step that cleared its bit in `bmap` (the send's first
        word) to the step after which QEMU no longer sends it."""
        h = self.h
        out = []
        for k in range(1, h.n + 1):
            if h.vals[k - 1]["bmap"][p] and not h.vals[k]["bmap"][p]:
                last = next((j for j in range(k, h.n + 1) if h.vals[j]["sending"] != p), h.n)
                out.append(Send(k, last, self.pass_label(k)))
        return out

    def pass_label(self, k: int) -> str:
        v = self.h.vals[k]
        if v["phase"] == self.h.enum("phase", "Live"):
            return "pass 0" if v["syncs"] == 0 else f"live pass {v['syncs']}"
        return "the final pass" if v["phase"] == self.h.enum("phase", "FinalSend") else "a pass"

    @cached_property
    def reads(self) -> list[LogRead]:
        h = self.h
        out = []
        all_dirty = self.names.device() == "Vfio" and self.names.member("VFIO_TRACKING") == "AllDirty"
        for k in range(1, h.n + 1):
            b, a = h.vals[k - 1], h.vals[k]
            vhost = b["started"] and b["log_enabled"] and b["log_live"]
            if b["started"] and not a["started"]:
                took = frozenset(p for p in self.pages if vhost and b["vlog"][p])
                out.append(LogRead(k, "log_put", took))
                continue
            final = a["phase"] == h.enum("phase", "FinalSend") and b["phase"] != a["phase"]
            if a["syncs"] == b["syncs"] and not final:
                continue
            took = frozenset(p for p in self.pages if b["kvm_dirty"][p] or b["qdirty"][p] or b["vfio_dirty"][p]
                             or (vhost and b["vlog"][p]) or all_dirty)
            out.append(LogRead(k, "final" if final else "sync", took))
        return out

    def reads_after(self, k: int) -> list[LogRead]:
        return [r for r in self.reads if r.step > k]

    # vm_stop and the target -------------------------------------------------------------
    @cached_property
    def stop_point(self) -> int | None:
        return self.became(lambda v: v["stop_point"])

    def stop_label(self) -> str:
        """What the stop point was: GET_VRING_BASE's reply, the vDPA SUSPEND (or reset), VFIO's STOP."""
        k = self.stop_point
        if k is None:
            return ""
        if self.changed(k, "suspended"):
            if self.names.device() == "Vfio":
                return f"the VFIO device entered STOP at step {k}"
            if self.changed(k, "device_reset"):
                return f"QEMU reset the vDPA device (it has no SUSPEND) at step {k}"
            return f"QEMU suspended the vDPA device (VHOST_VDPA_SUSPEND) at step {k}"
        return f"GET_VRING_BASE replied at step {k}"

    @cached_property
    def log_put(self) -> int | None:
        """QEMU's last read of the back-end's log: the step that stopped the device (`started`)."""
        return next((r.step for r in self.reads if r.kind == "log_put"), None)

    @cached_property
    def final(self) -> int | None:
        return next((r.step for r in self.reads if r.kind == "final"), None)

    @cached_property
    def target_start(self) -> int | None:
        return self.became(lambda v: v["target_running"])

    # the back-end's marks -----------------------------------------------------------------
    def marks(self, p: int, start: int = 1) -> list[int]:
        """The steps from `start` that set page p in the vhost log or the VFIO device's DMA log."""
        h = self.h
        return [k for k in range(max(1, start), h.n + 1)
                if (h.vals[k]["vlog"][p] and not h.vals[k - 1]["vlog"][p])
                or (h.vals[k]["vfio_dirty"][p] and not h.vals[k - 1]["vfio_dirty"][p])]

    def writes(self, p: int, w: int | None = None) -> list[int]:
        """The steps that changed page p (word w of it)."""
        h = self.h
        return h.steps_changing(lambda v: v["mem"][p] if w is None else v["mem"][p][w])
