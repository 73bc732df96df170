"""Every `qdl` block in docs/ and README.md is a model that builds and checks as described.

A block holds unless its first line says otherwise: `// expect: violated`
(or another verdict). Blocks are checked with --continue, so a block that
expects a violation has every property's verdict decided."""

from __future__ import annotations

import re

import pytest

from quiesce_check.build import build_text, symmetry_of
from quiesce_check.engines import breadth_first
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import NullReporter, Options, Verdict
from tests.conftest import ROOT

BLOCK = re.compile(r"```qdl\n(.*?)```", re.S)


def blocks() -> list[tuple[str, int, str]]:
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for k, m in enumerate(BLOCK.finditer(path.read_text())):
            out.append((path.name, k, m.group(1)))
    return out


EXPECT = re.compile(r"\A// expect: ([a-z ]+)\n")


@pytest.mark.parametrize(("doc", "k", "text"), blocks(), ids=lambda v: str(v)[:20])
def test_documented_model_builds_and_checks_as_it_says(doc: str, k: int, text: str) -> None:
    m = EXPECT.match(text)
    want = Verdict(m.group(1)) if m else Verdict.HOLDS
    built = build_text(text, f"{doc}#{k}")
    result = bfs(built.model, Options(keep_going=True))
    assert result.verdict is want, (doc, k, result.verdict)
    if built.checked.symmetric:
        reduced = breadth_first(built.model, Options(keep_going=True, symmetry=symmetry_of(built)), NullReporter())
        assert reduced.verdict is want, (doc, k, "with symmetry", reduced.verdict)


def test_the_symmetric_example_has_the_documented_states() -> None:
    text = next(t for _, _, t in blocks() if "symmetric type Client" in t)
    built = build_text(text, "doc")
    assert bfs(built.model).stats.distinct == 48
    assert breadth_first(built.model, Options(symmetry=symmetry_of(built)), NullReporter()).stats.distinct == 12


def test_the_while_example_has_the_documented_states() -> None:
    text = next(t for _, _, t in blocks() if "while x < 3" in t and "done := true" in t)
    # three increments and one `done := true`: four states after the initial one
    assert bfs(build_text(text, "doc").model).stats.distinct == 5
