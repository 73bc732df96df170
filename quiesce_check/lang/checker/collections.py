"""Stage 2 service: the types of sets, sequences, `choose`, `any` and the built-in functions.

Takes the expression nodes of QDL's finite collections (set literals and comprehensions,
sequence literals, `choose`, `any`, the set operators and `in`, the built-ins `card`, `len`,
`head`, `tail`, `append`, `remove` and `finished`) and the scope they stand in; gives their
types (called by `Expressions`, which records them) and records which calls are built-ins
(`builtins`). Reports type errors (E020), `any` outside an initial value (E044) and symmetric
values singled out (E027). Imports `lang.ast`, `lang.types` and the checker's declarations
and tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.declarations import bind_ok
from quiesce_check.lang.checker.evaluate import NotConst
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.errors import Span
from quiesce_check.lang.types import (
    BOOL,
    INT,
    NOTHING,
    TArray,
    TInt,
    TNothing,
    TProc,
    TRecord,
    TSeq,
    TSet,
    Type,
    comparable,
    set_element_ok,
    sym_of,
)

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker

# the built-in functions, by name: how many arguments each takes
BUILTINS = {"card": 1, "len": 1, "head": 1, "tail": 1, "append": 2, "remove": 2, "finished": 1}

_SET_OPS = ("union", "minus", "intersect")


def join(a: Type, b: Type) -> Type:
    """The type of a value that is either an `a` or a `b` (already known to be comparable)."""
    if isinstance(a, TNothing):
        return b
    if isinstance(b, TNothing) or a == b:
        return a
    if isinstance(a, TInt) and isinstance(b, TInt):
        if a.sym is not None:
            return a
        if a.lo is None or b.lo is None or a.hi is None or b.hi is None:
            return INT
        return TInt(min(a.lo, b.lo), max(a.hi, b.hi))  # the values either may hold
    if isinstance(a, TSet) and isinstance(b, TSet):
        return TSet(join(a.elem, b.elem))
    if isinstance(a, TSeq) and isinstance(b, TSeq):
        return TSeq(max(a.capacity, b.capacity), join(a.elem, b.elem))
    return a


def _literal_element(t: Type) -> bool:
    """Whether a literal's items may be a set's elements: as `set_element_ok`, integers unbounded
    (their range is checked when the set is stored)."""
    if isinstance(t, TNothing | TInt):
        return True
    if isinstance(t, TArray):
        return _literal_element(t.elem)
    if isinstance(t, TRecord):
        return all(_literal_element(ft) for _, ft in t.fields)
    return set_element_ok(t)


def _bounded(t: Type) -> bool:
    return not isinstance(t, TNothing) and not (isinstance(t, TInt) and t.lo is None)


class Collections:
    def __init__(self, cx: Checker) -> None:
        self.cx = cx
        self.tables = cx.tables

    def _items(self, items: Sequence[A.Expr], scope: Scope, what: str) -> Type | None:
        """The one type of a literal's items (NOTHING when there are none)."""
        elem: Type = NOTHING
        for x in items:
            t = self.cx.exprs.expr_type(x, scope)
            if t is None:
                return None
            if isinstance(t, TProc) or not comparable(elem, t) and not isinstance(elem, TNothing):
                self.tables.error("E020", f"{what} of different types: {elem} and {t}", x.span)
                return None
            if self.cx.symmetry.mixes(x.span, f"{what} that mix types", elem, t):
                return None
            elem = join(elem, t)
        return elem

    def _element(self, t: Type, span: Span) -> bool:
        if _literal_element(t):
            return True
        self.tables.error("E020", f"a set's elements must be bool, ranges, enums, or records and arrays of "
                          f"them, not {t}", span, "a sequence or an array of sets may hold what a set cannot")
        return False

    def set_lit(self, e: A.SetLit, scope: Scope) -> Type | None:
        elem = self._items(e.items, scope, "set elements")
        if elem is None or not self._element(elem, e.span):
            return None
        if isinstance(elem, TInt) and elem.lo is None:
            elem = self._constant_range(e.items, scope) or elem
        return TSet(elem)

    def _constant_range(self, items: Sequence[A.Expr], scope: Scope) -> TInt | None:
        """The least range holding a literal's integers, when they are all constants (`{1, 5}`)."""
        values = []
        for x in items:
            try:
                values.append(int(self.cx.constants.const_eval(x, scope.consts)))
            except NotConst:
                return None
        return TInt(min(values), max(values))

    def seq_lit(self, e: A.SeqLit, scope: Scope) -> Type | None:
        elem = self._items(e.items, scope, "sequence elements")
        return None if elem is None else TSeq(len(e.items), elem)

    def _bound(self, var: str, domain: A.Domain, span: Span, scope: Scope) -> tuple[Scope, Type] | None:
        r = self.cx.types.resolve_domain(domain, scope)
        if r is None or not bind_ok(self.tables, var, span, scope):
            return None
        return scope.bind(var, r[0]), r[0]

    def _where(self, where: A.Expr | None, scope: Scope) -> bool:
        return where is None or self.cx.exprs.expect(where, scope, "bool") is not None

    def set_filter(self, e: A.SetFilter, scope: Scope) -> Type | None:
        b = self._bound(e.var, e.domain, e.span, scope)
        if b is None or not self._where(e.where, b[0]):
            return None
        return TSet(b[1]) if self._element(b[1], e.span) else None

    def set_map(self, e: A.SetMap, scope: Scope) -> Type | None:
        b = self._bound(e.var, e.domain, e.span, scope)
        if b is None or not self._where(e.where, b[0]):
            return None
        t = self.cx.exprs.expr_type(e.body, b[0])
        if t is None or not self._element(t, e.body.span):
            return None
        return TSet(t)

    def choose(self, e: A.Choose, scope: Scope) -> Type | None:
        b = self._bound(e.var, e.domain, e.span, scope)
        if b is None or not self._where(e.where, b[0]):
            return None
        if sym_of(b[1]) is not None:
            self.cx.symmetry.sym_misuse(e.span, "`choose` (it picks the least value)", b[1])
            return None
        return b[1]

    def any_value(self, e: A.AnyValue, scope: Scope) -> Type | None:
        if not self.tables.in_initial:
            self.tables.error("E044", "`any` stands only in a variable's initial value", e.span,
                              "for a choice made by a step, write `with x in T { ... }` or `either`")
            return None
        return NOTHING

    def binary(self, e: A.Binary, scope: Scope) -> Type | None:
        a = self.cx.exprs.expr_type(e.left, scope)
        b = self.cx.exprs.expr_type(e.right, scope)
        if a is None or b is None:
            return None
        if e.op in ("in", "not in"):
            if not isinstance(b, TSet | TSeq):
                self.tables.error("E020", f"`{e.op}` needs a set or a sequence on its right, not {b}", e.right.span,
                                  "write `x in {a, b}` for one of several values")
                return None
            if not comparable(b.elem, a) and not isinstance(b.elem, TNothing):
                self.tables.error("E020", f"cannot look for a value of type {a} in a {b}", e.span)
                return None
            if self.cx.symmetry.mixes(e.span, "a membership test that singles out a value", b.elem, a):
                return None
            return BOOL
        for side, t in ((e.left, a), (e.right, b)):
            if not isinstance(t, TSet):
                self.tables.error("E020", f"`{e.op}` applies to sets, not to {t}", side.span)
                return None
        assert isinstance(a, TSet) and isinstance(b, TSet)
        if not comparable(a, b):
            self.tables.error("E020", f"`{e.op}` of sets of different types: {a} and {b}", e.span)
            return None
        if self.cx.symmetry.mixes(e.span, f"`{e.op}` of sets that mix types", a, b):
            return None
        if e.op == "subset":
            return BOOL
        assert isinstance(a, TSet) and isinstance(b, TSet)
        if e.op == "minus" or (e.op == "intersect" and _bounded(a.elem)):
            return a  # no more values than the left operand's
        return b if e.op == "intersect" else join(a, b)

    def call(self, e: A.Call, scope: Scope) -> Type | None:
        """A built-in function (the model declares no def of that name)."""
        n = BUILTINS[e.name]
        if len(e.args) != n:
            self.tables.error("E035", f"`{e.name}` takes {n} argument(s), not {len(e.args)}", e.span)
            return None
        self.tables.builtins[id(e)] = e.name
        if e.name == "finished":
            return self._finished(e, scope)
        t = self.cx.exprs.expr_type(e.args[0], scope)
        if t is None:
            return None
        if e.name == "card":
            if not isinstance(t, TSet):
                self.tables.error("E020", f"`card` applies to a set, not to {t}", e.args[0].span)
                return None
            return INT
        if not isinstance(t, TSeq):
            self.tables.error("E020", f"`{e.name}` applies to a sequence, not to {t}", e.args[0].span)
            return None
        if e.name == "len":
            return INT
        if e.name == "head":
            return t.elem
        if e.name in ("append", "remove"):
            return self._second(e, t, scope)
        return t

    def _second(self, e: A.Call, t: TSeq, scope: Scope) -> Type | None:
        u = self.cx.exprs.expr_type(e.args[1], scope)
        if u is None:
            return None
        if e.name == "remove":
            return t if self.cx.exprs.expect(e.args[1], scope, "int") is not None else None
        if not comparable(t.elem, u) and not isinstance(t.elem, TNothing):
            self.tables.error("E020", f"cannot append a value of type {u} to a {t}", e.args[1].span)
            return None
        if self.cx.symmetry.mixes(e.span, "an append that singles out a value", t.elem, u):
            return None
        return t

    def _finished(self, e: A.Call, scope: Scope) -> Type | None:
        t = self.cx.exprs.expr_type(e.args[0], scope)
        if t is None:
            return None
        if not isinstance(t, TProc):
            self.tables.error("E020", f"`finished` applies to a process, not to a value of type {t}", e.args[0].span,
                              "write `finished(P)` or `finished(P[i])`")
            return None
        return BOOL

    def seq_index(self, e: A.Index, bt: TSeq, scope: Scope) -> Type | None:
        if self.cx.exprs.expect(e.index, scope, "int") is None:
            return None
        return bt.elem
