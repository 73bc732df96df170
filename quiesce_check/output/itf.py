"""A counterexample as ITF JSON (the Informal Trace Format of Apalache and Quint), `--itf FILE`.

Takes a `Trace` and `ModelInfo`; gives the ITF document (`to_itf`). Variables
are the model's variables (process locals as `Proc.x`, program counters as
`Proc.pc` holding the position as text). Integers are `{"#bigint": "n"}`,
enum values strings, arrays indexed by `0..n-1` JSON lists, other arrays
`{"#map": [[key, value], ...]}`, records objects. The step that led to each
state is in the state's `#meta`; a step that failed (assertion, model error)
is in the trace's `#meta`. `trace.itf` reads such a document back. Imports
`compile.*`, `engines.result`, `lang.types`, `trace.itf`, `trace.steps`.
"""

from __future__ import annotations

from typing import Any

from quiesce_check.compile.layout import State, pc_text, variable_values
from quiesce_check.compile.model import ModelInfo
from quiesce_check.engines.result import Trace
from quiesce_check.lang.types import TArray, TBool, TEnum, TInt, TRecord, Type, Value, scalar_values
from quiesce_check.trace.itf import variable_names
from quiesce_check.trace.steps import describe_choices

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


def to_itf(info: ModelInfo, trace: Trace, source: str, params: dict[str, Value]) -> dict[str, Any]:
    states = []
    for k, state in enumerate(trace.states):
        meta: dict[str, Any] = {"index": k}
        if k > 0:
            step = trace.steps[k - 1]
            a = info.actions[step.action]
            meta["action"] = a.label
            if step.choices:
                meta["choices"] = describe_choices(info, step.choices)
        states.append({"#meta": meta, **state_to_itf(info, state)})
    doc_meta: dict[str, Any] = {
        "format": "ITF", "format-description": ITF_DESCRIPTION, "source": source,
        "description": f"quiesce-check counterexample: {trace.message}",
        "params": {k: v for k, v in params.items()},
        "violation": {"kind": trace.kind, "property": trace.property, "message": trace.message},
    }
    if len(trace.steps) >= len(trace.states):
        step = trace.steps[-1]
        doc_meta["failing_step"] = {"action": info.actions[step.action].label,
                                    "choices": describe_choices(info, step.choices)}
    return {"#meta": doc_meta, "vars": variable_names(info), "states": states}
