"""Swarm: many independent depth-first searches, each in its own order, for hunting bugs.

Takes a `Model`, `Options` and a `Reporter`; gives a `Result`. Each search is a depth-first
search with a visited set of its own, bounded by a number of states (`max_states`, per search;
`DEFAULT_STATES` when not given) and optionally a depth (`max_depth`), that tries each state's
successors in an order drawn from its own seed (derived from `Options.seed` and the search's
number). `Options.walks` searches run, `workers` at a time: in this process (one worker), in
processes of this machine (the model's IR program is sent and compiled in each), or as Ray
actors on `cluster` (`engines.cluster`). Each search runs in compiled C (`compile/c/swarm.c`
over the breadth-first search's store) when a compiler is at hand and the model has its
program, else in Python; a search that overflows 64 bits in C runs again in Python.

The searches run in rounds of one per worker; after a round in which some found a violation,
the swarm stops and reports the shortest counterexample of that round (by length, then seed),
replayed on the Python backend. Which searches form a round depends on the seed and the number
of workers only, so the same seed and workers give the same result (a time limit aside).

It proves nothing: with no violation the verdict is `incomplete`, and the result says what was
covered: searches, states visited in all, the distinct states (at least the most any one search
met, at most the sum), the deepest depth, the steps fired and the new states they made, summed.
Liveness and step properties, symmetry, checkpoints and `--continue` are refused (the spec).
Imports `compile.*`, `engines.*`, `trace.types`.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import random
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from quiesce_check.compile import cgen
from quiesce_check.compile.deadline import Deadline
from quiesce_check.compile.ir import Program
from quiesce_check.compile.model import Model, Successor
from quiesce_check.compile.pygen import CompiledModel, compile_program
from quiesce_check.engines.common import Clock, Failure, at_end, expand, inspect
from quiesce_check.engines.dfs import DepthFirst
from quiesce_check.engines.native import NativeOverflow, NativeSearch
from quiesce_check.engines.result import (
    NullReporter,
    Options,
    Outcome,
    Reporter,
    Result,
    Stats,
    final_verdict,
    property_results,
)
from quiesce_check.engines.spec import Refused
from quiesce_check.trace.types import Trace

# states per search when --max-states is not given: in C a search of this many takes a fraction of
# a second; in Python some seconds
DEFAULT_STATES = {"native": 100_000, "python": 10_000}
_SLICE = 1 << 14          # expansions between two looks at the clock, in C
_NO_DEPTH = (1 << 64) - 1


class WorkerLost(Exception):
    """A worker process or Ray actor died during a round: the swarm ends incomplete."""


class SwarmMismatch(Exception):
    """A search's counterexample does not replay on the Python backend: a bug, never a verdict."""


def search_seed(seed: int, k: int) -> int:
    """The seed of search `k` of a swarm seeded `seed` (splitmix64 of both): 64 bits, the same
    in every process."""
    z = (seed * 0x9E3779B97F4A7C15 + k + 1) & _NO_DEPTH
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _NO_DEPTH
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _NO_DEPTH
    return z ^ (z >> 31)


@dataclass(frozen=True)
class Budget:
    """What one search may do."""

    max_states: int | None      # None: the backend's DEFAULT_STATES
    max_depth: int | None
    memory_limit: int | None
    check_deadlock: bool
    seconds: float | None       # the time left when it starts (None: no limit)


@dataclass
class Report:
    """What one search did: its counterexample, if it met one, and what it covered."""

    seed: int
    trace: Trace | None
    generated: int
    distinct: int
    depth: int                 # the deepest state it met
    fired: list[int]
    new: list[int]
    hit: set[int] = field(default_factory=set)
    end_hit: set[int] = field(default_factory=set)
    exhausted: bool = False    # it met every reachable state (no bound cut it short)
    stopped: str | None = None  # the time limit, memory: what ended it before its budget
    backend: str = "python"


class _Shuffled(DepthFirst):
    """Depth-first search in Python trying each state's successors in an order drawn from `rng`."""

    def __init__(self, model: Model, opts: Options, rng: random.Random) -> None:
        super().__init__(model, opts, NullReporter())
        self.rng = rng

    def order(self, succs: list[Successor]) -> list[Successor]:
        out = list(succs)
        self.rng.shuffle(out)
        return out


class Searcher:
    """One worker: the model (compiled here from its program, when given one) and, unless the
    backend is python or no compiler works, its C library; runs searches one at a time."""

    def __init__(self, model: Model | Program, backend: str, deadline: Deadline | None = None) -> None:
        self.model: Model = compile_program(model) if isinstance(model, Program) else model
        self.lib: cgen.NativeLib | None = None
        self.why_python: str | None = None
        program = self.model.program
        if backend == "python":
            return
        if program is None or not isinstance(self.model, CompiledModel):
            self.why_python = "the model has no program to compile to C"
        elif not cgen.fits_int64(program):
            self.why_python = "the model holds numbers beyond 64 bits"
        else:
            try:
                self.lib = cgen.load_native(program, deadline=deadline, search="swarm")
            except cgen.CompilerUnavailable as e:
                self.why_python = e.reason
            else:
                # one search of a swarm (swarm.c): depth-first in a seeded order over the store
                L, u64p = self.lib.lib, ctypes.POINTER(ctypes.c_uint64)
                L.qc_swarm_new.restype = ctypes.c_void_p
                L.qc_swarm_new.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64]
                L.qc_swarm_free.argtypes = [ctypes.c_void_p]
                L.qc_swarm_run.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
                L.qc_swarm_stats.argtypes = [ctypes.c_void_p, u64p]

    def search(self, seed: int, budget: Budget) -> Report:
        if self.lib is not None:
            try:
                return self.native(seed, budget)
            except NativeOverflow:
                pass  # 64-bit arithmetic overflowed in C: this search again, in Python
        return self.python(seed, budget)

    def python(self, seed: int, budget: Budget) -> Report:
        states = budget.max_states or DEFAULT_STATES["python"]
        opts = Options(max_states=states, max_depth=budget.max_depth, check_deadlock=budget.check_deadlock,
                       memory_limit=budget.memory_limit, deadline=Deadline(budget.seconds))
        d = _Shuffled(self.model, opts, random.Random(seed))
        found, limit = d.search()
        stopped = limit if limit is not None and not limit.startswith("--max-states") else None
        return Report(seed, found, d.stats.generated, len(d.seen),
                      len(found.steps) if found is not None else d.max_seen_depth,
                      list(d.stats.fired), list(d.stats.new), set(d.hit), set(d.end_hit),
                      exhausted=found is None and limit is None and not d.truncated, stopped=stopped)

    def native(self, seed: int, budget: Budget) -> Report:
        assert self.lib is not None
        model, lib = self.model, self.lib.lib
        info = model.info
        states = budget.max_states or DEFAULT_STATES["native"]
        opts = Options(max_states=states, check_deadlock=budget.check_deadlock, memory_limit=budget.memory_limit)
        ns = NativeSearch(model, self.lib, opts, NullReporter())
        clock = Clock(Deadline(budget.seconds))
        handle = None
        stopped: str | None = None
        try:
            inits = list(dict.fromkeys(model.initial_states()))
            random.Random(seed).shuffle(inits)
            status = cgen.RUNNING
            for s in inits:
                buf = (ctypes.c_int64 * ns.nslots)(*[int(v) for v in s])
                if lib.qc_add_initial(ns.ctx, buf):
                    status = ns.stats()[6]
                    break
            handle = lib.qc_swarm_new(ns.ctx, seed, budget.max_depth if budget.max_depth is not None else _NO_DEPTH)
            if not handle:
                raise MemoryError("cannot allocate a swarm search")
            while status == cgen.RUNNING:
                status = lib.qc_swarm_run(handle, _SLICE)
                if status == cgen.RUNNING and clock.expired():
                    stopped = f"--time-limit {budget.seconds:g}s"
                    break
            generated, distinct, _, _, where, what, _, _ = ns.stats()
            if what >= 1 << 63:
                what -= 1 << 64
            if status == cgen.OVERFLOW:
                raise NativeOverflow()
            extra = (ctypes.c_uint64 * 3)()
            lib.qc_swarm_stats(handle, extra)
            deepest, truncated = extra[0], bool(extra[1])
            found = ns.found(status, where, what)
            trace = min(found, key=lambda t: len(t.steps), default=None)
            if stopped is None:
                stopped = ns.limit_of(status) if status not in (cgen.MAX_STATES, cgen.DONE) else None
            n = len(info.actions) + 1
            fired, fresh = (ctypes.c_uint64 * n)(), (ctypes.c_uint64 * n)()
            goals = (ctypes.c_int64 * (len(info.reachables) + 1))()
            lib.qc_coverage(ns.ctx, fired, fresh, goals)
            _, _, end_first, _ = ns.firsts()
            return Report(seed, trace, generated, distinct, len(trace.steps) if trace is not None else deepest,
                          list(fired)[:n - 1], list(fresh)[:n - 1],
                          {k for k in range(len(info.reachables)) if goals[k] >= 0},
                          {k for k, idx in enumerate(end_first) if idx >= 0},
                          exhausted=status == cgen.DONE and not truncated, stopped=stopped, backend="native")
        finally:
            if handle:
                lib.qc_swarm_free(handle)
            ns.close()


# Runners: where the searches of a round run -------------------------------------------------


class _InProcess:
    def __init__(self, model: Model, backend: str, deadline: Deadline | None) -> None:
        self.searcher = Searcher(model, backend, deadline)
        self.width = 1
        self.where = "in this process"

    def run(self, jobs: Sequence[tuple[int, Budget]]) -> list[Report]:
        return [self.searcher.search(seed, budget) for seed, budget in jobs]

    def close(self, interrupted: bool = False) -> None:
        pass


# the searcher of a worker process of the pool (set once, by `_start`, in that process)
_WORKER: list[Searcher] = []


def _start(program: Program, backend: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends the pool
    _WORKER.append(Searcher(program, backend))


def _run_one(job: tuple[int, Budget]) -> Report:
    return _WORKER[0].search(*job)


class _Processes:
    """Worker processes of this machine, started afresh (spawned, not forked: nothing of this
    process's state is shared), each given the model's program and compiling it."""

    def __init__(self, program: Program, backend: str, workers: int, deadline: Deadline | None) -> None:
        if backend != "python":
            with contextlib.suppress(cgen.CompilerUnavailable):
                cgen.load_native(program, deadline=deadline, search="swarm")  # built once here: the workers find it cached
        self.pool = ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"), _start, (program, backend))
        self.width = workers
        self.where = f"in {workers} processes"

    def run(self, jobs: Sequence[tuple[int, Budget]]) -> list[Report]:
        try:
            return list(self.pool.map(_run_one, jobs))
        except BrokenProcessPool:
            raise WorkerLost("a worker process ended before its search did") from None

    def close(self, interrupted: bool = False) -> None:
        if interrupted:  # the searches under way are not waited for
            for p in list(getattr(self.pool, "_processes", {}).values()):
                p.terminate()
        self.pool.shutdown(wait=not interrupted, cancel_futures=True)


class _Ray:
    """Ray actors on a cluster, one per worker, each given the model's program (through Ray's
    object store, once) and compiling it on its node."""

    def __init__(self, program: Program, backend: str, address: str, workers: int) -> None:
        from quiesce_check.engines.cluster import connect, cpus
        self.ray = connect(address)
        n = workers if workers > 1 else cpus(self.ray)
        actor = self.ray.remote(num_cpus=1)(Searcher)
        ref = self.ray.put(program)
        self.actors = [actor.remote(ref, backend) for _ in range(n)]
        self.width = n
        self.where = f"as {n} Ray actors"

    def run(self, jobs: Sequence[tuple[int, Budget]]) -> list[Report]:
        refs = [a.search.remote(seed, budget) for a, (seed, budget) in zip(self.actors, jobs, strict=False)]
        try:
            out: list[Report] = self.ray.get(refs)
        except self.ray.exceptions.RayError as e:  # an actor, or its node, died
            raise WorkerLost(f"a Ray worker was lost before its search ended ({type(e).__name__})") from None
        return out

    def close(self, interrupted: bool = False) -> None:
        for a in self.actors:
            self.ray.kill(a)


def _runner(model: Model, opts: Options) -> _InProcess | _Processes | _Ray:
    if opts.cluster is None and opts.workers == 1:
        return _InProcess(model, opts.backend, opts.deadline)
    program = model.program
    if program is None or not isinstance(model, CompiledModel):
        raise Refused("--engine swarm runs on several workers only a model compiled from its program")
    if opts.cluster is not None:
        return _Ray(program, opts.backend, opts.cluster, opts.workers)
    return _Processes(program, opts.backend, opts.workers, opts.deadline)


# Checking what a search found -----------------------------------------------------------------

def confirm(model: Model, trace: Trace, check_deadlock: bool) -> None:
    """`SwarmMismatch` unless `trace` is a run of `model` from an initial state whose end shows
    what the trace says (re-evaluated here, on the Python backend)."""
    states, steps = trace.states, trace.steps
    if not states or states[0] not in set(model.initial_states()):
        raise SwarmMismatch("a swarm counterexample does not start in an initial state")
    for k in range(len(states) - 1):
        try:
            succs = expand(model, states[k])
        except Failure as f:
            raise SwarmMismatch(f"a step fails in state {k} of a swarm counterexample ({f.message})") from None
        if (steps[k].action, steps[k].choices, states[k + 1]) not in succs:
            raise SwarmMismatch(f"step {k + 1} of a swarm counterexample is no step of the model")
    shown: list[tuple[str, str]] = []
    if len(steps) == len(states):  # the last step fails
        try:
            expand(model, states[-1])
        except Failure as f:
            if (f.step.action, f.step.choices) == (steps[-1].action, steps[-1].choices):
                shown.append((f.kind, f.prop))
    else:
        bad, _ = inspect(model, states[-1])
        try:
            if not expand(model, states[-1]):
                bad += at_end(model, states[-1], check_deadlock)[0]
        except Failure:
            pass
        shown = [(kind, prop) for kind, prop, _ in bad]
    if (trace.kind, trace.property) not in shown:
        raise SwarmMismatch(f"a swarm counterexample does not end in a violation of {trace.property}")


# The swarm ------------------------------------------------------------------------------------

def swarm(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    opts = options or Options()
    rep = reporter or NullReporter()
    clock = Clock(opts.deadline)
    runner = _runner(model, opts)
    reports: list[Report] = []
    found: list[Report] = []
    limit: str | None = None
    total = opts.walks
    interrupted = False
    most = generated = deepest = 0  # for progress: the most distinct states of a search, steps, depth
    try:
        while len(reports) < total and not found:
            remaining = clock.remaining()
            if remaining is not None and remaining <= 0:
                limit = f"--time-limit {opts.time_limit:g}s"
                break
            budget = Budget(opts.max_states, opts.max_depth, opts.memory_limit, opts.check_deadlock, remaining)
            first = len(reports)
            jobs = [(search_seed(opts.seed, k), budget) for k in range(first, min(total, first + runner.width))]
            done = runner.run(jobs)
            reports += done
            found = [r for r in done if r.trace is not None]
            most = max(most, *(r.distinct for r in done))
            generated += sum(r.generated for r in done)
            deepest = max(deepest, *(r.depth for r in done))
            rep.progress(most, generated, deepest, total - len(reports), clock.elapsed())
            stopped = next((r.stopped for r in done if r.stopped), None)
            if stopped and not found:
                limit = stopped
                break
            if any(r.exhausted for r in done):
                break  # one search met every reachable state: the others can find nothing more
    except KeyboardInterrupt:
        interrupted = True
        limit = "interrupted"
    except WorkerLost as e:
        # the rounds before this one stand; this one's searches are not counted
        interrupted = True
        limit = f"{e}; the searches of its round are not counted"
    finally:
        runner.close(interrupted)
    return _result(model, opts, runner.width, runner.where, reports, found, limit, clock)


def _result(model: Model, opts: Options, width: int, where: str, reports: list[Report], found: list[Report],
            limit: str | None, clock: Clock) -> Result:
    info = model.info
    n = len(info.actions)
    best = min(found, key=lambda r: (len(r.trace.steps) if r.trace else 0, r.seed), default=None)
    trace = best.trace if best is not None else None
    if trace is not None:
        confirm(model, trace, opts.check_deadlock)
    stats = Stats(generated=sum(r.generated for r in reports),
                  distinct=max((r.distinct for r in reports), default=0),
                  depth=max((r.depth for r in reports), default=0), elapsed=clock.elapsed(),
                  fired=[sum(r.fired[a] for r in reports) for a in range(n)],
                  new=[sum(r.new[a] for r in reports) for a in range(n)])
    hit = set().union(*(r.hit for r in reports)) if reports else set()
    end_hit = set().union(*(r.end_hit for r in reports)) if reports else set()
    visited = sum(r.distinct for r in reports)
    backends = sorted({r.backend for r in reports}) or ["python"]
    per = (f"--max-states {opts.max_states}" if opts.max_states is not None else
           f"{DEFAULT_STATES['native' if backends == ['native'] else 'python']:,} states")
    depth = f", --max-depth {opts.max_depth}" if opts.max_depth is not None else ""
    covered = (f"swarm: {len(reports):,} of {opts.walks:,} searches, each to {per}{depth} "
               f"(seed {opts.seed}, {width} at a time {where}): {visited:,} states visited in all, "
               f"of which at least {stats.distinct:,} distinct; deepest {stats.depth}")
    exhausted = next((r for r in reports if r.exhausted), None)
    if exhausted is not None and trace is None:
        covered += (f"; one search met every reachable state ({exhausted.distinct:,}) and found no violation "
                    "(a swarm proves nothing: --engine bfs can)")
    if trace is None and limit is None:
        limit = covered
        note = None
    else:
        note = covered
    traces = {trace.property: trace} if trace is not None else {}
    out = Outcome(traces, trace, False, hit, end_hit)
    return Result(engine="swarm", verdict=final_verdict(info, out, opts.check_deadlock),
                  properties=property_results(info, out, opts.check_deadlock), stats=stats, trace=trace,
                  traces=traces, limit=limit, seed=opts.seed, complete=False, note=note,
                  backend=" and ".join(backends))

