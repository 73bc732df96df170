"""The core IR: domain-free, finite, flat. What every engine and backend consumes.

Takes nothing; gives the node classes, their root `Program` (what lowering
makes of a model), and a few questions about their shape (`flatten_chain`,
`straight`, `assigns`) that every code generator asks. A state is a tuple of
scalar slots whose layout (`layout.Layout`) is fixed per model. An action is a
name, the process it belongs to, and a body: a small sequential program over
slots with guards, assertions, conditionals and finite non-deterministic
choices. Every value is an `int` or a `bool`. Imports `compile.layout` and
`lang.errors.Span`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from quiesce_check.compile.layout import Layout, State
from quiesce_check.lang.errors import Span

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Const:
    value: int | bool


@dataclass(frozen=True, slots=True)
class Slot:
    index: int


@dataclass(frozen=True, slots=True)
class Table:
    """Read `slots[index]`; `index` is a 0-based position already known to be in range."""

    slots: tuple[int, ...]
    index: Expr


@dataclass(frozen=True, slots=True)
class Checked:
    """`index` itself, after checking `0 <= index < size` (else a runtime model error, told as
    `checked_message` says for its `kind`)."""

    index: Expr
    size: int
    what: str
    kind: str = "index"  # or one of CHECK_KINDS


# What a failed `Checked` of each kind other than "index" means (`what` is the source text).
CHECK_KINDS = {
    "full": "`append` to a full sequence in {what} (capacity {n})",
    "empty": "{what}: the sequence is empty",
    "seqindex": "index out of range in {what}: at or past the sequence's length",
    "capacity": "{what}: a sequence longer than the capacity {cap}",
    "element": "{what}: a set element outside the set's type",
    "choose": "{what}: no value satisfies the condition",
}


def checked_message(kind: str, what: str, i: int, n: int) -> str:
    """The message of a failed `Checked`."""
    if kind == "index":
        return f"index out of range in {what}: position {i} of {n}"
    template = CHECK_KINDS[kind]
    return template.replace("{i}", str(i)).replace("{n}", str(n)).replace("{cap}", str(n - 1)) \
        .replace("{what}", what)


@dataclass(frozen=True, slots=True)
class Chosen:
    """The value picked by an enclosing `Pick`."""

    var: int


@dataclass(frozen=True, slots=True)
class Un:
    op: str  # "not" | "-"
    a: Expr


@dataclass(frozen=True, slots=True)
class Bin:
    op: str  # + - * / % == != < <= > >= and or =>
    a: Expr
    b: Expr
    span: Span | None = None  # for division by zero


@dataclass(frozen=True, slots=True)
class Ite:
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Count:
    """How many of the terms are true."""

    terms: tuple[Expr, ...]


Expr = Const | Slot | Table | Checked | Chosen | Un | Bin | Ite | Count

# ----------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Assign:
    """Simultaneous scalar stores: every value and index is read before any slot is written.

    Each target is `(slots, index)`: the fixed slot `slots[0]` when `index` is
    `None`, else `slots[index]`. Integer values are checked against the slot's range.
    """

    targets: tuple[tuple[tuple[int, ...], Expr | None], ...]
    values: tuple[Expr, ...]
    what: str


@dataclass(frozen=True, slots=True)
class Guard:
    cond: Expr


@dataclass(frozen=True, slots=True)
class Assert:
    cond: Expr
    id: int


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Choice:
    """`either`: each branch is a separate successor; the branch taken is recorded as choice `var`."""

    var: int
    branches: tuple[tuple[Stmt, ...], ...]


@dataclass(frozen=True, slots=True)
class Pick:
    """`with`/action parameter: one successor per value for which `where` holds."""

    var: int
    name: str
    values: tuple[int | bool, ...]
    where: Expr | None
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Let:
    """Name a value for the rest of the step (a proc's argument, `let`): `Chosen(var)` reads it.
    Unlike a `Pick`, it is no choice and is not recorded in the trace."""

    var: int
    value: Expr


Stmt = Assign | Guard | Assert | If | Choice | Pick | Let


@dataclass(frozen=True)
class Action:
    index: int
    name: str          # the label, the action's name, or `L<line>`
    process: str       # "Guest", "Worker[1]", or "" for a plain action
    text: str          # the source statement, one line
    span: Span
    pc_slot: int | None  # the process's program-counter slot, for dispatch
    pc_value: int | None
    body: tuple[Stmt, ...]
    choice_names: tuple[str, ...]  # names of the Picks, in order of appearance

    @property
    def label(self) -> str:
        return f"{self.process}.{self.name}" if self.process else self.name


# What a declared property is: an invariant (or a lemma, an invariant stated to help induction),
# a final-state property, a reachability goal, a terminal predicate, or the premise of an
# invariant or final property written as an implication (hit or not, it settles vacuity).
PropertyKind = Literal["invariant", "lemma", "final", "reachable", "terminal", "premise"]


@dataclass(frozen=True)
class Property:
    kind: PropertyKind
    name: str  # for a premise: the name of the property it belongs to
    expr: Expr
    span: Span


# What a liveness property says of every fair infinite behaviour: `p ~> q` (whenever p holds,
# q holds then or later), `eventually p`, `always eventually p` (p again and again),
# `eventually always p` (from some point on, p for good).
TemporalKind = Literal["leads_to", "eventually", "always_eventually", "eventually_always"]


@dataclass(frozen=True)
class Liveness:
    """One liveness property, or one instance of a parameterised one (`instance` "r = 1")."""

    kind: TemporalKind
    name: str
    instance: str
    p: Expr
    q: Expr | None   # leads_to's target
    span: Span

    @property
    def title(self) -> str:
        return f"{self.name} ({self.instance})" if self.instance else self.name


@dataclass(frozen=True)
class Fairness:
    """A fairness assumption on a set of steps: weak (a behaviour in which one of them stays
    enabled for good takes one of them again and again) or strong (... is enabled again and
    again ...). `what` says it as written: "process Backend", "process Worker[1]",
    "action deliver", "action Blkback.respond", "system". The steps are the actions it
    `covers`: those of one process instance (`process`), those that run a family's
    labelled statement (`family` and `action`), a plain action (`family` "" and `action`),
    or all (none set)."""

    strong: bool
    what: str
    span: Span
    process: str | None = None   # an instance's shown name: "Backend", "Worker[1]"
    family: str | None = None    # a process family's name, "" for plain actions
    action: str | None = None    # a plain action's name, or a label: the steps that run the statement labelled

    @property
    def text(self) -> str:
        return f"{'strong' if self.strong else 'weak'} fairness of {self.what}"

    def covers(self, a: Action) -> bool:
        return ((self.process is None or a.process == self.process)
                and (self.family is None or a.process.split("[", 1)[0] == self.family)
                and (self.action is None or a.name == self.action))


@dataclass(frozen=True)
class StepProperty:
    """`always step name: e;` over a step: `Slot(i)` reads slot i before the step,
    `Slot(n + i)` after it (n the layout's size), `Slot(2n)` holds the index of the action
    taken."""

    name: str
    expr: Expr
    span: Span


@dataclass(frozen=True)
class AssertInfo:
    id: int
    text: str
    span: Span


@dataclass(frozen=True)
class Program:
    """Everything an engine needs, as data."""

    layout: Layout
    actions: tuple[Action, ...]
    initial: tuple[State, ...]
    invariants: tuple[Property, ...]
    # the reachability goals, then the premise of each invariant that is an implication
    # (kind "premise", named after its invariant): a goal is hit in any state
    reachables: tuple[Property, ...]
    terminals: tuple[Property, ...]
    asserts: tuple[AssertInfo, ...]
    choice_names: tuple[str, ...]      # by `Pick.var` / either id
    end_pcs: tuple[tuple[int, int], ...]  # (pc slot, value of `end`) per process instance
    finals: tuple[Property, ...] = ()     # must hold in every state without successors
    end_goals: tuple[Property, ...] = ()  # premises of the finals: hit in states without successors
    liveness: tuple[Liveness, ...] = ()   # one per instance of each parameterised property
    fairness: tuple[Fairness, ...] = ()   # one per process instance a `fair process` names
    step_properties: tuple[StepProperty, ...] = ()
    # a choice among values that are not one scalar (records): the value each position stands for
    choice_shown: tuple[tuple[int, tuple[str, ...]], ...] = ()


# ------------------------------------------------------------ shapes of the IR


def flatten_chain(e: Bin) -> list[Expr]:
    """The operands of a left- or right-nested chain of one associative operator."""
    out: list[Expr] = []
    todo: list[Expr] = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, Bin) and x.op == e.op:
            todo += [x.b, x.a]
        else:
            out.append(x)
    return out


def straight(stmts: Sequence[Stmt]) -> bool:
    """Whether running `stmts` has one outcome: no `either` or `with` anywhere in them."""
    return all(not isinstance(s, Choice | Pick) and (not isinstance(s, If) or (
        straight(s.then) and straight(s.orelse))) for s in stmts)


def assigns(stmts: Sequence[Stmt]) -> bool:
    """Whether `stmts` (an `if`'s arm with one outcome) store anything."""
    return any(isinstance(s, Assign) or (isinstance(s, If) and (assigns(s.then) or assigns(s.orelse)))
               for s in stmts)


def shift_slots(e: Expr, by: int) -> Expr:
    """`e` with every slot it reads moved `by` places: what `e'` reads of a step's after state
    (the state before it in slots 0..n-1, the state after in n..2n-1)."""
    if isinstance(e, Slot):
        return Slot(e.index + by)
    if isinstance(e, Table):
        return Table(tuple(s + by for s in e.slots), shift_slots(e.index, by))
    if isinstance(e, Checked):
        return Checked(shift_slots(e.index, by), e.size, e.what, e.kind)
    if isinstance(e, Un):
        return Un(e.op, shift_slots(e.a, by))
    if isinstance(e, Bin):
        return Bin(e.op, shift_slots(e.a, by), shift_slots(e.b, by), e.span)
    if isinstance(e, Ite):
        return Ite(shift_slots(e.cond, by), shift_slots(e.then, by), shift_slots(e.orelse, by))
    if isinstance(e, Count):
        return Count(tuple(shift_slots(t, by) for t in e.terms))
    return e  # Const, Chosen
