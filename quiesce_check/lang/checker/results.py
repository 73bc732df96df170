"""Stage 2 output: the checked model and the records it holds.

Takes nothing; gives `CheckedModel` (the AST untouched plus side tables keyed by node
identity, and the declarations in resolved form), the records of variables, processes,
actions and routines, and `Ref`, what a name refers to. The passes fill these; lowering,
the reference interpreter and the layout read them. Imports `lang.ast`, `lang.positions`,
`lang.types`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quiesce_check.lang import ast as A
from quiesce_check.lang.positions import ProcPositions
from quiesce_check.lang.types import Scalar, TInt, Type, Value


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
    domains: dict[int, tuple[Type, tuple[Value, ...] | None]]  # id(domain) -> element type, values
    # (None: a set computed in the state)
    finals: list[A.PropertyDecl] = field(default_factory=list)
    calls: dict[int, RoutineInfo] = field(default_factory=dict)  # id(Call or CallStmt) -> def or proc
    by_calls: dict[int, A.Call] = field(default_factory=dict)  # id(By) -> the call of a def `by`
    builtins: dict[int, str] = field(default_factory=dict)  # id(Call) -> built-in (`card`, `len`, ...)
    domain_exprs: dict[int, A.Expr] = field(default_factory=dict)  # id(domain) -> its set expression
    qualified: dict[int, tuple[Value, Type]] = field(default_factory=dict)  # id(`Phase.Idle`) -> member
    # property name -> the premise of its implication (`p` of `p => q`, `exists x: p` of
    # `forall x: p => q`): a property whose premise never holds is vacuous
    premises: dict[str, A.Expr] = field(default_factory=dict)
    param_types: dict[str, Type] = field(default_factory=dict)
    obligations: dict[str, str] = field(default_factory=dict)  # a hook's obligations: name -> text
    hook: A.HookDecl | None = None
    # the `symmetric type` declarations, by name: the type and the declaration
    symmetric: dict[str, tuple[TInt, A.TypeDecl]] = field(default_factory=dict)
    # the active liveness properties and `always step` properties, and every fairness declaration
    liveness: list[A.LivenessDecl] = field(default_factory=list)
    step_props: list[A.StepPropertyDecl] = field(default_factory=list)
    fairness: list[tuple[A.FairnessDecl, Value | None]] = field(default_factory=list)  # and the instance

    def type_of(self, e: A.Expr) -> Type:
        return self.types[id(e)]
