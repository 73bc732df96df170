"""Stage 1: model text to AST. The only module that knows Lark.

Takes the text of a `.qdl` file; gives an `ast.Model` or raises `ModelError`
with one located diagnostic (named, with what to write instead, when it is a
common mistake: see `lang.parse_errors`), or one E013 for each reserved word
the text uses as a name. One LALR parser is built from the packaged grammar,
once per process; the Transformer below only builds nodes (no name lookup, so
nothing it does can fail inside Lark's callbacks). Imports only `lang.ast`,
`lang.errors` and `lang.parse_errors`.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any, cast

import lark
from lark import Token, Transformer, v_args

from quiesce_check.lang import ast as A
from quiesce_check.lang import parse_errors as PE
from quiesce_check.lang.errors import Diagnostic, ModelError, Span

# Deeply nested input must become a diagnostic, not a RecursionError; this is
# the nesting depth (of brackets and blocks together) that QDL accepts.
MAX_NESTING = 200

# And the parse tree may be at most this deep: chains without brackets (`not not ...`,
# `x + x + ...`, `a => b => ...`) nest as deeply as they are long, and every later stage walks
# the tree recursively.
MAX_DEPTH = 200

# An integer literal longer than this is refused (Python will not convert much longer ones).
MAX_DIGITS = 1000

# Terminal names as a user should read them in "expected ..." lists.
_TERMINAL_WORDS = {
    "NAME": "a name", "INT": "a number", "SEMICOLON": "`;`", "COLON": "`:`", "COMMA": "`,`",
    "LBRACE": "`{`", "RBRACE": "`}`", "LSQB": "`[`", "RSQB": "`]`", "LPAR": "`(`",
    "RPAR": "`)`", "EQUAL": "`=`", "CMP": "a comparison", "PLUS": "`+`", "MINUS": "`-`",
    "STAR": "`*`", "SLASH": "`/`", "PERCENT": "`%`", "DOT": "`.`", "AT": "`@`",
    "__ANON_0": "`..`", "_SEQ_OPEN": "`<<`", "_SEQ_CLOSE": "`>>`", "$END": "the end of the file", "STRING": "a file name in quotes",
}


_INIT_KINDS = ("value", "domain", "any")


def _is_modifier(item: Any) -> bool:
    """A `default`/`override`/`protected` word, as the modifier rules return it (a plain str, not a Token)."""
    return isinstance(item, str) and not isinstance(item, Token)


def _span(path: str, meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return Span(path, 1, 1, 1, 1)
    return Span(path, meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_span(path: str, tok: Token) -> Span:
    line = tok.line or 1
    col = tok.column or 1
    end_line = tok.end_line or line
    end_col = tok.end_column or col + 1
    return Span(path, line, col, end_line, end_col)


@v_args(meta=True, inline=True)
class Build(Transformer[Token, A.Model]):
    """One method per grammar rule; each builds one node and nothing else."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def _s(self, meta: Any) -> Span:
        return _span(self.path, meta)

    # declarations
    def start(self, meta: Any, *decls: A.Decl) -> tuple[A.Decl, ...]:
        return decls

    def param_decl(self, meta: Any, name: Token, value: A.Expr) -> A.ParamDecl:
        return A.ParamDecl(str(name), value, self._s(meta))

    def const_decl(self, meta: Any, name: Token, value: A.Expr) -> A.ConstDecl:
        return A.ConstDecl(str(name), value, self._s(meta))

    def type_decl(self, meta: Any, *items: Any) -> A.TypeDecl:
        symmetric = len(items) == 3
        name, typ = items[-2], items[-1]
        return A.TypeDecl(str(name), typ, self._s(meta), symmetric)

    def symmetric_mod(self, meta: Any, tok: Token) -> str:
        return str(tok)

    def var_decl(self, meta: Any, *items: Any) -> A.VarDecl:
        rest = list(items)
        modifier = rest.pop(0) if _is_modifier(rest[0]) else None
        name = rest.pop(0)
        typ = rest.pop(0) if rest and not (isinstance(rest[0], tuple) and rest[0] and rest[0][0] in _INIT_KINDS) \
            else None
        init = rest[0] if rest else None
        return self._var(name, typ, init, meta, modifier)

    def local_decl(self, meta: Any, name: Token, typ: A.TypeExpr, init: Any = None) -> A.VarDecl:
        return self._var(name, typ, init, meta, None)

    def _var(self, name: Token, typ: A.TypeExpr | None, init: Any, meta: Any, modifier: str | None) -> A.VarDecl:
        span = self._s(meta)
        if init is None:
            return A.VarDecl(str(name), typ, None, None, span, modifier)
        kind, value = init
        if kind == "value":
            return A.VarDecl(str(name), typ, value, None, span, modifier)
        if kind == "any":
            return A.VarDecl(str(name), typ, None, typ, span, modifier, init_any=True)
        return A.VarDecl(str(name), typ, None, value, span, modifier)

    def var_mod(self, meta: Any, tok: Token) -> str:
        return str(tok)

    def decl_mod(self, meta: Any, tok: Token) -> str:
        return str(tok)

    def init_value(self, meta: Any, value: A.Expr) -> tuple[str, A.Expr | None]:
        if isinstance(value, A.AnyValue):
            return ("any", None)  # `= any`: any value of the declared type
        return ("value", value)

    def init_domain(self, meta: Any, dom: A.Domain) -> tuple[str, A.Domain]:
        return ("domain", dom)

    def process_decl(self, meta: Any, *items: Any) -> A.ProcessDecl:
        rest = list(items)
        modifier = rest.pop(0) if _is_modifier(rest[0]) else None
        name = rest.pop(0)
        index_var = index_dom = when = None
        if rest and isinstance(rest[0], tuple) and rest[0] and rest[0][0] == "index":
            _, index_var, index_dom = rest.pop(0)
        if rest and isinstance(rest[0], tuple) and rest[0] and rest[0][0] == "when":
            when = rest.pop(0)[1]
        locals_ = tuple(x for x in rest if isinstance(x, A.VarDecl))
        body = tuple(x for x in rest if not isinstance(x, A.VarDecl))
        return A.ProcessDecl(str(name), index_var, index_dom, locals_, body, self._s(meta), when, modifier)

    def process_when(self, meta: Any, cond: A.Expr) -> tuple[str, A.Expr]:
        return ("when", cond)

    def def_decl(self, meta: Any, *items: Any) -> A.DefDecl:
        rest = list(items)
        modifier = rest.pop(0) if _is_modifier(rest[0]) else None
        name, params, body = rest if len(rest) == 3 else (rest[0], [], rest[1])
        return A.DefDecl(str(name), tuple(params or ()), body, self._s(meta), modifier)

    def def_params(self, meta: Any, *params: A.ActionParam | None) -> list[A.ActionParam]:
        return [p for p in params if p is not None]

    def proc_decl(self, meta: Any, *items: Any) -> A.ProcDecl:
        rest = list(items)
        modifier = rest.pop(0) if _is_modifier(rest[0]) else None
        name, params, body = rest
        return A.ProcDecl(str(name), tuple(params), body, self._s(meta), modifier)

    def use_decl(self, meta: Any, target: tuple[str, bool, Span], args: list[A.UseArg] | None = None) -> A.UseDecl:
        return A.UseDecl(target[0], target[1], tuple(args or ()), self._s(meta))

    def use_name(self, meta: Any, tok: Token) -> tuple[str, bool, Span]:
        return (str(tok), False, _tok_span(self.path, tok))

    def use_file(self, meta: Any, tok: Token) -> tuple[str, bool, Span]:
        return (str(tok)[1:-1], True, _tok_span(self.path, tok))

    def use_args(self, meta: Any, *args: A.UseArg | None) -> list[A.UseArg]:
        return [a for a in args if a is not None]

    def use_arg(self, meta: Any, name: Token, value: A.Expr) -> A.UseArg:
        return A.UseArg(str(name), value, self._s(meta))

    def obligation_decl(self, meta: Any, name: Token, text: Token) -> A.ObligationDecl:
        return A.ObligationDecl(str(name), str(text)[1:-1], self._s(meta))

    def hook_decl(self, meta: Any, name: Token, text: Token, at: Token, *binds: Token) -> A.HookDecl:
        return A.HookDecl(str(name), str(text)[1:-1], A.Name(str(at), _tok_span(self.path, at)),
                          tuple(A.Name(str(b), _tok_span(self.path, b)) for b in binds), self._s(meta))

    def check_decl(self, meta: Any, *names: Token) -> A.CheckDecl:
        return A.CheckDecl(tuple(A.Name(str(n), _tok_span(self.path, n)) for n in names), self._s(meta))

    def proc_index(self, meta: Any, name: Token, dom: A.Domain) -> tuple[str, str, A.Domain]:
        return ("index", str(name), dom)

    def action_decl(self, meta: Any, name: Token, *rest: Any) -> A.ActionDecl:
        params: tuple[A.ActionParam, ...] = ()
        when = None
        body: tuple[A.Stmt, ...] = ()
        for item in rest:
            if isinstance(item, list):
                params = tuple(item)
            elif isinstance(item, tuple) and item and item[0] == "when":
                when = item[1]
            else:
                body = item
        return A.ActionDecl(str(name), params, when, body, self._s(meta))

    def action_params(self, meta: Any, *params: A.ActionParam | None) -> list[A.ActionParam]:
        return [p for p in params if p is not None]

    def action_param(self, meta: Any, name: Token, dom: A.Domain) -> A.ActionParam:
        return A.ActionParam(str(name), dom, self._s(meta))

    def action_when(self, meta: Any, cond: A.Expr) -> tuple[str, A.Expr]:
        return ("when", cond)

    def property_decl(self, meta: Any, *items: Any) -> A.PropertyDecl:
        rest = list(items)
        optional = isinstance(rest[0], str) and rest[0] == "optional" and len(rest) == 4
        if optional:
            rest.pop(0)
        kind, name, e = rest
        # the grammar admits only the five keywords as a property's kind
        return A.PropertyDecl(cast(Any, str(kind)), str(name), e, self._s(meta), optional)

    def liveness_decl(self, meta: Any, *items: Any) -> A.LivenessDecl:
        rest = list(items)
        optional = isinstance(rest[0], str) and rest[0] == "optional" and not isinstance(rest[0], Token)
        if optional:
            rest.pop(0)
        name = rest.pop(0)
        params: tuple[A.ActionParam, ...] = tuple(rest.pop(0)) if isinstance(rest[0], list) else ()
        kind, p, q = rest[0]
        return A.LivenessDecl(kind, str(name), params, p, q, self._s(meta), optional)

    def leads_to(self, meta: Any, p: A.Expr, q: A.Expr) -> tuple[str, A.Expr, A.Expr | None]:
        return ("leads_to", p, q)

    def eventually(self, meta: Any, p: A.Expr) -> tuple[str, A.Expr, A.Expr | None]:
        return ("eventually", p, None)

    def always_eventually(self, meta: Any, p: A.Expr) -> tuple[str, A.Expr, A.Expr | None]:
        return ("always_eventually", p, None)

    def eventually_always(self, meta: Any, p: A.Expr) -> tuple[str, A.Expr, A.Expr | None]:
        return ("eventually_always", p, None)

    def fairness_decl(self, meta: Any, *items: Any) -> A.FairnessDecl:
        strong = len(items) == 2 and items[0] == "strong"
        target = items[-1]
        return A.FairnessDecl(strong, target[0], target[1], target[2], target[3], self._s(meta))

    def fair_strength(self, meta: Any, tok: Token) -> str:
        return str(tok)

    def fair_process(self, meta: Any, name: Token, index: A.Expr | None = None) -> tuple[Any, ...]:
        return ("process", str(name), None, index)

    def fair_action(self, meta: Any, name: Token, label: Token | None = None) -> tuple[Any, ...]:
        return ("action", str(name), None if label is None else str(label), None)

    def fair_system(self, meta: Any) -> tuple[Any, ...]:
        return ("system", "", None, None)

    def step_property_decl(self, meta: Any, *items: Any) -> A.StepPropertyDecl:
        optional = len(items) == 3
        name, e = items[-2:]
        return A.StepPropertyDecl(str(name), e, self._s(meta), optional)

    def prime(self, meta: Any, base: A.Expr) -> A.Prime:
        return A.Prime(base, self._s(meta))

    def optional_mod(self, meta: Any, tok: Token) -> str:
        return str(tok)

    def property_kind(self, meta: Any, tok: Token) -> str:
        return str(tok)

    # types
    def bool_type(self, meta: Any) -> A.BoolType:
        return A.BoolType(self._s(meta))

    def range_type(self, meta: Any, lo: A.Expr, hi: A.Expr) -> A.RangeType:
        return A.RangeType(lo, hi, self._s(meta))

    def enum_type(self, meta: Any, *names: Token) -> A.EnumType:
        return A.EnumType(tuple(A.Name(str(n), _tok_span(self.path, n)) for n in names), self._s(meta))

    def array_type(self, meta: Any, index: A.TypeExpr, elem: A.TypeExpr) -> A.ArrayType:
        return A.ArrayType(index, elem, self._s(meta))

    def record_type(self, meta: Any, *fields: A.RecordField) -> A.RecordType:
        return A.RecordType(fields, self._s(meta))

    def record_field(self, meta: Any, name: Token, typ: A.TypeExpr) -> A.RecordField:
        return A.RecordField(str(name), typ, self._s(meta))

    def named_type(self, meta: Any, name: Token) -> A.NamedType:
        return A.NamedType(str(name), self._s(meta))

    def set_type(self, meta: Any, elem: A.TypeExpr) -> A.SetType:
        return A.SetType(elem, self._s(meta))

    def seq_type(self, meta: Any, capacity: A.Expr, elem: A.TypeExpr) -> A.SeqType:
        return A.SeqType(capacity, elem, self._s(meta))

    def domain_expr(self, meta: Any, e: A.Expr) -> A.Domain:
        # a bare name is a named type or a set; the checker tells which
        return A.NamedType(e.name, e.span) if isinstance(e, A.Name) else e

    def set_lit(self, meta: Any, *items: A.Expr | None) -> A.SetLit:
        return A.SetLit(tuple(i for i in items if i is not None), self._s(meta))

    def set_filter(self, meta: Any, var: Token, dom: A.Domain, where: A.Expr | None = None) -> A.SetFilter:
        return A.SetFilter(str(var), dom, where, self._s(meta))

    def set_map(self, meta: Any, body: A.Expr, var: Token, dom: A.Domain, where: A.Expr | None = None) -> A.SetMap:
        return A.SetMap(body, str(var), dom, where, self._s(meta))

    def seq_lit(self, meta: Any, *items: Any) -> A.SeqLit:
        return A.SeqLit(tuple(i for i in items if i is not None and not isinstance(i, Token)), self._s(meta))

    def any_lit(self, meta: Any) -> A.AnyValue:
        return A.AnyValue(self._s(meta))

    def choose_expr(self, meta: Any, var: Token, dom: A.Domain, where: A.Expr | None = None) -> A.Choose:
        return A.Choose(str(var), dom, where, self._s(meta))

    # statements
    def block(self, meta: Any, *stmts: A.Stmt) -> tuple[A.Stmt, ...]:
        return stmts

    def assign(self, meta: Any, target: A.Expr, value: A.Expr) -> A.Assign:
        return A.Assign(target, value, self._s(meta))

    def await_stmt(self, meta: Any, cond: A.Expr) -> A.Await:
        return A.Await(cond, self._s(meta))

    def assert_stmt(self, meta: Any, cond: A.Expr) -> A.Assert:
        return A.Assert(cond, self._s(meta))

    def skip_stmt(self, meta: Any) -> A.Skip:
        return A.Skip(self._s(meta))

    def if_stmt(self, meta: Any, cond: A.Expr, then: tuple[A.Stmt, ...], orelse: Any = None) -> A.If:
        if orelse is None:
            orelse = ()
        elif isinstance(orelse, A.If):
            orelse = (orelse,)
        return A.If(cond, then, orelse, self._s(meta))

    def while_stmt(self, meta: Any, cond: A.Expr, body: tuple[A.Stmt, ...]) -> A.While:
        return A.While(cond, body, self._s(meta))

    def for_stmt(self, meta: Any, var: Token, dom: A.Domain, body: tuple[A.Stmt, ...]) -> A.For:
        return A.For(str(var), dom, body, self._s(meta))

    def either_stmt(self, meta: Any, *branches: tuple[A.Stmt, ...]) -> A.Either:
        return A.Either(branches, self._s(meta))

    def with_stmt(self, meta: Any, var: Token, dom: A.Domain, *rest: Any) -> A.With:
        where = rest[0][1] if len(rest) == 2 else None
        return A.With(str(var), dom, where, rest[-1], self._s(meta))

    def with_where(self, meta: Any, cond: A.Expr) -> tuple[str, A.Expr]:
        return ("where", cond)

    def atomic_stmt(self, meta: Any, body: tuple[A.Stmt, ...]) -> A.Atomic:
        return A.Atomic(body, self._s(meta))

    def labeled(self, meta: Any, label: Token, stmt: A.Stmt) -> A.Labeled:
        return A.Labeled(str(label), stmt, self._s(meta))

    def send_stmt(self, meta: Any, queue: A.Expr, value: A.Expr) -> A.Send:
        return A.Send(queue, value, self._s(meta))

    def receive_stmt(self, meta: Any, queue: A.Expr, target: A.Expr) -> A.Receive:
        return A.Receive(queue, target, self._s(meta))

    def let_stmt(self, meta: Any, name: Token, value: A.Expr) -> A.Let:
        return A.Let(str(name), value, self._s(meta))

    def call_stmt(self, meta: Any, name: Token, *args: A.Expr | None) -> A.CallStmt:
        return A.CallStmt(str(name), tuple(a for a in args if a is not None), self._s(meta))

    def lvalue(self, meta: Any, name: Token, *suffixes: Any) -> A.Expr:
        node: A.Expr = A.Name(str(name), _tok_span(self.path, name))
        for kind, arg, span in suffixes:
            full = Span(self.path, node.span.line, node.span.col, span.end_line, span.end_col)
            node = A.Index(node, arg, full) if kind == "index" else A.Field(node, arg, full)
        return node

    def lindex(self, meta: Any, e: A.Expr) -> tuple[str, A.Expr, Span]:
        return ("index", e, self._s(meta))

    def lfield(self, meta: Any, name: Token) -> tuple[str, str, Span]:
        return ("field", str(name), self._s(meta))

    # expressions
    def quant(self, meta: Any, kind: Any, var: Token, dom: A.Domain, body: A.Expr) -> A.Quant:
        return A.Quant(str(kind.children[0]), str(var), dom, body, self._s(meta))

    def implies(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("=>", a, b, self._s(meta))

    def or_op(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("or", a, b, self._s(meta))

    def and_op(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("and", a, b, self._s(meta))

    def not_op(self, meta: Any, a: A.Expr) -> A.Unary:
        return A.Unary("not", a, self._s(meta))

    def compare(self, meta: Any, a: A.Expr, op: Token, b: A.Expr) -> A.Binary:
        return A.Binary(str(op), a, b, self._s(meta))

    def member(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("in", a, b, self._s(meta))

    def not_member(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("not in", a, b, self._s(meta))

    def subset(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("subset", a, b, self._s(meta))

    def union_op(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("union", a, b, self._s(meta))

    def minus_op(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("minus", a, b, self._s(meta))

    def intersect_op(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("intersect", a, b, self._s(meta))

    def add(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("+", a, b, self._s(meta))

    def sub(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("-", a, b, self._s(meta))

    def mul(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("*", a, b, self._s(meta))

    def div(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("/", a, b, self._s(meta))

    def mod(self, meta: Any, a: A.Expr, b: A.Expr) -> A.Binary:
        return A.Binary("%", a, b, self._s(meta))

    def neg(self, meta: Any, a: A.Expr) -> A.Unary:
        return A.Unary("-", a, self._s(meta))

    def index(self, meta: Any, base: A.Expr, i: A.Expr) -> A.Index:
        return A.Index(base, i, self._s(meta))

    def field(self, meta: Any, base: A.Expr, name: Token) -> A.Field:
        return A.Field(base, str(name), self._s(meta))

    def at(self, meta: Any, proc: A.Expr, label: Token) -> A.At:
        return A.At(proc, str(label), self._s(meta))

    def int_lit(self, meta: Any, tok: Token) -> A.IntLit:
        if len(tok) > MAX_DIGITS:
            raise ValueError(f"{len(tok)} digits")  # parse() turns it into a located diagnostic
        return A.IntLit(int(tok), self._s(meta))

    def true_lit(self, meta: Any) -> A.BoolLit:
        return A.BoolLit(True, self._s(meta))

    def false_lit(self, meta: Any) -> A.BoolLit:
        return A.BoolLit(False, self._s(meta))

    def name(self, meta: Any, tok: Token) -> A.Name:
        return A.Name(str(tok), self._s(meta))

    def call_expr(self, meta: Any, name: Token, *args: A.Expr | None) -> A.Call | A.By:
        given = tuple(a for a in args if a is not None)
        if str(name) == "by" and len(given) == 1 and isinstance(given[0], A.Name):
            # `by(P)`: a built-in of step properties, unless the model declares a def `by`
            return A.By(given[0].name, self._s(meta))
        return A.Call(str(name), given, self._s(meta))

    def if_expr(self, meta: Any, c: A.Expr, a: A.Expr, b: A.Expr) -> A.IfExpr:
        return A.IfExpr(c, a, b, self._s(meta))

    def array_lit(self, meta: Any, *items: A.Expr | None) -> A.ArrayLit:
        return A.ArrayLit(tuple(i for i in items if i is not None), self._s(meta))

    def array_comp(self, meta: Any, var: Token, dom: A.Domain, body: A.Expr) -> A.ArrayComp:
        return A.ArrayComp(str(var), dom, body, self._s(meta))

    def record_lit(self, meta: Any, *items: tuple[str, A.Expr]) -> A.RecordLit:
        return A.RecordLit(tuple(items), self._s(meta))

    def record_item(self, meta: Any, name: Token, e: A.Expr) -> tuple[str, A.Expr]:
        return (str(name), e)


@functools.cache
def _parser() -> lark.Lark:
    grammar = resources.files("quiesce_check.lang").joinpath("grammar.lark").read_text()
    return lark.Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


# words the grammar uses only where no name can stand (after `always`, after `fair`, at the
# start of a type for `set` and `seq`): the
# contextual lexer reads them as names everywhere else, so a model may still name things so
_SOFT_WORDS = frozenset({"step", "system", "set", "seq"})


@functools.cache
def keywords() -> frozenset[str]:
    """The grammar's reserved words: its string terminals that look like names."""
    return frozenset(t.pattern.value for t in _parser().terminals
                     if t.pattern.type == "str" and t.pattern.value.isidentifier()) - _SOFT_WORDS


def _expected_words(expected: set[str]) -> str:
    words = []
    for name in sorted(expected):
        if name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
        else:
            try:
                pattern = _parser().get_terminal(name).pattern
                words.append(f"`{pattern.value}`" if pattern.type == "str" else name.lower())
            except KeyError:
                words.append(name.lower())
    words = sorted(set(words))
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words)


def _check_nesting(text: str, path: str) -> None:
    depth = 0
    line, col = 1, 0
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ModelError([Diagnostic(
                    "E001", f"nesting deeper than {MAX_NESTING} levels",
                    Span(path, line, col, line, col + 1),
                    "split the expression or the block into smaller parts")])
        elif ch in ")]}":
            depth = max(0, depth - 1)


def _check_depth(tree: lark.Tree[Token], path: str) -> None:
    """Refuse a parse tree deeper than MAX_DEPTH, at its deepest point (walked without recursion)."""
    stack: list[tuple[Any, int, Any]] = [(tree, 1, None)]
    while stack:
        node, depth, near = stack.pop()
        here = node if isinstance(node, Token) else (node if not getattr(node.meta, "empty", True) else near)
        if depth > MAX_DEPTH:
            if isinstance(here, Token):
                span = _tok_span(path, here)
            elif here is not None:
                span = _span(path, here.meta)
            else:
                span = Span(path, 1, 1, 1, 2)
            raise ModelError([Diagnostic(
                "E001", f"nested more than {MAX_DEPTH} levels deep", span,
                "split long chains of operators or deeply nested blocks with `let`, a `def` or named constants")])
        if isinstance(node, lark.Tree):
            # (an optional part that is absent is a None child: maybe_placeholders)
            stack.extend((child, depth + 1, here) for child in node.children if child is not None)


def _at(path: str, tok: PE.Tok) -> Span:
    return Span(path, tok.line, tok.col, tok.line, tok.end_col)


def _reserved_word(word: str, span: Span) -> Diagnostic:
    return Diagnostic("E013", f"`{word}` is a reserved word and cannot be a name", span, "choose another name")


# the rules whose own NAME tokens are names being declared or bound (the others' are uses)
_DECLARING_RULES = frozenset({
    "param_decl", "const_decl", "type_decl", "var_decl", "local_decl", "process_decl", "proc_index",
    "def_decl", "proc_decl", "action_decl", "action_param", "record_field", "record_item", "enum_type",
    "property_decl", "liveness_decl", "step_property_decl", "obligation_decl", "hook_decl", "quant",
    "choose_expr", "set_filter", "set_map", "array_comp", "for_stmt", "with_stmt", "let_stmt", "labeled",
})


def _reserved_names(tree: lark.Tree[Token], path: str) -> list[Diagnostic]:
    """E013 once for each reserved word a model that parsed uses as a name, where it is first
    declared (or first used, when it is never declared). The contextual lexer reads a reserved
    word as a name wherever the word itself cannot stand, so such a model parses; reported here,
    before any later stage, each mistake is one diagnostic and not also every use's."""
    words = keywords()
    first: dict[str, tuple[bool, int, Token]] = {}
    for sub in tree.iter_subtrees():
        for tok in sub.children:
            if isinstance(tok, Token) and tok.type == "NAME" and tok.value in words:
                place = (sub.data not in _DECLARING_RULES, tok.start_pos or 0, tok)
                if tok.value not in first or place[:2] < first[tok.value][:2]:
                    first[tok.value] = place
    return [_reserved_word(tok.value, _tok_span(path, tok))
            for _, _, tok in sorted(first.values(), key=lambda p: p[2].start_pos or 0)]


def _where(e: lark.UnexpectedToken) -> tuple[frozenset[str], str]:
    """A failure as mistakes are matched: what the parser would have taken where it failed, and the
    kind of token it got instead. Lark's `match_examples` compares the parser's state by its top and
    its depth; but a mistake reads the same at any depth (in an action's block or three blocks
    further in), and an LALR parser fails in a different state for the same mistake after a
    different statement or expression (before or after reducing it): what it would have taken is
    the same in all of them."""
    return (frozenset(e.accepts or e.expected), e.token.type)


def _example_error(text: str) -> lark.Tree[Token]:
    """Parse an example of a mistake; raise its failure as `_where` compares failures."""
    try:
        return _parser().parse(text)
    except lark.UnexpectedToken as e:
        raise lark.UnexpectedToken(e.token, e.expected, state=_where(e)) from None


def _named_mistake(e: lark.UnexpectedToken, text: str) -> tuple[PE.Mistake, tuple[int, int] | None] | None:
    """The named mistake that `e` is, if any (see parse_errors.MISTAKES), and where the word it
    names starts and ends when that is not the token the parse failed at."""
    before = text[:e.token.start_pos]
    for m in PE.MISTAKES:
        found = re.search(m.before, before) if m.before is not None else None
        if found is not None:
            return m, found.span("at")
    here = lark.UnexpectedToken(e.token, e.expected, state=_where(e))
    examples = [(m, m.examples) for m in PE.MISTAKES if m.before is None]
    named = here.match_examples(_example_error, examples, use_accepts=False)
    return None if named is None else (named, None)


def _accepted(e: lark.UnexpectedInput) -> set[str]:
    """The terminals the parser would have taken where it failed."""
    if isinstance(e, lark.UnexpectedToken) and e.accepts:
        return set(e.accepts)
    return set(getattr(e, "expected", None) or ())


def _misplaced_declaration(e: lark.UnexpectedToken, text: str, path: str) -> Diagnostic | None:
    """A declaration where a statement must stand: a block left open before the next declaration
    (when the text opens more `{` than it closes), or a local variable after a statement."""
    word = PE.declaration_in_block(text, e.token.start_pos or 0)
    if word is None:
        return None
    span = _at(path, word)
    opener = PE.unclosed(text, word.pos) if PE.unbalanced(text) else None
    if opener is not None:
        where = _at(path, opener)
        return Diagnostic("E001", f"`{PE.closer(opener)}` missing before `{word.text}`", span,
                          f"close the `{opener.text}` at line {opener.line} with `{PE.closer(opener)}`",
                          ((f"the unclosed `{opener.text}`", where),))
    if word.text == "var":
        return Diagnostic("E001", "a local variable after a statement", span,
                          "declare a process's local variables at the top of its body, before its "
                          "statements (an action has none: declare the variable at the top level)")
    return None


def _missing_semicolon(e: lark.UnexpectedToken, text: str, path: str, accepts: set[str]) -> Diagnostic | None:
    """A `;` missing at the end of a line, or before a block's `}`."""
    tok = e.token
    prev = PE.last_token(text, tok.start_pos or 0)
    if "SEMICOLON" in accepts and prev is not None and (tok.type == "RBRACE" or (tok.line or 0) > prev.line):
        return Diagnostic("E001", f"`;` missing before `{tok}`", _tok_span(path, tok),
                          f"end the statement or declaration with `;` after `{prev.text}` at line {prev.line}")
    return None


def _unexpected(e: lark.UnexpectedToken, text: str, path: str) -> Diagnostic:
    tok = e.token
    span = _tok_span(path, tok)
    misplaced = _misplaced_declaration(e, text, path)
    if misplaced is not None:
        return misplaced
    named = _named_mistake(e, text)
    if named is not None:
        mistake, word = named
        if word is not None:
            line, col = PE.position(text, word[0])
            span = Span(path, line, col, line, col + word[1] - word[0])
        return Diagnostic("E001", mistake.message, span, mistake.hint)
    accepts = _accepted(e)
    missing = _missing_semicolon(e, text, path, accepts)
    if missing is not None:
        return missing
    hint = f"expected {_expected_words(accepts)}"
    if "NAME" in accepts and str(tok) in keywords():
        hint = f"`{tok}` is a reserved word and cannot be a name; choose another"
    return Diagnostic("E001", f"unexpected {str(tok)!r}", span, hint)


def _early_end(e: lark.UnexpectedInput, text: str, path: str) -> Diagnostic:
    lines = text.splitlines() or [""]
    span = Span(path, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)
    opener = PE.unclosed(text)
    if opener is not None:
        where = _at(path, opener)
        return Diagnostic("E002", f"the file ends before the `{PE.closer(opener)}` that closes the "
                          f"`{opener.text}` at line {opener.line}", span, f"close it with `{PE.closer(opener)}`",
                          ((f"the unclosed `{opener.text}`", where),))
    accepts = _accepted(e)
    if "SEMICOLON" in accepts:
        return Diagnostic("E002", "the file ends before the `;` that ends the last declaration", span,
                          "end the declaration with `;`")
    return Diagnostic("E002", "the file ends before the declaration is complete", span,
                      f"expected {_expected_words(accepts)}")


def _bad_character(e: lark.UnexpectedCharacters, text: str, path: str) -> Diagnostic:
    pos = e.pos_in_stream if e.pos_in_stream is not None else len(text)
    named = PE.character_hint(text, pos)
    if named is not None:
        written, hint = named
        return Diagnostic("E003", f"QDL has no `{written}`", Span(path, e.line, e.column, e.line,
                                                                     e.column + len(written)), hint)
    ch = text[pos] if pos < len(text) else "?"
    return Diagnostic("E003", f"unexpected character {ch!r}", Span(path, e.line, e.column, e.line, e.column + 1),
                      "QDL uses `:=` to assign, `==` to compare, `and`/`or`/`not` for logic")


def _syntax_errors(e: lark.UnexpectedInput, text: str, path: str) -> list[Diagnostic]:
    """The diagnostics of a text that does not parse: E013 once for each reserved word it declares
    as a name (the documented error, and often why the parse failed: a reserved word cannot be
    read as the name it was declared as where it is used), else one E003, E002 or E001, named when
    it is a common mistake."""
    declared = PE.reserved_declarations(text, keywords())
    if declared:
        return [_reserved_word(t.text, _at(path, t)) for t in declared]
    if isinstance(e, lark.UnexpectedCharacters):
        return [_bad_character(e, text, path)]
    if isinstance(e, lark.UnexpectedToken) and e.token.type != "$END":
        return [_unexpected(e, text, path)]
    return [_early_end(e, text, path)]


def parse(text: str, path: str = "<input>") -> A.Model:
    """Parse model text into an AST, or raise `ModelError`: one located diagnostic, or one E013 for
    each reserved word used as a name."""
    _check_nesting(text, path)
    try:
        tree = _parser().parse(text)
    except lark.UnexpectedInput as e:
        raise ModelError(_syntax_errors(e, text, path)) from None
    except RecursionError:
        raise _too_deep(path) from None
    _check_depth(tree, path)
    reserved = _reserved_names(tree, path)
    if reserved:
        raise ModelError(reserved)
    try:
        decls = Build(path).transform(tree)
    except lark.exceptions.VisitError as e:
        # the one callback that refuses its input: a literal too long to convert (in time)
        if str(e.rule) != "int_lit" or not isinstance(e.orig_exc, ValueError):
            raise
        meta = getattr(e.obj, "meta", None)
        span = _span(path, meta) if meta is not None else Span(path, 1, 1, 1, 2)
        raise ModelError([Diagnostic("E001", f"a number with {e.orig_exc}; at most {MAX_DIGITS}", span,
                                     "a state holds only numbers in the ranges its types declare")]) from None
    except RecursionError:
        raise _too_deep(path) from None
    return A.Model(tuple(cast(tuple[A.Decl, ...], decls)), path, text)


def _too_deep(path: str) -> ModelError:
    return ModelError([Diagnostic(
        "E001", "the model is nested too deeply to parse", Span(path, 1, 1, 1, 2),
        "split deeply nested expressions into named constants or smaller steps")])
