"""`quiesce-check hook`: a hook spec composed with a model, and the weight of each obligation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from quiesce_check import hooks
from quiesce_check.cli import main
from quiesce_check.engines.result import Options
from quiesce_check.lang.errors import ModelError
from quiesce_check.output.ablation import ablation_html, ablation_json, render_ablation
from quiesce_check.regress import load_manifest
from tests.conftest import ROOT

ANDREW = str(ROOT / "specs" / "hooks" / "andrew_2014.qdl")
HANDSHAKE = str(ROOT / "specs" / "hooks" / "s15_handshake.qdl")
EARLY = str(ROOT / "specs" / "hooks" / "s15_handshake_before_suspend.qdl")
V2 = str(ROOT / "models" / "v2_blkfront_blkback.qdl")
RUNNING = str(ROOT / "models" / "lib" / "running_guest.qdl")
LIVENESS = {"migration_completes", "backend_eventually_quiesces", "request_eventually_answered"}
ONE = {"NREQS": 1}
FAST = Options(keep_going=True, backend="python")


def run(spec: str, params: dict, model: str = V2, off: frozenset[str] = frozenset()
        ) -> tuple[hooks.Hook, hooks.Outcome, list[str]]:
    probe = hooks.build_composed(spec, model, params)
    hook = hooks.hook_of(probe)
    select = hooks.all_properties(probe)
    on = {n: n not in off for n in hook.obligations}
    built, result = hooks.check_with(spec, model, params, on, select, FAST)
    return hook, hooks.summarise(built, result, frozenset(n for n in on if on[n])), select


def test_the_handshake_composed_with_blkback_is_scenario_s15() -> None:
    hook, full, select = run(HANDSHAKE, ONE)
    assert (hook.name, hook.at, hook.binds) == ("handshake", "after_suspend", ("Blkback", "Toolstack"))
    assert list(hook.obligations) == ["stop", "drain", "unmap_all", "ack", "wait_ack"]
    assert set(select) == {"image_consistent", "no_torn_page", "quiescent_after_suspend", "no_lost_completion",
                           "no_duplicate_execution", "no_lost_watch_event", "grant_refs_valid"} | LIVENESS
    assert full.keeps_all and full.live == LIVENESS
    # the same composition as models/s15_quiesce_handshake.qdl: the same state graph
    (s15,) = [r for r in load_manifest(str(ROOT / "specs" / "regress.toml"))
              if r.name == "S15 quiesce handshake, blkif_recover"]
    assert full.states == s15.states


@pytest.mark.slow
def test_every_obligation_of_the_handshake_is_needed() -> None:
    hook, full, select = run(HANDSHAKE, ONE)
    ab = hooks.ablate(HANDSHAKE, V2, ONE, hook, select, FAST, full, workers=2)
    assert ab.exhaustive and ab.minimal == [frozenset(hook.obligations)]
    for n in hook.obligations:
        assert ab.breaks_without(n), n
    # without the acknowledgement the toolstack waits for ever: with the guest suspended every
    # process is blocked, so the deadlock check sees it, and so does migration_completes
    assert ab.without["ack"].problem == "deadlock"
    assert ab.without["ack"].statuses["migration_completes"] == "violated"
    # without the stop, blkback goes on serving after the final CLEAN (S16); without the unmap, its
    # writes through the ring's mapping are never marked (S17), and it holds the ring until the
    # source is destroyed: it never quiesces; without the wait, the race of S19
    assert "quiescent_after_suspend" in ab.breaks_without("stop")
    assert ab.breaks_without("unmap_all") == ["image_consistent", "backend_eventually_quiesces"]
    assert "quiescent_after_suspend" in ab.breaks_without("wait_ack")


def test_andrews_two_obligations_are_not_enough() -> None:
    hook, full, select = run(ANDREW, ONE)
    assert list(hook.obligations) == ["unmap_all", "stop_processing"]
    assert not full.keeps_all and "image_consistent" in full.broken()
    ab = hooks.ablate(ANDREW, V2, ONE, hook, select, FAST, full, workers=1)
    assert ab.minimal == []  # no set of them keeps every property


def test_andrews_obligations_called_and_waited_for_still_miss_the_request_in_flight() -> None:
    called = str(ROOT / "specs" / "hooks" / "andrew_2014_called.qdl")
    hook, full, select = run(called, ONE)
    assert not full.keeps_all
    # the shortest failure is a write after the final CLEAN: the in-flight request's DMA
    shortest = min(full.lengths, key=lambda p: (full.lengths[p], p))
    assert shortest == "quiescent_after_suspend" and "after the final CLEAN" in full.why[shortest]
    ab = hooks.ablate(called, V2, ONE, hook, select, FAST, full, workers=1)
    assert ab.minimal == []


def test_a_missing_ack_with_the_guest_running_is_a_liveness_failure_and_no_deadlock() -> None:
    # the handshake asked for before the suspend, composed with a guest whose vCPU keeps running:
    # without the acknowledgement the toolstack waits for ever to suspend the guest
    hook, out, _ = run(EARLY, {}, RUNNING, off=frozenset({"ack"}))
    assert hook.at == "before_suspend"
    assert out.problem is None  # the vCPU always has a step: no deadlock
    assert out.statuses["migration_completes"] == "violated"
    assert "waits for ever to suspend the guest" in out.why["migration_completes"]
    # by hand: log-dirty on, pass 0 (4 words of the ring, 2 of the data page), the CLEAN pass,
    # then the hook's five steps (await, stop, drain, unmap, the acknowledgement it does not give):
    # 13 steps; the vCPU then flips its bit twice, a cycle of 2 back to the same state
    assert (out.lengths["migration_completes"], out.loops["migration_completes"]) == (15, 13)
    # the guest is never suspended: no safety property is violated, they are vacuous
    assert {p: s for p, s in out.statuses.items() if p not in LIVENESS} == {
        p: "vacuous" for p in ("image_consistent", "no_torn_page", "quiescent_after_suspend", "no_lost_completion",
                               "no_duplicate_execution", "no_lost_watch_event", "grant_refs_valid")}


@pytest.mark.slow
def test_ablating_the_early_handshake_shows_the_ack_needed_for_liveness_alone() -> None:
    hook, full, select = run(EARLY, {}, RUNNING)
    assert full.keeps_all
    ab = hooks.ablate(EARLY, RUNNING, {}, hook, select, FAST, full, workers=2)
    assert ab.minimal == [frozenset(hook.obligations)]
    without = ab.without["ack"]
    assert without.problem is None and "migration_completes" in ab.breaks_without("ack")
    assert not [p for p in ab.breaks_without("ack") if p not in without.live and "(vacuous)" not in p]


def test_the_ablation_table_puts_liveness_beside_safety() -> None:
    # a hand-made ablation: without `ack` only a liveness property breaks, by a lasso
    full = hooks.Outcome(frozenset({"ack", "unmap"}), {"image_consistent": "holds", "migration_completes": "holds"},
                         {}, {}, live=frozenset({"migration_completes"}))
    no_ack = hooks.Outcome(frozenset({"unmap"}), {"image_consistent": "holds", "migration_completes": "violated"},
                           {"migration_completes": 15}, {"migration_completes": "The target is never resumed."},
                           live=frozenset({"migration_completes"}), loops={"migration_completes": 13})
    no_unmap = hooks.Outcome(frozenset({"ack"}), {"image_consistent": "violated", "migration_completes": "holds"},
                             {"image_consistent": 17}, {"image_consistent": "Word 1 of page 0."},
                             live=frozenset({"migration_completes"}))
    hook = hooks.Hook("h", "x", "after_suspend", ("Blkback",), {"ack": "acknowledge", "unmap": "unmap"})
    ab = hooks.Ablation(full, {"ack": no_ack, "unmap": no_unmap}, [frozenset({"ack", "unmap"})])
    console = Console(record=True, width=200)
    render_ablation(console, hook, ab)
    text = console.export_text()
    rows = {line.split("│")[0].strip(): [c.strip() for c in line.split("│")[1:]]
            for line in text.splitlines() if "│" in line}
    assert rows["ack"] == ["-", "migration_completes", "13 steps, then a cycle of 2 steps", "The target is never resumed."]
    assert rows["unmap"] == ["image_consistent", "-", "17", "Word 1 of page 0."]
    assert "Every obligation is needed." in text
    doc = ablation_json(ab)
    assert doc["without"]["ack"]["loops"] == {"migration_completes": 13}
    assert doc["breaks_without"]["ack"] == ["migration_completes"]
    html = ablation_html(hook, ab)
    assert "<th>liveness violated</th>" in html and "13 steps, then a cycle of 2 steps" in html


def test_the_command_prints_the_ablation_and_writes_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "h.json"
    code = main(["hook", ANDREW, "--model", V2, "--param", "NREQS=1", "--ablate", "--backend", "python",
                 "--no-coverage", "--json", str(out), "--html", str(tmp_path / "h.html")])
    # the shortest counterexample is a lasso: the toolstack does not wait for the hook, so it
    # can destroy the source before blkback has quiesced
    assert code == 13
    text = capsys.readouterr().out
    assert "Ablation: each obligation removed in turn" in text
    assert "Minimal sets of obligations that keep every property: none" in text
    assert "The hook needs something it does not list." in text
    assert "liveness then violated" in text
    doc = json.loads(out.read_text())
    assert doc["hook"]["name"] == "andrew_2014" and doc["ablation"]["minimal_sets"] == []
    assert set(doc["ablation"]["full"]["liveness"]) == LIVENESS
    assert 'id="ablation"' in (tmp_path / "h.html").read_text()


def test_an_obligation_can_be_switched_off(capsys) -> None:
    code = main(["hook", HANDSHAKE, "--model", V2, "--param", "NREQS=1", "--without", "wait_ack",
                 "--backend", "python", "--no-coverage"])
    assert code == 13  # as S19: the source can be destroyed before blkback quiesces, the shortest failure
    assert "obligation wait_ack (off)" in capsys.readouterr().out
    assert main(["hook", HANDSHAKE, "--model", V2, "--without", "nonesuch"]) == 151


@pytest.mark.parametrize(("spec", "code"), [
    ('hook h: "x" at nowhere binds Blkback;\n', "E011"),
    ('hook h: "x" at after_suspend binds Nobody;\n', "E011"),
    ('hook h: "x" at may_suspend binds Blkback;\nhook g: "y" at may_suspend binds Blkback;\n', "E010"),
    ('obligation o: "x";\nobligation o: "y";\n', "E010"),
])
def test_a_bad_spec_is_refused(tmp_path: Path, spec: str, code: str) -> None:
    p = tmp_path / "spec.qdl"
    p.write_text(spec)
    with pytest.raises(ModelError) as e:
        hooks.build_composed(str(p), V2, ONE)
    assert code in [d.code for d in e.value.diagnostics]


def test_a_spec_without_a_hook_declaration(tmp_path: Path, capsys) -> None:
    p = tmp_path / "spec.qdl"
    p.write_text('obligation o: "x";\n')
    assert main(["hook", str(p), "--model", V2]) == 150
    assert "declares no `hook`" in capsys.readouterr().err


HOOKED_MODEL = """
var go: bool = false;
var done: bool = false;
var y: 0..2 = 0;
process Backend { await go; y := 1; done := true; }
fair process Backend;
optional liveness finishes: eventually done;
always step bad: y' == y;
terminal t: done;
"""
KICK_SPEC = """
def at_start = true;
hook h: "kick the backend" at at_start binds Backend;
obligation kick: "the hook sets go";
process Hook { if kick { go := true; } }
fair process Hook;
"""


def test_a_hook_checks_the_models_step_properties(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the hook sets go, Backend passes its await, then y := 1 breaks `y' == y`: three steps
    (tmp_path / "m.qdl").write_text(HOOKED_MODEL)
    (tmp_path / "s.qdl").write_text(KICK_SPEC)
    assert main(["hook", str(tmp_path / "s.qdl"), "--model", str(tmp_path / "m.qdl")]) == 12
    out = capsys.readouterr().out
    assert "step property `bad`" in out and "Counterexample (3 steps)" in out
