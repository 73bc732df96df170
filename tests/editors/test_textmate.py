"""editors/qdl.tmLanguage.json, the TextMate grammar (VS Code and most editors): it loads, its
patterns compile, its words are the grammar's, and editors/package.json declares it for `.qdl`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from tests.conftest import ROOT
from tests.editors.grammar_words import builtin_functions, grammar_words

EDITORS = ROOT / "editors"


def grammar() -> dict[str, Any]:
    return json.loads((EDITORS / "qdl.tmLanguage.json").read_text())


def rules(node: Any) -> Iterator[dict[str, Any]]:
    """Every rule of the grammar, nested ones included."""
    if isinstance(node, dict):
        if any(k in node for k in ("match", "begin")):
            yield node
        for value in node.values():
            yield from rules(value)
    elif isinstance(node, list):
        for value in node:
            yield from rules(value)


def alternatives(pattern: str) -> list[str]:
    """The words of a `\\b(?:a|b|c)\\b` pattern."""
    m = re.fullmatch(r"\\b\(\?:([a-z|]+)\)\\b(\(\?=.*\))?", pattern)
    assert m, pattern
    return m.group(1).split("|")


def test_it_loads_and_names_the_language() -> None:
    g = grammar()
    assert g["scopeName"] == "source.qdl" and g["fileTypes"] == ["qdl"]
    included = {p["include"].removeprefix("#") for p in g["patterns"]}
    assert included == set(g["repository"])


def test_every_pattern_compiles() -> None:
    found = list(rules(grammar()))
    assert len(found) >= 15
    for rule in found:
        for key in ("match", "begin", "end"):
            if key in rule:
                re.compile(rule[key])


def test_its_keywords_are_the_grammars() -> None:
    lists = [alternatives(r["match"]) for r in grammar()["repository"]["keywords"]["patterns"]]
    words = [w for x in lists for w in x]
    assert len(words) == len(set(words))  # each word in one scope
    assert set(words) == grammar_words()
    assert set(alternatives(grammar()["repository"]["builtins"]["match"])) == builtin_functions()


def test_declarations_name_what_they_declare() -> None:
    keywords = grammar_words()
    seen = {}
    for rule in grammar()["repository"]["declarations"]["patterns"]:
        pattern = re.compile(rule["match"])
        word = pattern.pattern.split("(")[1].split(")")[0].split("|")
        assert set(word) <= keywords
        seen.update({w: rule["captures"]["2"]["name"] for w in word})
        m = pattern.search(f"override {word[0]}  Fresh_1(")
        assert m and m.group(2) == "Fresh_1"
    assert seen["process"].startswith("entity.name.function") and seen["type"].startswith("entity.name.type")


def test_a_keyword_inside_a_name_is_not_one() -> None:
    rule = next(r for r in grammar()["repository"]["keywords"]["patterns"] if "set" in alternatives(r["match"]))
    assert re.findall(rule["match"], "settle sets set reset") == ["set"]


def test_comments_strings_numbers_and_operators() -> None:
    repo = grammar()["repository"]
    line, block = repo["comments"]["patterns"]
    assert re.search(line["match"], "x := 1; // why").group() == "// why"
    assert re.match(block["begin"], "/*") and re.match(block["end"], "*/")
    assert re.search(repo["strings"]["match"], 'use "lib.qdl";').group() == '"lib.qdl"'
    assert re.findall(repo["numbers"]["match"], "x2 := 12 + 3") == ["12", "3"]
    assert re.findall(repo["operators"]["match"], "a := b ~> c => d -> e .. f << >> x' P@l") == [
        ":=", "~>", "=>", "->", "..", "<<", ">>", "'", "@"]


def test_the_vscode_manifest_declares_it() -> None:
    manifest = json.loads((EDITORS / "package.json").read_text())
    [language] = manifest["contributes"]["languages"]
    [declared] = manifest["contributes"]["grammars"]
    assert language["extensions"] == [".qdl"] and declared["language"] == language["id"]
    assert declared["scopeName"] == grammar()["scopeName"]
    assert (EDITORS / declared["path"]).resolve() == (EDITORS / "qdl.tmLanguage.json").resolve()
    config = json.loads((EDITORS / language["configuration"]).read_text())
    assert config["comments"] == {"lineComment": "//", "blockComment": ["/*", "*/"]}
