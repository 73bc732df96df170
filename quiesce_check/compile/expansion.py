"""Stage 3a: how big a checked model becomes once every `def` and `proc` is inlined, before lowering.

Takes a `CheckedModel`; gives `check_expansion`, a `ModelError` (E024, located at the use that
crosses the bound) for a model whose routines would expand into more syntax than
`MAX_EXPANDED` nodes at one use, or `MAX_EXPANDED_TOTAL` in all. Lowering inlines a routine at
every use, so routines that each use the previous one twice double at every level: twenty
levels are a million copies of the first, made before any later size check can see them. The
size of each routine is computed once, bottom up, as an affine function of its arguments' sizes:
its own nodes plus, for each use of another, that one's size, with each argument counted once
per occurrence of its parameter in the other, inlined (an argument that mentions a parameter
three times, passed down twenty levels, is 3^20 copies); without recursion over the chain of
routines, so a chain of any length costs time linear in its text. Imports `lang.ast`, `lang.checker`, `lang.errors`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from quiesce_check.lang import ast as A
from quiesce_check.lang.checker import CheckedModel, RDef, RoutineInfo
from quiesce_check.lang.errors import Diagnostic, ModelError, Span

# Syntax nodes one use of a routine may expand into, and all uses of the model together: far
# above what any protocol model needs (the largest in the repository, well under 10,000), far
# below what takes the later stages minutes.
MAX_EXPANDED = 1 << 15
MAX_EXPANDED_TOTAL = 1 << 17
# Past this the exact figure does not matter: sizes saturate, so the arithmetic stays cheap.
_CAP = 1 << 62


def _children(node: object) -> Iterator[object]:
    """The syntax nodes directly under `node` (spans and plain values left out)."""
    if not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        if f.name == "span":
            continue
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            for v in value:
                if dataclasses.is_dataclass(v) and not isinstance(v, type):
                    yield v
                elif isinstance(v, tuple):  # pairs such as a record literal's (name, value)
                    yield from (x for x in v if dataclasses.is_dataclass(x) and not isinstance(x, type))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type) and not isinstance(value, Span):
            yield value


def _walk(root: object) -> Iterator[object]:
    """Every node under `root`, `root` included (an explicit stack: bodies nest deeply)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(_children(node))


class _Sizes:
    def __init__(self, cm: CheckedModel) -> None:
        self.cm = cm
        self.size: dict[int, int] = {}  # id(RoutineInfo) -> nodes of its body, inlined
        self.uses: dict[int, dict[str, int]] = {}  # id(RoutineInfo) -> parameter -> uses in its body

    def routine_of(self, node: object) -> RoutineInfo | None:
        if isinstance(node, A.Call | A.CallStmt):
            return self.cm.calls.get(id(node))
        if isinstance(node, A.Name):
            ref = self.cm.refs.get(id(node))
            if isinstance(ref, RDef):
                return ref.routine
        return None

    def body(self, info: RoutineInfo) -> tuple[object, ...]:
        d = info.decl
        return (d.body,) if isinstance(d, A.DefDecl) else tuple(d.body)

    def callees(self, info: RoutineInfo) -> list[RoutineInfo]:
        return [r for b in self.body(info) for n in _walk(b) if (r := self.routine_of(n)) is not None]

    def prepare(self, info: RoutineInfo) -> None:
        """The size of `info` and of every routine it uses, callees first."""
        if id(info) in self.size:
            return
        order: list[RoutineInfo] = []
        seen = {id(info)}
        stack: list[tuple[RoutineInfo, Iterator[RoutineInfo]]] = [(info, iter(self.callees(info)))]
        while stack:
            top, todo = stack[-1]
            nxt = next((r for r in todo if id(r) not in seen and id(r) not in self.size), None)
            if nxt is None:
                stack.pop()
                order.append(top)
                continue
            seen.add(id(nxt))
            stack.append((nxt, iter(self.callees(nxt))))
        for r in order:
            names = {name for name, _ in r.params}
            total = 0
            uses = dict.fromkeys(names, 0)
            for b in self.body(r):
                size, _, _, found = self.cost(b, names)
                total = min(total + size, _CAP)
                for name, n in found.items():
                    uses[name] = min(uses[name] + n, _CAP)
            self.uses[id(r)] = uses
            self.size[id(r)] = total

    def cost(self, root: object, names: set[str] | frozenset[str] = frozenset()
             ) -> tuple[int, Span | None, int, dict[str, int]]:
        """Nodes `root` expands into; the use inside it that expands the most, with its size; and
        how many times each of `names` (the parameters of the routine `root` is the body of)
        occurs once everything is inlined."""
        total = 0
        worst: Span | None = None
        worst_size = 0
        found = dict.fromkeys(names, 0)
        # each node is weighed as many times as the expression that holds it is copied: a def's
        # argument is copied wherever its parameter occurs in the def, inlined (a proc's is
        # evaluated once, into a local)
        stack: list[tuple[object, int]] = [(root, 1)]
        while stack:
            node, copies = stack.pop()
            total = min(total + copies, _CAP)
            if isinstance(node, A.Name) and node.name in found:
                found[node.name] = min(found[node.name] + copies, _CAP)
            info = self.routine_of(node)
            if info is not None and id(info) in self.size:
                inlined = self.size[id(info)]
                total = min(total + copies * inlined, _CAP)
                if inlined > worst_size:
                    worst, worst_size = getattr(node, "span", None), inlined
                uses = self.uses[id(info)]
                by_value = isinstance(node, A.CallStmt)
                for (name, _), arg in zip(info.params, getattr(node, "args", ()), strict=False):
                    times = 1 if by_value else max(1, uses.get(name, 0))
                    stack.append((arg, min(copies * times, _CAP)))
                continue
            stack.extend((c, copies) for c in _children(node))
        return total, worst, worst_size, found


def _top_level(cm: CheckedModel) -> Iterator[object]:
    """What lowering expands: every declaration but the routines themselves (inlined at uses)."""
    for d in cm.ast.decls:
        if not isinstance(d, A.DefDecl | A.ProcDecl):
            yield d


def check_expansion(cm: CheckedModel) -> None:
    """`ModelError` E024 when inlining the model's routines would make it too big to lower."""
    sizes = _Sizes(cm)
    for info in {id(r): r for r in cm.calls.values()}.values():
        sizes.prepare(info)
    for ref in cm.refs.values():
        if isinstance(ref, RDef):
            sizes.prepare(ref.routine)
    total = 0
    for d in _top_level(cm):
        size, where, inlined, _ = sizes.cost(d)
        total = min(total + size, _CAP)
        if inlined > MAX_EXPANDED:
            raise ModelError([Diagnostic(
                "E024", f"this use expands into {_amount(inlined)} syntax nodes once every def and proc it "
                f"uses is inlined; at most {MAX_EXPANDED:,}", where,
                "a def or proc that uses another several times doubles in size at every level: compute the "
                "value once (`let`), or use fewer levels")])
        if total > MAX_EXPANDED_TOTAL:
            raise ModelError([Diagnostic(
                "E024", f"the model expands into more than {MAX_EXPANDED_TOTAL:,} syntax nodes once every def "
                "and proc is inlined where it is used", where or getattr(d, "span", None),
                "use the large defs and procs in fewer places, or make them smaller")])


def _amount(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"about 2^{n.bit_length() - 1}"
