"""Pieces every explicit engine shares: one step's outcome, trace assembly, limits.

Takes a `Model`; gives `expand` (successors, or the counterexample a step
produced), `trace_from_path`, `Clock` for the time limit, and `Explored`, what
a search that keeps its states in a set counts and meets. Imports
`compile.deadline`, `compile.layout`, `compile.model`, `engines.result`,
`trace.types`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from quiesce_check.compile.deadline import Deadline
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import AssertFailure, Model, StepError, Successor
from quiesce_check.engines.result import Options, Stats
from quiesce_check.trace.types import Step, Trace, TraceKind


class Failure(Exception):
    """A step from `state` ended the search: a failed assertion or a model error."""

    def __init__(self, step: Step, kind: TraceKind, prop: str, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.kind = kind
        self.prop = prop
        self.message = message


def expand(model: Model, state: State) -> list[Successor]:
    """Successors of `state`; a failing step becomes `Failure`."""
    try:
        return model.successors(state)
    except AssertFailure as e:
        site = model.info.asserts[e.assert_id]
        raise Failure(Step(e.action, e.choices), "assertion", f"assert {site.text}",
                      f"assertion `{site.text}` at {site.span} does not hold") from None
    except StepError as e:
        raise Failure(Step(e.action, e.choices), "model-error", "model error", e.message) from None


# (kind, property, message): one property a state or a step violates
Violation = tuple[TraceKind, str, str]

# kinds after which the search cannot go on: the step or the property has no defined result
FATAL = ("assertion", "model-error")

DEADLOCK_MESSAGE = "no step is enabled, and the state is not declared terminal"


def check_state(model: Model, state: State) -> list[Violation]:
    """The invariants `state` violates (or the model error evaluating them raised)."""
    try:
        ks = model.violations(state)
    except StepError as e:
        return [("model-error", "model error", f"evaluating an invariant: {e.message}")]
    out: list[Violation] = []
    for k in ks:
        inv = model.info.invariants[k]
        out.append(("invariant", inv.name, f"{inv.kind} `{inv.name}` ({inv.span}) does not hold"))
    return out


def check_step(model: Model, before: State, action: int, after: State) -> list[Violation]:
    """The step properties (`always step`) the step `action` from `before` to `after` breaks."""
    try:
        ks = model.step_violations(before, action, after)
    except StepError as e:
        return [("model-error", "model error", f"evaluating a step property: {e.message}")]
    out: list[Violation] = []
    for k in ks:
        prop = model.info.step_properties[k]
        out.append(("action", prop.name, f"step property `{prop.name}` ({prop.span}) does not hold of the "
                    f"last step ({model.info.actions[action].label})"))
    return out


def terminal(model: Model, state: State) -> Violation | bool:
    """`model.is_terminal`; a terminal predicate that cannot be evaluated gives
    the violation of a model error instead."""
    try:
        return model.is_terminal(state)
    except StepError as e:
        return ("model-error", "model error", f"evaluating a terminal predicate: {e.message}")


def inspect(model: Model, state: State) -> tuple[list[Violation], list[int]]:
    """A new state's verdict: the violations it shows, and the goals it reaches.

    Every goal is evaluated on every new state, reached before or not, so that a
    goal that cannot be evaluated is a model error whichever engine runs.
    """
    bad = check_state(model, state)
    if any(kind in FATAL for kind, _, _ in bad):
        return bad, []
    try:
        return bad, model.reached(state)
    except StepError as e:
        return bad + [("model-error", "model error", f"evaluating a reachability goal: {e.message}")], []


def at_end(model: Model, state: State, check_deadlock: bool) -> tuple[list[Violation], list[int]]:
    """A state without successors: the final-state properties it violates, a deadlock when it
    is no proper end, and the end goals (the finals' premises) it reaches."""
    try:
        ks = model.final_violations(state)
        goals = model.end_reached(state)
    except StepError as e:
        return [("model-error", "model error", f"evaluating a final-state property: {e.message}")], []
    out: list[Violation] = []
    for k in ks:
        prop = model.info.finals[k]
        out.append(("final", prop.name, f"final-state property `{prop.name}` ({prop.span}) does not hold "
                    "in a state without successors"))
    if check_deadlock:
        term = terminal(model, state)
        if isinstance(term, tuple):
            out.append(term)
        elif not term:
            out.append(("deadlock", "deadlock", DEADLOCK_MESSAGE))
    return out, goals


def trace_from_path(states: Sequence[State], steps: Sequence[Step], kind: TraceKind, prop: str,
                    message: str) -> Trace:
    return Trace(tuple(states), tuple(steps), kind, prop, message)


class Explored:
    """What a search that keeps its states in a set shares (dfs, random walks): the model, its
    options, the clock, the statistics, the states seen and the goals met."""

    def __init__(self, model: Model, opts: Options) -> None:
        self.model, self.opts = model, opts
        self.clock = Clock(opts.deadline)
        n = len(model.info.actions)
        self.stats = Stats(fired=[0] * n, new=[0] * n)
        self.seen: set[State] = set()
        self.hit: set[int] = set()       # indexes of `ModelInfo.reachables`
        self.end_hit: set[int] = set()   # indexes of `ModelInfo.end_goals`


class Clock:
    """Wall time since the search began, and whether the time limit has passed: given the run's
    `Deadline`, the time the run took before the search (building, compiling) counts against the
    limit too, though not in the search's own time."""

    def __init__(self, deadline: Deadline | None) -> None:
        self.start = time.perf_counter()
        self.limit = None if deadline is None else deadline.limit
        self.before = 0.0 if deadline is None else max(0.0, self.start - deadline.start)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float | None:
        return None if self.limit is None else self.limit - self.before - self.elapsed()

    def expired(self) -> bool:
        return self.limit is not None and self.before + self.elapsed() > self.limit
