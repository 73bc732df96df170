"""Stage 2, pass `hook`: a hook runs at a boolean def and binds processes of the model.

Takes the `Tables` after `properties`; checks the model's hook (from `declare`): the def it
runs at must take no parameters (E011) and be true or false (E020), and every process it
binds must be one of the model's (E011). Fills nothing. Imports `lang.ast`, `lang.errors`,
`lang.types`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import nearest
from quiesce_check.lang.types import TBool

if TYPE_CHECKING:
    from quiesce_check.lang.checker.context import Checker


def check_hook(cx: Checker) -> None:
    """A hook runs at a boolean def and binds processes of the model it is composed with."""
    t = cx.tables
    d = t.hook
    if d is None:
        return
    info = t.routines.get(d.at.name)
    if info is None or not isinstance(info.decl, A.DefDecl) or info.params:
        t.error("E011", f"hook `{d.name}` runs at `{d.at.name}`, which is no def without parameters",
                d.at.span, nearest(d.at.name, [r.name for r in t.routines.values()
                                               if isinstance(r.decl, A.DefDecl) and not r.decl.params]))
    elif info.state == "done" and not isinstance(info.result, TBool):
        t.error("E020", f"hook `{d.name}` runs at `{d.at.name}`, which is not true or false", d.at.span)
    for b in d.binds:
        if b.name not in t.procs:
            t.error("E011", f"hook `{d.name}` binds `{b.name}`, and the model has no such process", b.span,
                    nearest(b.name, t.procs))
