"""The layout of a checked model: which slot of the state tuple holds which scalar.

Takes a `CheckedModel`; gives its `layout.Layout`: every global variable's
scalars in declaration order, then per process instance its program counter
and its locals. Kept apart from `layout` so that what only reads a layout (the
engines, the trace formats) does not load the checker. Imports
`compile.layout`, `lang.checker`, `lang.types`.
"""

from __future__ import annotations

from collections.abc import Iterator

from quiesce_check.compile.layout import Layout, SlotInfo, VarPlace, instance_name, set_elements
from quiesce_check.lang.checker import CheckedModel, VarInfo
from quiesce_check.lang.types import (
    BOOL,
    TArray,
    TBool,
    TEnum,
    TInt,
    TRecord,
    TSeq,
    TSet,
    Type,
    format_value,
    scalar_values,
)


def _scalar_names(name: str, t: Type) -> Iterator[tuple[str, Type]]:
    if isinstance(t, TArray):
        for v in scalar_values(t.index):
            yield from _scalar_names(f"{name}[{format_value(t.index, v)}]", t.elem)
    elif isinstance(t, TRecord):
        for fname, ft in t.fields:
            yield from _scalar_names(f"{name}.{fname}", ft)
    elif isinstance(t, TSet):
        for v in set_elements(t):  # one bit per value: `2 in s`
            yield f"{format_value(t.elem, v)} in {name}", BOOL
    elif isinstance(t, TSeq):
        yield f"len({name})", TInt(0, t.capacity)
        for i in range(t.capacity):
            yield from _scalar_names(f"{name}[{i}]", t.elem)
    else:
        yield name, t


def _bounds(t: Type) -> tuple[int, int]:
    if isinstance(t, TBool):
        return 0, 1
    if isinstance(t, TEnum):
        return 0, len(t.members) - 1
    assert isinstance(t, TInt) and t.lo is not None and t.hi is not None
    return t.lo, t.hi


def build_layout(cm: CheckedModel) -> Layout:
    lay = Layout()

    def add_var(var: VarInfo, shown: str, instance: object) -> None:
        base = len(lay.slots)
        for sname, st in _scalar_names(shown, var.type):
            lo, hi = _bounds(st)
            lay.slots.append(SlotInfo(sname, st, lo, hi))
        place = VarPlace(shown, var.type, base, len(lay.slots) - base)
        lay.places.append(place)
        lay.by_var[(id(var), instance)] = place

    for var in cm.globals:
        add_var(var, var.name, None)
    for proc in cm.processes:
        for inst in proc.instances:
            shown = instance_name(proc, inst)
            lay.instances.append((proc, inst))
            lay.pc_slot[(proc.name, inst)] = len(lay.slots)
            lay.slots.append(SlotInfo(f"{shown}.pc", TInt(0, len(proc.positions.keys) - 1), 0,
                                      len(proc.positions.keys) - 1))
            for var in proc.locals.values():
                add_var(var, f"{shown}.{var.name}", inst)
    return lay
