"""Stage 2 helper: the shape of values of checked types.

Takes types and values; gives how many scalar slots a type fills (`slots`), whether a
value lies within a type (`fits`), a value in the form its type keeps (`normalise`:
booleans as `bool`), and how a value is shown in a diagnostic (`show`). Imports
`lang.types`.
"""

from __future__ import annotations

from quiesce_check.lang.types import TArray, TBool, TInt, TRecord, TSeq, TSet, Type, Value, size


def slots(t: Type) -> int:
    if isinstance(t, TArray):
        return size(t.index) * slots(t.elem)
    if isinstance(t, TRecord):
        return sum(slots(ft) for _, ft in t.fields)
    if isinstance(t, TSet):
        return size(t.elem)
    if isinstance(t, TSeq):
        return 1 + t.capacity * slots(t.elem)
    return 1


def fits(t: Type, v: Value) -> bool:
    if isinstance(t, TInt):
        return isinstance(v, int) and not isinstance(v, bool) and t.lo is not None and t.lo <= v <= (t.hi or 0)
    if isinstance(t, TArray):
        return isinstance(v, tuple) and all(fits(t.elem, x) for x in v)
    if isinstance(t, TRecord):
        return isinstance(v, tuple) and all(fits(ft, x) for (_, ft), x in zip(t.fields, v, strict=True))
    if isinstance(t, TSet):
        return isinstance(v, frozenset) and all(fits(t.elem, x) for x in v)
    if isinstance(t, TSeq):
        return isinstance(v, tuple) and len(v) <= t.capacity and all(fits(t.elem, x) for x in v)
    return True


def normalise(t: Type, v: Value) -> Value:
    if isinstance(t, TBool):
        return bool(v)
    if isinstance(t, TArray):
        assert isinstance(v, tuple)
        return tuple(normalise(t.elem, x) for x in v)
    if isinstance(t, TRecord):
        assert isinstance(v, tuple)
        return tuple(normalise(ft, x) for (_, ft), x in zip(t.fields, v, strict=True))
    if isinstance(t, TSet):
        return frozenset(normalise(t.elem, x) for x in v)
    if isinstance(t, TSeq):
        return tuple(normalise(t.elem, x) for x in v)
    return v


def show(v: Value) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
