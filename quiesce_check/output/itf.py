"""A counterexample as ITF JSON (the Informal Trace Format of Apalache and Quint), `--itf FILE`.

Takes a `Trace` and `ModelInfo`; gives the ITF document (`to_itf`). Variables
are the model's variables (process locals as `Proc.x`, program counters as
`Proc.pc` holding the position as text). Integers are `{"#bigint": "n"}`,
enum values strings, arrays indexed by `0..n-1` JSON lists, other arrays
`{"#map": [[key, value], ...]}`, records objects. The step that led to each
state is in the state's `#meta`; a step that failed (assertion, model error)
is in the trace's `#meta`, as is the violation (its kind, property, message).

A lasso (a liveness counterexample) has ITF's `loop`: the index of the state
the last state goes on to, the states from there to the last repeating for
ever. A `Trace`'s last state is `states[loop]` again, reached by the step that
closes the cycle; ITF writes no state twice, so that last state is left out,
`loop` is the `Trace`'s, and the closing step is the trace's
`#meta.loop_step`. A lasso that stutters for ever in its last state (no cycle
steps) writes every state and `loop` the last one's index, with no
`loop_step`: the last state goes on to itself without a step. `trace.itf`
reads such a document back into the same `Trace`. Imports
`compile.*`, `lang.types`, `trace.itf`, `trace.steps`, `trace.types`.
"""

from __future__ import annotations

from typing import Any

from quiesce_check.compile.layout import State, pc_text, variable_values
from quiesce_check.compile.model import ModelInfo
from quiesce_check.lang.types import TArray, TBool, TEnum, TInt, TRecord, Type, Value, scalar_values
from quiesce_check.trace.itf import variable_names
from quiesce_check.trace.steps import describe_choices
from quiesce_check.trace.types import Step, Trace

ITF_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"


def value_to_itf(t: Type, v: Value) -> Any:
    if isinstance(t, TBool):
        return bool(v)
    if isinstance(t, TInt):
        return {"#bigint": str(int(v))}
    if isinstance(t, TEnum):
        return t.members[int(v)]
    if isinstance(t, TArray):
        assert isinstance(v, tuple)
        items = [value_to_itf(t.elem, x) for x in v]
        if isinstance(t.index, TInt) and t.index.lo == 0:
            return items
        keys = [value_to_itf(t.index, k) for k in scalar_values(t.index)]
        return {"#map": [[k, x] for k, x in zip(keys, items, strict=True)]}
    if isinstance(t, TRecord):
        assert isinstance(v, tuple)
        return {name: value_to_itf(ft, x) for (name, ft), x in zip(t.fields, v, strict=True)}
    raise TypeError(t)


def state_to_itf(info: ModelInfo, state: State) -> dict[str, Any]:
    lay = info.layout
    out: dict[str, Any] = {}
    values = variable_values(lay, state)
    for place in lay.places:
        out[place.name] = value_to_itf(place.type, values[place.name])
    for name, text in pc_text(lay, state).items():
        out[f"{name}.pc"] = text
    return out


def _step_meta(info: ModelInfo, step: Step) -> dict[str, str]:
    return {"action": info.actions[step.action].label, "choices": describe_choices(info, step.choices)}


def to_itf(info: ModelInfo, trace: Trace, source: str, params: dict[str, Value]) -> dict[str, Any]:
    closing = trace.loop is not None and trace.loop < len(trace.steps)
    written = trace.states[:-1] if closing else trace.states
    states = []
    for k, state in enumerate(written):
        meta: dict[str, Any] = {"index": k}
        if k > 0:
            meta.update(_step_meta(info, trace.steps[k - 1]))
            if not meta["choices"]:
                del meta["choices"]
        states.append({"#meta": meta, **state_to_itf(info, state)})
    doc_meta: dict[str, Any] = {
        "format": "ITF", "format-description": ITF_DESCRIPTION, "source": source,
        "description": f"quiesce-check counterexample: {trace.message}",
        "params": {k: v for k, v in params.items()},
        "violation": {"kind": trace.kind, "property": trace.property, "message": trace.message},
    }
    if len(trace.steps) >= len(trace.states):
        doc_meta["failing_step"] = _step_meta(info, trace.steps[-1])
    if closing:
        doc_meta["loop_step"] = _step_meta(info, trace.steps[-1])
    doc: dict[str, Any] = {"#meta": doc_meta, "vars": variable_names(info), "states": states}
    if trace.loop is not None:
        doc["loop"] = trace.loop
    return doc
