"""The model error that stopped a search with --continue, in the files other than --json: the
HTML page says it above the verdicts, and `regress`'s JUnit names it, with where and at which
step, as the run's error. Positions and steps come from the model's text (tests/cli/test_continue)."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

from quiesce_check.cli import main
from tests.cli.test_continue import out_of_range
from tests.output.test_html import page_of


def test_the_page_says_the_model_error_that_outranks_the_violation(tmp_path: Path) -> None:
    m = out_of_range()
    code, _, page = page_of(tmp_path, m.path, "--continue", "--backend", "python")
    assert code == 75
    assert "".join(page.text["span.verdict bad"]) == "model error (exit 75)"
    (said,) = page.text["p.why"][:1]
    assert said.startswith(f"Model error at step {m.steps} ({m.label} at {m.at}): ")
    assert [a["id"] for t, a in page.elements if t == "p" and a.get("id") == "halt"] == ["halt"]
    assert "outranks the violations also found (low)" in said


def test_junit_names_the_model_error_with_where_and_the_step(tmp_path: Path) -> None:
    m = out_of_range()
    shutil.copy(m.path, tmp_path / "m.qdl")
    (tmp_path / "r.toml").write_text('[[run]]\nname = "r"\nmodel = "m.qdl"\nexpect = { low = "violated" }\n')
    xml = tmp_path / "junit.xml"
    assert main(["regress", str(tmp_path / "r.toml"), "--junit", str(xml), "--backend", "python"]) == 1
    suite = ET.parse(xml).getroot()
    assert (suite.get("errors"), suite.get("failures")) == ("1", "0")  # `low` is violated, as expected
    (error,) = suite.iter("error")
    at = m.at.replace(m.path, str(tmp_path / "m.qdl"))
    assert error.get("message", "").startswith(f"model error at step {m.steps} ({m.label} at {at}): ")
