"""Stage 4, symbolic: the core IR as Z3 terms, for bounded model checking and k-induction.

Takes an `ir.Program`, a `z3.Context` and an integer encoding; gives an
`Encoding`: one frame of state variables and, over it, every predicate an
engine needs as a template (the initial states, the transition relation to a
next frame, each action's enabledness, the failing steps, each property's
value and the runtime model errors its evaluation can raise, the liveness
properties' predicates; over a step, with the index of the action it takes,
each step property's value), with the means to instantiate a template at
frame k (or at the step from it), to read a state and an action back from a
Z3 model and to pin a frame to a state.

One translation of IR expressions (`_Translator.expr`) serves every guard,
update, property and error condition: it gives an expression's value together
with the condition under which evaluating it is a runtime model error,
following the generated Python code exactly (`and`, `or`, `=>` and `if` do not
evaluate what they skip; `/` and `%` round toward minus infinity). A step's
body is executed symbolically: `if` merges its branches into one path with
`If` terms, while `either` and `with` (each value enumerated) split it, so an
action becomes a few paths, each with the condition under which it completes,
the successor state, and the conditions under which it fails by a model error
or an assertion, earlier statements first, as the Python code raises them.

Integers are Z3 integers with range constraints (`"int"`) or signed
bit-vectors (`"bv"`) one width for the whole model, wide enough (by the interval
analysis of `compile.bounds` over every expression) that no evaluation overflows. Values known
while translating (constants, enumerated choices) are folded in Python.
Variable names are internal (`s<frame>_<slot>`): no model text reaches Z3.
Imports `compile.ir`, `compile.bounds`, `compile.layout`, `lang.types`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3
from z3.z3 import _to_expr_ref

from quiesce_check.compile import ir as I
from quiesce_check.compile.bounds import Interval, Ranges
from quiesce_check.compile.ir import Program
from quiesce_check.compile.layout import State
from quiesce_check.lang.types import TBool

# An action may split into at most this many paths (`either` branches times `with` values).
MAX_PATHS = 20_000
# Without bit-vectors wider than this, an encoding is refused (a product of large constants).
MAX_WIDTH = 256

ENCODINGS = ("int", "bv")

# A value while translating: a Python constant (folded) or a Z3 term.
Val = Any
# A condition: a Python bool (known) or a Z3 Boolean term.
Cond = Any


class EncodingError(Exception):
    """The model cannot be encoded for the symbolic engines (too many paths, too wide)."""


# ------------------------------------------------------------ Boolean helpers


def _is_const(v: Val) -> bool:
    return isinstance(v, bool | int)


class _Logic:
    """Boolean connectives that fold Python constants, in one Z3 context."""

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx
        self.true = z3.BoolVal(True, ctx)
        self.false = z3.BoolVal(False, ctx)

    def lift(self, c: Cond) -> z3.BoolRef:
        if isinstance(c, bool):
            return self.true if c else self.false
        return c

    def not_(self, a: Cond) -> Cond:
        return (not a) if isinstance(a, bool) else z3.Not(a)

    def and_(self, *xs: Cond) -> Cond:
        terms = []
        for x in xs:
            if x is False:
                return False
            if x is not True:
                terms.append(x)
        if not terms:
            return True
        return terms[0] if len(terms) == 1 else z3.And(*terms)

    def or_(self, *xs: Cond) -> Cond:
        terms = []
        for x in xs:
            if x is True:
                return True
            if x is not False:
                terms.append(x)
        if not terms:
            return False
        return terms[0] if len(terms) == 1 else z3.Or(*terms)

    def ite(self, c: Cond, a: Val, b: Val, arith: _Arith) -> Val:
        if isinstance(c, bool):
            return a if c else b
        if _is_const(a) and _is_const(b) and type(a) is type(b) and a == b:
            return a
        if isinstance(a, bool) or isinstance(b, bool) or z3.is_bool(a) or z3.is_bool(b):
            return z3.If(c, self.lift(a), self.lift(b))
        return z3.If(c, arith.lift(a), arith.lift(b))


# ------------------------------------------------------------ integer encodings


class _Arith:
    """Integer terms of one sort; every method takes and gives Python ints or terms."""

    name = ""

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx

    def var(self, name: str) -> z3.ExprRef:
        raise NotImplementedError

    def lift(self, v: Val) -> z3.ExprRef:
        raise NotImplementedError

    def floordiv(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
        raise NotImplementedError

    def mod(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
        raise NotImplementedError

    def value(self, v: z3.ExprRef) -> int:
        raise NotImplementedError


class _IntArith(_Arith):
    name = "int"

    def var(self, name: str) -> z3.ExprRef:
        return z3.Int(name, self.ctx)

    def lift(self, v: Val) -> z3.ExprRef:
        return z3.IntVal(int(v), self.ctx) if _is_const(v) else v

    def floordiv(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
        # SMT-LIB `div` rounds so that the remainder is not negative: floor for b > 0 only
        if z3.is_int_value(b):
            n = b.as_long()
            return a / b if n > 0 else (-a) / (-b)
        return z3.If(b > 0, a / b, (-a) / (-b))

    def mod(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
        return a - b * self.floordiv(a, b)

    def value(self, v: z3.ExprRef) -> int:
        return int(v.as_long())


class _BvArith(_Arith):
    name = "bv"

    def __init__(self, ctx: z3.Context, width: int) -> None:
        super().__init__(ctx)
        self.width = width

    def var(self, name: str) -> z3.ExprRef:
        return z3.BitVec(name, self.width, self.ctx)

    def lift(self, v: Val) -> z3.ExprRef:
        return z3.BitVecVal(int(v), self.width, self.ctx) if _is_const(v) else v

    def mod(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
        return a % b  # z3py's `%` on bit-vectors is bvsmod: the sign of the divisor, as in Python

    def floordiv(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
        # a - a mod b is a multiple of b, so the truncating signed division is exact
        return (a - (a % b)) / b

    def value(self, v: z3.ExprRef) -> int:
        return int(v.as_signed_long())


def _py_div(op: str, a: int, b: int) -> int:
    return a // b if op == "/" else a % b


_COMPARE = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


# ------------------------------------------------------------ widths for bit-vectors


class _Widths(Ranges):
    """The largest absolute value any integer (sub)expression of the program can take: the
    interval analysis seeing every subexpression and noting every interval it finds, with
    bounds of its own where `Ranges` would have none or finer ones: a choice never bound is
    0..1, a quotient lies within the dividend's magnitude and a remainder within the
    divisor's, whatever the signs; and it notes `a - a mod b`, which the bit-vector quotient
    computes on the way. A width may be wider than needed, never narrower."""

    exhaustive = True

    def __init__(self, program: Program) -> None:
        super().__init__([(s.lo, s.hi) for s in program.layout.slots])
        self.biggest = max((max(abs(lo), abs(hi)) for lo, hi in self.slots), default=1)

    def note(self, iv: Interval) -> Interval:
        self.biggest = max(self.biggest, abs(iv[0]), abs(iv[1]))
        return iv

    def choice(self, var: int, env: dict[int, Interval]) -> Interval:
        return env.get(var, (0, 1))

    def division(self, op: str, a: Interval | None, b: Interval | None) -> Interval:
        assert a is not None and b is not None
        m = max(abs(a[0]), abs(a[1]))
        n = max(abs(b[0]), abs(b[1]))
        self.note((-(m + n), m + n))  # a - a mod b, on the way to the quotient
        return (-m, m) if op == "/" else (-n, n)

    def bind(self, env: dict[int, Interval], var: int, iv: Interval) -> dict[int, Interval]:
        # a binding holds for the rest of the step, past the end of its `if` arm or `with` body
        env[var] = iv
        return env

    def pick(self, values: Sequence[int | bool]) -> Interval:
        return self.note(super().pick(values))

    def program(self, p: Program) -> int:
        for a in p.actions:
            self.block(a.body, {})
        for prop in (*p.invariants, *p.reachables, *p.terminals, *p.finals, *p.end_goals):
            self.expr(prop.expr, {})
        for live in p.liveness:
            for e in (live.p, live.q):
                if e is not None:
                    self.expr(e, {})
        if p.step_properties or p.liveness:
            # the index of the action a step takes, and the number of actions that bounds it; a
            # step property reads the slots before the step, after it, and that index
            self.slots = [*self.slots, *self.slots, self.note((0, len(p.actions)))]
            for sp in p.step_properties:
                self.expr(sp.expr, {})
        return self.biggest


def bv_width(program: Program) -> int:
    """A bit-vector width in which no integer expression of the program overflows."""
    return max(4, _Widths(program).program(program).bit_length() + 2)


# ------------------------------------------------------------ expressions


class _Translator:
    """IR expressions to (value, model-error condition) over a state of values."""

    def __init__(self, logic: _Logic, arith: _Arith, slot_bool: Sequence[bool]) -> None:
        self.lg = logic
        self.ar = arith
        self.slot_bool = slot_bool

    def expr(self, e: I.Expr, s: Sequence[Val], env: dict[int, Val]) -> tuple[Val, Cond]:
        lg, ar = self.lg, self.ar
        if isinstance(e, I.Const):
            return e.value, False
        if isinstance(e, I.Slot):
            return s[e.index], False
        if isinstance(e, I.Chosen):
            return env[e.var], False
        if isinstance(e, I.Table):
            idx, err = self.expr(e.index, s, env)
            return self.table(e.slots, idx, s), err
        if isinstance(e, I.Checked):
            idx, err = self.expr(e.index, s, env)
            if _is_const(idx):
                bad: Cond = not 0 <= idx < e.size
            else:
                bad = z3.Or(idx < 0, idx >= e.size)
            return idx, lg.or_(err, bad)
        if isinstance(e, I.Un):
            a, err = self.expr(e.a, s, env)
            if e.op == "not":
                return lg.not_(a), err
            return -a, err
        if isinstance(e, I.Ite):
            c, ec = self.expr(e.cond, s, env)
            a, ea = self.expr(e.then, s, env)
            b, eb = self.expr(e.orelse, s, env)
            return lg.ite(c, a, b, ar), lg.or_(ec, lg.and_(c, ea), lg.and_(lg.not_(c), eb))
        if isinstance(e, I.Count):
            total: Val = 0
            errs: list[Cond] = []
            for t in e.terms:
                v, err = self.expr(t, s, env)
                errs.append(err)
                term = (1 if v else 0) if isinstance(v, bool) else z3.If(v, ar.lift(1), ar.lift(0))
                total = total + term if not (_is_const(total) and total == 0) else term
            return total, lg.or_(*errs)
        assert isinstance(e, I.Bin)
        if e.op in ("and", "or", "=>"):
            return self.logic_chain(e, s, env)
        a, ea = self.expr(e.a, s, env)
        b, eb = self.expr(e.b, s, env)
        err = lg.or_(ea, eb)
        if e.op in _COMPARE:
            return self.compare(e.op, a, b), err
        if e.op in ("/", "%"):
            zero: Cond = (b == 0) if _is_const(b) else (b == ar.lift(0))
            err = lg.or_(err, zero)
            if _is_const(a) and _is_const(b):
                return (_py_div(e.op, a, b) if b != 0 else 0), err
            if _is_const(b) and b == 0:
                return 0, err
            la, lb = ar.lift(a), ar.lift(b)
            return (ar.floordiv(la, lb) if e.op == "/" else ar.mod(la, lb)), err
        if _is_const(a) and _is_const(b):
            return {"+": a + b, "-": a - b, "*": a * b}[e.op], err
        la, lb = ar.lift(a), ar.lift(b)
        return {"+": la + lb, "-": la - lb, "*": la * lb}[e.op], err

    def logic_chain(self, e: I.Bin, s: Sequence[Val], env: dict[int, Val]) -> tuple[Val, Cond]:
        """`and`, `or`, `=>`: the right operand is evaluated (and may fail) only when needed."""
        lg = self.lg
        a, ea = self.expr(e.a, s, env)
        b, eb = self.expr(e.b, s, env)
        if e.op == "and":
            return lg.and_(a, b), lg.or_(ea, lg.and_(a, eb))
        if e.op == "or":
            return lg.or_(a, b), lg.or_(ea, lg.and_(lg.not_(a), eb))
        return lg.or_(lg.not_(a), b), lg.or_(ea, lg.and_(a, eb))

    def compare(self, op: str, a: Val, b: Val) -> Cond:
        if _is_const(a) and _is_const(b):
            return _COMPARE[op](a, b)
        lg = self.lg
        if isinstance(a, bool) or isinstance(b, bool) or z3.is_bool(a) or z3.is_bool(b):
            if op not in ("==", "!="):
                raise AssertionError(f"ordering of truth values: {op}")
            if isinstance(a, bool):
                a, b = b, a
            if isinstance(b, bool):
                same = a if b else lg.not_(a)
            else:
                same = a == b
            return same if op == "==" else lg.not_(same)
        la, lb = self.ar.lift(a), self.ar.lift(b)
        return {"==": la == lb, "!=": la != lb, "<": la < lb, "<=": la <= lb, ">": la > lb,
                ">=": la >= lb}[op]

    def table(self, slots: tuple[int, ...], idx: Val, s: Sequence[Val]) -> Val:
        """`s[slots[idx]]`; the index is in range (the IR checked it where it can fail)."""
        if _is_const(idx):
            return s[slots[int(idx)]] if 0 <= idx < len(slots) else s[slots[-1]]
        acc = s[slots[-1]]
        for m in range(len(slots) - 2, -1, -1):
            acc = self.lg.ite(idx == m, s[slots[m]], acc, self.ar)
        return acc


# ------------------------------------------------------------ steps


@dataclass
class _Path:
    """One way through a step's body so far."""

    running: Cond           # every guard held and nothing failed: execution goes on
    state: list[Val]
    env: dict[int, Val]
    error: Cond = False     # a runtime model error ended the step on the way
    failed: Cond = False    # an assertion failed on the way


@dataclass
class ActionTerms:
    """An action over the current frame `s` (and the next frame `t` for `moves`)."""

    index: int
    enabled: z3.BoolRef      # some path completes: the action has a successor
    moves: z3.BoolRef        # some path completes and leads to `t`
    error: z3.BoolRef        # some path ends in a runtime model error
    failed: z3.BoolRef       # some path ends in a failed assertion
    paths: int


class _Executor:
    def __init__(self, tr: _Translator, ranges: Sequence[tuple[int, int]]) -> None:
        self.tr = tr
        self.lg = tr.lg
        self.ranges = ranges
        self.count = 0

    def block(self, stmts: Sequence[I.Stmt], paths: list[_Path]) -> list[_Path]:
        for st in stmts:
            out: list[_Path] = []
            for p in paths:
                if p.running is False:
                    out.append(p)
                else:
                    out.extend(self.stmt(st, p))
            paths = out
            if len(paths) > MAX_PATHS:
                raise EncodingError(f"a step has more than {MAX_PATHS} ways through `either` and `with`")
        return paths

    def fail(self, p: _Path, err: Cond) -> _Path:
        """`p` after a point where evaluation fails when `err` holds."""
        if err is False:
            return p
        lg = self.lg
        return _Path(lg.and_(p.running, lg.not_(err)), p.state, p.env,
                     lg.or_(p.error, lg.and_(p.running, err)), p.failed)

    def stmt(self, st: I.Stmt, p: _Path) -> list[_Path]:
        lg, tr = self.lg, self.tr
        if isinstance(st, I.Guard):
            c, err = tr.expr(st.cond, p.state, p.env)
            q = self.fail(p, err)
            return [_Path(lg.and_(q.running, c), q.state, q.env, q.error, q.failed)]
        if isinstance(st, I.Assert):
            c, err = tr.expr(st.cond, p.state, p.env)
            q = self.fail(p, err)
            return [_Path(lg.and_(q.running, c), q.state, q.env, q.error,
                          lg.or_(q.failed, lg.and_(q.running, lg.not_(c))))]
        if isinstance(st, I.Assign):
            return [self.assign(st, p)]
        if isinstance(st, I.Let):
            v, err = tr.expr(st.value, p.state, p.env)
            q = self.fail(p, err)
            return [_Path(q.running, q.state, {**q.env, st.var: v}, q.error, q.failed)]
        if isinstance(st, I.If):
            c, err = tr.expr(st.cond, p.state, p.env)
            q = self.fail(p, err)
            then = self.block(st.then, [_Path(lg.and_(q.running, c), q.state, q.env, q.error, q.failed)])
            orelse = self.block(st.orelse, [_Path(lg.and_(q.running, lg.not_(c)), q.state, q.env, q.error,
                                                  q.failed)])
            if len(then) == 1 and len(orelse) == 1:
                return [self.merge(c, then[0], orelse[0])]
            return then + orelse
        if isinstance(st, I.Choice):
            out: list[_Path] = []
            for branch in st.branches:
                out.extend(self.block(branch, [p]))
            return out
        if isinstance(st, I.Pick):
            out = []
            for value in st.values:
                env = {**p.env, st.var: value}
                q = _Path(p.running, p.state, env, p.error, p.failed)
                if st.where is not None:
                    c, err = tr.expr(st.where, p.state, env)
                    q = self.fail(q, err)
                    q = _Path(lg.and_(q.running, c), q.state, q.env, q.error, q.failed)
                if q.running is False and q.error is False:
                    continue
                out.extend(self.block(st.body, [q]))
            return out or [_Path(False, p.state, p.env, p.error, p.failed)]
        raise AssertionError(st)

    def assign(self, st: I.Assign, p: _Path) -> _Path:
        """Every value and index read from the state before the step writes any slot."""
        lg, tr = self.lg, self.tr
        errs: list[Cond] = []
        writes: list[tuple[tuple[int, ...], Val, Val]] = []
        for (slots, index), value in zip(st.targets, st.values, strict=True):
            v, err = tr.expr(value, p.state, p.env)
            errs.append(err)
            if not isinstance(v, bool) and not z3.is_bool(v):
                lo, hi = self.ranges[slots[0]]
                if _is_const(v):
                    errs.append(not lo <= v <= hi)
                else:
                    errs.append(z3.Or(v < lo, v > hi))
            if index is None:
                writes.append((slots, 0, v))
            else:
                idx, err = tr.expr(index, p.state, p.env)
                errs.append(err)
                writes.append((slots, idx, v))
        q = self.fail(p, lg.or_(*errs))
        state = list(q.state)
        for slots, idx, v in writes:
            if _is_const(idx):
                if 0 <= idx < len(slots):
                    state[slots[int(idx)]] = v
            else:
                for m, slot in enumerate(slots):
                    state[slot] = lg.ite(idx == m, v, state[slot], tr.ar)
        return _Path(q.running, state, q.env, q.error, q.failed)

    def merge(self, c: Cond, a: _Path, b: _Path) -> _Path:
        """The two branches of an `if` as one path (`c` decides which one ran)."""
        lg, ar = self.lg, self.tr.ar
        if a.running is False and a.error is False and a.failed is False:
            return b
        if b.running is False and b.error is False and b.failed is False:
            return a
        state = [x if x is y else lg.ite(c, x, y, ar) for x, y in zip(a.state, b.state, strict=True)]
        env = dict(b.env)
        for k, v in a.env.items():
            env[k] = v if k not in b.env or b.env[k] is v else lg.ite(c, v, b.env[k], ar)
        return _Path(lg.or_(a.running, b.running), state, env, lg.or_(a.error, b.error),
                     lg.or_(a.failed, b.failed))


# ------------------------------------------------------------ the encoding


@dataclass
class Encoding:
    """Templates over the current frame `cur` (and the next frame `nxt` for `trans`).

    `state_error` holds when evaluating the invariants or the goals in a state
    is a model error (the explicit engines evaluate both on every new state);
    `end_error` when evaluating the final-state properties, their premises or
    the terminal predicates is (they are evaluated in states without successors).

    A step's templates are over `cur`, `nxt` and `act`, the index of the action
    taken (`at_step` instantiates them at step k, from frame k to frame k + 1):
    `chosen` says that `act` is an action leading from `cur` to `nxt`, and each
    step property's value (and the model error evaluating them) reads all three.
    They are meant for a program with step or liveness properties: only then are
    the bit-vectors made wide enough for an action's index.
    """

    ctx: z3.Context
    program: Program
    arith: str
    width: int | None
    cur: list[z3.ExprRef]
    nxt: list[z3.ExprRef]
    ranges: z3.BoolRef            # every slot of `cur` within its type
    init: z3.BoolRef
    trans: z3.BoolRef             # some action leads from `cur` to `nxt`
    actions: list[ActionTerms]
    step_error: z3.BoolRef        # some step from `cur` ends in a runtime model error
    step_failed: z3.BoolRef       # some step from `cur` ends in a failed assertion
    enabled: z3.BoolRef           # some step from `cur` completes
    invariants: list[z3.BoolRef]  # each invariant's value (meaningful where it evaluates)
    inv_error: z3.BoolRef
    goals: list[z3.BoolRef]       # `Program.reachables`: the goals, then the invariants' premises
    goal_error: z3.BoolRef
    finals: list[z3.BoolRef]
    end_goals: list[z3.BoolRef]
    final_error: z3.BoolRef       # the final properties or their premises fail to evaluate
    terminal: z3.BoolRef          # a state without successors is a proper end
    terminal_error: z3.BoolRef
    act: z3.ExprRef               # the index of the action a step takes
    chosen: z3.BoolRef            # `act` is an action and leads from `cur` to `nxt`
    step_values: list[z3.BoolRef]  # each step property's value over `cur`, `nxt`, `act`
    step_value_error: z3.BoolRef
    temporal: list[tuple[z3.BoolRef, z3.BoolRef]]  # each liveness instance's p and q (q false if none)
    temporal_error: z3.BoolRef
    _frames: dict[str, list[list[z3.ExprRef]]] = field(default_factory=dict)
    _arith: _Arith | None = None
    _pairs: dict[tuple[str, int, bool, bool], tuple[int, Any, Any]] = field(default_factory=dict)
    _made: dict[tuple[int, str, int, bool], z3.ExprRef] = field(default_factory=dict)
    _acts: dict[str, list[z3.ExprRef]] = field(default_factory=dict)

    def frame(self, k: int, family: str = "s") -> list[z3.ExprRef]:
        """The state variables of frame k of a family of frames (made on first use).
        Families are independent unrollings: `s` from the initial states, `u` for induction."""
        assert self._arith is not None and family.isidentifier()
        frames = self._frames.setdefault(family, [])
        while len(frames) <= k:
            j = len(frames)
            frames.append([z3.Bool(f"{family}{j}_{i}", self.ctx) if z3.is_bool(v)
                           else self._arith.var(f"{family}{j}_{i}") for i, v in enumerate(self.cur)])
        return frames[k]

    def action(self, k: int, family: str = "s") -> z3.ExprRef:
        """The index of the action step k of a family takes (made on first use)."""
        assert self._arith is not None and family.isidentifier()
        acts = self._acts.setdefault(family, [])
        while len(acts) <= k:
            acts.append(self._arith.var(f"{family}a{len(acts)}"))
        return acts[k]

    def action_value(self, model: z3.ModelRef, k: int, family: str = "s") -> int:
        """The index of the action step k takes in a Z3 model."""
        assert self._arith is not None
        return self._arith.value(model.eval(self.action(k, family), model_completion=True))

    def _substitute(self, template: z3.ExprRef, k: int, family: str, with_next: bool,
                    with_act: bool = False) -> z3.ExprRef:
        """`z3.substitute` through the C API with the frame's arrays made once: z3py's own
        checks every pair's sorts in Python, which dominated the engines' time on wide models."""
        key = (family, k, with_next, with_act)
        if key not in self._pairs:
            src = list(self.cur) + (list(self.nxt) if with_next else []) + ([self.act] if with_act else [])
            dst = self.frame(k, family) + (self.frame(k + 1, family) if with_next else []) + (
                [self.action(k, family)] if with_act else [])
            n = len(src)
            frm, to = (z3.Ast * n)(), (z3.Ast * n)()
            for i, (a, b) in enumerate(zip(src, dst, strict=True)):
                frm[i], to[i] = a.as_ast(), b.as_ast()
            self._pairs[key] = (n, frm, to)
        n, frm, to = self._pairs[key]
        ast = z3.Z3_substitute(self.ctx.ref(), template.as_ast(), n, frm, to)
        return _to_expr_ref(ast, self.ctx)

    def at(self, template: z3.ExprRef, k: int, family: str = "s") -> z3.ExprRef:
        """A template over `cur` instantiated at frame k (made once per template and frame)."""
        if not self.cur:
            return template
        key = (template.get_id(), family, k, False)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self._substitute(template, k, family, False)
        return made

    def at_step(self, template: z3.ExprRef, k: int, family: str = "s") -> z3.ExprRef:
        """A template over `cur`, `nxt` and `act` instantiated at step k (frame k to frame k + 1)."""
        key = (template.get_id(), family, k, True)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self._substitute(template, k, family, True, True)
        return made

    def step(self, k: int, family: str = "s") -> z3.ExprRef:
        """The transition relation from frame k to frame k + 1."""
        if not self.cur:
            return self.trans
        return self._substitute(self.trans, k, family, True)

    def state(self, model: z3.ModelRef, k: int, family: str = "s") -> State:
        """Frame k of a Z3 model as a state tuple (booleans as `bool`)."""
        assert self._arith is not None
        out: list[int | bool] = []
        for v in self.frame(k, family):
            x = model.eval(v, model_completion=True)
            out.append(z3.is_true(x) if z3.is_bool(v) else self._arith.value(x))
        return tuple(out)

    def equals(self, k: int, state: State, family: str = "s") -> z3.BoolRef:
        """Frame k is exactly `state`."""
        assert self._arith is not None
        terms = []
        for v, x in zip(self.frame(k, family), state, strict=True):
            if z3.is_bool(v):
                terms.append(v if x else z3.Not(v))
            else:
                terms.append(v == self._arith.lift(x))
        return z3.And(*terms) if terms else z3.BoolVal(True, self.ctx)

    def slot_compare(self, slot: int, op: str, value: int) -> z3.BoolRef:
        """A template: slot `op` value, for op in == != <= >=."""
        assert self._arith is not None
        v = self.cur[slot]
        x: Any = bool(value) if z3.is_bool(v) else self._arith.lift(value)
        if op == "==":
            return v == x
        if op == "!=":
            return v != x
        return v <= x if op == "<=" else v >= x

    def enabled_of(self, actions: Iterable[int]) -> z3.BoolRef:
        """A template: one of `actions` (by index) has a successor from `cur`."""
        terms = [self.actions[a].enabled for a in actions]
        return z3.Or(*terms) if terms else z3.BoolVal(False, self.ctx)

    def took(self, k: int, actions: Iterable[int], family: str = "s") -> z3.BoolRef:
        """Step k of a family takes one of `actions` (by index)."""
        assert self._arith is not None
        v = self.action(k, family)
        terms = [v == self._arith.lift(a) for a in actions]
        return z3.Or(*terms) if terms else z3.BoolVal(False, self.ctx)

    def distinct(self, i: int, j: int, family: str = "s") -> z3.BoolRef:
        """Frames i and j are different states."""
        a, b = self.frame(i, family), self.frame(j, family)
        if not a:
            return z3.BoolVal(False, self.ctx)
        return z3.Or(*[x != y for x, y in zip(a, b, strict=True)])


def _initial(logic: _Logic, arith: _Arith, program: Program, cur: Sequence[z3.ExprRef]) -> z3.BoolRef:
    """The initial states: per variable (and program counter) the values it may start with,
    when the states are every combination of those (as lowering makes them); else each state."""
    lay = program.layout
    states = program.initial
    groups: list[tuple[int, int]] = [(p.base, p.base + p.count) for p in lay.places]
    groups += [(slot, slot + 1) for slot in lay.pc_slot.values()]
    covered = sorted(groups)
    product = 1
    options: list[tuple[tuple[int, int], list[tuple[Any, ...]]]] = []
    for lo, hi in covered:
        seen = sorted({s[lo:hi] for s in states}, key=repr)
        options.append(((lo, hi), seen))
        product *= len(seen)
    whole = [i for lo, hi in covered for i in range(lo, hi)] == list(range(len(cur)))

    def eq(slot: int, x: Any) -> Cond:
        v = cur[slot]
        if z3.is_bool(v):
            return v if x else z3.Not(v)
        return v == arith.lift(x)

    if whole and product == len(set(states)):
        parts = [logic.or_(*[logic.and_(*[eq(lo + i, x) for i, x in enumerate(t)]) for t in seen])
                 for (lo, _), seen in options]
        return logic.lift(logic.and_(*parts))
    return logic.lift(logic.or_(*[logic.and_(*[eq(i, x) for i, x in enumerate(s)]) for s in states]))


def encode(program: Program, ctx: z3.Context, arith: str = "int") -> Encoding:
    """The program as Z3 templates (see `Encoding`)."""
    if arith not in ENCODINGS:
        raise ValueError(f"unknown integer encoding {arith!r}")
    width: int | None = None
    ar: _Arith
    if arith == "bv":
        width = bv_width(program)
        if width > MAX_WIDTH:
            raise EncodingError(f"integers of {width} bits; the bit-vector encoding takes at most {MAX_WIDTH}")
        ar = _BvArith(ctx, width)
    else:
        ar = _IntArith(ctx)
    lg = _Logic(ctx)
    lay = program.layout
    slot_bool = [isinstance(s.type, TBool) for s in lay.slots]
    ranges = [(s.lo, s.hi) for s in lay.slots]

    def make(prefix: str) -> list[z3.ExprRef]:
        return [z3.Bool(f"{prefix}_{i}", ctx) if b else ar.var(f"{prefix}_{i}") for i, b in enumerate(slot_bool)]

    cur, nxt = make("cur"), make("nxt")
    tr = _Translator(lg, ar, slot_bool)
    ex = _Executor(tr, ranges)
    in_range = lg.and_(*[z3.And(v >= lo, v <= hi) for v, (lo, hi), b in zip(cur, ranges, slot_bool, strict=True)
                         if not b])

    actions: list[ActionTerms] = []
    for a in program.actions:
        paths = ex.block(a.body, [_Path(True, list(cur), {})])
        moves = []
        for p in paths:
            if p.running is False:
                continue
            same = [(t == lg.lift(v) if z3.is_bool(t) else t == ar.lift(v))
                    for t, v in zip(nxt, p.state, strict=True)]
            moves.append(lg.and_(p.running, *same))
        actions.append(ActionTerms(a.index, lg.lift(lg.or_(*[p.running for p in paths])), lg.lift(lg.or_(*moves)),
                                   lg.lift(lg.or_(*[p.error for p in paths])),
                                   lg.lift(lg.or_(*[p.failed for p in paths])), len(paths)))

    def values(props: Sequence[I.Property | I.StepProperty],
               over: Sequence[Val] = cur) -> tuple[list[z3.BoolRef], Cond]:
        vals, errs = [], []
        for prop in props:
            v, err = tr.expr(prop.expr, over, {})
            vals.append(lg.lift(v))
            errs.append(err)
        return vals, lg.or_(*errs)

    invariants, inv_error = values(program.invariants)
    goals, goal_error = values(program.reachables)
    finals, final_error = values(program.finals)
    end_goals, end_goal_error = values(program.end_goals)
    # `is_terminal` tries the terminal predicates in order and stops at the first that holds
    terminal: Cond = False
    terminal_error: Cond = False
    before: Cond = True
    for prop in program.terminals:
        v, err = tr.expr(prop.expr, cur, {})
        terminal_error = lg.or_(terminal_error, lg.and_(before, err))
        terminal = lg.or_(terminal, lg.and_(before, lg.not_(err), v))
        before = lg.and_(before, lg.not_(err), lg.not_(v))
    if program.end_pcs:
        at_end = lg.and_(*[cur[slot] == ar.lift(v) for slot, v in program.end_pcs])
        terminal = lg.or_(terminal, lg.and_(before, at_end))

    act = ar.var("act")
    chosen = lg.and_(act >= ar.lift(0), act < ar.lift(len(actions)),
                     *[z3.Implies(act == ar.lift(a.index), a.moves) for a in actions])
    # a step property reads the state before the step, the state after it, and the action
    step_values, step_value_error = values(program.step_properties, [*cur, *nxt, act])
    temporal: list[tuple[z3.BoolRef, z3.BoolRef]] = []
    temporal_errors: list[Cond] = []
    for live in program.liveness:
        p, p_err = tr.expr(live.p, cur, {})
        q, q_err = tr.expr(live.q, cur, {}) if live.q is not None else (False, False)
        temporal.append((lg.lift(p), lg.lift(q)))
        temporal_errors += [p_err, q_err]

    enc = Encoding(
        ctx=ctx, program=program, arith=arith, width=width, cur=cur, nxt=nxt, ranges=lg.lift(in_range),
        init=_initial(lg, ar, program, cur),
        trans=lg.lift(lg.or_(*[a.moves for a in actions])), actions=actions,
        step_error=lg.lift(lg.or_(*[a.error for a in actions])),
        step_failed=lg.lift(lg.or_(*[a.failed for a in actions])),
        enabled=lg.lift(lg.or_(*[a.enabled for a in actions])),
        invariants=invariants, inv_error=lg.lift(inv_error), goals=goals, goal_error=lg.lift(goal_error),
        finals=finals, end_goals=end_goals, final_error=lg.lift(lg.or_(final_error, end_goal_error)),
        terminal=lg.lift(terminal), terminal_error=lg.lift(terminal_error),
        act=act, chosen=lg.lift(chosen), step_values=step_values, step_value_error=lg.lift(step_value_error),
        temporal=temporal, temporal_error=lg.lift(lg.or_(*temporal_errors)),
    )
    enc._arith = ar
    return enc
