"""A result as one JSON document (`--json FILE`), for CI glue and other tools.

Takes a `Result`, the model's `ModelInfo` and the run's settings; gives a
plain dict with stable key order. A trace has its kind (`liveness` for a
lasso, `action` for a step property), its rows and its `loop` as `Trace` has
it (null for a finite trace); the result its verdict and exit code (13 for a
liveness violation), and `failure`: the model error or failed assertion
that stopped the search (what, where, at which step; `note` says it in
words too). Times are under `stats.seconds`,
`stats.states_per_second` and `symbolic.solver_seconds` only, so two runs
differ nowhere else. Imports
`compile.*`, `engines.result`, `lang.types`, `trace.steps`, `trace.timeline`
(the type of an explanation).
"""

from __future__ import annotations

from typing import Any

from quiesce_check.compile.model import ModelInfo
from quiesce_check.compile.size import StateSpace
from quiesce_check.engines.result import Halt, Result, halt_note, halt_of, never_fired
from quiesce_check.lang.types import Value
from quiesce_check.trace.steps import rows
from quiesce_check.trace.timeline import Explain
from quiesce_check.trace.types import Trace


def trace_to_json(info: ModelInfo, t: Trace, explain: Explain | None = None,
                  whole_first: bool = False) -> dict[str, Any]:
    return {
        "kind": t.kind, "property": t.property, "message": t.message, "length": len(t.steps),
        # a lasso: the behaviour goes on for ever as from state `loop` (the last state is that one
        # again, reached by the step closing the cycle; `loop` == `length`: it stays there)
        "loop": t.loop,
        "steps": [
            {"index": r.index, "process": r.process, "action": r.action, "choices": r.choices,
             "text": r.text, "at": r.where, "failed": r.failed,
             "changes": [{"name": c.name, "before": c.before, "after": c.after} for c in r.changes]}
            for r in rows(info, t, whole_first)
        ],
        "explanation": explain(info, t) if explain is not None else [],
    }


def failure_to_json(halt: Halt | None) -> dict[str, Any] | None:
    """A model error or a failed assertion that stopped the search: its kind, message, the
    trace's row it shows at, and the failing step's label and position (null when a property
    could not be evaluated in that row's state)."""
    if halt is None:
        return None
    return {"kind": halt.trace.kind, "property": halt.trace.property, "message": halt.trace.message,
            "step": halt.row, "action": halt.action, "at": halt.at}


def space_to_json(space: StateSpace) -> dict[str, Any]:
    """The state space as the types bound it; the bound as text (it may pass any float)."""
    return {"initial_states": space.initial, "upper_bound": str(space.bound) if space.bound < 10**30
            else space.bound_text(), "slots": space.slots, "bits_per_state": space.bits}


def result_to_json(info: ModelInfo, result: Result, model_path: str, params: dict[str, Value],
                   explain: Explain | None = None) -> dict[str, Any]:
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
                    "never_fired": never_fired(info, result)},
        "checkpoint": result.checkpoint,
        "resumed": result.resumed,
        # what stopped the search, if a model error or a failed assertion did, said with the rest
        "note": "; ".join(x for x in (result.note, halt_note(info, result)) if x) or None,
        "failure": failure_to_json(halt_of(info, result.traces)),
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
            {"action": a.label, "text": a.text, "line": a.span.line,
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
            "first_step": {a.label: sym.first_step[a.index] for a in info.actions if a.index < len(sym.first_step)},
            "simulated": [info.actions[i].label for i in sym.simulated],
            "never": [info.actions[i].label for i in sym.never],
            "cti": trace_to_json(info, sym.cti, whole_first=True) if sym.cti is not None else None,
            "not_inductive": list(sym.not_inductive),
        }
    return doc
