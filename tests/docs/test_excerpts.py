"""The counterexample the README and docs/catalogue.md show is the one quiesce-check prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT

S5 = "models/s5_persistent_ring_write_after_last_send.qdl"


def printed() -> list[str]:
    r = subprocess.run([sys.executable, "-m", "quiesce_check", "check", S5, "--no-coverage"], cwd=ROOT,
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "165"})
    lines = r.stdout.replace(str(ROOT) + "/", "").splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("Counterexample"))
    end = next(k for k, line in enumerate(lines) if line.startswith("Verdict"))
    return [line.rstrip() for line in lines[start:end + 1]]


def test_the_catalogue_shows_s5_as_printed() -> None:
    text = (ROOT / "docs" / "catalogue.md").read_text()
    block = text.split("`quiesce-check check models/s5_persistent_ring_write_after_last_send.qdl`:\n\n```\n")[1]
    assert block.split("```")[0].rstrip("\n").splitlines() == printed()


def test_the_readme_rows_are_printed_rows() -> None:
    rows = {}
    for line in printed():
        m = re.match(r"\s*(\d+) │ (\S+)\s*│ (.*?)\s*│.*?│ (xen\.qdl:\d+|line \d+)\s*│", line)
        if m:
            rows[int(m.group(1))] = (m.group(2), m.group(3), m.group(4))
    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r"^\s*(\d+)  (\S+)\s+(.*?;)\s.*?(xen\.qdl:\d+|line \d+)", readme, re.M)
    assert len(shown) >= 8
    for k, process, step, where in shown:
        real = rows[int(k)]
        assert (process, where) == (real[0], real[2]) and real[1].startswith(step.split(" ...")[0][:20]), k
    assert printed()[0] in readme


# "**run name**, `property` (N steps):" then "> the explanation", in docs/catalogue.md
WHY = re.compile(r"^\*\*(.+?)\*\*, `(\w+)` \((\d+) steps\):\n\n> (.+?)$", re.M)


def why_paragraphs() -> list[tuple[str, str, int, str]]:
    text = (ROOT / "docs" / "catalogue.md").read_text()
    return [(name, prop, int(n), why) for name, prop, n, why in WHY.findall(text)]


def printed_why(name: str, prop: str) -> tuple[int, str]:
    """The length of the run's shortest counterexample of `prop`, and its explanation as printed."""
    from quiesce_check.build import build_file
    from quiesce_check.domain.explain import explainer
    from quiesce_check.engines import breadth_first
    from quiesce_check.engines.result import NullReporter, Options
    from quiesce_check.regress import load_manifest

    (run,) = [r for r in load_manifest(str(ROOT / "specs" / "regress.toml")) if r.name == name]
    built = build_file(str(run.model), run.params, [prop])
    trace = breadth_first(built.model, Options(), NullReporter()).traces[prop]
    explain = explainer(built.ast.sources, built.checked.consts)
    assert explain is not None
    return len(trace.steps), " ".join(explain(built.model.info, trace))


def test_the_catalogue_explains_each_failure_as_printed() -> None:
    paragraphs = why_paragraphs()
    assert len(paragraphs) >= 15
    for name, prop, n, why in paragraphs:
        assert printed_why(name, prop) == (n, why), (name, prop)
