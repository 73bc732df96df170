"""`replay` of lassos (liveness counterexamples) and of step-property counterexamples.

A lasso replays when every step is a step of the model, the cycle closes, the cycle is fair
under the model's fairness and the property fails on it (exit 13); an action counterexample
when its last step breaks the step property (exit 12). Anything else is exit 22 with the
reason. Every verdict below is worked out by hand from the model's text (tests/trace/models),
in the comment beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.trace.test_replay import Run, counterexample, record, run, write_doc

MODELS = Path(__file__).parent / "models"
RING = MODELS / "lasso_ring.qdl"
SPIN = MODELS / "lasso_spin.qdl"
WAIT = MODELS / "lasso_wait.qdl"
SKIP = MODELS / "lasso_skip.qdl"
STEP = MODELS / "step_only_p.qdl"


def ring(xs: list[int], loop: int, prop: str | None = None, loop_step: str | None = None) -> dict[str, Any]:
    """An ITF lasso of lasso_ring.qdl (its one variable is x; no process, no program counter)."""
    doc: dict[str, Any] = {"vars": ["x"], "states": [{"x": {"#bigint": str(x)}} for x in xs], "loop": loop}
    meta: dict[str, Any] = {}
    if prop is not None:
        meta["violation"] = {"kind": "liveness", "property": prop, "message": ""}
    if loop_step is not None:
        meta["loop_step"] = {"action": loop_step}
    if meta:
        doc["#meta"] = meta
    return doc


def replay_doc(capsys: pytest.CaptureFixture[str], tmp_path: Path, doc: Any, model: Path) -> Run:
    return run(capsys, "replay", write_doc(tmp_path, doc), model)


def variant(tmp_path: Path, model: Path, *lines: str) -> Path:
    """The model with fairness declarations added."""
    p = tmp_path / f"{model.stem}_{len(list(tmp_path.glob('*.qdl')))}.qdl"
    p.write_text(model.read_text() + "".join(line + "\n" for line in lines))
    return p


# ------------------------------------------------------------ properties on hand-written lassos

@pytest.mark.parametrize(("xs", "loop", "loop_step", "prop", "code", "words"), [
    # x: 0 1 2, then reset to 0 and again: x is never 3, never stays 0, 2 comes again and again
    ([0, 1, 2], 0, None, "reaches3", 13, "never holds"),
    ([0, 1, 2], 0, None, "often2", 22, "holds at state 2, on the cycle"),
    ([0, 1, 2], 0, None, "settles0", 13, "false at state 1, on the cycle"),
    ([0, 1, 2], 0, None, "answered", 13, "becomes pending at state 1"),
    ([0, 1, 2], 0, None, "visits", 13, "(v = 3)"),              # v = 1 and v = 2 are visited
    # x: 0 1 2 3, then 0 again: 3 comes, and after every 1 a 3 comes
    ([0, 1, 2, 3], 0, None, "reaches3", 22, "holds at state 3"),
    ([0, 1, 2, 3], 0, None, "answered", 22, "target holds at state 3, on the cycle"),
    # x: 0 1 2 3 0, then reset from 0 to 0 for ever (a real step): 0 for good, 2 never again
    ([0, 1, 2, 3, 0], 4, "reset", "settles0", 22, "holds at every state of the cycle"),
    ([0, 1, 2, 3, 0], 4, "reset", "often2", 13, "stops holding for good"),
    ([0, 1, 2, 3, 0], 4, "reset", "answered", 22, "no state after state 3, where its target holds"),
    # the same states with no closing step: the behaviour stutters at 0, with the same verdicts
    ([0, 1, 2, 3, 0], 4, None, "settles0", 22, "holds at every state of the cycle"),
    ([0, 1, 2, 3, 0], 4, None, "often2", 13, "the behaviour stutters for ever"),
    # x: 0 1 2 3 0 1, then back to 0: the 3 at state 3 answers the 1 at state 1, not the one at 5
    ([0, 1, 2, 3, 0, 1], 4, None, "answered", 13, "becomes pending at state 5"),
    # x: 0 1, and it stays 1 for ever (nothing is fair)
    ([0, 1], 1, None, "answered", 13, "becomes pending at state 1"),
    ([0, 1], 1, None, "settles0", 13, "false at state 1"),
    ([0, 1], 1, None, "visits", 13, "(v = 2)"),
])
def test_each_kind_of_property_on_a_lasso(capsys, tmp_path, xs, loop, loop_step, prop, code, words):
    r = replay_doc(capsys, tmp_path, ring(xs, loop, prop, loop_step), RING)
    assert r.code == code, r.out + r.err
    assert words in (r.out if code == 13 else r.err)
    if code == 13:
        assert "the cycle closes and is fair" in r.out
    else:
        assert f"but liveness `{prop}" in r.err and "holds on this lasso" in r.err


def test_a_lasso_that_records_no_violation_shows_the_first_property_it_breaks(capsys, tmp_path):
    r = replay_doc(capsys, tmp_path, ring([0, 1, 2], 0), RING)
    assert r.code == 13
    assert "liveness `reaches3`" in r.out  # the first declared, and x never is 3


def test_the_rebuilt_trace_of_a_cycle_and_of_a_stutter(capsys, tmp_path):
    # a cycle: the state it closes on is shown again, after the closing step (reset, 2 -> 0)
    r = replay_doc(capsys, tmp_path, ring([0, 1, 2], 0, "reaches3"), RING)
    table = counterexample(r.out)
    assert table[0].startswith("Counterexample (0 steps, then a cycle of 3 steps)")
    assert [line.split()[0] for line in table[3:]] == ["0", "1", "2", "3"]
    assert "reset" in table[-1] and "x: 2→0" in table[-1] and "back to 0" in table[-1]
    # a stutter: no step after the last state
    r = replay_doc(capsys, tmp_path, ring([0, 1], 1, "answered"), RING)
    table = counterexample(r.out)
    assert table[0].startswith("Counterexample (1 step, then stuttering)")
    assert len(table) == 3 + 2 and "for ever" in table[-1]


def test_a_property_the_model_does_not_have(capsys, tmp_path):
    r = replay_doc(capsys, tmp_path, ring([0, 1, 2], 0, "nothere"), RING)
    assert r.code == 22 and "the model has no liveness property `nothere`" in r.err


# ---------------------------------------------------------------- lassos check writes

@pytest.mark.parametrize(("model", "lines"), [
    (SPIN, []),                                     # A fair, goes round; B never obliged to move
    (SKIP, []),                                     # P's skip closes a cycle of one step
    (WAIT, []),                                     # nothing fair: stops at once
    (WAIT, ["fair process A;"]),                    # A flips x for ever; B is not obliged
    (WAIT, ["fair process A;", "fair process B;"]),  # B is enabled only at x = 1: weakly, not obliged
    (RING, []),
])
def test_what_check_writes_replays(capsys, tmp_path, model, lines):
    model = variant(tmp_path, model, *lines)
    checked, itf = record(capsys, tmp_path, model)
    assert checked.code == 13
    replayed = run(capsys, "replay", itf, model)
    assert replayed.code == 13, replayed.err
    # the same rows (the first line says why, in the words of each)
    assert counterexample(replayed.out)[1:] == counterexample(checked.out)[1:]


def test_a_step_property_counterexample_replays(capsys, tmp_path):
    checked, itf = record(capsys, tmp_path, STEP)
    assert checked.code == 12
    replayed = run(capsys, "replay", itf, STEP)
    assert replayed.code == 12
    assert "step property `only_p`" in replayed.out
    assert counterexample(replayed.out) == counterexample(checked.out)
    # cut after P's two steps (x: 0, 1, 2): no step so far breaks only_p
    doc = json.loads(itf.read_text())
    doc["states"] = doc["states"][:3]
    r = replay_doc(capsys, tmp_path, doc, STEP)
    assert r.code == 22 and "ends in no violation, not in the recorded action only_p" in r.err


# ------------------------------------------------------------------------ unfair cycles

def test_a_cycle_that_leaves_a_weakly_fair_process_enabled_is_not_fair(capsys, tmp_path):
    _, itf = record(capsys, tmp_path, SPIN)
    # with B fair: B (y := 1) is enabled at every state of A's cycle and never moves
    r = run(capsys, "replay", itf, variant(tmp_path, SPIN, "fair process B;"))
    assert r.code == 22
    assert "the cycle is not fair: process B is enabled throughout it and never moves" in r.err
    assert "weak fairness of process B" in r.err
    # fairness of the system: A's steps are the system's, so the cycle is fair
    assert run(capsys, "replay", itf, variant(tmp_path, SPIN, "fair system;")).code == 13


def test_a_cycle_that_enables_a_strongly_fair_process_again_and_again_is_not_fair(capsys, tmp_path):
    _, itf = record(capsys, tmp_path, variant(tmp_path, WAIT, "fair process A;"))
    # x flips 0, 1, 0: B (await x == 1) is enabled at state 1 of the cycle, and never moves
    r = run(capsys, "replay", itf, variant(tmp_path, WAIT, "fair process A;", "strong fair process B;"))
    assert r.code == 22
    assert "the cycle is not fair: process B is enabled at state 1 of it, again and again" in r.err
    assert "strong fairness of process B" in r.err


def test_a_stutter_is_fair_only_where_nothing_fair_is_enabled(capsys, tmp_path):
    _, itf = record(capsys, tmp_path, WAIT)
    assert json.loads(itf.read_text())["loop"] == 0  # it stops in the initial state
    # A can flip x there: with A fair the behaviour may not stop
    r = run(capsys, "replay", itf, variant(tmp_path, WAIT, "fair process A;"))
    assert r.code == 22
    assert "may not stay in state 0 for ever: process A is enabled there" in r.err
    # B waits for x == 1, and x is 0 there: fair, weakly or strongly, B need not move
    assert run(capsys, "replay", itf, variant(tmp_path, WAIT, "fair process B;")).code == 13
    assert run(capsys, "replay", itf, variant(tmp_path, WAIT, "strong fair process B;")).code == 13


def test_a_self_loop_step_is_not_a_stutter(capsys, tmp_path):
    _, itf = record(capsys, tmp_path, SKIP)
    doc = json.loads(itf.read_text())
    assert doc["loop"] == 0 and len(doc["states"]) == 1 and doc["#meta"]["loop_step"]["action"].startswith("P.")
    # without the closing step the last state goes on to itself by stuttering: P (fair) is
    # enabled there and does not move
    del doc["#meta"]["loop_step"]
    r = replay_doc(capsys, tmp_path, doc, SKIP)
    assert r.code == 22 and "may not stay in state 0 for ever: process P is enabled there" in r.err


# ------------------------------------------------------------------------ tampered lassos

@pytest.fixture
def spin(capsys, tmp_path) -> dict[str, Any]:
    _, itf = record(capsys, tmp_path, SPIN)
    doc = json.loads(itf.read_text())
    assert [s["x"]["#bigint"] for s in doc["states"]] == ["0", "1", "2"] and doc["loop"] == 0
    return doc


def test_a_cycle_that_does_not_close(capsys, tmp_path, spin):
    spin["loop"] = 1  # from x = 2, A goes to 0, not back to x = 1
    r = replay_doc(capsys, tmp_path, spin, SPIN)
    assert r.code == 22
    assert "the cycle does not close: step 3, the last, cannot go from state 2 back to state 1" in r.err
    assert "x is 0, the trace says 1" in r.err


def test_a_property_that_holds_on_the_lasso(capsys, tmp_path, spin):
    spin["#meta"]["violation"]["property"] = "moves"  # x is 2 at state 2, on the cycle
    r = replay_doc(capsys, tmp_path, spin, SPIN)
    assert r.code == 22
    assert "liveness `moves` holds on this lasso: its predicate holds at state 2, on the cycle" in r.err


def test_a_liveness_violation_without_a_loop(capsys, tmp_path, spin):
    del spin["loop"]
    r = replay_doc(capsys, tmp_path, spin, SPIN)
    assert r.code == 22 and "a liveness violation is a lasso, and the trace has no `loop`" in r.err


def test_a_file_that_writes_the_state_it_closes_on_twice(capsys, tmp_path, spin):
    # as some tools do: x 0, 1, 2, 0 with loop 0 and no closing step recorded is the same lasso
    del spin["#meta"]["loop_step"]
    spin["states"].append(dict(spin["states"][0]))
    r = replay_doc(capsys, tmp_path, spin, SPIN)
    assert r.code == 13
    assert counterexample(r.out)[0].startswith("Counterexample (0 steps, then a cycle of 3 steps)")


@pytest.mark.parametrize("loop", [3, -1, True, "0", 0.5, [0]])
def test_a_loop_that_is_not_a_state_index(capsys, tmp_path, spin, loop):
    spin["loop"] = loop
    r = replay_doc(capsys, tmp_path, spin, SPIN)
    assert r.code == 151
    assert "`loop` must be the index of one of the trace's 3 states" in r.err
