"""Traces in ITF JSON (the Informal Trace Format of Apalache and Quint) read back.

Takes the model's `ModelInfo` and an ITF document, as `output.itf` writes it
or another tool does; gives a `Recorded` trace (`from_itf`): the states of the
model's layout it records, each state's recorded step, the trace's `#meta`, and
for a lasso the state the behaviour loops back to; and the parameters a trace
records (`recorded_params`). Strictly: a document that is no ITF trace is a
`TraceFormatError` naming the state and variable. A trace that is ITF but not
of this model (a variable it lacks or does not have, a value outside a type, a
position the process does not have: the model was changed) is not an error of
the file: the states before the first such one are read, and `Recorded.unfit`
says which state does not fit and why, so that `replay` can name the first step
that no longer replays. The encoding is the one `output.itf` describes;
integers may also be plain JSON numbers, arrays indexed from 0 JSON lists, and a
program counter the `line:col` of its statement (as earlier versions wrote them:
such a trace replays as long as no line moved).

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

from quiesce_check.compile.layout import State, flatten, instance_name, set_elements
from quiesce_check.compile.model import ModelInfo
from quiesce_check.lang.positions import describe
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

_BIGINT = re.compile(r"-?[0-9]+")


class TraceFormatError(Exception):
    """A trace file that is not ITF."""


class TraceMismatch(TraceFormatError):
    """An ITF trace whose states are not states of this model (its variables, types, positions)."""


def value_from_itf(t: Type, j: Any, where: str) -> Value:
    def bad(what: str) -> TraceFormatError:
        return TraceMismatch(f"{where}: expected {what}, found {_short(j)}")

    if isinstance(t, TBool):
        if not isinstance(j, bool):
            raise bad("true or false")
        return j
    if isinstance(t, TInt):
        if isinstance(j, dict) and set(j) == {"#bigint"} and isinstance(j["#bigint"], str):
            # ITF: an optional minus and ASCII decimal digits; not all that int() takes (`1_0`, ` 5`, `+5`)
            text = j["#bigint"]
            if not _BIGINT.fullmatch(text) or len(text) > 40:
                raise TraceFormatError(f"{where}: expected an integer, found {_short(j)}")
            n = int(text)
        elif isinstance(j, int) and not isinstance(j, bool):
            n = j
        else:
            raise bad('an integer ({"#bigint": "..."})')
        if t.lo is not None and not (t.lo <= n <= (t.hi if t.hi is not None else n)):
            raise TraceMismatch(f"{where}: {n} is outside {t}")
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
                    raise TraceFormatError(f"{where}: expected [key, value] pairs, found {_short(j)}")
                key = repr(value_from_itf(t.index, pair[0], where + " key"))
                if key in table:
                    raise TraceFormatError(f"{where}: expected each index once, not {_short(pair[0])} twice")
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
    if isinstance(t, TSet):
        if not (isinstance(j, dict) and set(j) == {"#set"} and isinstance(j["#set"], list)):
            raise bad('a set ({"#set": [...]})')
        members = [value_from_itf(t.elem, x, f"{where} member") for x in j["#set"]]
        if len(set(members)) < len(members):
            raise TraceFormatError(f"{where}: expected each member once, found {_short(j)}")
        return frozenset(x for x in set_elements(t) if x in members)
    if isinstance(t, TSeq):
        if not isinstance(j, list) or len(j) > t.capacity:
            raise bad(f"a sequence of at most {t.capacity} elements")
        return tuple(value_from_itf(t.elem, x, f"{where}[{i}]") for i, x in enumerate(j))
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
    actions: list[str | None]   # per state, the recorded id (or label) of the step that led to it
    meta: dict[str, Any]        # the document's `#meta`
    loop: int | None = None     # a lasso: the behaviour goes on for ever as from `states[loop]`
    unfit: tuple[int, str] | None = None  # the first state that is none of this model's, and why


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


def _positions(info: ModelInfo) -> dict[str, tuple[int, dict[str, int]]]:
    """Per program counter, its slot and the texts that name each position: the stable name, and
    the `line:col` earlier versions wrote."""
    lay = info.layout
    pcs: dict[str, tuple[int, dict[str, int]]] = {}
    for proc, inst in lay.instances:
        pos = proc.positions
        texts = {pos.names[k]: n for n, k in enumerate(pos.keys)}
        texts.update({describe(pos, k): n for n, k in enumerate(pos.keys) if describe(pos, k) not in texts})
        pcs[f"{instance_name(proc, inst)}.pc"] = (lay.pc_slot[(proc.name, inst)], texts)
    return pcs


def _state(info: ModelInfo, pcs: dict[str, tuple[int, dict[str, int]]], k: int, js: dict[str, Any]) -> State:
    """State k of the document in the model's layout; `TraceMismatch` if it is none of its states."""
    lay = info.layout
    slots: list[Value] = [0] * len(lay.slots)
    for place in lay.places:
        if place.name not in js:
            raise TraceMismatch(f"state {k}: variable `{place.name}` is missing")
        v = value_from_itf(place.type, js[place.name], f"state {k}, `{place.name}`")
        slots[place.base:place.base + place.count] = flatten(place.type, v)
    for name, (slot, texts) in pcs.items():
        text = js.get(name)
        if not isinstance(text, str) or text not in texts:
            names = [t for t in texts if ":" not in t]
            raise TraceMismatch(f"state {k}: `{name}` is {_short(text)}, which is none of the process's "
                                f"positions ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''})")
        slots[slot] = texts[text]
    return tuple(slots)


def _variables(info: ModelInfo, doc: dict[str, Any]) -> None:
    """`TraceMismatch` if the document's `vars` are not the model's variables."""
    expected = variable_names(info)
    if isinstance(doc.get("vars"), list) and sorted(map(str, doc["vars"])) != sorted(expected):
        missing = sorted(set(expected) - set(map(str, doc["vars"])))
        extra = sorted(set(map(str, doc["vars"])) - set(expected))
        raise TraceMismatch("the trace's variables are not this model's"
                            + (f"; the model has {', '.join(missing)}, the trace not" if missing else "")
                            + (f"; the trace has {', '.join(extra)}, the model not" if extra else ""))


def from_itf(info: ModelInfo, doc: Any) -> Recorded:
    """The trace an ITF document records, in the states of the model's layout, up to the first
    state that is none of the model's (`Recorded.unfit`)."""
    if not isinstance(doc, dict):
        raise TraceFormatError("an ITF trace is a JSON object with `vars` and `states`")
    if not isinstance(doc.get("states"), list) or not doc["states"]:
        raise TraceFormatError("the trace has no `states` list, or it is empty")
    pcs = _positions(info)
    states: list[State] = []
    actions: list[str | None] = []
    unfit: tuple[int, str] | None = None
    try:
        _variables(info, doc)
    except TraceMismatch as e:
        unfit = (0, str(e))
    for k, js in enumerate(doc["states"]):
        if not isinstance(js, dict):
            raise TraceFormatError(f"state {k}: not a JSON object")
        if unfit is None:
            try:
                states.append(_state(info, pcs, k, js))
            except TraceMismatch as e:
                unfit = (k, str(e))
        state_meta = js.get("#meta")
        action = state_meta.get("action") if isinstance(state_meta, dict) else None
        actions.append(action if isinstance(action, str) else None)
    doc_meta = doc.get("#meta")
    meta = doc_meta if isinstance(doc_meta, dict) else {}
    if unfit is not None:
        return Recorded(states, actions, meta, None, unfit)
    loop = _loop(doc, states, actions, meta)
    return Recorded(states, actions, meta, loop)


def _param_value(j: Any) -> Any:
    """A recorded parameter's value as `--param` takes it, or None if it is no scalar."""
    if isinstance(j, dict) and set(j) == {"#bigint"} and isinstance(j["#bigint"], str) \
            and len(j["#bigint"]) <= 4000 and _BIGINT.fullmatch(j["#bigint"]):
        return int(j["#bigint"])
    return j if isinstance(j, int | str) else None  # bool is an int


def recorded_params(doc: Any) -> dict[str, Any]:
    """The parameters a trace records: ITF's `params`, set in the initial state (as `output.itf`
    writes them), or `#meta.params` (as earlier versions did). Values that are no boolean,
    integer or name are left out."""
    if not isinstance(doc, dict):
        return {}
    out: dict[str, Any] = {}
    states = doc.get("states")
    first = states[0] if isinstance(states, list) and states and isinstance(states[0], dict) else {}
    if isinstance(doc.get("params"), list):
        out = {k: _param_value(first.get(k)) for k in doc["params"] if isinstance(k, str)}
    meta = doc.get("#meta")
    if not out and isinstance(meta, dict) and isinstance(meta.get("params"), dict):
        out = {k: _param_value(v) for k, v in meta["params"].items() if isinstance(k, str)}
    return {k: v for k, v in out.items()
            if v is not None and (not isinstance(v, str) or v.isidentifier())}
