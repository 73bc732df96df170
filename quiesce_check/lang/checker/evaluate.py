"""Stage 2 service: the values of constant expressions.

Takes an expression that may use only params, consts and bound names, already typed;
gives its value (`Constants.const_eval`), or types and evaluates it in one step and reports
E023 when it is not constant (`eval_constant`, which also refuses defs and procs inside
it). `apply_binary` is the meaning of every binary operator, shared with the reference
interpreter. Reads `consts`, `domains` and `types` of the tables. Imports `lang.ast`,
`lang.errors`, `lang.types` and the checker's dispatch, limits
and tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.dispatch import rule_for
from quiesce_check.lang.checker.limits import MAX_CONST_BITS
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.errors import Span
from quiesce_check.lang.types import TArray, TRecord, Type, Value, index_position

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker

Bound = dict[str, Value]


class NotConst(Exception):
    def __init__(self, span: Span, why: str) -> None:
        self.span = span
        self.why = why


class Constants:
    def __init__(self, cx: Checker) -> None:
        self.cx = cx
        self.tables = cx.tables
        self._rules: dict[type, Callable[[Any, Bound], Value]] = {
            A.IntLit: self._literal, A.BoolLit: self._literal, A.Name: self._name, A.Unary: self._unary,
            A.Binary: self._binary, A.IfExpr: self._if, A.ArrayLit: self._array_lit,
            A.RecordLit: self._record_lit, A.ArrayComp: self._array_comp, A.Quant: self._quant,
            A.Index: self._index, A.Field: self._field,
        }

    def eval_constant(self, e: A.Expr, what: str, scope: Scope | None = None) -> tuple[Value, Type] | None:
        """The value and type of `e`, or None once reported."""
        self.tables.in_constant += 1
        try:
            t = self.cx.exprs.expr_type(e, scope or Scope({}, None))
        finally:
            self.tables.in_constant -= 1
        if t is None:
            return None
        try:
            return self.const_eval(e, scope.consts if scope else None), t
        except NotConst as exc:
            self.tables.error("E023", f"{what} must be constant: {exc.why}", exc.span)
            return None

    def const_eval(self, e: A.Expr, bound: Bound | None = None) -> Value:
        """Evaluate an expression that may use only params, consts and bound names."""
        rule = rule_for(self._rules, e)
        if rule is None:
            raise NotConst(e.span, "this expression is not constant")
        return rule(e, bound or {})

    def _literal(self, e: A.IntLit | A.BoolLit, b: Bound) -> Value:
        return e.value

    def _name(self, e: A.Name, b: Bound) -> Value:
        if e.name in b:
            return b[e.name]
        if e.name in self.tables.consts:
            return self.tables.consts[e.name][0]
        raise NotConst(e.span, f"`{e.name}` is not a constant")

    def _unary(self, e: A.Unary, b: Bound) -> Value:
        v = self.const_eval(e.operand, b)
        return (not v) if e.op == "not" else -int(v)

    def _binary(self, e: A.Binary, b: Bound) -> Value:
        x = self.const_eval(e.left, b)
        if e.op == "and" and not x:
            return False
        if e.op == "or" and x:
            return True
        if e.op == "=>" and not x:
            return True
        y = self.const_eval(e.right, b)
        return _apply(e.op, x, y, e.span)

    def _if(self, e: A.IfExpr, b: Bound) -> Value:
        return self.const_eval(e.then if self.const_eval(e.cond, b) else e.orelse, b)

    def _array_lit(self, e: A.ArrayLit, b: Bound) -> Value:
        return tuple(self.const_eval(x, b) for x in e.items)

    def _record_lit(self, e: A.RecordLit, b: Bound) -> Value:
        return tuple(self.const_eval(x, b) for _, x in e.fields)

    def _array_comp(self, e: A.ArrayComp, b: Bound) -> Value:
        _, values = self.tables.domains[id(e.domain)]
        return tuple(self.const_eval(e.body, {**b, e.var: v}) for v in values)

    def _quant(self, e: A.Quant, b: Bound) -> Value:
        _, values = self.tables.domains[id(e.domain)]
        results = [bool(self.const_eval(e.body, {**b, e.var: v})) for v in values]
        if e.kind == "forall":
            return all(results)
        if e.kind == "exists":
            return any(results)
        return sum(results)

    def _index(self, e: A.Index, b: Bound) -> Value:
        base = self.const_eval(e.base, b)
        idx = self.const_eval(e.index, b)
        bt = self.tables.types.get(id(e.base))
        if isinstance(bt, TArray) and isinstance(base, tuple):
            p = index_position(bt.index, idx)
            if 0 <= p < len(base):
                return base[p]
        raise NotConst(e.span, "index out of range")

    def _field(self, e: A.Field, b: Bound) -> Value:
        base = self.const_eval(e.base, b)
        bt = self.tables.types.get(id(e.base))
        if isinstance(bt, TRecord) and isinstance(base, tuple):
            names = [n for n, _ in bt.fields]
            return base[names.index(e.name)]
        raise NotConst(e.span, "this expression is not constant")


def _apply(op: str, x: Any, y: Any, span: Span) -> Value:
    if op in ("/", "%") and y == 0:
        raise NotConst(span, "division by zero")
    if op == "*" and abs(int(x)).bit_length() + abs(int(y)).bit_length() > MAX_CONST_BITS + 1:
        raise NotConst(span, f"its value would have more than {MAX_CONST_BITS} bits")
    return apply_binary(op, x, y)


def apply_binary(op: str, x: Any, y: Any) -> Value:
    """The meaning of every binary operator; division rounds toward minus infinity."""
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        return x // y
    if op == "%":
        return x % y
    if op == "==":
        return x == y
    if op == "!=":
        return x != y
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    if op == ">=":
        return x >= y
    if op == "and":
        return bool(x and y)
    if op == "or":
        return bool(x or y)
    if op == "=>":
        return bool((not x) or y)
    raise AssertionError(op)
