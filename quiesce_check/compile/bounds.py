"""Value bounds of IR expressions, and the ways a step can end before it is done.

Takes IR expressions and statements with the range of every slot; gives
`bounds` (an interval holding every value of an expression, as the code
generators use it to leave out range checks that cannot fail) and `exits`
(what in a block can disable the step or fail it: a guard, a filtered choice,
an assertion, a check that may raise a model error). Imports `compile.ir`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from quiesce_check.compile import ir as I


def bounds(e: I.Expr, slots: Sequence[tuple[int, int]], chosen: dict[int, tuple[int, int]]) -> tuple[int, int] | None:
    """An interval holding every value of `e`, or None when unknown."""
    if isinstance(e, I.Const):
        return int(e.value), int(e.value)
    if isinstance(e, I.Slot):
        return slots[e.index]
    if isinstance(e, I.Table):
        los, his = zip(*(slots[s] for s in e.slots), strict=True)
        return min(los), max(his)
    if isinstance(e, I.Chosen):
        return chosen.get(e.var)
    if isinstance(e, I.Checked):
        return bounds(e.index, slots, chosen)
    if isinstance(e, I.Ite):
        a = bounds(e.then, slots, chosen)
        b = bounds(e.orelse, slots, chosen)
        return None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
    if isinstance(e, I.Count):
        return 0, len(e.terms)
    if isinstance(e, I.Un):
        if e.op == "not":
            return 0, 1
        a = bounds(e.a, slots, chosen)
        return None if a is None else (-a[1], -a[0])
    if isinstance(e, I.Bin):
        if e.op == "%":
            # division rounds toward minus infinity: a remainder takes the divisor's sign
            d = bounds(e.b, slots, chosen)
            return (0, d[1] - 1) if d is not None and d[0] > 0 else None
        if e.op == "/":
            # by a positive divisor, rounding down is monotone in each operand: the corners bound it
            a, d = bounds(e.a, slots, chosen), bounds(e.b, slots, chosen)
            if a is None or d is None or d[0] <= 0:
                return None
            quotients = [x // y for x in a for y in d]
            return min(quotients), max(quotients)
        if e.op not in ("+", "-", "*"):
            return 0, 1
        a = bounds(e.a, slots, chosen)
        b = bounds(e.b, slots, chosen)
        if a is None or b is None:
            return None
        if e.op == "+":
            return a[0] + b[0], a[1] + b[1]
        if e.op == "-":
            return a[0] - b[1], a[1] - b[0]
        products = [x * y for x in a for y in b]
        return min(products), max(products)
    return None


@dataclass(frozen=True)
class Exit:
    """One way a block can end its step early: `kind` is "block" (a guard or a filtered
    choice: the step is not enabled), "assert" (assertion `assert_id` may fail) or "error"
    (a model error may be raised: `what` says which)."""

    kind: str
    assert_id: int = -1
    what: str = ""


def exits(stmts: Sequence[I.Stmt], slots: Sequence[tuple[int, int]],
          chosen: dict[int, tuple[int, int]]) -> list[Exit]:
    """Every place in `stmts` that may end the step early, in order. A range check counts
    only where the code generators emit one (where `bounds` cannot rule the failure out)."""
    out: list[Exit] = []
    _block_exits(stmts, slots, dict(chosen), out)
    return out


def may_fail(e: I.Expr, slots: Sequence[tuple[int, int]], chosen: dict[int, tuple[int, int]]) -> bool:
    """Whether evaluating `e` may raise a model error (a check the code generators emit)."""
    out: list[Exit] = []
    _expr_exits(e, slots, chosen, out)
    return bool(out)


def _block_exits(stmts: Sequence[I.Stmt], slots: Sequence[tuple[int, int]],
                 chosen: dict[int, tuple[int, int]], out: list[Exit]) -> None:
    for s in stmts:
        if isinstance(s, I.Guard):
            _expr_exits(s.cond, slots, chosen, out)
            out.append(Exit("block"))
        elif isinstance(s, I.Assert):
            _expr_exits(s.cond, slots, chosen, out)
            out.append(Exit("assert", s.id))
        elif isinstance(s, I.Let):
            _expr_exits(s.value, slots, chosen, out)
            known = bounds(s.value, slots, chosen)
            if known is not None:
                chosen[s.var] = known
        elif isinstance(s, I.Assign):
            for (tslots, index), value in zip(s.targets, s.values, strict=True):
                _expr_exits(value, slots, chosen, out)
                if index is not None:
                    _expr_exits(index, slots, chosen, out)
                lo, hi = slots[tslots[0]]
                known = bounds(value, slots, chosen)
                if known is None or known[0] < lo or known[1] > hi:
                    out.append(Exit("error", what=f"a value stored in {s.what} may be outside its type"))
        elif isinstance(s, I.If):
            _expr_exits(s.cond, slots, chosen, out)
            _block_exits(s.then, slots, dict(chosen), out)
            _block_exits(s.orelse, slots, dict(chosen), out)
        elif isinstance(s, I.Choice):
            for branch in s.branches:
                _block_exits(branch, slots, dict(chosen), out)
        elif isinstance(s, I.Pick):
            inner = {**chosen, s.var: (min(int(v) for v in s.values), max(int(v) for v in s.values))}
            if s.where is not None:
                _expr_exits(s.where, slots, inner, out)
                out.append(Exit("block"))
            _block_exits(s.body, slots, inner, out)
        else:
            raise AssertionError(s)


def _expr_exits(e: I.Expr, slots: Sequence[tuple[int, int]], chosen: dict[int, tuple[int, int]],
                out: list[Exit]) -> None:
    todo = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, I.Checked):
            known = bounds(x.index, slots, chosen)
            if known is None or known[0] < 0 or known[1] >= x.size:
                out.append(Exit("error", what=f"an index of {x.what} may be out of range"))
            todo.append(x.index)
        elif isinstance(x, I.Bin):
            if x.op in ("/", "%"):
                known = bounds(x.b, slots, chosen)
                if known is None or known[0] <= 0 <= known[1]:
                    where = f" at {x.span}" if x.span is not None else ""
                    out.append(Exit("error", what=f"a division{where} may divide by zero"))
            todo += [x.a, x.b]
        elif isinstance(x, I.Un):
            todo.append(x.a)
        elif isinstance(x, I.Ite):
            todo += [x.cond, x.then, x.orelse]
        elif isinstance(x, I.Table):
            todo.append(x.index)
        elif isinstance(x, I.Count):
            todo += list(x.terms)


def slots_touched(stmts: Sequence[I.Stmt]) -> tuple[set[int], set[int]]:
    """The slots `stmts` may write and the slots they may read (a table read or a write through
    a computed index counts every slot of its table)."""
    written: set[int] = set()
    read: set[int] = set()
    todo: list[object] = list(stmts)
    while todo:
        x = todo.pop()
        if isinstance(x, I.Assign):
            for (tslots, index), value in zip(x.targets, x.values, strict=True):
                written.update(tslots if index is not None else tslots[:1])
                todo += [value] if index is None else [value, index]
        elif isinstance(x, I.Guard | I.Assert):
            todo.append(x.cond)
        elif isinstance(x, I.Let):
            todo.append(x.value)
        elif isinstance(x, I.If):
            todo += [x.cond, *x.then, *x.orelse]
        elif isinstance(x, I.Choice):
            todo += [stmt for branch in x.branches for stmt in branch]
        elif isinstance(x, I.Pick):
            todo += [*x.body] + ([x.where] if x.where is not None else [])
        elif isinstance(x, I.Slot):
            read.add(x.index)
        elif isinstance(x, I.Table):
            read.update(x.slots)
            todo.append(x.index)
        elif isinstance(x, I.Checked):
            todo.append(x.index)
        elif isinstance(x, I.Un):
            todo.append(x.a)
        elif isinstance(x, I.Bin):
            todo += [x.a, x.b]
        elif isinstance(x, I.Ite):
            todo += [x.cond, x.then, x.orelse]
        elif isinstance(x, I.Count):
            todo += list(x.terms)
    return written, read
