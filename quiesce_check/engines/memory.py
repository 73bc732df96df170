"""How much memory a search may use, and whether it has used it.

Takes `Options.memory_limit` (bytes, or None); gives `budget` (the limit, or what the machine
has available when the search starts, less a margin, so that a search ends with an answer
rather than being killed by the kernel), `MemoryGauge` (for the Python engines: the growth of
the process's resident memory since the search began, or the states held times the size of
one, whichever is more, read every few thousand states) and
`limit_text` (how a result names the limit). The compiled search counts its own tables
exactly and is given the budget directly. Imports nothing of the project.
"""

from __future__ import annotations

import os
import resource
import sys

MB = 1024 * 1024

# Of the memory available when a search starts, the share it may take when no limit is given.
_DEFAULT_SHARE = 0.85
# A state's entry in a dict or set, and its slots in the search's lists (parent, step), in bytes.
_PER_STATE_OVERHEAD = 120


def available_bytes() -> int | None:
    """Memory the machine can give without swapping (Linux `MemAvailable`), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def rss_bytes() -> int | None:
    """This process's resident memory now (Linux), else its peak so far, or None."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak) * (1 if sys.platform == "darwin" else 1024)
    except (OSError, ValueError):
        return None


def budget(limit: int | None) -> tuple[int | None, bool]:
    """The bytes a search may take, and whether that is the user's limit (else the default)."""
    if limit is not None:
        return limit, True
    avail = available_bytes()
    return (int(avail * _DEFAULT_SHARE) if avail else None), False


def limit_text(limit: int | None, explicit: bool) -> str:
    if explicit and limit is not None:
        return f"--memory-limit {limit // MB} MB"
    if limit is not None:
        return (f"memory: {limit // MB:,} MB, most of what this machine had available "
                "(--memory-limit sets another)")
    return "memory"


class MemoryGauge:
    """Whether a Python search has grown past its budget since it began: by the growth of the
    process's resident memory, or by an estimate of what the states it holds take (resident
    memory lags when the allocator reuses what earlier work freed)."""

    def __init__(self, limit: int | None) -> None:
        self.limit, self.explicit = budget(limit)
        self.start = rss_bytes() or 0
        self.per_state = 0

    def measure(self, state: tuple[int | bool, ...]) -> None:
        """Take the size of one state as the size of each: the tuple, its set or dict entry,
        and its place in the engine's lists (small integers are shared, not counted)."""
        if not self.per_state:
            self.per_state = sys.getsizeof(state) + _PER_STATE_OVERHEAD \
                + sum(sys.getsizeof(v) for v in state if not -5 <= int(v) <= 256)

    def used(self, states: int = 0) -> int:
        now = rss_bytes()
        return max(0, (now or self.start) - self.start, states * self.per_state)

    def exceeded(self, states: int = 0) -> bool:
        return self.limit is not None and self.used(states) > self.limit

    def text(self) -> str:
        return limit_text(self.limit, self.explicit)
