"""Stage 4: the fast path. IR to generated Python code over state tuples.

Takes an `ir.Program`; gives a `CompiledModel` implementing `model.Model`.
One Python function per action (guards first on the untouched state tuple, a
list copy only once the step writes), one dispatch function that switches on
each process's program counter so that only the actions at the current
positions are tried, and one function each for invariants, goals and terminal
states. The generated text holds only internal names and numbers: every string
that comes from the model (names in messages) stays in tables passed in as
data, so no model text can reach the code. Imports `compile.*`, `lang.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from quiesce_check.compile import ir as I
from quiesce_check.compile.bounds import bounds
from quiesce_check.compile.ir import Program, assigns, checked_message, flatten_chain, straight
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import AssertFailure, Choices, ModelInfo, StepError, Successor
from quiesce_check.lang.errors import Diagnostic, ModelError, Span

# Left-associative operators of one precedence: `(a + b) - c` prints as `a + b - c`.
_CHAINS = {"+": "additive", "-": "additive", "*": "multiplicative"}

_PY_OPS = {"+": "+", "-": "-", "*": "*", "==": "==", "!=": "!=", "<": "<", "<=": "<=",
           ">": ">", ">=": ">="}


class _Runtime:
    """Helpers the generated code calls; the only names it sees besides its own."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages

    def chk(self, i: int, n: int, wid: int, ai: int, ch: Choices) -> int:
        if 0 <= i < n:
            return i
        raise StepError(ai, ch, f"index out of range in {self.messages[wid]}: position {i} of {n}")

    def chk_kind(self, i: int, n: int, wid: int, kind: str, ai: int, ch: Choices) -> int:
        if 0 <= i < n:
            return i
        raise StepError(ai, ch, checked_message(kind, self.messages[wid], i, n))

    def div(self, a: int, b: int, op: str, wid: int, ai: int, ch: Choices) -> int:
        if b == 0:
            raise StepError(ai, ch, f"division by zero in {self.messages[wid]}")
        return a // b if op == "/" else a % b

    def rng(self, v: int, lo: int, hi: int, wid: int, ai: int, ch: Choices) -> None:
        raise StepError(ai, ch, f"{self.messages[wid]} := {v} is outside its type {lo}..{hi}")

    def fail(self, ai: int, ch: Choices, aid: int) -> None:
        raise AssertFailure(ai, ch, aid)


@dataclass
class _Gen:
    program: Program
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[int, ...]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    counter: int = 0
    ranges: list[tuple[int, int]] = field(init=False)  # each slot's (lo, hi), computed once
    # (first generated line, source span) of each action and property, in order
    origins: list[tuple[int, Span]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ranges = [(x.lo, x.hi) for x in self.program.layout.slots]

    def span_at(self, line: int | None) -> Span | None:
        """The action or property whose code holds generated line `line`."""
        found = None
        for start, span in self.origins:
            if line is None or start > line:
                break
            found = span
        return found

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def msg(self, text: str) -> int:
        self.messages.append(text)
        return len(self.messages) - 1

    def table(self, slots: tuple[int, ...]) -> str:
        self.tables.append(slots)
        return f"_T[{len(self.tables) - 1}]"

    # expressions ----------------------------------------------------------
    def slot_of(self, slots: tuple[int, ...], index: I.Expr, cur: str, ai: int, ch: str) -> str:
        """The slot number `slots[index]` as code: arithmetic when the slots are evenly spaced."""
        idx = self.expr(index, cur, ai, ch)
        first, n = slots[0], len(slots)
        stride = slots[1] - first if n > 1 else 1
        if all(slots[k] == first + k * stride for k in range(n)):
            return f"{first} + {idx}" if stride == 1 else f"{first} + ({idx}) * {stride}"
        return f"{self.table(slots)}[{idx}]"

    def expr(self, e: I.Expr, cur: str, ai: int, ch: str) -> str:
        if isinstance(e, I.Const):
            return repr(bool(e.value)) if isinstance(e.value, bool) else str(int(e.value))
        if isinstance(e, I.Slot):
            return f"{cur}[{e.index}]"
        if isinstance(e, I.Table):
            return f"{cur}[{self.slot_of(e.slots, e.index, cur, ai, ch)}]"
        if isinstance(e, I.Checked):
            wid = self.msg(e.what)
            if e.kind != "index":  # (a kind is a word of CHECK_KINDS, never model text)
                return f"_R.chk_kind({self.expr(e.index, cur, ai, ch)}, {e.size}, {wid}, {e.kind!r}, {ai}, {ch})"
            return f"_R.chk({self.expr(e.index, cur, ai, ch)}, {e.size}, {wid}, {ai}, {ch})"
        if isinstance(e, I.Chosen):
            return f"c{e.var}"
        # Chains a model can write without brackets (`not not ...`, `- - ...`, `a + b - c ...`,
        # `a => b => ...`, `if .. then .. else if ...`) are printed flat: Python refuses more
        # than 200 nested parentheses.
        if isinstance(e, I.Un):
            ops: list[str] = []
            while isinstance(e, I.Un) and (not ops or e.op == ops[0]):
                ops.append(e.op)
                e = e.a
            a = self.expr(e, cur, ai, ch)
            return "(" + "not " * len(ops) + a + ")" if ops[0] == "not" else "(" + "-" * len(ops) + a + ")"
        if isinstance(e, I.Ite):
            parts = []
            while isinstance(e, I.Ite):
                parts.append(f"{self.expr(e.then, cur, ai, ch)} if {self.expr(e.cond, cur, ai, ch)} else ")
                e = e.orelse
            return "(" + "".join(parts) + self.expr(e, cur, ai, ch) + ")"
        if isinstance(e, I.Count):
            return "(0 + " + " + ".join(self.expr(t, cur, ai, ch) for t in e.terms) + ")"
        if isinstance(e, I.Bin) and e.op in ("and", "or"):
            # a long chain (an unrolled quantifier) as one flat expression, not deep nesting
            return "(" + f" {e.op} ".join(self.expr(x, cur, ai, ch) for x in flatten_chain(e)) + ")"
        if isinstance(e, I.Bin) and e.op == "=>":
            premises = []
            while isinstance(e, I.Bin) and e.op == "=>":
                premises.append(f"(not {self.expr(e.a, cur, ai, ch)}) or ")
                e = e.b
            return "(" + "".join(premises) + self.expr(e, cur, ai, ch) + ")"
        if isinstance(e, I.Bin) and e.op in _CHAINS:
            group = _CHAINS[e.op]
            rights = []
            while isinstance(e, I.Bin) and _CHAINS.get(e.op) == group:
                rights.append(f" {e.op} {self.expr(e.b, cur, ai, ch)}")
                e = e.a
            return "(" + self.expr(e, cur, ai, ch) + "".join(reversed(rights)) + ")"
        if isinstance(e, I.Bin):
            a = self.expr(e.a, cur, ai, ch)
            b = self.expr(e.b, cur, ai, ch)
            if e.op in ("/", "%"):
                wid = self.msg(f"`{e.op}` at {e.span}" if e.span else e.op)
                return f"_R.div({a}, {b}, {e.op!r}, {wid}, {ai}, {ch})"
            return f"({a} {_PY_OPS[e.op]} {b})"
        raise AssertionError(e)

    # statements -----------------------------------------------------------
    def block(self, stmts: Sequence[I.Stmt], depth: int, cur: str, writable: bool, ai: int, ch: str,
              in_loop: bool, chosen: dict[int, tuple[int, int]]) -> None:
        """Code for `stmts` followed by emitting the successor.

        Statements with one outcome run in line; one with several (`either`,
        `with`, or an `if` with such a statement inside) is written in
        continuation style, repeating the rest of the block in each outcome.
        """
        while stmts and straight(stmts[:1]):
            cur, writable, chosen = self.straight(stmts[0], depth, cur, writable, ai, ch, in_loop, chosen)
            stmts = stmts[1:]
        if not stmts:
            state = f"tuple({cur})" if writable else cur
            self.emit(depth, f"out.append(({ai}, {ch}, {state}))")
            return
        s, rest = stmts[0], list(stmts[1:])
        if isinstance(s, I.If):
            self.emit(depth, f"if {self.expr(s.cond, cur, ai, ch)}:")
            self.branch(list(s.then) + rest, depth + 1, cur, writable, ai, ch, in_loop, chosen)
            self.emit(depth, "else:")
            self.branch(list(s.orelse) + rest, depth + 1, cur, writable, ai, ch, in_loop, chosen)
        elif isinstance(s, I.Choice):
            b = self.fresh("b")
            ch2 = self.fresh("ch")
            self.emit(depth, f"for {b} in range({len(s.branches)}):")
            self.emit(depth + 1, f"{ch2} = {ch} + (({s.var}, {b}),)")
            for j, branch in enumerate(s.branches):
                self.emit(depth + 1, f"{'if' if j == 0 else 'elif'} {b} == {j}:")
                self.branch(list(branch) + rest, depth + 2, cur, writable, ai, ch2, True, chosen)
        elif isinstance(s, I.Pick):
            ch2 = self.fresh("ch")
            vals = ", ".join(repr(v) if isinstance(v, bool) else str(v) for v in s.values)
            self.emit(depth, f"for c{s.var} in ({vals},):")
            if s.where is not None:
                self.emit(depth + 1, f"if not {self.expr(s.where, cur, ai, ch)}: continue")
            self.emit(depth + 1, f"{ch2} = {ch} + (({s.var}, c{s.var}),)")
            ints = [int(v) for v in s.values]
            self.branch(list(s.body) + rest, depth + 1, cur, writable, ai, ch2, True,
                        {**chosen, s.var: (min(ints), max(ints))})
        else:
            raise AssertionError(s)

    def straight(self, s: I.Stmt, depth: int, cur: str, writable: bool, ai: int, ch: str, in_loop: bool,
                 chosen: dict[int, tuple[int, int]]) -> tuple[str, bool, dict[int, tuple[int, int]]]:
        """Code for one statement with one outcome; gives the state variable after it,
        whether it is a private list, and the bounds of the values bound so far."""
        bail = "continue" if in_loop else "return"
        slots = self.ranges
        if isinstance(s, I.Guard):
            self.emit(depth, f"if not {self.expr(s.cond, cur, ai, ch)}: {bail}")
        elif isinstance(s, I.Assert):
            self.emit(depth, f"if not {self.expr(s.cond, cur, ai, ch)}: _R.fail({ai}, {ch}, {s.id})")
        elif isinstance(s, I.Let):
            self.emit(depth, f"c{s.var} = {self.expr(s.value, cur, ai, ch)}")
            known = bounds(s.value, slots, chosen)
            if known is not None:
                chosen = {**chosen, s.var: known}
        elif isinstance(s, I.Assign):
            values, indexes = [], []
            for (tslots, index), value in zip(s.targets, s.values, strict=True):
                v = self.fresh("v")
                self.emit(depth, f"{v} = {self.expr(value, cur, ai, ch)}")
                lo, hi = slots[tslots[0]]
                known = bounds(value, slots, chosen)
                if known is None or known[0] < lo or known[1] > hi:
                    wid = self.msg(s.what)
                    self.emit(depth, f"if not {lo} <= {v} <= {hi}: _R.rng({v}, {lo}, {hi}, {wid}, {ai}, {ch})")
                values.append(v)
                if index is None:
                    indexes.append(str(tslots[0]))
                else:
                    iv = self.fresh("i")
                    self.emit(depth, f"{iv} = {self.slot_of(tslots, index, cur, ai, ch)}")
                    indexes.append(iv)
            if not writable:
                t = self.fresh("t")
                self.emit(depth, f"{t} = list({cur})")
                cur, writable = t, True
            for idx, v in zip(indexes, values, strict=True):
                self.emit(depth, f"{cur}[{idx}] = {v}")
        elif isinstance(s, I.If):
            # both arms write into one private copy, made before the `if` if either arm writes
            if not writable and (assigns(s.then) or assigns(s.orelse)):
                t = self.fresh("t")
                self.emit(depth, f"{t} = list({cur})")
                cur, writable = t, True
            self.emit(depth, f"if {self.expr(s.cond, cur, ai, ch)}:")
            self.arm(s.then, depth + 1, cur, writable, ai, ch, in_loop, chosen)
            self.emit(depth, "else:")
            self.arm(s.orelse, depth + 1, cur, writable, ai, ch, in_loop, chosen)
        else:
            raise AssertionError(s)
        return cur, writable, chosen

    def arm(self, stmts: Sequence[I.Stmt], depth: int, cur: str, writable: bool, ai: int, ch: str,
            in_loop: bool, chosen: dict[int, tuple[int, int]]) -> None:
        self.emit(depth, "pass")
        for s in stmts:
            _, _, chosen = self.straight(s, depth, cur, writable, ai, ch, in_loop, chosen)

    def branch(self, stmts: list[I.Stmt], depth: int, cur: str, writable: bool, ai: int, ch: str,
               in_loop: bool, chosen: dict[int, tuple[int, int]]) -> None:
        """A block run on its own copy of the state, so sibling branches do not see its writes."""
        if writable:
            t = self.fresh("t")
            self.emit(depth, f"{t} = {cur}[:]")
            cur = t
        self.block(stmts, depth, cur, writable, ai, ch, in_loop, chosen)

    def action(self, a: I.Action) -> None:
        self.origins.append((len(self.lines) + 1, a.span))
        self.emit(0, f"def _a{a.index}(s, out):")
        body = list(a.body)
        if a.pc_slot is not None and body and isinstance(body[0], I.Guard):
            body = body[1:]  # the dispatch has matched the program counter already
        self.block(body, 1, "s", False, a.index, "()", False, {})
        self.emit(0, "")

    def generate(self) -> str:
        p = self.program
        for a in p.actions:
            self.action(a)
        self.emit(0, "def successors(s):")
        self.emit(1, "out = []")
        by_pc: dict[int, dict[int, list[int]]] = {}
        plain: list[int] = []
        for a in p.actions:
            if a.pc_slot is None:
                plain.append(a.index)
            else:
                by_pc.setdefault(a.pc_slot, {}).setdefault(int(a.pc_value or 0), []).append(a.index)
        for slot, cases in by_pc.items():
            self.emit(1, f"pc = s[{slot}]")
            for j, (value, idxs) in enumerate(sorted(cases.items())):
                self.emit(1, f"{'if' if j == 0 else 'elif'} pc == {value}:")
                for i in idxs:
                    self.emit(2, f"_a{i}(s, out)")
        for i in plain:
            self.emit(1, f"_a{i}(s, out)")
        self.emit(1, "return out")
        self.emit(0, "")
        for fname, props, negate in (("violations", p.invariants, True), ("reached", p.reachables, False),
                                     ("final_violations", p.finals, True), ("end_reached", p.end_goals, False)):
            self.emit(0, f"def {fname}(s):")
            self.emit(1, "out = []")
            for k, prop in enumerate(props):
                self.origins.append((len(self.lines) + 1, prop.span))
                cond = self.expr(prop.expr, "s", -1, "()")
                self.emit(1, f"if {'not ' if negate else ''}{cond}: out.append({k})")
            self.emit(1, "return out")
            self.emit(0, "")
        self.emit(0, "def temporal(s):")
        self.emit(1, "out = []")
        for live in p.liveness:
            self.origins.append((len(self.lines) + 1, live.span))
            q = "False" if live.q is None else self.expr(live.q, "s", -1, "()")
            self.emit(1, f"out.append(({self.expr(live.p, 's', -1, '()')}, {q}))")
        self.emit(1, "return out")
        self.emit(0, "")
        # a step property reads the state before the step, the state after it, and the action
        self.emit(0, "def step_violations(s, a, t):")
        self.emit(1, "x = s + t + (a,)")
        self.emit(1, "out = []")
        for k, sp in enumerate(p.step_properties):
            self.origins.append((len(self.lines) + 1, sp.span))
            self.emit(1, f"if not {self.expr(sp.expr, 'x', -1, '()')}: out.append({k})")
        self.emit(1, "return out")
        self.emit(0, "")
        self.emit(0, "def is_terminal(s):")
        for prop in p.terminals:
            self.origins.append((len(self.lines) + 1, prop.span))
            self.emit(1, f"if {self.expr(prop.expr, 's', -1, '()')}: return True")
        if p.end_pcs:
            cond = " and ".join(f"s[{slot}] == {v}" for slot, v in p.end_pcs)
            self.emit(1, f"return {cond}")
        else:
            self.emit(1, "return False")
        return "\n".join(self.lines) + "\n"


class CompiledModel:
    """A `Model` whose steps run as generated Python code."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.info = ModelInfo(program.layout, program.actions, program.invariants, program.reachables,
                              program.asserts, program.choice_names, program.finals, program.end_goals,
                              program.liveness, program.fairness, program.step_properties,
                              dict(program.choice_shown))
        gen = _Gen(program)
        self.source = gen.generate()
        namespace: dict[str, Any] = {"_R": _Runtime(gen.messages), "_T": tuple(gen.tables),
                                     "__builtins__": {"list": list, "tuple": tuple, "range": range}}
        try:
            code = compile(self.source, "<quiesce-check generated>", "exec")
        except (SyntaxError, RecursionError, MemoryError) as e:
            # Python's own limits on nesting; the printing above keeps ordinary models well inside
            raise ModelError([Diagnostic(
                "E024", "an expression nested too deeply to compile", gen.span_at(getattr(e, "lineno", None)),
                "split it into smaller parts with `let` or a `def`")]) from None
        exec(code, namespace)  # noqa: S102 - text built from IR with internal names only
        # the generated functions, called directly: no method call per state
        self.successors: Callable[[State], list[Successor]] = namespace["successors"]
        self.violations: Callable[[State], list[int]] = namespace["violations"]
        self.reached: Callable[[State], list[int]] = namespace["reached"]
        self.final_violations: Callable[[State], list[int]] = namespace["final_violations"]
        self.end_reached: Callable[[State], list[int]] = namespace["end_reached"]
        self.is_terminal: Callable[[State], bool] = namespace["is_terminal"]
        self.temporal: Callable[[State], list[tuple[bool, bool]]] = namespace["temporal"]
        self.step_violations: Callable[[State, int, State], list[int]] = namespace["step_violations"]
        self._initial = program.initial

    def initial_states(self) -> Sequence[State]:
        return self._initial


def compile_program(program: Program) -> CompiledModel:
    return CompiledModel(program)
