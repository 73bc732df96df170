"""Classic TLA+ specs written with QDL's sets, sequences and `choose`, held to TLC's figures.

Every model here transcribes a spec of github.com/tlaplus/Examples (commit 32a32c7b), one QDL
state per TLC state, and every pinned number is TLC's, as the repository's manifest.json
records it for the spec's model-checked configuration (distinctStates, totalStates,
stateDepth), or a closed form derived in the model's header; none was copied from this tool's
output. TLC's totalStates counts the initial states with the generated successors, and its
stateDepth counts the initial state as depth 1. Where TLC generates successors this tool
has no step for (the ones a state constraint drops, PlusCal's final stuttering step), the
test counts them in the explored states and adds them. Each model's whole state space is
explored through its generated Python (`space`), and the default search (in C when a
compiler is at hand) and the search over fingerprints must count alike.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from quiesce_check.build import Built, build_text
from quiesce_check.compile.cgen import compiler
from quiesce_check.compile.layout import variable_values
from quiesce_check.engines import breadth_first
from quiesce_check.engines.result import NullReporter, Options, Result, Verdict
from tests.examples.test_classics import EXAMPLES, build, explore


def statuses(r: Result) -> dict[str, str]:
    return {p.name: p.status.name for p in r.properties}


def searched(b: Built, options: Options | None = None) -> Result:
    """The default breadth-first search (in C when a compiler is at hand), complete."""
    r = breadth_first(b.model, options or Options(), NullReporter())
    assert r.complete
    return r


def space(b: Built) -> tuple[set, int, int]:
    """(states, transitions, depth) of the whole state space, explored through the generated
    Python; the default search and, for models without liveness properties, the search over
    fingerprints count the same states, the initial ones and the steps, and the same depth."""
    states, transitions, depth = explore(b.model)
    generated = len(set(b.model.initial_states())) + transitions
    stores = ["exact", "fingerprint"] if compiler() is not None and not b.model.info.liveness else ["exact"]
    for store in stores:
        r = searched(b, Options(store=store))
        assert (r.stats.distinct, r.stats.generated, r.stats.depth) == (len(states), generated, depth), store
    return states, transitions, depth


def counts(b: Built) -> tuple[int, int, int]:
    """(distinct, transitions, depth), as `space` finds them."""
    states, transitions, depth = space(b)
    return len(states), transitions, depth


def rebuilt(name: str, old: str, new: str) -> Built:
    """The example with one declaration replaced (`old` must occur once)."""
    text = (EXAMPLES / name).read_text()
    assert text.count(old) == 1
    return build_text(text.replace(old, new), name)


def values(b: Built, state: tuple) -> dict:
    """Each variable's value in `state` (a record as the tuple of its fields, in declared order)."""
    return variable_values(b.program.layout, state)


def tlc_generated(b: Built, states: set, transitions: int, extra: Callable[[tuple], int]) -> int:
    """TLC's totalStates for this state space: the initial states, every step, and in each
    state `extra(state)` successors TLC generates that the model has no step for."""
    return len(set(b.model.initial_states())) + transitions + sum(extra(s) for s in states)


# ------------------------------------------------------------ simple allocator
#
# SimpleAllocator.cfg (3 clients, 2 resources): manifest distinctStates 400, totalStates 1633,
# stateDepth 6. Closed form (simple_allocator.qdl's header): (2^C + C * 2^(C-1))^R states, the
# farthest C + min(C, R) steps out (a request from every client, an allocation to as many
# clients as there are resources).

@pytest.mark.parametrize(("c", "r"), [(1, 1), (2, 1), (1, 2), (2, 2), (3, 1)])
def test_simple_allocator_formula(c: int, r: int) -> None:
    states, _, depth = explore(build("simple_allocator.qdl", CLIENTS=c, RESOURCES=r).model)
    assert (len(states), depth) == ((2**c + c * 2**(c - 1))**r, c + min(c, r))


def test_simple_allocator_tlc() -> None:
    b = build("simple_allocator.qdl")
    assert counts(b) == (400, 1632, 5)           # TLC: distinctStates 400, totalStates 1633, stateDepth 6
    r = searched(b)
    assert r.verdict is Verdict.HOLDS
    assert statuses(r) == {"ResourceMutex": "HOLDS", "all_held_all_wanted": "REACHED", "no deadlock": "HOLDS"}


# -------------------------------------------------------- scheduling allocator
#
# SchedulingAllocator.cfg (3 clients, 2 resources): manifest distinctStates 1690, totalStates
# 5854, stateDepth 7; ResourceMutex and AllocatorInvariant hold.

def test_scheduling_allocator_tlc() -> None:
    b = build("scheduling_allocator.qdl", CLIENTS=3)
    assert counts(b) == (1690, 5853, 6)          # TLC: 1690 distinct, 5854 generated, depth 7
    r = searched(b)
    assert r.verdict is Verdict.HOLDS
    assert statuses(r) == {"ResourceMutex": "HOLDS", "AllocatorInvariant": "HOLDS", "all_scheduled": "REACHED",
                           "no deadlock": "HOLDS"}


# ------------------------------------------------------------- readers-writers
#
# ReadersWriters MC.cfg (NumActors = 3): manifest distinctStates 21527, totalStates 59674,
# stateDepth 13; Safety holds. MC.tla names four invariants TLC finds violated; the model's
# three goals are their negations (the last two are broken by the same states).

def test_readers_writers_tlc() -> None:
    b = build("readers_writers.qdl")
    assert counts(b) == (21527, 59673, 12)       # TLC: 21527 distinct, 59674 generated, depth 13
    r = searched(b)
    assert r.verdict is Verdict.HOLDS
    assert statuses(r) == {"Safety": "HOLDS", "all_reading": "REACHED", "all_waiting_to_write": "REACHED",
                           "both_kinds_waiting": "REACHED", "no deadlock": "HOLDS"}


# ------------------------------------------------------------------ inner FIFO
#
# MCInnerFIFO.cfg (3 messages, qLen = 3): manifest distinctStates 3864, totalStates 9660,
# stateDepth 11. TLC generates, and drops under its constraint, a BufRcv successor in every
# state with a full queue and a message on the in channel (36 initial states).

def test_inner_fifo_tlc() -> None:
    b = build("inner_fifo.qdl")
    states, transitions, depth = space(b)
    assert (len(states), depth) == (3864, 10)    # TLC: 3864 distinct, depth 11
    assert len(set(b.model.initial_states())) == 36   # 6 ready records on each channel

    def buf_rcv_dropped(s: tuple) -> int:
        v = values(b, s)
        _, rdy, ack = v["in_chan"]                     # Chan: {val, rdy, ack}
        return int(len(v["q"]) == 3 and rdy != ack)

    assert tlc_generated(b, states, transitions, buf_rcv_dropped) == 9660   # TLC: 9660 generated
    assert statuses(searched(b)) == {"full_and_both_busy": "REACHED", "no deadlock": "HOLDS"}


# -------------------------------------------------------------- alternating bit
#
# MCAlternatingBit.cfg (Data = {d1, d2}, both queues bounded by 2): manifest distinctStates
# 240, totalStates 1392, stateDepth 10; SentLeadsToRcvd holds under ABFairness. TLC generates,
# and drops, a send to a full queue: SndNewValue (one per value) or ReSndMsg into a full msgQ,
# SndAck into a full ackQ (8 initial states).

def test_alternating_bit_tlc() -> None:
    b = build("alternating_bit.qdl")
    states, transitions, depth = space(b)
    assert (len(states), depth) == (240, 9)      # TLC: 240 distinct, depth 10
    assert len(set(b.model.initial_states())) == 8    # 2 bits, 2 values sent, 2 received

    def sends_dropped(s: tuple) -> int:
        v = values(b, s)
        s_bit, s_ack, _ = v["bits"]                    # {sBit, sAck, rBit}
        to_msg_q = (2 if s_ack == s_bit else 1) if len(v["msgQ"]) == 2 else 0
        return to_msg_q + int(len(v["ackQ"]) == 2)

    assert tlc_generated(b, states, transitions, sends_dropped) == 1392    # TLC: 1392 generated
    r = searched(b)
    assert r.verdict is Verdict.HOLDS            # SentLeadsToRcvd, as TLC found
    assert statuses(r) == {"SentLeadsToRcvd": "HOLDS", "no deadlock": "HOLDS"}


def test_alternating_bit_needs_strong_fairness() -> None:
    # with RcvMsg only weakly fair, LoseMsg may empty msgQ whenever RcvMsg could take from it
    b = rebuilt("alternating_bit.qdl", "strong fair action RcvMsg;", "fair action RcvMsg;")
    r = searched(b)
    assert r.verdict is Verdict.LIVENESS and r.trace is not None
    assert r.trace.property == "SentLeadsToRcvd"


# -------------------------------------------------------------------- ParReach
#
# MCParReach.cfg (4 nodes, 2 processes): manifest distinctStates 393, totalStates 747,
# stateDepth 18; TLC's count includes one Terminating stuttering step in each state where
# both processes are done. Inv holds; with weak fairness of each process, Termination too.

def test_par_reach_tlc() -> None:
    b = build("par_reach.qdl")
    states, transitions, depth = space(b)
    assert (len(states), depth) == (393, 17)     # TLC: 393 distinct, depth 18
    # Terminating: a stuttering step where both processes have finished, the only states
    # without a step here (no deadlock)
    assert tlc_generated(b, states, transitions, lambda s: int(not b.model.successors(s))) == 747
    r = searched(b)
    assert r.verdict is Verdict.HOLDS
    assert statuses(r) == {"Inv": "HOLDS", "correct": "HOLDS", "Termination": "HOLDS", "no deadlock": "HOLDS"}


def test_par_reach_needs_fairness() -> None:
    r = searched(rebuilt("par_reach.qdl", "fair process p;", ""))
    assert r.verdict is Verdict.LIVENESS and r.trace is not None
    assert r.trace.property == "Termination"


# ----------------------------------------------------------- cigarette smokers
#
# CigaretteSmokers.cfg: manifest distinctStates 6, totalStates 15, stateDepth 2; by hand
# (the model's header): 3 initial states, 3 + 9 steps, the farthest state 1 step out.

def test_cigarette_smokers_tlc() -> None:
    b = build("cigarette_smokers.qdl")
    assert counts(b) == (6, 12, 1)               # TLC: 6 distinct, 15 generated, depth 2
    assert statuses(searched(b)) == {"AtMostOne": "HOLDS", "no deadlock": "HOLDS"}
