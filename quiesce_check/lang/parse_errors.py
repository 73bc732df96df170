"""Stage 1, named syntax errors: the mistakes users make most, and what to write instead.

Takes the text of a model that did not parse and what the parser knows of the failure (the
offending token's position, what it would have accepted there, the grammar's reserved words).
Gives `MISTAKES`, the table of named errors (a label, a message, a hint and example texts that
fail the same way: `=` for `:=` or `==`, `then` or braces in the wrong `if`, `elif`, a block
where a value was meant and a value where a statement was, a record literal missing a field
name, a tuple where a set was meant); `CHARACTERS`, the hints for characters QDL does not use
(`&&`, `||`, `!`, ...); and scans of the text for what no example can show: the reserved words
it declares as names, the last token before a point, the bracket left open there and a
declaration begun where a statement must stand. Imports only the standard library: the parser
matches errors against the table with Lark, and this module knows nothing of Lark.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mistake:
    """A named error. It matches an error when one of its examples fails where the parser would
    have taken the same tokens and on the same kind of token; or, when `before` is set, when the
    text up to the offending token ends with that pattern (the examples then only show what it
    names), and the error is then shown where the pattern's group `at` is."""

    label: str
    message: str
    hint: str
    examples: tuple[str, ...]
    before: str | None = None


def _around(template: str, contexts: Iterable[str]) -> tuple[str, ...]:
    """The mistake `template` written in each context (`@` marks where it stands)."""
    return tuple(c.replace("@", template) for c in contexts)


# Every place an expression ends before something else follows, as the parser tells them apart
# (by what it would take after the expression: `;`, `{`, `)`, ...), whatever the expression
# is; `@` marks the place.
EXPRESSION_PLACES = (
    "invariant i: @;", "liveness l: @ ~> y;", "liveness l: y ~> @;", "liveness l: eventually @;",
    "liveness l: always eventually @;", "liveness l: eventually always @;", "always step s: @;",
    "def f = @;", "def f(k: 0..1) = @;", "action a when @ { skip; }", "process P when @ { skip; }",
    "process P { await @; }", "action a { assert @; }", "action a { if @ { skip; } }",
    "process P { while @ { skip; } }", "action a { y := @; }", "action a { let y = @; }",
    "action a { with y in D where @ { skip; } }", "invariant i: (@);", "invariant i: f(@);",
    "invariant i: f(y, @);", "invariant i: a[@];", "invariant i: [@];", "invariant i: [y, @];",
    "invariant i: {@};", "invariant i: {y, @};", "invariant i: {y in D where @} == S;",
    "invariant i: {y for y in D where @} == S;", "invariant i: [y in D: @] == a;",
    "invariant i: if @ then a else b;", "invariant i: if c then @ else b;",
    "action a { y := choose z in D where @; }", "invariant i: {f: @} == r;",
    "invariant i: {f: y, g: @} == r;", "invariant i: <<@>> == q;", "invariant i: <<y, @>> == q;",
    "action a { p(@); }", "action a { p(y, @); }", "action a { send q, @; }", "var v: T = @;",
    "use lib(N = @);", "fair process P[@];", "action a { y[@] := 1; }",
)

# Every place a statement may begin, as the parser tells them apart (by what else it would take
# there): a block, a process's body before its statements, after a label, and after an `if`
# (which an `else` may continue) and an `either` (which an `or` may); `@` marks the place.
STATEMENT_PLACES = (
    "action a { @ }", "action a { skip; @ }", "process P { @ }", "process P { var y: 0..1 = 0; @ }",
    "process P { l: @ }", "action a { if b { skip; } @ }", "action a { either { skip; } or { skip; } @ }",
)

# the statements that begin with a word, as they would stand where a value was meant
_STATEMENTS = ("skip;", "await b;", "assert b;", "while b { skip; }", "either { skip; } or { skip; }",
               "atomic { skip; }", "with y in D { skip; }", "let y = 1;", "send q, 1;", "receive q -> y;")

# values as they would stand where a statement or a record field was meant
_VALUES = ("1", "-1", "true", "false", "(x)", "[x]", "<<x>>", "x + 1", "x[0] + 1", "f(x) + 1")

MISTAKES: tuple[Mistake, ...] = (
    Mistake("elif", "QDL has no `elif`",
            "write `else if`: `if a { ... } else if b { ... } else { ... }`",
            ("action a { if b { skip; } elif c { skip; } }", "action a { if b { skip; } elif (c) { skip; } }",
             "action a { if b { skip; } elsif not c { skip; } }"),
            before=r"(?:^|[;{}])\s*(?P<at>elif|elsif|elseif)\b[^;{}]*$"),
    Mistake("assign-with-equals", "`=` does not assign",
            "assign with `:=` (`x := 1;`); `==` compares",
            (*_around("x = 1;", STATEMENT_PLACES), "action a { x[0] = 1; }", "action a { r.f = 1; }",
             "action a { r.f[0].g = 1; }")),
    Mistake("compare-with-equals", "`=` does not compare",
            "compare with `==` (`x == 1`); `:=` assigns, and only in a statement",
            _around("x = 1", EXPRESSION_PLACES)),
    Mistake("comparison-as-statement", "a comparison is not a statement",
            "to wait until it holds write `await x == 1;`; to set `x`, `x := 1;`",
            (*_around("x == 1;", STATEMENT_PLACES), "action a { x[0] == 1; }", "action a { r.f != 1; }")),
    Mistake("then-in-if-statement", "`then` belongs to if-expressions, not to `if` statements",
            "an `if` statement is `if cond { ... } else { ... }`: drop `then`; "
            "`if c then a else b` is a value",
            ("action a { if x then { skip; } }", "process P { while x then { skip; } }")),
    Mistake("braces-in-if-expression", "an if-expression is written with `then` and `else`, not braces",
            "write `if c then a else b` (a value); an `if` with blocks is a statement, as in "
            "`if c { x := a; } else { x := b; }`",
            ("action a { y := if c { a } else { b }; }",)),
    Mistake("block-as-value", "a block of statements is not a value",
            "an expression cannot hold statements: a `def` is one expression (`def f = if c then a "
            "else b;`); write steps in an action, a process or a `proc`",
            ("def f = { x := 1; };", *(f"def f = {{ {s} }};" for s in _STATEMENTS))),
    Mistake("block-as-statement", "a `{` cannot begin a statement",
            "statements go straight into the enclosing block (`atomic { ... }` makes several one "
            "step); a set `{a, b}` is a value: assign it, as in `s := {a, b};`",
            _around("{ x := 1; }", STATEMENT_PLACES)),
    Mistake("value-as-statement", "a value where a statement was expected",
            "a block holds statements (`x := e;`, `await e;`, `skip;`), not values; "
            "to choose a value write `if c then a else b`",
            (*(p.replace("@", v) for p in STATEMENT_PLACES for v in _VALUES),
             "action a { if c { x } }", "action a { if c { x, y } }")),
    Mistake("record-field-name", "a record literal must name every field",
            "write `name: value` for each field, as in `{a: 0, b: false}`",
            (*(f"var r: R = {{a: 0, {v}}};" for v in (*_VALUES, "x", "{x}")),
             "var r: R = {a: 0, x, b: 1};", "var r: R = {0, b: false};", "var r: R = {x, b: false};",
             "var r: R = {x + 1, b: false};")),
    Mistake("tuple", "`(a, b)` is not a value",
            "a set is written with braces: `x in {a, b}`; an array with brackets: `[a, b]`",
            ("invariant i: x in (1, 2);", "invariant i: (1, 2) == s;")),
)

# Characters QDL does not use, with the QDL word each one was probably meant as: the pattern
# at the offending character, then what to write.
CHARACTERS: tuple[tuple[str, str, str], ...] = (
    (r"&&?", "`and`", "p and q"),
    (r"\|\|?", "`or`", "p or q"),
    (r"![ \t]*in\b", "`not in`", "x not in S"),
    (r"!", "`not`", "not p"),
    (r"\?", "an if-expression", "if c then a else b"),
    (r"#", "a comment with `//`", "// a comment"),
)


def position(text: str, pos: int) -> tuple[int, int]:
    """The line and column (from 1) of offset `pos`."""
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def character_hint(text: str, pos: int) -> tuple[str, str] | None:
    """For a character QDL does not use at `pos`: what was written there and the hint that names the
    QDL word for it."""
    for pattern, word, example in CHARACTERS:
        m = re.compile(pattern).match(text, pos)
        if m:
            return m.group(), f"write {word}, as in `{example}`"
    return None


@dataclass(frozen=True, slots=True)
class Tok:
    """A word, number, quoted text or operator of a model's text, where it starts (from 1)."""

    text: str
    kind: str           # "word", "num", "str" or "op"
    line: int
    col: int
    pos: int

    @property
    def end_col(self) -> int:
        return self.col + len(self.text)


_TOKEN = re.compile(r"""
    (?P<skip>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<str>"[^"\n]*")
  | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<num>[0-9]+)
  | (?P<op>:=|==|!=|<=|>=|=>|\.\.|->|~>|<<|>>|.)
""", re.VERBOSE | re.DOTALL)


def tokens(text: str, upto: int | None = None) -> Iterator[Tok]:
    """The tokens of `text` (up to offset `upto`), without comments; any text lexes, so that a
    model with bad characters can still be read."""
    line, line_start = 1, 0
    end = len(text) if upto is None else upto
    for m in _TOKEN.finditer(text, 0, end):
        kind = m.lastgroup or "op"
        if kind != "skip":
            yield Tok(m.group(), kind, line, m.start() - line_start + 1, m.start())
        breaks = m.group().count("\n")
        if breaks:
            line, line_start = line + breaks, m.start() + m.group().rindex("\n") + 1


def last_token(text: str, upto: int) -> Tok | None:
    """The last token that ends before offset `upto`."""
    tail = deque(tokens(text, upto), maxlen=1)
    return tail[0] if tail else None


_CLOSERS = {"{": "}", "(": ")", "[": "]", "<<": ">>"}


def unclosed(text: str, upto: int | None = None) -> Tok | None:
    """The innermost bracket still open at offset `upto` (the end of the text by default)."""
    stack: list[Tok] = []
    for t in tokens(text, upto):
        if t.text in _CLOSERS:
            stack.append(t)
        elif stack and t.text == _CLOSERS[stack[-1].text]:
            stack.pop()
    return stack[-1] if stack else None


def closer(opener: Tok) -> str:
    return _CLOSERS[opener.text]


def unbalanced(text: str) -> bool:
    """Does `text` open more `{` than it closes?"""
    depth = 0
    for t in tokens(text):
        depth += (t.text == "{") - (t.text == "}")
    return depth > 0


# the words that begin a declaration
DECLARATION_WORDS = frozenset({
    "var", "const", "param", "type", "process", "action", "def", "proc", "invariant", "reachable",
    "terminal", "final", "lemma", "liveness", "use", "check", "fair", "weak", "strong", "obligation",
    "hook", "default", "override", "protected", "symmetric", "optional",
})


def declaration_in_block(text: str, pos: int) -> Tok | None:
    """The declaration word that begins the statement a parse failed in at offset `pos`, if one
    does: where a statement must stand the lexer reads `var` or `action` as a name, and the parse
    fails at the token after it."""
    toks = list(tokens(text, pos))
    if toks and toks[-1].text in DECLARATION_WORDS and (len(toks) == 1 or toks[-2].text in (";", "{", "}")):
        return toks[-1]
    return None


# Words after which a name is declared (`var x`, `def f`, `let x`, `invariant i`), and the words
# after which a name is bound when `in` follows it (`forall x in`, `with x in`, `{e for x in D}`)
_DECLARERS = frozenset({
    "var", "const", "param", "type", "process", "action", "def", "proc", "let", "obligation", "hook",
    "liveness", "invariant", "reachable", "terminal", "final", "lemma",
})
_BINDERS = frozenset({"forall", "exists", "count", "with", "for", "choose"})
# Reserved words that end a value or a type, and so may stand before `:` or `in`
# (`forall b in bool: p`, `true in S`) or, for `not`, before `in` (`x not in S`).
_VALUE_WORDS = frozenset({"true", "false", "any", "bool", "not"})
# Tokens before a field, a label or a parameter: `{f: `, `, f: `, `(x in `, `; l: `, `} l: `.
_OPENERS = frozenset({"{", ",", "(", "[", ";", "}"})


def _enum_members(toks: list[Tok]) -> set[int]:
    """The indices of the members of every `enum { ... }`."""
    members: set[int] = set()
    inside = False
    for i, t in enumerate(toks):
        if inside and t.text == "}":
            inside = False
        elif inside:
            members.add(i)
        elif t.text == "{" and i > 0 and toks[i - 1].text == "enum":
            inside = True
    return members


def _declares(toks: list[Tok], i: int, prev_declared: bool) -> bool:
    """Does token `i` stand where a name is declared or bound? (`prev_declared`: the token
    before it does, and so is a name, not the word that declares one.)"""
    prev = toks[i - 1].text if i > 0 and not prev_declared else ""
    after = toks[i + 1].text if i + 1 < len(toks) else ""
    if prev in _BINDERS:
        return after == "in"
    if prev in _DECLARERS or (prev == "step" and i > 1 and toks[i - 2].text == "always"):
        return True
    if toks[i].text in _VALUE_WORDS or prev not in _OPENERS:
        return False
    # a field, a label or a parameter (`{f: 0}`, `l: skip;`, `(k: T)`) or a bound name (`[i in D]`)
    return after in (":", "in")


def reserved_declarations(text: str, reserved: frozenset[str]) -> list[Tok]:
    """The reserved words `text` declares or binds as names, the first place each one is; read
    from the tokens alone, for a text that does not parse (where no tree says what is a name)."""
    toks = list(tokens(text))
    members = _enum_members(toks)
    first: dict[str, Tok] = {}
    declared = False
    for i, t in enumerate(toks):
        declared = i in members or _declares(toks, i, declared)
        if declared and t.kind == "word" and t.text in reserved:
            first.setdefault(t.text, t)
    return sorted(first.values(), key=lambda t: t.pos)
