"""Checker: each rule gives its code at the right place; good models check cleanly."""

from __future__ import annotations

import pytest

from quiesce_check.lang.checker import check
from quiesce_check.lang.errors import ModelError, render
from quiesce_check.lang.parser import parse
from quiesce_check.lang.types import TArray, TBool, TEnum, TInt


def errors(text: str, params: dict | None = None) -> list[tuple[str, int, int]]:
    with pytest.raises(ModelError) as e:
        check(parse(text, "m.qdl"), params)
    return [(d.code, d.span.line if d.span else 0, d.span.col if d.span else 0) for d in e.value.diagnostics]


BASE = "var x: 0..3 = 0;\nvar b: bool = false;\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("action a { x := y; }", ("E011", 3, 17)),                      # unknown name
        ("action a { x := b; }", ("E021", 3, 17)),                      # bool into 0..3
        ("action a when x { skip; }", ("E020", 3, 15)),                 # int as condition
        ("action a { b := x + true; }", ("E020", 3, 21)),               # bool in arithmetic
        ("var x: bool = true;", ("E010", 3, 1)),                         # declared twice
        ("action a { while b { skip; } }", ("E030", 3, 12)),            # loop inside one step
        ("process P { atomic { l: skip; } }", ("E030", 3, 22)),         # label inside one step
        ("const C = 1;\naction a { C := 2; }", ("E033", 4, 12)),        # assign a constant
        ("action a(v in 0..1) { v := 1; }", ("E033", 3, 23)),           # assign a parameter
        ("invariant i: P@nowhere;\nprocess P { skip; }", ("E032", 3, 14)),  # unknown label
        ("type T = 3..1;", ("E024", 3, 10)),                             # empty range
        ("var z: 0..3 = 7;", ("E021", 3, 15)),                           # initial value out of range
        ("var a: array[0..2] of bool = [true, false];", ("E021", 3, 30)),  # wrong length
        ("var y: 0..x = 0;", ("E023", 3, 11)),                           # range bound not constant
        ("type T = 0..1;\nvar v: T = any;\naction a { v := T; }", ("E012", 5, 17)),  # type as value
        ("var n: Nat = 0;", ("E011", 3, 8)),                             # unknown type
        ("def f(k: 0..3) = k;\naction a { x := f(1, 2); }", ("E035", 4, 17)),  # wrong arity
        ("def f = f + 1;\naction a { x := f; }", ("E035", 3, 1)),               # a def that uses itself
        ("proc p() { q(); }\nproc q() { p(); }\naction a { p(); }", ("E035", 3, 1)),  # procs calling each other
        ("def f = 1;\naction a { f(); }", ("E012", 4, 12)),                     # a def called as a statement
        ("proc p() { skip; }\naction a { x := p(); }", ("E012", 4, 17)),        # a proc used as a value
        ("process P { let z = 1; x := z; }", ("E030", 3, 13)),                   # `let` outside one step
        ("check nothing;", ("E036", 3, 7)),                                      # `check` of no property
        ("def f = 1;\nconst C = f;", ("E023", 4, 11)),                          # a def in a constant
        ("proc p(k: bool) { b := k; }\naction a { p(1); }", ("E020", 4, 14)),   # argument of the wrong type
        ("action a { g(1); }", ("E011", 3, 12)),                                 # unknown proc
        ("final f: x;", ("E020", 3, 10)),                                        # a final property is boolean
    ],
)
def test_rules(body: str, expected: tuple[str, int, int]) -> None:
    assert expected in errors(BASE + body)


def test_misspelt_name_hint_names_the_nearest_declaration() -> None:
    src = "var counter: 0..3 = 0;\naction a { countr := 1; }\n"
    with pytest.raises(ModelError) as e:
        check(parse(src, "m.qdl"))
    (d,) = e.value.diagnostics
    assert d.code == "E011" and d.hint is not None and "`counter`" in d.hint
    text = render(d, {"m.qdl": src})
    assert text.splitlines()[0] == "m.qdl:2:12: error[E011]: unknown name `countr`"
    assert text.splitlines()[2].endswith("^~~~~~")


def test_duplicate_cites_both_places() -> None:
    with pytest.raises(ModelError) as e:
        check(parse("var a: bool = true;\nvar a: bool = false;\naction x { skip; }", "m.qdl"))
    (d,) = e.value.diagnostics
    assert d.code == "E010" and d.span.line == 2 and d.related[0][1].line == 1


def test_all_errors_are_collected() -> None:
    found = errors(BASE + "action a { x := nope; b := 3; }\naction c when 1 { skip; }")
    assert [c for c, _, _ in found] == ["E011", "E021", "E020"]


def test_params_override_and_reject() -> None:
    src = "param N = 2;\nparam F = false;\nvar x: 0..N = 0;\naction a { skip; }"
    cm = check(parse(src), {"N": 5, "F": True})
    assert cm.params == {"N": 5, "F": True}
    assert cm.globals[0].type == TInt(0, 5)
    assert ("E040", 0, 0) in errors(src, {"M": 1})
    assert ("E040", 1, 1) in errors(src, {"N": True})


def test_nothing_to_run() -> None:
    assert [c for c, _, _ in errors("var x: bool = true;")] == ["E041"]


def test_types_are_resolved() -> None:
    src = """
type Phase = enum { Idle, Busy };
type Req = record { page: 0..3, done: bool };
var ph: Phase = Idle;
var reqs: array[Phase] of Req = [p in Phase: {page: 0, done: false}];
var pick: 0..3 in {1, 3};
action a { ph := Busy; }
"""
    cm = check(parse(src))
    ph, reqs, pick = cm.globals
    assert ph.type == TEnum(ph.type.name, ("Idle", "Busy")) and ph.init_values == (0,)
    assert isinstance(reqs.type, TArray) and reqs.init_values == (((0, False), (0, False)),)
    assert pick.init_values == (1, 3)
    assert isinstance(cm.consts["Busy"][1], TEnum) and cm.consts["Busy"][0] == 1
    assert isinstance(check(parse("var b: bool = any;\naction a { skip; }")).globals[0].type, TBool)


def test_enum_parameters_take_member_names() -> None:
    src = "type Order = enum { Up, Down };\nparam ORDER = Up;\nvar o: Order = ORDER;\naction a { skip; }\n"
    assert check(parse(src, "m.qdl"), {"ORDER": "Down"}).params["ORDER"] == 1
    assert ("E040", 2, 1) in errors(src, {"ORDER": "Sideways"})
    assert ("E040", 2, 1) in errors(src, {"ORDER": 1})


def test_property_selection_names_only_invariants_and_finals() -> None:
    src = BASE + "invariant i: x < 4;\nfinal f: true;\nreachable g: b;\naction a { skip; }\n"
    cm = check(parse(src, "m.qdl"), select=["f"])
    assert [d.name for d in cm.invariants] == [] and [d.name for d in cm.finals] == ["f"]
    with pytest.raises(ModelError) as e:
        check(parse(src, "m.qdl"), select=["g"])
    assert [d.code for d in e.value.diagnostics] == ["E040"]


def test_optional_properties_are_checked_only_when_named() -> None:
    src = BASE + "optional invariant i: x < 4;\noptional final f: true;\naction a { skip; }\n"
    assert check(parse(src, "m.qdl")).invariants == []
    cm = check(parse(src + "check i;\n", "m.qdl"))
    assert [d.name for d in cm.invariants] == ["i"] and cm.finals == []


def test_premises_of_implications() -> None:
    src = BASE + "invariant p: b => x > 0;\ninvariant q: forall k in 0..2: k == x => b;\ninvariant r: x < 4;\n" \
                 "action a { skip; }\n"
    cm = check(parse(src, "m.qdl"))
    assert set(cm.premises) == {"p", "q"}
    assert cm.premises["q"].kind == "exists"  # type: ignore[union-attr]


def test_the_package_lists_its_passes_in_the_order_they_run() -> None:
    import re

    import quiesce_check.lang.checker as package
    from quiesce_check.lang.checker.driver import PASSES

    listed = re.findall(r"^ *\d+\. (\S+(?: \S+)*?) {2,}", package.__doc__ or "", re.M)
    assert listed == [name for name, _ in PASSES]
