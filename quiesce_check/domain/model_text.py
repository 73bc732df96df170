"""What a model's own files say, read as text: their code, the names in it, what they override.

Takes the texts of the files a model was built from (other than its vocabulary); gives
their code without comments and string literals, the identifiers in it, and the
declarations it overrides (`override proc NAME`, `override process NAME`, ...), which a
vocabulary's explainer reads to say a default rule only of a model that keeps it.
Imports nothing of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# What QDL ignores (grammar.lark's COMMENT, BLOCK_COMMENT) and string literals: no code in them.
_NOT_CODE = re.compile(r'//[^\n]*|/\*.*?\*/|"[^"\n]*"', re.DOTALL)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OVERRIDE = re.compile(r"\boverride\s+(?:proc|def|var|process)\s+([A-Za-z_][A-Za-z0-9_]*)")


def code_of(texts: Iterable[str]) -> str:
    """The texts without their comments and string literals."""
    return "\n".join(_NOT_CODE.sub(" ", t) for t in texts)


def identifiers(code: str) -> set[str]:
    return set(_IDENT.findall(code))


def overridden(code: str) -> set[str]:
    """The declarations `code` overrides."""
    return set(_OVERRIDE.findall(code))
