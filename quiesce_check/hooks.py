"""`quiesce-check hook SPEC --model MODEL`: a quiesce hook composed with a protocol model.

Takes a hook spec (a QDL file with a `hook` declaration and `obligation`s)
and a model; gives the composed model's result for every invariant, final-state
and liveness property it declares, and with `ablate`, what each obligation is
worth: the model checked with each obligation switched off in turn (which
properties break, safety and liveness apart, the shortest counterexample, a
lasso's with where its cycle starts, why), and the minimal sets of
obligations that keep every property, searched exhaustively for up to
`MAX_EXHAUSTIVE` obligations. Ablation runs are independent searches, run
in parallel processes. An ablation's table, JSON and HTML are `output.ablation`'s.
Imports `build`, `compile`, `domain`, `engines`, `lang`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from quiesce_check.build import Built, build_text
from quiesce_check.compile.deadline import Deadline, TimeLimit
from quiesce_check.domain.explain import explainer
from quiesce_check.engines import ENGINES, run_checked
from quiesce_check.engines.result import NullReporter, Options, Reporter, Result, Status
from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import Diagnostic, ModelError
from quiesce_check.lang.types import Value

# Up to this many obligations, every subset is checked for the minimal sets.
MAX_EXHAUSTIVE = 8


@dataclass(frozen=True)
class Hook:
    name: str
    text: str
    at: str
    binds: tuple[str, ...]
    obligations: dict[str, str]  # name -> what it requires, in declaration order


@dataclass(frozen=True)
class Outcome:
    """One composed run, as plain data (it crosses process boundaries)."""

    on: frozenset[str]                     # the obligations switched on
    statuses: dict[str, str]               # property -> holds | violated | vacuous | incomplete
    lengths: dict[str, int]                # violated property -> shortest counterexample's steps
    why: dict[str, str]                    # violated property -> the explanation's first sentence
    problem: str | None = None             # a deadlock, failed assertion or model error, if any
    states: int = 0
    live: frozenset[str] = frozenset()     # which properties are liveness properties
    loops: dict[str, int] = field(default_factory=dict)   # violated liveness property -> its lasso's loop

    @property
    def keeps_all(self) -> bool:
        return self.problem is None and all(s == "holds" for s in self.statuses.values())

    def broken(self) -> list[str]:
        """A deadlock or a failed step first; then the properties violated; then those left vacuous."""
        first = [self.problem] if self.problem else []
        return first + [p for p, s in self.statuses.items() if s == "violated"] + [
            f"{p} ({s})" for p, s in self.statuses.items() if s not in ("holds", "violated")]


@dataclass
class Ablation:
    full: Outcome
    without: dict[str, Outcome] = field(default_factory=dict)  # obligation -> the run without it
    minimal: list[frozenset[str]] = field(default_factory=list)
    exhaustive: bool = True

    def needed(self) -> set[str]:
        return set().union(*self.minimal) if self.minimal else set()

    def breaks_without(self, name: str) -> list[str]:
        """What fails without obligation `name` and not with every obligation."""
        before = set(self.full.broken())
        return [p for p in self.without[name].broken() if p not in before]


def composed_text(spec: str, model: str) -> str:
    """A model that uses `model`, then `spec` (both by absolute path)."""
    for path in (spec, model):
        if '"' in path or "\n" in path:
            raise ModelError([Diagnostic("E014", f"{path!r}: a path with a quote or a line break cannot be used",
                                         None)])
    return f'use "{Path(model).resolve()}";\nuse "{Path(spec).resolve()}";\n'


def hook_of(built: Built) -> Hook:
    cm = built.checked
    if cm.hook is None:
        raise ModelError([Diagnostic("E014", "the spec declares no `hook` (write `hook name: \"...\" at point binds "
                                     "Actor;`)", None)])
    return Hook(cm.hook.name, cm.hook.text, cm.hook.at.name, tuple(b.name for b in cm.hook.binds),
                dict(cm.obligations))


def all_properties(built: Built) -> list[str]:
    """Every invariant, final-state, step and liveness property the composed model declares, optional
    or not."""
    return [d.name for d in built.ast.decls
            if (isinstance(d, A.PropertyDecl) and d.kind in ("invariant", "final"))
            or isinstance(d, A.LivenessDecl | A.StepPropertyDecl)]


def build_composed(spec: str, model: str, params: dict[str, Value], select: list[str] | None = None) -> Built:
    return build_text(composed_text(spec, model), str(Path.cwd() / "<hook>"), params, select)


def summarise(built: Built, result: Result, on: frozenset[str]) -> Outcome:
    explain = explainer(built.ast.sources, built.checked.consts)
    statuses, lengths, why, loops = {}, {}, {}, {}
    for p in result.properties:
        if p.kind not in ("invariant", "final", "action", "liveness"):
            continue
        statuses[p.name] = p.status.value
        t = result.traces.get(p.name)
        if p.status is Status.VIOLATED and t is not None:
            lengths[p.name] = len(t.steps)
            if t.loop is not None:
                loops[p.name] = t.loop
            lines = explain(built.model.info, t) if explain is not None else []
            why[p.name] = lines[0].rstrip(";:,.") + "." if lines else t.message
    problem: str | None = None
    for t in result.traces.values():
        if t.kind in ("deadlock", "assertion", "model-error"):
            problem = t.kind
            lengths[t.kind] = len(t.steps)
            why[t.kind] = t.message
            break
    if problem is None and not result.complete:
        problem = f"incomplete: {result.limit or 'the search did not finish'}"
    live = frozenset(p.name for p in result.properties if p.kind == "liveness")
    return Outcome(on, statuses, lengths, why, problem, result.stats.distinct, live, loops)


def check_with(spec: str, model: str, params: dict[str, Value], obligations: dict[str, bool],
               select: list[str], options: Options, reporter: Reporter | None = None) -> tuple[Built, Result]:
    deadline = Deadline(options.time_limit)  # per search: its build and compile count too
    built = build_composed(spec, model, {**params, **obligations}, select)
    bfs = ENGINES["bfs"]  # a hook is weighed by the shortest counterexample of each property
    return built, run_checked(bfs, built.model, bfs.narrow(replace(options, deadline=deadline)),
                              reporter or NullReporter())


def _run(args: tuple[str, str, dict[str, Value], tuple[str, ...], frozenset[str], list[str], Options]) -> Outcome:
    spec, model, params, names, on, select, options = args
    try:
        built, result = check_with(spec, model, params, {n: n in on for n in names}, select, options)
    except TimeLimit as e:
        return Outcome(on, {}, {}, {}, f"incomplete: {e}")
    return summarise(built, result, on)


def workers_for(searches: int, wanted: int | None) -> int:
    """Processes for `searches` independent searches: what was asked (default: the cores, up to
    4), never more than the searches or the cores."""
    cores = os.cpu_count() or 1
    return max(1, min(wanted or min(4, cores), searches, cores))


def ablate(spec: str, model: str, params: dict[str, Value], hook: Hook, select: list[str], options: Options,
           full: Outcome, workers: int | None = None,
           progress: Callable[[Outcome], None] | None = None) -> Ablation:
    """Each obligation off in turn; then the minimal sets of obligations that keep every property."""
    names = tuple(hook.obligations)
    everything = frozenset(names)
    done: dict[frozenset[str], Outcome] = {everything: full}

    def run_all(sets: Sequence[frozenset[str]]) -> None:
        todo = [s for s in sets if s not in done]
        args = [(spec, model, params, names, s, select, options) for s in todo]
        jobs = workers_for(len(args), workers)
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                outcomes = list(pool.map(_run, args))
        else:
            outcomes = [_run(a) for a in args]
        for o in outcomes:
            done[o.on] = o
            if progress is not None:
                progress(o)

    run_all([everything - {n} for n in names])
    out = Ablation(full, {n: done[everything - {n}] for n in names})
    if len(names) > MAX_EXHAUSTIVE:
        out.exhaustive = False
        return out
    for size in range(len(names) + 1):
        # a superset of a minimal set is not minimal: only the others need a search
        candidates = [frozenset(c) for c in itertools.combinations(names, size)
                      if not any(m <= frozenset(c) for m in out.minimal)]
        run_all(candidates)
        out.minimal += [c for c in candidates if done[c].keeps_all]
    return out
