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


def excerpt(text: str, opening: str) -> list[str]:
    """The fenced block of `text` that begins with the line `opening`, its lines without trailing blanks."""
    block = text.split(f"```\n{opening}")[1].split("```")[0]
    return [line.rstrip() for line in (opening + block).rstrip("\n").splitlines()]


def abridges(shown: list[str], real: list[str]) -> bool:
    """Whether `shown` is `real` with runs of lines left out, each marked by a line `...`: its
    pieces appear in `real` whole and in order, the first at its start and the last at its end."""
    pieces: list[list[str]] = [[]]
    for line in shown:
        if line.strip() == "...":
            pieces.append([])
        else:
            pieces[-1].append(line)
    at = 0
    for k, piece in enumerate(pieces):
        found = next((i for i in range(at, len(real) - len(piece) + 1) if real[i:i + len(piece)] == piece), None)
        if found is None or (k == 0 and found != 0):
            return False
        at = found + len(piece)
    return at == len(real)


def test_the_readme_shows_s5_as_printed() -> None:
    shown = excerpt((ROOT / "README.md").read_text(), "Counterexample (16 steps)")
    real = printed()
    assert abridges(shown, real)
    # the excerpt keeps what the prose below it points at: the first rows, the write, the end
    assert len(shown) >= 20 and shown[0] == real[0] and shown[-1] == real[-1]


def test_an_abridged_excerpt_must_keep_the_order_and_the_ends() -> None:
    real = ["a", "b", "c", "d", "e"]
    assert abridges(["a", "b", "...", "e"], real) and abridges(real, real)
    assert not abridges(["a", "...", "c", "b", "...", "e"], real)   # out of order
    assert not abridges(["b", "...", "e"], real)                    # the start left out, unmarked
    assert not abridges(["a", "...", "d"], real)                    # the end left out, unmarked
    assert not abridges(["a", "x", "...", "e"], real)               # a line that is not printed


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
