"""A counterexample's states as the values of its variables, and the steps that changed them.

Takes a `Trace` and the `ModelInfo` of its model; gives `History`, which reads each state
through the layout by variable name and finds the steps that changed what a vocabulary's
explanation is about; `Send`, one send of a page to the target, and `copy_step`, the step of a
send that read a word, `escaping_write`, a word the target got wrong, and `torn_words`, how a send tore (both vocabularies copy a page
word by word, marking each word in `copied`). Imports `compile.layout`, `compile.model`, `lang.types`, `trace.types`.
"""

from __future__ import annotations

from collections.abc import Callable
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

    def torn_words(self, send: Send, p: int, words: int) -> tuple[int, int, int, int, int, int] | None:
        """(w1, c1, k1, w2, k2, c2): how `send` of page p (its first `words` words) tore: it read
        word w1 at step c1, which was written at step k1 > c1, while word w2 was written at step
        k2 >= k1 and read only at step c2 > k2: the target holds a page the source never had."""
        copy_at = {w: self.copy_step(send, w) for w in range(words)}
        writes = [(k, w) for k in range(send.first, send.last + 1) for w in copy_at
                  if self.vals[k - 1]["mem"][p][w] != self.vals[k]["mem"][p][w]]
        for k1, w1 in writes:
            c1 = copy_at.get(w1)
            if c1 is None or c1 >= k1:
                continue  # not yet copied when written
            for k2, w2 in writes:
                c2 = copy_at.get(w2)
                if k2 >= k1 and c2 is not None and c2 > k2:
                    return w1, c1, k1, w2, k2, c2
        return None

    def escaping_write(self, watched: Callable[[int], bool]) -> tuple[int, int, int] | None:
        """(page, word, step): a word of a `watched` page the target holds otherwise than the
        source's memory, and the source's last write to it."""
        last = self.vals[-1]
        bad = [(p, w) for p in range(len(last["mem"])) if watched(p)
               for w in range(len(last["mem"][p])) if last["tgt"][p][w] != last["mem"][p][w]]
        for p, w in bad:
            writes = self.steps_changing(lambda v, p=p, w=w: v["mem"][p][w])
            if writes:
                return p, w, writes[-1]
        return None
