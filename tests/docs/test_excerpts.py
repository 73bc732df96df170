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
