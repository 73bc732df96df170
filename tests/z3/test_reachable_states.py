"""Random models: the reference interpreter, the compiled model and the Z3 encoding reach
the same states, depth by depth.

The explicit side computes the states at the end of every path of k steps
(the image of the states at k - 1) with the reference interpreter and with the
compiled model; the symbolic side enumerates them from the unrolled
transition relation with a blocking clause per state. Up to the first depth
at which a step fails (which all three must place at the same depth), the
three sets must be equal.
"""

from __future__ import annotations

import os

import z3
from hypothesis import HealthCheck, given, settings

from quiesce_check.build import build_text
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import AssertFailure, Model, StepError
from quiesce_check.engines.bmc import states_at_depth
from quiesce_check.engines.result import NullReporter, Options
from quiesce_check.engines.symbolic import Run, Solving, Unrolling
from quiesce_check.reference.interp import ReferenceModel
from tests.compile.test_differential import random_model

DEPTH = 3
MOST = 400  # states at one depth worth enumerating with blocking clauses


def images(model: Model, depth: int) -> tuple[list[set[State]], int | None]:
    """The states at the end of paths of 0..depth steps, and the first depth at which one of
    them has a failing step (the sets stop there)."""
    levels = [set(model.initial_states())]
    for k in range(depth + 1):
        nxt: set[State] = set()
        for s in levels[k]:
            try:
                nxt |= {t for _, _, t in model.successors(s)}
            except (AssertFailure, StepError):
                return levels, k
        if k < depth:
            levels.append(nxt)
    return levels, None


def fails_at(model: Model, k: int) -> bool:
    """Whether the solver finds a state at the end of a k-step path with a failing step."""
    run = Run(model, Options(), NullReporter())
    solving = Solving(run.ctx, run.clock, run.info)
    unroll = Unrolling(run.enc, solving)
    for _ in range(k):
        unroll.extend()
    e = run.enc
    return solving.check(e.at(z3.Or(e.step_error, e.step_failed), k)) is not None


@settings(max_examples=int(os.environ.get("QC_EXAMPLES", "15")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(random_model())
def test_three_implementations_reach_the_same_states(text: str) -> None:
    built = build_text(text, "random.qdl")
    ref = ReferenceModel(built.checked, built.program.layout)
    levels, failing = images(built.model, DEPTH)
    assert (levels, failing) == images(ref, DEPTH)
    for k, states in enumerate(levels):
        if len(states) > MOST:
            break
        assert states_at_depth(built.model, k) == states, k
    if failing is not None:
        assert fails_at(built.model, failing)
        assert failing == 0 or not fails_at(built.model, failing - 1)
