"""Parser: whole-tree comparisons (spans excluded from equality) and located syntax errors."""

from __future__ import annotations

import pytest

from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import ModelError
from quiesce_check.lang.parser import parse


def test_declarations_parse_to_expected_tree() -> None:
    m = parse("param N = 3;\ntype P = 0..N-1;\nvar x: array[P] of bool = [p in P: false];\n")
    assert m.decls == (
        A.ParamDecl("N", A.IntLit(3)),
        A.TypeDecl("P", A.RangeType(A.IntLit(0), A.Binary("-", A.Name("N"), A.IntLit(1)))),
        A.VarDecl("x", A.ArrayType(A.NamedType("P"), A.BoolType()),
                  A.ArrayComp("p", A.NamedType("P"), A.BoolLit(False)), None),
    )


def test_operator_precedence() -> None:
    m = parse("invariant i: not a and b or c => d == 1 + 2 * 3;")
    (d,) = m.decls
    assert isinstance(d, A.PropertyDecl)
    assert d.expr == A.Binary(
        "=>",
        A.Binary("or", A.Binary("and", A.Unary("not", A.Name("a")), A.Name("b")), A.Name("c")),
        A.Binary("==", A.Name("d"), A.Binary("+", A.IntLit(1), A.Binary("*", A.IntLit(2), A.IntLit(3)))),
    )


def test_process_statements() -> None:
    src = """
process P[i in 0..1] {
    var n: 0..2 = 0;
    l: while n < 2 {
        either { n := n + 1; } or { await n == 0; }
        with v in {1, 2} where v > n { atomic { n := v; } }
    }
    if n == 2 { skip; } else if n == 1 { assert n > 0; }
}
"""
    (p,) = parse(src).decls
    assert isinstance(p, A.ProcessDecl)
    assert p.index_var == "i" and len(p.locals) == 1
    loop, cond = p.body
    assert isinstance(loop, A.Labeled) and isinstance(loop.stmt, A.While)
    either, with_ = loop.stmt.body
    assert isinstance(either, A.Either) and len(either.branches) == 2
    assert isinstance(with_, A.With) and with_.domain == A.SetLit((A.IntLit(1), A.IntLit(2)))
    assert isinstance(cond, A.If) and isinstance(cond.orelse[0], A.If)


def test_spans_point_at_source() -> None:
    m = parse("var x: 0..3 = 0;\n  action inc when x < 3 { x := x + 1; }\n", "m.qdl")
    action = m.decls[1]
    assert (action.span.path, action.span.line, action.span.col) == ("m.qdl", 2, 3)
    assign = action.body[0]
    assert (assign.span.line, assign.span.col) == (2, 27)


def test_sequence_literals_and_binders_without_where() -> None:
    m = parse("invariant i: <<x, 1>> == q and <<<<1>>>> != r and x > 1;\n"
              "def c = choose v in 0..3;\ndef s = {v in 0..3};\ndef t = {v + 1 for v in 0..3};\n")
    inv, c, s, t = m.decls
    assert isinstance(inv, A.PropertyDecl)
    # `>>` closes the sequence (it is not `>` twice), and `>` still compares
    assert inv.expr == A.Binary("and", A.Binary(
        "and", A.Binary("==", A.SeqLit((A.Name("x"), A.IntLit(1))), A.Name("q")),
        A.Binary("!=", A.SeqLit((A.SeqLit((A.IntLit(1),)),)), A.Name("r"))), A.Binary(">", A.Name("x"), A.IntLit(1)))
    r03 = A.RangeType(A.IntLit(0), A.IntLit(3))
    assert isinstance(c, A.DefDecl) and c.body == A.Choose("v", r03, None)
    assert isinstance(s, A.DefDecl) and s.body == A.SetFilter("v", r03, None)
    assert isinstance(t, A.DefDecl) and t.body == A.SetMap(A.Binary("+", A.Name("v"), A.IntLit(1)), "v", r03, None)


@pytest.mark.parametrize(
    ("text", "code", "line", "col"),
    [
        ("var x: 0..3 = 0\nvar y: bool = true;", "E001", 2, 1),      # missing semicolon
        ("action a { x = 1; }", "E001", 1, 14),                      # `=` instead of `:=`
        ("var x: 0..3 = 0;\naction a { x := 1 $ 2; }", "E003", 2, 19),  # stray character
        ("process P { x := 1;", "E002", 1, 20),                       # truncated
    ],
)
def test_syntax_errors_are_located(text: str, code: str, line: int, col: int) -> None:
    with pytest.raises(ModelError) as e:
        parse(text, "m.qdl")
    (d,) = e.value.diagnostics
    assert (d.code, d.span.line, d.span.col) == (code, line, col)


def test_deep_nesting_is_a_diagnostic_not_a_crash() -> None:
    text = "invariant i: " + "(" * 5000 + "true" + ")" * 5000 + ";"
    with pytest.raises(ModelError) as e:
        parse(text)
    assert e.value.diagnostics[0].code == "E001"
