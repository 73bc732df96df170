"""Replay a trace file against a model, step by step.

Takes the model (`Model`) and an ITF document; gives a `Replay`: the trace
rebuilt as a `Trace` of this model (each step identified by the action that
produces the recorded next state), or the first step that does not replay,
with what differs. A recorded violation is checked again on the last state
(or on the failing step). Imports `compile.*`, `engines.common`, `trace.*`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quiesce_check.compile.layout import State, format_slot
from quiesce_check.compile.model import Model
from quiesce_check.engines.common import Failure, at_end, check_state, expand
from quiesce_check.trace.itf import from_itf
from quiesce_check.trace.types import Step, Trace, TraceKind


@dataclass(frozen=True)
class Replay:
    ok: bool
    trace: Trace | None
    message: str
    reproduced: str | None = None  # the violation the last state shows, if any ("invariant x", ...)
    recorded: str | None = None    # the violation the file claims


def _diff(model: Model, want: State, got: State) -> str:
    lay = model.info.layout
    parts = [f"{lay.slots[i].name} is {format_slot(lay, i, b)}, the trace says {format_slot(lay, i, a)}"
             for i, (a, b) in enumerate(zip(want, got, strict=True)) if a != b]
    return "; ".join(parts[:4]) + ("; ..." if len(parts) > 4 else "")


def replay(model: Model, doc: Any) -> Replay:
    states, actions, meta = from_itf(model.info, doc)
    violation = meta.get("violation") if isinstance(meta.get("violation"), dict) else None
    recorded = None
    if violation is not None:
        recorded = f"{violation.get('kind')} {violation.get('property')}"
    init = list(model.initial_states())
    if states[0] not in init:
        closest = min(init, key=lambda s: sum(a != b for a, b in zip(s, states[0], strict=True)))
        return Replay(False, None, "state 0 is not an initial state of the model: "
                      + _diff(model, states[0], closest), recorded=recorded)
    steps: list[Step] = []
    for k in range(len(states) - 1):
        try:
            succs = expand(model, states[k])
        except Failure as f:
            return Replay(False, None, f"step {k + 1}: from state {k} a step fails: {f.message}",
                          recorded=recorded)
        matches = [(ai, ch) for ai, ch, t in succs if t == states[k + 1]]
        if not matches:
            named = [t for ai, ch, t in succs if model.info.actions[ai].label == actions[k + 1]]
            if not succs:
                why = "no step is enabled there"
            elif named:
                why = f"{actions[k + 1]} leads elsewhere: " + _diff(model, states[k + 1], named[0])
            elif actions[k + 1]:
                why = f"{actions[k + 1]} is not enabled there"
            else:
                near_ai, _, near = min(succs, key=lambda s: sum(a != b for a, b in zip(s[2], states[k + 1],
                                                                                  strict=True)))
                why = (f"no enabled step leads to it; the closest, {model.info.actions[near_ai].label}, "
                       "gives: " + _diff(model, states[k + 1], near))
            return Replay(False, None, f"step {k + 1}: the model cannot go from state {k} to state {k + 1}; {why}",
                          recorded=recorded)
        preferred = [m for m in matches if model.info.actions[m[0]].label == actions[k + 1]]
        ai, ch = (preferred or matches)[0]
        steps.append(Step(ai, ch))
    last = states[-1]
    reproduced = None
    kind: TraceKind = "goal"
    prop, message = "", "the trace replays"
    bad = check_state(model, last)
    if not bad:
        failing = meta.get("failing_step") if isinstance(meta.get("failing_step"), dict) else None
        try:
            if not expand(model, last):
                bad, _ = at_end(model, last, True)
        except Failure as f:
            if failing is not None:
                steps.append(f.step)
                bad = [(f.kind, f.prop, f.message)]
    if bad:
        # the violation the file records, if the last state shows it; else the first it shows
        kind, prop, message = next((v for v in bad if f"{v[0]} {v[1]}" == recorded), bad[0])
        reproduced = f"{kind} {prop}"
    trace = Trace(tuple(states), tuple(steps), kind, prop, message)
    if recorded is not None and reproduced != recorded:
        return Replay(False, trace, f"the trace replays, but ends in {reproduced or 'no violation'}, "
                      f"not in the recorded {recorded}", reproduced, recorded)
    return Replay(True, trace, f"all {len(states) - 1} steps replay" + (f"; {message}" if reproduced else ""),
                  reproduced, recorded)
