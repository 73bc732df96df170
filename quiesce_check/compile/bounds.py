"""Value bounds of IR expressions, and the ways a step can end before it is done.

Takes IR expressions and statements with the range of every slot; gives
`Ranges`, the one interval analysis of IR expressions (the size check's
magnitudes and the bit-vector widths of the Z3 encoding are layers over it),
`bounds` (an interval holding every value of an expression, as the code
generators use it to leave out range checks that cannot fail) and `exits`
(what in a block can disable the step or fail it: a guard, a filtered choice,
an assertion, a check that may raise a model error). Imports `compile.ir`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from quiesce_check.compile import ir as I
from quiesce_check.compile.ir import flatten_chain

Interval = tuple[int, int]


def combine(op: str, a: Interval, b: Interval) -> Interval:
    """The interval of `a op b` for `op` in + - *."""
    if op == "+":
        return a[0] + b[0], a[1] + b[1]
    if op == "-":
        return a[0] - b[1], a[1] - b[0]
    products = [x * y for x in a for y in b]
    return min(products), max(products)


class Ranges:
    """The interval analysis of IR expressions: from the range of every slot and of every value
    chosen so far (`env`), an interval holding every value of an expression.

    As it stands it gives `bounds`: None where it does not know (a choice not yet bounded, a
    division by a divisor that may not be positive), and it looks only at the operands the value
    depends on. The other analyses are layers over it that set its hooks: what an unknown choice
    (`choice`) and a division (`division`) give, what becomes of each node's interval (`note`:
    record it, widen it), whether every subexpression is seen (`exhaustive`: conditions, indexes
    and compared operands too), whether `+` and `*` chains are folded flat (`flat`, each partial
    result through `widen`), and how a step's statements bind choices (`block`). One frame of
    recursion per level of the expression, as deep IR (defs inlined into defs) needs.
    """

    exhaustive = False
    flat = False

    def __init__(self, slots: Sequence[Interval]) -> None:
        self.slots = slots

    # hooks ------------------------------------------------------------------------------
    def note(self, iv: Interval) -> Interval:
        """What the analysis makes of the interval it found for a node."""
        return iv

    def widen(self, iv: Interval) -> Interval:
        """A partial result of a flat chain."""
        return iv

    def choice(self, var: int, env: dict[int, Interval]) -> Interval | None:
        return env.get(var)

    def division(self, op: str, a: Interval | None, d: Interval | None) -> Interval | None:
        """`a / d` or `a % d`."""
        if d is None or d[0] <= 0:
            return None
        if op == "%":
            # division rounds toward minus infinity: a remainder takes the divisor's sign
            return 0, d[1] - 1
        if a is None:
            return None
        # by a positive divisor, rounding down is monotone in each operand: the corners bound it
        quotients = [x // y for x in a for y in d]
        return min(quotients), max(quotients)

    def bind(self, env: dict[int, Interval], var: int, iv: Interval) -> dict[int, Interval]:
        """`env` with choice `var` bound to `iv`, for the statements in its scope."""
        return {**env, var: iv}

    def pick(self, values: Sequence[int | bool]) -> Interval:
        ints = [int(v) for v in values]
        return min(ints), max(ints)

    # the analysis -----------------------------------------------------------------------
    def expr(self, e: I.Expr, env: dict[int, Interval]) -> Interval | None:
        """An interval holding every value of `e`, or None when unknown."""
        iv: Interval | None
        if isinstance(e, I.Const):
            iv = int(e.value), int(e.value)
        elif isinstance(e, I.Slot):
            iv = self.slots[e.index]
        elif isinstance(e, I.Table):
            if self.exhaustive:
                self.expr(e.index, env)
            los, his = zip(*(self.slots[s] for s in e.slots), strict=True)
            iv = min(los), max(his)
        elif isinstance(e, I.Chosen):
            iv = self.choice(e.var, env)
        elif isinstance(e, I.Checked):
            iv = self.expr(e.index, env)
        elif isinstance(e, I.Ite):
            if self.exhaustive:
                self.expr(e.cond, env)
            a, b = self.expr(e.then, env), self.expr(e.orelse, env)
            iv = None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
        elif isinstance(e, I.Count):
            for t in e.terms if self.exhaustive else ():
                self.expr(t, env)
            iv = 0, len(e.terms)
        elif isinstance(e, I.Un):
            a = self.expr(e.a, env) if e.op == "-" or self.exhaustive else None
            iv = (0, 1) if e.op == "not" else None if a is None else (-a[1], -a[0])
        elif isinstance(e, I.Bin) and self.flat and e.op in ("+", "*"):
            iv = self.chain(e, env)
        elif isinstance(e, I.Bin) and e.op in ("+", "-", "*", "/", "%"):
            a, b = self.expr(e.a, env), self.expr(e.b, env)
            if e.op in ("/", "%"):
                iv = self.division(e.op, a, b)
            else:
                iv = None if a is None or b is None else combine(e.op, a, b)
        elif isinstance(e, I.Bin):
            # quantifiers unroll into long chains: walk them flat, not one level per operand
            for x in (flatten_chain(e) if e.op in ("and", "or") else (e.a, e.b)) if self.exhaustive else ():
                self.expr(x, env)
            iv = 0, 1
        else:
            iv = None
        return None if iv is None else self.note(iv)

    def value(self, e: I.Expr, env: dict[int, Interval]) -> Interval:
        """`expr`, for an analysis whose hooks always know."""
        iv = self.expr(e, env)
        assert iv is not None
        return iv

    def chain(self, e: I.Bin, env: dict[int, Interval]) -> Interval:
        """A `+` or `*` chain folded flat: one level of recursion for the whole chain."""
        total = (0, 0) if e.op == "+" else (1, 1)
        for x in flatten_chain(e):
            total = self.widen(combine(e.op, total, self.value(x, env)))
        return total

    def block(self, stmts: Sequence[I.Stmt], env: dict[int, Interval]) -> None:
        """Every expression of `stmts`, in order, with what each `let` and `with` binds."""
        for s in stmts:
            if isinstance(s, I.Guard | I.Assert):
                self.expr(s.cond, env)
            elif isinstance(s, I.Assign):
                for (_, index), value in zip(s.targets, s.values, strict=True):
                    self.expr(value, env)
                    if index is not None:
                        self.expr(index, env)
            elif isinstance(s, I.If):
                self.expr(s.cond, env)
                self.block(s.then, env)
                self.block(s.orelse, env)
            elif isinstance(s, I.Choice):
                for branch in s.branches:
                    self.block(branch, env)
            elif isinstance(s, I.Let):
                known = self.expr(s.value, env)
                if known is not None:
                    env = self.bind(env, s.var, known)
            elif isinstance(s, I.Pick):
                inner = self.bind(env, s.var, self.pick(s.values))
                if s.where is not None:
                    self.expr(s.where, inner)
                self.block(s.body, inner)
            else:
                raise AssertionError(s)


def bounds(e: I.Expr, slots: Sequence[Interval], chosen: dict[int, Interval]) -> Interval | None:
    """An interval holding every value of `e`, or None when unknown."""
    return Ranges(slots).expr(e, chosen)


@dataclass(frozen=True)
class Exit:
    """One way a block can end its step early: `kind` is "block" (a guard or a filtered
    choice: the step is not enabled), "assert" (assertion `assert_id` may fail) or "error"
    (a model error may be raised: `what` says which)."""

    kind: Literal["block", "assert", "error"]
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
