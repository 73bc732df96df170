"""A counterexample as data: an initial state and the steps that lead on from it.

Takes nothing; gives `Step` (the action taken and the values it chose) and
`Trace` (the states and steps of one run, with what it shows: a violated
invariant, a failed assertion, a deadlock, a model error, a goal reached). The
engines build traces, the formats render them, replay rebuilds them from a
file. Imports `compile.layout`, `compile.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Choices

# What a counterexample (or a witness) shows: an invariant or a final-state property broken, an
# assert failed, a deadlock, a step or a property gone outside its types, a goal reached.
# A liveness counterexample is a lasso; an action counterexample ends with the step that broke
# an `always step` property.
TraceKind = Literal["invariant", "final", "assertion", "deadlock", "model-error", "goal", "liveness", "action"]


@dataclass(frozen=True)
class Step:
    action: int
    choices: Choices


@dataclass(frozen=True)
class Trace:
    """`states[0]` is initial; `steps[i]` leads from `states[i]` to `states[i + 1]`.

    A trace that ends in a failed assertion or a model error has one more step
    than it has successor states: the last step never completed.

    A lasso (a liveness counterexample) has `loop`: the behaviour goes on for ever as
    from state `loop` on. Its last state is `states[loop]` again, reached by the step that
    closes the cycle; when `loop` is the last index, the behaviour stays in the last state
    for ever (it stutters: nothing fair is enabled there).
    """

    states: tuple[State, ...]
    steps: tuple[Step, ...]
    kind: TraceKind
    property: str       # the violated invariant, the assertion text, "deadlock", ...
    message: str = ""
    loop: int | None = None
