"""Symmetry of a model's state under permutations of its `symmetric type`s' values.

Takes a `Layout` and the checked model's symmetric declarations; gives a
`Symmetry`: every permutation of the declared types' values (the product of
one permutation per type, identity first) as a map on state slots, so that
`apply` moves what an array indexed by a permuted value holds, and what a
process instance indexed by one holds, to the permuted position, and
replaces every slot value of a symmetric type by its image. `canon` is the
state's canonical representative: the least (lexicographically, slot by
slot) of its images under every permutation, so two states have the same
canonical form exactly when one is a permutation of the other. That is
exhaustive, n! images for a type of n values: `MAX_PERMUTATIONS` bounds the
product over all symmetric types (6 values, or 3 and 3, ...). Imports
`compile.layout`, `lang.ast`, `lang.errors`, `lang.types`.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from quiesce_check.compile.layout import Layout, State, pc_text, unflatten
from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import Diagnostic, ModelError, Span
from quiesce_check.lang.types import TArray, TInt, TRecord, Type, format_value, scalar_values

# Canonicalising a state tries every permutation: at most this many (6! = 720).
MAX_PERMUTATIONS = 720

# A slot's identity, independent of where the layout put it: who owns it and the path to it.
_Key = tuple[object, ...]


@dataclass(frozen=True)
class SymType:
    name: str
    values: tuple[int, ...]
    span: Span


@dataclass(frozen=True)
class Permutation:
    """One permutation of every symmetric type's values, as it acts on a state."""

    images: tuple[tuple[int, ...], ...]  # per symmetric type, the image of each of its values
    src: tuple[int, ...]                 # slot j of the image is slot src[j] of the state ...
    values: tuple[tuple[int, dict[int, int]], ...]  # ... with these slots' values mapped


class Symmetry:
    """The permutations of a model's symmetric types, acting on its states."""

    def __init__(self, types: tuple[SymType, ...], perms: tuple[Permutation, ...], slot_type: tuple[int, ...]
                 ) -> None:
        self.types = types
        self.perms = perms
        self.slot_type = slot_type  # per slot: the symmetric type of its value, or -1
        self._fast: list[tuple[Callable[[State], tuple[object, ...]], tuple[tuple[int, dict[int, int]], ...]]] = []
        for p in perms[1:]:
            getter: Callable[[State], tuple[object, ...]]
            if len(p.src) == 1:
                getter = _one_slot(p.src[0])  # itemgetter of one index gives no tuple
            else:
                getter = operator.itemgetter(*p.src)
            self._fast.append((getter, p.values))

    def __len__(self) -> int:
        return len(self.perms)

    def apply(self, perm: Permutation, state: State) -> State:
        out = [state[i] for i in perm.src]
        for j, m in perm.values:
            out[j] = m[out[j]]
        return tuple(out)

    def canon(self, state: State) -> State:
        best = state
        for getter, values in self._fast:
            image: tuple[Any, ...] = getter(state)
            if values:
                moved = list(image)
                for j, m in values:
                    moved[j] = m[moved[j]]
                image = tuple(moved)
            if image < best:
                best = image
        return best

    def generators(self) -> tuple[Permutation, ...]:
        """Swaps of two neighbouring values of one type: together they generate every permutation."""
        out = []
        for p in self.perms:
            moved = [(k, img) for k, img in enumerate(p.images) if img != tuple(range(len(img)))]
            if len(moved) == 1:
                k, img = moved[0]
                changed = [i for i, x in enumerate(img) if x != i]
                if len(changed) == 2 and changed[1] == changed[0] + 1:
                    out.append(p)
        return tuple(out)

    def moved_types(self, perm: Permutation) -> list[SymType]:
        return [t for t, img in zip(self.types, perm.images, strict=True) if img != tuple(range(len(img)))]

    def describe(self, perm: Permutation) -> str:
        """`Pfn: 0→1, 1→0` for the values a permutation moves."""
        parts = []
        for t, img in zip(self.types, perm.images, strict=True):
            pairs = [f"{t.values[i]}→{t.values[j]}" for i, j in enumerate(img) if i != j]
            if pairs:
                parts.append(f"{t.name}: " + ", ".join(pairs))
        return "; ".join(parts) or "identity"


def _one_slot(index: int) -> Callable[[State], tuple[object, ...]]:
    def get(state: State) -> tuple[object, ...]:
        return (state[index],)
    return get


def _leaves(t: Type, path: tuple[object, ...]) -> Iterator[tuple[tuple[object, ...], Type]]:
    """Every scalar of a value of type `t`, in slot order, with its path (array steps carry the
    index's symmetric type, or None, and the index value)."""
    if isinstance(t, TArray):
        sym = t.index.sym if isinstance(t.index, TInt) else None
        for v in scalar_values(t.index):
            yield from _leaves(t.elem, (*path, (sym, v)))
    elif isinstance(t, TRecord):
        for fname, ft in t.fields:
            yield from _leaves(ft, (*path, (None, fname)))
    else:
        yield path, t


def _slot_keys(layout: Layout) -> list[tuple[_Key, Type]]:
    """Each slot's identity: a global's name and path, or a process instance's pc or local and
    path, where the instance is keyed by its index (with the index's symmetric type)."""
    keys: list[tuple[_Key, Type]] = []
    owners: dict[int, tuple[object, ...]] = {}
    for proc, inst in layout.instances:
        sym = proc.index_type.sym if isinstance(proc.index_type, TInt) else None
        owners[layout.pc_slot[(proc.name, inst)]] = ("pc", proc.name, (sym, inst))
        for var in proc.locals.values():
            owners[layout.place(var, inst).base] = ("local", proc.name, var.name, (sym, inst))
    places = {place.base: place for place in layout.places}
    slot = 0
    while slot < len(layout.slots):
        owner = owners.get(slot, ("global",))
        if owner[0] == "pc":
            keys.append((owner, layout.slots[slot].type))
            slot += 1
            continue
        place = places[slot]
        for path, t in _leaves(place.type, ()):
            keys.append(((*owner, place.name if owner[0] == "global" else "", *path), t))
        slot += place.count
    assert len(keys) == len(layout.slots)
    return keys


def _image(key: _Key, maps: Mapping[str, dict[int, int]]) -> _Key:
    out: list[object] = []
    for part in key:
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[0], str) and part[0] in maps:
            out.append((part[0], maps[part[0]][part[1]]))
        else:
            out.append(part)
    return tuple(out)


def build_symmetry(layout: Layout, declared: Mapping[str, tuple[TInt, A.TypeDecl]]) -> Symmetry | None:
    """The symmetry of the declared types, or None when the model declares none. Raises
    `ModelError` (E024) when canonicalising would take more than MAX_PERMUTATIONS images."""
    if not declared:
        return None
    types = tuple(SymType(name, tuple(range(t.lo or 0, (t.hi or 0) + 1)), d.span)
                  for name, (t, d) in declared.items())
    total = math.prod(math.factorial(len(t.values)) for t in types)
    if total > MAX_PERMUTATIONS:
        widest = max(types, key=lambda t: len(t.values))
        raise ModelError([Diagnostic(
            "E024", f"the symmetric types have {total:,} permutations; canonicalising a state tries each, "
            f"and at most {MAX_PERMUTATIONS} are tried", widest.span,
            "give the symmetric types fewer values, or check without the reduction (--no-symmetry)")])
    keys = _slot_keys(layout)
    where = {k: i for i, (k, _) in enumerate(keys)}
    slot_type = tuple(next((k for k, st in enumerate(types) if isinstance(t, TInt) and t.sym == st.name), -1)
                      for _, t in keys)
    perms = []
    for images in itertools.product(*(itertools.permutations(range(len(t.values))) for t in types)):
        maps = {t.name: {t.values[i]: t.values[j] for i, j in enumerate(img)} for t, img in zip(types, images,
                                                                                                   strict=True)}
        src = [0] * len(keys)
        for i, (k, _) in enumerate(keys):
            src[where[_image(k, maps)]] = i
        values = tuple((j, maps[types[slot_type[j]].name]) for j in range(len(keys)) if slot_type[j] >= 0)
        perms.append(Permutation(tuple(images), tuple(src), values))
    return Symmetry(types, tuple(perms), slot_type)


def show_state(layout: Layout, state: State) -> str:
    """A state as `x = 1, a = [0, 2], P[0] at 12:5`, for messages."""
    parts = [f"{p.name} = {format_value(p.type, unflatten(p.type, state[p.base:p.base + p.count]))}"
             for p in layout.places]
    parts += [f"{name} at {where}" for name, where in pc_text(layout, state).items()]
    return ", ".join(parts)

