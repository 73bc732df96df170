"""Search engines behind one contract (`engines.spec`): `engine(model, options, reporter) -> Result`.

Gives `ENGINES`, every engine's `EngineSpec` by name in the order the CLI lists them,
and `breadth_first`, the search `check` runs by default. Engines consume only the
`compile.model.Model` contract and never import the language front end.
"""

from __future__ import annotations

from quiesce_check.compile.cgen import CompilerUnavailable
from quiesce_check.compile.model import Model
from quiesce_check.compile.pygen import CompiledModel
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.bmc import bmc
from quiesce_check.engines.checkpoint import Checkpoint
from quiesce_check.engines.cluster import ClusterUnavailable
from quiesce_check.engines.dfs import dfs
from quiesce_check.engines.fingerprint import SpillError, fingerprint_bfs
from quiesce_check.engines.induction import induction
from quiesce_check.engines.native import native_bfs
from quiesce_check.engines.parallel import parallel_bfs
from quiesce_check.engines.random_walk import random_walks
from quiesce_check.engines.result import Options, Reporter, Result
from quiesce_check.engines.spec import (
    ALL_KINDS,
    SAFETY_KINDS,
    Engine,
    EngineSpec,
    Family,
    Refused,
    names,
    run_checked,
)
from quiesce_check.engines.swarm import swarm
from quiesce_check.engines.symmetry import Reduced, concretise_result, self_check

__all__ = ["ENGINES", "Engine", "EngineSpec", "Family", "NoCompiler", "Refused", "SpillError", "breadth_first",
           "by_family", "SYMBOLIC", "names", "run_checked", "with_support"]


class NoCompiler(Exception):
    """`--backend native` was asked for, and no C compiler works on this machine."""


def breadth_first(model: Model, options: Options, reporter: Reporter, resume: Checkpoint | None = None) -> Result:
    """Breadth-first search: in compiled C when a compiler is at hand, else in Python.

    Both give the same verdicts, counts and shortest-counterexample lengths
    (tests hold them to it); `Options.backend` chooses explicitly. `resume`
    goes on from a saved search; either backend resumes either's checkpoint.
    With `Options.symmetry`, the model is first checked against its symmetry
    (`SymmetryBreach` if it does not respect it), the search keeps one state per
    orbit, and every trace is made a real trace of the model. With
    `Options.store == "fingerprint"`, the search in C keeps fingerprints
    (`engines.fingerprint`; `SpillError` when its folder cannot be used).
    """
    sym = options.symmetry
    if sym is not None:
        pairs = self_check(model, sym)
    result = _breadth_first(model, options, reporter, resume)
    if sym is not None:
        result = concretise_result(model, sym, result)
        names = ", ".join(f"{t.name} ({len(t.values)} value{'s' if len(t.values) != 1 else ''})" for t in sym.types)
        result.symmetry = (f"{names}: one state per orbit of {len(sym):,} permutations; the declaration held on "
                           f"{pairs:,} sampled states and permutations")
    return result


def _breadth_first(model: Model, options: Options, reporter: Reporter, resume: Checkpoint | None) -> Result:
    if options.store == "fingerprint":
        if options.workers > 1 or options.cluster is not None:
            raise Refused("--store fingerprint runs in one worker: drop --workers and --cluster")
        if resume is not None:
            raise Refused("a search with --store fingerprint saves no checkpoint to resume")
        return fingerprint_bfs(model, options, reporter)
    if options.workers > 1 or options.cluster is not None:
        return _parallel(model, options, reporter, resume)
    temporal = bool(model.info.liveness or model.info.step_properties)
    if temporal and options.backend == "native" and not NATIVE_TEMPORAL:
        raise Refused("--backend native does not check liveness or step properties; "
                      "--backend python (or auto) does")
    if options.backend != "python" and isinstance(model, CompiledModel) and (NATIVE_TEMPORAL or not temporal):
        try:
            return native_bfs(model, options, reporter, resume)
        except CompilerUnavailable as e:
            if options.backend == "native":
                raise NoCompiler(e.reason) from None
    searched = model if options.symmetry is None else Reduced(model, options.symmetry)
    result = bfs(searched, options, reporter, resume.read_arrays() if resume is not None else None)
    result.resumed = resume is not None
    return result


def _parallel(model: Model, options: Options, reporter: Reporter, resume: Checkpoint | None) -> Result:
    """The search shared among workers: C only, safety and step properties only."""
    where = "--cluster" if options.workers == 1 else "--workers"
    if model.info.liveness:
        raise Refused(f"{where} does not check liveness properties (the fair-cycle search needs the whole "
                      "graph in one place); check this model with one worker")
    if options.backend == "python" or not isinstance(model, CompiledModel):
        raise Refused(f"{where} runs the compiled search; --backend python runs in one worker")
    try:
        return parallel_bfs(model, options, reporter, resume)
    except CompilerUnavailable as e:
        raise NoCompiler(f"{where} runs the compiled search: {e.reason}") from None
    except ClusterUnavailable as e:
        raise Refused(str(e)) from None


# whether the generated C search checks liveness and step properties (else bfs runs in Python)
NATIVE_TEMPORAL = True

_LIMITS = frozenset({"max_states", "max_depth", "memory_limit"})

ENGINES: dict[str, EngineSpec] = {spec.name: spec for spec in (
    EngineSpec("bfs", breadth_first, Family.EXPLICIT, "breadth-first search (the default; shortest counterexample)",
               _LIMITS | {"backend", "keep_going", "checkpoint", "symmetry", "workers", "cluster", "store", "spill"},
               ALL_KINDS,
               symmetry=True, checkpoints=True, keep_going=True),
    EngineSpec("dfs", dfs, Family.EXPLICIT, "depth-first search", _LIMITS),
    EngineSpec("random", random_walks, Family.EXPLICIT, "random simulation (proves nothing)",
               _LIMITS | {"seed", "walks", "walk_depth"}),
    EngineSpec("swarm", swarm, Family.EXPLICIT,
               "many depth-first searches in seeded orders over the workers, for bugs (proves nothing)",
               _LIMITS | {"seed", "walks", "backend", "workers", "cluster"}),
    EngineSpec("bmc", bmc, Family.SYMBOLIC, "bounded model checking with Z3 (shortest counterexample)",
               frozenset({"depth", "encoding", "keep_going"}), ALL_KINDS, keep_going=True, needs_program=True),
    EngineSpec("induction", induction, Family.SYMBOLIC, "k-induction with Z3 (proofs)",
               # keep_going: its base case is bmc's, and goes on past a violation as bmc does (a
               # regression run asks for it); the command line offers --continue with bmc only
               frozenset({"depth", "encoding", "seed", "keep_going"}), SAFETY_KINDS | {"action"}, needs_program=True),
)}


def by_family(family: Family) -> list[EngineSpec]:
    return [s for s in ENGINES.values() if s.family is family]


# the engines that solve rather than enumerate: they take --depth, not --max-states or --max-depth
SYMBOLIC = tuple(s.name for s in by_family(Family.SYMBOLIC))


def with_support(feature: str) -> list[EngineSpec]:
    """The engines whose spec says yes to `feature` (`symmetry`, `checkpoints`, `keep_going`)."""
    return [s for s in ENGINES.values() if getattr(s, feature)]
