"""Bit packing of a state: every slot in a fixed bit field of 64-bit words.

Takes a `Layout`; gives a `Packing`: for each slot its word, shift and width
(the bits its range needs; a slot with one possible value takes none), so a
state becomes a few machine words. No field straddles two words. Used by the
native backend for its state store and visited table. Imports `compile.layout`.
"""

from __future__ import annotations

from dataclasses import dataclass

from quiesce_check.compile.layout import Layout, State
from quiesce_check.lang.types import TBool


@dataclass(frozen=True)
class Field:
    word: int
    shift: int
    width: int
    lo: int
    is_bool: bool

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1


@dataclass(frozen=True)
class Packing:
    fields: tuple[Field, ...]
    words: int

    @property
    def bits(self) -> int:
        return sum(f.width for f in self.fields)

    def pack(self, state: State) -> tuple[int, ...]:
        words = [0] * self.words
        for f, v in zip(self.fields, state, strict=True):
            words[f.word] |= (int(v) - f.lo) << f.shift
        return tuple(words)

    def unpack(self, words: tuple[int, ...]) -> State:
        out = []
        for f in self.fields:
            v = ((words[f.word] >> f.shift) & f.mask) + f.lo
            out.append(bool(v) if f.is_bool else v)
        return tuple(out)


def pack_layout(layout: Layout) -> Packing:
    fields = []
    word, used = 0, 0
    for slot in layout.slots:
        width = max(0, (slot.hi - slot.lo).bit_length())
        if used + width > 64:
            word, used = word + 1, 0
        fields.append(Field(word, used, width, slot.lo, isinstance(slot.type, TBool)))
        used += width
    return Packing(tuple(fields), word + 1)
