"""Stage 2, passes `variables` and `state width`: variables, their types and initial values,
and the width of the whole state.

Takes the `Tables` after `constants`. `var_info` resolves one variable (a global, or a
process's local for the pass `processes`): its type and its initial values, reporting
values of the wrong type or outside it and variables without one (E021), symmetric values
singled out (E027) and too many initial values (E024). The pass `check_globals` fills
`globals`; `check_state_width` (after `processes`) refuses a state wider than
`MAX_STATE_SLOTS` (E024). Imports `lang.ast`, `lang.errors`, `lang.types` and the checker's
limits, results, tables and values.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.evaluate import ANY
from quiesce_check.lang.checker.limits import MAX_DOMAIN, MAX_STATE_SLOTS
from quiesce_check.lang.checker.results import ProcInfo, VarInfo
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.checker.values import fits, normalise, show, slots
from quiesce_check.lang.errors import Span
from quiesce_check.lang.types import (
    TArray,
    TRecord,
    TSeq,
    TSet,
    Type,
    Value,
    all_values,
    compatible,
    size,
)

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker


def var_info(cx: Checker, d: A.VarDecl, owner: ProcInfo | None, scope: Scope) -> VarInfo | None:
    """The variable `d` declares, its initial values filled when they check; None when its
    type does not."""
    if d.type is None:
        return None  # reported when the model was put together
    t = cx.types.resolve_type(d.type)
    if t is None:
        return None
    info = VarInfo(d.name, t, d, owner, origin=cx.tables.origin(d))
    values: tuple[Value, ...] | None
    if d.init is not None:
        values = _init_value(cx, d, d.init, t, scope)
    elif d.init_domain is not None and not isinstance(d.init_domain, A.TYPE_NODES):
        values = _init_set(cx, d, d.init_domain, t, scope)
    elif d.init_domain is not None:
        values = _init_domain(cx, d, d.init_domain, t)
    else:
        cx.tables.error("E021", f"`{d.name}` has no initial value", d.span,
                        "write `= value`, `in {a, b}` for a choice, or `= any` for any value of its type")
        values = None
    if values is not None and not values:
        # no initial state: every property would hold of the empty state space
        cx.tables.error("E021", f"`{d.name}` has no initial value: the set it starts in is empty", d.span)
        values = None
    if values is not None:
        info.init_values = values
    return info


def _init_value(cx: Checker, d: A.VarDecl, init: A.Expr, t: Type, scope: Scope) -> tuple[Value, ...] | None:
    """`var x: T = e;` (`e` may hold `any`: one initial value per combination)"""
    cx.tables.in_initial += 1
    try:
        r = cx.constants.eval_constant(init, f"the initial value of `{d.name}`", scope)
    finally:
        cx.tables.in_initial -= 1
    if r is None:
        return None
    v, vt = r
    if _holds_any(v):
        return _init_any(cx, d, init, t, vt, v)
    if not compatible(t, vt):
        cx.tables.error("E021", f"`{d.name}` is {t} but its initial value is {vt}", init.span)
        return None
    if cx.symmetry.mixes(init.span, "an initial value that singles out a value", t, vt):
        return None
    if not fits(t, v):
        cx.tables.error("E021", f"initial value {show(v)} is outside {t}", init.span)
        return None
    return (normalise(t, v),)


def _holds_any(v: Value) -> bool:
    return v is ANY or (isinstance(v, tuple | frozenset) and any(_holds_any(x) for x in v))


def _expand(t: Type, v: Value) -> list[Value]:
    """Every value `v` stands for, each `any` in it replaced by each value of its place's type."""
    if v is ANY:
        return list(all_values(t))
    if isinstance(t, TArray | TSeq):
        parts = [_expand(t.elem, x) for x in v]
    elif isinstance(t, TRecord):
        parts = [_expand(ft, x) for (_, ft), x in zip(t.fields, v, strict=True)]
    else:
        return [v]
    return [tuple(c) for c in itertools.product(*parts)]


def _init_any(cx: Checker, d: A.VarDecl, init: A.Expr, t: Type, vt: Type, v: Value) -> tuple[Value, ...] | None:
    if not compatible(t, vt) or isinstance(t, TSet):
        cx.tables.error("E021", f"`{d.name}` is {t} but its initial value is {vt}", init.span,
                        "`any` stands for a whole value, an array element or a record field")
        return None
    n = 1
    stack: list[tuple[Type, Value]] = [(t, v)]
    while stack:  # count before expanding: a large product is refused, not built
        st, sv = stack.pop()
        if sv is ANY:
            n *= size(st)
        elif isinstance(st, TArray | TSeq):
            stack.extend((st.elem, x) for x in sv)
        elif isinstance(st, TRecord):
            stack.extend(zip((ft for _, ft in st.fields), sv, strict=True))
    if n > MAX_DOMAIN:
        cx.tables.error("E024", f"{n} initial values for `{d.name}` are too many to enumerate", init.span)
        return None
    values = _expand(t, v)
    bad = [x for x in values if not fits(t, x)]
    if bad:
        cx.tables.error("E021", f"initial value {show(bad[0])} is outside {t}", init.span)
        return None
    return tuple(normalise(t, x) for x in values)


def _init_set(cx: Checker, d: A.VarDecl, init: A.Expr, t: Type, scope: Scope) -> tuple[Value, ...] | None:
    """`var x: T in {a, b};` (any constant set)"""
    r = cx.types.resolve_domain(init, scope)
    if r is None:
        return None
    et, values = r
    if values is None:
        cx.tables.error("E023", f"the initial values of `{d.name}` must be constant", init.span)
        return None
    if not compatible(t, et) or not all(fits(t, v) for v in values):
        cx.tables.error("E021", f"initial values of `{d.name}` must be of type {t}", init.span)
        return None
    if cx.symmetry.mixes(init.span, "initial values that single out values", t, et):
        return None
    return tuple(normalise(t, v) for v in values)


def _init_domain(cx: Checker, d: A.VarDecl, init: A.TypeExpr, t: Type) -> tuple[Value, ...] | None:
    """`var x: T in D;` or `var x: T = any;` (then `init` is the type itself)."""
    dt = t if init is d.type else cx.types.resolve_type(init)
    if dt is None:
        return None
    if not compatible(t, dt):
        cx.tables.error("E021", f"`{d.name}` is {t} but its initial domain is {dt}", init.span)
        return None
    if cx.symmetry.mixes(init.span, "initial values that single out values", t, dt):
        return None
    n = size(dt)
    if n > MAX_DOMAIN:
        cx.tables.error("E024", f"{n} initial values for `{d.name}` are too many to enumerate", init.span)
        return None
    values = tuple(normalise(t, v) for v in all_values(dt))
    bad = [v for v in values if not fits(t, v)]
    if bad:
        cx.tables.error("E021", f"initial value {show(bad[0])} is outside {t}", init.span)
        return None
    return values


def check_globals(cx: Checker) -> None:
    for d in cx.tables.model.decls:
        if isinstance(d, A.VarDecl):
            info = var_info(cx, d, None, Scope({}, None))
            if info is not None:
                cx.tables.globals[d.name] = info


def check_state_width(cx: Checker) -> None:
    """The whole state must stay within MAX_STATE_SLOTS scalars; blame the widest part."""
    t = cx.tables
    parts: list[tuple[int, str, Span]] = [(slots(v.type), f"`{v.name}`", v.decl.span)
                                          for v in t.globals.values()]
    for proc in t.procs.values():
        width = 1 + sum(slots(v.type) for v in proc.locals.values())
        parts.append((width * len(proc.instances), f"the {len(proc.instances)} instance(s) of `{proc.name}`",
                      proc.decl.span))
    total = sum(n for n, _, _ in parts)
    if total > MAX_STATE_SLOTS:
        n, what, span = max(parts, key=lambda p: p[0])
        t.error("E024", f"a state would hold {total} scalar values; at most {MAX_STATE_SLOTS}", span,
                f"the widest part, {what}, holds {n}")
