"""Every `qdl` block in docs/ and README.md is a model that builds and checks as described.

A block holds unless its first line says otherwise: `// expect: violated`
(or another verdict). Blocks are checked with --continue, so a block that
expects a violation has every property's verdict decided."""

from __future__ import annotations

import re

import pytest

from quiesce_check.build import build_text
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import Options, Verdict
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
    result = bfs(build_text(text, f"{doc}#{k}").model, Options(keep_going=True))
    assert result.verdict is want, (doc, k, result.verdict)


def test_the_while_example_has_the_documented_states() -> None:
    text = next(t for _, _, t in blocks() if "while x < 3" in t and "done := true" in t)
    # three increments and one `done := true`: four states after the initial one
    assert bfs(build_text(text, "doc").model).stats.distinct == 5
