"""The checker's rules for sets, sequences, `choose`, `any`, qualified enum members and `finished`.

Each refused model gets one diagnostic with its code at the column of the offending text (found
in the text itself, not copied from output); each accepted one gets the types and initial values
the declarations say.
"""

from __future__ import annotations

import pytest

from quiesce_check.lang.checker import check
from quiesce_check.lang.errors import ModelError
from quiesce_check.lang.parser import parse
from quiesce_check.lang.types import TEnum, TInt, TSeq, TSet

BASE = "var x: 0..3 = 0;\nvar s: set of 0..3 = {};\nvar q: seq[2] of 0..3 = <<>>;\n"


def diagnostics(text: str) -> list[tuple[str, int, int]]:
    with pytest.raises(ModelError) as e:
        check(parse(text, "m.qdl"))
    return [(d.code, d.span.line if d.span else 0, d.span.col if d.span else 0) for d in e.value.diagnostics]


def at(text: str, needle: str) -> tuple[int, int]:
    """The 1-based line and column of `needle`'s first occurrence in `text`."""
    before = text[:text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


@pytest.mark.parametrize(("body", "code", "needle"), [
    ("action a { x := card(q); }", "E020", "q)"),                       # card of a sequence
    ("action a { x := len(s); }", "E020", "s)"),                        # len of a set
    ("action a { s := s union q; }", "E020", "q;"),                     # union with a sequence
    ("action a when x in x { skip; }", "E020", "x {"),                  # `in` needs a collection
    ("action a { q := append(q, true); }", "E020", "true"),             # wrong element type
    ("action a { s := {true}; }", "E021", "{true}"),                   # set of bool into set of 0..3
    ("action a { x := any; }", "E044", "any"),                          # any outside an initial value
    ("var t: set of seq[2] of 0..1 = {};", "E020", "seq[2] of 0..1"),           # no set of sequences
    ("var t: seq[0] of 0..1 = <<>>;", "E020", "0]"),                    # capacity at least 1
    ("var t: set of 0..9999 = {};", "E024", "set of 0..9999"),          # more than 4,096 bits
    ("process P { for y in s { skip; } }", "E030", "s {"),              # a loop of steps over a state set
    ("liveness l(y in s): eventually x == y;", "E020", "s)"),           # liveness over a state set
    ("action a { send x, 1; }", "E020", "x, 1"),                        # send on an integer
    ("process P { receive q -> q[0]; }", "E022", "q[0]"),              # into its own queue
])
def test_refused(body: str, code: str, needle: str) -> None:
    text = BASE + body + "\n"
    line, col = at(text, needle)
    assert diagnostics(text) == [(code, line, col)]


def test_shared_enum_member_names() -> None:
    text = ("type Phase = enum { Idle, Busy };\ntype State = enum { Idle, Done };\n"
            "var p: Phase = Phase.Idle;\nvar t: State = Done;\naction a when p == Idle { skip; }\n")
    assert diagnostics(text) == [("E045", *at(text, "Idle {"))]
    fixed = text.replace("p == Idle", "p == Phase.Idle and t != State.Idle")
    cm = check(parse(fixed, "m.qdl"))
    assert [g.init_values for g in cm.globals] == [(0,), (1,)]
    assert isinstance(cm.globals[0].type, TEnum) and cm.globals[0].type.members == ("Idle", "Busy")


def test_unknown_qualified_member() -> None:
    text = "type Phase = enum { Idle, Busy };\nvar p: Phase = Phase.Idel;\naction a { skip; }\n"
    assert diagnostics(text) == [("E011", *at(text, "Phase.Idel"))]


@pytest.mark.parametrize(("body", "needle"), [
    ("var t: seq[2] of P = <<>>;", "seq[2]"),                           # padding would single out a value
    ("var t: set of record { p: P, b: bool } = {};", "set of record"),  # a set of values holding one
    ("action a { x := choose y in P where true; }", "choose"),          # the least value singles one out
])
def test_symmetric_types_refused_by_name(body: str, needle: str) -> None:
    text = "symmetric type P = 0..2;\nvar x: P = any;\n" + body + "\n"
    found = diagnostics(text)
    assert [c for c, _, _ in found] == ["E027"] and found[0][1:] == at(text, needle)


def test_types_and_initial_values() -> None:
    text = (BASE + "var r: record { a: 0..1, b: bool } = {a: any, b: false};\n"
            "var c: array[0..1] of 0..1 = [any, 1];\nvar u: set of 0..3 = {1, 3} union {k + 2 for k in 0..1};\n"
            "process P { skip; }\ninvariant i: finished(P) or x in {0, 1};\n")
    cm = check(parse(text, "m.qdl"))
    types = {g.name: g.type for g in cm.globals}
    assert types["s"] == TSet(TInt(0, 3)) and types["q"] == TSeq(2, TInt(0, 3))
    inits = {g.name: g.init_values for g in cm.globals}
    assert inits["r"] == ((0, False), (1, False))            # one initial state per value of `a`
    assert inits["c"] == ((0, 1), (1, 1))
    assert inits["u"] == (frozenset({1, 2, 3}),)           # {1, 3} and {2, 3}


def test_not_before_a_quantifier() -> None:
    # `not exists` reads as `not (exists ...)`, the quantifier's body running to the right as
    # after `and` and `or`
    text = "var x: 0..2 = 0;\naction a { skip; }\ninvariant i: not exists k in 0..2: k > 1 and x == k;\n"
    prop = parse(text, "m.qdl").decls[-1]
    assert prop.expr.op == "not" and prop.expr.operand.kind == "exists"  # type: ignore[attr-defined]
    check(parse(text, "m.qdl"))


@pytest.mark.parametrize("decl", [
    "var y: 0..2 in {e in 0..2 where false};",     # a computed set of initial values that is empty
    "var y: 0..2 in {1, 2} intersect {0};",
    "var y: 0..2 = y;",                             # an initial value that reads a variable
    "var y: 0..2 = z;\nvar z: 0..2 = 0;",
])
def test_no_model_without_an_initial_state(decl: str) -> None:
    # FIXED: each left the model with no initial state, and every property "held" of nothing
    text = decl + "\naction a { skip; }\ninvariant never: false;\n"
    found = diagnostics(text)
    assert len(found) == 1 and found[0][0] in ("E021", "E023")
