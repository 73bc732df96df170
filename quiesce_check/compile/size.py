"""Stage 3b: how big a lowered model is, before anything is generated or explored.

Takes an `ir.Program`; gives `check_size` (a `ModelError` for a model too big to generate
code for or to explore: too many actions, a step with more than `MAX_FANOUT` successors of one
state, or an expression whose values may need more than `MAX_VALUE_BITS` bits) and `estimate`
(a `StateSpace`: the number of initial states, a lower bound on what a search must hold, and
the product of every slot's range, an upper bound on the reachable states, with the bits a
packed state takes). Imports `compile.ir`, `compile.bounds`, `lang.errors`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from quiesce_check.compile import ir as I
from quiesce_check.compile.bounds import Interval, Ranges
from quiesce_check.compile.ir import Program, straight
from quiesce_check.lang.errors import Diagnostic, ModelError, Span

# More actions (process positions times instances, plus plain actions) than this and the
# generated code itself would take minutes to build: no explicit-state search needs so many.
MAX_ACTIONS = 1 << 13
# One step may lead to at most this many successors of one state (the product of the values its
# `with`s and parameters choose among, times its `either` branches): past it, a single
# expansion would take minutes and gigabytes before any limit could stop it.
MAX_FANOUT = 1 << 20
# The generated code repeats what follows a branching statement (an `either` or a `with`, or an
# `if` with one inside) in each branch: a model whose steps would need more generated statements
# than this, all steps together, is refused rather than compiled for minutes.
MAX_CODE = 1 << 13
# No value computed while checking a model may need more bits than this: arithmetic on such
# numbers takes unbounded time, and no finite-state protocol needs them.
MAX_VALUE_BITS = 4096


@dataclass(frozen=True)
class StateSpace:
    """What the types say about the reachable states, before exploring any."""

    initial: int   # states the search must hold before its first step
    bound: int     # the product of every slot's number of values: reachable states are at most this
    bits: int      # bits of one packed state (every slot in the bits its range needs)
    slots: int

    @property
    def words(self) -> int:
        """64-bit words of one packed state."""
        return max(1, math.ceil(self.bits / 64))

    def bound_text(self) -> str:
        """The bound as people read it: exact when short, else as a power of ten."""
        return approx(self.bound)


def approx(n: int) -> str:
    if n < 10**9:
        return f"{n:,}"
    digits = len(str(n)) if n.bit_length() < 12000 else int(n.bit_length() * math.log10(2)) + 1
    lead = int(str(n)[:3]) if n.bit_length() < 12000 else 100
    return f"{lead / 100:.2f}e{digits - 1}"


def estimate(program: Program) -> StateSpace:
    bound = 1
    bits = 0
    for s in program.layout.slots:
        n = s.hi - s.lo + 1
        bound *= n
        bits += (n - 1).bit_length()
    return StateSpace(len(program.initial), bound, bits, len(program.layout.slots))


# Magnitudes saturate here: past it the exact figure does not matter, and bounding it keeps
# the analysis itself cheap whatever the model.
_SATURATED = 1 << (MAX_VALUE_BITS + 1)


def _mag(v: int) -> int:
    return min(abs(int(v)), _SATURATED)


def _symmetric(m: int) -> Interval:
    return -m, m


class _Magnitude(Ranges):
    """The largest absolute value each expression can take, from the slots' ranges: the interval
    analysis over intervals `-m..m` that saturate, seeing every subexpression and keeping the
    largest `m` it meets (`worst`). Its estimates are coarser than `Ranges` gives (a difference
    or a sum of magnitudes, the dividend's magnitude for a quotient, the divisor's for a
    remainder, 2**63 for a choice not seen bound), and cheap however large the numbers."""

    exhaustive = True
    flat = True

    def __init__(self, program: Program) -> None:
        super().__init__([_symmetric(max(_mag(s.lo), _mag(s.hi))) for s in program.layout.slots])
        self.worst = 0

    def note(self, iv: Interval) -> Interval:
        iv = self.widen(iv)
        self.worst = max(self.worst, iv[1])
        return iv

    def choice(self, var: int, env: dict[int, Interval]) -> Interval:
        return env.get(var, _symmetric(1 << 63))

    def widen(self, iv: Interval) -> Interval:
        return _symmetric(min(max(abs(iv[0]), abs(iv[1])), _SATURATED))

    def division(self, op: str, a: Interval | None, b: Interval | None) -> Interval | None:
        return a if op == "/" else b

    def pick(self, values: Sequence[int | bool]) -> Interval:
        return _symmetric(max((_mag(int(v)) for v in values), default=1))

    @property
    def too_big(self) -> bool:
        return self.worst.bit_length() > MAX_VALUE_BITS


def fanout(body: Iterable[I.Stmt]) -> int:
    """At most how many successors one state has by these statements (saturating past MAX_FANOUT)."""
    n = 1
    for s in body:
        if isinstance(s, I.If):
            n *= max(fanout(s.then), fanout(s.orelse))
        elif isinstance(s, I.Choice):
            n *= sum(fanout(b) for b in s.branches)
        elif isinstance(s, I.Pick):
            n *= len(s.values) * fanout(s.body)
        n = min(n, MAX_FANOUT + 1)
    return n


def _code(body: Sequence[I.Stmt]) -> tuple[int, int]:
    """(statements the generators write for `body` itself, copies of what follows it), saturating."""
    own, leaves = 0, 1
    for s in body:
        if isinstance(s, I.If) and straight([s]):
            o, n = 1 + _code(s.then)[0] + _code(s.orelse)[0], 1
        elif isinstance(s, I.If):
            (o1, n1), (o2, n2) = _code(s.then), _code(s.orelse)
            o, n = 1 + o1 + o2, n1 + n2
        elif isinstance(s, I.Choice):
            parts = [_code(b) for b in s.branches]
            o, n = 1 + sum(p[0] for p in parts), sum(p[1] for p in parts)
        elif isinstance(s, I.Pick):
            o, n = _code(s.body)
            o += 1
        else:
            o, n = 1, 1
        own = min(own + leaves * o, MAX_CODE + 1)
        leaves = min(leaves * n, MAX_CODE + 1)
    return own, leaves


def code_size(program: Program) -> int:
    """About how many statements the code generators write for the model's steps."""
    total = 0
    for a in program.actions:
        own, leaves = _code(a.body)
        total = min(total + own + leaves, MAX_CODE + 1)
    return total


def _too_big(span: Span) -> Diagnostic:
    return Diagnostic("E024", f"a value computed here may need more than {MAX_VALUE_BITS} bits", span,
                      "keep numbers within the ranges of the types")


def check_size(program: Program) -> None:
    """`ModelError` (E024) for a model too big to generate code for or to compute."""
    if len(program.actions) > MAX_ACTIONS:
        by_process: dict[str, int] = {}
        first: dict[str, Span] = {}
        for a in program.actions:
            key = a.process.split("[")[0]
            by_process[key] = by_process.get(key, 0) + 1
            first.setdefault(key, a.span)
        worst = max(by_process, key=lambda k: by_process[k])
        raise ModelError([Diagnostic(
            "E024", f"the model has {len(program.actions)} steps (statements times process instances); "
            f"at most {MAX_ACTIONS}", first[worst],
            f"{f'the steps of process `{worst}`' if worst else 'the actions'} make {by_process[worst]} of them")])
    diags = []
    if code_size(program) > MAX_CODE:
        largest = max(program.actions, key=lambda a: sum(_code(a.body)))
        diags.append(Diagnostic("E024", f"the model's steps would need more than {MAX_CODE:,} statements of "
                                "generated code: what follows an `either` (or an `if` with a choice inside) "
                                "is repeated for each branch", largest.span,
                                "end the step after the choice, or make fewer choices one after another"))
    for a in program.actions:
        if fanout(a.body) > MAX_FANOUT:
            diags.append(Diagnostic("E024", f"this step may lead to more than {MAX_FANOUT:,} states from one state "
                                    "(the values it chooses among, multiplied)", a.span,
                                    "choose among fewer values, or in several steps"))
    m = _Magnitude(program)
    for a in program.actions:
        m.worst = 0
        m.block(a.body, {})
        if m.too_big:
            diags.append(_too_big(a.span))
    for p in (*program.invariants, *program.reachables, *program.terminals, *program.finals, *program.end_goals):
        m.worst = 0
        m.expr(p.expr, {})
        if m.too_big:
            diags.append(_too_big(p.span))
    if diags:
        raise ModelError(diags[:10])
