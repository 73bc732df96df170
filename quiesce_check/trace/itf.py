"""Traces in ITF JSON (the Informal Trace Format of Apalache and Quint) read back.

Takes the model's `ModelInfo` and an ITF document, as `output.itf` writes it
or another tool does; gives a `Recorded` trace (`from_itf`): the states of the
model's layout it records, each state's recorded step, the trace's `#meta`, and
for a lasso the state the behaviour loops back to. Strictly: every problem is a
`TraceFormatError` naming the state and variable. The encoding is the one
`output.itf` describes; integers may also be plain JSON numbers.

A lasso. ITF's `loop` is the index of the state the last state goes on to: the
states from `loop` to the last repeat for ever. A `Trace` writes the state the
cycle closes on twice (its last state is `states[loop]` again), so the reader
appends that state, reached by one more step (the closing step, whose action
the document's `#meta.loop_step` names), unless the last state already is
`states[loop]` and no closing step is recorded: then the file repeats the state
itself (as a `Trace` does), or, with `loop` the last index, the behaviour
stutters there for ever. `output.itf` writes exactly that.

This is the input of `replay`, so it sits below the output formats. Imports
`compile.*`, `lang.positions`, `lang.types`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from quiesce_check.compile.layout import State, flatten, instance_name
from quiesce_check.compile.model import ModelInfo
from quiesce_check.lang.positions import describe
from quiesce_check.lang.types import TArray, TBool, TEnum, TInt, TRecord, Type, Value, scalar_values

_BIGINT = re.compile(r"-?[0-9]+")


class TraceFormatError(Exception):
    """A trace file that is not ITF, or not a trace of this model's variables."""


def value_from_itf(t: Type, j: Any, where: str) -> Value:
    def bad(what: str) -> TraceFormatError:
        return TraceFormatError(f"{where}: expected {what}, found {_short(j)}")

    if isinstance(t, TBool):
        if not isinstance(j, bool):
            raise bad("true or false")
        return j
    if isinstance(t, TInt):
        if isinstance(j, dict) and set(j) == {"#bigint"} and isinstance(j["#bigint"], str):
            # ITF: an optional minus and ASCII decimal digits; not all that int() takes (`1_0`, ` 5`, `+5`)
            text = j["#bigint"]
            if not _BIGINT.fullmatch(text) or len(text) > 40:
                raise bad("an integer")
            n = int(text)
        elif isinstance(j, int) and not isinstance(j, bool):
            n = j
        else:
            raise bad('an integer ({"#bigint": "..."})')
        if t.lo is not None and not (t.lo <= n <= (t.hi if t.hi is not None else n)):
            raise TraceFormatError(f"{where}: {n} is outside {t}")
        return n
    if isinstance(t, TEnum):
        if not isinstance(j, str) or j not in t.members:
            raise bad("one of " + ", ".join(t.members))
        return t.members.index(j)
    if isinstance(t, TArray):
        keys = scalar_values(t.index)
        if isinstance(j, list):
            items = j
        elif isinstance(j, dict) and set(j) == {"#map"} and isinstance(j["#map"], list):
            table = {}
            for pair in j["#map"]:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise bad("[key, value] pairs")
                key = repr(value_from_itf(t.index, pair[0], where + " key"))
                if key in table:
                    raise bad(f"each index once, not {_short(pair[0])} twice")
                table[key] = pair[1]
            try:
                items = [table[repr(k)] for k in keys]
            except KeyError:
                raise bad(f"a value for every index of {t.index}") from None
        else:
            raise bad("an array")
        if len(items) != len(keys):
            raise bad(f"{len(keys)} elements")
        return tuple(value_from_itf(t.elem, x, f"{where}[{i}]") for i, x in enumerate(items))
    if isinstance(t, TRecord):
        if not isinstance(j, dict) or set(j) != {n for n, _ in t.fields}:
            raise bad("a record with fields " + ", ".join(n for n, _ in t.fields))
        return tuple(value_from_itf(ft, j[n], f"{where}.{n}") for n, ft in t.fields)
    raise TypeError(t)


def _short(j: Any) -> str:
    text = repr(j)
    return text if len(text) <= 60 else text[:57] + "..."


def variable_names(info: ModelInfo) -> list[str]:
    lay = info.layout
    return [p.name for p in lay.places] + [f"{instance_name(p, i)}.pc" for p, i in lay.instances]


@dataclass(frozen=True)
class Recorded:
    """A trace as a document records it, in the states of the model's layout."""

    states: list[State]         # a lasso's last state is `states[loop]` again (as in a `Trace`)
    actions: list[str | None]   # per state, the recorded label of the step that led to it
    meta: dict[str, Any]        # the document's `#meta`
    loop: int | None = None     # a lasso: the behaviour goes on for ever as from `states[loop]`


def _loop(doc: dict[str, Any], states: list[State], actions: list[str | None],
          meta: dict[str, Any]) -> int | None:
    """ITF's `loop` as a `Trace`'s: the state the cycle closes on appended, with its step's
    recorded action, when the document does not repeat it (the module's docstring)."""
    loop = doc.get("loop")
    if loop is None:
        return None
    if not isinstance(loop, int) or isinstance(loop, bool) or not 0 <= loop < len(states):
        raise TraceFormatError(f"`loop` must be the index of one of the trace's {len(states)} states, "
                               f"found {_short(loop)}")
    step = meta.get("loop_step")
    action = step.get("action") if isinstance(step, dict) else None
    if isinstance(step, dict) or states[-1] != states[loop]:
        states.append(states[loop])
        actions.append(action if isinstance(action, str) else None)
    return loop


def from_itf(info: ModelInfo, doc: Any) -> Recorded:
    """The trace an ITF document records, in the states of the model's layout."""
    if not isinstance(doc, dict):
        raise TraceFormatError("an ITF trace is a JSON object with `vars` and `states`")
    if not isinstance(doc.get("states"), list) or not doc["states"]:
        raise TraceFormatError("the trace has no `states` list, or it is empty")
    expected = variable_names(info)
    if isinstance(doc.get("vars"), list) and sorted(map(str, doc["vars"])) != sorted(expected):
        missing = sorted(set(expected) - set(map(str, doc["vars"])))
        extra = sorted(set(map(str, doc["vars"])) - set(expected))
        raise TraceFormatError("the trace's variables are not this model's"
                               + (f"; missing: {', '.join(missing)}" if missing else "")
                               + (f"; unknown: {', '.join(extra)}" if extra else ""))
    lay = info.layout
    pcs: dict[str, tuple[int, dict[str, int]]] = {}
    for proc, inst in lay.instances:
        texts = {describe(proc.positions, k): n for n, k in enumerate(proc.positions.keys)}
        pcs[f"{instance_name(proc, inst)}.pc"] = (lay.pc_slot[(proc.name, inst)], texts)
    states: list[State] = []
    actions: list[str | None] = []
    for k, js in enumerate(doc["states"]):
        if not isinstance(js, dict):
            raise TraceFormatError(f"state {k}: not a JSON object")
        slots: list[Value] = [0] * len(lay.slots)
        for place in lay.places:
            if place.name not in js:
                raise TraceFormatError(f"state {k}: variable `{place.name}` is missing")
            v = value_from_itf(place.type, js[place.name], f"state {k}, `{place.name}`")
            slots[place.base:place.base + place.count] = flatten(place.type, v)
        for name, (slot, texts) in pcs.items():
            text = js.get(name)
            if not isinstance(text, str) or text not in texts:
                raise TraceFormatError(f"state {k}: `{name}` must be one of the process's positions "
                                       f"({', '.join(list(texts)[:6])}{', ...' if len(texts) > 6 else ''}), "
                                       f"found {_short(text)}")
            slots[slot] = texts[text]
        state_meta = js.get("#meta")
        action = state_meta.get("action") if isinstance(state_meta, dict) else None
        actions.append(action if isinstance(action, str) else None)
        states.append(tuple(slots))
    doc_meta = doc.get("#meta")
    meta = doc_meta if isinstance(doc_meta, dict) else {}
    loop = _loop(doc, states, actions, meta)
    return Recorded(states, actions, meta, loop)
