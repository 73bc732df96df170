"""Stage 2 service: the type of every expression.

Takes an expression and the scope it stands in; gives its type (`Expressions.expr_type`),
recorded in `types`, and records what every name refers to (`refs`), the local a `P.x`
reaches (`proc_fields`) and the def every call runs (`calls`); or None once the reason is
reported (E011 unknown names, E012 names of the wrong kind, E020 type errors, E025 empty
arrays, E026 repeated fields, E027 symmetric values singled out, E032 unknown labels, E035
defs named without their arguments). One method per node class, chosen by `rule_for`.
Imports `lang.ast`, `lang.errors`, `lang.types` and the checker's declarations,
dispatch, results and tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.collections import BUILTINS, join
from quiesce_check.lang.checker.declarations import bind_ok
from quiesce_check.lang.checker.dispatch import rule_for
from quiesce_check.lang.checker.results import RBound, RConst, RDef, RProc, RVar
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.errors import nearest
from quiesce_check.lang.types import (
    BOOL,
    INT,
    TArray,
    TBool,
    TEnum,
    TInt,
    TNothing,
    TProc,
    TRecord,
    TSeq,
    Type,
    comparable,
    compatible,
    is_finite_scalar,
    sym_of,
)

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker

_ARITHMETIC = ("+", "-", "*", "/", "%")
_ORDERING = ("<", "<=", ">", ">=")
_COLLECTION_OPS = ("in", "not in", "subset", "union", "minus", "intersect")


class Expressions:
    def __init__(self, cx: Checker) -> None:
        self.cx = cx
        self.tables = cx.tables
        self._rules: dict[type, Callable[[Any, Scope], Type | None]] = {
            A.IntLit: self._int_lit, A.BoolLit: self._bool_lit, A.Name: self.name_type, A.Unary: self._unary,
            A.Binary: self._binary, A.IfExpr: self._if, A.Quant: self._quant, A.ArrayComp: self._array_comp,
            A.ArrayLit: self._array_lit, A.RecordLit: self._record_lit, A.Index: self._index,
            A.Field: self._field, A.Call: self._call, A.At: self._at, A.Prime: self._prime, A.By: self._by,
            A.SetLit: self._collections("set_lit"), A.SetFilter: self._collections("set_filter"),
            A.SetMap: self._collections("set_map"), A.SeqLit: self._collections("seq_lit"),
            A.Choose: self._collections("choose"), A.AnyValue: self._collections("any_value"),
        }

    def _collections(self, rule: str) -> Callable[[Any, Scope], Type | None]:
        """A rule of `Collections` (built after this service)."""
        return lambda e, scope: getattr(self.cx.collections, rule)(e, scope)

    def expr_type(self, e: A.Expr, scope: Scope) -> Type | None:
        """The type of `e` (recorded in `types`), or None once reported."""
        rule = rule_for(self._rules, e)
        if rule is None:
            raise AssertionError(e)
        t = rule(e, scope)
        if t is not None:
            self.tables.types[id(e)] = t
        return t

    def expect(self, e: A.Expr, scope: Scope, want: str) -> Type | None:
        """The type of `e` if it is a boolean (`want` "bool") or an integer ("int"); else None, reported."""
        t = self.expr_type(e, scope)
        if t is None:
            return None
        ok = isinstance(t, TBool) if want == "bool" else isinstance(t, TInt)
        if not ok:
            self.tables.error("E020", f"expected {'a boolean' if want == 'bool' else 'an integer'}, found {t}",
                              e.span)
            return None
        return t

    def _int_lit(self, e: A.IntLit, scope: Scope) -> Type | None:
        return INT

    def _bool_lit(self, e: A.BoolLit, scope: Scope) -> Type | None:
        return BOOL

    def _unary(self, e: A.Unary, scope: Scope) -> Type | None:
        ut = self.expect(e.operand, scope, "bool" if e.op == "not" else "int")
        if ut is not None and sym_of(ut) is not None:
            self.cx.symmetry.sym_misuse(e.span, "arithmetic", ut)
            return None
        return ut and (BOOL if e.op == "not" else INT)

    def _binary(self, e: A.Binary, scope: Scope) -> Type | None:
        if e.op in ("and", "or", "=>"):
            a = self.expect(e.left, scope, "bool")
            b = self.expect(e.right, scope, "bool")
            return BOOL if a and b else None
        if e.op in _ARITHMETIC or e.op in _ORDERING:
            return self._arithmetic(e, scope)
        if e.op in _COLLECTION_OPS:
            return self.cx.collections.binary(e, scope)
        return self._comparison(e, scope)

    def _arithmetic(self, e: A.Binary, scope: Scope) -> Type | None:
        a = self.expect(e.left, scope, "int")
        b = self.expect(e.right, scope, "int")
        if not (a and b):
            return None
        ordering = e.op in _ORDERING
        for operand in (a, b):
            if sym_of(operand) is not None:
                self.cx.symmetry.sym_misuse(e.span, "an ordering comparison" if ordering else "arithmetic", operand)
                return None
        return BOOL if ordering else INT

    def _comparison(self, e: A.Binary, scope: Scope) -> Type | None:
        a = self.expr_type(e.left, scope)
        b = self.expr_type(e.right, scope)
        if a is None or b is None:
            return None
        if isinstance(a, TProc) or isinstance(b, TProc) or not comparable(a, b):
            self.tables.error("E020", f"cannot compare {a} with {b}", e.span)
            return None
        if self.cx.symmetry.mixes(e.span, "a comparison that singles out a value", a, b):
            return None
        return BOOL

    def _if(self, e: A.IfExpr, scope: Scope) -> Type | None:
        c = self.expect(e.cond, scope, "bool")
        a = self.expr_type(e.then, scope)
        b = self.expr_type(e.orelse, scope)
        if c is None or a is None or b is None:
            return None
        if self.cx.symmetry.mixes(e.span, "branches that mix types", a, b):
            return None
        if isinstance(a, TInt) and isinstance(b, TInt):
            return a if a.sym is not None else INT
        if not comparable(a, b):
            self.tables.error("E020", f"the branches have different types: {a} and {b}", e.span)
            return None
        return join(a, b)

    def _quant(self, e: A.Quant, scope: Scope) -> Type | None:
        r = self.cx.types.resolve_domain(e.domain, scope)
        if r is None or not bind_ok(self.tables, e.var, e.span, scope):
            return None
        if self.expect(e.body, scope.bind(e.var, r[0]), "bool") is None:
            return None
        return INT if e.kind == "count" else BOOL

    def _array_comp(self, e: A.ArrayComp, scope: Scope) -> Type | None:
        r = self.cx.types.resolve_domain(e.domain, scope)
        if r is None or not bind_ok(self.tables, e.var, e.span, scope):
            return None
        if not isinstance(e.domain, A.SetLit) and not is_finite_scalar(r[0]):
            return None
        if isinstance(e.domain, A.SetLit):
            self.tables.error("E020", "an array is indexed by a type, not a set", e.domain.span)
            return None
        et = self.expr_type(e.body, scope.bind(e.var, r[0]))
        return None if et is None else TArray(r[0], et)  # type: ignore[arg-type]

    def _array_lit(self, e: A.ArrayLit, scope: Scope) -> Type | None:
        if not e.items:
            self.tables.error("E025", "an empty array literal", e.span)
            return None
        ts = [self.expr_type(x, scope) for x in e.items]
        if any(t is None for t in ts):
            return None
        # (`any`, in an initial value, has every type)
        first = next((t for t in ts if not isinstance(t, TNothing)), ts[0])
        assert first is not None
        for x, t in zip(e.items, ts, strict=True):
            assert t is not None
            if not comparable(first, t):
                self.tables.error("E020", f"array elements of different types: {first} and {t}", x.span)
                return None
            if self.cx.symmetry.mixes(x.span, "array elements that mix types", first, t):
                return None
        plain = isinstance(first, TInt) and first.sym is None
        return TArray(TInt(0, len(e.items) - 1), INT if plain else first)

    def _record_lit(self, e: A.RecordLit, scope: Scope) -> Type | None:
        fields: list[tuple[str, Type]] = []
        for name, x in e.fields:
            if name in [n for n, _ in fields]:
                self.tables.error("E026", f"field `{name}` given twice", x.span)
                return None
            t = self.expr_type(x, scope)
            if t is None:
                return None
            fields.append((name, t))
        return TRecord(tuple(fields))

    def _index(self, e: A.Index, scope: Scope) -> Type | None:
        bt = self.expr_type(e.base, scope)
        if bt is None:
            return None
        if isinstance(bt, TProc):
            return self._process_index(e, bt, scope)
        if isinstance(bt, TSeq):
            return self.cx.collections.seq_index(e, bt, scope)
        if not isinstance(bt, TArray):
            self.tables.error("E020", f"cannot index a value of type {bt}", e.span)
            return None
        it = self.expr_type(e.index, scope)
        if it is None:
            return None
        if not compatible(bt.index, it):
            self.tables.error("E020", f"the index must be {bt.index}, found {it}", e.index.span)
            return None
        if sym_of(bt.index) != sym_of(it):
            self.cx.symmetry.sym_misuse(e.index.span, "an index", bt.index, it)
            return None
        return bt.elem

    def _process_index(self, e: A.Index, bt: TProc, scope: Scope) -> Type | None:
        """`P[e]`: one instance of the indexed process `P`."""
        if not bt.indexed:
            self.tables.error("E020", f"process `{bt.name}` has one instance and takes no index", e.span)
            return None
        proc = self.tables.procs[bt.name]
        assert proc.index_type is not None
        it = self.expr_type(e.index, scope)
        if it is None:
            return None
        if not compatible(proc.index_type, it):
            self.tables.error("E020", f"process `{bt.name}` is indexed by {proc.index_type}, not {it}",
                              e.index.span)
            return None
        if sym_of(proc.index_type) != sym_of(it):
            self.cx.symmetry.sym_misuse(e.index.span, "a process index", proc.index_type, it)
            return None
        return TProc(bt.name, False)

    def _field(self, e: A.Field, scope: Scope) -> Type | None:
        if self._names_enum(e, scope):
            return self._qualified(e)
        bt = self.expr_type(e.base, scope)
        if bt is None:
            return None
        if isinstance(bt, TProc):
            return self._process_field(e, bt)
        if not isinstance(bt, TRecord):
            self.tables.error("E020", f"a value of type {bt} has no fields", e.span)
            return None
        ft = bt.field(e.name)
        if ft is None:
            self.tables.error("E011", f"no field `{e.name}` in {bt}", e.span,
                              nearest(e.name, [n for n, _ in bt.fields]))
            return None
        return ft

    def _names_enum(self, e: A.Field, scope: Scope) -> bool:
        """Whether `e` is `T.m` for an enum type `T` (no value of that name hides it)."""
        b = e.base
        if not isinstance(b, A.Name) or b.name in scope.bound or b.name in self.tables.globals:
            return False
        if scope.proc is not None and b.name in scope.proc.locals:
            return False
        return isinstance(self.tables.type_names.get(b.name), TEnum)

    def _qualified(self, e: A.Field) -> Type | None:
        """`Phase.Idle`: a member of the enum type `Phase` (recorded in `qualified`)."""
        assert isinstance(e.base, A.Name)
        enum = self.tables.type_names[e.base.name]
        assert isinstance(enum, TEnum)
        if e.name not in enum.members:
            self.tables.error("E011", f"enum `{e.base.name}` has no member `{e.name}`", e.span,
                              nearest(e.name, list(enum.members)))
            return None
        self.tables.qualified[id(e)] = (enum.members.index(e.name), enum)
        return enum

    def _process_field(self, e: A.Field, bt: TProc) -> Type | None:
        """`P.x`: the local `x` of the process `P` (of one instance)."""
        proc = self.tables.procs[bt.name]
        if bt.indexed:
            self.tables.error("E020", f"process `{bt.name}` is indexed: write `{bt.name}[i].{e.name}`", e.span)
            return None
        var = proc.locals.get(e.name)
        if var is None:
            self.tables.error("E011", f"process `{bt.name}` has no variable `{e.name}`", e.span,
                              nearest(e.name, proc.locals))
            return None
        self.tables.proc_fields[id(e)] = var
        return var.type

    def _call(self, e: A.Call, scope: Scope) -> Type | None:
        if e.name in BUILTINS and e.name not in self.tables.routines:
            return self.cx.collections.call(e, scope)
        info = self.cx.routines.routine(e.name, e.span, "def")
        if info is None:
            return None
        if not self.cx.routines.call_args(info, e.args, e.span, scope):
            return None
        self.tables.calls[id(e)] = info
        return info.result

    def _prime(self, e: A.Prime, scope: Scope) -> Type | None:
        if not scope.step:
            self.tables.error("E042", "`'` (the value after the step) stands only in an `always step` property, "
                              "and once", e.span)
            return None
        # the base is read after the step as a whole: nothing in it may be primed again
        return self.expr_type(e.base, Scope(scope.bound, scope.proc, scope.consts, scope.origin, False))

    def _by(self, e: A.By, scope: Scope) -> Type | None:
        if "by" in self.tables.routines:   # the model's own def `by`, called with a name
            call = A.Call("by", (A.Name(e.name, e.span),), e.span)
            self.tables.by_calls[id(e)] = call
            return self.expr_type(call, scope)
        if not scope.step:
            self.tables.error("E042", "`by(P)` stands only in an `always step` property", e.span)
            return None
        if e.name not in self.tables.procs and e.name not in {a.name for a in self.tables.actions}:
            self.tables.error("E011", f"`by({e.name})`: no process or action `{e.name}`", e.span,
                              nearest(e.name, [*self.tables.procs, *(a.name for a in self.tables.actions)]))
            return None
        return BOOL

    def _at(self, e: A.At, scope: Scope) -> Type | None:
        pt = self.expr_type(e.process, scope)
        if pt is None:
            return None
        if not isinstance(pt, TProc):
            self.tables.error("E020", f"`@` applies to a process, not to a value of type {pt}", e.process.span)
            return None
        if pt.indexed:
            self.tables.error("E020", f"process `{pt.name}` is indexed: write `{pt.name}[i]@{e.label}`", e.span)
            return None
        proc = self.tables.procs[pt.name]
        if e.label not in proc.positions.labels:
            self.tables.error("E032", f"process `{pt.name}` has no label `{e.label}`", e.span,
                              nearest(e.label, proc.positions.labels))
            return None
        return BOOL

    def name_type(self, e: A.Name, scope: Scope) -> Type | None:
        """What a name refers to (recorded in `refs`) and its type: a bound name, a local of the
        scope's process, a const or param, a global, a process, a def without parameters."""
        t = self.tables
        n = e.name
        if n in scope.bound:
            t.refs[id(e)] = RBound(n, scope.bound[n])
            return scope.bound[n]
        if scope.proc is not None and n in scope.proc.locals:
            var = scope.proc.locals[n]
            t.refs[id(e)] = RVar(var)
            return var.type
        if n in t.ambiguous:
            owners = [next((k for k, v in t.type_names.items() if v == x), str(x)) for x in t.ambiguous[n]]
            t.error("E045", f"`{n}` is a member of several enums: " + ", ".join(f"`{x}`" for x in owners),
                    e.span, "write it qualified: " + " or ".join(f"`{x}.{n}`" for x in owners))
            return None
        if n in t.consts:
            v, ct = t.consts[n]
            t.refs[id(e)] = RConst(v, ct)
            return ct
        if n in t.globals:
            t.refs[id(e)] = RVar(t.globals[n])
            return t.globals[n].type
        if n in t.procs:
            p = t.procs[n]
            t.refs[id(e)] = RProc(p)
            return TProc(n, p.index_type is not None)
        if n in t.routines and isinstance(t.routines[n].decl, A.DefDecl):
            return self._bare_def(e)
        self._not_a_value(e, scope)
        return None

    def _bare_def(self, e: A.Name) -> Type | None:
        """A def named without arguments: it must take none."""
        n = e.name
        info = self.cx.routines.routine(n, e.span, "def")
        if info is None:
            return None
        if info.params:
            self.tables.error("E035", f"`{n}` takes {len(info.params)} argument(s): write `{n}(...)`", e.span)
            return None
        self.tables.refs[id(e)] = RDef(info)
        return info.result

    def _not_a_value(self, e: A.Name, scope: Scope) -> None:
        """Report a name that names no value (unless its own declaration failed and was reported)."""
        t = self.tables
        n = e.name
        kind = t.decl_kind.get(n)
        if kind is not None:
            if kind in ("var", "const", "param", "process"):
                return  # declared, but its own declaration failed and was reported
            t.error("E012", f"`{n}` is a {kind}, not a value", e.span)
            return
        candidates = list(scope.bound) + list(t.consts) + list(t.globals) + list(t.procs) + [
            r.name for r in t.routines.values() if isinstance(r.decl, A.DefDecl)]
        if scope.proc is not None:
            candidates += list(scope.proc.locals)
        t.error("E011", f"unknown name `{n}`", e.span, nearest(n, candidates))
