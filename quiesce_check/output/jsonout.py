"""A result as one JSON document (`--json FILE`), for CI glue and other tools.

Takes a `Result`, the model's `ModelInfo` and the run's settings; gives a
plain dict with stable key order, as `docs/schemas/result.schema.json`
describes it. A trace has its kind (`liveness` for a lasso, `action` for a
step property), its rows and its `loop` as `Trace` has it (null for a finite
trace); the result its verdict and exit code (13 for a liveness violation),
and `failure`: the model error or failed assertion that stopped the search
(what, where, at which step; `note` says it in words too). Values are typed
as the model's (numbers, booleans, an enum member's name; a program counter
its position's stable name, `lang.positions`), and a value the initial state
had no "before" for is null. Actions are named by their ids, unique in the
model (`trace.steps.action_ids`), with their labels beside them; a step's
choices are name and value pairs; an explanation is a list of whole
sentences. Times are under `stats.seconds`, `stats.states_per_second` and
`symbolic.solver_seconds` only, so two runs differ nowhere else. Imports
`compile.*`, `engines.result`, `lang.types`, `trace.steps`, `trace.timeline`
(the type of an explanation).
"""

from __future__ import annotations

import re
from typing import Any

from quiesce_check.compile.layout import Layout
from quiesce_check.compile.model import ModelInfo
from quiesce_check.compile.size import StateSpace
from quiesce_check.engines.result import Halt, Result, halt_note, halt_of, never_fired
from quiesce_check.lang.types import TBool, TEnum, Value
from quiesce_check.trace.steps import TraceRow, action_ids, choice_pairs, rows
from quiesce_check.trace.timeline import Explain
from quiesce_check.trace.types import Trace


def slot_json(lay: Layout, i: int, v: Value) -> Any:
    """A slot's value typed: a boolean, a number, an enum member's name, a position's stable name."""
    t = lay.slots[i].type
    if lay.slots[i].name.endswith(".pc"):
        for proc, inst in lay.instances:
            if lay.pc_slot[(proc.name, inst)] == i:
                return proc.positions.names[proc.positions.keys[int(v)]]
    if isinstance(t, TBool):
        return bool(v)
    if isinstance(t, TEnum):
        return t.members[int(v)]
    return int(v)


def _plain(v: object) -> Any:
    return v if isinstance(v, bool | int | str) else str(v)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def sentences(parts: list[str]) -> list[str]:
    """An explanation's parts, which may break a sentence (at a `;`), as whole sentences."""
    text = " ".join(p.strip() for p in parts if p.strip())
    return [x for x in _SENTENCE_END.split(text) if x] if text else []


def _step_json(info: ModelInfo, t: Trace, r: TraceRow, ids: list[str], slot_of: dict[str, int]) -> dict[str, Any]:
    lay = info.layout
    k = r.index
    step = t.steps[k - 1] if k > 0 else None
    a = info.actions[step.action] if step is not None and 0 <= step.action < len(info.actions) else None
    changes = []
    for c in r.changes:
        i = slot_of[c.name]
        before = slot_json(lay, i, t.states[k - 1][i]) if k > 0 else None
        changes.append({"name": c.name, "before": before, "after": slot_json(lay, i, t.states[k][i])})
    return {
        "index": k, "process": r.process,
        "action": ids[a.index] if a is not None else None, "label": a.label if a is not None else None,
        "choices": [{"name": n, "value": _plain(v)} for n, v in choice_pairs(info, step.choices)] if step else [],
        "text": r.text, "at": r.where or None, "failed": r.failed, "changes": changes,
    }


def trace_to_json(info: ModelInfo, t: Trace, explain: Explain | None = None,
                  whole_first: bool = False) -> dict[str, Any]:
    ids = action_ids(info)
    slot_of = {s.name: i for i, s in enumerate(info.layout.slots)}
    return {
        "kind": t.kind, "property": t.property, "message": t.message, "length": len(t.steps),
        # a lasso: the behaviour goes on for ever as from state `loop` (the last state is that one
        # again, reached by the step closing the cycle; `loop` == `length`: it stays there)
        "loop": t.loop,
        "steps": [_step_json(info, t, r, ids, slot_of) for r in rows(info, t, whole_first)],
        "explanation": sentences(explain(info, t)) if explain is not None else [],
    }


def failure_to_json(info: ModelInfo, halt: Halt | None) -> dict[str, Any] | None:
    """A model error or a failed assertion that stopped the search: its kind, message, the
    trace's row it shows at, and the failing step's id, label and position (null when a
    property could not be evaluated in that row's state)."""
    if halt is None:
        return None
    action = halt.trace.steps[-1].action if halt.action is not None and halt.trace.steps else None
    return {"kind": halt.trace.kind, "property": halt.trace.property, "message": halt.trace.message,
            "step": halt.row, "action": action_ids(info)[action] if action is not None else None,
            "label": halt.action, "at": halt.at}


def _unfired(info: ModelInfo, result: Result, ids: list[str]) -> list[str]:
    """The ids of the steps `never_fired` names (which it names by label, in action order)."""
    labels = never_fired(info, result)
    out, k = [], 0
    for a in info.actions:
        if k < len(labels) and a.label == labels[k] and (a.index >= len(result.stats.fired)
                                                          or not result.stats.fired[a.index]):
            out.append(ids[a.index])
            k += 1
    return out


def space_to_json(space: StateSpace) -> dict[str, Any]:
    """The state space as the types bound it; the bound as text (it may pass any float)."""
    return {"initial_states": space.initial, "upper_bound": str(space.bound) if space.bound < 10**30
            else space.bound_text(), "slots": space.slots, "bits_per_state": space.bits}


def result_to_json(info: ModelInfo, result: Result, model_path: str, params: dict[str, Value],
                   explain: Explain | None = None, unused: dict[int, str] | None = None) -> dict[str, Any]:
    """`unused`: the steps that cannot fire under the parameters (`compile.unused.unused_steps`),
    listed apart from the steps that never fired."""
    ids = action_ids(info)
    unused = unused or {}
    not_used = [{"action": ids[k], "with": setting or None} for k, setting in sorted(unused.items())]
    doc: dict[str, Any] = {
        "model": model_path,
        "params": dict(sorted(params.items())),
        "engine": result.engine,
        "backend": result.backend,
        "verdict": result.verdict.value,
        "exit_code": result.exit_code,
        "complete": result.complete,
        "limit": result.limit,
        "covered": {"distinct": result.stats.distinct, "depth": result.stats.depth,
                    "never_fired": [a for a in _unfired(info, result, ids)
                                    if a not in {ids[k] for k in unused}],
                    "not_used": not_used},
        "checkpoint": result.checkpoint,
        "resumed": result.resumed,
        # what stopped the search, if a model error or a failed assertion did, said with the rest
        "note": "; ".join(x for x in (result.note, halt_note(info, result)) if x) or None,
        "failure": failure_to_json(info, halt_of(info, result.traces)),
        "symmetry": result.symmetry,
        "seed": result.seed,
        "properties": [{"kind": p.kind, "name": p.name, "status": p.status.value,
                        **({"detail": p.detail} if p.detail else {})} for p in result.properties],
        "stats": {
            "generated": result.stats.generated,
            "distinct": result.stats.distinct,
            "depth": result.stats.depth,
            "seconds": round(result.stats.elapsed, 6),
            "states_per_second": round(result.stats.rate, 1),
            "store_bytes": result.store_bytes,
            "store": "exact" if result.collision is None else "fingerprint",
            # with --store fingerprint: the chance that a fingerprint collision hid a state
            "collision_probability": result.collision,
        },
        "coverage": [
            {"action": ids[a.index], "label": a.label, "text": a.text, "line": a.span.line,
             "fired": result.stats.fired[a.index], "new_states": result.stats.new[a.index]}
            for a in info.actions if a.index < len(result.stats.fired)
        ],
        "trace": None,
    }
    if result.trace is not None:
        doc["trace"] = trace_to_json(info, result.trace, explain)
    doc["traces"] = {name: trace_to_json(info, t, explain) for name, t in sorted(result.traces.items())}
    sym = result.symbolic
    if sym is not None:
        doc["symbolic"] = {
            "encoding": sym.encoding, "depth": sym.depth, "queries": sym.queries,
            "solver_seconds": round(sym.solver_seconds, 6), "proved_at": sym.proved_at,
            "complete_at": sym.complete_at, "generated_invariants": sym.generated,
            "first_step": {ids[a.index]: sym.first_step[a.index] for a in info.actions if a.index < len(sym.first_step)},
            "simulated": [ids[i] for i in sym.simulated],
            "never": [ids[i] for i in sym.never],
            "cti": trace_to_json(info, sym.cti, whole_first=True) if sym.cti is not None else None,
            "not_inductive": list(sym.not_inductive),
        }
    return doc
