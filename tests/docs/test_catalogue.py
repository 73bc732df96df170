"""docs/catalogue.md says what specs/regress.toml says: every run and property, verdict,
shortest counterexample length (a lasso's with where its cycle starts) and state count (the manifest itself is checked against
the models by tests/test_regress.py)."""

from __future__ import annotations

import re

from quiesce_check.regress import counterexample_text, load_manifest
from tests.conftest import ROOT

ROW = re.compile(r"^\| (.*?) \| (.*?) \| `(.*?)` \| (.*?) \| `(.*?)` \| (.*?) \| (.*?) \| (.*?) \|$", re.M)


def test_the_catalogue_page_agrees_with_the_manifest() -> None:
    rows = ROW.findall((ROOT / "docs" / "catalogue.md").read_text())
    page = {(name, prop): (scenario, model, want, got, states) for scenario, name, model, _, prop, want, got, states
            in rows}
    expected = {}
    for run in load_manifest(str(ROOT / "specs" / "regress.toml")):
        for e in run.expects:
            got = f"violated, {counterexample_text(e.length, e.loop)}" if e.length is not None else e.verdict
            states = f"{run.states:,}" if run.states is not None else "-"
            expected[(run.name, e.prop)] = (run.scenario, run.model.name, e.verdict, got, states)
    assert page == expected
