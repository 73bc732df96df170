"""The searches behind an ablation's rows, kept for their counterexamples.

Takes the hook, the `Ablation` `hooks.ablate` computed and the composed model's spec, model,
parameters, properties and options; gives `Runs`: the search with every obligation and, for
each obligation whose removal breaks something, the search without it, each with its model's
`ModelInfo`, its `Result` (every counterexample) and the vocabulary's explanation and timeline
annotation. An `Outcome` keeps each counterexample's length and first sentence only; a `Run`
gives the whole explanation and the trace a page draws. Each row's search is the one
`hooks.ablate` made for it (the same obligations, properties and engine: breadth-first search is
deterministic, so the same counterexamples). Imports `build`, `domain`, `compile`, `engines`,
`hooks`, `trace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quiesce_check import hooks
from quiesce_check.build import Built
from quiesce_check.compile.deadline import TimeLimit
from quiesce_check.compile.model import ModelInfo
from quiesce_check.domain.explain import annotator, explainer
from quiesce_check.engines.result import Options, Result
from quiesce_check.lang.errors import ModelError
from quiesce_check.lang.types import Value
from quiesce_check.trace.timeline import Annotate, Explain
from quiesce_check.trace.types import Trace

# A run's problem, as `hooks.summarise` names it: its trace's kind.
_PROBLEMS = ("deadlock", "assertion", "model-error")


@dataclass(frozen=True)
class Run:
    """One search of the composed model, kept for what its counterexamples show."""

    info: ModelInfo
    result: Result
    explain: Explain | None = None
    annotate: Annotate | None = None

    def trace(self, key: str) -> Trace | None:
        """The counterexample of `key`, a property or (as an `Outcome` names it) a problem."""
        if key in _PROBLEMS:
            return next((t for t in self.result.traces.values() if t.kind == key), None)
        return self.result.traces.get(key)

    def why(self, key: str) -> str | None:
        """The whole explanation of `key`'s counterexample: every sentence of the vocabulary's, else
        the trace's message; None without a counterexample."""
        t = self.trace(key)
        if t is None:
            return None
        lines = self.explain(self.info, t) if self.explain is not None and key not in _PROBLEMS else []
        return " ".join(lines) if lines else t.message


@dataclass(frozen=True)
class Runs:
    full: Run                                            # every obligation on, as `hook` ran it
    without: dict[str, Run] = field(default_factory=dict)   # obligation -> the search without it


def kept(built: Built, result: Result) -> Run:
    """A search with its model's vocabulary's explanation and annotation."""
    sources, consts = built.ast.sources, built.checked.consts
    return Run(built.model.info, result, explainer(sources, consts), annotator(sources, consts))


def rows_runs(spec: str, model: str, params: dict[str, Value], hook: hooks.Hook, select: list[str],
              options: Options, ab: hooks.Ablation, full: Run) -> Runs:
    """`full`, and the search without each obligation whose removal broke something, run again as
    `hooks.ablate` ran it; a row whose search runs out of time is left out (its table keeps the
    `Outcome`'s first sentence)."""
    names = tuple(hook.obligations)
    out = Runs(full)
    broken = [n for n in names if ab.without[n].lengths]  # the others have no counterexample to show
    switched = _compiled_once(spec, model, params, names, select, options) if broken else None
    for n in broken:
        try:
            if switched is None:
                built, result = hooks.check_with(spec, model, params, {m: m != n for m in names}, select, options)
            else:
                built, result = switched.built, switched.search(frozenset(names) - {n}, options)
        except TimeLimit:
            continue
        out.without[n] = kept(built, result)
    return out


def _compiled_once(spec: str, model: str, params: dict[str, Value], names: tuple[str, ...], select: list[str],
                   options: Options) -> hooks.Switched | None:
    """The composed model compiled once for every row, as `hooks.ablate` searched it; None when it
    cannot be (an obligation a constant needs: each row is then compiled on its own)."""
    try:
        switched = hooks.Switched(spec, model, params, names, select)
    except ModelError:
        return None
    switched.prepare(options)
    return switched
