"""Stage 1 output: the abstract syntax tree of a QDL model.

Takes nothing; gives frozen, slotted node classes. Every node carries a source
`Span`, left out of equality so that parser tests can compare whole trees.
Nodes hold no behaviour and are never mutated: analysis results live in side
tables keyed by node identity (see the `checker` package). Imports nothing of
the project but `errors.Span`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from quiesce_check.lang.errors import Span

_NOSPAN = Span("<none>", 1, 1, 1, 1)


def _span() -> Span:
    return field(default=_NOSPAN, compare=False, repr=False)


# --------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class BoolType:
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class RangeType:
    lo: Expr
    hi: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class EnumType:
    members: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ArrayType:
    index: TypeExpr
    elem: TypeExpr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class RecordField:
    name: str
    type: TypeExpr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class RecordType:
    fields: tuple[RecordField, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class NamedType:
    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SetType:
    """`set of T`."""

    elem: TypeExpr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SeqType:
    """`seq[N] of T`: at most N elements."""

    capacity: Expr
    elem: TypeExpr
    span: Span = _span()


TypeExpr = BoolType | RangeType | EnumType | ArrayType | RecordType | NamedType | SetType | SeqType
TYPE_NODES = (BoolType, RangeType, EnumType, ArrayType, RecordType, NamedType, SetType, SeqType)


# --------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class IntLit:
    value: int
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Index:
    base: Expr
    index: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Field:
    base: Expr
    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class At:
    """`P@label` or `P[i]@label`: process P is about to run the labelled statement."""

    process: Expr
    label: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Prime:
    """`e'`: the value of `e` after the step (only in an `always step` property)."""

    base: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class By:
    """`by(P)`: the step was taken by process P (any of its instances) or is action P
    (only in an `always step` property). A model that declares a def `by` calls it instead."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" | "not"
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / % == != < <= > >= and or => in "not in" subset union minus intersect
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class IfExpr:
    cond: Expr
    then: Expr
    orelse: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Quant:
    kind: str  # "forall" | "exists" | "count"
    var: str
    domain: Domain
    body: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ArrayLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ArrayComp:
    """`[x in D: e]`: the array indexed by D whose element at x is e."""

    var: str
    domain: Domain
    body: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class RecordLit:
    fields: tuple[tuple[str, Expr], ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    """`f(a, b)`: the value of `def f` for these arguments."""

    name: str
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SetLit:
    """`{a, b, c}`, `{}`: a set (also a domain)."""

    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SetFilter:
    """`{x in D where p}`: the values of D for which p holds (every one without `where`)."""

    var: str
    domain: Domain
    where: Expr | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SetMap:
    """`{e for x in D where p}`: the values of e for the values x of D for which p holds."""

    body: Expr
    var: str
    domain: Domain
    where: Expr | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SeqLit:
    """`<<a, b>>`, `<<>>`: a sequence."""

    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Choose:
    """`choose x in D where p`: the least value of D for which p holds (a model error if none does)."""

    var: str
    domain: Domain
    where: Expr | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AnyValue:
    """`any` inside an initial value: every value of the type it stands for, one initial state each."""

    span: Span = _span()


Expr = (
    IntLit | BoolLit | Name | Index | Field | At | Unary | Binary | IfExpr | Quant | ArrayLit
    | ArrayComp | RecordLit | Call | Prime | By | SetLit | SetFilter | SetMap | SeqLit | Choose | AnyValue
)


# A domain is what a bound variable ranges over: a type (a range, an enum, a named type, bool),
# an explicit set of values `{a, b, c}`, or any expression whose value is a set.
Domain = TypeExpr | Expr


# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Assign:
    target: Expr
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Await:
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Assert:
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Skip:
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class While:
    cond: Expr
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class For:
    var: str
    domain: Domain
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Either:
    branches: tuple[tuple[Stmt, ...], ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class With:
    var: str
    domain: Domain
    where: Expr | None
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Atomic:
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Labeled:
    label: str
    stmt: Stmt
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Let:
    """`let x = e;` inside one step: `x` names the value of `e` for the rest of the block."""

    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class CallStmt:
    """`p(a, b);`: run `proc p` with these arguments (one step, or part of the enclosing one)."""

    name: str
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Send:
    """`send q, v;`: wait while the sequence q is full, then append v to it."""

    queue: Expr
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Receive:
    """`receive q -> x;`: wait while the sequence q is empty, then move its head into x."""

    queue: Expr
    target: Expr
    span: Span = _span()


Stmt = (Assign | Await | Assert | Skip | If | While | For | Either | With | Atomic | Labeled | Let | CallStmt
        | Send | Receive)


# -------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class ParamDecl:
    name: str
    default: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ConstDecl:
    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TypeDecl:
    name: str
    type: TypeExpr
    span: Span = _span()
    symmetric: bool = False  # `symmetric type T = lo..hi;`: no value of T is singled out


@dataclass(frozen=True, slots=True)
class VarDecl:
    """`var x: T = e;` (one initial value), `var x: T in D;` (any value of D).

    `type` is None only in `override var x = e;`, which keeps the replaced
    declaration's type."""

    name: str
    type: TypeExpr | None
    init: Expr | None
    init_domain: Domain | None
    span: Span = _span()
    modifier: str | None = None  # "default" | "override" | "protected"
    init_any: bool = False       # `= any`: every value of the type (then `init_domain` is the type)


@dataclass(frozen=True, slots=True)
class ProcessDecl:
    name: str
    index_var: str | None
    index_domain: Domain | None
    locals: tuple[VarDecl, ...]
    body: tuple[Stmt, ...]
    span: Span = _span()
    when: Expr | None = None      # every step of the process waits for this
    modifier: str | None = None   # "default" | "override"


@dataclass(frozen=True, slots=True)
class ActionParam:
    name: str
    domain: Domain
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ActionDecl:
    name: str
    params: tuple[ActionParam, ...]
    when: Expr | None
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class PropertyDecl:
    kind: Literal["invariant", "lemma", "reachable", "terminal", "final"]  # the keyword that declares it
    name: str
    expr: Expr
    span: Span = _span()
    optional: bool = False  # checked only when a `check` declaration (or --property) names it


TemporalKind = Literal["leads_to", "eventually", "always_eventually", "eventually_always"]


@dataclass(frozen=True, slots=True)
class LivenessDecl:
    """`liveness name(x in D): p ~> q;` (or `eventually p`, `always eventually p`,
    `eventually always p`): a property of every fair infinite behaviour, one per value of
    its parameters."""

    kind: TemporalKind
    name: str
    params: tuple[ActionParam, ...]
    p: Expr          # the premise of `~>`; the predicate of the others
    q: Expr | None   # what `~>` leads to
    span: Span = _span()
    optional: bool = False


@dataclass(frozen=True, slots=True)
class FairnessDecl:
    """`fair process P;`, `fair process P[i];`, `strong fair action a;`, `fair action P.label;`,
    `fair system;`: a behaviour in which the steps named stay enabled (weak), or are enabled
    again and again (strong), takes one of them again and again."""

    strong: bool
    target: Literal["process", "action", "system"]
    name: str                  # the process or action ("" for the system)
    label: str | None = None   # `fair action P.label`: one labelled statement of process P
    index: Expr | None = None  # `fair process P[i]`: one instance
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class StepPropertyDecl:
    """`always step name: e;`: `e` holds of every step, over the state before it, the state
    after it (`x'`) and who took it (`by P`)."""

    name: str
    expr: Expr
    span: Span = _span()
    optional: bool = False


@dataclass(frozen=True, slots=True)
class DefDecl:
    """`def f(x: T) = e;`: a named expression, inlined where it is used."""

    name: str
    params: tuple[ActionParam, ...]
    body: Expr
    span: Span = _span()
    modifier: str | None = None


@dataclass(frozen=True, slots=True)
class ProcDecl:
    """`proc p(x: T) { ... }`: named atomic code, run where it is called."""

    name: str
    params: tuple[ActionParam, ...]
    body: tuple[Stmt, ...]
    span: Span = _span()
    modifier: str | None = None


@dataclass(frozen=True, slots=True)
class UseArg:
    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class UseDecl:
    """`use xen(PAGES = 3);` (a vocabulary) or `use "lib.qdl";` (a file beside the model)."""

    target: str
    is_file: bool
    args: tuple[UseArg, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class CheckDecl:
    """`check a, b;`: the optional properties this model checks."""

    names: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ObligationDecl:
    """`obligation stop: "blkback takes no new request";`: a boolean parameter, true by default,
    that a hook's code consults; ablation sets it false."""

    name: str
    text: str
    span: Span = _span()
    value: Expr | None = None  # set by a `use` argument (`use "hook.qdl"(stop = false)`); true if None


@dataclass(frozen=True, slots=True)
class HookDecl:
    """`hook h: "..." at after_suspend binds Blkback, Toolstack;`: what a hook spec says of itself."""

    name: str
    text: str
    at: Name
    binds: tuple[Name, ...]
    span: Span = _span()


Decl = (
    ParamDecl | ConstDecl | TypeDecl | VarDecl | ProcessDecl | ActionDecl | PropertyDecl | DefDecl
    | ProcDecl | UseDecl | CheckDecl | ObligationDecl | HookDecl | LivenessDecl | FairnessDecl
    | StepPropertyDecl
)


@dataclass(frozen=True, slots=True)
class Model:
    decls: tuple[Decl, ...]
    path: str = field(default="<input>", compare=False)
    source: str = field(default="", compare=False, repr=False)
    # every file the declarations came from (the model, the vocabularies and files it uses)
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def text_of(self, path: str) -> str:
        return self.sources.get(path, self.source if path == self.path else "")
