"""A model's constants by name and what its own files override, as any explainer reads them.

Takes the model's constants (`name -> (value, type)`) and the code of the files it
was built from other than its vocabulary (or None when only their paths are
known); gives `ModelNames`: a constant's value, an enum constant's member name,
and whether the model keeps a vocabulary's `default` declarations (then an
explanation may state their rule). Each vocabulary's names extend it.
Imports `domain.model_text`, `lang.types`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quiesce_check.domain.model_text import overridden
from quiesce_check.lang.types import TEnum, Type, Value


class ModelNames:
    """`own` None: the files are not known, and the model counts as overriding every step
    (what cannot be known is not said)."""

    def __init__(self, consts: Mapping[str, tuple[Value, Type]], own: str | None) -> None:
        self.consts = {name: value for name, (value, _) in consts.items()}
        self.const_types = {name: t for name, (_, t) in consts.items()}
        self.overridden = overridden(own) if own is not None else None

    def const(self, name: str, default: Any = None) -> Any:
        return self.consts.get(name, default)

    def member(self, name: str) -> str:
        """The member name of enum constant `name` (else its value as text)."""
        t = self.const_types.get(name)
        v = self.consts.get(name)
        return t.members[v] if isinstance(t, TEnum) and isinstance(v, int) else str(v)

    def default(self, *steps: str) -> bool:
        """Whether the model keeps the vocabulary's own version of each of `steps`."""
        return self.overridden is not None and not self.overridden & set(steps)
