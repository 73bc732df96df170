"""Stage 2, pass `temporal`: liveness properties, `always step` properties and fairness.

Takes the `Tables` after `properties`; types the predicates of every liveness property as
booleans with its parameters bound, the expression of every `always step` property as a
boolean in a scope where `x'` and `by P` may stand (E042 anywhere else, checked by
expression typing), and checks that every fairness declaration names a process, one of
its instances, a labelled statement of it, or an action (E043). Fills `liveness` and
`step_props` with the active ones (not `optional`, or named by a `check` declaration;
with `--property`, those it names) and `fairness` with every declaration. Imports
`lang.ast`, `lang.errors` and the checker's declarations and tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.declarations import bind_params
from quiesce_check.lang.checker.tables import Scope, Tables
from quiesce_check.lang.errors import nearest
from quiesce_check.lang.types import Value

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker


def check_temporal(cx: Checker) -> None:
    t = cx.tables
    named = {n.name for d in t.model.decls if isinstance(d, A.CheckDecl) for n in d.names}
    for d in t.model.decls:
        if isinstance(d, A.LivenessDecl):
            if _liveness(cx, d) and _active(t, d, named):
                t.liveness.append(d)
        elif isinstance(d, A.StepPropertyDecl):
            ok = cx.exprs.expect(d.expr, Scope({}, None, step=True), "bool") is not None
            if ok and _active(t, d, named):
                t.step_props.append(d)
        elif isinstance(d, A.FairnessDecl):
            ok, index = _fairness(cx, d)
            if ok:
                t.fairness.append((d, index))


def _active(t: Tables, d: A.LivenessDecl | A.StepPropertyDecl, named: set[str]) -> bool:
    if t.select is not None:
        return d.name in t.select
    return not d.optional or d.name in named


def _liveness(cx: Checker, d: A.LivenessDecl) -> bool:
    scope, _, ok = bind_params(cx, d.params, Scope({}, None), dynamic=False)
    if not ok:
        return False
    ok = cx.exprs.expect(d.p, scope, "bool") is not None
    return (d.q is None or cx.exprs.expect(d.q, scope, "bool") is not None) and ok


def _fairness(cx: Checker, d: A.FairnessDecl) -> tuple[bool, Value | None]:
    """Whether `d` names what exists, and the instance `fair process P[i]` names."""
    t = cx.tables
    if d.target == "system":
        return True, None
    if d.target == "process" or d.label is not None:
        proc = t.procs.get(d.name)
        if proc is None:
            t.error("E043", f"`fair {d.target}` names no process `{d.name}`", d.span,
                    nearest(d.name, list(t.procs)))
            return False, None
        if d.label is not None and d.label not in proc.positions.labels:
            t.error("E043", f"process `{d.name}` has no label `{d.label}`", d.span,
                    nearest(d.label, list(proc.positions.labels)))
            return False, None
        if d.index is None:
            return True, None
        if proc.index_type is None:
            t.error("E043", f"process `{d.name}` has one instance: write `fair process {d.name};`", d.index.span)
            return False, None
        got = cx.constants.eval_constant(d.index, "a process index")
        if got is None:
            return False, None
        if got[0] not in proc.index_values:
            t.error("E043", f"process `{d.name}` has no instance {got[0]}", d.index.span)
            return False, None
        return True, got[0]
    if d.name not in {a.name for a in t.actions}:
        t.error("E043", f"`fair action` names no action `{d.name}`", d.span,
                nearest(d.name, [a.name for a in t.actions]) or
                "name a declared action, or a labelled statement as `Process.label`")
        return False, None
    return True, None
