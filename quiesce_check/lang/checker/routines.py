"""Stage 2 service and pass `routines`: defs and procs, each checked once.

Takes the `RoutineInfo` records `declare` made; `Routines.routine` gives the def or proc a
use names, checked on first use (its parameters and body, advancing its `state`), and
`call_args` checks a call's arguments against its parameter types. Reports uses of the
wrong kind or unknown (E011, E012), uses inside constants (E023), recursion and argument
counts (E035), argument types (E020, E027). The pass `check_unused_routines` checks the
routines nothing used, so that their errors are reported all the same. Imports `lang.ast`,
`lang.errors`, `lang.types` and the checker's declarations, results and
tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.declarations import bind_ok
from quiesce_check.lang.checker.results import RoutineInfo
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.errors import Span, nearest
from quiesce_check.lang.types import Type, compatible

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker


class Routines:
    def __init__(self, cx: Checker) -> None:
        self.cx = cx
        self.tables = cx.tables

    def routine(self, name: str, span: Span, want: str) -> RoutineInfo | None:
        """The def or proc `name` (`want` says which this use needs), checked; None once reported."""
        t = self.tables
        if t.in_constant:
            t.error("E023", f"a constant expression cannot use the {want} `{name}`", span,
                    "declare a `const` instead")
            return None
        info = t.routines.get(name)
        if info is None:
            kind = t.decl_kind.get(name)
            if kind is not None:
                t.error("E012", f"`{name}` is a {kind}, not a {want}", span)
            else:
                t.error("E011", f"unknown {want} `{name}`", span,
                        nearest(name, [r.name for r in t.routines.values() if _routine_kind(r) == want]))
            return None
        if _routine_kind(info) != want:
            t.error("E012", f"`{name}` is a {_routine_kind(info)}, not a {want}", span,
                    "call a proc as a statement, `p(x);`, and use a def in an expression, `f(x)`")
            return None
        self.check_routine(info)
        return info if info.state == "done" else None

    def check_routine(self, info: RoutineInfo) -> None:
        if info.state in ("done", "failed"):
            return
        d = info.decl
        if info.state == "checking":
            self.tables.error("E035", f"`{info.name}` uses itself", d.span,
                              "a def or proc is written out where it is used, so it cannot call itself")
            info.state = "failed"
            return
        info.state = "checking"
        before = len(self.tables.diags)
        scope = self._parameters(info)
        if isinstance(d, A.DefDecl):
            info.result = self.cx.exprs.expr_type(d.body, scope)
        else:
            self.cx.stmts.check_block(d.body, scope, True)
        if info.state == "checking":
            info.state = "done" if len(self.tables.diags) == before else "failed"

    def _parameters(self, info: RoutineInfo) -> Scope:
        """Resolve the routine's parameters into `info.params`; the scope of its body."""
        d = info.decl
        scope = Scope({}, None, origin=self.tables.origin(d))
        params: list[tuple[str, Type]] = []
        for p in d.params:
            t: Type | None
            if isinstance(p.domain, A.TYPE_NODES):
                t = self.cx.types.resolve_type(p.domain)
            else:
                r = self.cx.types.resolve_domain(p.domain, scope)
                t = r[0] if r is not None else None
            if t is None or not bind_ok(self.tables, p.name, p.span, scope):
                continue
            params.append((p.name, t))
            scope = scope.bind(p.name, t)
        info.params = tuple(params)
        return scope

    def call_args(self, info: RoutineInfo, args: Sequence[A.Expr], span: Span, scope: Scope) -> bool:
        if len(args) != len(info.params):
            self.tables.error("E035", f"`{info.name}` takes {len(info.params)} argument(s), not {len(args)}", span,
                              related=(("declared", info.decl.span),))
            return False
        ok = True
        for a, (pname, pt) in zip(args, info.params, strict=True):
            at = self.cx.exprs.expr_type(a, scope)
            if at is None:
                ok = False
            elif not compatible(pt, at):
                self.tables.error("E020", f"`{info.name}`'s parameter `{pname}` is {pt}, not {at}", a.span)
                ok = False
            elif self.cx.symmetry.mixes(a.span, f"an argument for `{info.name}`'s parameter `{pname}`", pt, at):
                ok = False
        return ok


def check_unused_routines(cx: Checker) -> None:
    """Defs and procs that nothing used yet: their errors are reported all the same."""
    for info in cx.tables.routines.values():
        cx.routines.check_routine(info)


def _routine_kind(r: RoutineInfo) -> str:
    return "def" if isinstance(r.decl, A.DefDecl) else "proc"
