"""Semantic types of QDL values, shared by the checker and every later stage.

Takes nothing; gives the type classes, their value sets and the rules for
assignment and comparison. Runtime values are plain Python: `bool`, `int`
(enum members are their position in the enum), `tuple` for arrays (in index
order) and records (in field order). Imports nothing of the project.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TBool:
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True, slots=True)
class TInt:
    """An integer range lo..hi; `lo is None` for the unbounded type of arithmetic.

    `sym` names the `symmetric type` the range was declared as: its values are
    interchangeable, so they may be compared for equality, used as indices of
    arrays indexed by the same type and bound by quantifiers, and nothing else."""

    lo: int | None = None
    hi: int | None = None
    sym: str | None = None

    def __str__(self) -> str:
        if self.sym is not None:
            return self.sym
        return "int" if self.lo is None else f"{self.lo}..{self.hi}"


@dataclass(frozen=True, slots=True)
class TEnum:
    name: str
    members: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class TArray:
    index: Scalar
    elem: Type

    def __str__(self) -> str:
        return f"array[{self.index}] of {self.elem}"


@dataclass(frozen=True, slots=True)
class TRecord:
    fields: tuple[tuple[str, Type], ...]

    def __str__(self) -> str:
        return "record { " + ", ".join(f"{n}: {t}" for n, t in self.fields) + " }"

    def field(self, name: str) -> Type | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None


@dataclass(frozen=True, slots=True)
class TProc:
    """A process (or one instance of an indexed process): only `P@label` and `P.x` apply."""

    name: str
    indexed: bool

    def __str__(self) -> str:
        return f"process {self.name}"


Scalar = TBool | TInt | TEnum
Type = TBool | TInt | TEnum | TArray | TRecord | TProc

INT = TInt()
BOOL = TBool()
# A runtime value: bool, int (enum members by position), or a tuple (arrays, records).
Value = Any


def is_finite_scalar(t: Type) -> bool:
    return isinstance(t, TBool | TEnum) or (isinstance(t, TInt) and t.lo is not None)


def scalar_values(t: Scalar) -> tuple[Value, ...]:
    if isinstance(t, TBool):
        return (False, True)
    if isinstance(t, TEnum):
        return tuple(range(len(t.members)))
    assert t.lo is not None and t.hi is not None
    return tuple(range(t.lo, t.hi + 1))


def size(t: Type) -> int:
    """How many values the type has (a bound on state-space size)."""
    if isinstance(t, TBool):
        return 2
    if isinstance(t, TEnum):
        return len(t.members)
    if isinstance(t, TInt):
        assert t.lo is not None and t.hi is not None
        return t.hi - t.lo + 1
    if isinstance(t, TArray):
        return size(t.elem) ** size(t.index)
    if isinstance(t, TRecord):
        n = 1
        for _, ft in t.fields:
            n *= size(ft)
        return n
    raise TypeError(t)


def all_values(t: Type) -> Iterator[Value]:
    """Every value of a finite type, in a fixed order."""
    if isinstance(t, TBool | TEnum | TInt):
        yield from scalar_values(t)
    elif isinstance(t, TArray):
        n = size(t.index)
        yield from itertools.product(*(list(all_values(t.elem)) for _ in range(n)))
    elif isinstance(t, TRecord):
        yield from itertools.product(*(list(all_values(ft)) for _, ft in t.fields))
    else:
        raise TypeError(t)


def index_position(t: Scalar, value: Value) -> int:
    """Position of an index value in its type (0-based), or -1 if outside it."""
    if isinstance(t, TBool):
        return int(bool(value))
    if isinstance(t, TEnum):
        return value if isinstance(value, int) and 0 <= value < len(t.members) else -1
    assert t.lo is not None and t.hi is not None
    v = int(value)
    return v - t.lo if t.lo <= v <= t.hi else -1


def format_value(t: Type, v: Value) -> str:
    """A value as a user writes it in QDL."""
    if isinstance(t, TBool):
        return "true" if v else "false"
    if isinstance(t, TEnum):
        assert isinstance(v, int)
        return t.members[v] if 0 <= v < len(t.members) else f"<{v}?>"
    if isinstance(t, TInt):
        return str(v)
    if isinstance(t, TArray):
        assert isinstance(v, tuple)
        return "[" + ", ".join(format_value(t.elem, x) for x in v) + "]"
    if isinstance(t, TRecord):
        assert isinstance(v, tuple)
        return "{" + ", ".join(f"{n}: {format_value(ft, x)}" for (n, ft), x in zip(t.fields, v, strict=True)) + "}"
    return str(v)


def compatible(target: Type, value: Type) -> bool:
    """Whether a value of type `value` may be stored where `target` is declared.

    Integers always fit statically: their range is checked when the step runs.
    An array fits one with the same number of elements whose index type is the
    same or is the positional index of a literal (`TInt(0, n-1)` from `[a, b]`).
    """
    if isinstance(target, TBool):
        return isinstance(value, TBool)
    if isinstance(target, TInt):
        return isinstance(value, TInt)
    if isinstance(target, TEnum):
        return value == target
    if isinstance(target, TArray):
        if not isinstance(value, TArray):
            return False
        if size(target.index) != size(value.index):
            return False
        if not (same_scalar(target.index, value.index) or isinstance(value.index, TInt)):
            return False
        return compatible(target.elem, value.elem)
    if isinstance(target, TRecord):
        if not isinstance(value, TRecord):
            return False
        if [n for n, _ in target.fields] != [n for n, _ in value.fields]:
            return False
        return all(compatible(a, b) for (_, a), (_, b) in zip(target.fields, value.fields, strict=True))
    return False


def same_scalar(a: Type, b: Type) -> bool:
    if isinstance(a, TInt) and isinstance(b, TInt):
        return (a.lo, a.hi) == (b.lo, b.hi) or a.lo is None or b.lo is None
    return a == b


def comparable(a: Type, b: Type) -> bool:
    return compatible(a, b) or compatible(b, a)


def sym_of(t: Type) -> str | None:
    """The symmetric type whose values `t` holds, if it is one."""
    return t.sym if isinstance(t, TInt) else None


def sym_clash(target: Type, value: Type) -> tuple[Type, Type] | None:
    """Where a value of type `value` stored in (or compared with) `target` would mix a
    symmetric type with something else: the two scalar or index types that differ, else None."""
    if isinstance(target, TInt) and isinstance(value, TInt):
        return None if target.sym == value.sym else (target, value)
    if isinstance(target, TArray) and isinstance(value, TArray):
        if sym_of(target.index) != sym_of(value.index):
            return target.index, value.index
        return sym_clash(target.elem, value.elem)
    if isinstance(target, TRecord) and isinstance(value, TRecord):
        for (_, a), (_, b) in zip(target.fields, value.fields, strict=False):
            clash = sym_clash(a, b)
            if clash is not None:
                return clash
    return None


def has_sym(t: Type) -> bool:
    """Whether a value of `t` holds or is indexed by values of a symmetric type."""
    if isinstance(t, TInt):
        return t.sym is not None
    if isinstance(t, TArray):
        return has_sym(t.index) or has_sym(t.elem)
    if isinstance(t, TRecord):
        return any(has_sym(ft) for _, ft in t.fields)
    return False
