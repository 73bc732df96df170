"""Stage 2: the driver that runs the checking passes in their order.

Takes an `ast.Model`, `--param` overrides, the file each declaration came from and the
`--property` selection; runs every pass of `PASSES` in order over one `Checker`, each pass
collecting its diagnostics, and gives the `CheckedModel`, or raises `ModelError` with every
diagnostic. Imports `lang.ast`, `lang.errors`, `lang.types` and the checker's passes,
context, results and tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.actions import check_actions
from quiesce_check.lang.checker.constants import evaluate_constants
from quiesce_check.lang.checker.context import Checker
from quiesce_check.lang.checker.declarations import declare_all
from quiesce_check.lang.checker.hooks import check_hook
from quiesce_check.lang.checker.processes import check_processes
from quiesce_check.lang.checker.properties import select_properties
from quiesce_check.lang.checker.results import CheckedModel
from quiesce_check.lang.checker.routines import check_unused_routines
from quiesce_check.lang.checker.tables import Tables
from quiesce_check.lang.checker.temporal import check_temporal
from quiesce_check.lang.checker.variables import check_globals, check_state_width
from quiesce_check.lang.errors import ModelError, Span
from quiesce_check.lang.types import Value


def require_activity(cx: Checker) -> None:
    """A model with no process and no action, and nothing else wrong, is refused (E041)."""
    t = cx.tables
    if not t.diags and not t.procs and not t.actions:
        t.error("E041", "the model has no process and no action: nothing can happen",
                Span(t.model.path, 1, 1, 1, 2), "declare a `process` or an `action`")


# The passes in the order they run, by the names the package docstring lists them under.
# Diagnostics come out in this order, and each pass reads what the ones before it filled.
PASSES: tuple[tuple[str, Callable[[Checker], None]], ...] = (
    ("declare", declare_all),
    ("constants", evaluate_constants),
    ("variables", check_globals),
    ("processes", check_processes),
    ("state width", check_state_width),
    ("actions", check_actions),
    ("routines", check_unused_routines),
    ("properties", select_properties),
    ("temporal", check_temporal),
    ("hook", check_hook),
    ("activity", require_activity),
)


def check(model: A.Model, overrides: dict[str, Value] | None = None, origins: dict[int, str] | None = None,
          select: Sequence[str] | None = None) -> CheckedModel:
    """Run every pass; raise `ModelError` with all diagnostics, or return the checked model.

    `origins` gives the file each declaration came from (`lang.modules`): a
    `protected` variable may be assigned only by code of its own file.
    `select`, when given, names the only invariants and final-state
    properties to check (`--property`)."""
    tables = Tables(model, dict(overrides or {}), origins or {}, list(select) if select is not None else None)
    cx = Checker(tables)
    for _, run in PASSES:
        run(cx)
    if tables.diags:
        raise ModelError(tables.diags)
    return _checked_model(tables)


def _checked_model(t: Tables) -> CheckedModel:
    return CheckedModel(
        ast=t.model, params=t.params, consts=t.consts, type_names=t.type_names,
        globals=list(t.globals.values()), processes=list(t.procs.values()),
        actions=t.actions, invariants=t.props["invariant"],
        reachables=t.props["reachable"], terminals=t.props["terminal"],
        types=t.types, refs=t.refs, proc_fields=t.proc_fields, domains=t.domains,
        finals=t.props["final"], calls=t.calls, by_calls=t.by_calls, builtins=t.builtins, domain_exprs=t.domain_exprs, qualified=t.qualified, premises=t.premises, param_types=t.param_types,
        obligations=t.obligations, hook=t.hook, symmetric=t.symmetric,
        liveness=t.liveness, step_props=t.step_props, fairness=t.fairness)
