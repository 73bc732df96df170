"""The command line with --engine bmc and --engine induction: exit codes, output, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quiesce_check.compile import z3gen
from tests.cli.test_cli import check_json, model, run

Z3_MODELS = Path(__file__).resolve().parents[1] / "z3" / "models"


@pytest.mark.parametrize("engine", ["bmc", "induction"])
@pytest.mark.parametrize(("name", "extra", "code", "verdict"), [
    ("counter.qdl", [], 0, "holds"),
    ("interleave.qdl", [], 0, "holds"),
    ("deadlock.qdl", [], 11, "deadlock"),
    ("deadlock.qdl", ["--no-deadlock"], 0, "holds"),
    ("invariant.qdl", [], 12, "violated"),
    ("assert.qdl", [], 14, "assertion failed"),
    ("out_of_range.qdl", [], 75, "model error"),
    ("div_zero.qdl", [], 75, "model error"),
    ("vacuous.qdl", [], 21, "vacuous"),
    ("counter.qdl", ["--param", "N=10", "--depth", "3"], 20, "incomplete"),
])
def test_exit_codes(capsys, tmp_path, engine, name, extra, code, verdict):
    if engine == "induction" and verdict == "incomplete":
        # induction proves the counter with k = 0; a property it cannot prove at this depth:
        name, extra = str(Z3_MODELS / "lemma_needed.qdl"), ["--depth", "3"]
    r, doc = check_json(capsys, tmp_path, name, "--engine", engine, *extra)
    assert r.code == code, r.text
    assert doc["exit_code"] == code and doc["verdict"] == verdict
    assert doc["engine"] == engine and doc["backend"] == "z3"
    assert f"Verdict: {verdict} (exit {code})" in r.out


def test_json_says_how_each_result_was_established(capsys, tmp_path):
    r, doc = check_json(capsys, tmp_path, "counter.qdl", "--engine", "bmc", "--param", "N=10", "--depth", "3")
    assert doc["limit"] == "--depth 3" and doc["complete"] is False
    sym = doc["symbolic"]
    assert sym["depth"] == 3 and sym["encoding"] == "bv" and sym["queries"] > 0
    assert sym["first_step"] == {"inc": 1} and sym["never"] == [] and sym["cti"] is None
    assert doc["properties"] == [{"kind": "deadlock", "name": "no deadlock", "status": "incomplete",
                                  "detail": "no violation within 3 steps"}]
    r, doc = check_json(capsys, tmp_path, "counter.qdl", "--engine", "bmc")
    assert doc["complete"] is True and doc["symbolic"]["complete_at"] == 3
    assert "complete: no loop-free behaviour is longer than 3 steps" in r.out


def test_counterexample_to_induction(capsys, tmp_path):
    out = tmp_path / "r.json"
    itf = tmp_path / "t.itf.json"
    r = run(capsys, "check", Z3_MODELS / "lemma_needed.qdl", "--engine", "induction", "--depth", "4",
            "--json", out, "--itf", itf)
    assert r.code == 20
    assert "Counterexample to induction (4 steps from a state not known to be reachable)" in r.out
    assert "Not a violation" in r.out and "Verdict: incomplete (exit 20)" in r.out
    assert not itf.exists() and "not written" in r.err
    doc = json.loads(out.read_text())
    assert doc["trace"] is None and doc["symbolic"]["cti"]["length"] == 4
    # the claim that is not inductive is named; its first state is shown whole
    assert "Not inductive even with every other property and lemma still standing assumed: below_top." in r.out
    assert doc["symbolic"]["not_inductive"] == ["below_top"]
    assert [c["name"] for c in doc["symbolic"]["cti"]["steps"][0]["changes"]] == ["x"]


def test_bmc_trace_replays(capsys, tmp_path):
    itf = tmp_path / "t.itf.json"
    r = run(capsys, "check", model("race.qdl"), "--engine", "bmc", "--itf", itf)
    assert r.code == 12
    r = run(capsys, "replay", itf, model("race.qdl"))
    assert r.code == 12 and "all 6 steps replay" in r.out


def test_continue_with_bmc(capsys, tmp_path):
    r, doc = check_json(capsys, tmp_path, "race.qdl", "--engine", "bmc", "--continue")
    assert r.code == 12 and set(doc["traces"]) == {"not_both"}


@pytest.mark.parametrize(("argv", "says"), [
    (["--engine", "bfs", "--depth", "3"], "--depth is the bound of --engine bmc and induction"),
    (["--engine", "bmc", "--max-depth", "3"], "--engine bmc takes --depth K"),
    (["--engine", "induction", "--max-states", "3"], "--engine induction takes --depth K"),
    (["--engine", "induction", "--continue"], "--continue needs --engine bfs or bmc"),
    (["--engine", "bmc", "--encoding", "float"], "invalid choice"),
])
def test_options_that_do_not_apply(capsys, argv, says):
    r = run(capsys, "check", model("counter.qdl"), *argv)
    assert r.code == 151 and says in r.err


def test_a_model_too_large_to_encode(capsys, tmp_path):
    path = tmp_path / "wide.qdl"
    path.write_text("var x: 0..255 = 0;\naction a(p in 0..255, q in 0..255) { x := p; }\n")
    r = run(capsys, "check", path, "--engine", "bmc")
    assert r.code == 151 and "more than" in r.err and "--engine bmc" in r.err


def test_a_solver_path_that_does_not_replay_is_an_internal_error(capsys, monkeypatch):
    real = z3gen.Encoding.state

    def wrong(self, m, k, family="s"):
        s = real(self, m, k, family)
        return s if k == 0 else tuple(0 if type(v) is int else v for v in s)

    monkeypatch.setattr(z3gen.Encoding, "state", wrong)
    r = run(capsys, "check", model("invariant.qdl"), "--engine", "bmc")
    assert r.code == 153 and "internal error: SymbolicMismatch" in r.err
