"""Stage 2 helper: choosing a handler by the class of a node.

Takes a table from classes to handlers and an object; gives the handler registered for the
object's class or the nearest class it derives from (so a table entry matches exactly what
`isinstance` would), or None. Imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

H = TypeVar("H")


def rule_for(rules: Mapping[type, H], obj: object) -> H | None:
    for cls in type(obj).__mro__:
        rule = rules.get(cls)
        if rule is not None:
            return rule
    return None
