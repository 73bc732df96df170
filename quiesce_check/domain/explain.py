"""Which vocabulary explains a counterexample in its domain's words.

Takes the source files a model was built from (their paths, or their paths and
texts: `A.Model.sources`) and its constants; gives the explainer of the
vocabulary it uses (a function from a trace to sentences), or None; likewise
its annotator of timelines. The explainer reads the code of the model's own
files (what it names, what it overrides, which of its processes run only on the
target); given paths alone, it says only what the trace shows. Imports
`domain.*`, `lang.ast`, `lang.errors`, `lang.parser`, `lang.types`,
`trace.timeline` (the types).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from quiesce_check.domain import vocabulary_path
from quiesce_check.domain.xen import XenExplainer
from quiesce_check.domain.xen_names import code_of
from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import ModelError
from quiesce_check.lang.parser import parse
from quiesce_check.lang.types import Type, Value
from quiesce_check.trace.timeline import Annotate, Explain


def xen_explainer(paths: Iterable[str], consts: Mapping[str, tuple[Value, Type]]) -> XenExplainer | None:
    xen = vocabulary_path("xen")
    if xen is None or not any(Path(p) == xen for p in paths):
        return None
    if not isinstance(paths, Mapping):
        return XenExplainer(consts, None)
    texts = {p: text for p, text in paths.items() if Path(p) != xen}
    return XenExplainer(consts, code_of(texts.values()), target_only(texts))


def _needs_resumed(e: A.Expr | None) -> bool:
    """Whether `e` is `resumed`, or a conjunction one of whose terms is."""
    if isinstance(e, A.Name):
        return e.name == "resumed"
    return isinstance(e, A.Binary) and e.op == "and" and (_needs_resumed(e.left) or _needs_resumed(e.right))


def target_only(texts: Mapping[str, str]) -> frozenset[str]:
    """The processes of the model's own files that run only once the target is unpaused: those
    declared `when resumed` (or `when resumed and ...`). A file that does not parse names none."""
    out: set[str] = set()
    for path, text in texts.items():
        try:
            decls = parse(text, path).decls
        except ModelError:
            continue
        out |= {d.name for d in decls if isinstance(d, A.ProcessDecl) and _needs_resumed(d.when)}
    return frozenset(out)


def explainer(paths: Iterable[str], consts: Mapping[str, tuple[Value, Type]]) -> Explain | None:
    """The explainer of the vocabulary among `paths`, if the model uses one that has one."""
    x = xen_explainer(paths, consts)
    return x.explain if x is not None else None


def annotator(paths: Iterable[str], consts: Mapping[str, tuple[Value, Type]]) -> Annotate | None:
    """What the vocabulary among `paths` adds to a counterexample's timeline, if it has something."""
    x = xen_explainer(paths, consts)
    return x.annotate if x is not None else None
