"""Stage 2, pass `actions`: their parameters, guards and bodies.

Takes the `Tables` after `state width`; checks each action's parameter domains, its `when`
and its body as one step, and fills `actions` with every action whose parameters all
check. Imports `lang.ast`, `lang.types` and the checker's declarations,
results and tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.declarations import bind_params
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
    scope, bound, ok = bind_params(cx, d.params, Scope({}, None, origin=cx.tables.origin(d)))
    # a domain's elements are scalars
    params: list[tuple[str, Scalar, tuple[Value, ...]]] = [(n, cast(Scalar, t), v) for n, t, v in bound]
    if d.when is not None:
        cx.exprs.expect(d.when, scope, "bool")
    cx.stmts.check_block(d.body, scope, True)
    if ok:
        cx.tables.actions.append(ActionInfo(d.name, d, tuple(params)))
