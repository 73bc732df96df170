"""A Pygments lexer for QDL, so that documentation renders ```qdl blocks highlighted.

Takes QDL text; gives Pygments tokens: comments, strings, numbers, the grammar's words (by what
they do: declarations, modifiers, statements, operators, types, constants), the built-in
functions, the names declarations introduce, and operators. Registered as the `pygments.lexers`
entry point `qdl` (pyproject.toml). The word lists are the grammar's (`lang/grammar.lark`),
held equal to it by a test. Imports nothing of the project (Pygments loads it on its own).
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

# the grammar's words, by what they do
DECLARATIONS = ("param", "const", "type", "var", "process", "action", "def", "proc", "invariant", "reachable",
                "terminal", "final", "lemma", "liveness", "obligation", "hook", "use", "check", "fair", "step")
MODIFIERS = ("default", "override", "protected", "optional", "symmetric", "weak", "strong")
STATEMENTS = ("if", "then", "else", "while", "for", "either", "with", "where", "await", "assert", "skip",
              "atomic", "let", "send", "receive", "when", "at", "binds", "always", "eventually", "system")
OPERATOR_WORDS = ("and", "or", "not", "in", "subset", "union", "intersect", "minus", "forall", "exists",
                  "count", "choose")
TYPES = ("bool", "enum", "array", "record", "set", "seq", "of")
CONSTANTS = ("true", "false", "any")
KEYWORDS = DECLARATIONS + MODIFIERS + STATEMENTS + OPERATOR_WORDS + TYPES + CONSTANTS

# the checker's built-in functions, and `by(P)` of step properties
BUILTINS = ("card", "len", "head", "tail", "append", "remove", "finished", "by")

# a declaration's word and the name it declares, highlighted as what it names
_NAMED = (
    (("process", "action", "def", "proc", "hook"), Name.Function),
    (("type",), Name.Class),
    (("param", "const", "obligation"), Name.Constant),
    (("var",), Name.Variable),
    (("invariant", "reachable", "terminal", "final", "lemma", "liveness", "step"), Name.Label),
)

_NAME = r"[A-Za-z_][A-Za-z_0-9]*"


class QdlLexer(RegexLexer):
    """QDL, the quiesce-check description language."""

    name = "QDL"
    aliases: ClassVar[list[str]] = ["qdl"]
    filenames: ClassVar[list[str]] = ["*.qdl"]
    mimetypes: ClassVar[list[str]] = ["text/x-qdl"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"//[^\n]*", Comment.Single),
            (r"/\*", Comment.Multiline, "comment"),
            (r'"[^"\n]*"', String.Double),
            (r"[0-9]+", Number.Integer),
            *((words(kws, prefix=r"\b", suffix=r"(\s+)(" + _NAME + ")"),
               bygroups(Keyword.Declaration, Whitespace, token)) for kws, token in _NAMED),
            (words(DECLARATIONS, prefix=r"\b", suffix=r"\b"), Keyword.Declaration),
            (words(MODIFIERS, prefix=r"\b", suffix=r"\b"), Keyword.Reserved),
            (words(STATEMENTS, prefix=r"\b", suffix=r"\b"), Keyword),
            (words(OPERATOR_WORDS, prefix=r"\b", suffix=r"\b"), Operator.Word),
            (words(TYPES, prefix=r"\b", suffix=r"\b"), Keyword.Type),
            (words(CONSTANTS, prefix=r"\b", suffix=r"\b"), Keyword.Constant),
            (words(BUILTINS, prefix=r"\b", suffix=r"(?=\s*\()"), Name.Builtin),
            (_NAME, Name),
            (r":=|~>|=>|->|==|!=|<=|>=|<<|>>|\.\.|[<>+\-*/%=@']", Operator),
            (r"[;,:.(){}\[\]]", Punctuation),
        ],
        "comment": [
            (r"[^*]+", Comment.Multiline),
            (r"\*/", Comment.Multiline, "#pop"),
            (r"\*", Comment.Multiline),
        ],
    }
