"""Which vocabulary explains a counterexample in its domain's words.

Takes the source files a model was built from (their paths, or their paths and
texts: `A.Model.sources`) and its constants; gives the explainer of the
vocabulary it uses (a function from a trace to sentences), or None; likewise
its annotator of timelines. The explainer reads the code of the model's own
files (what it names, what it overrides); given paths alone, it says only what
the trace shows. Imports `domain.*`, `lang.types`, `trace.timeline` (the types).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from quiesce_check.domain import vocabulary_path
from quiesce_check.domain.xen import XenExplainer
from quiesce_check.domain.xen_names import code_of
from quiesce_check.lang.types import Type, Value
from quiesce_check.trace.timeline import Annotate, Explain


def _xen(paths: Iterable[str], consts: Mapping[str, tuple[Value, Type]]) -> XenExplainer | None:
    xen = vocabulary_path("xen")
    if xen is None or not any(Path(p) == xen for p in paths):
        return None
    own = code_of(text for p, text in paths.items() if Path(p) != xen) if isinstance(paths, Mapping) else None
    return XenExplainer(consts, own)


def explainer(paths: Iterable[str], consts: Mapping[str, tuple[Value, Type]]) -> Explain | None:
    """The explainer of the vocabulary among `paths`, if the model uses one that has one."""
    x = _xen(paths, consts)
    return x.explain if x is not None else None


def annotator(paths: Iterable[str], consts: Mapping[str, tuple[Value, Type]]) -> Annotate | None:
    """What the vocabulary among `paths` adds to a counterexample's timeline, if it has something."""
    x = _xen(paths, consts)
    return x.annotate if x is not None else None
