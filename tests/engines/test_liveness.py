"""Liveness and step properties in the explicit search: semantics pinned on models small
enough to work out by hand, the reference interpreter held to the compiled model, refusals.

Every expected lasso below is derived in the comment above it from the model's states."""

from __future__ import annotations

from pathlib import Path

import pytest

from quiesce_check.build import build_text
from quiesce_check.cli import main
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.common import Clock
from quiesce_check.engines.liveness import check_liveness, explore
from quiesce_check.engines.result import Options, Status, Verdict
from quiesce_check.reference.interp import ReferenceModel
from quiesce_check.trace.types import Trace

# Toggler flips x for ever; Taker waits for x == 1 once, then sets done. States: (x, done, Taker's
# position). Toggler is always enabled; Taker is enabled exactly where x == 1 and it has not
# moved. So in the cycle x = 0 -> 1 -> 0 Taker is enabled at one state of two.
TOGGLE = """
var x: 0..1 = 0;
var done: bool = false;
process Toggler { while true { x := 1 - x; } }
process Taker { atomic { await x == 1; done := true; } }
"""


def check(text: str, **opts: object) -> tuple[dict[str, Status], dict[str, Trace], Verdict]:
    r = bfs(build_text(text, "m.qdl").model, Options(backend="python", **opts))  # type: ignore[arg-type]
    return {p.name: p.status for p in r.properties}, r.traces, r.verdict


def shape(t: Trace) -> tuple[int, int]:
    """A lasso as (prefix steps, cycle steps): (k, 0) stutters for ever after k steps."""
    assert t.loop is not None and t.kind == "liveness"
    return t.loop, len(t.steps) - t.loop


def test_without_fairness_any_state_may_stutter_for_ever() -> None:
    # x == 0 at the start: stuttering there for ever never sets done
    status, traces, verdict = check(TOGGLE + "liveness finishes: eventually done;")
    assert status["finishes"] is Status.VIOLATED and verdict is Verdict.LIVENESS
    assert shape(traces["finishes"]) == (0, 0)


def test_weak_fairness_is_not_enough_for_a_step_enabled_only_now_and_then() -> None:
    # both weakly fair: Toggler must keep moving; Taker is disabled at every x == 0 state of the
    # cycle 0 -> 1 -> 0, so weak fairness lets it wait for ever: no prefix, a cycle of 2
    status, traces, _ = check(TOGGLE + "fair process Toggler; fair process Taker;\nliveness finishes: eventually done;")
    assert status["finishes"] is Status.VIOLATED
    assert shape(traces["finishes"]) == (0, 2)
    assert [s[0] for s in traces["finishes"].states] == [0, 1, 0]


def test_strong_fairness_takes_a_step_enabled_again_and_again() -> None:
    status, _, verdict = check(TOGGLE + "fair process Toggler; strong fair process Taker;\n"
                               "liveness finishes: eventually done;")
    assert status["finishes"] is Status.HOLDS and verdict is Verdict.HOLDS


def test_leads_to_becomes_pending_then_fails_on_a_cycle() -> None:
    # x == 1 ~> done under weak fairness: one step to x == 1 (pending), then 1 -> 0 -> 1 for ever
    status, traces, _ = check(TOGGLE + "fair process Toggler; fair process Taker;\n"
                              "liveness answered: x == 1 ~> done;")
    assert status["answered"] is Status.VIOLATED
    assert shape(traces["answered"]) == (1, 2)
    t = traces["answered"]
    assert t.states[-1] == t.states[t.loop]


def test_always_eventually_and_eventually_always() -> None:
    text = TOGGLE + "fair process Toggler;\nliveness again: always eventually x == 1;\n" \
        "liveness settles: eventually always x == 1;"
    status, traces, _ = check(text)
    # Toggler is weakly fair and always enabled: x is 1 again and again, never for good
    assert status["again"] is Status.HOLDS
    assert status["settles"] is Status.VIOLATED
    # the cycle must pass through x == 0: from the start, 0 -> 1 -> 0
    assert shape(traces["settles"]) == (0, 2)


def test_fair_system_forbids_stuttering_while_a_step_is_enabled() -> None:
    # with all steps weakly fair together, the behaviour must move while anything can: Toggler
    # can always, so x keeps changing, but nothing forces Taker
    status, traces, _ = check(TOGGLE + "fair system;\nliveness again: always eventually x == 1;\n"
                              "liveness finishes: eventually done;")
    assert status["again"] is Status.HOLDS
    assert status["finishes"] is Status.VIOLATED and shape(traces["finishes"]) == (0, 2)


def test_a_state_without_successors_repeats_for_ever() -> None:
    # the process ends after one step: the end state stutters, and fairness cannot help
    text = """
var x: 0..2 = 0;
process P { x := 1; }
fair process P;
liveness two: eventually x == 2;
liveness one: eventually x == 1;
"""
    status, traces, _ = check(text, check_deadlock=False)
    assert status["one"] is Status.HOLDS
    assert status["two"] is Status.VIOLATED and shape(traces["two"]) == (1, 0)


def test_a_parameterised_property_reports_its_first_broken_instance() -> None:
    # x counts 0, 1, 2 and P leaves its loop (a step of its own): "eventually x == i" holds for i
    # in 0..2 and not for 3; P is fair and enabled until it ends, so the lasso is its three steps,
    # then the end state stutters
    text = """
var x: 0..3 = 0;
process P { while x < 2 { x := x + 1; } }
fair process P;
liveness reaches(i in 0..3): eventually x == i;
"""
    status, traces, _ = check(text, check_deadlock=False)
    assert status["reaches"] is Status.VIOLATED
    assert "(i = 3)" in traces["reaches"].message
    assert shape(traces["reaches"]) == (3, 0)


def test_fairness_of_one_instance_and_of_a_label() -> None:
    # W[i] flips its own flag for ever. Only W[1] is fair: W[0] may never move.
    text = """
var f: array[0..1] of bool = [false, false];
process W[i in 0..1] { while true { set: f[i] := not f[i]; } }
fair process W[1];
liveness one: eventually f[1];
liveness zero: eventually f[0];
"""
    status, _, _ = check(text)
    assert status["one"] is Status.HOLDS and status["zero"] is Status.VIOLATED
    # the label W.set covers both instances together: W[0] flipping for ever takes it again and
    # again, and W[1] never moves
    status, traces, _ = check(text.replace("fair process W[1];", "fair action W.set;"))
    assert status["one"] is Status.VIOLATED and status["zero"] is Status.VIOLATED
    assert shape(traces["one"]) == (0, 2)
    # each instance on its own
    status, _, _ = check(text.replace("fair process W[1];", "fair process W;"))
    assert status["one"] is Status.HOLDS and status["zero"] is Status.HOLDS


def test_a_fair_plain_action_with_parameters_is_fair_as_a_whole() -> None:
    text = """
var y: 0..2 = 0;
action bump(k in 1..2) when y == 0 { y := k; }
fair action bump;
liveness moves: eventually y != 0;
liveness two: eventually y == 2;
"""
    status, _, _ = check(text, check_deadlock=False)
    assert status["moves"] is Status.HOLDS and status["two"] is Status.VIOLATED


# ---------------------------------------------------------------- step properties

STEPS = """
var x: 0..3 = 0;
var y: 0..3 = 0;
process A { x := 1; x := 2; }
process B { y := 1; }
"""


def test_a_step_property_is_checked_on_every_step_and_its_trace_ends_after_the_step() -> None:
    # only A changes x, and only upwards: holds; "y never changes" fails on B's first step
    status, traces, verdict = check(STEPS + "always step up: x' >= x;\nalways step only_a: x' != x => by(A);\n"
                                    "always step still: y' == y;", check_deadlock=False, keep_going=True)
    assert status["up"] is Status.HOLDS and status["only_a"] is Status.HOLDS
    assert status["still"] is Status.VIOLATED and verdict is Verdict.VIOLATED
    t = traces["still"]
    assert t.kind == "action" and len(t.steps) == 1 and len(t.states) == 2 and t.states[1][1] == 1


def test_by_names_a_process_or_an_action() -> None:
    status, _, _ = check(STEPS + "always step who: by(A) or by(B);", check_deadlock=False)
    assert status["who"] is Status.HOLDS
    status, traces, _ = check(STEPS + "always step who: by(A);", check_deadlock=False)
    assert status["who"] is Status.VIOLATED and len(traces["who"].steps) == 1


@pytest.mark.parametrize("text,code,where", [
    ("invariant i: x' == x;", "E042", (6, 14)),
    ("always step s: x'' == x;", "E042", (6, 16)),
    ("invariant j: by(A);", "E042", (6, 14)),
    ("fair process C;", "E043", (6, 1)),
    ("fair process A[0];", "E043", (6, 16)),
    ("fair action nothing;", "E043", (6, 1)),
    ("always step s: by(C);", "E011", (6, 16)),
])
def test_misplaced_temporal_words_are_errors_with_their_place(text: str, code: str, where: tuple[int, int],
                                                               tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.qdl"
    path.write_text(STEPS + text + "\n")
    assert main(["check", str(path)]) == 150
    err = capsys.readouterr().err
    assert f"m.qdl:{where[0]}:{where[1]}: error[{code}]" in err, err


def test_a_model_may_still_name_things_step_and_system(tmp_path: Path) -> None:
    text = "var step: 0..1 = 0;\naction system when step == 0 { step := 1; }\nterminal t: step == 1;\n"
    status, _, verdict = check(text)
    assert verdict is Verdict.HOLDS


# ---------------------------------------------------------------- the reference interpreter

REFERENCE_CASES = [
    TOGGLE + "fair process Toggler; fair process Taker;\nliveness finishes: eventually done;\n"
             "liveness answered: x == 1 ~> done;\nliveness settles: eventually always x == 1;",
    TOGGLE + "fair process Toggler; strong fair process Taker;\nliveness finishes: eventually done;\n"
             "always step flips: x' != x or done' != done;",
    STEPS + "fair system;\nliveness ends: eventually (x == 2 and y == 1);\nalways step only_a: x' != x => by(A);",
    "var f: array[0..1] of bool = [false, false];\nprocess W[i in 0..1] { set: f[i] := true; }\n"
    "fair action W.set;\nliveness some(i in 0..1): eventually f[i];",
]


def lassos_and_bad_steps(model: object) -> tuple[dict[str, tuple[int, int | None, tuple[object, ...]]],
                                                  set[tuple[object, int, object, int]]]:
    graph = explore(model, Clock(None))  # type: ignore[arg-type]
    lassos = {n: (len(t.steps), t.loop, t.states) for n, t in check_liveness(model, graph).items()}  # type: ignore[arg-type]
    bad = {(graph.states[v], model.info.actions[a].label, graph.states[w], k)  # type: ignore[attr-defined]
           for v, out in enumerate(graph.edges) for a, _, w in out
           for k in model.step_violations(graph.states[v], a, graph.states[w])}  # type: ignore[attr-defined]
    return lassos, bad


@pytest.mark.parametrize("text", REFERENCE_CASES)
def test_the_reference_interpreter_gives_the_same_lassos_and_bad_steps(text: str) -> None:
    """The liveness check on the reference interpreter's steps and predicates, which read the
    checked model directly, against the same check on the compiled model."""
    built = build_text(text, "m.qdl")
    ref = ReferenceModel(built.checked, built.program.layout)
    assert lassos_and_bad_steps(built.model) == lassos_and_bad_steps(ref)


# ---------------------------------------------------------------- what the command line does

def test_exit_13_for_a_liveness_violation_and_the_cycle_is_shown(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.qdl"
    path.write_text(TOGGLE + "fair process Toggler; fair process Taker;\nliveness answered: x == 1 ~> done;\n")
    assert main(["check", str(path)]) == 13
    out = capsys.readouterr().out
    assert "violated (1 step, then a cycle of 2 steps)" in out
    assert "The cycle starts at step 1" in out


def test_a_liveness_property_is_selectable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.qdl"
    path.write_text(TOGGLE + "fair process Toggler;\noptional liveness again: always eventually x == 1;\n"
                    "optional liveness finishes: eventually done;\ncheck again;\n")
    assert main(["check", str(path)]) == 0
    assert main(["check", str(path), "--property", "finishes"]) == 13
    capsys.readouterr()


def test_symmetry_with_liveness_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.qdl"
    path.write_text("symmetric type W = 0..1;\nvar f: array[W] of bool = [w in W: false];\n"
                    "action set(w in W) when not f[w] { f[w] := true; }\nfair action set;\n"
                    "liveness all_set: eventually forall w in W: f[w];\n")
    assert main(["check", str(path)]) == 151
    assert "symmetry" in capsys.readouterr().err
    assert main(["check", str(path), "--no-symmetry", "--no-deadlock"]) == 0


def test_a_limit_leaves_liveness_undecided(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.qdl"
    path.write_text(TOGGLE + "fair process Toggler;\nliveness again: always eventually x == 1;\n")
    assert main(["check", str(path), "--max-states", "2"]) == 20
    out = capsys.readouterr().out
    assert "again" in out and "incomplete" in out


def test_a_fair_component_reached_only_after_the_property_stops_pending_is_found() -> None:
    # Found by replaying random lassos: x != 0 at the start is no reason to stop looking. A is
    # fair and must set x to 2; then B's first step and its choice x := 0 leave x == 0 with
    # A and B done, where only the unfair `bump` can move: three steps, then stuttering.
    text = """
var x: 0..2 = 0; var y: 0..2 = 0;
process A { x := 2; }
process B { y := (y + 1) % 3; either { x := 0; } or { x := 2; } }
action bump when x < 2 { x := x + 1; }
fair process A;
liveness l1: always eventually x != 0;
"""
    status, traces, _ = check(text, check_deadlock=False)
    assert status["l1"] is Status.VIOLATED and shape(traces["l1"]) == (3, 0)


def test_a_liveness_predicate_that_cannot_be_evaluated_is_a_model_error(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # d reaches 0 after one step, where 10 / d has no value
    path = tmp_path / "m.qdl"
    path.write_text("var d: 0..1 = 1;\nprocess P { d := 0; }\nliveness q: eventually (10 / d == 3);\n")
    assert main(["check", str(path), "--no-deadlock"]) == 75
    out = capsys.readouterr().out
    assert "evaluating a liveness property: division by zero" in out


def test_fairness_of_a_label_that_starts_no_step_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # an `if`'s steps are its branches': the label on it names no step, and fairness of it
    # would cover nothing (a wrong "violated"), so it is an error
    path = tmp_path / "m.qdl"
    path.write_text("var x: 0..1 = 0;\nvar n: 0..1 = 0;\nprocess P { while true { either { l: if n == 0 "
                    "{ x := 1 - x; } else { x := 1 - x; } } or { n := 1 - n; } } }\nfair action P.l;\n"
                    "liveness ae: always eventually x == 1;\n")
    assert main(["check", str(path)]) == 150
    assert "m.qdl:4:1: error[E043]" in capsys.readouterr().err
