"""The steps that cannot fire with a build's parameters (`compile.unused`).

What is expected comes from the models' text: branch_by_param.qdl says which of its steps run
with which MODE; the Xen vocabulary's target frontend has one branch per RECOVERY setting, whose
lines are read here from xen.qdl itself. Soundness is held by searching: a step said to be unable
to fire never fires.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quiesce_check.build import build_file
from quiesce_check.compile import ir as I
from quiesce_check.compile.unused import cannot_fire, fold, guarded_off, unused_steps
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import Options
from quiesce_check.lang.errors import Span
from tests.conftest import ROOT

BRANCH = str(Path(__file__).parent / "models" / "branch_by_param.qdl")
XEN = ROOT / "quiesce_check" / "domain" / "xen.qdl"
HANDSHAKE = str(ROOT / "models" / "s15_quiesce_handshake.qdl")
SETTINGS = ("NoRecovery", "BlkifRecover", "NetfrontDiscard", "ReuseRing", "XbInitComms")


def by_line(path: str, params: dict) -> dict[int, str]:  # type: ignore[type-arg]
    """The reason of each unused step of `path`, by the source line of its statement."""
    built = build_file(path, params)
    return {built.program.actions[k].span.line: why for k, why in unused_steps(built.checked, built.program).items()}


def test_a_branch_for_another_setting_is_not_used() -> None:
    # MODE=1: `x := 1` (line 9) by its guard, `x := 2` (line 10) because only line 9 leads there,
    # and the `x := 3` reached after them; the `x := 3` reached past the `if` runs
    built = build_file(BRANCH, {"MODE": 1})
    unused = unused_steps(built.checked, built.program)
    lines = sorted(built.program.actions[k].span.line for k in unused)
    assert lines == [9, 10, 12] and set(unused.values()) == {"MODE=1"}
    # MODE=2: only the `x := 3` reached by skipping the `if`
    built = build_file(BRANCH, {"MODE": 2})
    unused = unused_steps(built.checked, built.program)
    assert [built.program.actions[k].span.line for k in unused] == [12] and set(unused.values()) == {"MODE=2"}
    # Q's await reads the state: it is never ruled out, whatever LIMIT is
    assert 15 not in by_line(BRANCH, {"MODE": 1, "LIMIT": 2})


def recovery_branches() -> dict[str, range]:
    """The lines of each RECOVERY setting's branch of `default process TargetFrontend`."""
    lines = XEN.read_text().splitlines()
    top = next(k for k, line in enumerate(lines, 1) if line.startswith("default process TargetFrontend"))
    heads = []
    for k in range(top, len(lines) + 1):
        m = re.search(r"if RECOVERY == (\w+) \{", lines[k - 1])
        if m:
            heads.append((m.group(1), k))
        elif lines[k - 1] == "}":
            end = k
            break
    bounds = [k for _, k in heads] + [end - 1]
    return {name: range(start + 1, bounds[n + 1]) for n, (name, start) in enumerate(heads)}


@pytest.mark.parametrize("setting", SETTINGS)
def test_the_target_frontend_uses_only_its_settings_branch(setting: str) -> None:
    branches = recovery_branches()
    assert set(branches) == set(SETTINGS) - {"NoRecovery"}
    built = build_file(HANDSHAKE, {"RECOVERY": setting})
    unused = unused_steps(built.checked, built.program)
    frontend = [a for a in built.program.actions if a.process == "TargetFrontend"]
    for a in frontend:
        branch = next((name for name, lines in branches.items() if a.span.line in lines), None)
        if branch is None:
            continue
        if branch == setting:
            assert a.index not in unused, (setting, a.span.line)
        else:
            assert unused.get(a.index) == f"RECOVERY={setting}", (setting, a.span.line)


@pytest.mark.parametrize("setting", SETTINGS)
def test_a_step_said_unused_never_fires(setting: str) -> None:
    built = build_file(HANDSHAKE, {"RECOVERY": setting})
    result = bfs(built.model, Options(keep_going=True, max_states=200_000), None)
    fired = result.stats.fired
    assert cannot_fire(built.program)
    for k in cannot_fire(built.program):
        assert fired[k] == 0, built.program.actions[k].label
    # and at least one step of the setting's own frontend branch is reachable-and-usable
    used = [a for a in built.program.actions if a.process == "TargetFrontend" and a.index not in cannot_fire(
        built.program)]
    assert used


@pytest.mark.parametrize("path", [BRANCH, str(ROOT / "models" / "precopy_backend.qdl"),
                                  str(ROOT / "models" / "s17_stop_processing_without_unmap.qdl")])
def test_unused_steps_never_fire_in_other_models(path: str) -> None:
    built = build_file(path)
    result = bfs(built.model, Options(keep_going=True, max_states=200_000), None)
    for k in cannot_fire(built.program):
        assert result.stats.fired[k] == 0, built.program.actions[k].label


def test_folding_is_sure_or_says_nothing() -> None:
    one, two, x = I.Const(1), I.Const(2), I.Slot(0)
    assert fold(I.Bin("==", one, two)) == I.Const(False)
    assert fold(I.Un("not", I.Bin("<", one, two))) == I.Const(False)
    assert fold(I.Bin("and", I.Bin("==", one, two), x)) == I.Const(False)   # the short circuit skips x
    assert fold(I.Bin("or", I.Const(True), x)) == I.Const(True)
    assert fold(I.Bin("and", x, I.Const(False))) is None                    # x is read first
    assert fold(I.Bin("/", two, one)) is None                               # division may fail: not folded
    assert fold(I.Bin("=>", I.Const(False), x)) == I.Const(True)


def action(*body: I.Stmt) -> I.Action:
    return I.Action(0, "a", "P", "", Span("m.qdl", 1, 1, 1, 2), None, None, tuple(body), ())


def test_a_guard_that_may_fail_first_keeps_the_step() -> None:
    off = I.Guard(I.Const(False))
    assert guarded_off(action(I.Guard(I.Slot(0)), off))
    # an index checked before the false guard may fail: the step is then a model error, not skipped
    assert not guarded_off(action(I.Guard(I.Bin("==", I.Checked(I.Slot(0), 2, "a[i]"), I.Const(1))), off))
    assert not guarded_off(action(I.Assign((((0,), None),), (I.Const(1),), "x"), off))
