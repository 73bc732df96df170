"""Which vocabulary explains a counterexample in its domain's words.

Takes the source files a model was built from and its constants; gives the
explainer of the vocabulary it uses (a function from a trace to sentences), or
None. Imports `domain.*`, `lang.types`, `trace.terminal` (the `Explain` type).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from quiesce_check.domain import vocabulary_path
from quiesce_check.lang.types import Type, Value
from quiesce_check.trace.terminal import Explain


def explainer(paths: Iterable[str], consts: Mapping[str, tuple[Value, Type]]) -> Explain | None:
    """The explainer of the vocabulary among `paths`, if the model uses one that has one."""
    xen = vocabulary_path("xen")
    if xen is not None and any(Path(p) == xen for p in paths):
        from quiesce_check.domain.xen import XenExplainer
        return XenExplainer(consts).explain
    return None
