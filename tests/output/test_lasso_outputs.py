"""A lasso and a step-property counterexample on the terminal and in `--json`.

Each figure is worked out by hand from the model (tests/trace/models): lasso_spin.qdl's A goes
round x = 0, 1, 2 from the initial state and B is never obliged to move, so `done` fails on a
lasso of no prefix and a cycle of 3 steps; lasso_ring.qdl assumes no fairness, so `answered`
(x == 1 ~> x == 3) fails when the behaviour stops after one `inc` (x = 1); step_only_p.qdl's Q
resets x after P's two steps and Q's await: 4 steps, the last breaking `only_p`.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from quiesce_check.build import build_file
from quiesce_check.cli import main
from quiesce_check.compile.model import ModelInfo
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import Options
from quiesce_check.output.terminal import cycle_marks, lasso_text, loop_text, render_trace
from quiesce_check.trace.types import Trace
from tests.conftest import ROOT

MODELS = ROOT / "tests" / "trace" / "models"


def traces(model: str) -> tuple[ModelInfo, dict[str, Trace]]:
    built = build_file(str(MODELS / model))
    return built.model.info, bfs(built.model, Options(keep_going=True), None).traces


def shown(info: ModelInfo, trace: Trace) -> list[str]:
    buffer = io.StringIO()
    render_trace(Console(file=buffer, width=160, color_system=None), info, trace)
    text = buffer.getvalue()
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def header_at(lines: list[str]) -> int:
    """Where the table's header is: the heading above it wraps, over as many lines as it needs."""
    return next(k for k, line in enumerate(lines) if line.lstrip().startswith("#"))


def test_a_cycle_on_the_terminal() -> None:
    info, found = traces("lasso_spin.qdl")
    trace = found["done"]
    assert (trace.loop, len(trace.steps)) == (0, 3)
    assert lasso_text(trace) == "0 steps, then a cycle of 3 steps"
    lines = shown(info, trace)
    assert lines[0].startswith("Counterexample (0 steps, then a cycle of 3 steps): liveness `done`")
    top = header_at(lines)
    rows = lines[top + 2:top + 6]
    assert [r.split()[0] for r in rows] == ["0", "1", "2", "3"]
    assert "┌ starts" in rows[0] and "│" in rows[1] and "└ back to 0" in rows[3] and "x: 2→0" in rows[3]
    assert lines[top + 6] == ("The cycle starts at step 0: step 3 leads back to the initial state, and steps 1 to 3 "
                        "repeat for ever.")
    assert cycle_marks(trace, utf=False) == {0: "+ starts", 1: "|", 2: "|", 3: "+ back to 0"}


def test_a_stutter_on_the_terminal() -> None:
    info, found = traces("lasso_ring.qdl")
    trace = found["answered"]
    assert (trace.loop, len(trace.steps)) == (1, 1)
    lines = shown(info, trace)
    assert lines[0].startswith("Counterexample (1 step, then stuttering): liveness `answered`")
    row = lines[header_at(lines) + 3]
    assert "↺ for ever" in row and "inc" in row
    assert loop_text(info, trace) == ("The behaviour stays in the state after step 1 for ever (the model "
                                      "assumes no fairness, so a behaviour may stop anywhere).")


def test_a_finite_trace_has_no_cycle_column() -> None:
    info, found = traces("step_only_p.qdl")
    trace = found["only_p"]
    lines = shown(info, trace)
    assert lines[0].startswith("Counterexample (4 steps): step property `only_p`")
    assert "cycle" not in lines[header_at(lines)] and cycle_marks(trace) == {}


def json_of(tmp_path: Path, model: str) -> tuple[int, dict]:
    out = tmp_path / "r.json"
    code = main(["check", str(MODELS / model), "--no-coverage", "--json", str(out)])
    return code, json.loads(out.read_text())


def test_json_of_a_lasso(tmp_path: Path, capsys) -> None:
    code, doc = json_of(tmp_path, "lasso_spin.qdl")
    capsys.readouterr()
    assert code == 13 and doc["exit_code"] == 13 and doc["verdict"] == "liveness violated"
    assert {p["name"]: (p["kind"], p["status"]) for p in doc["properties"]}["done"] == ("liveness", "violated")
    t = doc["trace"]
    assert (t["kind"], t["property"], t["length"], t["loop"]) == ("liveness", "done", 3, 0)
    assert [s["index"] for s in t["steps"]] == [0, 1, 2, 3]
    assert doc["traces"]["done"]["loop"] == 0


def test_json_of_a_stutter_and_of_a_step_property(tmp_path: Path, capsys) -> None:
    code, doc = json_of(tmp_path, "lasso_ring.qdl")
    assert code == 13
    # the first trace: nothing fair, so the behaviour may stop at once, with x = 0 (never 3)
    assert (doc["trace"]["property"], doc["trace"]["length"], doc["trace"]["loop"]) == ("reaches3", 0, 0)
    code, doc = json_of(tmp_path, "step_only_p.qdl")
    capsys.readouterr()
    assert code == 12 and doc["exit_code"] == 12 and doc["verdict"] == "violated"
    t = doc["trace"]
    assert (t["kind"], t["property"], t["length"], t["loop"]) == ("action", "only_p", 4, None)
