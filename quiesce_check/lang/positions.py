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

Each position also has a stable name (`ProcPositions.names`), for trace files: one
that does not move when lines do, so a trace survives a comment added above it.
A labelled statement is named by its label; any other by its path from the
nearest label around it, or from the process body: `body_3_then_1` is the first
statement of the `then` branch of the body's third statement (statements count
from 1; `else`, `do` for a `while`'s body, `or2` for an `either`'s second branch,
`for2` for a `for`'s second iteration). A label inside a `for` names every copy,
so its copies are told apart the same way (`retry_for2`). The end is `end`. The
names are identifiers, as the trace formats of other tools want program counters;
should a label make two names alike (a label `end`, or `x_for2` beside a label `x`
in a `for`), every position is named by its path from the body instead.
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
    names: dict[Key, str] = field(default_factory=dict)   # the stable name of each position (above)

    def number(self, key: Key) -> int:
        return self._index[key]

    def finish(self, paths: dict[Key, str]) -> None:
        self.keys.sort()
        self.keys.append(END)
        self._index = {k: i for i, k in enumerate(self.keys)}
        names = {**self.names, END: "end"}
        if len(set(names.values())) < len(names):
            names = {**paths, END: "end"}
        self.names = names


def build_positions(
    body: Sequence[A.Stmt],
    domain_values: Callable[[A.Domain], Sequence[Value]],
) -> ProcPositions:
    """Walk a process body once; `domain_values` gives the values of a `for` domain."""
    pos = ProcPositions()
    paths: dict[Key, str] = {}  # every position named by its path from the body alone

    def block(stmts: Sequence[A.Stmt], prefix: Key, binds: dict[str, Value], cont: Key,
              name: _Name) -> Key:
        entry = cont
        for i in range(len(stmts) - 1, -1, -1):
            entry = stmt(stmts[i], prefix + (i,), binds, entry, name.then(str(i + 1)))
        return entry

    def stmt(s: A.Stmt, key: Key, binds: dict[str, Value], cont: Key, name: _Name) -> Key:
        if isinstance(s, A.Labeled):
            entry = stmt(s.stmt, key + (0,), binds, cont, name.labelled(s.label))
            pos.labels.setdefault(s.label, set()).add(entry)
            return entry
        if isinstance(s, A.For):
            values = list(domain_values(s.domain))
            entry = cont
            for k in range(len(values) - 1, -1, -1):
                entry = block(s.body, key + (k,), {**binds, s.var: values[k]}, entry, name.then(f"for{k + 1}"))
            return entry
        pos.keys.append(key)
        pos.stmt[key] = s
        pos.binds[key] = binds
        pos.after[key] = cont
        pos.names[key], paths[key] = name.text, name.path
        if isinstance(s, A.If):
            pos.branches[key] = (block(s.then, key + (0,), binds, cont, name.then("then")),
                                 block(s.orelse, key + (1,), binds, cont, name.then("else")))
        elif isinstance(s, A.While):
            pos.branches[key] = (block(s.body, key + (0,), binds, key, name.then("do")),)
        elif isinstance(s, A.Either):
            pos.branches[key] = tuple(block(b, key + (j,), binds, cont, name.then(f"or{j + 1}"))
                                      for j, b in enumerate(s.branches))
        return key

    pos.start = block(body, (), {}, END, _Name("body", "body", ""))
    pos.finish(paths)
    return pos


@dataclass(frozen=True)
class _Name:
    """A position's stable name as the walk goes down: from the nearest label (`text`), from the
    body (`path`), and the `for` iterations passed since that label (`iters`), which tell a
    labelled statement's copies apart."""

    text: str
    path: str
    iters: str

    def then(self, part: str) -> _Name:
        more = f"_{part}" if part.startswith("for") else ""
        return _Name(f"{self.text}_{part}", f"{self.path}_{part}", self.iters + more)

    def labelled(self, label: str) -> _Name:
        return _Name(label + self.iters, self.path, self.iters)


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


def stable_name(pos: ProcPositions, key: Key) -> str:
    """A position's stable name (the module's docstring): a label, a path, or `end`."""
    return pos.names[key]
