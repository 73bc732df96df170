"""Control positions of a process: where a process can stand between two steps.

Takes a process body (AST statements) and the values of its `for` loops' domains;
gives the stop positions in a fixed pre-order, what statement stands at each, the
`for` bindings there, and where control goes next (after a statement, into a
branch, around a loop). Both the compiler and the reference interpreter name a
process's program counter by these positions; each implements the stepping
semantics on its own. Imports only `lang.ast`.

A position is a tuple of ints: statement index in its block, then a selector
into it (branch, loop body, `for` iteration, labelled statement), and so on.
Tuples of ints sort in pre-order, which fixes the numbering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from quiesce_check.lang import ast as A
from quiesce_check.lang.types import Value

Key = tuple[int, ...]
END: Key = (1 << 30,)

# Statements that control stops at. `Labeled` and `For` are transparent: a
# label names the position of its statement, a `for` loop is unrolled.
STOP_TYPES = (A.Assign, A.Await, A.Assert, A.Skip, A.If, A.While, A.Either, A.With, A.Atomic, A.CallStmt,
              A.Send, A.Receive)


@dataclass
class ProcPositions:
    keys: list[Key] = field(default_factory=list)
    stmt: dict[Key, A.Stmt] = field(default_factory=dict)
    binds: dict[Key, dict[str, Value]] = field(default_factory=dict)
    after: dict[Key, Key] = field(default_factory=dict)
    branches: dict[Key, tuple[Key, ...]] = field(default_factory=dict)
    labels: dict[str, set[Key]] = field(default_factory=dict)  # a label in a `for` names every copy
    start: Key = END

    def number(self, key: Key) -> int:
        return self._index[key]

    def finish(self) -> None:
        self.keys.sort()
        self.keys.append(END)
        self._index = {k: i for i, k in enumerate(self.keys)}


def build_positions(
    body: Sequence[A.Stmt],
    domain_values: Callable[[A.Domain], Sequence[Value]],
) -> ProcPositions:
    """Walk a process body once; `domain_values` gives the values of a `for` domain."""
    pos = ProcPositions()

    def block(stmts: Sequence[A.Stmt], prefix: Key, binds: dict[str, Value], cont: Key) -> Key:
        entry = cont
        for i in range(len(stmts) - 1, -1, -1):
            entry = stmt(stmts[i], prefix + (i,), binds, entry)
        return entry

    def stmt(s: A.Stmt, key: Key, binds: dict[str, Value], cont: Key) -> Key:
        if isinstance(s, A.Labeled):
            entry = stmt(s.stmt, key + (0,), binds, cont)
            pos.labels.setdefault(s.label, set()).add(entry)
            return entry
        if isinstance(s, A.For):
            values = list(domain_values(s.domain))
            entry = cont
            for k in range(len(values) - 1, -1, -1):
                entry = block(s.body, key + (k,), {**binds, s.var: values[k]}, entry)
            return entry
        pos.keys.append(key)
        pos.stmt[key] = s
        pos.binds[key] = binds
        pos.after[key] = cont
        if isinstance(s, A.If):
            pos.branches[key] = (block(s.then, key + (0,), binds, cont),
                                 block(s.orelse, key + (1,), binds, cont))
        elif isinstance(s, A.While):
            pos.branches[key] = (block(s.body, key + (0,), binds, key),)
        elif isinstance(s, A.Either):
            pos.branches[key] = tuple(block(b, key + (j,), binds, cont) for j, b in enumerate(s.branches))
        return key

    pos.start = block(body, (), {}, END)
    pos.finish()
    return pos


def describe(pos: ProcPositions, key: Key) -> str:
    """A position as users read it: `line:col`, with the `for` bindings, or `end`."""
    if key == END:
        return "end"
    s = pos.stmt[key]
    text = f"{s.span.line}:{s.span.col}"
    binds = pos.binds.get(key) or {}
    if binds:
        text += "[" + ",".join(f"{k}={v}" for k, v in binds.items()) + "]"
    return text
