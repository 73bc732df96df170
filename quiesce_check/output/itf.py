"""A counterexample as ITF JSON (the Informal Trace Format of Apalache and Quint), `--itf FILE`.

Takes a `Trace` and `ModelInfo`; gives the ITF document (`to_itf`). The encoding,
as ITF's description (ADR-015, revised 2023) and its readers (itf-py, Quint's
`ofItf`) take it:
- `vars` are the model's variables: process locals as `Proc.x` (`P[1].x` for an
  instance of an indexed process), program counters as `Proc.pc`;
- integers are `{"#bigint": "n"}` (never bare JSON numbers), booleans JSON
  booleans, enum values the member's name;
- every array is a `#map` from its indices to its elements, whatever its index
  type: a JSON list would be read as a TLA+ or Quint sequence, indexed from 1,
  and an array indexed `0..n-1` would shift by one;
- a `set of T` is a `#set` (its members in the order of T's values), a
  `seq[N] of T` a JSON list (ITF's sequences), a record a JSON object;
- a program counter holds its position's stable name (`lang.positions`): a label,
  or a statement path such as `body_3_then_1`, or `end`; both are identifiers, and
  neither moves when a line is added. The `line:col` people read is in each
  state's `#meta.positions`;
- the parameters are ITF's top-level `params` (their names), set in the initial
  state beside the variables, as ITF says parameters are;
- the step that led to each state is in the state's `#meta` (`action`, the
  action's id: `trace.steps.action_ids`; `choices`, name and value pairs, as
  plain JSON: `#meta` is not ITF's values); a
  step that failed (assertion, model error) is in the trace's `#meta`, as is
  the violation (its kind, property, message).

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

from quiesce_check.compile.layout import (
    State,
    instance_name,
    pc_text,
    set_elements,
    variable_values,
)
from quiesce_check.compile.model import ModelInfo
from quiesce_check.lang.types import (
    TArray,
    TBool,
    TEnum,
    TInt,
    TRecord,
    TSeq,
    TSet,
    Type,
    Value,
    scalar_values,
)
from quiesce_check.trace.itf import variable_names
from quiesce_check.trace.steps import action_ids, choice_pairs
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
        keys = [value_to_itf(t.index, k) for k in scalar_values(t.index)]
        return {"#map": [[k, value_to_itf(t.elem, x)] for k, x in zip(keys, v, strict=True)]}
    if isinstance(t, TRecord):
        assert isinstance(v, tuple)
        return {name: value_to_itf(ft, x) for (name, ft), x in zip(t.fields, v, strict=True)}
    if isinstance(t, TSet):
        assert isinstance(v, frozenset | set | tuple)
        return {"#set": [value_to_itf(t.elem, x) for x in set_elements(t) if x in v]}
    if isinstance(t, TSeq):
        assert isinstance(v, tuple)
        return [value_to_itf(t.elem, x) for x in v]
    raise TypeError(t)


def pc_names(info: ModelInfo, state: State) -> dict[str, str]:
    """Each process instance's program counter as ITF holds it: its position's stable name."""
    lay = info.layout
    out = {}
    for proc, inst in lay.instances:
        pos = proc.positions
        out[f"{instance_name(proc, inst)}.pc"] = pos.names[pos.keys[state[lay.pc_slot[(proc.name, inst)]]]]
    return out


def state_to_itf(info: ModelInfo, state: State) -> dict[str, Any]:
    lay = info.layout
    out: dict[str, Any] = {}
    values = variable_values(lay, state)
    for place in lay.places:
        out[place.name] = value_to_itf(place.type, values[place.name])
    out.update(pc_names(info, state))
    return out


def param_to_itf(v: Value) -> Any:
    """A parameter as `--param` takes it (an enum member by name) as an ITF value."""
    if isinstance(v, bool | str):
        return v
    return {"#bigint": str(int(v))}


def _step_meta(info: ModelInfo, ids: list[str], step: Step) -> dict[str, Any]:
    meta: dict[str, Any] = {"action": ids[step.action]}
    pairs = choice_pairs(info, step.choices)
    if pairs:
        meta["choices"] = [{"name": n, "value": v} for n, v in pairs]  # #meta is plain JSON
    return meta


def to_itf(info: ModelInfo, trace: Trace, source: str, params: dict[str, Value]) -> dict[str, Any]:
    closing = trace.loop is not None and trace.loop < len(trace.steps)
    written = trace.states[:-1] if closing else trace.states
    ids = action_ids(info)
    states = []
    for k, state in enumerate(written):
        meta: dict[str, Any] = {"index": k}
        if k > 0:
            meta.update(_step_meta(info, ids, trace.steps[k - 1]))
        meta["positions"] = {f"{name}.pc": text for name, text in pc_text(info.layout, state).items()}
        given = {name: param_to_itf(v) for name, v in params.items()} if k == 0 else {}
        states.append({"#meta": meta, **given, **state_to_itf(info, state)})
    doc_meta: dict[str, Any] = {
        "format": "ITF", "format-description": ITF_DESCRIPTION, "source": source,
        "description": f"quiesce-check counterexample: {trace.message}",
        "violation": {"kind": trace.kind, "property": trace.property, "message": trace.message},
    }
    if len(trace.steps) >= len(trace.states):
        doc_meta["failing_step"] = _step_meta(info, ids, trace.steps[-1])
    if closing:
        doc_meta["loop_step"] = _step_meta(info, ids, trace.steps[-1])
    doc: dict[str, Any] = {"#meta": doc_meta, "params": list(params), "vars": variable_names(info),
                           "states": states}
    if trace.loop is not None:
        doc["loop"] = trace.loop
    return doc
