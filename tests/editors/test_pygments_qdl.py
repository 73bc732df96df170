"""The Pygments lexer: every QDL text the repository holds (the docs' ```qdl blocks and every
.qdl file) is read without an error token; its words are the grammar's; it is the `qdl` lexer
that Pygments finds by its entry point."""

from __future__ import annotations

import tomllib
from importlib import import_module, metadata
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Keyword, Name, Operator, Punctuation

from quiesce_check import pygments_qdl
from quiesce_check.pygments_qdl import QdlLexer
from tests.conftest import ROOT
from tests.editors.grammar_words import builtin_functions, grammar_words, qdl_blocks

DOCS = sorted(ROOT.glob("docs/*.md")) + [ROOT / "README.md"]
QDL_FILES = sorted(p for p in ROOT.rglob("*.qdl") if ".venv" not in p.parts and ".git" not in p.parts)


def errors(text: str) -> list[tuple[int, str]]:
    return [(i, v) for i, t, v in QdlLexer().get_tokens_unprocessed(text) if t in Error]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_qdl_block_of_the_docs_lexes_without_error(doc: Path) -> None:
    for block in qdl_blocks(doc):
        assert errors(block) == [], block


def test_the_docs_have_qdl_blocks() -> None:
    assert sum(len(qdl_blocks(d)) for d in DOCS) >= 20


def test_every_model_lexes_without_error() -> None:
    assert len(QDL_FILES) >= 20
    for path in QDL_FILES:
        assert errors(path.read_text()) == [], path


def test_a_character_qdl_does_not_use_is_an_error() -> None:
    assert errors("var x: 0..3 = 0; $") == [(17, "$")]


def test_its_words_are_the_grammars() -> None:
    lists = [pygments_qdl.DECLARATIONS, pygments_qdl.MODIFIERS, pygments_qdl.STATEMENTS,
             pygments_qdl.OPERATOR_WORDS, pygments_qdl.TYPES, pygments_qdl.CONSTANTS]
    assert sum(len(x) for x in lists) == len(set(pygments_qdl.KEYWORDS))  # each word in one list
    assert set(pygments_qdl.KEYWORDS) == grammar_words()
    assert set(pygments_qdl.BUILTINS) == builtin_functions()


def test_tokens_by_what_they_are() -> None:
    got = [(t, v) for t, v in QdlLexer().get_tokens("process P { x := card(s union {1}) ; } // done\n")
           if v.strip()]
    assert got[:3] == [(Keyword.Declaration, "process"), (Name.Function, "P"), (Punctuation, "{")]
    assert (Operator, ":=") in got and (Name.Builtin, "card") in got and (Operator.Word, "union") in got
    assert got[-1][1] == "// done"
    # a word of the grammar inside a name is a name
    assert [(t, v) for t, v in QdlLexer().get_tokens("settle") if v.strip()] == [(Name, "settle")]


def test_pygments_finds_it_by_its_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = project["project"]["entry-points"]["pygments.lexers"]["qdl"]
    module, _, name = target.partition(":")
    assert getattr(import_module(module), name) is QdlLexer
    installed = [e for e in metadata.entry_points(group="pygments.lexers") if e.name == "qdl"]
    if not installed:
        pytest.skip("the installed quiesce-check predates the entry point (pip install -e . again)")
    assert type(get_lexer_by_name("qdl")) is QdlLexer
