"""Breadth-first search in compiled C: the fast engine.

Takes a `CompiledModel` (its IR program is turned into C by `compile.cgen`),
`Options` and a `Reporter`; gives the same `Result` as `engines.bfs`, with
the same verdicts, counts and shortest-counterexample lengths. The C library
runs in slices of a bounded number of expansions, so progress, the time limit
and Ctrl-C are handled here between slices. A counterexample comes back as a
chain of state indices; each step is identified, and a failing last step
re-raised with its message, by the Python backend, which also cross-checks
the C code on every step of every trace. Returns None when no C compiler is
available, so the caller can fall back to `engines.bfs`.
Imports `compile.*`, `engines.*`.
"""

from __future__ import annotations

import ctypes

from quiesce_check.compile import cgen
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import StepError
from quiesce_check.compile.pygen import CompiledModel
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.common import (
    DEADLOCK_MESSAGE,
    Clock,
    Failure,
    at_end,
    check_state,
    expand,
    inspect,
)
from quiesce_check.engines.result import (
    NullReporter,
    Options,
    Outcome,
    Reporter,
    Result,
    Stats,
    Step,
    Trace,
    final_verdict,
    first_reported,
    property_results,
)

_SLICE = 1 << 15


class NativeOverflow(Exception):
    """64-bit arithmetic overflowed in C where Python's integers do not: run in Python instead."""


class NativeMismatch(Exception):
    """The C search and the Python backend disagree on a step: a bug, never a verdict."""


class NativeSearch:
    def __init__(self, model: CompiledModel, lib: cgen.NativeLib, options: Options, reporter: Reporter) -> None:
        self.model = model
        self.lib = lib
        self.options = options
        self.reporter = reporter
        self.nslots = lib.nslots
        self.ctx = lib.lib.qc_new(options.max_states or 0,
                                  options.max_depth if options.max_depth is not None else (1 << 64) - 1,
                                  1 if options.check_deadlock else 0, 1 if options.keep_going else 0)
        if not self.ctx:
            raise MemoryError("cannot allocate the search tables")

    def close(self) -> None:
        if self.ctx:
            self.lib.lib.qc_free(self.ctx)
            self.ctx = None

    def stats(self) -> list[int]:
        out = (ctypes.c_uint64 * 8)()
        self.lib.lib.qc_stats(self.ctx, out)
        return list(out)

    def state(self, index: int) -> State:
        buf = (ctypes.c_int64 * self.nslots)()
        self.lib.lib.qc_state(self.ctx, index, buf)
        return tuple(bool(v) if f.is_bool else v for f, v in zip(self.lib.packing.fields, buf, strict=False))

    def path(self, index: int) -> list[State]:
        chain = []
        while index != 0xFFFFFFFF:
            chain.append(self.state(index))
            index = self.lib.lib.qc_parent(self.ctx, index)
        return chain[::-1]

    def steps(self, states: list[State]) -> list[Step]:
        """The step between each pair of states, found by the Python backend."""
        out = []
        for a, b in zip(states, states[1:], strict=False):
            match = next(((ai, ch) for ai, ch, t in self.model.successors(a) if t == b), None)
            if match is None:
                raise NativeMismatch(f"no step of the Python backend leads from {a} to {b}")
            out.append(Step(*match))
        return out

    def trace_to(self, index: int, kind: str, prop: str, message: str) -> Trace:
        states = self.path(index)
        return Trace(tuple(states), tuple(self.steps(states)), kind, prop, message)

    def failing_step(self, index: int) -> Trace:
        """A step from state `index` failed in C: rebuild the failure with the Python backend."""
        states = self.path(index)
        try:
            expand(self.model, states[-1])
        except Failure as f:
            return Trace(tuple(states), (*self.steps(states), f.step), f.kind, f.prop, f.message)
        raise NativeMismatch(f"the C search reports a failing step from {states[-1]}; the Python backend does not")

    def firsts(self) -> tuple[list[int], list[int], list[int], int]:
        """The first state violating each invariant and each final property, the first state
        hitting each end goal, the first deadlock (-1: none)."""
        info = self.model.info
        inv = (ctypes.c_int64 * (len(info.invariants) + 1))()
        fin = (ctypes.c_int64 * (len(info.finals) + 1))()
        endg = (ctypes.c_int64 * (len(info.end_goals) + 1))()
        dead = ctypes.c_int64()
        self.lib.lib.qc_firsts(self.ctx, inv, fin, endg, ctypes.byref(dead))
        return list(inv)[:-1], list(fin)[:-1], list(endg)[:-1], dead.value

    def check_final(self, index: int, name: str) -> Trace:
        """The C search says state `index` violates final property `name`: confirm and rebuild."""
        bad, _ = at_end(self.model, self.state(index), False)
        match = [v for v in bad if v[1] == name]
        if not match or self.model.successors(self.state(index)):
            raise NativeMismatch(f"the C search reports `{name}` violated in {self.state(index)}")
        return self.trace_to(index, *match[0])

    def check_invariant(self, index: int, name: str) -> Trace:
        match = [v for v in check_state(self.model, self.state(index)) if v[1] == name]
        if not match:
            raise NativeMismatch(f"the C search reports invariant `{name}` violated in {self.state(index)}")
        return self.trace_to(index, *match[0])

    def run(self) -> Result:
        model, opts, lib = self.model, self.options, self.lib.lib
        info = model.info
        clock = Clock(opts.time_limit)
        limit: str | None = None
        status = cgen.RUNNING
        for s in dict.fromkeys(model.initial_states()):
            buf = (ctypes.c_int64 * self.nslots)(*[int(v) for v in s])
            if lib.qc_add_initial(self.ctx, buf):
                status = self.stats()[6]
                break
        try:
            while status == cgen.RUNNING:
                status = lib.qc_run(self.ctx, _SLICE)
                generated, distinct, depth, head = self.stats()[:4]
                self.reporter.progress(distinct, generated, depth, distinct - head, clock.elapsed())
                if status == cgen.RUNNING and clock.expired():
                    limit = f"--time-limit {opts.time_limit:g}s"
                    break
        except KeyboardInterrupt:
            limit = "interrupted"
        generated, distinct, depth, head, where, what, _, table_bytes = self.stats()
        if what >= 1 << 63:
            what -= 1 << 64  # -1: a property, not a step, failed
        if status == cgen.OVERFLOW:
            raise NativeOverflow()
        # every property's first counterexample
        found: list[Trace] = []
        inv_first, fin_first, end_first, dead_first = self.firsts()
        for k, idx in enumerate(inv_first):
            if idx >= 0:
                found.append(self.check_invariant(idx, info.invariants[k].name))
        for k, idx in enumerate(fin_first):
            if idx >= 0:
                found.append(self.check_final(idx, info.finals[k].name))
        if dead_first >= 0:
            found.append(self.trace_to(dead_first, "deadlock", "deadlock", DEADLOCK_MESSAGE))
        if status == cgen.MODEL_ERROR and what == -1:
            state = self.state(where)
            bad, _ = inspect(model, state)
            try:
                ends = not model.successors(state)
            except StepError:
                ends = False  # a step fails there: the error the C search met is in a property
            if ends:
                bad += at_end(model, state, opts.check_deadlock)[0]
            bad = [v for v in bad if v[0] == "model-error"]
            if not bad:
                raise NativeMismatch(f"the C search reports an error evaluating a property in {self.state(where)}")
            found.append(self.trace_to(where, *bad[0]))
        elif status in (cgen.ASSERTION, cgen.MODEL_ERROR):
            found.append(self.failing_step(where))
        elif status == cgen.MAX_STATES:
            limit = f"--max-states {opts.max_states}"
        elif status == cgen.MAX_DEPTH:
            limit = f"--max-depth {opts.max_depth}"
        elif status == cgen.NO_MEMORY:
            limit = "memory: the search tables could not grow"
        traces = {t.property: t for t in found}
        first = first_reported(info, traces)
        if not opts.keep_going and first is not None:
            traces = {first.property: first}  # a search that stops reports its shortest
        n = len(info.actions) + 1
        fired = (ctypes.c_uint64 * n)()
        fresh = (ctypes.c_uint64 * n)()
        goals = (ctypes.c_int64 * (len(info.reachables) + 1))()
        lib.qc_coverage(self.ctx, fired, fresh, goals)
        explored = limit is None and status == cgen.DONE
        stats = Stats(generated=generated, distinct=distinct,
                      depth=len(first.steps) if first is not None and not explored else depth,
                      elapsed=clock.elapsed(), fired=list(fired)[:n - 1], new=list(fresh)[:n - 1])
        hit = {k for k in range(len(info.reachables)) if goals[k] >= 0}
        witnesses = {info.reachables[k].name: self.trace_to(goals[k], "goal", info.reachables[k].name, "")
                     for k in sorted(hit) if info.reachables[k].kind != "premise"}
        out = Outcome(traces, first, explored, hit, {k for k, idx in enumerate(end_first) if idx >= 0})
        return Result(
            engine="bfs", backend="native", verdict=final_verdict(info, out, opts.check_deadlock),
            properties=property_results(info, out, opts.check_deadlock),
            stats=stats, trace=first, traces=traces, limit=limit, complete=explored, witnesses=witnesses,
            store_bytes=table_bytes)


def native_bfs(model: CompiledModel, options: Options | None = None,
               reporter: Reporter | None = None) -> Result | None:
    """Breadth-first search in C, or None when no C compiler is available."""
    lib = cgen.load_native(model.program)
    if lib is None:
        return None
    opts = options or Options()
    if not cgen.fits_int64(model.program):
        result = bfs(model, opts, reporter or NullReporter())
        result.note = "the model holds numbers beyond 64 bits; the search ran in Python"
        return result
    search = NativeSearch(model, lib, opts, reporter or NullReporter())
    try:
        return search.run()
    except NativeOverflow:
        result = bfs(model, opts, reporter or NullReporter())
        result.note = "64-bit arithmetic overflowed in the compiled search; the search ran in Python"
        return result
    finally:
        search.close()
