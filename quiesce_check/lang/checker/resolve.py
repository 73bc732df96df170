"""Stage 2 service: type expressions and domains resolved to types and values.

Takes a type expression (`bool`, a named type, `lo..hi`, an enum, an array, a record) or a
domain (a type or a set of constants); gives the `Type` it stands for, or a domain's
element type and values, which it records in `domains`. Range bounds and set elements are
constant expressions (evaluated by `Constants`); enum members are declared as they are
met. Reports unknown types (E011), names that are no type (E012), bad bounds and domains
(E020), empty or too large ones (E024). Imports `lang.ast`, `lang.errors`, `lang.types`
and the checker's declarations, dispatch, limits, tables and values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.declarations import declare, reserved
from quiesce_check.lang.checker.dispatch import rule_for
from quiesce_check.lang.checker.limits import MAX_DOMAIN, MAX_SLOTS_PER_VAR
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.checker.values import slots
from quiesce_check.lang.errors import Span, nearest
from quiesce_check.lang.types import (
    BOOL,
    TArray,
    TEnum,
    TInt,
    TRecord,
    Type,
    Value,
    comparable,
    is_finite_scalar,
    scalar_values,
    size,
)

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker

Domain = tuple[Type, tuple[Value, ...]]


class TypeResolver:
    def __init__(self, cx: Checker) -> None:
        self.cx = cx
        self.tables = cx.tables
        self._rules: dict[type, Callable[[Any], Type | None]] = {
            A.BoolType: self._bool, A.NamedType: self._named, A.RangeType: self._range,
            A.EnumType: self._enum, A.ArrayType: self._array, A.RecordType: self._record,
        }

    def resolve_type(self, t: A.TypeExpr) -> Type | None:
        """The type `t` stands for, or None once reported."""
        rule = rule_for(self._rules, t)
        if rule is None:
            raise AssertionError(t)
        return rule(t)

    def _bool(self, t: A.BoolType) -> Type | None:
        return BOOL

    def _named(self, t: A.NamedType) -> Type | None:
        if t.name in self.tables.type_names:
            return self.tables.type_names[t.name]
        kind = self.tables.decl_kind.get(t.name)
        if kind == "type":
            return None  # a type whose own declaration failed: reported there, once
        if kind is not None:
            self.tables.error("E012", f"`{t.name}` is a {kind}, not a type", t.span)
        else:
            self.tables.error("E011", f"unknown type `{t.name}`", t.span,
                              nearest(t.name, list(self.tables.type_names) + ["bool"]))
        return None

    def _range(self, t: A.RangeType) -> Type | None:
        lo = self.cx.constants.eval_constant(t.lo, "a range bound")
        hi = self.cx.constants.eval_constant(t.hi, "a range bound")
        if lo is None or hi is None:
            return None
        if not isinstance(lo[1], TInt) or not isinstance(hi[1], TInt):
            self.tables.error("E020", "range bounds must be integers", t.span)
            return None
        if int(lo[0]) > int(hi[0]):
            self.tables.error("E024", f"empty range {lo[0]}..{hi[0]}", t.span,
                              "the lower bound must not exceed the upper bound")
            return None
        return TInt(int(lo[0]), int(hi[0]))

    def _enum(self, t: A.EnumType) -> Type | None:
        names = tuple(m.name for m in t.members)
        enum = TEnum("enum{" + ",".join(names) + "}", names)
        for i, m in enumerate(t.members):
            if declare(self.tables, m.name, m.span, "enum member"):
                self.tables.consts[m.name] = (i, enum)
        return enum

    def _array(self, t: A.ArrayType) -> Type | None:
        index = self.resolve_type(t.index)
        elem = self.resolve_type(t.elem)
        if index is None or elem is None:
            return None
        if not is_finite_scalar(index):
            self.tables.error("E020", f"an array index must be bool, a range or an enum, not {index}", t.index.span)
            return None
        arr = TArray(index, elem)  # type: ignore[arg-type]
        if size(index) * slots(elem) > MAX_SLOTS_PER_VAR:
            self.tables.error("E024", f"array type with {size(index) * slots(elem)} elements is too large",
                              t.span, f"at most {MAX_SLOTS_PER_VAR} scalar elements per variable")
            return None
        return arr

    def _record(self, t: A.RecordType) -> Type | None:
        fields: list[tuple[str, Type]] = []
        seen: dict[str, Span] = {}
        for f in t.fields:
            reserved(self.tables, f.name, f.span)
            if f.name in seen:
                self.tables.error("E010", f"field `{f.name}` is declared twice", f.span,
                                  related=(("first declared", seen[f.name]),))
                continue
            seen[f.name] = f.span
            ft = self.resolve_type(f.type)
            if ft is None:
                return None
            fields.append((f.name, ft))
        return TRecord(tuple(fields))

    def resolve_domain(self, d: A.Domain, scope: Scope) -> Domain | None:
        """A domain's element type and values (recorded in `domains`), or None once reported."""
        if isinstance(d, A.SetLit):
            result = self._set(d, scope)
        else:
            result = self._type_domain(d)
        if result is None:
            return None
        self.tables.domains[id(d)] = result
        return result

    def _set(self, d: A.SetLit, scope: Scope) -> Domain | None:
        if not d.items:
            self.tables.error("E024", "an empty set", d.span, "a choice needs at least one value")
            return None
        values: list[Value] = []
        elem: Type | None = None
        for item in d.items:
            r = self.cx.constants.eval_constant(item, "a set element", scope)
            if r is None:
                return None
            v, t = r
            if elem is None:
                elem = t
            elif not comparable(elem, t):
                self.tables.error("E020", f"set elements of different types: {elem} and {t}", item.span)
                return None
            if v not in values:
                values.append(v)
        assert elem is not None
        if isinstance(elem, TInt):
            elem = TInt(min(int(v) for v in values), max(int(v) for v in values))
        return (elem, tuple(values))

    def _type_domain(self, d: A.TypeExpr) -> Domain | None:
        dt = self.resolve_type(d)
        if dt is None:
            return None
        if not is_finite_scalar(dt):
            self.tables.error("E020", f"a domain must be bool, a range, an enum or a set, not {dt}", d.span)
            return None
        if size(dt) > MAX_DOMAIN:
            self.tables.error("E024", f"domain with {size(dt)} values is too large to enumerate", d.span)
            return None
        return (dt, scalar_values(dt))  # type: ignore[arg-type]
