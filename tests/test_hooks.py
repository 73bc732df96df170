"""`quiesce-check hook`: a hook spec composed with a model, and the weight of each obligation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quiesce_check import hooks
from quiesce_check.cli import main
from quiesce_check.engines.result import Options
from quiesce_check.lang.errors import ModelError
from quiesce_check.regress import load_manifest
from tests.conftest import ROOT

ANDREW = str(ROOT / "specs" / "hooks" / "andrew_2014.qdl")
HANDSHAKE = str(ROOT / "specs" / "hooks" / "s15_handshake.qdl")
V2 = str(ROOT / "models" / "v2_blkfront_blkback.qdl")
ONE = {"NREQS": 1}
FAST = Options(keep_going=True, backend="python")


def run(spec: str, params: dict) -> tuple[hooks.Hook, hooks.Outcome, list[str]]:
    probe = hooks.build_composed(spec, V2, params)
    hook = hooks.hook_of(probe)
    select = hooks.all_properties(probe)
    on = {n: True for n in hook.obligations}
    built, result = hooks.check_with(spec, V2, params, on, select, FAST)
    return hook, hooks.summarise(built, result, frozenset(on)), select


def test_the_handshake_composed_with_blkback_is_scenario_s15() -> None:
    hook, full, select = run(HANDSHAKE, ONE)
    assert (hook.name, hook.at, hook.binds) == ("handshake", "after_suspend", ("Blkback", "Toolstack"))
    assert list(hook.obligations) == ["stop", "drain", "unmap_all", "ack", "wait_ack"]
    assert set(select) == {"image_consistent", "no_torn_page", "quiescent_after_suspend", "no_lost_completion",
                           "no_duplicate_execution"}
    assert full.keeps_all
    # the same composition as models/s15_quiesce_handshake.qdl: the same state graph
    (s15,) = [r for r in load_manifest(str(ROOT / "specs" / "regress.toml"))
              if r.name == "S15 quiesce handshake, blkif_recover"]
    assert full.states == s15.states


def test_every_obligation_of_the_handshake_is_needed() -> None:
    hook, full, select = run(HANDSHAKE, ONE)
    ab = hooks.ablate(HANDSHAKE, V2, ONE, hook, select, FAST, full, workers=2)
    assert ab.exhaustive and ab.minimal == [frozenset(hook.obligations)]
    for n in hook.obligations:
        assert ab.breaks_without(n), n
    # without the acknowledgement the toolstack waits for ever
    assert ab.without["ack"].problem == "deadlock"
    # without the stop, blkback goes on serving after the final CLEAN (S16); without the unmap, its
    # writes through the ring's mapping are never marked (S17); without the wait, the race of S19
    assert "quiescent_after_suspend" in ab.breaks_without("stop")
    assert ab.breaks_without("unmap_all") == ["image_consistent"]
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


def test_the_command_prints_the_ablation_and_writes_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "h.json"
    code = main(["hook", ANDREW, "--model", V2, "--param", "NREQS=1", "--ablate", "--backend", "python",
                 "--no-coverage", "--json", str(out), "--html", str(tmp_path / "h.html")])
    assert code == 12
    text = capsys.readouterr().out
    assert "Ablation: each obligation removed in turn" in text
    assert "Minimal sets of obligations that keep every property: none" in text
    assert "The hook needs something it does not list." in text
    doc = json.loads(out.read_text())
    assert doc["hook"]["name"] == "andrew_2014" and doc["ablation"]["minimal_sets"] == []
    assert 'id="ablation"' in (tmp_path / "h.html").read_text()


def test_an_obligation_can_be_switched_off(capsys) -> None:
    code = main(["hook", HANDSHAKE, "--model", V2, "--param", "NREQS=1", "--without", "wait_ack",
                 "--backend", "python", "--no-coverage"])
    assert code == 12
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
