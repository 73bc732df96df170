"""`quiesce-check hook SPEC --model MODEL`: a quiesce hook composed with a protocol model.

Takes a hook spec (a QDL file with a `hook` declaration and `obligation`s)
and a model; gives the composed model's result for every invariant, final-state
and liveness property it declares, and with `ablate`, what each obligation is
worth: the model checked with each obligation switched off in turn (which
properties break, safety and liveness apart, the shortest counterexample, a
lasso's with where its cycle starts, why), and the minimal sets of
obligations that keep every property, searched exhaustively for up to
`MAX_EXHAUSTIVE` obligations. An ablation's table, JSON and HTML are
`output.ablation`'s.

An ablation compiles the composed model once (`Switched`): each obligation
becomes a boolean variable that no step writes, set by the initial state, so
every subset of obligations is the same compiled model (and the same C
library) started from other initial states, and costs one search. The
searches are the ones the model with the obligations as constants would run:
a path that a false obligation closes is a step whose guard never holds, and
the steps left are tried in the same order, so verdicts, state counts and
shortest counterexamples are the same (tests/test_ablation.py holds them to
it). A spec that uses an obligation where a constant is needed (a type's
bound, a `const`) cannot be compiled so: it is then built and compiled once
per subset. Either way the searches run in parallel processes (`Searches`;
those of the one compiled model forked once it is compiled). `progress`
hears of each search before it runs (`Progress`: which of how many, the
obligations on, the time so far and an estimate of the time left).
Imports `build`, `compile`, `domain`, `engines`, `lang`.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from quiesce_check.build import Built, build_text
from quiesce_check.compile import cgen
from quiesce_check.compile.deadline import Deadline, TimeLimit
from quiesce_check.compile.pygen import CompiledModel
from quiesce_check.domain.explain import Explain, explainer
from quiesce_check.engines import ENGINES, run_checked
from quiesce_check.engines.result import NullReporter, Options, Reporter, Result, Status
from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import Diagnostic, ModelError
from quiesce_check.lang.modules import Expanded
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


def summarise(built: Built, result: Result, on: frozenset[str], explain: Explain | None = None) -> Outcome:
    """A run as an `Outcome`; `explain`, when given, is the model's explainer (made once for
    many runs of one model)."""
    explain = explain if explain is not None else explainer(built.ast.sources, built.checked.consts)
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
    """One subset, built and compiled with its obligations as constants (in a worker process)."""
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


def _as_variables(names: Sequence[str]) -> Callable[[Expanded], Expanded]:
    """A rewrite (`build.build_text`) that declares each obligation in `names` as a boolean
    variable with the obligation's value (a `use` argument's, or true)."""
    def rewrite(expanded: Expanded) -> Expanded:
        decls: list[A.Decl] = []
        origins = dict(expanded.origins)
        for d in expanded.model.decls:
            if isinstance(d, A.ObligationDecl) and d.name in names:
                var = A.VarDecl(d.name, A.BoolType(d.span), d.value or A.BoolLit(True, d.span), None, d.span)
                origin = origins.pop(id(d), None)  # keyed by id: the old declaration's goes with it
                if origin is not None:
                    origins[id(var)] = origin
                decls.append(var)
            else:
                decls.append(d)
        return Expanded(replace(expanded.model, decls=tuple(decls)), origins)
    return rewrite


class Switched:
    """The composed model compiled once, with every obligation a boolean variable no step writes:
    a subset of obligations is a set of initial states of the one compiled model."""

    def __init__(self, spec: str, model: str, params: dict[str, Value], names: Sequence[str],
                 select: list[str]) -> None:
        given = {k: v for k, v in params.items() if k not in names}  # the subset sets these
        self.built = build_text(composed_text(spec, model), str(Path.cwd() / "<hook>"), given, select,
                                rewrite=_as_variables(names))
        base = {p.name: p.base for p in self.built.program.layout.places}
        self.slots = {n: base[n] for n in names}
        self.explain = explainer(self.built.ast.sources, self.built.checked.consts)

    def prepare(self, options: Options) -> None:
        """Compile the C search now, when the searches will run it, and keep it loaded (`cgen.pin`)
        for every search, and for the worker processes forked after this."""
        program = self.built.program
        if options.backend == "python" or cgen.compiler() is None or not cgen.fits_int64(program):
            return
        with contextlib.suppress(cgen.CompilerUnavailable, TimeLimit):  # each search says so itself
            cgen.pin(program, Deadline(options.time_limit))

    def model_for(self, on: frozenset[str]) -> CompiledModel:
        """The compiled model started with exactly the obligations `on` true."""
        states: dict[tuple[object, ...], None] = {}
        for s in self.built.model.initial_states():
            state = list(s)
            for n, slot in self.slots.items():
                state[slot] = n in on
            states[tuple(state)] = None
        return self.built.model.starting_from(list(states))

    def search(self, on: frozenset[str], options: Options) -> Result:
        """The search of the model with the obligations `on`, every other one off (as `check_with`:
        the shortest counterexample of each property); raises `TimeLimit`."""
        bfs = ENGINES["bfs"]
        narrowed = bfs.narrow(replace(options, deadline=Deadline(options.time_limit)))
        return run_checked(bfs, self.model_for(on), narrowed, NullReporter())

    def outcome(self, on: frozenset[str], options: Options) -> Outcome:
        """One search: the model with the obligations `on`, every other one off."""
        try:
            result = self.search(on, options)
        except TimeLimit as e:
            return Outcome(on, {}, {}, {}, f"incomplete: {e}")
        if (result.limit or "").startswith("interrupted"):
            # the engine took Ctrl-C to end its search; it ends the ablation, as it would end
            # the worker processes of one compiled subset by subset
            raise KeyboardInterrupt
        return summarise(self.built, result, on, self.explain)


# A forked worker's model and options (`_adopt`): the one compiled model is not data that can be
# sent to a process, so the workers are forked from the process that built it.
_ADOPTED: tuple[Switched, Options] | None = None


def _adopt(switched: Switched, options: Options) -> None:
    global _ADOPTED
    _ADOPTED = (switched, options)


def _adopted(on: frozenset[str]) -> Outcome:
    assert _ADOPTED is not None
    return _ADOPTED[0].outcome(on, _ADOPTED[1])


# What runs a list of subsets: their outcomes, in order, as each is done.
Searcher = Callable[[Sequence[frozenset[str]]], Iterator[Outcome]]


class Searches:
    """The searches of an ablation, in up to `workers` processes: on one model compiled once
    (`Switched`) when the spec allows it (and `compile_once`), the workers forked from this
    process once it is compiled; else each subset built and compiled on its own. Called with
    a list of subsets, gives their outcomes in order, as each is done. A context: its worker
    processes end with it."""

    def __init__(self, spec: str, model: str, params: dict[str, Value], names: tuple[str, ...], select: list[str],
                 options: Options, workers: int | None = None, compile_once: bool = True) -> None:
        self.args = (spec, model, params, names)
        self.select, self.options = select, options
        self.switched: Switched | None = None
        if compile_once:
            try:
                self.switched = Switched(spec, model, params, names, select)
            except Exception:  # noqa: BLE001 - an obligation used where a constant is needed
                # (refused as E023, or, in a `const`, not caught by the checker at all): the spec
                # compiled with constants already ran once, and runs so for every subset
                self.switched = None
        searches = 2 ** len(names) if len(names) <= MAX_EXHAUSTIVE else len(names)
        self.jobs = workers_for(searches, workers)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Searches:
        if self.switched is not None:
            self.switched.prepare(self.options)
        if self.jobs <= 1:
            return self
        if self.switched is None:
            self.pool = ProcessPoolExecutor(max_workers=self.jobs)
            return self
        if "fork" not in multiprocessing.get_all_start_methods():
            return self  # the compiled model cannot be handed to a worker: one process
        self.pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=multiprocessing.get_context("fork"),
                                        initializer=_adopt, initargs=(self.switched, self.options))
        # every worker forked now, before the progress display starts a thread of its own
        self.pool.submit(int).result()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def __call__(self, sets: Sequence[frozenset[str]]) -> Iterator[Outcome]:
        if self.switched is not None:
            if self.pool is not None:
                return self.pool.map(_adopted, sets)
            switched = self.switched
            return (switched.outcome(s, self.options) for s in sets)
        spec, model, params, names = self.args
        args = [(spec, model, params, names, s, self.select, self.options) for s in sets]
        return self.pool.map(_run, args) if self.pool is not None else (_run(a) for a in args)


@dataclass(frozen=True)
class Progress:
    """An ablation about to run search `k` of `n` (`n` shrinks as minimal sets are found: a
    superset of one needs no search), with the obligations `on`; `elapsed` seconds so far and
    an estimate of the seconds `left` (None before a search has finished)."""

    k: int
    n: int
    on: tuple[str, ...]   # in the order the spec declares them
    elapsed: float
    left: float | None


def progress_text(p: Progress) -> str:
    """`ablating: subset 12 of 127, about 29 s left (3.1 s so far): {stop, drain} on`; the set,
    of any length, last, where a narrow terminal cuts the line."""
    shown = "{" + ", ".join(p.on) + "}" if p.on else "no obligation"
    left = f"about {p.left:.0f} s left ({p.elapsed:.1f} s so far)" if p.left is not None \
        else f"{p.elapsed:.1f} s so far"
    return f"ablating: subset {p.k} of {p.n}, {left}: {shown} on"


class _Plan:
    """What an ablation knows so far, what it has still to search, and the progress it reports."""

    def __init__(self, names: tuple[str, ...], full: Outcome, progress: Callable[[Progress], None] | None) -> None:
        self.names = names
        self.everything = frozenset(names)
        self.done: dict[frozenset[str], Outcome] = {self.everything: full}
        self.minimal: list[frozenset[str]] = []
        self.exhaustive = len(names) <= MAX_EXHAUSTIVE
        self.progress = progress
        self.searched = 0
        self.start = time.perf_counter()

    def left(self) -> int:
        """The searches still to run: each removal not yet run; when the minimal sets are
        searched, every subset not yet run that contains no minimal set found so far."""
        todo = {self.everything - {n} for n in self.names}
        if self.exhaustive:
            todo |= {frozenset(c) for size in range(len(self.names) + 1)
                     for c in itertools.combinations(self.names, size)}
        return sum(1 for s in todo if s not in self.done and not any(m <= s for m in self.minimal))

    def starting(self, on: frozenset[str]) -> None:
        if self.progress is None:
            return
        elapsed = time.perf_counter() - self.start
        left = self.left()
        per = elapsed / self.searched if self.searched else None
        self.progress(Progress(self.searched + 1, self.searched + left, tuple(n for n in self.names if n in on), elapsed,
                               per * left if per is not None else None))

    def run(self, search: Searcher, sets: Sequence[frozenset[str]]) -> None:
        todo = list(dict.fromkeys(s for s in sets if s not in self.done))
        outcomes = search(todo)
        for s in todo:
            self.starting(s)
            self.done[s] = next(outcomes)
            self.searched += 1


def ablate(spec: str, model: str, params: dict[str, Value], hook: Hook, select: list[str], options: Options,
           full: Outcome, workers: int | None = None, progress: Callable[[Progress], None] | None = None,
           compile_once: bool = True) -> Ablation:
    """Each obligation off in turn; then the minimal sets of obligations that keep every property.
    `compile_once` false builds and compiles every subset on its own, as a spec that needs its
    obligations as constants is (to compare the two, and to measure what compiling once saves)."""
    names = tuple(hook.obligations)
    with Searches(spec, model, params, names, select, options, workers, compile_once) as search:
        plan = _Plan(names, full, progress)
        plan.run(search, [plan.everything - {n} for n in names])
        out = Ablation(full, {n: plan.done[plan.everything - {n}] for n in names})
        if not plan.exhaustive:
            out.exhaustive = False
            return out
        for size in range(len(names) + 1):
            # a superset of a minimal set is not minimal: only the others need a search
            candidates = [frozenset(c) for c in itertools.combinations(names, size)
                          if not any(m <= frozenset(c) for m in plan.minimal)]
            plan.run(search, candidates)
            plan.minimal += [c for c in candidates if plan.done[c].keeps_all]
    out.minimal = plan.minimal
    return out
