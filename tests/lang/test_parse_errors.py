"""Named syntax errors: each common mistake gets its own message and a hint saying what to write,
at the offending token; reserved words used as names are one E013 each, wherever they stand;
and no valid model is affected."""

from __future__ import annotations

import re

import pytest

from quiesce_check.build import build_text
from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import Diagnostic, ModelError
from quiesce_check.lang.parse_errors import MISTAKES
from quiesce_check.lang.parser import keywords, parse
from tests.conftest import ROOT

MESSAGE = {m.label: m.message for m in MISTAKES}


def at(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """Line and column (from 1) of the first `needle` in `text`, moved on by `offset` characters."""
    pos = text.index(needle) + offset
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def parse_error(text: str) -> Diagnostic:
    with pytest.raises(ModelError) as e:
        parse(text, "m.qdl")
    (d,) = e.value.diagnostics
    return d


# (text, code, message, where the offending token is: a needle and an offset into it, a word the
# hint must name)
NAMED = {
    "assign-with-equals": (
        "var x: 0..3 = 0;\nprocess P {\n  while true {\n    if x < 3 { x = x + 1; }\n  }\n}\n",
        "E001", MESSAGE["assign-with-equals"], ("x = x", 2), ":="),
    "assign-with-equals-to-a-field": (
        "var r: record { a: 0..1 } = {a: 0};\naction a { r.a = 1; }\n",
        "E001", MESSAGE["assign-with-equals"], ("= 1", 0), ":="),
    "compare-with-equals": (
        "var x: 0..3 = 0;\ninvariant small: x < 3 and x = 1;\n", "E001", MESSAGE["compare-with-equals"],
        ("= 1", 0), "=="),
    "compare-with-equals-in-a-guard": (
        "var x: 0..3 = 0;\naction a when x = 1 or x == 2 { x := 0; }\n", "E001",
        MESSAGE["compare-with-equals"], ("= 1", 0), "=="),
    "compare-with-equals-nested": (
        "var x: 0..3 = 0;\nprocess P {\n  if x < 2 {\n    await (x = 1);\n  }\n}\n", "E001",
        MESSAGE["compare-with-equals"], ("= 1", 0), "=="),
    "comparison-as-statement": (
        "var x: 0..3 = 0;\nprocess P { x == 1; }\n", "E001", MESSAGE["comparison-as-statement"],
        ("== 1", 0), "await"),
    "missing-semicolon-statement": (
        "var x: 0..3 = 0;\naction a {\n  x := 1\n  x := 2;\n}\n", "E001", "`;` missing before `x`",
        ("x := 2", 0), "`;`"),
    "missing-semicolon-declaration": (
        "var x: 0..3 = 0\nvar y: bool = true;\n", "E001", "`;` missing before `var`", ("var y", 0), "`;`"),
    "missing-semicolon-before-brace": (
        "var x: 0..3 = 0;\naction a { x := 1 }\n", "E001", "`;` missing before `}`", ("}", 0), "`;`"),
    "missing-brace": (
        "var x: 0..3 = 0;\naction a {\n  x := 1;\n\naction b { x := 2; }\n", "E001",
        "`}` missing before `action`", ("action b", 0), "`}`"),
    "local-after-statement": (
        "var x: 0..3 = 0;\nprocess P {\n  x := 1;\n  var y: 0..1 = 0;\n}\n", "E001",
        "a local variable after a statement", ("var y", 0), "top"),
    "then-in-if-statement": (
        "var x: 0..3 = 0;\naction a { if x == 1 then { x := 2; } }\n", "E001",
        MESSAGE["then-in-if-statement"], ("then", 0), "then"),
    "elif": (
        "var x: 0..3 = 0;\naction a {\n  if x == 1 { x := 2; }\n  elif x == 2 { x := 3; }\n}\n", "E001",
        MESSAGE["elif"], ("elif", 0), "else if"),
    "and": ("var x: 0..3 = 0;\ninvariant i: x > 0 && x < 3;\n", "E003", "QDL has no `&&`", ("&&", 0), "`and`"),
    "or": ("var x: 0..3 = 0;\ninvariant i: x == 0 || x == 3;\n", "E003", "QDL has no `||`", ("||", 0), "`or`"),
    "not": ("var b: bool = false;\ninvariant i: !b;\n", "E003", "QDL has no `!`", ("!", 0), "`not`"),
    "not-in": ("var x: 0..3 = 0;\ninvariant i: x !in {1, 2};\n", "E003", "QDL has no `!in`", ("!in", 0),
               "`not in`"),
    "tuple": ("var x: 0..3 = 0;\ninvariant i: x in (1, 2);\n", "E001", MESSAGE["tuple"], (", 2)", 0), "{a, b}"),
    "block-as-statement": (
        "var x: 0..3 = 0;\naction a { { x := 1; } }\n", "E001", MESSAGE["block-as-statement"],
        ("{ x", 0), "atomic"),
    "set-as-statement": (
        "var x: 0..3 = 0;\nprocess P { x := 1; {1, 2} }\n", "E001", MESSAGE["block-as-statement"],
        ("{1", 0), "s := {a, b}"),
    "value-as-statement": (
        "var x: 0..3 = 0;\nvar b: bool = false;\naction a { if b { x } }\n", "E001",
        MESSAGE["value-as-statement"], ("x }", 2), "if c then a else b"),
    # `{ x :` reads as a record literal's field, so the parse fails at the `=` of `:=`
    "block-as-value": (
        "var x: 0..3 = 0;\ndef f = { x := 1; };\n", "E001", MESSAGE["block-as-value"], (":= 1", 1), "proc"),
    "braces-in-if-expression": (
        "var x: 0..3 = 0;\nvar b: bool = false;\naction a { x := if b { 1 } else { 2 }; }\n", "E001",
        MESSAGE["braces-in-if-expression"], ("{ 1", 0), "then"),
    # the field without a name reads as a name until the `}` shows it has no `:`
    "record-field-name": (
        "var r: record { a: 0..3, b: bool } = {a: 0, false};\n", "E001", MESSAGE["record-field-name"],
        ("false}", 5), "name: value"),
}


@pytest.mark.parametrize("case", sorted(NAMED))
def test_a_common_mistake_is_named_where_it_is(case: str) -> None:
    text, code, message, (needle, offset), word = NAMED[case]
    d = parse_error(text)
    assert (d.code, d.message) == (code, message)
    assert d.span is not None and (d.span.path, d.span.line, d.span.col) == ("m.qdl", *at(text, needle, offset))
    assert d.hint is not None and word in d.hint


def test_the_file_ending_inside_a_block_names_the_block() -> None:
    text = "var x: 0..3 = 0;\naction a {\n  if x < 3 { x := x + 1; }\n"
    d = parse_error(text)
    assert d.code == "E002" and "`}`" in d.message
    # the end of the file, and a note at the `{` never closed (the action's: the `if`'s is closed)
    assert d.span is not None and (d.span.line, d.span.col) == (3, len("  if x < 3 { x := x + 1; }") + 1)
    ((_, opened),) = d.related
    assert (opened.line, opened.col) == at(text, "{\n")


def test_the_file_ending_before_the_last_semicolon() -> None:
    text = "var x: 0..3 = 0"
    d = parse_error(text)
    assert d.code == "E002" and "`;`" in d.message
    assert d.span is not None and (d.span.line, d.span.col) == (1, len(text) + 1)


def test_a_mistake_is_named_at_any_depth() -> None:
    """The same mistake three blocks further in is the same named error (the examples are matched
    by the parser's state, not by how deep it is)."""
    inner = "x = 1;"
    for depth in range(4):
        text = "var x: 0..3 = 0;\naction a { " + "if true { " * depth + inner + " }" * depth + " }\n"
        d = parse_error(text)
        assert d.message == MESSAGE["assign-with-equals"]
        assert d.span is not None and (d.span.line, d.span.col) == at(text, "= 1")


def test_every_example_in_the_table_is_named_by_its_own_entry() -> None:
    for mistake in MISTAKES:
        for example in mistake.examples:
            assert parse_error(example).message == mistake.message, (mistake.label, example)


def test_not_in_is_membership_and_is_not_an_error() -> None:
    m = parse("var x: 0..3 = 0;\ninvariant i: x not in {1, 2};\n")
    inv = m.decls[1]
    assert isinstance(inv, A.PropertyDecl) and isinstance(inv.expr, A.Binary) and inv.expr.op == "not in"


def test_an_unnamed_error_still_says_what_was_expected() -> None:
    d = parse_error("var x: 0..3 = 0;\naction a { x := [1 2]; }\n")
    assert d.code == "E001" and d.message == "unexpected '2'" and d.hint is not None and "`,`" in d.hint


# ---------------------------------------------------------------- valid models are unaffected

BLOCK = re.compile(r"```qdl\n(.*?)```", re.S)


def valid_models() -> list[tuple[str, str]]:
    files = sorted(p for d in ("models", "examples", "specs", "quiesce_check/domain") for p in (ROOT / d).rglob("*.qdl"))
    out = [(str(p.relative_to(ROOT)), p.read_text()) for p in files]
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        out += [(f"{doc.name}#{k}", m.group(1)) for k, m in enumerate(BLOCK.finditer(doc.read_text()))]
    return out


def test_every_valid_model_still_parses_and_a_later_mistake_in_it_is_not_a_reserved_word() -> None:
    models = valid_models()
    assert len(models) > 50
    for name, text in models:
        parse(text, name)
        # the scan for reserved words declared as names runs on text that does not parse: a
        # mistake appended to a valid model must be reported as itself, not as E013
        broken = text + "\ninvariant oops x;\n"
        d = parse_error(broken)
        assert (d.code, d.message) == ("E001", "unexpected 'x'"), name
        assert d.span is not None and (d.span.line, d.span.col) == at(broken, "oops x", 5)


# ------------------------------------------------------- reserved words in every declaring place

# `^` marks where the name is declared or bound; `W` is the word, used as the name elsewhere too
PLACES = {
    "var": "var ^W: 0..3 = 0;\naction a { W := 1; }",
    "const": "const ^W = 1;\nvar x: 0..3 = W;",
    "param": "param ^W = 1;\nvar x: 0..3 = 0;\naction a when x < W { x := x + 1; }",
    "type": "type ^W = 0..3;\nvar x: W = 0;",
    "process": "var x: 0..1 = 0;\nprocess ^W { x := 1; }\nfair process W;",
    "action": "var x: 0..1 = 0;\naction ^W { x := 1; }\nfair action W;",
    "def": "def ^W = 1;\nvar x: 0..3 = 0;\naction a { x := W; }",
    "def parameter": "def f(^W: 0..3) = W + 1;\nvar x: 0..3 = f(1);",
    "proc": "var x: 0..1 = 0;\nproc ^W() { x := 1; }\naction a { W(); }",
    "proc parameter": "var x: 0..3 = 0;\nproc p(^W: 0..3) { x := W; }\naction a { p(1); }",
    "label": "var x: 0..1 = 0;\nprocess P { ^W: x := 1; }\ninvariant i: P@W or x == 0;",
    "record field": "var r: record { ^W: 0..3 } = {W: 0};\naction a { r.W := 1; }",
    "enum member": "type T = enum { ^W, other };\nvar t: T = W;",
    "action parameter": "var x: 0..3 = 0;\naction a(^W in 0..3) { x := W; }",
    "process index": "var x: 0..3 = 0;\nprocess P[^W in 0..1] { x := W; }",
    "forall": "var x: 0..3 = 0;\ninvariant i: forall ^W in 0..3: W >= x;",
    "exists": "var x: 0..3 = 0;\ninvariant i: exists ^W in 0..3: W == x;",
    "count": "var x: 0..3 = 0;\ninvariant i: (count ^W in 0..3: W == x) == 1;",
    "with": "var x: 0..3 = 0;\naction a { with ^W in 0..3 { x := W; } }",
    "for": "var x: 0..3 = 0;\naction a { for ^W in 0..1 { x := W; } }",
    "choose": "var x: 0..3 = 0;\naction a { x := choose ^W in 0..3 where W > 0; }",
    "set filter": "var x: 0..3 = 0;\ninvariant i: {^W in 0..3 where W > x} == {};",
    "set map": "var x: 0..3 = 0;\ninvariant i: {W + 1 for ^W in 0..2} == {};",
    "array comprehension": "var a: array[0..1] of 0..3 = [^W in 0..1: W];",
    "let": "var x: 0..3 = 0;\naction a { let ^W = 1; x := W; }",
    "local var": "var x: 0..3 = 0;\nprocess P { var ^W: 0..3 = 0; W := 1; x := W; }",
    "invariant": "var x: 0..3 = 0;\ninvariant ^W: x >= 0;",
    "liveness": "var x: 0..3 = 0;\naction a { x := 1; }\nliveness ^W: eventually x == 1;",
    "step property": "var x: 0..3 = 0;\naction a { x := 1; }\nalways step ^W: x' >= x;",
}
# `count` (a quantifier, so a reserved word), a word reserved with sets, and a statement's word
WORDS = ("count", "union", "if")


@pytest.mark.parametrize("word", WORDS)
@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_reserved_word_as_a_name_is_one_e013_where_it_is_declared(place: str, word: str) -> None:
    assert word in keywords()
    marked = PLACES[place].replace("W", word) + "\n"
    text = marked.replace("^", "")
    with pytest.raises(ModelError) as e:
        build_text(text, "m.qdl")
    (d,) = e.value.diagnostics
    assert d.code == "E013" and f"`{word}`" in d.message
    line, col = at(marked, "^")
    assert d.span is not None and (d.span.line, d.span.col, d.span.end_col) == (line, col, col + len(word))
