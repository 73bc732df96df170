"""Stage 2, pass `actions`: their parameters, guards and bodies.

Takes the `Tables` after `state width`; checks each action's parameter domains, its `when`
and its body as one step, and fills `actions` with every action whose parameters all
check. Imports `lang.ast`, `lang.types` and the checker's declarations,
results and tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.declarations import bind_ok
from quiesce_check.lang.checker.results import ActionInfo
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.types import Scalar, Value

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker


def check_actions(cx: Checker) -> None:
    for d in cx.tables.model.decls:
        if isinstance(d, A.ActionDecl):
            _action(cx, d)


def _action(cx: Checker, d: A.ActionDecl) -> None:
    scope = Scope({}, None, origin=cx.tables.origin(d))
    params: list[tuple[str, Scalar, tuple[Value, ...]]] = []
    ok = True
    for p in d.params:
        r = cx.types.resolve_domain(p.domain, scope)
        if r is None or not bind_ok(cx.tables, p.name, p.span, scope):
            ok = False
            continue
        params.append((p.name, r[0], r[1]))  # type: ignore[arg-type]
        scope = scope.bind(p.name, r[0])
    if d.when is not None:
        cx.exprs.expect(d.when, scope, "bool")
    cx.stmts.check_block(d.body, scope, True)
    if ok:
        cx.tables.actions.append(ActionInfo(d.name, d, tuple(params)))
