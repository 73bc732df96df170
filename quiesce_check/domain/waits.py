"""Who a lasso leaves waiting: the processes that take no step on its cycle, and under which fairness.

Takes a liveness counterexample (a `Trace` whose `loop` is set) and its model's `ModelInfo`;
gives `still`, for each process instance that takes no step on the cycle and has not ended,
the statements it stands at, the fairness assumptions that cover its step there, and whether
its step is certainly disabled round the whole cycle (a condition it waits for first, an
`await` or its process's `when`, is false at every state of the cycle); and
`still_sentence`, which says it. The engine found the cycle fair, so a process that a
fairness assumption covers stands still only because its step is not enabled (weak
fairness: not at every state of the cycle; strong: at none): it waits. One that none covers
and that is not certainly disabled may just never be scheduled, and the sentence names the
assumption that would rule the behaviour out. Nothing here knows a vocabulary: each adds
what a wait means in its own words. Imports `compile.*`, `trace.types`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from quiesce_check.compile import ir as I
from quiesce_check.compile.layout import State, instance_name
from quiesce_check.compile.model import ModelInfo
from quiesce_check.trace.types import Trace

# the text of the step that leaves a loop to end its process
EXIT = "(end of process)"


@dataclass(frozen=True)
class Still:
    """A process instance that takes no step on a lasso's cycle."""

    process: str                 # as shown: "Toolstack", "Worker[1]"
    texts: tuple[str, ...]       # the statements it stands at (a loop's head may start several)
    where: str                   # their file and line: "xen.qdl:342"
    fair: tuple[I.Fairness, ...]   # the assumptions that cover its step there
    blocked: bool                # a condition its step waits for first is false all round the cycle


def movers(info: ModelInfo, trace: Trace) -> list[str]:
    """The processes (or plain actions) that take a step on the cycle, in the order they first do."""
    assert trace.loop is not None
    names = [info.actions[s.action].process or info.actions[s.action].name for s in trace.steps[trace.loop:]]
    return list(dict.fromkeys(names))


def value_of(e: I.Expr, s: State) -> int | bool | None:
    """An expression's value in state s, or None where this small reading does not know it (a
    value picked by the step, a division)."""
    if isinstance(e, I.Const):
        return e.value
    if isinstance(e, I.Slot):
        return s[e.index]
    if isinstance(e, I.Table):
        i = value_of(e.index, s)
        return None if i is None or not 0 <= int(i) < len(e.slots) else s[e.slots[int(i)]]
    if isinstance(e, I.Checked):
        return value_of(e.index, s)
    if isinstance(e, I.Un):
        a = value_of(e.a, s)
        return None if a is None else (not a if e.op == "not" else -int(a))
    if isinstance(e, I.Ite):
        c = value_of(e.cond, s)
        return None if c is None else value_of(e.then if c else e.orelse, s)
    if isinstance(e, I.Count):
        terms = [value_of(t, s) for t in e.terms]
        return None if any(t is None for t in terms) else sum(bool(t) for t in terms)
    if isinstance(e, I.Bin):
        return _binary(e, s)
    return None


def _binary(e: I.Bin, s: State) -> int | bool | None:
    a = value_of(e.a, s)
    if e.op in ("and", "or", "=>"):
        if a is not None and (not a if e.op != "or" else bool(a)):
            return e.op != "and"  # decided by the left: false and ..., true or ..., false => ...
        b = value_of(e.b, s)
        if b is None or a is None:
            # decided by the right alone: ... and false, ... or true, ... => true
            return e.op != "and" if b is not None and bool(b) == (e.op != "and") else None
        return bool(b)
    b = value_of(e.b, s)
    if a is None or b is None:
        return None
    x, y = int(a), int(b)
    ops = {"+": x + y, "-": x - y, "*": x * y, "==": x == y, "!=": x != y, "<": x < y, "<=": x <= y,
           ">": x > y, ">=": x >= y}
    return ops.get(e.op)


def certainly_disabled(a: I.Action, s: State) -> bool:
    """Whether a condition action `a` waits for before anything else is false in state s."""
    for stmt in a.body:
        if not isinstance(stmt, I.Guard):
            return False
        if value_of(stmt.cond, s) is False:
            return True
    return False


def still(info: ModelInfo, trace: Trace) -> list[Still]:
    """Every process instance that has not ended and takes no step on the cycle, in layout order."""
    assert trace.loop is not None
    lay = info.layout
    state = trace.states[trace.loop]
    cycle: Sequence[State] = trace.states[trace.loop:]
    moved = set(movers(info, trace))
    out = []
    for proc, inst in lay.instances:
        name = instance_name(proc, inst)
        slot = lay.pc_slot[(proc.name, inst)]
        here = [a for a in info.actions if a.pc_slot == slot and a.pc_value == state[slot]]
        if name in moved or not here:
            continue  # it moves, or it has ended: no step of its own stands at its position
        fair = tuple(f for f in info.fairness if any(f.covers(a) for a in here))
        blocked = all(certainly_disabled(a, s) for a in here for s in cycle)
        # a loop's head also starts its exit, a step of no statement of its own
        texts = [a.text for a in here if a.text != EXIT] or [EXIT]
        out.append(Still(name, tuple(dict.fromkeys(texts)),
                         f"{Path(here[0].span.path).name}:{here[0].span.line}", fair, blocked))
    return out


def still_sentence(s: Still, stutters: bool) -> str:
    """What a still process means: it waits (its step is disabled, or fairness says it must be),
    or it may merely never be scheduled, and then which assumption would forbid that."""
    at = " or ".join(f"`{t}`" for t in s.texts)
    if s.blocked:
        return (f"{s.process} waits at {at} ({s.where}): a condition its step waits for (an `await`, or "
                f"its process's `when`) is false {'there' if stutters else 'all round the cycle'}.")
    if s.fair:
        f = s.fair[0]
        where = "there" if stutters else ("anywhere on the cycle" if f.strong else "at every state of the cycle")
        return f"{s.process} waits at {at} ({s.where}): under {f.text}, its step is not enabled {where}."
    return (f"{s.process} stands at {at} ({s.where}) and never moves again, and no fairness assumption "
            f"covers it: if its step can be taken there, `fair process {s.process};` rules this behaviour out.")
