"""Replay a trace file against a model, step by step.

Takes the model (`Model`) and an ITF document; gives a `Replay`: the trace
rebuilt as a `Trace` of this model (each step identified by the action that
produces the recorded next state), or the first step that does not replay,
with what differs. A trace written before the model was changed (a state the
model no longer has: a variable added or removed, a position gone, a value
outside a type) does not replay from its first such state on: the steps before
it are replayed, and the first step that fails is named, as for any other. A
recorded violation is checked again: an invariant on the
last state, a step property (`always step`) on the last step, a failing step
from the last state, a deadlock.

A lasso (ITF's `loop`, read by `trace.itf` into a `Trace`'s form: the last
state is `states[loop]` again, reached by the step that closes the cycle, or
the behaviour stutters for ever in its last state) is a liveness
counterexample only when all three hold:
- the cycle closes: the closing step is a step of the model, as every other;
- the cycle is fair: for each fairness assumption F, a cycle step is one of
  F's, or F is disabled at some cycle state (weak) or at every cycle state
  (strong); a stutter is a cycle of one state where nothing is taken;
- the property fails on the behaviour: `eventually p`: p is false at every
  state; `always eventually p`: at every cycle state; `eventually always p`:
  at some cycle state; `p ~> q`: p holds at a state from which q is false
  for ever (that state and every later one, the whole cycle included).
A recorded liveness violation is reproduced by one instance of the property
it names; a lasso that records none, by any liveness property of the model.
Imports `compile.*`, `engines.common`, `engines.liveness`, `trace.*`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from quiesce_check.compile.ir import Fairness, Liveness
from quiesce_check.compile.layout import State, format_slot
from quiesce_check.compile.model import Model, StepError, Successor
from quiesce_check.engines.common import Failure, Violation, at_end, check_state, check_step, expand
from quiesce_check.engines.liveness import fairness_sets
from quiesce_check.trace.itf import Recorded, from_itf
from quiesce_check.trace.steps import action_ids
from quiesce_check.trace.types import Step, Trace, TraceKind


@dataclass(frozen=True)
class Replay:
    ok: bool
    trace: Trace | None
    message: str
    reproduced: str | None = None  # the violation the last state shows, if any ("invariant x", ...)
    recorded: str | None = None    # the violation the file claims


def _shown(model: Model, i: int, value: Any) -> str:
    """A slot's value as a message shows it: a program counter by its stable name and its line."""
    lay = model.info.layout
    for proc, inst in lay.instances:
        if lay.pc_slot[(proc.name, inst)] == i:
            key = proc.positions.keys[int(value)]
            return f"{proc.positions.names[key]} ({format_slot(lay, i, value)})"
    return format_slot(lay, i, value)


def _diff(model: Model, want: State, got: State) -> str:
    lay = model.info.layout
    parts = [f"{lay.slots[i].name} is {_shown(model, i, b)}, the trace says {_shown(model, i, a)}"
             for i, (a, b) in enumerate(zip(want, got, strict=True)) if a != b]
    return "; ".join(parts[:4]) + ("; ..." if len(parts) > 4 else "")


def _distance(a: State, b: State) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))


def replay(model: Model, doc: Any) -> Replay:
    return _Replayer(model, from_itf(model.info, doc)).run()


class _Replayer:
    """One recorded trace against the model: its steps, then the violation it shows."""

    def __init__(self, model: Model, rec: Recorded) -> None:
        self.model, self.rec = model, rec
        self.states = rec.states
        violation = rec.meta.get("violation")
        self.kind = violation.get("kind") if isinstance(violation, dict) else None
        self.recorded = f"{self.kind} {violation.get('property')}" if isinstance(violation, dict) else None
        self.steps: list[Step] = []
        self.succs: dict[int, list[Successor]] = {}
        ids = action_ids(model.info)
        # a step's recorded action: its id (unique), or its label (as earlier versions wrote)
        self.names = [{ids[a.index], a.label} for a in model.info.actions]

    def run(self) -> Replay:
        why = self.walk() if self.states else None
        if why is None and self.rec.unfit is not None:
            why = self.unfit(*self.rec.unfit)
        if why is not None:
            return Replay(False, None, why, recorded=self.recorded)
        lasso = self.rec.loop is not None and self.kind in (None, "liveness")
        if lasso:
            bad, why = self.lasso()
        elif self.kind == "liveness":
            bad, why = [], "a liveness violation is a lasso, and the trace has no `loop`"
        else:
            bad, why = self.at_end(), None
        kind: TraceKind = "goal"
        prop, message, reproduced = "", "the trace replays", None
        if bad:
            # the violation the file records, if the trace shows it; else the first it shows
            kind, prop, message = next((v for v in bad if f"{v[0]} {v[1]}" == self.recorded), bad[0])
            reproduced = f"{kind} {prop}"
        trace = Trace(tuple(self.states), tuple(self.steps), kind, prop, message, self.rec.loop)
        n = len(self.states) - 1
        replays = "its one step replays" if n == 1 else f"all {n} steps replay"
        if why is not None:
            return Replay(False, trace, f"{replays}, but {why}", reproduced, self.recorded)
        if lasso:
            replays += ", the cycle closes and is fair"
        if self.recorded is not None and reproduced != self.recorded:
            return Replay(False, trace, f"the trace replays, but ends in {reproduced or 'no violation'}, "
                          f"not in the recorded {self.recorded}", reproduced, self.recorded)
        return Replay(True, trace, replays + (f"; {message}" if reproduced else ""), reproduced, self.recorded)

    # ------------------------------------------------------------------ the steps

    def walk(self) -> str | None:
        """Identify every step; the first that does not replay, said."""
        model, states = self.model, self.states
        init = list(model.initial_states())
        if states[0] not in init:
            closest = min(init, key=lambda s: _distance(s, states[0]))
            return "state 0 is not an initial state of the model: " + _diff(model, states[0], closest)
        for k in range(len(states) - 1):
            try:
                self.succs[k] = succs = expand(model, states[k])
            except Failure as f:
                return f"step {k + 1}: from state {k} a step fails: {f.message}"
            matches = [(ai, ch) for ai, ch, t in succs if t == states[k + 1]]
            if not matches:
                return self.cannot(k, succs)
            preferred = [m for m in matches if self.rec.actions[k + 1] in self.names[m[0]]]
            ai, ch = (preferred or matches)[0]
            self.steps.append(Step(ai, ch))
        return None

    def cannot(self, k: int, succs: list[Successor]) -> str:
        """Why the model cannot take step k + 1, from state k to state k + 1."""
        model, want, label = self.model, self.states[k + 1], self.rec.actions[k + 1]
        named = [t for ai, ch, t in succs if label in self.names[ai]]
        if not succs:
            why = "no step is enabled there"
        elif named:
            why = f"{label} leads elsewhere: " + _diff(model, want, named[0])
        elif label:
            why = f"{label} is not enabled there"
        else:
            near_ai, _, near = min(succs, key=lambda s: _distance(s[2], want))
            why = (f"no enabled step leads to it; the closest, {model.info.actions[near_ai].label}, "
                   "gives: " + _diff(model, want, near))
        loop = self.rec.loop
        if loop is not None and loop < k + 1 == len(self.states) - 1:
            return (f"the cycle does not close: step {k + 1}, the last, cannot go from state {k} back to "
                    f"state {loop}; {why}")
        return f"step {k + 1}: the model cannot go from state {k} to state {k + 1}; {why}"

    def unfit(self, k: int, why: str) -> str:
        """The first step that does not replay when state k is none of the model's states."""
        if k == 0:
            return f"the initial state is not one of this model's: {why}"
        label = self.rec.actions[k] if k < len(self.rec.actions) else None
        step = f"step {k}" + (f" ({label})" if label else "")
        return f"{step}: the model cannot go from state {k - 1} to state {k}, which is not one of its states: {why}"

    # ----------------------------------------------------------- a finite trace

    def at_end(self) -> list[Violation]:
        """What the last state (or the last step, or a step from the last state) violates."""
        model, last = self.model, self.states[-1]
        bad = check_state(model, last)
        if self.steps:
            bad += check_step(model, self.states[-2], self.steps[-1].action, last)
        if bad:
            return bad
        try:
            if not expand(model, last):
                bad, _ = at_end(model, last, True)
        except Failure as f:
            if isinstance(self.rec.meta.get("failing_step"), dict):
                self.steps.append(f.step)
                bad = [(f.kind, f.prop, f.message)]
        return bad

    # ------------------------------------------------------------------- a lasso

    def lasso(self) -> tuple[list[Violation], str | None]:
        """The liveness properties the lasso breaks, or why it is no fair behaviour of the model."""
        assert self.rec.loop is not None
        loop, last = self.rec.loop, len(self.states) - 1
        cycle = list(range(loop, last)) if loop < last else [last]
        try:
            for k in cycle:
                if k not in self.succs:
                    self.succs[k] = expand(self.model, self.states[k])
        except Failure as f:
            return [], f"the behaviour cannot stay in state {last}: a step from it fails: {f.message}"
        unfair = self.unfair(cycle)
        if unfair is not None:
            return [], unfair
        try:
            values = [self.model.temporal(s) for s in self.states]
        except StepError as e:
            return [("model-error", "model error", f"evaluating a liveness property: {e.message}")], None
        named = self.recorded.split(" ", 1)[1] if self.recorded is not None else None
        bad: list[Violation] = []
        held: list[str] = []
        for i, live in enumerate(self.model.info.liveness):
            if named is not None and live.name != named:
                continue
            broken, how = _verdict(live.kind, [v[i] for v in values], loop)
            if broken:
                bad.append(("liveness", live.name, _message(live, how, len(self.steps) - loop)))
            else:
                held.append(f"liveness `{live.title}` holds on this lasso: {how}")
        if named is not None and not bad:
            return [], "; ".join(held) if held else f"the model has no liveness property `{named}`"
        return bad, None

    def unfair(self, cycle: Sequence[int]) -> str | None:
        """Why the cycle (states `cycle`, steps from `loop` on) is not fair, or None."""
        assert self.rec.loop is not None
        taken = {s.action for s in self.steps[self.rec.loop:]}
        for f, acts in fairness_sets(self.model):
            if taken & acts:
                continue
            enabled = [k for k in cycle if any(ai in acts for ai, _, _ in self.succs[k])]
            if not enabled or (not f.strong and len(enabled) < len(cycle)):
                continue
            return _unfair_text(f, enabled, cycle, stutters=self.rec.loop == len(self.states) - 1)
        return None


def _unfair_text(f: Fairness, enabled: Sequence[int], cycle: Sequence[int], stutters: bool) -> str:
    who = "the system" if f.what == "system" else f.what
    assumed = f"({f.text}, {f.span})"
    if stutters:
        return f"the behaviour may not stay in state {cycle[0]} for ever: {who} is enabled there {assumed}"
    if len(enabled) == len(cycle):
        return f"the cycle is not fair: {who} is enabled throughout it and never moves {assumed}"
    return f"the cycle is not fair: {who} is enabled at state {enabled[0]} of it, again and again, and never moves {assumed}"


def _verdict(kind: str, pq: list[tuple[bool, bool]], loop: int) -> tuple[bool, str]:
    """Whether the lasso breaks a property of `kind`, and how, or why it does not. `pq[k]` is
    (p, q) at state k; the states from `loop` to the one before the last are the cycle (the last
    is `states[loop]` again), or only the last when the behaviour stutters there."""
    last = len(pq) - 1
    cycle = range(loop, last) if loop < last else range(last, last + 1)
    if kind == "eventually":
        k = next((k for k in range(len(pq)) if pq[k][0]), None)
        return (True, "never holds (false at every state)") if k is None else (False, f"its predicate holds at state {k}")
    if kind == "always_eventually":
        k = next((k for k in cycle if pq[k][0]), None)
        return ((True, "stops holding for good (false at every state of the cycle)") if k is None
                else (False, f"its predicate holds at state {k}, on the cycle, so again and again"))
    if kind == "eventually_always":
        k = next((k for k in cycle if not pq[k][0]), None)
        return ((False, "its predicate holds at every state of the cycle") if k is None
                else (True, f"keeps failing again and again (false at state {k}, on the cycle)"))
    k = next((k for k in cycle if pq[k][1]), None)
    if k is not None:
        return False, f"its target holds at state {k}, on the cycle, so again and again"
    met = max((k for k in range(loop) if pq[k][1]), default=-1)
    k = next((k for k in range(met + 1, len(pq)) if pq[k][0]), None)
    if k is not None:
        return True, f"becomes pending at state {k} and is never met (its target is false from there on)"
    return False, ("its premise holds at no state" if met < 0
                   else f"its premise holds at no state after state {met}, where its target holds")


def _message(live: Liveness, what: str, cycle_steps: int) -> str:
    """The message of a lasso that breaks `live`, as `what` says."""
    behaviour = ("stutters for ever" if cycle_steps == 0
                 else f"repeats a cycle of {cycle_steps} step{'s' * (cycle_steps != 1)}")
    where = f" ({live.instance})" if live.instance else ""
    return f"liveness `{live.name}`{where} ({live.span}) {what}: the behaviour {behaviour}"
