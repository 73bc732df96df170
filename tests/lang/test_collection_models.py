"""Sets, sequences and `choose` through the whole tool: exact state counts derived by hand.

Each model's count is worked out in its comment from what the model says, independently of
the tool; the test runs the Python and the native search (and symmetry where declared) and
holds each to it, then checks that every runtime failure of the new kinds is a model error
(exit 75) at the step a hand count gives.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quiesce_check.cli import main

# s grows; q holds values of s; `got` is 0 or a received value of s. Every (s, q, got) with q's
# elements in s and got in {0} ∪ s is reached: the sum over s of (1 + |s| + |s|^2) * |{0} ∪ s|
# = 1 + (3 + 6 + 6) + (14 + 14 + 21) + 13 * 3 = 104.
CHANNEL = """
type Node = 0..2;
var s: set of Node = {};
var q: seq[2] of Node = <<>>;
var got: Node = 0;
action add(n in Node) when n not in s { s := s union {n}; }
action snd(n in s) { send q, n; }
action rcv { receive q -> got; }
invariant small: card(s) <= 3 and len(q) <= 2 and (forall i in 0..1: i < len(q) => q[i] in s);
reachable full: len(q) == 2 and q[1] == 2 and head(q) != 2;
reachable chosen: card(s) == 2 and (choose x in s where true) == 1;
"""

# TLA+ Examples' TwoPhase.tla with three resource managers, message soup as a set of records
# (the TM's two end states are one here: the Commit or Abort message in `msgs` tells them apart):
# the repository's manifest.json records TLC's 288 distinct states, 1,146 in total, depth 11 (TLC
# counts the initial state as depth 1).
TWO_PHASE = """
type RM = 0..2;
type Kind = enum { Prepared, Commit, Abort };
type Msg = record { kind: Kind, rm: RM };
var rmState: array[RM] of enum { Working, RPrepared, Committed, Aborted } = [r in RM: Working];
var tmState: enum { Init, Done } = Init;
var tmPrepared: set of RM = {};
var msgs: set of Msg = {};
action TMRcvPrepared(m in msgs) when tmState == Init and m.kind == Prepared {
    tmPrepared := tmPrepared union {m.rm};
}
action TMCommit when tmState == Init and tmPrepared == {r in RM} {
    tmState := Done; msgs := msgs union {{kind: Commit, rm: 0}};
}
action TMAbort when tmState == Init { tmState := Done; msgs := msgs union {{kind: Abort, rm: 0}}; }
action RMPrepare(r in RM) when rmState[r] == Working {
    rmState[r] := RPrepared; msgs := msgs union {{kind: Prepared, rm: r}};
}
action RMChooseToAbort(r in RM) when rmState[r] == Working { rmState[r] := Aborted; }
action RMRcvCommit(r in RM) when {kind: Commit, rm: 0} in msgs { rmState[r] := Committed; }
action RMRcvAbort(r in RM) when {kind: Abort, rm: 0} in msgs { rmState[r] := Aborted; }
invariant consistent: forall a in RM: forall b in RM: not (rmState[a] == Aborted and rmState[b] == Committed);
"""

# `last` records every value ever grabbed, `holders` is a subset of it of at most two:
# 1 + 3 * 2 + 3 * 4 + (1 + 3 + 3) = 26 states; up to a permutation of P, one per
# (|last|, |holders|): 1 + 2 + 3 + 3 = 9.
HOLDERS = """
symmetric type P = 0..2;
var holders: set of P = {};
var last: array[P] of bool = [p in P: false];
action grab(p in P) when p not in holders and card(holders) < 2 { holders := holders union {p}; last[p] := true; }
action drop(p in holders) { holders := holders minus {p}; }
invariant few: card(holders) <= 2;
"""


def run(tmp_path: Path, text: str, *args: str) -> dict:
    model = tmp_path / "m.qdl"
    model.write_text(text)
    out = tmp_path / "o.json"
    code = main(["check", str(model), "--json", str(out), "--no-coverage", *args])
    data = json.loads(out.read_text())
    assert data["exit_code"] == code
    return data


@pytest.mark.parametrize("backend", ["python", "native"])
@pytest.mark.parametrize(("text", "distinct"), [(CHANNEL, 104), (TWO_PHASE, 288)], ids=["channel", "two_phase"])
def test_counts(tmp_path: Path, text: str, distinct: int, backend: str) -> None:
    data = run(tmp_path, text, "--backend", backend)
    assert data["verdict"] == "holds"
    assert data["stats"]["distinct"] == distinct


@pytest.mark.parametrize("backend", ["python", "native"])
def test_two_phase_as_tlc_counts_it(tmp_path: Path, backend: str) -> None:
    stats = run(tmp_path, TWO_PHASE, "--backend", backend)["stats"]
    assert (stats["distinct"], stats["generated"], stats["depth"] + 1) == (288, 1146, 11)


@pytest.mark.parametrize(("args", "distinct"), [((), 9), (("--no-symmetry",), 26),
                                                (("--backend", "native"), 9)])
def test_set_of_a_symmetric_type(tmp_path: Path, args: tuple[str, ...], distinct: int) -> None:
    data = run(tmp_path, HOLDERS, *args)
    assert data["verdict"] == "holds"
    assert data["stats"]["distinct"] == distinct


# A domain of sets (TLA+'s SUBSET) through a named type: a parameter and a `with` over every
# subset of R. From ({}, 0): take gives each set of one or two values with its size (6 states);
# give empties it keeping n (n = 1, 2: 2 states); swap turns a set of two into each singleton
# keeping n = 2 (3 states): 1 + 6 + 2 + 3 = 12.
SUBSETS = """
type R = 0..2;
type Rs = set of R;
var held: set of R = {};
var n: 0..3 = 0;
action take(s: Rs) when s != {} and card(s) <= 2 and held == {} { held := s; n := card(s); }
action give { held := {}; }
action swap when held != {} { with s in Rs where card(s) == 1 { held := s; } }
reachable two: n == 2 and 1 in held;
invariant ok: forall t in Rs: t subset held => card(t) <= 2;
"""


@pytest.mark.parametrize("backend", ["python", "native"])
def test_a_domain_of_sets(tmp_path: Path, backend: str) -> None:
    data = run(tmp_path, SUBSETS, "--backend", backend)
    assert data["verdict"] == "holds" and data["stats"]["distinct"] == 12


# Each case: the model, words of its message, and the step that fails (1: the first step already
# does; 2: one step sets the state up, the next fails).
FAILURES = {
    "append to a full sequence": ("var q: seq[1] of 0..1 = <<1>>;\naction f { q := append(q, 0); }", "full", 1),
    "head of an empty sequence": ("var q: seq[1] of 0..1 = <<1>>;\nvar x: 0..1 = 0;\n"
                                  "action f { if len(q) == 0 { x := head(q); } else { q := tail(q); } }", "empty", 2),
    "index past the length": ("var q: seq[2] of 0..1 = <<1>>;\nvar x: 0..1 = 0;\n"
                              "action f { x := q[1]; }", "past the sequence's length", 1),
    "choose with no value": ("var s: set of 0..2 = {1};\nvar x: 0..2 = 0;\n"
                             "action f { x := choose y in s where y > 1; }", "no value", 1),
    "set element outside its type": ("var s: set of 0..2 = {};\nvar n: 0..3 = 2;\n"
                                     "action f { s := {n}; n := 3; }", "outside the set's type", 2),
    "capacity": ("var q: seq[1] of 0..1 = <<>>;\nvar long: seq[2] of 0..1 = <<0>>;\n"
                 "action f { q := long; long := <<0, 1>>; }", "capacity", 2),
}


@pytest.mark.parametrize("name", sorted(FAILURES))
@pytest.mark.parametrize("backend", ["python", "native"])
def test_failures_are_model_errors(tmp_path: Path, name: str, backend: str) -> None:
    text, words, step = FAILURES[name]
    data = run(tmp_path, text, "--backend", backend)
    assert data["verdict"] == "model error" and data["exit_code"] == 75
    assert words in data["failure"]["message"]
    assert data["failure"]["step"] == step


def test_send_waits_and_receive_waits(tmp_path: Path) -> None:
    # a one-slot channel between a producer of two values and a consumer: the producer waits
    # for room, the consumer for a value; every interleaving ends with both done and y == 1
    text = """
var q: seq[1] of 0..1 = <<>>;
var y: 0..1 = 0;
process Producer { send q, 0; send q, 1; }
process Consumer { receive q -> y; receive q -> y; }
terminal done: finished(Producer) and finished(Consumer);
final last: y == 1 and len(q) == 0;
"""
    data = run(tmp_path, text)
    assert data["verdict"] == "holds"
    # (producer pc, consumer pc, q, y): P0C0<>0, P1C0<0>0, P1C1<>0, P2C1<1>0, P2C2<>1 -> 5
    assert data["stats"]["distinct"] == 5


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_bmc_finds_each_failure_at_the_same_step(tmp_path: Path, name: str) -> None:
    text, words, step = FAILURES[name]
    data = run(tmp_path, text, "--engine", "bmc", "--depth", "4")
    assert data["verdict"] == "model error" and words in data["failure"]["message"]
    assert data["failure"]["step"] == step


def test_bmc_and_bfs_agree_on_a_violation(tmp_path: Path) -> None:
    # q is full of two values while s holds two: send twice after adding twice, 4 steps at least
    text = CHANNEL.replace("invariant small:", "invariant never_full: len(q) < 2 or card(s) < 2;\n"
                           "invariant small:")
    lengths = [run(tmp_path, text, "--engine", engine, "--property", "never_full")["trace"]["length"]
               for engine in ("bfs", "bmc")]
    assert lengths == [4, 4]


def test_induction_proves_two_phase(tmp_path: Path) -> None:
    assert run(tmp_path, TWO_PHASE, "--engine", "induction")["verdict"] == "holds"


def test_a_with_keeps_the_value_it_chose(tmp_path: Path) -> None:
    # FIXED: `f` read `x` again after `x := 1`, so the one step set y to 1 and this false
    # invariant "held" on every backend
    text = ("var x: 0..2 = 0;\nvar y: 0..2 = 0;\naction t when x == 0 { with f in {x} { x := 1; y := f; } }\n"
            "action idle when x == 1 { skip; }\ninvariant wrong: x == 1 => y == 1;\n")
    for args in (("--backend", "python"), ("--backend", "native"), ("--engine", "bmc", "--depth", "3")):
        assert run(tmp_path, text, *args)["verdict"] == "violated", args
