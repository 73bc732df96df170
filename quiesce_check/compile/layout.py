"""State layout: which slot of the state tuple holds which scalar.

Gives the `Layout` type (`layout_build.build_layout` makes one from a checked
model): one slot per scalar of every global variable (arrays and records
flattened in index and field order), then per process instance its program
counter and its locals. Every slot has a finite range, so a later backend may
pack a state into bits. Also converts between a state and readable, structured
values (for traces and ITF). Imports `lang.types` and `lang.positions`; the
checker's `ProcInfo` and `VarInfo`, which the layout holds, only for type
checking, so that the engines load no parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quiesce_check.lang.positions import describe
from quiesce_check.lang.types import (
    Scalar,
    TArray,
    TBool,
    TEnum,
    TInt,
    TRecord,
    TSeq,
    TSet,
    Type,
    Value,
    all_values,
    format_value,
    least_value,
    scalar_values,
)

if TYPE_CHECKING:
    from quiesce_check.lang.checker import ProcInfo, VarInfo

State = tuple[Any, ...]
_SCALARS = (TBool, TInt, TEnum)


@dataclass(frozen=True)
class SlotInfo:
    name: str     # `ver[2]`, `req.page`, `Guest.pc`, `Worker[1].n`
    type: Type    # a scalar type (bool, range, enum) or TInt for a program counter
    lo: int
    hi: int


@dataclass(frozen=True)
class VarPlace:
    """Where a variable (of one process instance, for locals) lives: `count` slots from `base`."""

    name: str     # as shown to users: `ver`, `Guest.n`, `Worker[1].n`
    type: Type
    base: int
    count: int


@dataclass
class Layout:
    slots: list[SlotInfo] = field(default_factory=list)
    places: list[VarPlace] = field(default_factory=list)
    by_var: dict[tuple[int, object], VarPlace] = field(default_factory=dict)
    pc_slot: dict[tuple[str, object], int] = field(default_factory=dict)
    instances: list[tuple[ProcInfo, object]] = field(default_factory=list)

    def place(self, var: VarInfo, instance: object = None) -> VarPlace:
        return self.by_var[(id(var), instance)]

    def __len__(self) -> int:
        return len(self.slots)


def slot_count(t: Type) -> int:
    if isinstance(t, TArray):
        return len(scalar_values(t.index)) * slot_count(t.elem)
    if isinstance(t, TRecord):
        return sum(slot_count(ft) for _, ft in t.fields)
    if isinstance(t, TSet):
        return len(set_elements(t))
    if isinstance(t, TSeq):
        return 1 + t.capacity * slot_count(t.elem)
    return 1


def set_elements(t: TSet) -> tuple[Value, ...]:
    """The values a set's bits stand for, in slot order."""
    return _elements(t.elem)


_ELEMENTS: dict[Type, tuple[Value, ...]] = {}


def _elements(t: Type) -> tuple[Value, ...]:
    if t not in _ELEMENTS:
        _ELEMENTS[t] = tuple(all_values(t))
    return _ELEMENTS[t]


def instance_name(proc: ProcInfo, instance: object) -> str:
    if proc.index_type is None:
        return proc.name
    return f"{proc.name}[{format_value(proc.index_type, instance)}]"


def flatten(t: Type, v: Value) -> list[Value]:
    """A structured value as the scalars of its slots."""
    if isinstance(t, TArray):
        assert isinstance(v, tuple)
        return [x for item in v for x in flatten(t.elem, item)]
    if isinstance(t, TRecord):
        assert isinstance(v, tuple)
        return [x for (_, ft), item in zip(t.fields, v, strict=True) for x in flatten(ft, item)]
    if isinstance(t, TSet):
        return [x in v for x in set_elements(t)]
    if isinstance(t, TSeq):
        pad = [least_value(t.elem)] * (t.capacity - len(v))
        return [len(v)] + [x for item in (*v, *pad) for x in flatten(t.elem, item)]
    return [v]


def _count(t: Scalar) -> int:
    """How many values a scalar type has (`len(scalar_values(t))`, without making them)."""
    if isinstance(t, TBool):
        return 2
    if isinstance(t, TEnum):
        return len(t.members)
    assert t.lo is not None and t.hi is not None
    return t.hi - t.lo + 1


def unflatten(t: Type, scalars: Sequence[Value]) -> Value:
    """The inverse of `flatten`. (Explanations read every state of a trace so: scalars and
    arrays of scalars, most of a state, are their slots as they are.)"""
    if isinstance(t, _SCALARS):
        return scalars[0]
    if isinstance(t, TArray):
        k = _count(t.index)
        if isinstance(t.elem, _SCALARS):
            return tuple(scalars[:k])
        n = slot_count(t.elem)
        return tuple(unflatten(t.elem, scalars[i * n:(i + 1) * n]) for i in range(k))
    if isinstance(t, TRecord):
        out = []
        pos = 0
        for _, ft in t.fields:
            n = slot_count(ft)
            out.append(unflatten(ft, scalars[pos:pos + n]))
            pos += n
        return tuple(out)
    if isinstance(t, TSet):
        return frozenset(x for x, bit in zip(set_elements(t), scalars, strict=True) if bit)
    if isinstance(t, TSeq):
        n = slot_count(t.elem)
        return tuple(unflatten(t.elem, scalars[1 + i * n:1 + (i + 1) * n]) for i in range(int(scalars[0])))
    return scalars[0]


def variable_values(lay: Layout, state: State) -> dict[str, Value]:
    """Each variable's structured value in a state, by its shown name."""
    return {p.name: unflatten(p.type, state[p.base:p.base + p.count]) for p in lay.places}


def pc_text(lay: Layout, state: State) -> dict[str, str]:
    """Each process instance's position as users read it (`12:5`, `end`)."""
    out = {}
    for proc, inst in lay.instances:
        pos = proc.positions
        key = pos.keys[state[lay.pc_slot[(proc.name, inst)]]]
        out[instance_name(proc, inst)] = describe(pos, key)
    return out


def format_slot(lay: Layout, index: int, value: Value) -> str:
    info = lay.slots[index]
    if info.name.endswith(".pc"):
        for proc, inst in lay.instances:
            if lay.pc_slot[(proc.name, inst)] == index:
                return describe(proc.positions, proc.positions.keys[int(value)])
    return format_value(info.type, value)
