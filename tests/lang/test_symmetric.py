"""`symmetric type`: what may be done with its values, and E027 where a use would single one out."""

from __future__ import annotations

import pytest

from quiesce_check.build import build_text
from quiesce_check.lang.checker import check
from quiesce_check.lang.errors import ModelError
from quiesce_check.lang.parser import parse
from quiesce_check.lang.types import TArray, TInt
from tests.lang.test_checker import errors

BASE = """symmetric type T = 0..2;
var x: T = any;
var a: array[T] of 0..3 = [p in T: 0];
var plain: array[0..2] of bool = [k in 0..2: false];
var n: 0..3 = 0;
"""


def test_a_symmetric_range_is_a_type_of_its_own() -> None:
    cm = check(parse(BASE + "action go(p in T) when x != p { x := p; a[p] := a[p] + 1; }\n", "m.qdl"))
    t = cm.type_names["T"]
    assert t == TInt(0, 2, "T") and str(t) == "T"
    assert cm.symmetric["T"][0] == t
    assert cm.globals[1].type == TArray(t, TInt(0, 3))
    assert [v.init_values for v in cm.globals[:1]] == [(0, 1, 2)]


@pytest.mark.parametrize("body", [
    "action go(p in T) when x == p { a[p] := 0; }",
    "action go(p: T) { x := p; }",
    "action go { with p in T where a[p] > 0 { x := p; } }",
    "process P[i in T] { while true { x := i; } }",
    "def same(p: T, q: T) = p == q;\naction go(p in T) when not same(p, x) { x := p; }",
    "invariant e: (count p in T: a[p] > 0) <= 3;\naction go { skip; }",
    "action go(p in T) { let q = if a[p] > 0 then p else x; x := q; }",
    "process P { atomic { for p in T { a[p] := 1; } } }",
    "var y: array[T] of T = [p in T: p];\naction go(p in T) { y[p] := x; }",
    "action go { for p in T { if a[p] > 0 and x != p { a[p] := a[p] - 1; } } }",   # each round its own
    "var m: array[T] of array[T] of bool = any;\naction go { for p in T { for q in T { m[p][q] := not m[p][q] or x == q; } } }",
    "def mine(q: T) = a[q];\naction go { for p in T { a[p] := 3 - mine(p); } }",  # a def given the loop's value
], ids=range(12))
def test_uses_that_treat_every_value_alike_are_accepted(body: str) -> None:
    check(parse(BASE + body + "\n", "m.qdl"))


@pytest.mark.parametrize(("body", "expected"), [
    ("action go(p in T) { a[p] := p + 1; }", ("E027", 6, 29)),               # arithmetic
    ("action go(p in T) { a[p] := -p; }", ("E027", 6, 29)),                  # negation
    ("action go(p in T) when p < x { skip; }", ("E027", 6, 24)),             # order
    ("action go when x == 0 { skip; }", ("E027", 6, 16)),                    # a literal of the type
    ("action go { a[1] := 0; }", ("E027", 6, 15)),                           # a literal index
    ("action go { x := 2; }", ("E027", 6, 18)),                              # a literal value
    ("action go(p in T) { n := p; }", ("E027", 6, 26)),                      # into a plain integer
    ("action go(p in T) { plain[p] := true; }", ("E027", 6, 27)),            # indexing a plain array
    ("action go(p in 0..2) { a[p] := 0; }", ("E027", 6, 26)),                # a plain range for T
    ("var y: T = 0;", ("E027", 6, 12)),                                      # an initial value
    ("var y: T in {0, 1};", ("E027", 6, 13)),                                # initial values
    ("var y: T in 1..1;", ("E027", 6, 13)),                                  # a range of them
    ("var b: array[T] of bool = [false, true, false];", ("E027", 6, 27)),    # a positional literal
    ("def f(k: 0..2) = k;\naction go(p in T) when f(p) == 1 { skip; }", ("E027", 7, 26)),  # argument
    ("action go(p in T) { x := if n > 0 then p else 1; }", ("E027", 6, 26)),  # branches
    ("symmetric type U = enum { A, B };", ("E027", 6, 20)),                  # not a range
    ("symmetric type U = bool;", ("E027", 6, 20)),
    ("process P { for p in T { a[p] := 1; } }", ("E027", 6, 13)),            # steps in the type's order
    ("symmetric type U = 0..1;\nvar u: U = any;\naction go(p in T) when p == u { skip; }", ("E027", 8, 24)),
    # rounds of an atomic `for` whose order would matter (FIXED: beyond the sample, a wrong "holds")
    ("action go { for p in T { x := p; } }", ("E027", 6, 26)),               # the last round wins
    ("action go { for p in T { n := n + a[p]; } }", ("E027", 6, 26)),        # harmless, but not seen so
    ("action go { for p in T { a[p] := (count q in T: a[q] > 0); } }", ("E027", 6, 49)),  # sees earlier rounds
    ("proc bump(p: T) { x := p; }\naction go { for p in T { bump(p); } }", ("E027", 7, 26)),  # a proc
    ("var m: array[T] of array[T] of bool = any;\n"                         # row p written, column p read
     "action go { for p in T { for q in T { m[p][q] := not m[q][p]; } } }", ("E027", 7, 54)),
    ("def mine(q: T) = a[q];\naction go { for p in T { a[p] := 3 - mine(x); } }", ("E027", 6, 18)),  # another's
], ids=range(25))
def test_uses_that_single_a_value_out_are_e027(body: str, expected: tuple[str, int, int]) -> None:
    assert expected in errors(BASE + body + "\n")


def test_process_indices_of_a_symmetric_type_take_its_values_only() -> None:
    text = BASE + "process P[i in T] { s: skip; }\ninvariant one: not P[0]@s;\n"
    assert ("E027", 7, 22) in errors(text)
    check(parse(BASE + "process P[i in T] { s: skip; }\ninvariant all: forall p in T: P[p]@s or true;\n", "m.qdl"))


def test_symmetric_is_a_reserved_word() -> None:
    text = "var symmetric: bool = false;\naction a { skip; }\n"
    # at the word itself, where it stands as the variable's name
    assert errors(text) == [("E013", 1, text.index("symmetric") + 1)]


# ------------------------------------------------------------ rounds end alike
# The rounds of a `for` over a symmetric type run in the type's order, and the first to end the
# step decides how it ends: a loop whose rounds could end it in two ways is refused when the
# model is compiled (the rule "rounds end alike" of docs/language.md). FIXED: an `await` in one
# round and an `assert` in another gave "holds" with symmetry for a model whose assertion fails.

ROUNDS = BASE + "var b: array[T] of bool = [p in T: false];\nvar c: array[T] of 0..1 = [p in T: 0];\n"


def compile_errors(text: str) -> list[tuple[str, int, int]]:
    with pytest.raises(ModelError) as e:
        build_text(text, "m.qdl")
    return [(d.code, d.span.line, d.span.col) for d in e.value.diagnostics if d.span is not None]


@pytest.mark.parametrize("body", [
    "action go { for p in T { await b[p]; assert a[p] < 3; } }",              # block, fail
    "action go { for p in T { if b[p] { c[p] := c[p] + 1; } await a[p] > 0; } }",  # error, block
    "action go { for p in T { with v in 0..1 where b[p] or v == 1 { c[p] := v; } assert a[p] != 2; } }",
    "action go { for p in T { assert a[p] != 2; assert b[p]; } }",            # two assertions
    "action go { for p in T { assert b[p]; a[p] := a[p] + 1; } }",            # assertion, range
    "action go { for p in T { assert b[p]; c[p] := 1 / a[p]; } }",            # assertion, division
    "action go { for p in T { for q in T { await b[q]; } assert b[p]; } }",   # a nested loop's exit
], ids=range(7))
def test_rounds_that_could_end_the_step_in_two_ways_are_e027(body: str) -> None:
    assert ("E027", 8, 13) in compile_errors(ROUNDS + body + "\n")


@pytest.mark.parametrize("body", [
    "action go { for p in T { await b[p]; a[p] := 1; } }",                    # only blocks
    "action go { for p in T { await b[p]; c[p] := 1 - c[p]; a[p] := c[p] + 2; } }",  # stores that fit
    "action go { for p in T { with v in 0..1 where b[p] or v == 1 { c[p] := v; } await a[p] > 0; } }",
    "action go { for p in T { if b[p] { assert a[p] < 3; } } }",              # only one assertion
    "action go { for p in T { if b[p] { assert a[p] < 3; } else { assert a[p] < 3; } } }",  # one text
    "action go { for p in T { assert b[p]; c[p] := 2 / (a[p] + 2); } }",     # a quotient that fits
    "action go { for p in T { a[p] := a[p] + 1; c[p] := 1 / a[p]; } }",       # only model errors
    "action go { for p in T { await b[p]; } assert forall p in T: a[p] < 3; }",  # the assertion after
    "action go(p in T) { await b[p]; assert a[p] < 3; }",                     # one step per value
], ids=range(9))
def test_rounds_that_end_the_step_one_way_are_accepted(body: str) -> None:
    build_text(ROUNDS + body + "\n", "m.qdl")


def test_the_refusal_names_both_ways_and_what_to_do() -> None:
    with pytest.raises(ModelError) as e:
        build_text(ROUNDS + "action go { for p in T { await b[p]; assert a[p] < 3; } }\n", "m.qdl")
    (d,) = e.value.diagnostics
    assert d.code == "E027" and d.hint is not None and "await forall p in T" in d.hint
    assert [(r.line, r.col) for _, r in d.related] == [(8, 26), (8, 38), (1, 1)]


def test_a_loop_over_a_plain_range_may_end_the_step_either_way() -> None:
    build_text(ROUNDS + "action go { for i in 0..2 { await b[x]; assert a[x] < i + 1; } }\n", "m.qdl")
