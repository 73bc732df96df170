"""Stage 2: the checked model. Names, constants, types, statement rules.

Takes an `ast.Model` and parameter overrides; gives a `CheckedModel`: the AST
untouched plus side tables (the type of every expression, what every name
refers to, the values of every domain) and the declarations in resolved form.
Passes run in a fixed order and collect every diagnostic; `check` raises
`ModelError` with all of them if there are any. Imports only `lang.*`.

Passes:
  1. declare   every top-level name once (params, consts, types, enum members,
               variables, defs, procs, processes, actions, properties)
  2. evaluate  params (with overrides), consts and types, in declaration order
  3. variables their types and initial values
  4. defs and procs: parameters and bodies, each checked once (calls are
               checked against the parameter types; recursion is refused)
  5. processes locals, statements, labels, control positions
  6. actions   parameters, guards, bodies
  7. properties invariants and lemmas, final-state properties, reachability
               goals, terminal predicates; `check` selections; the premise of
               every invariant and final property that is an implication, for
               vacuity
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import Diagnostic, ModelError, Span, nearest
from quiesce_check.lang.parser import keywords
from quiesce_check.lang.positions import ProcPositions, build_positions
from quiesce_check.lang.types import (
    BOOL,
    INT,
    Scalar,
    TArray,
    TBool,
    TEnum,
    TInt,
    TProc,
    TRecord,
    Type,
    Value,
    all_values,
    comparable,
    compatible,
    is_finite_scalar,
    scalar_values,
    size,
    sym_clash,
    sym_of,
)

# Names of the verdicts every search reports beside the model's own properties (a property
# of that name would be reported as the verdict and the verdict as the property).
VERDICT_NAMES = frozenset({"deadlock"})

# A type with more values than this cannot be a domain or a `for` range.
MAX_DOMAIN = 1 << 16
# A single variable with more values than this is refused (its slots would not fit a state).
MAX_SLOTS_PER_VAR = 1 << 14
# A state with more scalar slots than this (all variables, every process instance's program
# counter and locals) is refused: no explicit-state search explores states that wide.
MAX_STATE_SLOTS = 1 << 16


# ------------------------------------------------------------------ results


@dataclass(eq=False)
class VarInfo:
    name: str
    type: Type
    decl: A.VarDecl
    owner: ProcInfo | None = None
    init_values: tuple[Value, ...] = ()

    origin: str = ""  # the file that declares it ("" for the model itself)

    @property
    def protected(self) -> bool:
        return self.decl.modifier == "protected"


@dataclass(eq=False)
class ProcInfo:
    name: str
    decl: A.ProcessDecl
    index_type: Scalar | None
    index_values: tuple[Value, ...]  # () for a process with one instance
    locals: dict[str, VarInfo] = field(default_factory=dict)
    positions: ProcPositions = field(default_factory=ProcPositions)

    @property
    def instances(self) -> tuple[Value | None, ...]:
        return self.index_values if self.index_type is not None else (None,)


@dataclass(eq=False)
class ActionInfo:
    name: str
    decl: A.ActionDecl
    params: tuple[tuple[str, Scalar, tuple[Value, ...]], ...]


@dataclass(eq=False)
class RoutineInfo:
    """A `def` (a named expression) or a `proc` (named atomic code): checked once,
    inlined at every use."""

    name: str
    decl: A.DefDecl | A.ProcDecl
    params: tuple[tuple[str, Type], ...] = ()
    result: Type | None = None  # a def's value type
    state: str = "new"          # new | checking | done | failed


@dataclass(frozen=True)
class RConst:
    value: Value
    type: Type


@dataclass(frozen=True)
class RVar:
    var: VarInfo


@dataclass(frozen=True)
class RBound:
    name: str
    type: Type


@dataclass(frozen=True)
class RProc:
    proc: ProcInfo


@dataclass(frozen=True)
class RDef:
    """A name that stands for a `def` without parameters."""

    routine: RoutineInfo


Ref = RConst | RVar | RBound | RProc | RDef


@dataclass(eq=False)
class CheckedModel:
    ast: A.Model
    params: dict[str, Value]
    consts: dict[str, tuple[Value, Type]]
    type_names: dict[str, Type]
    globals: list[VarInfo]
    processes: list[ProcInfo]
    actions: list[ActionInfo]
    invariants: list[A.PropertyDecl]   # the invariants and the lemmas (kind "lemma"), in order
    reachables: list[A.PropertyDecl]
    terminals: list[A.PropertyDecl]
    types: dict[int, Type]          # id(expr) -> type
    refs: dict[int, Ref]            # id(Name) -> what it names
    proc_fields: dict[int, VarInfo]  # id(Field on a process) -> that process's local
    domains: dict[int, tuple[Type, tuple[Value, ...]]]  # id(domain) -> element type, values
    finals: list[A.PropertyDecl] = field(default_factory=list)
    calls: dict[int, RoutineInfo] = field(default_factory=dict)  # id(Call or CallStmt) -> def or proc
    # property name -> the premise of its implication (`p` of `p => q`, `exists x: p` of
    # `forall x: p => q`): a property whose premise never holds is vacuous
    premises: dict[str, A.Expr] = field(default_factory=dict)
    param_types: dict[str, Type] = field(default_factory=dict)
    obligations: dict[str, str] = field(default_factory=dict)  # a hook's obligations: name -> text
    hook: A.HookDecl | None = None
    # the `symmetric type` declarations, by name: the type and the declaration
    symmetric: dict[str, tuple[TInt, A.TypeDecl]] = field(default_factory=dict)

    def type_of(self, e: A.Expr) -> Type:
        return self.types[id(e)]


class _NotConst(Exception):
    def __init__(self, span: Span, why: str) -> None:
        self.span = span
        self.why = why


# ------------------------------------------------------------------ checker


@dataclass
class _Scope:
    bound: dict[str, Type]
    proc: ProcInfo | None
    consts: dict[str, Value] = field(default_factory=dict)  # bound names with known values
    origin: str = ""  # the file whose code this is ("" for the model): it may assign its own `protected` variables

    @property
    def library(self) -> bool:
        """Code of a used file: its bound names may shadow what the model declares."""
        return self.origin != ""


class Checker:
    premises: dict[str, A.Expr]

    def __init__(self, model: A.Model, overrides: dict[str, Value], origins: dict[int, str] | None = None,
                 select: Sequence[str] | None = None) -> None:
        self.model = model
        self.overrides = overrides
        self.origins = origins or {}
        self.select = list(select) if select is not None else None
        self.routines: dict[str, RoutineInfo] = {}
        self.calls: dict[int, RoutineInfo] = {}
        self.in_constant = 0
        self.param_types: dict[str, Type] = {}
        self.premises = {}
        self.obligations: dict[str, str] = {}   # name -> what it requires, in declaration order
        self.hook: A.HookDecl | None = None
        self.symmetric: dict[str, tuple[TInt, A.TypeDecl]] = {}
        self.diags: list[Diagnostic] = []
        self.declared: dict[str, Span] = {}
        self.decl_kind: dict[str, str] = {}
        self.params: dict[str, Value] = {}
        self.consts: dict[str, tuple[Value, Type]] = {}
        self.type_names: dict[str, Type] = {}
        self.globals: dict[str, VarInfo] = {}
        self.procs: dict[str, ProcInfo] = {}
        self.actions: list[ActionInfo] = []
        self.props: dict[str, list[A.PropertyDecl]] = {"invariant": [], "reachable": [], "terminal": [],
                                                       "final": []}
        self.types: dict[int, Type] = {}
        self.refs: dict[int, Ref] = {}
        self.proc_fields: dict[int, VarInfo] = {}
        self.domains: dict[int, tuple[Type, tuple[Value, ...]]] = {}

    # diagnostics ---------------------------------------------------------
    def error(self, code: str, message: str, span: Span | None, hint: str | None = None,
              related: tuple[tuple[str, Span], ...] = ()) -> None:
        self.diags.append(Diagnostic(code, message, span, hint, related))

    # pass 1 ---------------------------------------------------------------
    def reserved(self, name: str, span: Span) -> bool:
        if name in keywords():
            self.error("E013", f"`{name}` is a reserved word and cannot be a name", span, "choose another name")
            return True
        return False

    def declare(self, name: str, span: Span, kind: str) -> bool:
        if self.reserved(name, span):
            return False
        if name in self.declared:
            self.error("E010", f"`{name}` is declared twice", span,
                       related=(("first declared", self.declared[name]),))
            return False
        self.declared[name] = span
        self.decl_kind[name] = kind
        return True

    def pass_declare(self) -> None:
        for d in self.model.decls:
            if isinstance(d, A.ParamDecl):
                self.declare(d.name, d.span, "param")
            elif isinstance(d, A.ConstDecl):
                self.declare(d.name, d.span, "const")
            elif isinstance(d, A.TypeDecl):
                self.declare(d.name, d.span, "type")
            elif isinstance(d, A.VarDecl):
                self.declare(d.name, d.span, "var")
            elif isinstance(d, A.ProcessDecl):
                self.declare(d.name, d.span, "process")
            elif isinstance(d, A.ActionDecl):
                self.declare(d.name, d.span, "action")
            elif isinstance(d, A.PropertyDecl):
                if d.name in VERDICT_NAMES:
                    self.error("E013", f"`{d.name}` names the built-in {d.name} verdict and cannot name a "
                               "property", d.span, "choose another name; results report the "
                               f"{d.name} check under this name")
                else:
                    self.declare(d.name, d.span, d.kind)
            elif isinstance(d, A.DefDecl | A.ProcDecl):
                kind = "def" if isinstance(d, A.DefDecl) else "proc"
                if self.declare(d.name, d.span, kind):
                    self.routines[d.name] = RoutineInfo(d.name, d)
            elif isinstance(d, A.ObligationDecl):
                self.declare(d.name, d.span, "param")
            elif isinstance(d, A.HookDecl):
                if self.hook is not None:
                    self.error("E010", "a second hook in one model", d.span,
                               related=(("the first", self.hook.span),))
                elif self.declare(d.name, d.span, "hook"):
                    self.hook = d
            elif isinstance(d, A.UseDecl):
                self.error("E014", f"`use {d.target}` was not resolved", d.span,
                           "check the model with the quiesce-check command, which reads what `use` names")
        for name in self.overrides:
            params = [d.name for d in self.model.decls if isinstance(d, A.ParamDecl | A.ObligationDecl)]
            if name not in params:
                self.error("E040", f"--param {name}: the model declares no parameter `{name}`", None,
                           nearest(name, params) or (
                               "the model's parameters are " + ", ".join(params) if params
                               else "the model declares no parameters"))

    # pass 2: constants ----------------------------------------------------
    def const_eval(self, e: A.Expr, bound: dict[str, Value] | None = None) -> Value:
        """Evaluate an expression that may use only params, consts and bound names."""
        b = bound or {}
        if isinstance(e, A.IntLit):
            return e.value
        if isinstance(e, A.BoolLit):
            return e.value
        if isinstance(e, A.Name):
            if e.name in b:
                return b[e.name]
            if e.name in self.consts:
                return self.consts[e.name][0]
            raise _NotConst(e.span, f"`{e.name}` is not a constant")
        if isinstance(e, A.Unary):
            v = self.const_eval(e.operand, b)
            return (not v) if e.op == "not" else -int(v)
        if isinstance(e, A.Binary):
            x = self.const_eval(e.left, b)
            if e.op == "and" and not x:
                return False
            if e.op == "or" and x:
                return True
            if e.op == "=>" and not x:
                return True
            y = self.const_eval(e.right, b)
            return _apply(e.op, x, y, e.span)
        if isinstance(e, A.IfExpr):
            return self.const_eval(e.then if self.const_eval(e.cond, b) else e.orelse, b)
        if isinstance(e, A.ArrayLit):
            return tuple(self.const_eval(x, b) for x in e.items)
        if isinstance(e, A.RecordLit):
            return tuple(self.const_eval(x, b) for _, x in e.fields)
        if isinstance(e, A.ArrayComp):
            _, values = self.domains[id(e.domain)]
            return tuple(self.const_eval(e.body, {**b, e.var: v}) for v in values)
        if isinstance(e, A.Quant):
            _, values = self.domains[id(e.domain)]
            results = [bool(self.const_eval(e.body, {**b, e.var: v})) for v in values]
            if e.kind == "forall":
                return all(results)
            if e.kind == "exists":
                return any(results)
            return sum(results)
        if isinstance(e, A.Index):
            base = self.const_eval(e.base, b)
            idx = self.const_eval(e.index, b)
            bt = self.types.get(id(e.base))
            if isinstance(bt, TArray) and isinstance(base, tuple):
                from quiesce_check.lang.types import index_position
                p = index_position(bt.index, idx)
                if 0 <= p < len(base):
                    return base[p]
            raise _NotConst(e.span, "index out of range")
        if isinstance(e, A.Field):
            base = self.const_eval(e.base, b)
            bt = self.types.get(id(e.base))
            if isinstance(bt, TRecord) and isinstance(base, tuple):
                names = [n for n, _ in bt.fields]
                return base[names.index(e.name)]
        raise _NotConst(e.span, "this expression is not constant")

    def eval_constant(self, e: A.Expr, what: str, scope: _Scope | None = None) -> tuple[Value, Type] | None:
        self.in_constant += 1
        try:
            t = self.expr_type(e, scope or _Scope({}, None))
        finally:
            self.in_constant -= 1
        if t is None:
            return None
        try:
            return self.const_eval(e, scope.consts if scope else None), t
        except _NotConst as exc:
            self.error("E023", f"{what} must be constant: {exc.why}", exc.span)
            return None

    def resolve_type(self, t: A.TypeExpr) -> Type | None:
        if isinstance(t, A.BoolType):
            return BOOL
        if isinstance(t, A.NamedType):
            if t.name in self.type_names:
                return self.type_names[t.name]
            kind = self.decl_kind.get(t.name)
            if kind == "type":
                return None  # a type whose own declaration failed: reported there, once
            if kind is not None:
                self.error("E012", f"`{t.name}` is a {kind}, not a type", t.span)
            else:
                self.error("E011", f"unknown type `{t.name}`", t.span,
                           nearest(t.name, list(self.type_names) + ["bool"]))
            return None
        if isinstance(t, A.RangeType):
            lo = self.eval_constant(t.lo, "a range bound")
            hi = self.eval_constant(t.hi, "a range bound")
            if lo is None or hi is None:
                return None
            if not isinstance(lo[1], TInt) or not isinstance(hi[1], TInt):
                self.error("E020", "range bounds must be integers", t.span)
                return None
            if int(lo[0]) > int(hi[0]):
                self.error("E024", f"empty range {lo[0]}..{hi[0]}", t.span,
                           "the lower bound must not exceed the upper bound")
                return None
            return TInt(int(lo[0]), int(hi[0]))
        if isinstance(t, A.EnumType):
            names = tuple(m.name for m in t.members)
            enum = TEnum("enum{" + ",".join(names) + "}", names)
            for i, m in enumerate(t.members):
                if self.declare(m.name, m.span, "enum member"):
                    self.consts[m.name] = (i, enum)
            return enum
        if isinstance(t, A.ArrayType):
            index = self.resolve_type(t.index)
            elem = self.resolve_type(t.elem)
            if index is None or elem is None:
                return None
            if not is_finite_scalar(index):
                self.error("E020", f"an array index must be bool, a range or an enum, not {index}", t.index.span)
                return None
            arr = TArray(index, elem)  # type: ignore[arg-type]
            if size(index) * _slots(elem) > MAX_SLOTS_PER_VAR:
                self.error("E024", f"array type with {size(index) * _slots(elem)} elements is too large",
                           t.span, f"at most {MAX_SLOTS_PER_VAR} scalar elements per variable")
                return None
            return arr
        if isinstance(t, A.RecordType):
            fields: list[tuple[str, Type]] = []
            seen: dict[str, Span] = {}
            for f in t.fields:
                self.reserved(f.name, f.span)
                if f.name in seen:
                    self.error("E010", f"field `{f.name}` is declared twice", f.span,
                               related=(("first declared", seen[f.name]),))
                    continue
                seen[f.name] = f.span
                ft = self.resolve_type(f.type)
                if ft is None:
                    return None
                fields.append((f.name, ft))
            return TRecord(tuple(fields))
        raise AssertionError(t)

    def resolve_domain(self, d: A.Domain, scope: _Scope) -> tuple[Type, tuple[Value, ...]] | None:
        if isinstance(d, A.SetLit):
            if not d.items:
                self.error("E024", "an empty set", d.span, "a choice needs at least one value")
                return None
            values: list[Value] = []
            elem: Type | None = None
            for item in d.items:
                r = self.eval_constant(item, "a set element", scope)
                if r is None:
                    return None
                v, t = r
                if elem is None:
                    elem = t
                elif not comparable(elem, t):
                    self.error("E020", f"set elements of different types: {elem} and {t}", item.span)
                    return None
                if v not in values:
                    values.append(v)
            assert elem is not None
            if isinstance(elem, TInt):
                elem = TInt(min(int(v) for v in values), max(int(v) for v in values))
            result = (elem, tuple(values))
        else:
            dt = self.resolve_type(d)
            if dt is None:
                return None
            if not is_finite_scalar(dt):
                self.error("E020", f"a domain must be bool, a range, an enum or a set, not {dt}", d.span)
                return None
            if size(dt) > MAX_DOMAIN:
                self.error("E024", f"domain with {size(dt)} values is too large to enumerate", d.span)
                return None
            result = (dt, scalar_values(dt))  # type: ignore[arg-type]
        self.domains[id(d)] = result
        return result

    def pass_constants(self) -> None:
        for d in self.model.decls:
            if isinstance(d, A.ParamDecl):
                r = self.eval_constant(d.default, f"the default of parameter `{d.name}`")
                if r is None:
                    continue
                v, t = r
                if not isinstance(t, TBool | TInt | TEnum):
                    self.error("E020", "a parameter must be an integer, a boolean or an enum member",
                               d.default.span)
                    continue
                if d.name in self.overrides:
                    ov = _param_value(t, self.overrides[d.name])
                    if ov is None:
                        self.error("E040", f"--param {d.name}={_show(self.overrides[d.name])}: `{d.name}` is "
                                   + _param_kind(t), d.span)
                    else:  # the default stands in for a refused value: no errors that follow from it
                        v = ov
                self.params[d.name] = v
                self.param_types[d.name] = t if isinstance(t, TEnum) else BOOL if isinstance(t, TBool) else INT
                self.consts[d.name] = (v, self.param_types[d.name])
            elif isinstance(d, A.ObligationDecl):
                self.obligation(d)
            elif isinstance(d, A.ConstDecl):
                r = self.eval_constant(d.value, f"constant `{d.name}`")
                if r is not None:
                    self.consts[d.name] = r
            elif isinstance(d, A.TypeDecl):
                named = self.resolve_type(d.type)
                if named is not None and d.symmetric:
                    named = self.symmetric_type(d, named)
                if named is not None:
                    self.type_names[d.name] = named

    def symmetric_type(self, d: A.TypeDecl, t: Type) -> Type | None:
        """`symmetric type T = lo..hi;`: a range of its own whose values are interchangeable."""
        if not isinstance(d.type, A.RangeType) or not isinstance(t, TInt):
            self.error("E027", f"only a range `lo..hi` can be symmetric, not {t}", d.type.span,
                       "declare the interchangeable values as a range, e.g. `symmetric type T = 0..N - 1;`")
            return None
        sym = TInt(t.lo, t.hi, d.name)
        self.symmetric[d.name] = (sym, d)
        return sym

    def sym_misuse(self, span: Span, what: str, a: Type, b: Type | None = None) -> None:
        """E027: a symmetric type's value used where it would single one value out."""
        name = sym_of(a) or (sym_of(b) if b is not None else None)
        decl = self.symmetric.get(name or "")
        related = (("declared symmetric", decl[1].span),) if decl else ()
        if b is None:
            message = f"{what} on a value of the symmetric type {a}"
        else:
            message = f"{what}: {a} and {b} (a symmetric type mixes only with itself)"
        self.error("E027", message, span, "values of a symmetric type may only be compared with `==` and "
                   "`!=`, index arrays indexed by their type, and come from quantifiers, `with`, parameters "
                   "and process indices", related)

    def independent_rounds(self, s: A.For, t: Type) -> None:
        """E027 unless a `for` loop over a symmetric type does the same whatever the order of its
        rounds: each round writes only state indexed by the loop's value, and reads what the
        loop writes only there (so no round sees another's writes), and it calls no proc."""
        body = _Rounds(self.routines, frozenset(self.procs), self.refs)
        body.walk(s.body, s.var)
        writes, reads, calls = body.writes, body.reads, body.calls
        for span in calls:
            self.sym_misuse(span, f"a proc called inside `for {s.var} in {t}` (it may write what another round "
                            "reads, so the order of the rounds could matter)", t)
            return
        # the steps of its path at which every write to a variable is indexed by the loop's value:
        # rounds write disjoint parts of it exactly when there is one
        common: dict[str, frozenset[int]] = {}
        for name, at, span in writes:
            common[name] = common.get(name, at) & at
            if not common[name]:
                self.sym_misuse(span, f"inside `for {s.var} in {t}`, a write to `{name}` not indexed by `{s.var}` "
                                "where its other writes are (rounds could overwrite each other: their order "
                                "would decide)", t)
                return
        for name, at, span in reads:
            if name == EVERYTHING and common:
                self.sym_misuse(span, f"inside `for {s.var} in {t}`, a process's position, which depends on the "
                                "conditions on its way there and so may read what the loop writes (a round "
                                "would see the rounds before it)", t)
                return
            if name in common and not at & common[name]:
                self.sym_misuse(span, f"inside `for {s.var} in {t}`, a read of `{name}`, which the loop writes, "
                                f"not indexed by `{s.var}` where the loop writes it (a round would see the rounds "
                                "before it)", t)
                return

    def obligation(self, d: A.ObligationDecl) -> None:
        """An obligation is a boolean parameter: true, or what a `use` argument or --param says."""
        on: Value = True
        if d.value is not None:
            r = self.eval_constant(d.value, f"obligation `{d.name}`")
            if r is None:
                return
            if not isinstance(r[1], TBool):
                self.error("E020", f"obligation `{d.name}` is true or false, not {r[1]}", d.value.span)
                return
            on = r[0]
        if d.name in self.overrides:
            given = _param_value(BOOL, self.overrides[d.name])
            if given is None:
                self.error("E040", f"--param {d.name}={_show(self.overrides[d.name])}: `{d.name}` is an "
                           "obligation: true or false", d.span)
            else:
                on = given
        self.params[d.name] = on
        self.param_types[d.name] = BOOL
        self.consts[d.name] = (on, BOOL)
        self.obligations[d.name] = d.text

    # pass 3: variables ----------------------------------------------------
    def var_info(self, d: A.VarDecl, owner: ProcInfo | None, scope: _Scope) -> VarInfo | None:
        if d.type is None:
            return None  # reported when the model was put together
        t = self.resolve_type(d.type)
        if t is None:
            return None
        info = VarInfo(d.name, t, d, owner, origin=self.origins.get(id(d), ""))
        if d.init is not None:
            r = self.eval_constant(d.init, f"the initial value of `{d.name}`", scope)
            if r is None:
                return info
            v, vt = r
            if not compatible(t, vt):
                self.error("E021", f"`{d.name}` is {t} but its initial value is {vt}", d.init.span)
                return info
            clash = sym_clash(t, vt)
            if clash is not None:
                self.sym_misuse(d.init.span, "an initial value that singles out a value", *clash)
                return info
            if not _fits(t, v):
                self.error("E021", f"initial value {_show(v)} is outside {t}", d.init.span)
                return info
            info.init_values = (_normalise(t, v),)
        elif isinstance(d.init_domain, A.SetLit):
            r2 = self.resolve_domain(d.init_domain, scope)
            if r2 is None:
                return info
            et, values = r2
            if not compatible(t, et) or not all(_fits(t, v) for v in values):
                self.error("E021", f"initial values of `{d.name}` must be of type {t}", d.init_domain.span)
                return info
            clash = sym_clash(t, et)
            if clash is not None:
                self.sym_misuse(d.init_domain.span, "initial values that single out values", *clash)
                return info
            info.init_values = tuple(_normalise(t, v) for v in values)
        elif d.init_domain is not None:
            dt = t if d.init_domain is d.type else self.resolve_type(d.init_domain)
            if dt is None:
                return info
            if not compatible(t, dt):
                self.error("E021", f"`{d.name}` is {t} but its initial domain is {dt}", d.init_domain.span)
                return info
            clash = sym_clash(t, dt)
            if clash is not None:
                self.sym_misuse(d.init_domain.span, "initial values that single out values", *clash)
                return info
            n = size(dt)
            if n > MAX_DOMAIN:
                self.error("E024", f"{n} initial values for `{d.name}` are too many to enumerate", d.init_domain.span)
                return info
            values = tuple(_normalise(t, v) for v in all_values(dt))
            bad = [v for v in values if not _fits(t, v)]
            if bad:
                self.error("E021", f"initial value {_show(bad[0])} is outside {t}", d.init_domain.span)
                return info
            info.init_values = values
        else:
            self.error("E021", f"`{d.name}` has no initial value", d.span,
                       "write `= value`, `in {a, b}` for a choice, or `= any` for any value of its type")
        return info

    def pass_variables(self) -> None:
        for d in self.model.decls:
            if isinstance(d, A.VarDecl):
                info = self.var_info(d, None, _Scope({}, None))
                if info is not None:
                    self.globals[d.name] = info

    def pass_state_width(self) -> None:
        """The whole state must stay within MAX_STATE_SLOTS scalars; blame the widest part."""
        parts: list[tuple[int, str, Span]] = [(_slots(v.type), f"`{v.name}`", v.decl.span)
                                              for v in self.globals.values()]
        for proc in self.procs.values():
            width = 1 + sum(_slots(v.type) for v in proc.locals.values())
            parts.append((width * len(proc.instances), f"the {len(proc.instances)} instance(s) of `{proc.name}`",
                          proc.decl.span))
        total = sum(n for n, _, _ in parts)
        if total > MAX_STATE_SLOTS:
            n, what, span = max(parts, key=lambda p: p[0])
            self.error("E024", f"a state would hold {total} scalar values; at most {MAX_STATE_SLOTS}", span,
                       f"the widest part, {what}, holds {n}")

    # expressions ----------------------------------------------------------
    def expr_type(self, e: A.Expr, scope: _Scope) -> Type | None:
        t = self._expr_type(e, scope)
        if t is not None:
            self.types[id(e)] = t
        return t

    def _expect(self, e: A.Expr, scope: _Scope, want: str) -> Type | None:
        t = self.expr_type(e, scope)
        if t is None:
            return None
        ok = isinstance(t, TBool) if want == "bool" else isinstance(t, TInt)
        if not ok:
            self.error("E020", f"expected {'a boolean' if want == 'bool' else 'an integer'}, found {t}", e.span)
            return None
        return t

    def _expr_type(self, e: A.Expr, scope: _Scope) -> Type | None:
        if isinstance(e, A.IntLit):
            return INT
        if isinstance(e, A.BoolLit):
            return BOOL
        if isinstance(e, A.Name):
            return self.name_type(e, scope)
        if isinstance(e, A.Unary):
            ut = self._expect(e.operand, scope, "bool" if e.op == "not" else "int")
            if ut is not None and sym_of(ut) is not None:
                self.sym_misuse(e.span, "arithmetic", ut)
                return None
            return ut and (BOOL if e.op == "not" else INT)
        if isinstance(e, A.Binary):
            if e.op in ("and", "or", "=>"):
                a = self._expect(e.left, scope, "bool")
                b = self._expect(e.right, scope, "bool")
                return BOOL if a and b else None
            if e.op in ("+", "-", "*", "/", "%", "<", "<=", ">", ">="):
                a = self._expect(e.left, scope, "int")
                b = self._expect(e.right, scope, "int")
                if not (a and b):
                    return None
                ordering = e.op in ("<", "<=", ">", ">=")
                for operand in (a, b):
                    if sym_of(operand) is not None:
                        self.sym_misuse(e.span, "an ordering comparison" if ordering else "arithmetic", operand)
                        return None
                return BOOL if ordering else INT
            a2 = self.expr_type(e.left, scope)
            b2 = self.expr_type(e.right, scope)
            if a2 is None or b2 is None:
                return None
            if isinstance(a2, TProc) or isinstance(b2, TProc) or not comparable(a2, b2):
                self.error("E020", f"cannot compare {a2} with {b2}", e.span)
                return None
            clash = sym_clash(a2, b2)
            if clash is not None:
                self.sym_misuse(e.span, "a comparison that singles out a value", *clash)
                return None
            return BOOL
        if isinstance(e, A.IfExpr):
            c = self._expect(e.cond, scope, "bool")
            a3 = self.expr_type(e.then, scope)
            b3 = self.expr_type(e.orelse, scope)
            if c is None or a3 is None or b3 is None:
                return None
            clash = sym_clash(a3, b3)
            if clash is not None:
                self.sym_misuse(e.span, "branches that mix types", *clash)
                return None
            if isinstance(a3, TInt) and isinstance(b3, TInt):
                return a3 if a3.sym is not None else INT
            if not comparable(a3, b3):
                self.error("E020", f"the branches have different types: {a3} and {b3}", e.span)
                return None
            return a3
        if isinstance(e, A.Quant):
            r = self.resolve_domain(e.domain, scope)
            if r is None or not self.bind_ok(e.var, e.span, scope):
                return None
            inner = self.bind(scope, e.var, r[0])
            if self._expect(e.body, inner, "bool") is None:
                return None
            return INT if e.kind == "count" else BOOL
        if isinstance(e, A.ArrayComp):
            r = self.resolve_domain(e.domain, scope)
            if r is None or not self.bind_ok(e.var, e.span, scope):
                return None
            if not isinstance(e.domain, A.SetLit) and not is_finite_scalar(r[0]):
                return None
            if isinstance(e.domain, A.SetLit):
                self.error("E020", "an array is indexed by a type, not a set", e.domain.span)
                return None
            inner = self.bind(scope, e.var, r[0])
            et = self.expr_type(e.body, inner)
            return None if et is None else TArray(r[0], et)  # type: ignore[arg-type]
        if isinstance(e, A.ArrayLit):
            if not e.items:
                self.error("E025", "an empty array literal", e.span)
                return None
            ts = [self.expr_type(x, scope) for x in e.items]
            if any(t is None for t in ts):
                return None
            first = ts[0]
            assert first is not None
            for x, t in zip(e.items, ts, strict=True):
                assert t is not None
                if not comparable(first, t):
                    self.error("E020", f"array elements of different types: {first} and {t}", x.span)
                    return None
                clash = sym_clash(first, t)
                if clash is not None:
                    self.sym_misuse(x.span, "array elements that mix types", *clash)
                    return None
            plain = isinstance(first, TInt) and first.sym is None
            return TArray(TInt(0, len(e.items) - 1), INT if plain else first)
        if isinstance(e, A.RecordLit):
            fields: list[tuple[str, Type]] = []
            for name, x in e.fields:
                if name in [n for n, _ in fields]:
                    self.error("E026", f"field `{name}` given twice", x.span)
                    return None
                t = self.expr_type(x, scope)
                if t is None:
                    return None
                fields.append((name, t))
            return TRecord(tuple(fields))
        if isinstance(e, A.Index):
            bt = self.expr_type(e.base, scope)
            if bt is None:
                return None
            if isinstance(bt, TProc):
                if not bt.indexed:
                    self.error("E020", f"process `{bt.name}` has one instance and takes no index", e.span)
                    return None
                proc = self.procs[bt.name]
                assert proc.index_type is not None
                it = self.expr_type(e.index, scope)
                if it is None:
                    return None
                if not compatible(proc.index_type, it):
                    self.error("E020", f"process `{bt.name}` is indexed by {proc.index_type}, not {it}", e.index.span)
                    return None
                if sym_of(proc.index_type) != sym_of(it):
                    self.sym_misuse(e.index.span, "a process index", proc.index_type, it)
                    return None
                return TProc(bt.name, False)
            if not isinstance(bt, TArray):
                self.error("E020", f"cannot index a value of type {bt}", e.span)
                return None
            it = self.expr_type(e.index, scope)
            if it is None:
                return None
            if not compatible(bt.index, it):
                self.error("E020", f"the index must be {bt.index}, found {it}", e.index.span)
                return None
            if sym_of(bt.index) != sym_of(it):
                self.sym_misuse(e.index.span, "an index", bt.index, it)
                return None
            return bt.elem
        if isinstance(e, A.Field):
            bt = self.expr_type(e.base, scope)
            if bt is None:
                return None
            if isinstance(bt, TProc):
                proc = self.procs[bt.name]
                if bt.indexed:
                    self.error("E020", f"process `{bt.name}` is indexed: write `{bt.name}[i].{e.name}`", e.span)
                    return None
                var = proc.locals.get(e.name)
                if var is None:
                    self.error("E011", f"process `{bt.name}` has no variable `{e.name}`", e.span,
                               nearest(e.name, proc.locals))
                    return None
                self.proc_fields[id(e)] = var
                return var.type
            if not isinstance(bt, TRecord):
                self.error("E020", f"a value of type {bt} has no fields", e.span)
                return None
            ft = bt.field(e.name)
            if ft is None:
                self.error("E011", f"no field `{e.name}` in {bt}", e.span, nearest(e.name, [n for n, _ in bt.fields]))
                return None
            return ft
        if isinstance(e, A.Call):
            info = self.routine(e.name, e.span, "def")
            if info is None:
                return None
            if not self.call_args(info, e.args, e.span, scope):
                return None
            self.calls[id(e)] = info
            return info.result
        if isinstance(e, A.At):
            pt = self.expr_type(e.process, scope)
            if pt is None:
                return None
            if not isinstance(pt, TProc):
                self.error("E020", f"`@` applies to a process, not to a value of type {pt}", e.process.span)
                return None
            if pt.indexed:
                self.error("E020", f"process `{pt.name}` is indexed: write `{pt.name}[i]@{e.label}`", e.span)
                return None
            proc = self.procs[pt.name]
            if e.label not in proc.positions.labels:
                self.error("E032", f"process `{pt.name}` has no label `{e.label}`", e.span,
                           nearest(e.label, proc.positions.labels))
                return None
            return BOOL
        raise AssertionError(e)

    def name_type(self, e: A.Name, scope: _Scope) -> Type | None:
        n = e.name
        if n in scope.bound:
            self.refs[id(e)] = RBound(n, scope.bound[n])
            return scope.bound[n]
        if scope.proc is not None and n in scope.proc.locals:
            var = scope.proc.locals[n]
            self.refs[id(e)] = RVar(var)
            return var.type
        if n in self.consts:
            v, t = self.consts[n]
            self.refs[id(e)] = RConst(v, t)
            return t
        if n in self.globals:
            self.refs[id(e)] = RVar(self.globals[n])
            return self.globals[n].type
        if n in self.procs:
            p = self.procs[n]
            self.refs[id(e)] = RProc(p)
            return TProc(n, p.index_type is not None)
        if n in self.routines and isinstance(self.routines[n].decl, A.DefDecl):
            info = self.routine(n, e.span, "def")
            if info is None:
                return None
            if info.params:
                self.error("E035", f"`{n}` takes {len(info.params)} argument(s): write `{n}(...)`", e.span)
                return None
            self.refs[id(e)] = RDef(info)
            return info.result
        kind = self.decl_kind.get(n)
        if kind is not None:
            if kind in ("var", "const", "param", "process"):
                return None  # declared, but its own declaration failed and was reported
            self.error("E012", f"`{n}` is a {kind}, not a value", e.span)
            return None
        candidates = list(scope.bound) + list(self.consts) + list(self.globals) + list(self.procs) + [
            r.name for r in self.routines.values() if isinstance(r.decl, A.DefDecl)]
        if scope.proc is not None:
            candidates += list(scope.proc.locals)
        self.error("E011", f"unknown name `{n}`", e.span, nearest(n, candidates))
        return None

    def bind_ok(self, name: str, span: Span, scope: _Scope) -> bool:
        if self.reserved(name, span):
            return False
        if scope.library:
            return True  # a used file's bound names may shadow what the model declares
        if name in self.declared or name in scope.bound or (scope.proc and name in scope.proc.locals):
            where = self.declared.get(name)
            self.error("E010", f"`{name}` is already declared; a bound name must be new", span,
                       related=(("declared", where),) if where else ())
            return False
        return True

    # statements -----------------------------------------------------------
    def check_block(self, stmts: Sequence[A.Stmt], scope: _Scope, atomic: bool) -> None:
        for s in stmts:
            if isinstance(s, A.Let) and atomic:
                t = self.expr_type(s.value, scope)
                if t is not None and not isinstance(t, TProc) and self.bind_ok(s.name, s.span, scope):
                    scope = self.bind(scope, s.name, t)
                continue
            self.check_stmt(s, scope, atomic)

    def check_stmt(self, s: A.Stmt, scope: _Scope, atomic: bool) -> None:
        if isinstance(s, A.Assign):
            self.check_assign(s, scope)
        elif isinstance(s, A.Await | A.Assert):
            self._expect(s.cond, scope, "bool")
        elif isinstance(s, A.Skip):
            pass
        elif isinstance(s, A.If):
            self._expect(s.cond, scope, "bool")
            self.check_block(s.then, scope, atomic)
            self.check_block(s.orelse, scope, atomic)
        elif isinstance(s, A.While):
            if atomic:
                self.error("E030", "`while` may not stand inside one step (`atomic`, `with`, or an action)",
                           s.span, "use a bounded `for` loop, or move the loop out of the atomic block")
            self._expect(s.cond, scope, "bool")
            self.check_block(s.body, scope, atomic)
        elif isinstance(s, A.For):
            # a `for` outside one step was resolved when positions were laid out
            r = self.domains.get(id(s.domain))
            if r is None and atomic:
                r = self.resolve_domain(s.domain, scope)
            if r is None or not self.bind_ok(s.var, s.span, scope):
                return
            if not atomic and sym_of(r[0]) is not None:
                self.sym_misuse(s.span, "a `for` loop of steps (its positions take the values in order)", r[0])
                return
            self.check_block(s.body, self.bind(scope, s.var, r[0]), atomic)
            if sym_of(r[0]) is not None:
                self.independent_rounds(s, r[0])  # after the body: its names are resolved
        elif isinstance(s, A.Either):
            for b in s.branches:
                self.check_block(b, scope, atomic)
        elif isinstance(s, A.With):
            r = self.resolve_domain(s.domain, scope)
            if r is None or not self.bind_ok(s.var, s.span, scope):
                return
            inner = self.bind(scope, s.var, r[0])
            if s.where is not None:
                self._expect(s.where, inner, "bool")
            self.check_block(s.body, inner, True)
        elif isinstance(s, A.Atomic):
            self.check_block(s.body, scope, True)
        elif isinstance(s, A.Labeled):
            if atomic:
                self.error("E030", "a label inside one step names no position", s.span,
                           "put the label on the `atomic` or `with` statement itself")
            self.check_stmt(s.stmt, scope, atomic)
        elif isinstance(s, A.Let):
            self.error("E030", "`let` names a value inside one step, and this is not inside one", s.span,
                       "use it inside `atomic { ... }`, a `with`, a proc or an action")
        elif isinstance(s, A.CallStmt):
            info = self.routine(s.name, s.span, "proc")
            if info is not None and self.call_args(info, s.args, s.span, scope):
                self.calls[id(s)] = info
        else:
            raise AssertionError(s)

    def bind(self, scope: _Scope, name: str, t: Type) -> _Scope:
        return _Scope({**scope.bound, name: t}, scope.proc, scope.consts, scope.origin)

    def check_assign(self, s: A.Assign, scope: _Scope) -> None:
        root = s.target
        while isinstance(root, A.Index | A.Field):
            root = root.base
        assert isinstance(root, A.Name)
        tt = self.expr_type(s.target, scope)
        ref = self.refs.get(id(root))
        if isinstance(ref, RBound | RConst):
            self.error("E033", f"`{root.name}` is a constant or a bound name; it cannot be assigned", root.span)
            return
        if isinstance(ref, RProc) or id(s.target) in self.proc_fields or any(
                id(x) in self.proc_fields for x in _subexprs(s.target)):
            self.error("E022", "a process can assign only its own variables and global ones", s.target.span)
            return
        if isinstance(ref, RVar) and ref.var.protected and ref.var.origin != scope.origin:
            self.error("E034", f"`{root.name}` is written only by the operations of the vocabulary that declares it",
                       root.span, "call the vocabulary's operation that makes this change")
            return
        vt = self.expr_type(s.value, scope)
        if tt is None or vt is None:
            return
        if not compatible(tt, vt):
            self.error("E021", f"cannot assign a value of type {vt} to a target of type {tt}", s.value.span)
            return
        clash = sym_clash(tt, vt)
        if clash is not None:
            self.sym_misuse(s.value.span, "an assignment that singles out a value", *clash)

    # pass 4: defs and procs -----------------------------------------------
    def routine(self, name: str, span: Span, want: str) -> RoutineInfo | None:
        """The def or proc `name` (`want` says which this use needs), checked; None once reported."""
        if self.in_constant:
            self.error("E023", f"a constant expression cannot use the {want} `{name}`", span,
                       "declare a `const` instead")
            return None
        info = self.routines.get(name)
        if info is None:
            kind = self.decl_kind.get(name)
            if kind is not None:
                self.error("E012", f"`{name}` is a {kind}, not a {want}", span)
            else:
                self.error("E011", f"unknown {want} `{name}`", span,
                           nearest(name, [r.name for r in self.routines.values() if _routine_kind(r) == want]))
            return None
        if _routine_kind(info) != want:
            self.error("E012", f"`{name}` is a {_routine_kind(info)}, not a {want}", span,
                       "call a proc as a statement, `p(x);`, and use a def in an expression, `f(x)`")
            return None
        self.check_routine(info)
        return info if info.state == "done" else None

    def check_routine(self, info: RoutineInfo) -> None:
        if info.state in ("done", "failed"):
            return
        d = info.decl
        if info.state == "checking":
            self.error("E035", f"`{info.name}` uses itself", d.span,
                       "a def or proc is written out where it is used, so it cannot call itself")
            info.state = "failed"
            return
        info.state = "checking"
        before = len(self.diags)
        scope = _Scope({}, None, origin=self.origins.get(id(d), ""))
        params: list[tuple[str, Type]] = []
        for p in d.params:
            t: Type | None
            if isinstance(p.domain, A.SetLit):
                r = self.resolve_domain(p.domain, scope)
                t = r[0] if r is not None else None
            else:
                t = self.resolve_type(p.domain)
            if t is None or not self.bind_ok(p.name, p.span, scope):
                continue
            params.append((p.name, t))
            scope = self.bind(scope, p.name, t)
        info.params = tuple(params)
        if isinstance(d, A.DefDecl):
            info.result = self.expr_type(d.body, scope)
        else:
            self.check_block(d.body, scope, True)
        if info.state == "checking":
            info.state = "done" if len(self.diags) == before else "failed"

    def call_args(self, info: RoutineInfo, args: Sequence[A.Expr], span: Span, scope: _Scope) -> bool:
        if len(args) != len(info.params):
            self.error("E035", f"`{info.name}` takes {len(info.params)} argument(s), not {len(args)}", span,
                       related=(("declared", info.decl.span),))
            return False
        ok = True
        for a, (pname, pt) in zip(args, info.params, strict=True):
            at = self.expr_type(a, scope)
            if at is None:
                ok = False
            elif not compatible(pt, at):
                self.error("E020", f"`{info.name}`'s parameter `{pname}` is {pt}, not {at}", a.span)
                ok = False
            elif (clash := sym_clash(pt, at)) is not None:
                self.sym_misuse(a.span, f"an argument for `{info.name}`'s parameter `{pname}`", *clash)
                ok = False
        return ok

    def pass_routines(self) -> None:
        """Defs and procs that nothing used yet: their errors are reported all the same."""
        for info in self.routines.values():
            self.check_routine(info)

    # pass 5: processes ----------------------------------------------------
    def pass_processes(self) -> None:
        decls = [d for d in self.model.decls if isinstance(d, A.ProcessDecl)]
        for d in decls:
            index_type: Scalar | None = None
            index_values: tuple[Value, ...] = ()
            if d.index_domain is not None:
                r = self.resolve_domain(d.index_domain, _Scope({}, None))
                if r is None:
                    continue
                index_type, index_values = r[0], r[1]  # type: ignore[assignment]
            self.procs[d.name] = ProcInfo(d.name, d, index_type, index_values)
        for d in decls:
            proc = self.procs.get(d.name)
            if proc is None:
                continue
            base = _Scope({}, proc, origin=self.origins.get(id(d), ""))
            if d.index_var is not None:
                assert proc.index_type is not None
                if self.bind_ok(d.index_var, d.span, base):
                    base = self.bind(base, d.index_var, proc.index_type)
            for v in d.locals:
                if self.reserved(v.name, v.span):
                    continue
                if (v.name in self.declared and not base.library) or v.name in proc.locals or v.name in base.bound:
                    where = self.declared.get(v.name) or (proc.locals[v.name].decl.span if v.name in proc.locals else d.span)
                    self.error("E010", f"`{v.name}` is already declared", v.span, related=(("declared", where),))
                    continue
                info = self.var_info(v, proc, base)
                if info is not None:
                    proc.locals[v.name] = info
            self.collect_labels(d.body, {})
            proc.positions = build_positions(d.body, lambda dom: self.domains.get(id(dom), (None, ()))[1])
        for d in decls:
            proc = self.procs.get(d.name)
            if proc is None:
                continue
            base = _Scope({}, proc, origin=self.origins.get(id(d), ""))
            if d.index_var is not None and proc.index_type is not None:
                base = self.bind(base, d.index_var, proc.index_type)
            if d.when is not None:
                self._expect(d.when, base, "bool")
            self.check_block(d.body, base, False)

    def collect_labels(self, stmts: Sequence[A.Stmt], seen: dict[str, Span]) -> None:
        for s in stmts:
            if isinstance(s, A.Labeled):
                self.reserved(s.label, s.span)
                if s.label in seen:
                    self.error("E032", f"label `{s.label}` is declared twice in this process", s.span,
                               related=(("first declared", seen[s.label]),))
                seen[s.label] = s.span
                self.collect_labels([s.stmt], seen)
            elif isinstance(s, A.If):
                self.collect_labels(s.then, seen)
                self.collect_labels(s.orelse, seen)
            elif isinstance(s, A.While):
                self.collect_labels(s.body, seen)
            elif isinstance(s, A.For):
                # resolve the domain now: positions unroll the loop over its values
                if id(s.domain) not in self.domains:
                    self.resolve_domain(s.domain, _Scope({}, None))
                self.collect_labels(s.body, seen)
            elif isinstance(s, A.Either):
                for b in s.branches:
                    self.collect_labels(b, seen)

    # pass 6: actions ------------------------------------------------------
    def pass_actions(self) -> None:
        for d in self.model.decls:
            if not isinstance(d, A.ActionDecl):
                continue
            scope = _Scope({}, None, origin=self.origins.get(id(d), ""))
            params: list[tuple[str, Scalar, tuple[Value, ...]]] = []
            ok = True
            for p in d.params:
                r = self.resolve_domain(p.domain, scope)
                if r is None or not self.bind_ok(p.name, p.span, scope):
                    ok = False
                    continue
                params.append((p.name, r[0], r[1]))  # type: ignore[arg-type]
                scope = self.bind(scope, p.name, r[0])
            if d.when is not None:
                self._expect(d.when, scope, "bool")
            self.check_block(d.body, scope, True)
            if ok:
                self.actions.append(ActionInfo(d.name, d, tuple(params)))

    # pass 7: properties ---------------------------------------------------
    def pass_properties(self) -> None:
        props: dict[str, A.PropertyDecl] = {}
        for d in self.model.decls:
            if isinstance(d, A.PropertyDecl) and self._expect(d.expr, _Scope({}, None), "bool") is not None:
                props[d.name] = d
        checked: set[str] = set()
        for d in self.model.decls:
            if not isinstance(d, A.CheckDecl):
                continue
            for n in d.names:
                if n.name in props:
                    checked.add(n.name)
                elif self.decl_kind.get(n.name) in ("invariant", "lemma", "reachable", "terminal", "final"):
                    pass  # declared, but its expression failed to check and was reported
                elif n.name in self.decl_kind:
                    self.error("E036", f"`{n.name}` is a {self.decl_kind[n.name]}, not a property", n.span)
                else:
                    self.error("E036", f"no property `{n.name}` to check", n.span,
                               nearest(n.name, [p.name for p in props.values() if p.optional]))
        if self.select is not None:
            selectable = [p.name for p in props.values() if p.kind in ("invariant", "final")]
            for name in self.select:
                if name not in selectable:
                    self.error("E040", f"--property {name}: the model has no invariant or final property `{name}`",
                               None, nearest(name, selectable) or (
                                   "its properties are " + ", ".join(selectable) if selectable
                                   else "it declares none"))
        for d in props.values():
            if d.kind in ("invariant", "final") and self.select is not None:
                active = d.name in self.select
            else:
                active = not d.optional or d.name in checked
            if active:
                # a lemma is an invariant the symbolic engines may assume once proved: every
                # engine checks it as one (a user's `--property` selection keeps it)
                self.props["invariant" if d.kind == "lemma" else d.kind].append(d)
                premise = self.premise(d.expr) if d.kind in ("invariant", "final") else None
                if premise is not None:
                    self.premises[d.name] = premise

    def pass_hook(self) -> None:
        """A hook runs at a boolean def and binds processes of the model it is composed with."""
        d = self.hook
        if d is None:
            return
        info = self.routines.get(d.at.name)
        if info is None or not isinstance(info.decl, A.DefDecl) or info.params:
            self.error("E011", f"hook `{d.name}` runs at `{d.at.name}`, which is no def without parameters",
                       d.at.span, nearest(d.at.name, [r.name for r in self.routines.values()
                                                      if isinstance(r.decl, A.DefDecl) and not r.decl.params]))
        elif info.state == "done" and not isinstance(info.result, TBool):
            self.error("E020", f"hook `{d.name}` runs at `{d.at.name}`, which is not true or false", d.at.span)
        for b in d.binds:
            if b.name not in self.procs:
                self.error("E011", f"hook `{d.name}` binds `{b.name}`, and the model has no such process", b.span,
                           nearest(b.name, self.procs))

    def premise(self, e: A.Expr) -> A.Expr | None:
        """What must hold for an implication to say anything: `p` of `p => q`, `exists x: p`
        of `forall x: p => q`. None for a property that is not an implication."""
        if isinstance(e, A.Binary) and e.op == "=>":
            return e.left
        if isinstance(e, A.Quant) and e.kind == "forall":
            inner = self.premise(e.body)
            if inner is None:
                return None
            q = A.Quant("exists", e.var, e.domain, inner, e.span)
            self.types[id(q)] = BOOL
            return q
        return None

    def run(self) -> CheckedModel:
        self.pass_declare()
        self.pass_constants()
        self.pass_variables()
        self.pass_processes()
        self.pass_state_width()
        self.pass_actions()
        self.pass_routines()
        self.pass_properties()
        self.pass_hook()
        if not self.diags and not self.procs and not self.actions:
            self.error("E041", "the model has no process and no action: nothing can happen",
                       Span(self.model.path, 1, 1, 1, 2), "declare a `process` or an `action`")
        if self.diags:
            raise ModelError(self.diags)
        return CheckedModel(
            ast=self.model, params=self.params, consts=self.consts, type_names=self.type_names,
            globals=list(self.globals.values()), processes=list(self.procs.values()),
            actions=self.actions, invariants=self.props["invariant"],
            reachables=self.props["reachable"], terminals=self.props["terminal"],
            types=self.types, refs=self.refs, proc_fields=self.proc_fields, domains=self.domains,
            finals=self.props["final"], calls=self.calls, premises=self.premises, param_types=self.param_types,
            obligations=self.obligations, hook=self.hook, symmetric=self.symmetric)


def check(model: A.Model, overrides: dict[str, Value] | None = None, origins: dict[int, str] | None = None,
          select: Sequence[str] | None = None) -> CheckedModel:
    """Run every pass; raise `ModelError` with all diagnostics, or return the checked model.

    `origins` gives the file each declaration came from (`lang.modules`): a
    `protected` variable may be assigned only by code of its own file.
    `select`, when given, names the only invariants and final-state
    properties to check (`--property`)."""
    return Checker(model, dict(overrides or {}), origins, select).run()


# ------------------------------------------------------------------ helpers


# A constant may have at most this many bits (about 1200 decimal digits): more is no model's
# number, and Python refuses to print integers much longer.
MAX_CONST_BITS = 4000


def _apply(op: str, x: Any, y: Any, span: Span) -> Value:
    if op in ("/", "%") and y == 0:
        raise _NotConst(span, "division by zero")
    if op == "*" and abs(int(x)).bit_length() + abs(int(y)).bit_length() > MAX_CONST_BITS + 1:
        raise _NotConst(span, f"its value would have more than {MAX_CONST_BITS} bits")
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


def _slots(t: Type) -> int:
    if isinstance(t, TArray):
        return size(t.index) * _slots(t.elem)
    if isinstance(t, TRecord):
        return sum(_slots(ft) for _, ft in t.fields)
    return 1


def _fits(t: Type, v: Value) -> bool:
    if isinstance(t, TInt):
        return isinstance(v, int) and not isinstance(v, bool) and t.lo is not None and t.lo <= v <= (t.hi or 0)
    if isinstance(t, TArray):
        return isinstance(v, tuple) and all(_fits(t.elem, x) for x in v)
    if isinstance(t, TRecord):
        return isinstance(v, tuple) and all(_fits(ft, x) for (_, ft), x in zip(t.fields, v, strict=True))
    return True


def _normalise(t: Type, v: Value) -> Value:
    if isinstance(t, TBool):
        return bool(v)
    if isinstance(t, TArray):
        assert isinstance(v, tuple)
        return tuple(_normalise(t.elem, x) for x in v)
    if isinstance(t, TRecord):
        assert isinstance(v, tuple)
        return tuple(_normalise(ft, x) for (_, ft), x in zip(t.fields, v, strict=True))
    return v


def _show(v: Value) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _routine_kind(r: RoutineInfo) -> str:
    return "def" if isinstance(r.decl, A.DefDecl) else "proc"


def _param_value(t: Type, given: Value) -> Value | None:
    """A `--param` value for a parameter of type `t` (an enum member is given by name), or None."""
    if isinstance(t, TBool):
        return given if isinstance(given, bool) else None
    if isinstance(t, TInt):
        return given if isinstance(given, int) and not isinstance(given, bool) else None
    if isinstance(t, TEnum) and isinstance(given, str) and given in t.members:
        return t.members.index(given)
    return None


def _param_kind(t: Type) -> str:
    if isinstance(t, TEnum):
        return "one of " + ", ".join(t.members)
    return f"of type {'bool' if isinstance(t, TBool) else 'int'}"


def _subexprs(e: A.Expr) -> list[A.Expr]:
    out: list[A.Expr] = []
    while isinstance(e, A.Index | A.Field):
        out.append(e)
        e = e.base
    out.append(e)
    return out


def _place(e: A.Expr, var: str, procs: frozenset[str]) -> tuple[str, frozenset[int]] | None:
    """The variable an access path `x[i].f[j]` reaches, and the steps of the path (counted from
    the variable) whose index is `var`. A process's local read through the process (`P.x`,
    `P[e].x[j]`) is the local `x`: the loop may write it under its own name."""
    steps: list[bool] = []
    while isinstance(e, A.Index | A.Field):
        if isinstance(e, A.Field) and _names_process(e.base, procs):
            return e.name, frozenset(k for k, own in enumerate(reversed(steps)) if own)
        steps.append(isinstance(e, A.Index) and isinstance(e.index, A.Name) and e.index.name == var)
        e = e.base
    at = frozenset(k for k, own in enumerate(reversed(steps)) if own)
    return (e.name, at) if isinstance(e, A.Name) else None


def _names_process(e: A.Expr, procs: frozenset[str]) -> bool:
    if isinstance(e, A.Index):
        e = e.base
    return isinstance(e, A.Name) and e.name in procs


# A read of every variable: a process's position (`P@label`) is decided by the conditions on its
# way to the label, which may read anything.
EVERYTHING = "*"


class _Rounds:
    """The writes, reads and proc calls of a `for` loop's body, each write and read with the
    steps of its access path indexed by the loop's value (`var`), def bodies read as well.

    Names are taken as resolved: a def named bare is read like a call, and inside a binder
    that binds the loop's variable's name again (a quantifier, `[x in D: ...]`, `with`, an
    inner `for`, a `let`, which used files may do) nothing is the loop's own."""

    def __init__(self, routines: dict[str, RoutineInfo], procs: frozenset[str], refs: dict[int, Ref]) -> None:
        self.routines = routines
        self.procs = procs
        self.refs = refs
        self.writes: list[tuple[str, frozenset[int], Span]] = []
        self.reads: list[tuple[str, frozenset[int], Span]] = []
        self.calls: list[Span] = []
        self.seen_defs: set[tuple[str, str]] = set()

    def walk(self, node: object, var: str) -> None:
        if isinstance(node, tuple | list):
            for item in node:
                self.walk(item, var)
                if isinstance(item, A.Let) and item.name == var:
                    var = ""  # the rest of the block sees the `let`, not the loop's value
            return
        if isinstance(node, A.CallStmt):
            self.calls.append(node.span)
            return
        if isinstance(node, A.Assign):
            place = _place(node.target, var, self.procs)
            if place is not None:
                self.writes.append((*place, node.span))
            target: A.Expr = node.target  # the indexes of the target are reads
            while isinstance(target, A.Index | A.Field):
                if isinstance(target, A.Index):
                    self.walk(target.index, var)
                target = target.base
            self.walk(node.value, var)
            return
        if isinstance(node, A.Name) and isinstance(self.refs.get(id(node)), RDef):
            ref = self.refs[id(node)]
            assert isinstance(ref, RDef)
            self.read_def(ref.routine, "")
            return
        if isinstance(node, A.Name | A.Index | A.Field):
            place = _place(node, var, self.procs)
            if place is not None:
                self.reads.append((*place, node.span))
            inner: A.Expr = node
            while isinstance(inner, A.Index | A.Field):
                if isinstance(inner, A.Index):
                    self.walk(inner.index, var)
                inner = inner.base
            return
        if isinstance(node, A.At):
            self.reads.append((EVERYTHING, frozenset(), node.span))
            self.walk(node.process, var)
            return
        if isinstance(node, A.Call):
            info = self.routines.get(node.name)
            if info is not None and isinstance(info.decl, A.DefDecl):
                # inside a def, the loop's value is the parameter given exactly the loop's
                # variable (when one is), so `f(p)` reading `a[q]` reads `a[p]`
                given = [prm.name for prm, arg in zip(info.decl.params, node.args, strict=False)
                         if var and isinstance(arg, A.Name) and arg.name == var]
                self.read_def(info, given[0] if len(given) == 1 else "")
            self.walk(node.args, var)
            return
        if isinstance(node, A.Quant | A.ArrayComp | A.With | A.For) and node.var == var:
            self.walk(node.domain, var)
            var = ""
            for part in ("where", "body"):
                self.walk(getattr(node, part, None), var)
            return
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            for f in dataclasses.fields(node):
                if f.name != "span":
                    self.walk(getattr(node, f.name), var)

    def read_def(self, info: RoutineInfo, own: str) -> None:
        if (info.name, own) not in self.seen_defs:
            self.seen_defs.add((info.name, own))
            self.walk(info.decl.body, own)
