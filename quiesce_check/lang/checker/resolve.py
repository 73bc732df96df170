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
from quiesce_check.lang.checker.evaluate import NotConst
from quiesce_check.lang.checker.limits import MAX_DOMAIN, MAX_SLOTS_PER_VAR
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.checker.values import slots
from quiesce_check.lang.errors import Span, nearest
from quiesce_check.lang.types import (
    BOOL,
    MAX_SET_VALUES,
    TArray,
    TEnum,
    TInt,
    TNothing,
    TProc,
    TRecord,
    TSeq,
    TSet,
    Type,
    Value,
    all_values,
    comparable,
    has_sym,
    is_finite_scalar,
    scalar_values,
    set_element_ok,
    size,
    sym_of,
    value_key,
)

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker

Domain = tuple[Type, tuple[Value, ...] | None]



class TypeResolver:
    def __init__(self, cx: Checker) -> None:
        self.cx = cx
        self.tables = cx.tables
        self._rules: dict[type, Callable[[Any], Type | None]] = {
            A.BoolType: self._bool, A.NamedType: self._named, A.RangeType: self._range,
            A.EnumType: self._enum, A.ArrayType: self._array, A.RecordType: self._record,
            A.SetType: self._set_type, A.SeqType: self._seq_type,
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
            if m.name in names[:i]:
                declare(self.tables, m.name, m.span, "enum member")  # E010: the same enum lists it twice
            elif self.tables.decl_kind.get(m.name) == "enum member" and (
                    m.name in self.tables.consts or m.name in self.tables.ambiguous):
                self._shared_member(m.name, enum)
            elif declare(self.tables, m.name, m.span, "enum member"):
                self.tables.consts[m.name] = (i, enum)
        return enum

    def _shared_member(self, name: str, enum: TEnum) -> None:
        """A member name a second enum declares: only its qualified forms name a value (E045)."""
        enums = self.tables.ambiguous.setdefault(name, [])
        if name in self.tables.consts:
            enums.append(self.tables.consts.pop(name)[1])
        if enum not in enums:
            enums.append(enum)
        if len(enums) == 1:  # the same enum again (a file used twice): the bare name is fine
            self.tables.consts[name] = (enum.members.index(name), enum)
            del self.tables.ambiguous[name]

    def _set_type(self, t: A.SetType) -> Type | None:
        elem = self.resolve_type(t.elem)
        if elem is None:
            return None
        if not set_element_ok(elem):
            self.tables.error("E020", f"a set's elements must be bool, ranges, enums, or records and arrays of "
                              f"them, not {elem}", t.elem.span, "a sequence or an array of sets may hold what a set "
                              "cannot")
            return None
        if size(elem) > MAX_SET_VALUES:
            self.tables.error("E024", f"a set of {elem} would need {size(elem):,} bits; at most {MAX_SET_VALUES:,}",
                              t.span)
            return None
        if has_sym(elem) and sym_of(elem) is None:
            self.cx.symmetry.sym_misuse(t.span, "a set of values that hold symmetric ones", elem)
            return None
        return TSet(elem)

    def _seq_type(self, t: A.SeqType) -> Type | None:
        cap = self.cx.constants.eval_constant(t.capacity, "a sequence's capacity")
        elem = self.resolve_type(t.elem)
        if cap is None or elem is None:
            return None
        if not isinstance(cap[1], TInt) or int(cap[0]) < 1:
            self.tables.error("E020", f"a sequence's capacity must be an integer of at least 1, not {cap[0]}",
                              t.capacity.span)
            return None
        if has_sym(elem):
            # its unused slots hold the element type's least value, which a permutation would move
            self.cx.symmetry.sym_misuse(t.span, "a sequence of symmetric values", elem)
            return None
        seq = TSeq(int(cap[0]), elem)
        if slots(seq) > MAX_SLOTS_PER_VAR:
            self.tables.error("E024", f"sequence type with {slots(seq)} elements is too large", t.span,
                              f"at most {MAX_SLOTS_PER_VAR} scalar elements per variable")
            return None
        return seq

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
        """A domain's element type and values (recorded in `domains`; values None for a set the
        state holds), or None once reported."""
        if isinstance(d, A.SetLit) and self._constant(d, scope):
            result = self._set(d, scope)
        elif isinstance(d, A.NamedType) and self._names_value(d.name, scope):
            name = A.Name(d.name, d.span)
            self.tables.domain_exprs[id(d)] = name  # kept: its tables entries are keyed by its id
            result = self._set_value(name, d, scope)
        elif isinstance(d, A.TYPE_NODES):
            result = self._type_domain(d)
        else:
            result = self._set_value(d, d, scope)
        if result is None:
            return None
        self.tables.domains[id(d)] = result
        return result

    def _names_value(self, name: str, scope: Scope) -> bool:
        t = self.tables
        return name not in t.type_names and (name in scope.bound or name in t.consts or name in t.globals
                                             or name in t.routines or (scope.proc is not None
                                                                       and name in scope.proc.locals))

    def _constant(self, d: A.SetLit, scope: Scope) -> bool:
        """Whether every element of a set literal is a constant (the domain is then fixed)."""
        names: list[str] = []
        stack: list[object] = list(d.items)
        while stack:
            x = stack.pop()
            if isinstance(x, A.Name):
                names.append(x.name)
            elif isinstance(x, A.Call | A.At | A.Prime | A.By):
                return False
            elif hasattr(x, "__dataclass_fields__"):
                stack.extend(getattr(x, f) for f in x.__dataclass_fields__ if f != "span")
            elif isinstance(x, tuple):
                stack.extend(x)
        t = self.tables
        return all(n in scope.consts or (n in t.consts and n not in scope.bound) for n in names)

    def _set_value(self, e: A.Expr, d: A.Domain, scope: Scope) -> Domain | None:
        """A domain that is a set-valued expression: constant (a const, `{1, 3} union {5}`) or not."""
        t = self.cx.exprs.expr_type(e, scope)
        if t is None:
            return None
        if not isinstance(t, TSet):
            self.tables.error("E020", f"a domain must be a type or a set, not a value of type {t}", d.span)
            return None
        if isinstance(t.elem, TNothing):
            return (BOOL, ())
        if isinstance(t.elem, TInt) and t.elem.lo is None:
            self.tables.error("E020", "the values of this set have no bounded type to range over", d.span,
                              "give its elements a range, for instance through a variable of type `set of 0..N`")
            return None
        self.tables.types[id(d)] = t
        try:
            value = self.cx.constants.const_eval(e, scope.consts)
        except NotConst:
            self.tables.domain_exprs.setdefault(id(d), e)
            return (t.elem, None)
        return (t.elem, tuple(sorted(value, key=lambda v: value_key(t.elem, v))))
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
        if not is_finite_scalar(dt) and (has_sym(dt) or isinstance(dt, TProc)):
            self.tables.error("E020", f"a domain of values that are not scalars must not hold symmetric ones: {dt}",
                              d.span)
            return None
        if size(dt) > MAX_DOMAIN:
            self.tables.error("E024", f"domain with {size(dt)} values is too large to enumerate", d.span)
            return None
        if not is_finite_scalar(dt):  # every set of a type, every record, array or sequence of one
            return (dt, tuple(all_values(dt)))
        return (dt, scalar_values(dt))  # type: ignore[arg-type]
