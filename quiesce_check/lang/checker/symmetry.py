"""Stage 2 service: the rules of symmetric types (E027).

Takes a `symmetric type` declaration, or a use of a symmetric type's values met while code
is checked; gives the type of its own (`symmetric_type`, recorded in `symmetric`), reports a
use that would single one value out (`sym_misuse`, and `mixes` where two types meet), and
refuses a `for` loop over a symmetric type whose rounds could see one another
(`independent_rounds`, through `Rounds`, the writes, reads and proc calls of a loop's
body). Reads `routines`, `procs` and `refs` of the tables. Imports `lang.ast`,
`lang.errors`, `lang.types` and the checker's dispatch and results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker.dispatch import rule_for
from quiesce_check.lang.checker.results import RDef, Ref, RoutineInfo
from quiesce_check.lang.errors import Span
from quiesce_check.lang.types import TInt, Type, sym_clash, sym_of

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker

# A read of every variable: a process's position (`P@label`) is decided by the conditions on its
# way to the label, which may read anything.
EVERYTHING = "*"

Access = tuple[str, frozenset[int], Span]


class SymmetryRules:
    def __init__(self, cx: Checker) -> None:
        self.tables = cx.tables

    def symmetric_type(self, d: A.TypeDecl, t: Type) -> Type | None:
        """`symmetric type T = lo..hi;`: a range of its own whose values are interchangeable."""
        if not isinstance(d.type, A.RangeType) or not isinstance(t, TInt):
            self.tables.error("E027", f"only a range `lo..hi` can be symmetric, not {t}", d.type.span,
                              "declare the interchangeable values as a range, e.g. `symmetric type T = 0..N - 1;`")
            return None
        sym = TInt(t.lo, t.hi, d.name)
        self.tables.symmetric[d.name] = (sym, d)
        return sym

    def sym_misuse(self, span: Span, what: str, a: Type, b: Type | None = None) -> None:
        """E027: a symmetric type's value used where it would single one value out."""
        name = sym_of(a) or (sym_of(b) if b is not None else None)
        decl = self.tables.symmetric.get(name or "")
        related = (("declared symmetric", decl[1].span),) if decl else ()
        if b is None:
            message = f"{what} on a value of the symmetric type {a}"
        else:
            message = f"{what}: {a} and {b} (a symmetric type mixes only with itself)"
        self.tables.error("E027", message, span, "values of a symmetric type may only be compared with `==` and "
                          "`!=`, index arrays indexed by their type, and come from quantifiers, `with`, parameters "
                          "and process indices", related)

    def mixes(self, span: Span, what: str, a: Type, b: Type) -> bool:
        """E027 when a value of type `b` stands where one of type `a` is wanted (or meets one)
        and that would single a symmetric type's value out; True once reported."""
        clash = sym_clash(a, b)
        if clash is not None:
            self.sym_misuse(span, what, *clash)
        return clash is not None

    def independent_rounds(self, s: A.For, t: Type) -> None:
        """E027 unless a `for` loop over a symmetric type does the same whatever the order of its
        rounds: each round writes only state indexed by the loop's value, and reads what the
        loop writes only there (so no round sees another's writes), and it calls no proc."""
        body = Rounds(self.tables.routines, frozenset(self.tables.procs), self.tables.refs)
        body.walk(s.body, s.var)
        for span in body.calls:
            self.sym_misuse(span, f"a proc called inside `for {s.var} in {t}` (it may write what another round "
                            "reads, so the order of the rounds could matter)", t)
            return
        common = self._disjoint_writes(s, t, body.writes)
        if common is not None:
            self._reads_apart(s, t, body.reads, common)

    def _disjoint_writes(self, s: A.For, t: Type, writes: list[Access]) -> dict[str, frozenset[int]] | None:
        """The steps of its path at which every write to a variable is indexed by the loop's value
        (rounds write disjoint parts of it exactly when there is one); None once reported."""
        common: dict[str, frozenset[int]] = {}
        for name, at, span in writes:
            common[name] = common.get(name, at) & at
            if not common[name]:
                self.sym_misuse(span, f"inside `for {s.var} in {t}`, a write to `{name}` not indexed by `{s.var}` "
                                "where its other writes are (rounds could overwrite each other: their order "
                                "would decide)", t)
                return None
        return common

    def _reads_apart(self, s: A.For, t: Type, reads: list[Access], common: dict[str, frozenset[int]]) -> None:
        for name, at, span in reads:
            if name == EVERYTHING and common:
                self.sym_misuse(span, f"inside `for {s.var} in {t}`, a process's position, which depends on the "
                                "conditions on its way there and so may read what the loop writes (a round "
                                "would see the rounds before it)", t)
                return
            if name in common and not at & common[name]:
                self.sym_misuse(span, f"inside `for {s.var} in {t}`, a read of `{name}`, which the loop writes, "
                                f"not indexed by `{s.var}` where the loop writes it (a round would see the rounds "
                                "before it)", t)
                return


class Rounds:
    """The writes, reads and proc calls of a `for` loop's body, each write and read with the
    steps of its access path indexed by the loop's value (`var`), def bodies read as well.

    Names are taken as resolved: a def named bare is read like a call, and inside a binder
    that binds the loop's variable's name again (a quantifier, `[x in D: ...]`, `with`, an
    inner `for`, a `let`, which used files may do) nothing is the loop's own."""

    def __init__(self, routines: dict[str, RoutineInfo], procs: frozenset[str], refs: dict[int, Ref]) -> None:
        self.routines = routines
        self.procs = procs
        self.refs = refs
        self.writes: list[Access] = []
        self.reads: list[Access] = []
        self.calls: list[Span] = []
        self.seen_defs: set[tuple[str, str]] = set()
        self._rules: dict[type, Callable[[Any, str], None]] = {
            tuple: self._sequence, list: self._sequence, A.CallStmt: self._call_stmt, A.Assign: self._assign,
            A.Name: self._name, A.Index: self._access, A.Field: self._access, A.At: self._at,
            A.Call: self._call, A.Quant: self._binder, A.ArrayComp: self._binder, A.With: self._binder,
            A.For: self._binder,
        }

    def walk(self, node: object, var: str) -> None:
        rule = rule_for(self._rules, node)
        if rule is not None:
            rule(node, var)
        else:
            self._parts(node, var)

    def _parts(self, node: object, var: str) -> None:
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            for f in dataclasses.fields(node):
                if f.name != "span":
                    self.walk(getattr(node, f.name), var)

    def _sequence(self, node: tuple[object, ...] | list[object], var: str) -> None:
        for item in node:
            self.walk(item, var)
            if isinstance(item, A.Let) and item.name == var:
                var = ""  # the rest of the block sees the `let`, not the loop's value

    def _call_stmt(self, node: A.CallStmt, var: str) -> None:
        self.calls.append(node.span)

    def _assign(self, node: A.Assign, var: str) -> None:
        place = _place(node.target, var, self.procs)
        if place is not None:
            self.writes.append((*place, node.span))
        self._index_reads(node.target, var)  # the indexes of the target are reads
        self.walk(node.value, var)

    def _index_reads(self, e: A.Expr, var: str) -> None:
        while isinstance(e, A.Index | A.Field):
            if isinstance(e, A.Index):
                self.walk(e.index, var)
            e = e.base

    def _name(self, node: A.Name, var: str) -> None:
        ref = self.refs.get(id(node))
        if isinstance(ref, RDef):
            self.read_def(ref.routine, "")
        else:
            self._access(node, var)

    def _access(self, node: A.Name | A.Index | A.Field, var: str) -> None:
        place = _place(node, var, self.procs)
        if place is not None:
            self.reads.append((*place, node.span))
        self._index_reads(node, var)

    def _at(self, node: A.At, var: str) -> None:
        self.reads.append((EVERYTHING, frozenset(), node.span))
        self.walk(node.process, var)

    def _call(self, node: A.Call, var: str) -> None:
        info = self.routines.get(node.name)
        if info is not None and isinstance(info.decl, A.DefDecl):
            # inside a def, the loop's value is the parameter given exactly the loop's
            # variable (when one is), so `f(p)` reading `a[q]` reads `a[p]`
            given = [prm.name for prm, arg in zip(info.decl.params, node.args, strict=False)
                     if var and isinstance(arg, A.Name) and arg.name == var]
            self.read_def(info, given[0] if len(given) == 1 else "")
        self.walk(node.args, var)

    def _binder(self, node: A.Quant | A.ArrayComp | A.With | A.For, var: str) -> None:
        if node.var != var:
            self._parts(node, var)
            return
        self.walk(node.domain, var)
        for part in ("where", "body"):
            self.walk(getattr(node, part, None), "")

    def read_def(self, info: RoutineInfo, own: str) -> None:
        if (info.name, own) not in self.seen_defs:
            self.seen_defs.add((info.name, own))
            self.walk(info.decl.body, own)


def _place(e: A.Expr, var: str, procs: frozenset[str]) -> tuple[str, frozenset[int]] | None:
    """The variable an access path `x[i].f[j]` reaches, and the steps of the path (counted from
    the variable) whose index is `var`. A process's local read through the process (`P.x`,
    `P[e].x[j]`) is the local `x`: the loop may write it under its own name."""
    steps: list[bool] = []
    while isinstance(e, A.Index | A.Field):
        if isinstance(e, A.Field) and _names_process(e.base, procs):
            return e.name, frozenset(k for k, own in enumerate(reversed(steps)) if own)
        steps.append(isinstance(e, A.Index) and isinstance(e.index, A.Name) and e.index.name == var)
        e = e.base
    at = frozenset(k for k, own in enumerate(reversed(steps)) if own)
    return (e.name, at) if isinstance(e, A.Name) else None


def _names_process(e: A.Expr, procs: frozenset[str]) -> bool:
    if isinstance(e, A.Index):
        e = e.base
    return isinstance(e, A.Name) and e.name in procs
