"""Semantic types of QDL values, shared by the checker and every later stage.

Takes nothing; gives the type classes, their value sets and the rules for
assignment and comparison. Runtime values are plain Python: `bool`, `int`
(enum members are their position in the enum), `tuple` for arrays (in index
order) and records (in field order), `frozenset` for sets and `tuple` (of its length) for
sequences. Imports nothing of the project.
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
class TSet:
    """`set of T`: stored as one bit per value of T (`all_values(elem)` order).

    `elem` is `NOTHING` only for the empty literal `{}`, which fits every set."""

    elem: Type

    def __str__(self) -> str:
        return f"set of {self.elem}"


@dataclass(frozen=True, slots=True)
class TSeq:
    """`seq[N] of T`: a length 0..N and N element slots; the unused ones hold T's least value."""

    capacity: int
    elem: Type

    def __str__(self) -> str:
        return f"seq[{self.capacity}] of {self.elem}"


@dataclass(frozen=True, slots=True)
class TNothing:
    """The element type of `{}` and `<<>>`: no value has it, so it fits any element type."""

    def __str__(self) -> str:
        return "nothing"


@dataclass(frozen=True, slots=True)
class TProc:
    """A process (or one instance of an indexed process): only `P@label` and `P.x` apply."""

    name: str
    indexed: bool

    def __str__(self) -> str:
        return f"process {self.name}"


Scalar = TBool | TInt | TEnum
Type = TBool | TInt | TEnum | TArray | TRecord | TSet | TSeq | TNothing | TProc

INT = TInt()
BOOL = TBool()
NOTHING = TNothing()

# The most values a set's element type may have (one bit of the state each).
MAX_SET_VALUES = 4096
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
    if isinstance(t, TSet):
        return 2 ** size(t.elem)
    if isinstance(t, TSeq):
        k = size(t.elem)
        return sum(k ** n for n in range(t.capacity + 1))
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
    elif isinstance(t, TSet):
        elems = list(all_values(t.elem))
        for bits in itertools.product((False, True), repeat=len(elems)):
            yield frozenset(v for v, b in zip(elems, bits, strict=True) if b)
    elif isinstance(t, TSeq):
        elems = list(all_values(t.elem))
        for n in range(t.capacity + 1):
            yield from itertools.product(elems, repeat=n)
    else:
        raise TypeError(t)


def least_value(t: Type) -> Value:
    """The first value of `all_values(t)`: what a sequence's unused slots hold."""
    if isinstance(t, TBool):
        return False
    if isinstance(t, TEnum):
        return 0
    if isinstance(t, TInt):
        assert t.lo is not None
        return t.lo
    if isinstance(t, TArray):
        return tuple(least_value(t.elem) for _ in scalar_values(t.index))
    if isinstance(t, TRecord):
        return tuple(least_value(ft) for _, ft in t.fields)
    if isinstance(t, TSet):
        return frozenset()
    if isinstance(t, TSeq):
        return ()
    raise TypeError(t)


def set_element_ok(t: Type) -> bool:
    """Whether `t` may be the element type of a set: built of bool, ranges and enums only."""
    if isinstance(t, TBool | TEnum):
        return True
    if isinstance(t, TInt):
        return t.lo is not None
    if isinstance(t, TArray):
        return set_element_ok(t.elem)
    if isinstance(t, TRecord):
        return all(set_element_ok(ft) for _, ft in t.fields)
    return False


def value_key(t: Type, v: Value) -> tuple[Any, ...]:
    """A key that orders the values of `t` as `all_values` does (sets and `choose` go in this order)."""
    if isinstance(t, TArray):
        return tuple(value_key(t.elem, x) for x in v)
    if isinstance(t, TRecord):
        return tuple(value_key(ft, x) for (_, ft), x in zip(t.fields, v, strict=True))
    if isinstance(t, TSet):
        return tuple(x in v for x in all_values(t.elem))
    if isinstance(t, TSeq):
        return (len(v), *(value_key(t.elem, x) for x in v))
    return (int(v),)


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
    if isinstance(t, TSet):
        return "{" + ", ".join(format_value(t.elem, x) for x in sorted(v, key=lambda x: value_key(t.elem, x))) + "}"
    if isinstance(t, TSeq):
        return "<<" + ", ".join(format_value(t.elem, x) for x in v) + ">>"
    return str(v)


def compatible(target: Type, value: Type) -> bool:
    """Whether a value of type `value` may be stored where `target` is declared.

    Integers always fit statically: their range is checked when the step runs.
    An array fits one with the same number of elements whose index type is the
    same or is the positional index of a literal (`TInt(0, n-1)` from `[a, b]`).
    """
    if isinstance(value, TNothing):
        return True  # `any` in an initial value, the elements of `{}` and `<<>>`
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
    if isinstance(target, TSet | TSeq):
        # a set's elements and a sequence's length are checked when the value is stored
        return type(value) is type(target) and (isinstance(value.elem, TNothing)
                                                or compatible(target.elem, value.elem))
    return isinstance(target, TNothing) or isinstance(value, TNothing)


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
    if isinstance(target, TSet | TSeq) and isinstance(value, TSet | TSeq) and not isinstance(value.elem, TNothing):
        return sym_clash(target.elem, value.elem)
    return None


def has_sym(t: Type) -> bool:
    """Whether a value of `t` holds or is indexed by values of a symmetric type."""
    if isinstance(t, TInt):
        return t.sym is not None
    if isinstance(t, TArray):
        return has_sym(t.index) or has_sym(t.elem)
    if isinstance(t, TRecord):
        return any(has_sym(ft) for _, ft in t.fields)
    if isinstance(t, TSet | TSeq):
        return has_sym(t.elem)
    return False
