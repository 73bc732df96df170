"""After lowering: the steps that cannot fire with the parameters the model was built with.

Takes a `CheckedModel` and the `Program` lowered from it; gives, per action index,
why the action can never fire: the parameter settings its branch is decided by, as
`--param` writes them (`RECOVERY=BlkifRecover`). Such a step is not unexplored
behaviour but code for other settings (a vocabulary's target frontend has a branch
for each recovery), so the coverage report sets it apart from the steps that could
have fired and did not.

An action cannot fire when a guard it starts with is constantly false (its path goes
through an `if` whose condition compares parameters or constants), or when it stands
at a program-counter value that no action that can fire ever sets. Only what is sure
is marked: a guard that reads the state, divides, or fails is taken as able to hold.
Imports `compile.ir` and `lang` (the AST, to name the parameters a branch tests).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence

from quiesce_check.compile import ir as I
from quiesce_check.lang import ast as A
from quiesce_check.lang.checker import CheckedModel, RVar
from quiesce_check.lang.errors import Span
from quiesce_check.lang.types import TEnum, Value

_FOLDABLE = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
}


def fold(e: I.Expr) -> I.Const | None:
    """`e` as a `Const` when its value is known without a state, else None. Division is left
    alone (it may fail), and so is a right operand a short circuit would skip."""
    if isinstance(e, I.Const):
        return e
    if isinstance(e, I.Un):
        a = fold(e.a)
        if a is None:
            return None
        return I.Const(not a.value) if e.op == "not" else I.Const(-int(a.value))
    if isinstance(e, I.Bin) and e.op in ("and", "or", "=>"):
        a = fold(e.a)
        if a is None:
            return None
        settled = not a.value if e.op in ("and", "=>") else bool(a.value)
        if settled:
            return I.Const(e.op != "and")
        return fold(e.b)
    if isinstance(e, I.Bin) and e.op in _FOLDABLE:
        a, b = fold(e.a), fold(e.b)
        if a is None or b is None:
            return None
        return I.Const(_FOLDABLE[e.op](a.value, b.value))
    if isinstance(e, I.Ite):
        c = fold(e.cond)
        return None if c is None else fold(e.then if c.value else e.orelse)
    return None


def guarded_off(action: I.Action) -> bool:
    """Whether a guard the action starts with is constantly false, with no guard before it
    that could fail (a step that fails is a step taken: it is reported, not skipped)."""
    for s in action.body:
        if not isinstance(s, I.Guard):
            return False
        c = fold(s.cond)
        if c is not None and not c.value:
            return True
        if not _cannot_fail(s.cond):
            return False
    return False


def _cannot_fail(e: I.Expr) -> bool:
    """No checked index and no division anywhere in `e`."""
    if isinstance(e, I.Checked):
        return False
    if isinstance(e, I.Bin):
        return e.op not in ("/", "%") and _cannot_fail(e.a) and _cannot_fail(e.b)
    if isinstance(e, I.Un):
        return _cannot_fail(e.a)
    if isinstance(e, I.Ite):
        return all(_cannot_fail(x) for x in (e.cond, e.then, e.orelse))
    if isinstance(e, I.Count):
        return all(_cannot_fail(x) for x in e.terms)
    if isinstance(e, I.Table):
        return _cannot_fail(e.index)
    return True


def _pc_stores(stmts: Sequence[I.Stmt], pc: int) -> Iterator[I.Expr]:
    """The values `stmts` store into the program-counter slot `pc`, in any branch."""
    for s in stmts:
        if isinstance(s, I.Assign):
            # a fixed store names its slot first; a table store may land on any of its slots
            yield from (v for (slots, index), v in zip(s.targets, s.values, strict=True)
                        if (slots[0] == pc if index is None else pc in slots))
        elif isinstance(s, I.If):
            yield from _pc_stores(s.then, pc)
            yield from _pc_stores(s.orelse, pc)
        elif isinstance(s, I.Choice):
            for b in s.branches:
                yield from _pc_stores(b, pc)
        elif isinstance(s, I.Pick):
            yield from _pc_stores(s.body, pc)


def cannot_fire(program: I.Program) -> frozenset[int]:
    """The indices of the actions that can never fire in any state the model reaches."""
    off = {a.index for a in program.actions if guarded_off(a)}
    reached: dict[int, set[int] | None] = {}  # pc slot -> values it can hold (None: any)
    for a in program.actions:
        if a.pc_slot is not None and a.pc_slot not in reached:
            reached[a.pc_slot] = {int(s[a.pc_slot]) for s in program.initial}
    changed = True
    while changed:
        changed = False
        for a in program.actions:
            if a.index in off or not _stands(a, reached):
                continue
            for pc, held in reached.items():
                for v in _pc_stores(a.body, pc):
                    if held is None:
                        break
                    if not isinstance(v, I.Const):
                        reached[pc] = None
                        changed = True
                        break
                    if int(v.value) not in held:
                        held.add(int(v.value))
                        changed = True
    return frozenset(a.index for a in program.actions if a.index in off or not _stands(a, reached))


def _stands(a: I.Action, reached: Mapping[int, set[int] | None]) -> bool:
    """Whether the process of `a` can stand where `a` starts."""
    if a.pc_slot is None or a.pc_value is None:
        return True
    held = reached.get(a.pc_slot)
    return held is None or a.pc_value in held


def param_text(cm: CheckedModel, name: str) -> str:
    """`NAME=VALUE` as `--param` takes it: an enum member by name, `true` not `True`."""
    value: Value = cm.params[name]
    t = cm.param_types.get(name)
    if isinstance(t, TEnum) and isinstance(value, int) and not isinstance(value, bool):
        return f"{name}={t.members[value]}"
    return f"{name}={str(value).lower() if isinstance(value, bool) else value}"


def _nodes(node: object) -> Iterator[object]:
    """`node` and every AST node under it."""
    yield node
    if isinstance(node, tuple):
        for x in node:
            yield from _nodes(x)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            if f.name != "span":
                yield from _nodes(getattr(node, f.name))


def _within(inner: Span, outer: Span) -> bool:
    return (inner.path == outer.path and (outer.line, outer.col) <= (inner.line, inner.col)
            and (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col))


def deciding_params(cm: CheckedModel, span: Span) -> list[str]:
    """The parameters that decide whether the statement at `span` can run: those named by the
    parts that read no state of the conditions control passes on its way there (the `if`s and
    `while`s around it, and those before it in the blocks around it), and by the `await`s a
    proc it calls starts with. In the order the source names them."""
    out: dict[str, None] = {}
    conds: list[A.Expr] = []
    for proc in cm.processes:
        for node in _on_the_way(proc.decl.body, span):
            if isinstance(node, A.If | A.While):
                conds.append(node.cond)
            elif isinstance(node, A.CallStmt) and node.span == span:
                conds += _leading_awaits(cm, node)
    for cond in conds:
        for part in _static_parts(cm, cond):
            out.update((n.name, None) for n in _nodes(part) if isinstance(n, A.Name) and n.name in cm.params)
    return list(out)


def _on_the_way(block: Sequence[A.Stmt], span: Span) -> Iterator[object]:
    """The statements of `block` (and under them) that come before the one at `span`, and
    those that hold it; none if `block` does not hold it."""
    before: list[A.Stmt] = []
    for s in block:
        if _within(span, s.span):
            for b in before:
                yield from _nodes(b)
            yield s
            for inner in _blocks(s):
                yield from _on_the_way(inner, span)
            return
        before.append(s)


def _blocks(s: A.Stmt) -> Iterator[Sequence[A.Stmt]]:
    """The blocks of statements directly under `s`."""
    if isinstance(s, A.Labeled):
        yield (s.stmt,)
    elif isinstance(s, A.If):
        yield from (s.then, s.orelse)
    elif isinstance(s, A.Either):
        yield from s.branches
    elif isinstance(s, A.While | A.For | A.With | A.Atomic):
        yield s.body


def _leading_awaits(cm: CheckedModel, call: A.CallStmt) -> list[A.Expr]:
    """The conditions of the `await`s the proc `call` runs starts with."""
    info = cm.calls.get(id(call))
    if info is None or not isinstance(info.decl, A.ProcDecl):
        return []
    out = []
    for s in info.decl.body:
        if not isinstance(s, A.Await):
            break
        out.append(s.cond)
    return out


def _static_parts(cm: CheckedModel, cond: A.Expr) -> Iterator[A.Expr]:
    """The operands of `cond`'s `and`/`or` chain that read no variable: those the parameters
    settle. A part that reads the state does not decide a branch for good."""
    if isinstance(cond, A.Binary) and cond.op in ("and", "or"):
        yield from _static_parts(cm, cond.left)
        yield from _static_parts(cm, cond.right)
        return
    stateful = (A.At, A.Prime, A.Field)
    if not any(isinstance(n, stateful) or isinstance(cm.refs.get(id(n)), RVar) for n in _nodes(cond)):
        yield cond


def unused_steps(cm: CheckedModel, program: I.Program) -> dict[int, str]:
    """Per action that cannot fire with this build's parameters: the settings that decide it
    (`RECOVERY=BlkifRecover`), or "" when no parameter is named where it is decided."""
    try:
        off = cannot_fire(program)
    except RecursionError:  # a guard nested too deeply to fold (a quantifier over thousands of values):
        return {}           # nothing is marked, as whatever this analysis is unsure of
    return {k: ", ".join(param_text(cm, n) for n in deciding_params(cm, program.actions[k].span))
            for k in sorted(off)}
