"""What the editor files are held to: the words of QDL's grammar, read from the grammar itself,
and the checker's built-in functions."""

from __future__ import annotations

import functools
import re

import lark

from quiesce_check.lang.checker.collections import BUILTINS
from tests.conftest import ROOT


@functools.cache
def grammar_words() -> frozenset[str]:
    """Every word the grammar spells out (its string terminals that look like names), soft words
    such as `set` and `seq` included: an editor cannot tell where they stand as names."""
    grammar = lark.Lark((ROOT / "quiesce_check" / "lang" / "grammar.lark").read_text(), parser="lalr")
    return frozenset(t.pattern.value for t in grammar.terminals
                     if t.pattern.type == "str" and t.pattern.value.isidentifier())


def builtin_functions() -> frozenset[str]:
    """The checker's built-ins, and `by(P)` of step properties (the parser's)."""
    return frozenset(BUILTINS) | {"by"}


def qdl_blocks(path) -> list[str]:
    """The ```qdl blocks of a Markdown file."""
    return re.findall(r"^```qdl\n(.*?)^```", path.read_text(), re.S | re.M)
