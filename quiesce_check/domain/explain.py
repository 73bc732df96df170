"""Which vocabulary explains a counterexample in its domain's words.

Takes the source files a model was built from (their paths, or their paths and
texts: `A.Model.sources`) and its constants; gives the explainer of the
vocabulary it uses (a function from a trace to sentences), or None; likewise
its annotator of timelines. Each vocabulary that has words for its
counterexamples registers a maker in `EXPLAINERS`; the explainer of the
vocabulary the model uses is the only one asked, so no vocabulary's words reach
another's output. An explainer reads the code of the model's own files (what it
names, what it overrides, which of its processes run only on the target);
given paths alone, it says only what the trace shows. Imports `domain.*`,
`compile.model`, `lang.ast`, `lang.errors`, `lang.parser`, `lang.types`,
`trace.timeline` (the types).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol

from quiesce_check.compile.model import ModelInfo
from quiesce_check.domain import VOCABULARIES, vocabulary_path
from quiesce_check.domain.model_text import code_of
from quiesce_check.domain.vhost_explain import VhostExplainer
from quiesce_check.domain.xen import XenExplainer
from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import ModelError
from quiesce_check.lang.parser import parse
from quiesce_check.lang.types import Type, Value
from quiesce_check.trace.timeline import Annotate, Explain, Timeline
from quiesce_check.trace.types import Trace

Consts = Mapping[str, tuple[Value, Type]]


class Explainer(Protocol):
    """What a vocabulary's explainer gives: sentences for a trace, and its timeline annotated."""

    def explain(self, info: ModelInfo, trace: Trace) -> list[str]: ...

    def annotate(self, info: ModelInfo, trace: Trace, tl: Timeline) -> Timeline: ...


def _xen(consts: Consts, own: str | None, texts: Mapping[str, str]) -> Explainer:
    return XenExplainer(consts, own, target_only(texts))


def _vhost(consts: Consts, own: str | None, texts: Mapping[str, str]) -> Explainer:
    return VhostExplainer(consts, own)


# vocabulary name -> the maker of its explainer, from the model's constants, the code of its
# own files (None when only their paths are known) and those files' texts
EXPLAINERS: dict[str, Callable[[Consts, str | None, Mapping[str, str]], Explainer]] = {
    "xen": _xen,
    "vhost": _vhost,
}


def used_vocabulary(paths: Iterable[str]) -> str | None:
    """The vocabulary among the model's files, if it uses one."""
    files = {Path(p) for p in paths}
    return next((name for name in VOCABULARIES if vocabulary_path(name) in files), None)


def vocabulary_explainer(paths: Iterable[str], consts: Consts) -> Explainer | None:
    """The explainer of the vocabulary the model uses, if it has one."""
    if not isinstance(paths, Mapping):
        paths = list(paths)   # read twice
    name = used_vocabulary(paths)
    make = EXPLAINERS.get(name) if name is not None else None
    if make is None:
        return None
    if not isinstance(paths, Mapping):
        return make(consts, None, {})
    vocabulary = vocabulary_path(name) if name is not None else None
    texts = {p: text for p, text in paths.items() if Path(p) != vocabulary}
    return make(consts, code_of(texts.values()), texts)


def xen_explainer(paths: Iterable[str], consts: Consts) -> XenExplainer | None:
    x = vocabulary_explainer(paths, consts)
    return x if isinstance(x, XenExplainer) else None


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


def explainer(paths: Iterable[str], consts: Consts) -> Explain | None:
    """The explainer of the vocabulary among `paths`, if the model uses one that has one."""
    x = vocabulary_explainer(paths, consts)
    return x.explain if x is not None else None


def annotator(paths: Iterable[str], consts: Consts) -> Annotate | None:
    """What the vocabulary among `paths` adds to a counterexample's timeline, if it has something."""
    x = vocabulary_explainer(paths, consts)
    return x.annotate if x is not None else None
