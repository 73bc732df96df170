"""What every engine takes and gives: options, the reporter, verdicts, traces, results.

Takes nothing; gives `Options` (frozen), `Reporter` (progress goes through it,
engines never print), `Trace` (initial state plus steps, rebuilt from parent
links), `PropertyResult`, `Stats` and `Result`, and the exit code of a result.
Imports `compile.model` only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Choices, ModelInfo


class Status(enum.Enum):
    HOLDS = "holds"            # exhaustively checked
    VIOLATED = "violated"
    REACHED = "reached"        # a reachability goal was hit
    UNREACHED = "unreached"    # a goal never hit in a complete search: everything is vacuous
    INCOMPLETE = "incomplete"  # the search stopped before it could decide


class Verdict(enum.Enum):
    HOLDS = "holds"
    VIOLATED = "violated"          # an invariant
    ASSERTION = "assertion failed"
    DEADLOCK = "deadlock"
    MODEL_ERROR = "model error"    # a step left its types (out of range, bad index, x/0)
    INCOMPLETE = "incomplete"
    VACUOUS = "vacuous"


# Exit codes: TLC's numbers where the meaning is the same.
EXIT_CODES: dict[Verdict, int] = {
    Verdict.HOLDS: 0,
    Verdict.DEADLOCK: 11,
    Verdict.VIOLATED: 12,
    Verdict.ASSERTION: 14,
    Verdict.INCOMPLETE: 20,
    Verdict.VACUOUS: 21,
    Verdict.MODEL_ERROR: 75,
}
EXIT_MODEL_INVALID = 150
EXIT_USAGE = 151
EXIT_INTERNAL = 153


@dataclass(frozen=True)
class Options:
    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None
    check_deadlock: bool = True
    seed: int = 0
    walks: int = 1000          # random simulation: how many walks
    walk_depth: int = 200      # random simulation: steps per walk
    backend: str = "auto"      # bfs: "native" (generated C), "python", or "auto" (C when a compiler works)


class Reporter(Protocol):
    def progress(self, distinct: int, generated: int, depth: int, queued: int, elapsed: float) -> None: ...


class NullReporter:
    def progress(self, distinct: int, generated: int, depth: int, queued: int, elapsed: float) -> None:
        pass


@dataclass(frozen=True)
class Step:
    action: int
    choices: Choices


@dataclass(frozen=True)
class Trace:
    """`states[0]` is initial; `steps[i]` leads from `states[i]` to `states[i + 1]`.

    A trace that ends in a failed assertion or a model error has one more step
    than it has successor states: the last step never completed.
    """

    states: tuple[State, ...]
    steps: tuple[Step, ...]
    kind: str           # invariant | assertion | deadlock | model-error | goal
    property: str       # the violated invariant, the assertion text, "deadlock", ...
    message: str = ""


@dataclass(frozen=True)
class PropertyResult:
    kind: str      # invariant | reachable | assertion | deadlock
    name: str
    status: Status
    detail: str = ""


@dataclass
class Stats:
    generated: int = 0
    distinct: int = 0
    depth: int = 0
    elapsed: float = 0.0
    fired: list[int] = field(default_factory=list)
    new: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.distinct / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class Result:
    engine: str
    verdict: Verdict
    properties: list[PropertyResult]
    stats: Stats
    trace: Trace | None = None
    limit: str | None = None  # which limit ended the search, when one did
    seed: int | None = None
    complete: bool = False    # the whole reachable state space was explored
    witnesses: dict[str, Trace] = field(default_factory=dict)
    backend: str = "python"   # what ran the search: "python" or "native" (generated C)
    store_bytes: int | None = None
    note: str | None = None   # something the user should know about how the result was obtained  # memory of the visited-state store, where the engine knows it

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


def property_results(info: ModelInfo, trace: Trace | None, complete: bool, hit: set[int],
                     check_deadlock: bool) -> list[PropertyResult]:
    """Per-property statuses from one search's outcome.

    A search stops at its first counterexample, so every other property is
    then undecided (`incomplete`), as it is when a limit ends the search.
    """
    undecided = Status.HOLDS if complete and trace is None else Status.INCOMPLETE

    def status(kind: str, name: str | None = None) -> Status:
        if trace is not None and trace.kind == kind and (name is None or trace.property == name):
            return Status.VIOLATED
        return undecided

    out = [PropertyResult("invariant", inv.name, status("invariant", inv.name)) for inv in info.invariants]
    for k, goal in enumerate(info.reachables):
        if k in hit:
            out.append(PropertyResult("reachable", goal.name, Status.REACHED))
        else:
            out.append(PropertyResult("reachable", goal.name,
                                      Status.UNREACHED if undecided is Status.HOLDS else Status.INCOMPLETE))
    if info.asserts:
        name = trace.property if trace is not None and trace.kind == "assertion" else "every assert"
        out.append(PropertyResult("assertion", name, status("assertion")))
    if check_deadlock:
        out.append(PropertyResult("deadlock", "no deadlock", status("deadlock")))
    return out


def final_verdict(info: ModelInfo, trace: Trace | None, complete: bool, hit: set[int]) -> Verdict:
    if trace is not None:
        return {"invariant": Verdict.VIOLATED, "assertion": Verdict.ASSERTION,
                "deadlock": Verdict.DEADLOCK, "model-error": Verdict.MODEL_ERROR}[trace.kind]
    if not complete:
        return Verdict.INCOMPLETE
    if len(hit) < len(info.reachables):
        return Verdict.VACUOUS
    return Verdict.HOLDS
