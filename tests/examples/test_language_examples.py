"""Classic TLA+ specs written with QDL's sets, sequences and `choose`, held to TLC's figures.

Every model here transcribes a spec of github.com/tlaplus/Examples (commit 32a32c7b), one QDL
state per TLC state, and every pinned number is TLC's, as the repository's manifest.json
records it for the spec's model-checked configuration (distinctStates, totalStates,
stateDepth), or a closed form derived in the model's header; none was copied from this tool's
output. TLC's totalStates counts the initial states with the generated successors, and its
stateDepth counts the initial state as depth 1. Where TLC generates successors this tool
has no step for (the ones a state constraint drops, PlusCal's final stuttering step), the
test counts them in the explored states and adds them. Each model is also explored by the
reference interpreter (`full_space`), which must find the same states, and searched with
the default engine and over fingerprints, which must count alike.
"""

from __future__ import annotations

import dataclasses

import pytest

from quiesce_check.build import Built
from quiesce_check.compile.layout import variable_values
from quiesce_check.compile.cgen import compiler
from quiesce_check.engines import breadth_first
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import NullReporter, Options, Result, Verdict
from tests.examples.test_classics import build, explore, full_space


def statuses(r: Result) -> dict[str, str]:
    return {p.name: p.status.name for p in r.properties}


def searched(b: Built) -> Result:
    """The default breadth-first search (in C when a compiler is at hand), which must agree,
    state for state, with the search over fingerprints when one can run."""
    r = breadth_first(b.model, Options(), NullReporter())
    assert r.complete
    if compiler() is not None and not b.model.info.liveness:
        fp = breadth_first(b.model, dataclasses.replace(Options(), store="fingerprint"), NullReporter())
        assert (fp.verdict, fp.stats.distinct, fp.stats.generated, fp.stats.depth) == (
            r.verdict, r.stats.distinct, r.stats.generated, r.stats.depth)
    return r


def values(b: Built, state: tuple) -> dict:
    """Each variable's value in `state` (a record as the tuple of its fields, in declared order)."""
    return variable_values(b.program.layout, state)


# ------------------------------------------------------------ simple allocator
#
# SimpleAllocator.cfg (3 clients, 2 resources): manifest distinctStates 400, totalStates 1633,
# stateDepth 6. Closed form (simple_allocator.qdl's header): (2^C + C * 2^(C-1))^R states, the
# farthest C + min(C, R) steps out (a request from every client, an allocation to as many
# clients as there are resources).

@pytest.mark.parametrize(("c", "r"), [(1, 1), (2, 1), (1, 2), (2, 2), (3, 1)])
def test_simple_allocator_formula(c: int, r: int) -> None:
    b = build("simple_allocator.qdl", CLIENTS=c, RESOURCES=r)
    distinct, _, depth = full_space(b)
    assert (distinct, depth) == ((2**c + c * 2**(c - 1))**r, c + min(c, r))


def test_simple_allocator_tlc() -> None:
    b = build("simple_allocator.qdl")
    assert full_space(b) == (400, 1632, 5)       # TLC: distinctStates 400, totalStates 1633, stateDepth 6
    r = searched(b)
    assert r.verdict is Verdict.HOLDS            # ResourceMutex, as TLC found
    assert (r.stats.distinct, r.stats.generated, r.stats.depth) == (400, 1633, 5)
    assert statuses(r)["all_held_all_wanted"] == "HOLDS"


# -------------------------------------------------------- scheduling allocator
#
# SchedulingAllocator.cfg (3 clients, 2 resources): manifest distinctStates 1690, totalStates
# 5854, stateDepth 7; ResourceMutex and AllocatorInvariant hold.

def test_scheduling_allocator_tlc() -> None:
    b = build("scheduling_allocator.qdl")
    assert full_space(b) == (1690, 5853, 6)      # TLC: 1690 distinct, 5854 generated, depth 7
    r = searched(b)
    assert r.verdict is Verdict.HOLDS
    assert (r.stats.distinct, r.stats.generated) == (1690, 5854)


# ------------------------------------------------------------- readers-writers
#
# ReadersWriters MC.cfg (NumActors = 3): manifest distinctStates 21527, totalStates 59674,
# stateDepth 13; Safety holds. MC.tla names four invariants TLC finds violated; the model
# states three of them as goals, which must be reached.

def test_readers_writers_tlc() -> None:
    b = build("readers_writers.qdl")
    states, transitions, depth = explore(b.model)
    assert (len(states), transitions, depth) == (21527, 59673, 12)
    r = searched(b)
    assert r.verdict is Verdict.HOLDS
    assert (r.stats.distinct, r.stats.generated) == (21527, 59674)


@pytest.mark.slow
def test_readers_writers_reference() -> None:
    assert full_space(build("readers_writers.qdl")) == (21527, 59673, 12)


# ------------------------------------------------------------------ inner FIFO
#
# MCInnerFIFO.cfg (3 messages, qLen = 3): manifest distinctStates 3864, totalStates 9660,
# stateDepth 11. TLC generates, and drops under its constraint, a BufRcv successor in every
# state with a full queue and a message on the in channel (36 initial states).

def test_inner_fifo_tlc() -> None:
    b = build("inner_fifo.qdl")
    distinct, transitions, depth = full_space(b)
    assert (distinct, depth) == (3864, 10)
    states, _, _ = explore(b.model)
    dropped = 0
    for s in states:
        v = values(b, s)
        _, rdy, ack = v["in_chan"]                       # Chan: {val, rdy, ack}
        dropped += len(v["q"]) == 3 and rdy != ack
    assert 36 + transitions + dropped == 9660
    assert searched(b).verdict is Verdict.HOLDS


# -------------------------------------------------------------- alternating bit
#
# MCAlternatingBit.cfg (Data = {d1, d2}, both queues bounded by 2): manifest distinctStates
# 240, totalStates 1392, stateDepth 10; SentLeadsToRcvd holds under ABFairness. TLC generates,
# and drops, a send to a full queue: SndNewValue (one per value) or ReSndMsg into a full msgQ,
# SndAck into a full ackQ (8 initial states).

def test_alternating_bit_tlc() -> None:
    b = build("alternating_bit.qdl")
    distinct, transitions, depth = full_space(b)
    assert (distinct, depth) == (240, 9)
    states, _, _ = explore(b.model)
    dropped = 0
    for s in states:
        v = values(b, s)
        s_bit, s_ack, _ = v["bits"]                      # {sBit, sAck, rBit}
        if len(v["msgQ"]) == 2:
            dropped += 2 if s_ack == s_bit else 1
        dropped += len(v["ackQ"]) == 2
    assert 8 + transitions + dropped == 1392
    r = bfs(b.model)
    assert r.verdict is Verdict.HOLDS            # SentLeadsToRcvd, as TLC found
    assert r.stats.distinct == 240


# -------------------------------------------------------------------- ParReach
#
# MCParReach.cfg (4 nodes, 2 processes): manifest distinctStates 393, totalStates 747,
# stateDepth 18; TLC's count includes one Terminating stuttering step in each state where
# both processes are done. Inv holds; with weak fairness of each process, Termination too.

def test_par_reach_tlc() -> None:
    b = build("par_reach.qdl")
    distinct, transitions, depth = full_space(b)
    assert (distinct, depth) == (393, 17)
    states, _, _ = explore(b.model)
    ended = sum(1 for s in states if not b.model.successors(s))
    assert 1 + transitions + ended == 747
    r = bfs(b.model)
    assert r.verdict is Verdict.HOLDS            # Inv, Termination, and marked == Reachable at the end
    assert r.stats.distinct == 393


# ----------------------------------------------------------- cigarette smokers
#
# CigaretteSmokers.cfg: manifest distinctStates 6, totalStates 15, stateDepth 2; by hand
# (the model's header): 3 initial states, 3 + 9 steps, the farthest state 1 step out.

def test_cigarette_smokers_tlc() -> None:
    b = build("cigarette_smokers.qdl")
    assert full_space(b) == (6, 12, 1)           # TLC: 6 distinct, 15 generated, depth 2
    r = searched(b)
    assert r.verdict is Verdict.HOLDS            # AtMostOne
    assert (r.stats.distinct, r.stats.generated) == (6, 15)
