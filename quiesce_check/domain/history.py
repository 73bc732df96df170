"""A counterexample's states as the values of its variables, and the steps that changed them.

Takes a `Trace` and the `ModelInfo` of its model; gives `History`, which reads each state
through the layout by variable name and finds the steps that changed what a vocabulary's
explanation is about; `Send`, one send of a page to the target, and `copy_step`, the step of a
send that read a word (both vocabularies copy a page word by word, marking each word in
`copied`). Imports `compile.layout`, `compile.model`, `lang.types`, `trace.types`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quiesce_check.compile.layout import variable_values
from quiesce_check.compile.model import ModelInfo
from quiesce_check.lang.types import TArray, TEnum
from quiesce_check.trace.types import Trace


@dataclass(frozen=True)
class Send:
    """One send of a page: the steps of its first and last word, the pass it belonged to."""

    first: int
    last: int
    label: str

    @property
    def steps(self) -> str:
        """`steps 4-7`, or `step 8` for a page sent in one step."""
        return f"step {self.first}" if self.first == self.last else f"steps {self.first}-{self.last}"


class History:
    """A trace's states as structured values, and the steps that changed them."""

    def __init__(self, info: ModelInfo, trace: Trace) -> None:
        self.info = info
        self.trace = trace
        self.vals = [variable_values(info.layout, s) for s in trace.states]
        self.types = {p.name: p.type for p in info.layout.places}
        self.n = len(trace.states) - 1  # steps with a state after them

    def enum(self, var: str, member: str) -> int:
        """The value of enum `member` in variable `var` (or in its elements)."""
        t = self.types[var]
        while isinstance(t, TArray):
            t = t.elem
        if not isinstance(t, TEnum):
            raise KeyError(var)
        return t.members.index(member)

    def at(self, k: int, var: str) -> Any:
        return self.vals[k][var]

    def who(self, k: int) -> str:
        a = self.info.actions[self.trace.steps[k - 1].action]
        return a.process or a.name

    def text(self, k: int) -> str:
        return self.info.actions[self.trace.steps[k - 1].action].text

    def first_change(self, pick: Any, start: int = 1) -> int | None:
        """The first step from `start` after which `pick(values)` differs from before it."""
        for k in range(max(1, start), self.n + 1):
            if pick(self.vals[k - 1]) != pick(self.vals[k]):
                return k
        return None

    def steps_changing(self, pick: Any) -> list[int]:
        return [k for k in range(1, self.n + 1) if pick(self.vals[k - 1]) != pick(self.vals[k])]

    def copy_step(self, send: Send, w: int) -> int | None:
        """The step of `send` that read word w (its `copied[w]` became true)."""
        for k in range(send.first, send.last + 1):
            before, after = self.vals[k - 1]["copied"], self.vals[k]["copied"]
            if after[w] and not before[w]:
                return k
            if k == send.last and not before[w]:
                return k  # the last word: `copied` is cleared by the same step
        return None
