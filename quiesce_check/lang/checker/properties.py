"""Stage 2, pass `properties`: invariants and lemmas, final-state properties, reachability
goals, terminal predicates; which of them are checked; the premises of implications.

Takes the `Tables` after `routines`; types every property as a boolean, checks the names of
`check` declarations (E036) and of `--property` (E040), and fills `props` with the active
properties by kind (a lemma is an invariant) and `premises` with the premise of every
active invariant and final property that is an implication, for vacuity. Imports
`lang.ast`, `lang.errors`, `lang.types` and the checker's tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.tables import Scope, Tables
from quiesce_check.lang.errors import nearest
from quiesce_check.lang.types import BOOL

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker

Properties = dict[str, A.PropertyDecl]
_PROPERTY_KINDS = ("invariant", "lemma", "reachable", "terminal", "final")
# checked by the `temporal` pass, named by `check` and `--property` as the others
TEMPORAL_KINDS = ("liveness", "step property")


def select_properties(cx: Checker) -> None:
    props: Properties = {}
    for d in cx.tables.model.decls:
        if isinstance(d, A.PropertyDecl) and cx.exprs.expect(d.expr, Scope({}, None), "bool") is not None:
            props[d.name] = d
    checked = _checked(cx.tables, props)
    if cx.tables.select is not None:
        _check_selection(cx.tables, cx.tables.select, props)
    _activate(cx.tables, props, checked)


def _checked(t: Tables, props: Properties) -> set[str]:
    """The properties that `check` declarations name."""
    checked: set[str] = set()
    for d in t.model.decls:
        if not isinstance(d, A.CheckDecl):
            continue
        for n in d.names:
            if n.name in props:
                checked.add(n.name)
            elif t.decl_kind.get(n.name) in _PROPERTY_KINDS + TEMPORAL_KINDS:
                pass  # declared, but its expression failed to check and was reported, or temporal
            elif n.name in t.decl_kind:
                t.error("E036", f"`{n.name}` is a {t.decl_kind[n.name]}, not a property", n.span)
            else:
                t.error("E036", f"no property `{n.name}` to check", n.span,
                        nearest(n.name, [p.name for p in props.values() if p.optional]))
    return checked


def _check_selection(t: Tables, select: list[str], props: Properties) -> None:
    """Every `--property` name must be an invariant, final, liveness or step property."""
    selectable = [p.name for p in props.values() if p.kind in ("invariant", "final")]
    selectable += [d.name for d in t.model.decls if isinstance(d, A.LivenessDecl | A.StepPropertyDecl)]
    for name in select:
        if name not in selectable:
            t.error("E040", f"--property {name}: the model has no invariant, final, liveness or step "
                    f"property `{name}`",
                    None, nearest(name, selectable) or (
                        "its properties are " + ", ".join(selectable) if selectable
                        else "it declares none"))


def _activate(t: Tables, props: Properties, checked: set[str]) -> None:
    for d in props.values():
        if d.kind in ("invariant", "final") and t.select is not None:
            active = d.name in t.select
        else:
            active = not d.optional or d.name in checked
        if active:
            # a lemma is an invariant the symbolic engines may assume once proved: every
            # engine checks it as one (a user's `--property` selection keeps it)
            t.props["invariant" if d.kind == "lemma" else d.kind].append(d)
            premise = _premise(t, d.expr) if d.kind in ("invariant", "final") else None
            if premise is not None:
                t.premises[d.name] = premise


def _premise(t: Tables, e: A.Expr) -> A.Expr | None:
    """What must hold for an implication to say anything: `p` of `p => q`, `exists x: p`
    of `forall x: p => q`. None for a property that is not an implication."""
    if isinstance(e, A.Binary) and e.op == "=>":
        return e.left
    if isinstance(e, A.Quant) and e.kind == "forall":
        inner = _premise(t, e.body)
        if inner is None:
            return None
        q = A.Quant("exists", e.var, e.domain, inner, e.span)
        t.types[id(q)] = BOOL
        return q
    return None
