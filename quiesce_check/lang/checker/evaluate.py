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
from quiesce_check.lang.types import TArray, TRecord, TSeq, Type, Value, index_position, value_key

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker

Bound = dict[str, Value]

_COLLECTION: dict[str, Callable[[Any, Any], Value]] = {
    "in": lambda x, y: x in y, "not in": lambda x, y: x not in y, "subset": lambda x, y: x <= y,
    "union": lambda x, y: x | y, "minus": lambda x, y: x - y, "intersect": lambda x, y: x & y,
}


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
            A.Index: self._index, A.Field: self._field, A.SetLit: self._set_lit, A.SeqLit: self._seq_lit,
            A.SetFilter: self._set_filter, A.SetMap: self._set_map, A.Choose: self._choose,
            A.AnyValue: self._any, A.Call: self._call,
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
        return tuple(self.const_eval(e.body, {**b, e.var: v}) for v in self._values(e.domain))

    def _quant(self, e: A.Quant, b: Bound) -> Value:
        values = self._values(e.domain)
        results = [bool(self.const_eval(e.body, {**b, e.var: v})) for v in values]
        if e.kind == "forall":
            return all(results)
        if e.kind == "exists":
            return any(results)
        return sum(results)

    def _set_lit(self, e: A.SetLit, b: Bound) -> Value:
        return frozenset(self.const_eval(x, b) for x in e.items)

    def _seq_lit(self, e: A.SeqLit, b: Bound) -> Value:
        return tuple(self.const_eval(x, b) for x in e.items)

    def _values(self, d: A.Domain) -> tuple[Value, ...]:
        values = self.tables.domains[id(d)][1]
        if values is None:
            raise NotConst(d.span, "its set is not constant")
        return values

    def _set_filter(self, e: A.SetFilter, b: Bound) -> Value:
        return frozenset(v for v in self._values(e.domain)
                         if e.where is None or self.const_eval(e.where, {**b, e.var: v}))

    def _set_map(self, e: A.SetMap, b: Bound) -> Value:
        return frozenset(self.const_eval(e.body, {**b, e.var: v}) for v in self._values(e.domain)
                         if e.where is None or self.const_eval(e.where, {**b, e.var: v}))

    def _choose(self, e: A.Choose, b: Bound) -> Value:
        et = self.tables.domains[id(e.domain)][0]
        for v in sorted(self._values(e.domain), key=lambda v: value_key(et, v)):
            if e.where is None or self.const_eval(e.where, {**b, e.var: v}):
                return v
        raise NotConst(e.span, "no value satisfies the condition")

    def _any(self, e: A.AnyValue, b: Bound) -> Value:
        return ANY

    def _call(self, e: A.Call, b: Bound) -> Value:
        name = self.tables.builtins.get(id(e))
        if name is None or name == "finished":
            raise NotConst(e.span, "it calls a def" if name is None else "it reads a process's position")
        args = [self.const_eval(x, b) for x in e.args]
        try:
            return apply_builtin(name, args, self.tables.types.get(id(e.args[0])))
        except Fault as exc:
            raise NotConst(e.span, exc.message) from None

    def _index(self, e: A.Index, b: Bound) -> Value:
        base = self.const_eval(e.base, b)
        idx = self.const_eval(e.index, b)
        bt = self.tables.types.get(id(e.base))
        if isinstance(bt, TSeq) and isinstance(base, tuple):
            if 0 <= int(idx) < len(base):
                return base[int(idx)]
            raise NotConst(e.span, f"index {idx} of a sequence of length {len(base)}")
        if isinstance(bt, TArray) and isinstance(base, tuple):
            p = index_position(bt.index, idx)
            if 0 <= p < len(base):
                return base[p]
        raise NotConst(e.span, "index out of range")

    def _field(self, e: A.Field, b: Bound) -> Value:
        if id(e) in self.tables.qualified:
            return self.tables.qualified[id(e)][0]
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


class Fault(Exception):
    """A built-in applied where it has no value: the head of an empty sequence, an append to a full one."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Any:
    """The value of `any` in an initial value, before the variable's initial states are expanded."""

    def __repr__(self) -> str:
        return "any"


ANY = _Any()


def apply_builtin(name: str, args: list[Any], arg_type: Type | None) -> Value:
    """The meaning of the built-in functions on sets (frozensets) and sequences (tuples); raises
    `Fault` where one has no value. `arg_type` is the first argument's type (a sequence's capacity)."""
    x = args[0]
    if name in ("card", "len"):
        return len(x)
    if name in ("head", "tail") and not x:
        raise Fault(f"`{name}` of an empty sequence")
    if name == "head":
        return x[0]
    if name == "tail":
        return x[1:]
    if name == "append":
        assert isinstance(arg_type, TSeq)
        if len(x) >= arg_type.capacity:
            raise Fault(f"`append` to a full sequence (capacity {arg_type.capacity})")
        return (*x, args[1])
    assert name == "remove", name
    i = int(args[1])
    if not 0 <= i < len(x):
        raise Fault(f"`remove` at index {i} of a sequence of length {len(x)}")
    return x[:i] + x[i + 1:]


def apply_binary(op: str, x: Any, y: Any) -> Value:
    """The meaning of every binary operator; division rounds toward minus infinity. Sets are
    frozensets, sequences tuples."""
    if op in _COLLECTION:
        return _COLLECTION[op](x, y)
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
