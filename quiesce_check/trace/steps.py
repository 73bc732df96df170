"""A trace as rows people read: per step the process, action, choices, changes.

Takes a `Trace` and the model's `ModelInfo`; gives `TraceRow`s shared by every
renderer (terminal, JSON, ITF meta). Program counters are not listed among the
changes: the action column already says which statement ran. Imports
`compile.*`, `trace.types`.
"""

from __future__ import annotations

from dataclasses import dataclass

from quiesce_check.compile.layout import State, format_slot
from quiesce_check.compile.model import Choices, ModelInfo
from quiesce_check.trace.types import Trace


@dataclass(frozen=True)
class Change:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class TraceRow:
    index: int            # step number, 1-based; 0 for the initial state
    process: str
    action: str
    choices: str
    text: str             # the source statement
    where: str            # path:line
    changes: tuple[Change, ...]
    failed: bool = False  # the step that failed (assertion, model error): no state after it


def describe_choices(info: ModelInfo, choices: Choices) -> str:
    parts = []
    for var, value in choices:
        name = info.choice_names[var] if 0 <= var < len(info.choice_names) else f"#{var}"
        shown = info.choice_shown.get(var)
        if name == "either":
            parts.append(f"branch {int(value) + 1}")
        elif shown is not None and 0 <= int(value) < len(shown):
            parts.append(f"{name}={shown[int(value)]}")
        else:
            parts.append(f"{name}={_scalar(value)}")
    return ", ".join(parts)


def _scalar(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def changes(info: ModelInfo, before: State, after: State) -> tuple[Change, ...]:
    out = []
    lay = info.layout
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        if a != b and not lay.slots[i].name.endswith(".pc"):
            out.append(Change(lay.slots[i].name, format_slot(lay, i, a), format_slot(lay, i, b)))
    return tuple(out)


def initial_values(info: ModelInfo, state: State, only: set[int] | None = None,
                   positions: bool = False) -> tuple[Change, ...]:
    lay = info.layout
    return tuple(Change(lay.slots[i].name, "", format_slot(lay, i, v))
                 for i, v in enumerate(state)
                 if (positions or not lay.slots[i].name.endswith(".pc")) and (only is None or i in only))


def rows(info: ModelInfo, trace: Trace, whole_first: bool = False) -> list[TraceRow]:
    """The steps of a trace; the initial state shows the variables the trace changes
    (all of them when it changes none). With `whole_first` (a counterexample to induction,
    whose first state is the point: every part of it may be what makes it unreachable) it
    shows every variable and where each process stands."""
    moving = {i for s in trace.states[1:] for i, (a, b) in enumerate(zip(trace.states[0], s, strict=True)) if a != b}
    first = initial_values(info, trace.states[0], None, positions=True) if whole_first \
        else initial_values(info, trace.states[0], moving or None)
    out = [TraceRow(0, "", "initial state", "", "", "", first)]
    for k, step in enumerate(trace.steps):
        a = info.actions[step.action] if 0 <= step.action < len(info.actions) else None
        failed = k + 1 >= len(trace.states)
        ch = changes(info, trace.states[k], trace.states[k + 1]) if not failed else ()
        out.append(TraceRow(
            index=k + 1,
            process=a.process if a else "",
            action=a.name if a else "?",
            choices=describe_choices(info, step.choices),
            text=a.text if a else "",
            where=f"{a.span.path}:{a.span.line}" if a else "",
            changes=ch,
            failed=failed,
        ))
    return out
