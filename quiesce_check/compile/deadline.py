"""The time a run may take, checked in every phase: building the model, its symmetry tables, its C.

Takes the `--time-limit` (or None) and when the run began; gives `Deadline`, whose `check(phase)`
raises `TimeLimit` once the limit has passed, so a phase that does unbounded work (tables of
permutations, a compiler given a large model) stops where the search itself would. Engines
measure their `--time-limit` from the same start. Imports nothing of the project.
"""

from __future__ import annotations

import time


class TimeLimit(Exception):
    """The time limit passed during `phase`, before any search result."""

    def __init__(self, limit: float, phase: str) -> None:
        super().__init__(f"--time-limit {limit:g}s passed while {phase}")
        self.limit = limit
        self.phase = phase

    def __reduce__(self) -> tuple[type[TimeLimit], tuple[float, str]]:
        # raised in an ablation's worker process, it crosses to the parent by pickling
        return TimeLimit, (self.limit, self.phase)


class Deadline:
    def __init__(self, limit: float | None, start: float | None = None) -> None:
        self.limit = limit
        self.start = time.perf_counter() if start is None else start

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float | None:
        return None if self.limit is None else self.limit - self.elapsed()

    def expired(self) -> bool:
        return self.limit is not None and self.elapsed() > self.limit

    def check(self, phase: str) -> None:
        if self.limit is not None and self.elapsed() > self.limit:
            raise TimeLimit(self.limit, phase)
