"""The contract between a compiled model and the engines.

Takes nothing; gives the `Model` protocol every engine explores, the exceptions
a step can raise (a runtime model error, a failed `assert`), and `Choices`, the
record of the values a step picked. Both the generated Python backend and the
reference interpreter implement `Model`. Imports `compile.ir`, `compile.layout`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from quiesce_check.compile.ir import (
    Action,
    AssertInfo,
    Fairness,
    Liveness,
    Program,
    Property,
    StepProperty,
)
from quiesce_check.compile.layout import Layout, State

# (choice id, value) for every `with`, `either` and action parameter a step went through.
Choices = tuple[tuple[int, int | bool], ...]
Successor = tuple[int, Choices, State]


class StepError(Exception):
    """A step (or a property) went outside the model's types: an out-of-range value or index,
    a division by zero. `action` is -1 when a property raised it."""

    def __init__(self, action: int, choices: Choices, message: str) -> None:
        super().__init__(message)
        self.action = action
        self.choices = choices
        self.message = message


class AssertFailure(Exception):
    """An `assert` inside a step did not hold."""

    def __init__(self, action: int, choices: Choices, assert_id: int) -> None:
        super().__init__(f"assertion {assert_id} failed")
        self.action = action
        self.choices = choices
        self.assert_id = assert_id


@dataclass(frozen=True)
class ModelInfo:
    """What engines and renderers need to name things."""

    layout: Layout
    actions: Sequence[Action]
    invariants: Sequence[Property]
    reachables: Sequence[Property]   # goals, then invariants' premises (kind "premise")
    asserts: Sequence[AssertInfo]
    choice_names: Sequence[str]
    finals: Sequence[Property] = ()     # must hold in every state without successors
    end_goals: Sequence[Property] = ()  # the finals' premises, hit in states without successors
    liveness: Sequence[Liveness] = ()   # properties of fair infinite behaviours (an instance each)
    fairness: Sequence[Fairness] = ()   # what a fair behaviour must do
    step_properties: Sequence[StepProperty] = ()  # `always step`: hold of every step
    # choice variable -> the value each of its positions stands for (a record chosen by position)
    choice_shown: Mapping[int, Sequence[str]] = field(default_factory=dict)


class Model(Protocol):
    """A model as every engine sees it: its names (`info`), its initial states and its steps.

    `program` is the IR the model was compiled from, for the engines that read it (the
    generated C search, the Z3 engines); None for a model given otherwise (a hand-built
    graph, a reduction by symmetry of another model).
    """

    info: ModelInfo

    @property
    def program(self) -> Program | None: ...

    def initial_states(self) -> Sequence[State]: ...

    def successors(self, state: State) -> list[Successor]:
        """Every successor in a fixed order; raises `StepError` or `AssertFailure`."""
        ...

    def violations(self, state: State) -> list[int]:
        """Indices of the invariants that do not hold, in order."""
        ...

    def reached(self, state: State) -> list[int]:
        """Indices of the reachability goals (and invariant premises) that hold."""
        ...

    def final_violations(self, state: State) -> list[int]:
        """For a state without successors: indices of the final-state properties that do not hold."""
        ...

    def end_reached(self, state: State) -> list[int]:
        """For a state without successors: indices of the end goals (finals' premises) that hold."""
        ...

    def is_terminal(self, state: State) -> bool:
        """Whether a state without successors is a proper end (declared terminal, or all done)."""
        ...

    def temporal(self, state: State) -> list[tuple[bool, bool]]:
        """Per liveness property (`info.liveness`): whether its `p` and its `q` hold here."""
        ...

    def step_violations(self, before: State, action: int, after: State) -> list[int]:
        """Indices of the step properties the step `action` from `before` to `after` breaks."""
        ...
