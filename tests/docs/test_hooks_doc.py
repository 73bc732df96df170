"""docs/hooks.md's counts are the tool's: each ablation table's rows (what breaks without each
obligation, safety and liveness, and the shortest counterexample) and the lengths its prose
gives, recomputed by composing each spec with its model.

The `why` column is left out: its wording is the explainer's, held by its own tests; what this
page must not get wrong is which properties break and how soon."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from quiesce_check import hooks
from quiesce_check.engines.result import Options
from quiesce_check.output.ablation import render_ablation
from tests.conftest import ROOT

DOC = ROOT / "docs" / "hooks.md"
V2 = "models/v2_blkfront_blkback.qdl"
ONE = {"NREQS": 1}
# the page's four tables, in its order: the spec, the model and the parameters each was made with
# (the first two commands are on the page; the last two are "on the same model" as the first)
TABLES = [
    ("specs/hooks/s15_handshake.qdl", V2, ONE),
    ("specs/hooks/s15_handshake_before_suspend.qdl", "models/lib/running_guest.qdl", {}),
    ("specs/hooks/andrew_2014.qdl", V2, ONE),
    ("specs/hooks/andrew_2014_called.qdl", V2, ONE),
]

Row = tuple[str, list[str], list[str], str]


def rows(table: str) -> list[Row]:
    """Each row of a printed ablation table: the obligation, the safety properties (and deadlock)
    that then break, the liveness ones, and the shortest counterexample; cells wrapped over several
    lines joined again."""
    lines = table.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("━"))
    cells: list[list[str]] = []
    for line in lines[start + 1:]:
        if "│" not in line:
            break
        parts = [p.strip() for p in line.split("│")]
        if parts[0]:
            cells.append(parts[:4])
        else:
            cells[-1] = [" ".join(filter(None, (a, b))) for a, b in zip(cells[-1], parts[:4], strict=True)]
    return [(name, _names(safety), _names(live), shortest) for name, safety, live, shortest in cells]


def _names(cell: str) -> list[str]:
    return [] if cell == "-" else cell.split(", ")


def documented() -> list[str]:
    """The ablation tables on the page, in order."""
    return [block for block in DOC.read_text().split("```") if block.lstrip("\n").startswith("Ablation:")]


def printed(spec: str, model: str, params: dict) -> tuple[list[Row], hooks.Outcome]:
    """The rows the tool prints for `spec` on `model`: the composition with every obligation,
    then with each one off (the minimal sets, which need every subset, are not recomputed here)."""
    spec, model = str(ROOT / spec), str(ROOT / model)
    probe = hooks.build_composed(spec, model, params)
    hook = hooks.hook_of(probe)
    select = hooks.all_properties(probe)
    options = Options(keep_going=True)

    def outcome(on: frozenset[str]) -> hooks.Outcome:
        built, result = hooks.check_with(spec, model, params, {n: n in on for n in hook.obligations}, select,
                                         options)
        return hooks.summarise(built, result, on)

    every = frozenset(hook.obligations)
    full = outcome(every)
    ablation = hooks.Ablation(full, {n: outcome(every - {n}) for n in hook.obligations})
    console = Console(width=400, record=True, file=io.StringIO())
    render_ablation(console, hook, ablation)
    return rows(console.export_text()), full


@pytest.fixture(scope="module")
def tool() -> list[tuple[list[Row], hooks.Outcome]]:
    return [printed(*t) for t in TABLES]


def test_the_page_has_a_table_per_command() -> None:
    assert len(documented()) == len(TABLES)


@pytest.mark.parametrize("k", range(len(TABLES)), ids=[t[0].split("/")[-1] for t in TABLES])
def test_each_ablation_table_counts_what_the_tool_counts(k: int, tool) -> None:
    assert rows(documented()[k]) == tool[k][0]


def test_the_prose_lengths_are_the_tools(tool) -> None:
    text = " ".join(DOC.read_text().split())
    andrew, called = tool[2][1], tool[3][1]
    # "the final CLEAN can come before the hook has run (15 steps)": the shortest write after it
    m = re.search(r"the final CLEAN can come before the hook has run \((\d+) steps\)", text)
    assert m and int(m.group(1)) == andrew.lengths["quiescent_after_suspend"]
    # "blkback never quiesces (a lasso of 13 steps)", ending stuttering
    m = re.search(r"blkback never quiesces \(a lasso of (\d+) steps\)", text)
    live = "backend_eventually_quiesces"
    assert m and int(m.group(1)) == andrew.lengths[live] == andrew.loops[live]
    # andrew_2014_called "still fails, now in 19 steps": its shortest counterexample
    m = re.search(r"it still fails, now in (\d+) steps", text)
    assert m and int(m.group(1)) == min(called.lengths.values())


def test_the_table_reader_joins_wrapped_cells() -> None:
    table = ("Ablation: each obligation removed in turn\n"
             " without ┃ then violated     ┃ liveness then violated ┃ shortest ┃ why\n"
             "━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━\n"
             " ack     │ deadlock, a       │ -                      │ 13 steps │ x\n"
             "         │ (vacuous), b      │                        │  then 2  │ y\n"
             " stop    │ c                 │ live                   │       20 │ z\n"
             "Minimal sets of obligations that keep every property: none\n")
    assert rows(table) == [("ack", ["deadlock", "a (vacuous)", "b"], [], "13 steps then 2"),
                           ("stop", ["c"], ["live"], "20")]
