"""Stage 2, pass `constants`: params (with `--param` overrides), obligations, consts and
named types, in declaration order.

Takes the `Tables` after `declare`; fills `params`, `param_types`, `consts` (enum members
too, as their types are resolved), `obligations`, `type_names` and `symmetric`. Reports
values that are not constant (E023), params and obligations of the wrong type (E020) and
overrides that do not fit them (E040). Imports `lang.ast`, `lang.types` and the checker's
dispatch and values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.dispatch import rule_for
from quiesce_check.lang.checker.values import show
from quiesce_check.lang.types import BOOL, INT, TBool, TEnum, TInt, Type, Value

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker


def evaluate_constants(cx: Checker) -> None:
    for d in cx.tables.model.decls:
        rule = rule_for(_RULES, d)
        if rule is not None:
            rule(cx, d)


def _param(cx: Checker, d: A.ParamDecl) -> None:
    t = cx.tables
    r = cx.constants.eval_constant(d.default, f"the default of parameter `{d.name}`")
    if r is None:
        return
    v, pt = r
    if not isinstance(pt, TBool | TInt | TEnum):
        t.error("E020", "a parameter must be an integer, a boolean or an enum member", d.default.span)
        return
    if d.name in t.overrides:
        ov = _param_value(pt, t.overrides[d.name])
        if ov is None:
            t.error("E040", f"--param {d.name}={show(t.overrides[d.name])}: `{d.name}` is "
                    + _param_kind(pt), d.span)
        else:  # the default stands in for a refused value: no errors that follow from it
            v = ov
    t.params[d.name] = v
    t.param_types[d.name] = pt if isinstance(pt, TEnum) else BOOL if isinstance(pt, TBool) else INT
    t.consts[d.name] = (v, t.param_types[d.name])


def _obligation(cx: Checker, d: A.ObligationDecl) -> None:
    """An obligation is a boolean parameter: true, or what a `use` argument or --param says."""
    t = cx.tables
    on: Value = True
    if d.value is not None:
        r = cx.constants.eval_constant(d.value, f"obligation `{d.name}`")
        if r is None:
            return
        if not isinstance(r[1], TBool):
            t.error("E020", f"obligation `{d.name}` is true or false, not {r[1]}", d.value.span)
            return
        on = r[0]
    if d.name in t.overrides:
        given = _param_value(BOOL, t.overrides[d.name])
        if given is None:
            t.error("E040", f"--param {d.name}={show(t.overrides[d.name])}: `{d.name}` is an "
                    "obligation: true or false", d.span)
        else:
            on = given
    t.params[d.name] = on
    t.param_types[d.name] = BOOL
    t.consts[d.name] = (on, BOOL)
    t.obligations[d.name] = d.text


def _const(cx: Checker, d: A.ConstDecl) -> None:
    r = cx.constants.eval_constant(d.value, f"constant `{d.name}`")
    if r is not None:
        cx.tables.consts[d.name] = r


def _type(cx: Checker, d: A.TypeDecl) -> None:
    named = cx.types.resolve_type(d.type)
    if named is not None and d.symmetric:
        named = cx.symmetry.symmetric_type(d, named)
    if named is not None:
        cx.tables.type_names[d.name] = named


_RULES: dict[type, Callable[[Checker, Any], None]] = {
    A.ParamDecl: _param, A.ObligationDecl: _obligation, A.ConstDecl: _const, A.TypeDecl: _type,
}


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
