"""Stage 2, pass `processes`: their instances, locals, labels, control positions and bodies.

Takes the `Tables` after `variables`; fills `procs` in three rounds, so that every process
can name every other: first each process's instances (its index domain), then each one's
locals, labels (E032 for one declared twice) and control positions (a `for` of steps is
unrolled over its domain's values, resolved here), then each one's `when` and body, checked
as statements that are not one step. Reports locals that clash with a declared name (E010).
Imports `lang.ast`, `lang.errors`, `lang.positions`, `lang.types` and the checker's
declarations, dispatch, results, tables and variables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.declarations import bind_ok, reserved
from quiesce_check.lang.checker.dispatch import rule_for
from quiesce_check.lang.checker.results import ProcInfo
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.checker.variables import var_info
from quiesce_check.lang.errors import Span
from quiesce_check.lang.positions import build_positions
from quiesce_check.lang.types import Scalar, Value

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker

Labels = dict[str, Span]


def check_processes(cx: Checker) -> None:
    decls = [d for d in cx.tables.model.decls if isinstance(d, A.ProcessDecl)]
    for d in decls:
        _instances(cx, d)
    for d in decls:  # (a second declaration of a name is reported, E010, and not checked)
        proc = cx.tables.procs.get(d.name)
        if proc is not None and proc.decl is d:
            _locals_and_positions(cx, d, proc)
    for d in decls:
        proc = cx.tables.procs.get(d.name)
        if proc is not None and proc.decl is d:
            _body(cx, d, proc)


def _instances(cx: Checker, d: A.ProcessDecl) -> None:
    """Record the process with the values of its index, unless its index domain fails."""
    index_type: Scalar | None = None
    index_values: tuple[Value, ...] = ()
    if d.index_domain is not None:
        r = cx.types.resolve_domain(d.index_domain, Scope({}, None))
        if r is None:
            return
        index_type, index_values = r[0], r[1]  # type: ignore[assignment]
    cx.tables.procs[d.name] = ProcInfo(d.name, d, index_type, index_values)


def _locals_and_positions(cx: Checker, d: A.ProcessDecl, proc: ProcInfo) -> None:
    t = cx.tables
    base = Scope({}, proc, origin=t.origin(d))
    if d.index_var is not None:
        assert proc.index_type is not None
        if bind_ok(t, d.index_var, d.span, base):
            base = base.bind(d.index_var, proc.index_type)
    for v in d.locals:
        if reserved(t, v.name, v.span):
            continue
        if (v.name in t.declared and not base.library) or v.name in proc.locals or v.name in base.bound:
            where = t.declared.get(v.name) or (proc.locals[v.name].decl.span if v.name in proc.locals else d.span)
            t.error("E010", f"`{v.name}` is already declared", v.span, related=(("declared", where),))
            continue
        info = var_info(cx, v, proc, base)
        if info is not None:
            proc.locals[v.name] = info
    collect_labels(cx, d.body, {})
    proc.positions = build_positions(d.body, lambda dom: t.domains.get(id(dom), (None, ()))[1] or ())


def _body(cx: Checker, d: A.ProcessDecl, proc: ProcInfo) -> None:
    base = Scope({}, proc, origin=cx.tables.origin(d))
    if d.index_var is not None and proc.index_type is not None:
        base = base.bind(d.index_var, proc.index_type)
    if d.when is not None:
        cx.exprs.expect(d.when, base, "bool")
    cx.stmts.check_block(d.body, base, False)


def collect_labels(cx: Checker, stmts: Sequence[A.Stmt], seen: Labels) -> None:
    """The labels of a process body (`seen`), each once; the domains of its `for` loops."""
    for s in stmts:
        rule = rule_for(_LABEL_RULES, s)
        if rule is not None:
            rule(cx, s, seen)


def _labeled(cx: Checker, s: A.Labeled, seen: Labels) -> None:
    reserved(cx.tables, s.label, s.span)
    if s.label in seen:
        cx.tables.error("E032", f"label `{s.label}` is declared twice in this process", s.span,
                        related=(("first declared", seen[s.label]),))
    seen[s.label] = s.span
    collect_labels(cx, [s.stmt], seen)


def _if(cx: Checker, s: A.If, seen: Labels) -> None:
    collect_labels(cx, s.then, seen)
    collect_labels(cx, s.orelse, seen)


def _while(cx: Checker, s: A.While, seen: Labels) -> None:
    collect_labels(cx, s.body, seen)


def _for(cx: Checker, s: A.For, seen: Labels) -> None:
    # resolve the domain now: positions unroll the loop over its values
    if id(s.domain) not in cx.tables.domains:
        cx.types.resolve_domain(s.domain, Scope({}, None))
    collect_labels(cx, s.body, seen)


def _either(cx: Checker, s: A.Either, seen: Labels) -> None:
    for b in s.branches:
        collect_labels(cx, b, seen)


# the statements that hold labels or other statements outside one step
_LABEL_RULES: dict[type, Callable[[Checker, Any, Labels], None]] = {
    A.Labeled: _labeled, A.If: _if, A.While: _while, A.For: _for, A.Either: _either,
}
