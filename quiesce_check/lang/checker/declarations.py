"""Stage 2, pass `declare`: every top-level name, once; and the rules every name obeys.

Takes the `Tables` of a model; fills `declared`, `decl_kind`, `routines` (one unchecked
record per def and proc) and `hook`, and reports reserved words (E013), names declared
twice (E010), unresolved `use`s (E014) and `--param` names the model does not declare
(E040). `reserved`, `declare` and `bind_ok` are the same rules for the names later passes
meet (enum members, record fields, locals, labels, bound names). Imports `lang.ast`,
`lang.errors`, `lang.parser` (its keywords) and the checker's dispatch, limits,
results and tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.dispatch import rule_for
from quiesce_check.lang.checker.limits import MAX_DOMAIN, VERDICT_NAMES
from quiesce_check.lang.checker.results import RoutineInfo
from quiesce_check.lang.checker.tables import Scope, Tables
from quiesce_check.lang.errors import Span, nearest
from quiesce_check.lang.parser import keywords
from quiesce_check.lang.types import Type, Value, all_values, size

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker


def reserved(t: Tables, name: str, span: Span) -> bool:
    """Report (E013) and say so when `name` is a reserved word."""
    if name in keywords():
        t.error("E013", f"`{name}` is a reserved word and cannot be a name", span, "choose another name")
        return True
    return False


def bind_params(cx: Checker, params: Sequence[A.ActionParam], scope: Scope, dynamic: bool = True
                ) -> tuple[Scope, list[tuple[str, Type, tuple[Value, ...]]], bool]:
    """Parameters `x in D` bound in turn: the scope with them, each one's name, type and
    values, and whether all of them checked (each one that did not is reported). A parameter
    over a set the state holds (`m in msgs`, only where `dynamic`) takes every value of the
    set's element type; the action's guard tests membership."""
    out: list[tuple[str, Type, tuple[Value, ...]]] = []
    ok = True
    for p in params:
        r = cx.types.resolve_domain(p.domain, scope)
        if r is None or not bind_ok(cx.tables, p.name, p.span, scope):
            ok = False
            continue
        values = r[1]
        if values is None and not dynamic:
            cx.tables.error("E020", "this parameter must range over a constant domain", p.domain.span,
                            "a type or a constant set: one property per value")
            ok = False
            continue
        if values is None:
            if size(r[0]) > MAX_DOMAIN:
                cx.tables.error("E024", f"domain with {size(r[0])} values is too large to enumerate", p.domain.span)
                ok = False
                continue
            values = tuple(all_values(r[0]))
        out.append((p.name, r[0], values))
        scope = scope.bind(p.name, r[0])
    return scope, out, ok


def declare(t: Tables, name: str, span: Span, kind: str) -> bool:
    """Declare a top-level name; False (reported) when it is reserved or taken."""
    if reserved(t, name, span):
        return False
    if name in t.declared:
        t.error("E010", f"`{name}` is declared twice", span,
                related=(("first declared", t.declared[name]),))
        return False
    t.declared[name] = span
    t.decl_kind[name] = kind
    return True


def bind_ok(t: Tables, name: str, span: Span, scope: Scope) -> bool:
    """May a binder (quantifier, `with`, `for`, `let`, parameter) bind `name` here?"""
    if reserved(t, name, span):
        return False
    if scope.library:
        return True  # a used file's bound names may shadow what the model declares
    if name in t.declared or name in scope.bound or (scope.proc and name in scope.proc.locals):
        where = t.declared.get(name)
        t.error("E010", f"`{name}` is already declared; a bound name must be new", span,
                related=(("declared", where),) if where else ())
        return False
    return True


def _named(kind: str) -> Callable[[Tables, Any], None]:
    """The rule of a declaration that only names something of `kind`."""
    def rule(t: Tables, d: Any) -> None:
        declare(t, d.name, d.span, kind)
    return rule


def _property(t: Tables, d: A.PropertyDecl) -> None:
    if d.name in VERDICT_NAMES:
        t.error("E013", f"`{d.name}` names the built-in {d.name} verdict and cannot name a "
                "property", d.span, "choose another name; results report the "
                f"{d.name} check under this name")
    else:
        declare(t, d.name, d.span, d.kind)


def _temporal(t: Tables, d: A.LivenessDecl | A.StepPropertyDecl) -> None:
    kind = "liveness" if isinstance(d, A.LivenessDecl) else "step property"
    if d.name in VERDICT_NAMES:
        t.error("E013", f"`{d.name}` names the built-in {d.name} verdict and cannot name a "
                "property", d.span, "choose another name")
    else:
        declare(t, d.name, d.span, kind)


def _routine(t: Tables, d: A.DefDecl | A.ProcDecl) -> None:
    kind = "def" if isinstance(d, A.DefDecl) else "proc"
    if declare(t, d.name, d.span, kind):
        t.routines[d.name] = RoutineInfo(d.name, d)


def _hook(t: Tables, d: A.HookDecl) -> None:
    if t.hook is not None:
        t.error("E010", "a second hook in one model", d.span,
                related=(("the first", t.hook.span),))
    elif declare(t, d.name, d.span, "hook"):
        t.hook = d


def _use(t: Tables, d: A.UseDecl) -> None:
    t.error("E014", f"`use {d.target}` was not resolved", d.span,
            "check the model with the quiesce-check command, which reads what `use` names")


# what each declaration declares (a `check` declaration declares nothing)
_RULES: dict[type, Callable[[Tables, Any], None]] = {
    A.ParamDecl: _named("param"), A.ConstDecl: _named("const"), A.TypeDecl: _named("type"),
    A.VarDecl: _named("var"), A.ProcessDecl: _named("process"), A.ActionDecl: _named("action"),
    A.PropertyDecl: _property, A.DefDecl: _routine, A.ProcDecl: _routine, A.ObligationDecl: _named("param"),
    A.HookDecl: _hook, A.UseDecl: _use, A.LivenessDecl: _temporal, A.StepPropertyDecl: _temporal,
    A.FairnessDecl: lambda t, d: None,
}


def declare_all(cx: Checker) -> None:
    t = cx.tables
    for d in t.model.decls:
        rule = rule_for(_RULES, d)
        if rule is not None:
            rule(t, d)
    params = [d.name for d in t.model.decls if isinstance(d, A.ParamDecl | A.ObligationDecl)]
    for name in t.overrides:
        if name not in params:
            t.error("E040", f"--param {name}: the model declares no parameter `{name}`", None,
                    nearest(name, params) or (
                        "the model's parameters are " + ", ".join(params) if params
                        else "the model declares no parameters"))
