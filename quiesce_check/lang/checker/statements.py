"""Stage 2 service: the rules of statements.

Takes a block of statements, the scope it stands in and whether it runs as one step
(`atomic`: inside `atomic`, `with`, a proc or an action); checks every statement, typing its
expressions, and reports what may not stand where it stands (E030), assignments to what
cannot be assigned (E022, E033, E034) or of the wrong type (E021), and loops over a
symmetric type whose rounds could see one another (E027). One method per statement class,
chosen by `rule_for`. Imports `lang.ast`, `lang.types` and the checker's declarations,
dispatch, results and tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.declarations import bind_ok
from quiesce_check.lang.checker.dispatch import rule_for
from quiesce_check.lang.checker.results import RBound, RConst, RProc, RVar
from quiesce_check.lang.checker.tables import Scope
from quiesce_check.lang.types import TProc, TSeq, Type, compatible, sym_of

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker


class Statements:
    def __init__(self, cx: Checker) -> None:
        self.cx = cx
        self.tables = cx.tables
        self._rules: dict[type, Callable[[Any, Scope, bool], None]] = {
            A.Assign: self._assign, A.Await: self._condition, A.Assert: self._condition, A.Skip: self._skip,
            A.If: self._if, A.While: self._while, A.For: self._for, A.Either: self._either, A.With: self._with,
            A.Atomic: self._atomic, A.Labeled: self._labeled, A.Let: self._let, A.CallStmt: self._call,
            A.Send: self._send, A.Receive: self._receive,
        }

    def check_block(self, stmts: Sequence[A.Stmt], scope: Scope, atomic: bool) -> None:
        for s in stmts:
            if isinstance(s, A.Let) and atomic:
                # a `let` in one step binds its name for the rest of the block
                t = self.cx.exprs.expr_type(s.value, scope)
                if t is not None and not isinstance(t, TProc) and bind_ok(self.tables, s.name, s.span, scope):
                    scope = scope.bind(s.name, t)
                continue
            self.check_stmt(s, scope, atomic)

    def check_stmt(self, s: A.Stmt, scope: Scope, atomic: bool) -> None:
        rule = rule_for(self._rules, s)
        if rule is None:
            raise AssertionError(s)
        rule(s, scope, atomic)

    def _assign(self, s: A.Assign, scope: Scope, atomic: bool) -> None:
        self.check_assign(s, scope)

    def _condition(self, s: A.Await | A.Assert, scope: Scope, atomic: bool) -> None:
        self.cx.exprs.expect(s.cond, scope, "bool")

    def _skip(self, s: A.Skip, scope: Scope, atomic: bool) -> None:
        pass

    def _if(self, s: A.If, scope: Scope, atomic: bool) -> None:
        self.cx.exprs.expect(s.cond, scope, "bool")
        self.check_block(s.then, scope, atomic)
        self.check_block(s.orelse, scope, atomic)

    def _while(self, s: A.While, scope: Scope, atomic: bool) -> None:
        if atomic:
            self.tables.error("E030", "`while` may not stand inside one step (`atomic`, `with`, or an action)",
                              s.span, "use a bounded `for` loop, or move the loop out of the atomic block")
        self.cx.exprs.expect(s.cond, scope, "bool")
        self.check_block(s.body, scope, atomic)

    def _for(self, s: A.For, scope: Scope, atomic: bool) -> None:
        # a `for` outside one step was resolved when positions were laid out
        r = self.tables.domains.get(id(s.domain))
        if r is None and atomic:
            r = self.cx.types.resolve_domain(s.domain, scope)
        if r is None or not bind_ok(self.tables, s.var, s.span, scope):
            return
        if not atomic and r[1] is None:
            self.tables.error("E030", "a `for` loop of steps needs a constant domain (its positions take the values "
                              "in order)", s.domain.span, "put the loop inside `atomic { ... }`, or loop over the "
                              "set's type and test membership")
            return
        if not atomic and sym_of(r[0]) is not None:
            self.cx.symmetry.sym_misuse(s.span, "a `for` loop of steps (its positions take the values in order)",
                                        r[0])
            return
        self.check_block(s.body, scope.bind(s.var, r[0]), atomic)
        if sym_of(r[0]) is not None:
            self.cx.symmetry.independent_rounds(s, r[0])  # after the body: its names are resolved

    def _either(self, s: A.Either, scope: Scope, atomic: bool) -> None:
        for b in s.branches:
            self.check_block(b, scope, atomic)

    def _with(self, s: A.With, scope: Scope, atomic: bool) -> None:
        r = self.cx.types.resolve_domain(s.domain, scope)
        if r is None or not bind_ok(self.tables, s.var, s.span, scope):
            return
        inner = scope.bind(s.var, r[0])
        if s.where is not None:
            self.cx.exprs.expect(s.where, inner, "bool")
        self.check_block(s.body, inner, True)

    def _atomic(self, s: A.Atomic, scope: Scope, atomic: bool) -> None:
        self.check_block(s.body, scope, True)

    def _labeled(self, s: A.Labeled, scope: Scope, atomic: bool) -> None:
        if atomic:
            self.tables.error("E030", "a label inside one step names no position", s.span,
                              "put the label on the `atomic` or `with` statement itself")
        self.check_stmt(s.stmt, scope, atomic)

    def _let(self, s: A.Let, scope: Scope, atomic: bool) -> None:
        self.tables.error("E030", "`let` names a value inside one step, and this is not inside one", s.span,
                          "use it inside `atomic { ... }`, a `with`, a proc or an action")

    def _call(self, s: A.CallStmt, scope: Scope, atomic: bool) -> None:
        info = self.cx.routines.routine(s.name, s.span, "proc")
        if info is not None and self.cx.routines.call_args(info, s.args, s.span, scope):
            self.tables.calls[id(s)] = info

    def _send(self, s: A.Send, scope: Scope, atomic: bool) -> None:
        qt = self._queue(s.queue, scope)
        vt = self.cx.exprs.expr_type(s.value, scope)
        if qt is None or vt is None:
            return
        if not compatible(qt.elem, vt):
            self.tables.error("E021", f"cannot send a value of type {vt} on a {qt}", s.value.span)
            return
        self.cx.symmetry.mixes(s.value.span, "a send that singles out a value", qt.elem, vt)

    def _receive(self, s: A.Receive, scope: Scope, atomic: bool) -> None:
        qt = self._queue(s.queue, scope)
        tt = self.assignable(s.target, scope)
        if qt is None or tt is None:
            return
        if not self._apart(s.queue, s.target):
            # which of the two stores comes last would decide the result
            self.tables.error("E022", "a `receive` cannot store into its own queue (or a place that may hold it)",
                              s.target.span, "receive into another variable, then assign")
            return
        if not compatible(tt, qt.elem):
            self.tables.error("E021", f"cannot receive an element of a {qt} into a target of type {tt}",
                              s.target.span)
            return
        self.cx.symmetry.mixes(s.target.span, "a receive that singles out a value", tt, qt.elem)

    def _apart(self, a: A.Expr, b: A.Expr) -> bool:
        """Whether two places certainly do not overlap: other variables, other fields of one record."""
        pa, pb = _subexprs(a)[::-1], _subexprs(b)[::-1]
        if self.tables.refs.get(id(pa[0])) != self.tables.refs.get(id(pb[0])):
            return True
        for x, y in zip(pa[1:], pb[1:], strict=False):
            if isinstance(x, A.Field) and isinstance(y, A.Field):
                if x.name != y.name:
                    return True
            elif isinstance(x, A.Index) and isinstance(y, A.Index) and isinstance(x.index, A.IntLit) \
                    and isinstance(y.index, A.IntLit):
                if x.index.value != y.index.value:
                    return True
            else:
                return False  # computed indices may be equal
        return False

    def _queue(self, e: A.Expr, scope: Scope) -> TSeq | None:
        qt = self.assignable(e, scope)
        if qt is None:
            return None
        if not isinstance(qt, TSeq):
            self.tables.error("E020", f"`send` and `receive` need a sequence, not a {qt}", e.span,
                              "declare it `var q: seq[N] of T = <<>>;`")
            return None
        return qt

    def check_assign(self, s: A.Assign, scope: Scope) -> None:
        tt = self.assignable(s.target, scope)
        if tt is None:
            return
        vt = self.cx.exprs.expr_type(s.value, scope)
        if vt is None:
            return
        if not compatible(tt, vt):
            self.tables.error("E021", f"cannot assign a value of type {vt} to a target of type {tt}", s.value.span)
            return
        self.cx.symmetry.mixes(s.value.span, "an assignment that singles out a value", tt, vt)

    def assignable(self, target: A.Expr, scope: Scope) -> Type | None:
        """The type of an assignment's target, or None once reported (or when it cannot be assigned)."""
        t = self.tables
        root = target
        while isinstance(root, A.Index | A.Field):
            root = root.base
        if not isinstance(root, A.Name):
            t.error("E022", "only a variable, an element or a field of one can be assigned", target.span)
            return None
        tt = self.cx.exprs.expr_type(target, scope)
        ref = t.refs.get(id(root))
        if isinstance(ref, RBound | RConst):
            t.error("E033", f"`{root.name}` is a constant or a bound name; it cannot be assigned", root.span)
            return None
        if isinstance(ref, RProc) or id(target) in t.proc_fields or any(
                id(x) in t.proc_fields for x in _subexprs(target)):
            t.error("E022", "a process can assign only its own variables and global ones", target.span)
            return None
        if isinstance(ref, RVar) and ref.var.protected and ref.var.origin != scope.origin:
            t.error("E034", f"`{root.name}` is written only by the operations of the vocabulary that declares it",
                    root.span, "call the vocabulary's operation that makes this change")
            return None
        return tt


def _subexprs(e: A.Expr) -> list[A.Expr]:
    """An access path and every path it extends: `x[i].f`, `x[i]`, `x`."""
    out: list[A.Expr] = []
    while isinstance(e, A.Index | A.Field):
        out.append(e)
        e = e.base
    out.append(e)
    return out
