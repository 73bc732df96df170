"""What every engine takes and gives: options, the reporter, verdicts, results.

Takes nothing; gives `Options` (frozen), `Reporter` (progress goes through it,
engines never print), `PropertyResult`, `Stats` and `Result` (with its
counterexamples as `trace.types.Trace`), the verdict and exit code of a result
(a model error outranks any violation found with it), and `Halt`: the model
error or failed assertion that stopped a search, where, and at which step.
Imports `compile.*`, `engines.checkpoint`, `trace.types`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal, Protocol

from quiesce_check.compile.deadline import Deadline
from quiesce_check.compile.ir import Property, PropertyKind
from quiesce_check.compile.model import ModelInfo
from quiesce_check.compile.symmetry import Symmetry
from quiesce_check.engines.checkpoint import CheckpointPlan
from quiesce_check.trace.types import Trace, TraceKind

# What a property is, as results name it: an invariant (or a lemma, an invariant stated to help
# induction), a final-state property, a reachability goal, the model's asserts, freedom from deadlock.
# A liveness property holds of every fair infinite behaviour; an action property (`always step`)
# of every step.
CheckKind = Literal["invariant", "lemma", "final", "reachable", "assertion", "deadlock", "liveness", "action"]


_CHECK_KIND: dict[PropertyKind, CheckKind] = {"invariant": "invariant", "lemma": "lemma", "final": "final",
                                             "reachable": "reachable"}


def check_kind(p: Property) -> CheckKind:
    """The kind a result gives a declared invariant, lemma, final-state property or goal."""
    return _CHECK_KIND[p.kind]


class Status(enum.Enum):
    HOLDS = "holds"            # exhaustively checked
    VACUOUS = "vacuous"        # holds, but only because its premise never held: it was never exercised
    VIOLATED = "violated"
    REACHED = "reached"        # a reachability goal was hit
    UNREACHED = "unreached"    # a goal never hit in a complete search: everything is vacuous
    INCOMPLETE = "incomplete"  # the search stopped before it could decide


class Verdict(enum.Enum):
    HOLDS = "holds"
    VIOLATED = "violated"          # an invariant, a final-state or a step property
    LIVENESS = "liveness violated"  # a fair behaviour breaks a liveness property
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
    Verdict.LIVENESS: 13,
    Verdict.ASSERTION: 14,
    Verdict.INCOMPLETE: 20,
    Verdict.VACUOUS: 21,
    Verdict.MODEL_ERROR: 75,
}
# The verdict a counterexample of each kind gives.
VERDICT_OF: dict[TraceKind, Verdict] = {
    "invariant": Verdict.VIOLATED, "final": Verdict.VIOLATED, "action": Verdict.VIOLATED,
    "assertion": Verdict.ASSERTION, "deadlock": Verdict.DEADLOCK, "model-error": Verdict.MODEL_ERROR,
    "liveness": Verdict.LIVENESS, "goal": Verdict.HOLDS,
}
EXIT_MODEL_INVALID = 150
EXIT_USAGE = 151
EXIT_INTERNAL = 153


@dataclass(frozen=True)
class Options:
    max_states: int | None = None
    max_depth: int | None = None
    check_deadlock: bool = True
    seed: int = 0
    walks: int = 1000          # random simulation: how many walks
    walk_depth: int = 200      # random simulation: steps per walk
    backend: str = "auto"      # bfs: "native" (generated C), "python", or "auto" (C when a compiler works)
    keep_going: bool = False   # bfs, bmc: after a violation, go on: the shortest counterexample of every property
    depth: int | None = None   # bmc, induction: the bound on steps (and on k); None for the engine's default
    encoding: str = "bv"       # bmc, induction: integers as bit-vectors ("bv") or Z3 integers ("int")
    memory_limit: int | None = None  # bytes the search may take; None: most of what the machine has free
    checkpoint: CheckpointPlan | None = None  # bfs: save the search there, periodically and when it ends
    symmetry: Symmetry | None = None  # bfs: keep one canonical state per orbit of these permutations
    # the run's time limit, counted from when the run began: the time building and compiling the
    # model took counts too (None: no limit)
    deadline: Deadline | None = None
    # bfs: the searches that share the state space (partitioned by a hash of the packed state),
    # in this process's threads, or as Ray actors on `cluster` ("local": a Ray started here)
    workers: int = 1
    cluster: str | None = None
    # bfs: "exact" keeps each state whole; "fingerprint" keeps a 64-bit fingerprint of each, and
    # the frontier and the parent links in files under `spill` (None: a temporary folder)
    store: str = "exact"
    spill: str | None = None

    def __post_init__(self) -> None:
        # one meaning in every engine: a limit of no state at all is no search (the C search would
        # read 0 as "no limit", the Python searches as "stop at once")
        if self.max_states is not None and self.max_states < 1:
            raise ValueError(f"max_states is at least 1, not {self.max_states}")
        if self.workers < 1:
            raise ValueError(f"workers is at least 1, not {self.workers}")
        if self.store not in ("exact", "fingerprint"):
            raise ValueError(f"store is exact or fingerprint, not {self.store!r}")

    @property
    def time_limit(self) -> float | None:
        """The `--time-limit` in seconds, or None."""
        return None if self.deadline is None else self.deadline.limit


class Reporter(Protocol):
    def progress(self, distinct: int, generated: int, depth: int, queued: int, elapsed: float) -> None: ...


class NullReporter:
    def progress(self, distinct: int, generated: int, depth: int, queued: int, elapsed: float) -> None:
        pass


@dataclass(frozen=True)
class PropertyResult:
    kind: CheckKind
    name: str
    status: Status
    detail: str = ""   # how the status was established (symbolic engines: depths, proofs, premises)


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
class Symbolic:
    """What the symbolic engines (bmc, induction) add to a result."""

    encoding: str                  # "int" or "bv"
    depth: int                     # every behaviour of at most this many steps was checked
    first_step: list[int | None]   # per action: the first step at which it can fire, None if never seen
    simulated: list[int] = field(default_factory=list)  # actions whose step is from a simulated run, not first
    never: list[int] = field(default_factory=list)  # actions proved never to fire
    queries: int = 0
    solver_seconds: float = 0.0
    resources: int = 0             # the solver's resource units (its deterministic measure of work)
    proved_at: int | None = None   # the largest k with which k-induction proved a property
    complete_at: int | None = None  # no loop-free behaviour is longer: every reachable state was checked
    cti: Trace | None = None       # a counterexample to induction: starts in a state not known reachable
    # the properties not k-inductive at the largest k even with every other claim standing assumed
    # (the counterexample to induction is for the first of them)
    not_inductive: list[str] = field(default_factory=list)
    generated: int = 0             # invariants the induction guessed, proved and assumed


@dataclass
class Result:
    engine: str
    verdict: Verdict
    properties: list[PropertyResult]
    stats: Stats
    trace: Trace | None = None   # the first counterexample found (with bfs, a shortest one)
    # every property's first counterexample, by property name (with --continue, one each)
    traces: dict[str, Trace] = field(default_factory=dict)
    limit: str | None = None  # which limit ended the search, when one did
    seed: int | None = None
    complete: bool = False    # the whole reachable state space was explored
    witnesses: dict[str, Trace] = field(default_factory=dict)
    backend: str = "python"   # what ran the search: "python" or "native" (generated C)
    store_bytes: int | None = None  # memory of the visited-state store, where the engine knows it
    note: str | None = None   # something the user should know about how the result was obtained
    checkpoint: str | None = None  # where the search was saved last (bfs with Options.checkpoint)
    resumed: bool = False     # the search went on from a checkpoint
    symbolic: Symbolic | None = None  # bmc and induction: depths, solver statistics, proofs
    symmetry: str | None = None  # the reduction the search used: distinct states count orbits
    # with --store fingerprint: the probability that a fingerprint collision hid a state (TLC's
    # optimistic estimate; 0 when fingerprints are one-to-one); None: states were kept whole
    collision: float | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


@dataclass(frozen=True)
class Outcome:
    """What a search found, for `property_results` and `final_verdict`.

    `traces` holds the first counterexample of each property found, by name;
    `first` the first of all. `explored` says every reachable state was
    expanded (true even after violations when the search went on past them).
    `hit` indexes `ModelInfo.reachables`, `end_hit` `ModelInfo.end_goals`.
    """

    traces: dict[str, Trace]
    first: Trace | None
    explored: bool
    hit: set[int]
    end_hit: set[int] = field(default_factory=set)
    # properties left undecided in a search that explored every state: the liveness
    # properties, when a limit stopped their check
    undecided: frozenset[str] = frozenset()


_KIND_ORDER = {"model-error": 0, "assertion": 1, "invariant": 2, "action": 3, "final": 4, "deadlock": 5,
               "liveness": 6}


def never_fired(info: ModelInfo, result: Result) -> list[str]:
    """The labels of the steps that never fired in this search."""
    return [a.label for a in info.actions if a.index >= len(result.stats.fired) or not result.stats.fired[a.index]]


def first_reported(info: ModelInfo, traces: dict[str, Trace]) -> Trace | None:
    """The counterexample a result leads with: the shortest, then by kind and declaration
    order. The same whichever engine found them, and in whatever order."""
    names = [p.name for p in info.invariants] + [p.name for p in info.step_properties]
    names += [p.name for p in info.finals] + [p.name for p in info.liveness]
    order = {name: k for k, name in enumerate(dict.fromkeys(names))}
    return min(traces.values(), default=None,
               key=lambda t: (len(t.steps), _KIND_ORDER.get(t.kind, 9), order.get(t.property, 0), t.property))


def property_results(info: ModelInfo, out: Outcome, check_deadlock: bool) -> list[PropertyResult]:
    """Per-property statuses from one search's outcome.

    A property with a counterexample is violated. Otherwise it holds if every
    reachable state was explored, and is vacuous if it is an implication whose
    premise never held; else (a limit, or a search that stopped at another
    property's counterexample) it is undecided.
    """
    premise_hit = {g.name for k, g in enumerate(info.reachables) if g.kind == "premise" and k in out.hit}
    premise_hit |= {g.name for k, g in enumerate(info.end_goals) if k in out.end_hit}
    has_premise = {g.name for g in info.reachables if g.kind == "premise"} | {g.name for g in info.end_goals}

    def status(name: str) -> Status:
        if name in out.traces:
            return Status.VIOLATED
        if not out.explored or name in out.undecided:
            return Status.INCOMPLETE
        return Status.VACUOUS if name in has_premise and name not in premise_hit else Status.HOLDS

    res = [PropertyResult(check_kind(p), p.name, status(p.name)) for p in info.invariants]
    res += [PropertyResult("action", p.name, status(p.name)) for p in info.step_properties]
    res += [PropertyResult("final", p.name, status(p.name)) for p in info.finals]
    res += [PropertyResult("liveness", name, status(name)) for name in dict.fromkeys(p.name for p in info.liveness)]
    for k, goal in enumerate(info.reachables):
        if goal.kind == "premise":
            continue
        if k in out.hit:
            res.append(PropertyResult("reachable", goal.name, Status.REACHED))
        else:
            res.append(PropertyResult("reachable", goal.name,
                                      Status.UNREACHED if out.explored else Status.INCOMPLETE))
    if info.asserts:
        failed = [t for t in out.traces.values() if t.kind == "assertion"]
        name = failed[0].property if failed else "every assert"
        res.append(PropertyResult("assertion", name, Status.VIOLATED if failed else status(name)))
    if check_deadlock:
        res.append(PropertyResult("deadlock", "no deadlock", status("deadlock")))
    return res


@dataclass(frozen=True)
class Halt:
    """What stopped a search for good (--continue goes past violations, never past this): a model
    error (a step or a property without a defined result) or a failed assertion, and where."""

    trace: Trace
    row: int            # the trace's row it shows at: the failing step's number, or the state's (0: initial)
    action: str | None  # the failing step's label; None: a property could not be evaluated in that state
    at: str | None      # the failing step's source position, path:line:col

    @property
    def text(self) -> str:
        """`model error at step 3 (inc at m.qdl:3:1): x := 3 is outside its type 0..2`."""
        error = self.trace.kind == "model-error"
        what = "model error" if error else "failed assertion"
        if self.action is not None:
            # an assertion's message names the assert's own position
            where = f"at step {self.row} ({self.action}" + (f" at {self.at})" if error else ")")
        else:
            where = "in the initial state" if self.row == 0 else f"in the state after step {self.row}"
        return f"{what} {where}: {self.trace.message}"


def halt_of(info: ModelInfo, traces: dict[str, Trace]) -> Halt | None:
    """What stopped the search among a result's counterexamples (a model error before a failed
    assertion), if anything of the kind did."""
    fatal = sorted((t for t in traces.values() if t.kind in ("model-error", "assertion")),
                   key=lambda t: t.kind != "model-error")
    if not fatal:
        return None
    t = fatal[0]
    n = len(t.steps)
    # a trace that ends in a failing step has no state after it; one that reached its last state
    # met a property it could not evaluate there
    if len(t.states) > n or not 0 <= t.steps[-1].action < len(info.actions):
        return Halt(t, n, None, None)
    action = info.actions[t.steps[-1].action]
    return Halt(t, n, action.label, str(action.span))


def halt_note(info: ModelInfo, result: Result) -> str | None:
    """What a result says of what stopped its search: what, where, at which step; the properties
    it left undecided; and, when a model error outranks the violations found too, that it does."""
    halt = halt_of(info, result.traces)
    if halt is None:
        return None
    parts = [halt.text]
    undecided = [p.name for p in result.properties if p.status is Status.INCOMPLETE]
    if undecided:
        parts.append(f"the search cannot go past it: {len(undecided)} propert{'y' if len(undecided) == 1 else 'ies'}"
                     f" left undecided ({', '.join(undecided)})")
    others = [name for name, t in result.traces.items() if t is not halt.trace]
    if halt.trace.kind == "model-error" and others:
        parts.append(f"the verdict is the model error's: it outranks the violations also found ({', '.join(others)})")
    return "; ".join(parts)


def lead_verdict(first: Trace, traces: dict[str, Trace]) -> Verdict:
    """The verdict of a search that found counterexamples: a model error's whenever one was found
    (with --continue, after violations too: the model has no defined next state there, so the
    search could not go on, and what it found before is a partial result of a model to be fixed);
    else the verdict of the counterexample the result leads with."""
    if any(t.kind == "model-error" for t in traces.values()):
        return Verdict.MODEL_ERROR
    return VERDICT_OF[first.kind]


def final_verdict(info: ModelInfo, out: Outcome, check_deadlock: bool = True) -> Verdict:
    if out.first is not None:
        return lead_verdict(out.first, out.traces)
    if not out.explored or out.undecided:
        return Verdict.INCOMPLETE
    statuses = property_results(info, out, check_deadlock)
    if any(p.status in (Status.UNREACHED, Status.VACUOUS) for p in statuses):
        return Verdict.VACUOUS
    return Verdict.HOLDS
