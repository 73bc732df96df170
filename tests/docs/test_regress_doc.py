"""docs/regress.md describes the manifest `regress.load_manifest` reads: the keys of a run and of an
expectation, the verdicts, the names that are not properties, the engines, the size limit; and
its example is made of runs of specs/regress.toml, which the runner accepts."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from quiesce_check import regress
from tests.conftest import ROOT

DOC = ROOT / "docs" / "regress.md"


def table_keys(text: str, heading: str) -> set[str]:
    """The first column of the first table under `heading`: "| `key` | ..." rows."""
    section = text.split(heading, 1)[1]
    table = section.split("\n\n", 2)[1]
    return set(re.findall(r"^\| `(\w+)` \|", table, re.M))


def example(text: str) -> str:
    return text.split("```toml\n", 1)[1].split("```", 1)[0]


def test_the_keys_of_a_run_are_the_runners() -> None:
    assert table_keys(DOC.read_text(), "A run has these keys:") == regress._RUN_KEYS


def test_the_keys_of_an_expectation_are_the_runners() -> None:
    assert table_keys(DOC.read_text(), "Each entry of `expect` is") == regress._EXPECT_KEYS


def test_the_words_the_page_names_are_the_runners() -> None:
    text = " ".join(DOC.read_text().split())
    for word in (*regress.VERDICTS, *regress.SPECIAL, *regress.RUN_ENGINES):
        assert f"`{word}`" in text or f'`"{word}"`' in text, word
    assert f"at most {regress.MAX_MANIFEST_BYTES // (1024 * 1024)} MB" in text


def test_the_example_is_runs_of_the_repositorys_manifest(tmp_path: Path) -> None:
    shown = tomllib.loads(example(DOC.read_text()))["run"]
    pinned = tomllib.loads((ROOT / "specs" / "regress.toml").read_text())["run"]
    assert len(shown) >= 5
    for run in shown:
        assert run in pinned, run["name"]
    # one of each kind the page says it shows
    assert {"params", "symmetry", "engine"} <= {k for run in shown for k in run}
    expects = [want for run in shown for want in run["expect"].values()]
    assert any(isinstance(w, dict) and "loop" in w for w in expects)
    assert any("assertions" in run["expect"] for run in shown)
    # the runner reads it as it reads the manifest it comes from (beside it, so its paths resolve)
    runs = regress.load_manifest(str(_beside(tmp_path, example(DOC.read_text()))), allow_outside=True)
    assert [r.name for r in runs] == [run["name"] for run in shown]
    assert all(r.model.resolve().is_file() for r in runs)


def _beside(tmp_path: Path, text: str) -> Path:
    """`text` as a manifest in `tmp_path/specs`, with links to the repository's `models` and
    `specs/proofs` where specs/regress.toml finds them, so its paths name the same models."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (tmp_path / "models").symlink_to(ROOT / "models")
    (specs / "proofs").symlink_to(ROOT / "specs" / "proofs")
    path = specs / "example.toml"
    path.write_text(text)
    return path
