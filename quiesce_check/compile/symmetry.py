"""Symmetry of a model's state under permutations of its `symmetric type`s' values.

Takes a `Layout` and the checked model's symmetric declarations; gives a
`Symmetry`: every permutation of the declared types' values (the product of
one permutation per type, identity first) as a map on state slots, so that
`apply` moves what an array indexed by a permuted value holds, and what a
process instance indexed by one holds, to the permuted position, and
replaces every slot value of a symmetric type by its image. `canon` is the
state's canonical representative: of the images under the permutations that
sort each type's values by a signature the permutations carry along (see
`Symmetry`), the least (lexicographically, slot by slot), so two states have
the same canonical form exactly when one is a permutation of the other. When
the signatures tell the values apart that is one image; when they are all
equal it is every one, n! for a type of n values, and `MAX_PERMUTATIONS`
bounds the product over all symmetric types (7 values, or 4 and 3, ...), and `MAX_TABLE`
the tables (permutations times slots). Building them checks the run's `Deadline`. Imports
`compile.deadline`, `compile.layout`, `lang.ast`, `lang.errors`, `lang.types`.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from quiesce_check.compile.deadline import Deadline
from quiesce_check.compile.layout import Layout, State, pc_text, set_elements, unflatten
from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import Diagnostic, ModelError, Span
from quiesce_check.lang.types import (
    BOOL,
    TArray,
    TInt,
    TRecord,
    TSeq,
    TSet,
    Type,
    format_value,
    scalar_values,
)

# The most permutations a canonical form may have to try (7! = 5040): for a state whose values
# all have equal signatures, every one is tried.
MAX_PERMUTATIONS = 5040

# The most entries (permutations times state slots) the tables of permutations may hold: each
# permutation maps every slot, so 7 values over 14,000 slots would be 70 million entries, minutes
# and gigabytes to build for a search of a handful of states.
MAX_TABLE = 1 << 21

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


_MASK = (1 << 64) - 1


def mix64(x: int) -> int:
    """The 64-bit finaliser the C search hashes with (`mix` in `cgen`)."""
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & _MASK
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & _MASK
    return x ^ (x >> 33)


def term(cls: int, code: int) -> int:
    """One slot's contribution to a value's signature."""
    return mix64((((cls + 1) << 32) ^ (code & 0xFFFFFFFF)) & _MASK)


# How a related slot's value enters a signature: as it is (minus the slot's lowest value);
# as "this value" or "another" (a slot of the same symmetric type); or not at all (another
# symmetric type's value, which the permutations of that type move).
RAW, SELF_OR_OTHER, IGNORED = 0, 1, 2


@dataclass(frozen=True)
class Signatures:
    """What a value's signature is made of, for one symmetric type: for each value, the slots
    whose place names it (an array element it indexes, a slot of the process instance it
    indexes), each with its class (where it is, relative to the value) and how its content
    counts; and the slots that hold values of the type, each with its class."""

    related: tuple[tuple[tuple[int, int, int], ...], ...]  # per value: (slot, class, RAW | SELF_OR_OTHER | IGNORED)
    holders: tuple[tuple[int, int], ...]                  # (slot, class)


class Symmetry:
    """The permutations of a model's symmetric types, acting on its states.

    `canon` does not try every permutation. Each value gets a signature, a sum of hashes
    over the slots related to it, that a permutation carries along with the value; only
    the permutations that put each type's values in ascending order of signature (in any
    order among equal ones) are tried, and the least of their images is taken. A state
    and any permutation of it have the same set of such images, so the least one is the
    same: a canonical form, found by trying one permutation when the signatures differ
    and every one (n!) only when they are all equal."""

    def __init__(self, types: tuple[SymType, ...], perms: tuple[Permutation, ...], slot_type: tuple[int, ...],
                 slot_lo: tuple[int, ...], signatures: tuple[Signatures, ...]) -> None:
        self.types = types
        self.perms = perms
        self.slot_type = slot_type  # per slot: the symmetric type of its value, or -1
        self.slot_lo = slot_lo
        self.signatures = signatures
        # a type whose values no slot holds or is indexed by: its permutations leave every state
        # as it is, and only the identity need be tried
        self.inert = tuple(not sig.holders and not any(sig.related) for sig in signatures)
        # a permutation's index from its images: mixed radix over the types, each the
        # lexicographic rank of its permutation (the order itertools.permutations gives)
        self.radix = tuple(math.prod(math.factorial(len(t.values)) for t in types[k + 1:])
                           for k in range(len(types)))
        self._fast: list[tuple[Callable[[State], tuple[object, ...]], tuple[tuple[int, dict[int, int]], ...]]] = []
        for p in perms:
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

    def image(self, index: int, state: State) -> State:
        getter, values = self._fast[index]
        image: tuple[Any, ...] = getter(state)
        if values:
            moved = list(image)
            for j, m in values:
                moved[j] = m[moved[j]]
            image = tuple(moved)
        return image

    def signature(self, k: int, i: int, state: State) -> int:
        """The signature of value `i` (by position) of symmetric type `k` in `state`."""
        sig = 0
        lo = self.slot_lo
        v = self.types[k].values[i]
        for j, cls, how in self.signatures[k].related[i]:
            x = int(state[j])
            code = x - lo[j] if how == RAW else (0 if x == v else 1) if how == SELF_OR_OTHER else 0
            sig += term(cls, code)
        for j, cls in self.signatures[k].holders:
            if state[j] == v:
                sig += term(cls, 2)
        return sig & _MASK

    def candidates(self, state: State) -> list[int]:
        """The indices of the permutations that order every type's values by signature."""
        per_type: list[list[int]] = []
        for k, t in enumerate(self.types):
            if self.inert[k]:
                per_type.append([0])
                continue
            n = len(t.values)
            sigs = [self.signature(k, i, state) for i in range(n)]
            order = sorted(range(n), key=lambda i: sigs[i])
            groups: list[list[int]] = []
            for i in order:
                if groups and sigs[groups[-1][0]] == sigs[i]:
                    groups[-1].append(i)
                else:
                    groups.append([i])
            ranks = []
            for arrangement in itertools.product(*(itertools.permutations(g) for g in groups)):
                img = [0] * n
                for pos, i in enumerate(x for g in arrangement for x in g):
                    img[i] = pos
                ranks.append(_rank(img) * self.radix[k])
            per_type.append(ranks)
        return [sum(c) for c in itertools.product(*per_type)]

    def canon(self, state: State) -> State:
        return min(self.image(index, state) for index in self.candidates(state))

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


def _rank(img: list[int]) -> int:
    """The position of a permutation in lexicographic order (its Lehmer code)."""
    n = len(img)
    rank = 0
    for i in range(n):
        smaller = sum(1 for j in range(i + 1, n) if img[j] < img[i])
        rank += smaller * math.factorial(n - 1 - i)
    return rank


def _signatures(keys: list[tuple[_Key, Type]], types: tuple[SymType, ...], slot_type: tuple[int, ...]
                ) -> tuple[Signatures, ...]:
    names = {t.name for t in types}
    classes: dict[tuple[object, ...], int] = {}

    def cls(key: tuple[object, ...]) -> int:
        return classes.setdefault(key, len(classes))

    def starred(key: _Key, name: str, v: object) -> tuple[object, ...]:
        out: list[object] = []
        for part in key:
            if isinstance(part, tuple) and len(part) == 2 and part[0] in names:
                out.append("self" if part == (name, v) else (part[0], "*"))
            else:
                out.append(part)
        return tuple(out)

    result = []
    for k, t in enumerate(types):
        related = []
        for v in t.values:
            mine = []
            for j, (key, _) in enumerate(keys):
                if (t.name, v) in key:
                    how = RAW if slot_type[j] < 0 else SELF_OR_OTHER if slot_type[j] == k else IGNORED
                    mine.append((j, cls((t.name, "related", how, *starred(key, t.name, v))), how))
            related.append(tuple(mine))
        holders = tuple((j, cls((t.name, "holds", *starred(key, t.name, None)))) for j, (key, _) in enumerate(keys)
                        if slot_type[j] == k)
        result.append(Signatures(tuple(related), holders))
    return tuple(result)


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
    elif isinstance(t, TSet):  # a bit per value: as an array indexed by the element type
        sym = t.elem.sym if isinstance(t.elem, TInt) else None
        for v in set_elements(t):
            yield (*path, (sym, v)), BOOL
    elif isinstance(t, TSeq):  # holds no symmetric value (the checker refuses one)
        yield (*path, (None, "len")), TInt(0, t.capacity)
        for i in range(t.capacity):
            yield from _leaves(t.elem, (*path, (None, i)))
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


def build_symmetry(layout: Layout, declared: Mapping[str, tuple[TInt, A.TypeDecl]],
                   deadline: Deadline | None = None) -> Symmetry | None:
    """The symmetry of the declared types, or None when the model declares none. Raises
    `ModelError` (E024) when canonicalising would take more than MAX_PERMUTATIONS images, or the
    tables more than MAX_TABLE entries; `TimeLimit` when `deadline` passes while building them."""
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
    slots = len(layout.slots)
    if total * slots > MAX_TABLE:
        widest = max(types, key=lambda t: len(t.values))
        raise ModelError([Diagnostic(
            "E024", f"the symmetric types' {total:,} permutations of the state's {slots:,} slots make tables of "
            f"{total * slots:,} entries; at most {MAX_TABLE:,}", widest.span,
            "give the symmetric types fewer values or the state fewer slots, or check without the reduction "
            "(--no-symmetry)")])
    keys = _slot_keys(layout)
    where = {k: i for i, (k, _) in enumerate(keys)}
    slot_type = tuple(next((k for k, st in enumerate(types) if isinstance(t, TInt) and t.sym == st.name), -1)
                      for _, t in keys)
    perms = []
    for images in itertools.product(*(itertools.permutations(range(len(t.values))) for t in types)):
        if deadline is not None:
            deadline.check("building the symmetric types' permutations")
        maps = {t.name: {t.values[i]: t.values[j] for i, j in enumerate(img)} for t, img in zip(types, images,
                                                                                                   strict=True)}
        src = [0] * len(keys)
        for i, (k, _) in enumerate(keys):
            src[where[_image(k, maps)]] = i
        values = tuple((j, maps[types[slot_type[j]].name]) for j in range(len(keys)) if slot_type[j] >= 0)
        perms.append(Permutation(tuple(images), tuple(src), values))
    slot_lo = tuple(s.lo for s in layout.slots)
    return Symmetry(types, tuple(perms), slot_type, slot_lo, _signatures(keys, types, slot_type))


def show_state(layout: Layout, state: State) -> str:
    """A state as `x = 1, a = [0, 2], P[0] at 12:5`, for messages."""
    parts = [f"{p.name} = {format_value(p.type, unflatten(p.type, state[p.base:p.base + p.count]))}"
             for p in layout.places]
    parts += [f"{name} at {where}" for name, where in pc_text(layout, state).items()]
    return ", ".join(parts)

