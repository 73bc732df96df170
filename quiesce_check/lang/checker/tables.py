"""Stage 2: the side tables the checking passes share, and the scope code is checked in.

Takes nothing; gives `Tables`, everything the passes learn about one model (filled as they
run, in the driver's order, and handed on as the `CheckedModel`), and `Scope`, the names
bound where an expression or statement stands. The AST is never changed: what the passes
learn about a node is kept here under its identity. Imports `lang.ast`, `lang.errors`,
`lang.types` and the checker's `results`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.results import ActionInfo, ProcInfo, Ref, RoutineInfo, VarInfo
from quiesce_check.lang.errors import Diagnostic, Span
from quiesce_check.lang.types import TInt, Type, Value


@dataclass
class Scope:
    """Where code stands: its bound names, its process (for its locals), its file."""

    bound: dict[str, Type]
    proc: ProcInfo | None
    consts: dict[str, Value] = field(default_factory=dict)  # bound names with known values
    origin: str = ""  # the file whose code this is ("" for the model): it may assign its own `protected` variables
    step: bool = False  # an `always step` property's expression: `x'` and `by P` may stand here

    @property
    def library(self) -> bool:
        """Code of a used file: its bound names may shadow what the model declares."""
        return self.origin != ""

    def bind(self, name: str, t: Type) -> Scope:
        """This scope with `name` bound to a value of type `t`."""
        return Scope({**self.bound, name: t}, self.proc, self.consts, self.origin, self.step)


@dataclass(eq=False)
class Tables:
    """What the passes know about one model.

    The passes (see the package docstring for their order) fill the declaration tables; the
    services they call (type resolution, expression typing, statement checking, routine
    checking, the symmetry rules) fill the node tables wherever code is checked, which is in
    every pass from `constants` to `properties`. Node tables are keyed by `id(node)`."""

    # -- inputs, read by every pass
    model: A.Model
    overrides: dict[str, Value]        # `--param` values: read by `declare` (unknown names), `constants`
    origins: dict[int, str]            # id(decl) -> the file it came from, "" or absent for the model
    select: list[str] | None           # `--property` names: read by `properties`

    # -- every diagnostic, in the order found; the driver stops before lowering if any
    diags: list[Diagnostic] = field(default_factory=list)

    # -- filled by `declare` (and, for enum members, by type resolution in `constants`)
    declared: dict[str, Span] = field(default_factory=dict)  # every top-level name -> where declared
    decl_kind: dict[str, str] = field(default_factory=dict)  # name -> "param", "var", "def", ...
    # defs and procs by name: states advanced by routine checking, read by expression typing
    # (calls, bare defs), the symmetry rules (def bodies) and the `hook` pass
    routines: dict[str, RoutineInfo] = field(default_factory=dict)
    hook: A.HookDecl | None = None     # the model's hook: read by `hook`

    # -- filled by `constants`; read by constant evaluation, type resolution, expression typing
    params: dict[str, Value] = field(default_factory=dict)          # params and obligations -> value
    param_types: dict[str, Type] = field(default_factory=dict)      # param -> bool, int or its enum
    consts: dict[str, tuple[Value, Type]] = field(default_factory=dict)  # params, consts, enum members
    obligations: dict[str, str] = field(default_factory=dict)       # obligation -> what it requires
    type_names: dict[str, Type] = field(default_factory=dict)       # declared type name -> type
    # `symmetric type` name -> its type and declaration: read by the symmetry rules (E027's hint)
    symmetric: dict[str, tuple[TInt, A.TypeDecl]] = field(default_factory=dict)

    # -- filled by `variables` (globals) and `processes` (procs and their locals); read by
    #    expression typing, the symmetry rules, `state width`, `hook` and the driver
    globals: dict[str, VarInfo] = field(default_factory=dict)
    procs: dict[str, ProcInfo] = field(default_factory=dict)

    # -- filled by `actions`, read by the driver
    actions: list[ActionInfo] = field(default_factory=list)

    # -- filled by `properties`: the active properties by kind (lemmas are invariants), and the
    #    premise of every invariant or final property that is an implication
    props: dict[str, list[A.PropertyDecl]] = field(default_factory=lambda: {
        "invariant": [], "reachable": [], "terminal": [], "final": []})
    premises: dict[str, A.Expr] = field(default_factory=dict)
    # -- filled by `temporal`: the active liveness and step properties, the fairness declarations
    liveness: list[A.LivenessDecl] = field(default_factory=list)
    step_props: list[A.StepPropertyDecl] = field(default_factory=list)
    fairness: list[tuple[A.FairnessDecl, Value | None]] = field(default_factory=list)  # and the instance

    # -- node tables, filled wherever code is checked
    types: dict[int, Type] = field(default_factory=dict)      # expression -> its type (read by constant evaluation)
    refs: dict[int, Ref] = field(default_factory=dict)        # Name -> what it names (read by assignments, symmetry)
    proc_fields: dict[int, VarInfo] = field(default_factory=dict)  # `P.x` -> the local `x` (read by assignments)
    # domain -> element type and values: read by constant evaluation, `for` statements and the
    # positions of `processes` (a `for` of steps is resolved when its process's labels are)
    # (values None: a set computed in the state, `with m in msgs`)
    domains: dict[int, tuple[Type, tuple[Value, ...] | None]] = field(default_factory=dict)
    calls: dict[int, RoutineInfo] = field(default_factory=dict)  # Call or CallStmt -> the def or proc
    builtins: dict[int, str] = field(default_factory=dict)  # Call -> the built-in it is (`card`, `len`, ...)
    # a domain that is a set the state holds -> the expression to evaluate (a bare name's own node)
    domain_exprs: dict[int, A.Expr] = field(default_factory=dict)
    qualified: dict[int, tuple[Value, Type]] = field(default_factory=dict)  # `Phase.Idle` -> member, enum
    # an enum member name two enums declare -> the enums (the bare name is refused, E045)
    ambiguous: dict[str, list[Type]] = field(default_factory=dict)
    by_calls: dict[int, A.Call] = field(default_factory=dict)  # `by(x)` -> the call of the model's def `by`
    # how deep constant evaluation is: inside it, a use of a def or proc is refused (E023)
    in_constant: int = 0
    # how deep the typing of a variable's initial value is: only there may `any` stand (E044)
    in_initial: int = 0

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None,
              related: tuple[tuple[str, Span], ...] = ()) -> None:
        self.diags.append(Diagnostic(code, message, span, hint, related))

    def origin(self, d: A.Decl) -> str:
        """The file `d` came from, "" for the model itself."""
        return self.origins.get(id(d), "")
