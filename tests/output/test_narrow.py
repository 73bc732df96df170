"""A counterexample, its coverage and its heading on a narrow (80) and a wide (200) terminal.

The trace is a real one: s17's 26 steps through the Xen vocabulary, Blkfront and Blkback of
models/lib/blk.qdl and the hook of specs/s15_handshake.qdl. What must appear whole is taken
from the trace itself (`trace.steps.rows`), not from the rendering: every change as
`name: before→after` (`name=value` in the initial state), and every step's file and line.
Nothing may be cut with an ellipsis, and no line may pass the console's width.
"""

from __future__ import annotations

import io
from functools import cache

import pytest
from rich.cells import cell_len
from rich.console import Console

from quiesce_check.build import Built, build_file
from quiesce_check.compile.unused import unused_steps
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import Options, Result
from quiesce_check.output.terminal import (
    render_coverage,
    render_stats,
    render_trace,
    unused_lines,
    where_text,
)
from quiesce_check.output.trace_table import Changes, Unit
from quiesce_check.trace.steps import rows
from tests.conftest import ROOT

S17 = str(ROOT / "models" / "s17_stop_processing_without_unmap.qdl")
SPIN = str(ROOT / "tests" / "trace" / "models" / "lasso_spin.qdl")


@cache
def searched(path: str) -> tuple[Built, Result]:
    built = build_file(path)
    return built, bfs(built.model, Options(keep_going=True, backend="python"), None)


def rendered(width: int, draw) -> list[str]:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    draw(Console(file=buffer, width=width, color_system=None, legacy_windows=False))
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


def expected_units(built: Built, result: Result, name: str) -> list[tuple[int, str]]:
    """(step, text) for every change of the trace, as the table must show it whole."""
    out = []
    for row in rows(built.model.info, result.traces[name]):
        for c in row.changes:
            out.append((row.index, f"{c.name}={c.after}" if row.index == 0 else f"{c.name}: {c.before}\u2192{c.after}"))
    return out


@pytest.mark.parametrize("width", [80, 200])
def test_every_change_of_a_xen_counterexample_appears_whole(width: int) -> None:
    built, result = searched(S17)
    trace = result.traces["image_consistent"]
    lines = rendered(width, lambda c: render_trace(c, built.model.info, trace, S17))
    assert all(cell_len(line) <= width for line in lines)
    assert not any("\u2026" in line for line in lines)
    text = "\n".join(lines)
    units = expected_units(built, result, "image_consistent")
    assert len(units) > 60   # the trace changes many variables: the test covers many values
    for _, unit in units:
        # a change is cut neither by an ellipsis nor by a line break: it stands on one line
        assert unit in text, unit
    # the file and line that tell xen.qdl, blk.qdl and the hook's spec apart, whole
    for row in rows(built.model.info, trace):
        if row.where:
            assert where_text(row.where, S17) in text
    assert "s15_handshake.qdl:26" in text and "blk.qdl:57" in text and "xen.qdl:467" in text


@pytest.mark.parametrize("width", [80, 200])
def test_the_heading_wraps_within_the_width(width: int) -> None:
    built, result = searched(S17)
    trace = result.traces["image_consistent"]
    lines = rendered(width, lambda c: render_trace(c, built.model.info, trace, S17))
    heading = " ".join(line for line in lines[:3] if line and "initial state" not in line and "┃" not in line)
    assert f"Counterexample (26 steps): {trace.message}" in heading
    assert all(cell_len(line) <= width for line in lines)


def test_steps_stay_in_order_at_80_columns() -> None:
    built, result = searched(S17)
    trace = result.traces["image_consistent"]
    lines = rendered(80, lambda c: render_trace(c, built.model.info, trace, S17))
    firsts = [line.split()[0] for line in lines if line[:3].strip().isdigit()]
    assert firsts == [str(k) for k in range(len(trace.steps) + 1)]
    # each change is shown after its own step's line and before the next step's
    starts = {int(line.split()[0]): k for k, line in enumerate(lines) if line[:3].strip().isdigit()}
    for step, unit in expected_units(built, result, "image_consistent"):
        end = starts.get(step + 1, len(lines))
        assert any(unit in line for line in lines[starts[step]:end]), (step, unit)


@pytest.mark.parametrize("width", [60, 80, 200])
def test_a_lasso_keeps_its_cycle_marks_at_any_width(width: int) -> None:
    built, result = searched(SPIN)
    trace = result.traces["done"]
    lines = rendered(width, lambda c: render_trace(c, built.model.info, trace, SPIN))
    text = "\n".join(lines)
    assert "\u250c starts" in text and "\u2514 back to 0" in text
    for _, unit in expected_units(built, result, "done"):
        assert unit in text
    assert all(cell_len(line) <= width for line in lines)


@pytest.mark.parametrize("width", [80, 200])
def test_coverage_never_cuts_a_file_name(width: int) -> None:
    built, result = searched(S17)
    unused = unused_steps(built.checked, built.program)
    lines = rendered(width, lambda c: render_coverage(c, built.model.info, result, S17, unused))
    assert not any("\u2026" in line for line in lines)
    text = "\n".join(lines)
    for a in built.model.info.actions:
        if a.index not in unused:
            assert where_text(f"{a.span.path}:{a.span.line}", S17) in text


def test_changes_break_between_changes_then_after_a_name() -> None:
    units = [Unit("a: 1\u21922", 3), Unit("shadow[0]: Unused\u2192Outstanding", 11), Unit("b: 0\u21921", 3)]
    changes = Changes(units)
    assert changes.lines(100) == ["a: 1\u21922, shadow[0]: Unused\u2192Outstanding, b: 0\u21921"]
    assert changes.lines(31) == ["a: 1\u21922,", "shadow[0]: Unused\u2192Outstanding,", "b: 0\u21921"]
    # narrower than a change: it breaks after the name, its value still whole
    assert changes.lines(20) == ["a: 1\u21922,", "shadow[0]:", "Unused\u2192Outstanding,", "b: 0\u21921"]
    assert changes.narrowest() == len("Unused\u2192Outstanding")


def test_the_summary_says_search_and_build_time_apart() -> None:
    built, result = searched(S17)
    result.stats.elapsed = 0.004
    lines = rendered(200, lambda c: render_stats(c, result, built.model.info, prepared=2.2))
    assert "0.004 s searching after 2.20 s building and compiling the model" in lines[0]
    assert "0.00 s," not in lines[0]


def test_unused_steps_are_listed_by_the_setting_that_rules_them_out() -> None:
    built = build_file(S17)
    lines = unused_lines(built.model.info, unused_steps(built.checked, built.program), S17)
    # xen.qdl's TargetFrontend: NetfrontDiscard's step at 510, ReuseRing's loops at 513-514,
    # XbInitComms's at 517-518; s17 passes RECOVERY=BlkifRecover
    recovery = next(line for line in lines if "RECOVERY" in line)
    assert recovery.split(" (")[0].endswith("not used with RECOVERY=BlkifRecover")
    assert all(f"{n}" in recovery for n in (510, 513, 514, 517, 518))
    # `cancel_migration()` starts with `await CANCEL`, and s17 leaves CANCEL false
    assert any(line.endswith("not used with CANCEL=false (xen.qdl:481)") for line in lines)


def test_a_constant_condition_is_said_as_such() -> None:
    # peterson_starvation.qdl's `idle: await false;` (line 47) in P[1] and P[2]: no parameter in it
    path = str(ROOT / "examples" / "peterson_starvation.qdl")
    built = build_file(path)
    lines = unused_lines(built.model.info, unused_steps(built.checked, built.program), path)
    assert lines == ["2 steps can never fire, a condition on constants rules them out (line 47)"]
