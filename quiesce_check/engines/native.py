"""Breadth-first search in compiled C: the fast engine.

Takes a `CompiledModel` (its IR program is turned into C by `compile.cgen`),
`Options` and a `Reporter`; gives the same `Result` as `engines.bfs`, with
the same verdicts, counts and shortest-counterexample lengths, and, once every
state is explored, the same liveness verdicts and lassos (`NativeLiveness`). The
C library runs in slices of a bounded number of expansions, so progress, the
time limit and Ctrl-C are handled here between slices; the liveness check runs
in a thread while this one watches them. A counterexample comes back as a
chain of state indices; each step is identified, and a failing last step
re-raised with its message, by the Python backend, which also cross-checks
the C code on every step of every trace. Raises `cgen.CompilerUnavailable`,
which says why, when no C compiler is available, so the caller can fall back
to `engines.bfs` or tell the user.
Imports `compile.*`, `engines.*`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from quiesce_check.compile import cgen
from quiesce_check.compile.ir import Liveness
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model, StepError
from quiesce_check.compile.pygen import CompiledModel
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.checkpoint import Checkpoint, CheckpointError, Snapshot, write_checkpoint
from quiesce_check.engines.common import (
    DEADLOCK_MESSAGE,
    Clock,
    Failure,
    at_end,
    check_state,
    check_step,
    expand,
    inspect,
)
from quiesce_check.engines.interrupt import Interrupts
from quiesce_check.engines.liveness import cycle_enabled, fairness_sets, lasso_message, lasso_why
from quiesce_check.engines.memory import MB, budget, limit_text
from quiesce_check.engines.result import (
    NullReporter,
    Options,
    Outcome,
    Reporter,
    Result,
    Stats,
    final_verdict,
    first_reported,
    property_results,
)
from quiesce_check.engines.symmetry import Reduced
from quiesce_check.trace.types import Step, Trace, TraceKind

_SLICE = 1 << 15
# a stored state: its index in the store (in a parallel search, a (worker, index) pair)
StateRef = Any
# how often (seconds) the engine looks at the time limit and Ctrl-C while the liveness check runs
_POLL = 0.05


class NativeOverflow(Exception):
    """64-bit arithmetic overflowed in C where Python's integers do not: run in Python instead."""


class NativeMismatch(Exception):
    """The C search and the Python backend disagree on a step: a bug, never a verdict."""


_IMPORT_ERRORS = {
    cgen.BAD_PARENT: "it links a state to a later parent",
    cgen.BAD_STATE: "it holds a state that is not of this model",
    cgen.DUPLICATE_STATE: "it holds a state twice",
}


class NativeSearch:
    # the C entry points that add an initial state and run a slice of the search, and the
    # statuses by which a search stops at a limit (a search over another store names its own)
    ADD_INITIAL = "qc_add_initial"
    RUN = "qc_run"
    FREE = "qc_free"
    LIMIT_STATUSES: tuple[int, ...] = (cgen.RUNNING, cgen.MAX_STATES, cgen.MAX_DEPTH, cgen.NO_MEMORY,
                                       cgen.MEMORY_LIMIT, cgen.TOO_MANY)

    def __init__(self, model: Model, lib: cgen.NativeLib, options: Options, reporter: Reporter) -> None:
        self.model = model
        self.lib = lib
        self.options = options
        self.reporter = reporter
        self.nslots = lib.nslots
        self.memory, self.memory_explicit = budget(options.memory_limit)
        most = (1 << 64) - 1  # ctypes would wrap a larger limit around: 2**64 would mean 0
        # the liveness check's graph: the steps' targets, and their actions for fairness
        info = model.info
        record = 0 if not info.liveness else 2 if info.fairness else 1
        self.ctx = lib.lib.qc_new(min(options.max_states or 0, most),
                                  min(options.max_depth, most) if options.max_depth is not None else most,
                                  1 if options.check_deadlock else 0, 1 if options.keep_going else 0,
                                  min(self.memory or 0, most), record)
        if not self.ctx:
            raise MemoryError("cannot allocate the search tables")
        self.elapsed_before = 0.0
        self.resumed = False
        self.clock: Clock | None = None
        self.saved: str | None = None
        self.save_error: str | None = None

    def mismatch(self, message: str) -> Exception:
        """The C search and the Python backend disagree: a bug, unless the search was resumed from
        a checkpoint whose contents were altered (its checksum recomputed): then that is the cause."""
        if self.resumed:
            return CheckpointError("the saved search does not fit this model: it holds states no step of the "
                                   "model links as it records")
        return NativeMismatch(message)

    def close(self) -> None:
        if self.ctx:
            getattr(self.lib.lib, self.FREE)(self.ctx)
            self.ctx = None

    def stats(self) -> list[int]:
        out = (ctypes.c_uint64 * 8)()
        self.lib.lib.qc_stats(self.ctx, out)
        return list(out)

    def state(self, index: StateRef) -> State:
        buf = (ctypes.c_int64 * self.nslots)()
        self.lib.lib.qc_state(self.ctx, index, buf)
        return tuple(bool(v) if f.is_bool else v for f, v in zip(self.lib.packing.fields, buf, strict=False))

    def path(self, index: StateRef) -> list[State]:
        chain = []
        while index != 0xFFFFFFFF:
            chain.append(self.state(index))
            index = self.lib.lib.qc_parent(self.ctx, index)
        return chain[::-1]

    def steps(self, states: list[State]) -> list[Step]:
        """The step between each pair of states, found by the Python backend."""
        out = []
        for a, b in zip(states, states[1:], strict=False):
            try:
                succs = expand(self.model, a)
            except Failure as f:
                raise self.mismatch(f"a step of the Python backend fails in {a} ({f.message}); the C search "
                                    "expanded that state") from None
            match = next(((ai, ch) for ai, ch, t in succs if t == b), None)
            if match is None:
                raise self.mismatch(f"no step of the Python backend leads from {a} to {b}")
            out.append(Step(*match))
        return out

    def trace_to(self, index: StateRef, kind: TraceKind, prop: str, message: str) -> Trace:
        states = self.path(index)
        return Trace(tuple(states), tuple(self.steps(states)), kind, prop, message)

    def failing_step(self, index: StateRef) -> Trace:
        """A step from state `index` failed in C: rebuild the failure with the Python backend."""
        states = self.path(index)
        try:
            expand(self.model, states[-1])
        except Failure as f:
            return Trace(tuple(states), (*self.steps(states), f.step), f.kind, f.prop, f.message)
        raise self.mismatch(f"the C search reports a failing step from {states[-1]}; the Python backend does not")

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

    def check_final(self, index: StateRef, name: str) -> Trace:
        """The C search says state `index` violates final property `name`: confirm and rebuild."""
        bad, _ = at_end(self.model, self.state(index), False)
        match = [v for v in bad if v[1] == name]
        if not match or self.has_successors(self.state(index)):
            raise self.mismatch(f"the C search reports `{name}` violated in {self.state(index)}")
        return self.trace_to(index, *match[0])

    def has_successors(self, state: State) -> bool:
        """Whether a step leads on from `state`, or fails there (it is no end either way)."""
        try:
            return bool(expand(self.model, state))
        except Failure:
            return True

    def step_firsts(self) -> list[tuple[int, int]]:
        """Per step property, the first step the C search found breaking it: the state it leaves
        and its place among that state's successors ((-1, -1): none)."""
        n = len(self.model.info.step_properties) + 1
        states, places = (ctypes.c_int64 * n)(), (ctypes.c_int64 * n)()
        self.lib.lib.qc_step_firsts(self.ctx, states, places)
        return list(zip(states, places, strict=True))[:-1]

    def bad_step(self, index: StateRef, place: int, prop: str) -> Trace:
        """The C search says the step `place` from state `index` breaks `prop` (a step property, or
        "model error" when one cannot be evaluated): confirm it, and rebuild the path to it."""
        states = self.path(index)
        try:
            succs = expand(self.model, states[-1])
        except Failure as f:
            raise self.mismatch(f"a step of the Python backend fails in {states[-1]} ({f.message}); the C search "
                                "expanded that state") from None
        if place >= len(succs):
            raise self.mismatch(f"the C search reports step {place} from {states[-1]}; it has {len(succs)}")
        ai, ch, t = succs[place]
        match = [v for v in check_step(self.model, states[-1], ai, t) if v[1] == prop]
        if not match:
            raise self.mismatch(f"the C search reports `{prop}` broken by a step from {states[-1]}; it is not")
        return Trace((*states, t), (*self.steps(states), Step(ai, ch)), *match[0])

    def check_invariant(self, index: StateRef, name: str) -> Trace:
        match = [v for v in check_state(self.model, self.state(index)) if v[1] == name]
        if not match:
            raise self.mismatch(f"the C search reports invariant `{name}` violated in {self.state(index)}")
        return self.trace_to(index, *match[0])

    # saving and resuming ----------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The search as it stood between two expansions (`qc_point`: before the expansion it
        stopped in, or the one that met the violation of a level being finished)."""
        info, lib = self.model.info, self.lib.lib
        nact = len(info.actions) + 1
        cursor = (ctypes.c_uint64 * 5)()
        fired, fresh = (ctypes.c_uint64 * nact)(), (ctypes.c_uint64 * nact)()
        goals = (ctypes.c_int64 * (len(info.reachables) + 1))()
        endg = (ctypes.c_int64 * (len(info.end_goals) + 1))()
        inv = (ctypes.c_int64 * (len(info.invariants) + 1))()
        fin = (ctypes.c_int64 * (len(info.finals) + 1))()
        dead = ctypes.c_int64()
        lib.qc_point(self.ctx, cursor, fired, fresh, goals, endg, inv, fin, ctypes.byref(dead))
        n, head, level_end, depth, generated = list(cursor)
        words = self.lib.packing.words
        states = memoryview((ctypes.c_char * (n * words * 8)).from_address(lib.qc_states(self.ctx))) if n else b""
        parents = memoryview((ctypes.c_char * (n * 4)).from_address(lib.qc_parents(self.ctx))) if n else b""
        return Snapshot(words=words, count=n, head=head, level_end=level_end, depth=depth, generated=generated,
                        fired=list(fired)[:nact - 1], fresh=list(fresh)[:nact - 1],
                        goal_first=list(goals)[:len(info.reachables)],
                        end_goal_first=list(endg)[:len(info.end_goals)], inv_first=list(inv)[:len(info.invariants)],
                        fin_first=list(fin)[:len(info.finals)], deadlock_first=dead.value,
                        elapsed=self.elapsed_before + (self.clock.elapsed() if self.clock else 0.0),
                        states=states, parents=parents)

    def save(self) -> None:
        plan = self.options.checkpoint
        if plan is None:
            return
        try:
            self.saved = str(write_checkpoint(plan.directory, plan.meta, self.snapshot()))
        except CheckpointError as e:
            self.save_error = str(e)

    def restore(self, snap: Snapshot, read: Callable[[Callable[[int, int], Sequence[Any]]], Snapshot] | None = None
                ) -> None:
        """Go on from a saved search. `read`, when given, reads its arrays straight into the
        store (else `snap` holds them already)."""
        info, lib = self.model.info, self.lib.lib
        snap.check_shape(self.lib.packing.words, len(info.actions), len(info.reachables), len(info.end_goals),
                         len(info.invariants), len(info.finals))
        n = snap.count
        if not lib.qc_reserve(self.ctx, n):
            room = f"the memory limit ({self.memory // MB:,} MB)" if self.memory else "this machine's memory"
            raise CheckpointError(f"the saved search holds {n:,} states: more than {room} allows; "
                                  "resume it with a larger --memory-limit, or where there is more memory")
        if n:
            def into(states_bytes: int, parents_bytes: int) -> list[Any]:
                return [(ctypes.c_char * states_bytes).from_address(lib.qc_states(self.ctx)),
                        (ctypes.c_char * parents_bytes).from_address(lib.qc_parents(self.ctx))]
            if read is not None:
                snap = read(into)
            else:
                s_buf, p_buf = into(n * snap.words * 8, n * 4)
                ctypes.memmove(s_buf, bytes(memoryview(snap.states).cast("B")), len(s_buf))
                ctypes.memmove(p_buf, bytes(memoryview(snap.parents).cast("B")), len(p_buf))

        def arr(kind: Any, values: list[int]) -> Any:
            return (kind * (len(values) + 1))(*values)  # the C side's arrays have one entry to spare

        cursor = (ctypes.c_uint64 * 5)(n, snap.head, snap.level_end, snap.depth, snap.generated)
        code = lib.qc_import(self.ctx, n, cursor, arr(ctypes.c_uint64, snap.fired), arr(ctypes.c_uint64, snap.fresh),
                             arr(ctypes.c_int64, snap.goal_first), arr(ctypes.c_int64, snap.end_goal_first),
                             arr(ctypes.c_int64, snap.inv_first), arr(ctypes.c_int64, snap.fin_first),
                             snap.deadlock_first)
        if code == cgen.IMPORT_NO_MEMORY:
            raise CheckpointError("the saved search needs more memory than the memory limit allows")
        if code != cgen.IMPORTED:
            raise CheckpointError(f"the saved search does not fit this model: {_IMPORT_ERRORS.get(code, code)}")
        initial = set(self.model.initial_states())
        k = 0
        while k < n and lib.qc_parent(self.ctx, k) == 0xFFFFFFFF:
            if self.state(k) not in initial:
                raise CheckpointError(f"the saved search holds state {k} as an initial state; it is not one")
            k += 1
        self.elapsed_before = snap.elapsed
        self.resumed = True

    # the search -------------------------------------------------------------
    def run(self) -> Result:
        with Interrupts() as interrupts:
            return self.search(interrupts)

    def search(self, interrupts: Interrupts) -> Result:
        clock = Clock(self.options.deadline)
        self.clock = clock
        status, limit = self.drive(interrupts, clock)
        generated, distinct, depth, head, where, what, _, table_bytes = self.stats()
        if status in self.LIMIT_STATUSES:
            # stopped by a limit while finishing a level after a violation: that violation was found
            # first, and is reported (an end one step shorter may have been left unseen)
            pending = (ctypes.c_int64 * 3)()
            if self.lib.lib.qc_pending(self.ctx, pending):
                status, where, what = pending[0], pending[1], pending[2]
        if what >= 1 << 63:
            what -= 1 << 64  # -1: a property, not a step, failed
        if status == cgen.OVERFLOW:
            raise NativeOverflow()
        found = self.found(status, where, what)
        limit = limit or self.limit_of(status)
        explored = limit is None and status == cgen.DONE
        undecided: frozenset[str] = frozenset()
        if explored and self.model.info.liveness:
            check = NativeLiveness(self, interrupts, clock)
            try:
                check.check()
            except KeyboardInterrupt:  # a second Ctrl-C outside a call into C: what is found stands
                check.why = "interrupted (checking liveness)"
            found += check.found.values()
            undecided, limit = check.undecided(), check.why
        return self.result(found, explored, limit, (generated, distinct, depth, table_bytes), clock, undecided)

    def drive(self, interrupts: Interrupts, clock: Clock) -> tuple[int, str | None]:
        """Add the initial states (unless resumed past them), then run the C search slice by
        slice until it ends, a limit passes or the user interrupts: its status, and the limit."""
        model, opts, lib = self.model, self.options, self.lib.lib
        plan = opts.checkpoint
        last_save = 0.0
        status = cgen.RUNNING
        if not self.resumed or self.stats()[1] == 0:
            for s in dict.fromkeys(model.initial_states()):
                buf = (ctypes.c_int64 * self.nslots)(*[int(v) for v in s])
                if getattr(lib, self.ADD_INITIAL)(self.ctx, buf):
                    status = self.stats()[6]
                    break
        try:
            while status == cgen.RUNNING:
                status = getattr(lib, self.RUN)(self.ctx, _SLICE)
                generated, distinct, depth, head = self.stats()[:4]
                self.reporter.progress(distinct, generated, depth, distinct - head, clock.elapsed())
                if status != cgen.RUNNING:
                    break
                if interrupts.requested:
                    return status, "interrupted"
                if clock.expired():
                    return status, f"--time-limit {opts.time_limit:g}s"
                if plan is not None and clock.elapsed() - last_save >= plan.every:
                    self.save()
                    last_save = clock.elapsed()
        except KeyboardInterrupt:
            return status, "interrupted"  # between two slices: the search is whole
        return status, None

    def found(self, status: int, where: int, what: int) -> list[Trace]:
        """Every property's first counterexample the C search recorded, rebuilt and replayed."""
        model, opts, info = self.model, self.options, self.model.info
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
        for k, (idx, place) in enumerate(self.step_firsts()):
            if idx >= 0:
                found.append(self.bad_step(idx, place, info.step_properties[k].name))
        if status == cgen.STEP_ERROR:
            found.append(self.bad_step(where, what, "model error"))
        if status == cgen.MODEL_ERROR and what == -1:
            state = self.state(where)
            bad, _ = inspect(model, state)
            # where a step fails too (an assertion or a model error), the state is no end: the error
            # the C search met is in a property
            if not self.has_successors(state):
                bad += at_end(model, state, opts.check_deadlock)[0]
            bad = [v for v in bad if v[0] == "model-error"]
            if not bad:
                raise self.mismatch(f"the C search reports an error evaluating a property in {self.state(where)}")
            found.append(self.trace_to(where, *bad[0]))
        elif status in (cgen.ASSERTION, cgen.MODEL_ERROR):
            found.append(self.failing_step(where))
        return found

    def limit_of(self, status: int) -> str | None:
        """The limit a C search's final status names, if it names one."""
        opts = self.options
        return {cgen.MAX_STATES: f"--max-states {opts.max_states}", cgen.MAX_DEPTH: f"--max-depth {opts.max_depth}",
                cgen.NO_MEMORY: "memory: the search tables could not grow",
                cgen.MEMORY_LIMIT: limit_text(self.memory, self.memory_explicit),
                cgen.TOO_MANY: "the compiled search holds at most 4,294,967,294 states"}.get(status)

    def result(self, found: list[Trace], explored: bool, limit: str | None, counts: tuple[int, int, int, int],
               clock: Clock, undecided: frozenset[str]) -> Result:
        """The `Result`: verdicts, coverage and witnesses read from the C search's tables;
        `explored` when every state was (the liveness check may have been stopped since)."""
        info, opts, lib = self.model.info, self.options, self.lib.lib
        generated, distinct, depth, table_bytes = counts
        traces = {t.property: t for t in found}
        first = first_reported(info, traces)
        if not opts.keep_going and first is not None:
            # a search that stops reports its shortest; the liveness check, run once every state
            # was explored, decided every liveness property
            traces = {name: t for name, t in traces.items() if t is first or t.kind == "liveness"}
        n = len(info.actions) + 1
        fired = (ctypes.c_uint64 * n)()
        fresh = (ctypes.c_uint64 * n)()
        goals = (ctypes.c_int64 * (len(info.reachables) + 1))()
        lib.qc_coverage(self.ctx, fired, fresh, goals)
        stats = Stats(generated=generated, distinct=distinct,
                      depth=len(first.steps) if first is not None and not explored else depth,
                      elapsed=self.elapsed_before + clock.elapsed(), fired=list(fired)[:n - 1],
                      new=list(fresh)[:n - 1])
        hit = {k for k in range(len(info.reachables)) if goals[k] >= 0}
        witnesses = {info.reachables[k].name: self.trace_to(goals[k], "goal", info.reachables[k].name, "")
                     for k in sorted(hit) if info.reachables[k].kind != "premise"}
        _, _, end_first, _ = self.firsts()
        out = Outcome(traces, first, explored, hit, {k for k, idx in enumerate(end_first) if idx >= 0}, undecided)
        if opts.checkpoint is not None:
            self.save()
        return Result(
            engine="bfs", backend="native", verdict=final_verdict(info, out, opts.check_deadlock),
            properties=property_results(info, out, opts.check_deadlock),
            stats=stats, trace=first, traces=traces, limit=limit, complete=explored, witnesses=witnesses,
            store_bytes=table_bytes, checkpoint=self.saved, resumed=self.resumed,
            note=f"the checkpoint was not written: {self.save_error}" if self.save_error else None)


class NativeLiveness:
    """The liveness check in C (`live.c`), once the search has explored every state: on the graph
    the search recorded (or, resumed, rebuilt), each liveness property in turn, as
    `engines.liveness` does, with the same lassos; each rebuilt and cross-checked here by the
    Python backend. A call into C runs in a thread of its own while this one watches the time
    limit and Ctrl-C and, when one passes, sets the flag the C check reads: it stops within
    milliseconds, and the properties not decided are named with the limit, "(checking liveness)"."""

    def __init__(self, search: NativeSearch, interrupts: Interrupts, clock: Clock) -> None:
        self.search = search
        self.lib = search.lib.lib
        self.ctx = search.ctx
        self.interrupts = interrupts
        self.clock = clock
        self.found: dict[str, Trace] = {}   # the first lasso of each property broken, by name
        self.decided: set[str] = set()
        self.why: str | None = None         # what stopped the check
        self.seen: str | None = None        # a limit that passed while the last call ran

    def limit_now(self) -> str | None:
        if self.interrupts.requested:
            return "interrupted (checking liveness)"
        if self.clock.expired():
            return f"--time-limit {self.search.options.time_limit:g}s (checking liveness)"
        return None

    def call(self, fn: Callable[[Any], int]) -> int:
        """`fn(stop)` in a thread of its own; the flag `stop` set when a limit passes (`seen`)."""
        stop = ctypes.c_int(0)
        out: list[int] = []
        worker = threading.Thread(target=lambda: out.append(fn(ctypes.byref(stop))), name="qc-liveness", daemon=True)
        worker.start()
        while worker.is_alive():
            try:
                worker.join(_POLL)
            except KeyboardInterrupt:  # a second Ctrl-C: the check still stops cleanly
                self.seen = self.seen or "interrupted (checking liveness)"
            self.seen = self.seen or self.limit_now()
            if self.seen:
                stop.value = 1
        return out[0] if out else cgen.STOPPED

    def stop(self, code: int) -> None:
        """The check stopped with status `code` (a limit, or memory): say why."""
        if code == cgen.STOPPED:
            self.why = self.seen or "interrupted (checking liveness)"
        elif code == cgen.TOO_MANY:
            self.why = "the compiled liveness check holds at most 4,294,967,295 steps (checking liveness)"
        elif code == cgen.OVERFLOW:
            raise NativeOverflow()
        elif code in (cgen.MEMORY_LIMIT, cgen.NO_MEMORY):
            self.why = f"{self.search.limit_of(code)} (checking liveness)"
        else:
            raise self.search.mismatch(f"the liveness check in C stopped with status {code}")

    def undecided(self) -> frozenset[str]:
        return frozenset(p.name for p in self.search.model.info.liveness if p.name not in self.decided)

    def check(self) -> None:
        """Every liveness property, in order, until a limit stops the check."""
        model, lib = self.search.model, self.lib
        info = model.info
        fair = fairness_sets(model)
        words = (len(fair) + 63) // 64
        cover = (ctypes.c_uint64 * max(1, (len(info.actions) + 1) * words))()
        for f, (_, acts) in enumerate(fair):
            for a in acts:
                cover[a * words + f // 64] |= 1 << (f % 64)
        strong = (ctypes.c_uint8 * max(1, len(fair)))(*[int(f.strong) for f, _ in fair])
        code = lib.qc_live_setup(self.ctx, len(fair), strong, cover)
        code = code or self.call(functools.partial(lib.qc_live_graph, self.ctx))
        where = ctypes.c_int64(-1)
        code = code or self.call(lambda stop: lib.qc_live_scan(self.ctx, stop, ctypes.byref(where)))
        if code == cgen.MODEL_ERROR:  # no property is decided: the model is wrong
            self.found["model error"] = self.unevaluable(where.value)
            return
        if code:
            return self.stop(code)
        for k, live in enumerate(info.liveness):
            if live.name in self.decided:
                continue   # an instance before this one broke the property
            self.why = self.limit_now()
            if self.why:
                return
            code = self.call(functools.partial(lib.qc_live_check, self.ctx, k, cgen.LIVE_KINDS[live.kind]))
            if code == cgen.LASSO:
                self.found[live.name] = self.lasso(k, live)
                self.decided.add(live.name)
            elif code != cgen.DONE:
                return self.stop(code)
            elif all(p.name != live.name for p in info.liveness[k + 1:]):
                self.decided.add(live.name)   # its last instance holds: so does it

    def unevaluable(self, index: int) -> Trace:
        """The C check says a liveness property cannot be evaluated in state `index`: the model
        error, confirmed and rebuilt by the Python backend."""
        state = self.search.state(index)
        try:
            self.search.model.temporal(state)
        except StepError as e:
            return self.search.trace_to(index, "model-error", "model error",
                                        f"evaluating a liveness property: {e.message}")
        raise self.search.mismatch(f"the C search reports a liveness property that cannot be evaluated in {state}")

    def lasso(self, k: int, live: Liveness) -> Trace:
        """The lasso the C check found, its steps found by the Python backend (by their places
        among each state's successors) and checked against the states."""
        n = self.lib.qc_live_lasso(self.ctx, None, None, None)
        nodes, places, loop = (ctypes.c_uint32 * n)(), (ctypes.c_uint32 * max(1, n - 1))(), ctypes.c_uint64()
        self.lib.qc_live_lasso(self.ctx, nodes, places, ctypes.byref(loop))
        states = [self.search.state(i) for i in nodes]
        steps: list[Step] = []
        for j in range(n - 1):
            try:
                succs = expand(self.search.model, states[j])
            except Failure as f:
                raise self.search.mismatch(f"a step of the Python backend fails in {states[j]} ({f.message})") from None
            if places[j] >= len(succs) or succs[places[j]][2] != states[j + 1]:
                raise self.search.mismatch(f"no step of the Python backend leads from {states[j]} to {states[j + 1]}")
            steps.append(Step(succs[places[j]][0], succs[places[j]][1]))
        # the message as engines.liveness words it (the property, the cycle, who never moves)
        trace = Trace(tuple(states), tuple(steps), "liveness", live.name, "", loop=loop.value)
        model = self.search.model
        why = lasso_why(model.info, states[loop.value:], steps[loop.value:], cycle_enabled(model, trace))
        return dataclasses.replace(trace, message=lasso_message(live, len(steps) - loop.value, why))


def python_bfs(model: Model, options: Options, reporter: Reporter, resume: Checkpoint | None,
               note: str | None = None) -> Result:
    """The Python search, from the start or from a checkpoint (read whole into Python)."""
    result = bfs(model, options, reporter, resume.read_arrays() if resume is not None else None)
    result.resumed = resume is not None
    if note:
        result.note = "; ".join(x for x in (note, result.note) if x)
    return result


def native_bfs(model: CompiledModel, options: Options | None = None, reporter: Reporter | None = None,
               resume: Checkpoint | None = None) -> Result:
    """Breadth-first search in C (from the start, or from `resume`); `cgen.CompilerUnavailable`
    when no C compiler is available. With `Options.symmetry` the C search stores canonical
    states, and the traces it gives are through them (`engines.symmetry.concretise` makes them
    real)."""
    opts = options or Options()
    rep = reporter or NullReporter()
    searched: Model = model if opts.symmetry is None else Reduced(model, opts.symmetry)
    if not cgen.fits_int64(model.program):
        if cgen.compiler() is None:
            raise cgen.CompilerUnavailable(cgen.NO_COMPILER)
        return python_bfs(searched, opts, rep, resume,
                          "the model holds numbers beyond 64 bits; the search ran in Python")
    lib = cgen.load_native(model.program, opts.symmetry, opts.deadline)
    search = NativeSearch(searched, lib, opts, rep)
    try:
        if resume is not None:
            search.restore(resume.snapshot, resume.read_arrays)
        return search.run()
    except NativeOverflow:
        search.close()
        if resume is not None:  # the C search may have saved itself since: go on from its last save
            resume = Checkpoint(resume.directory)
        return python_bfs(searched, opts, rep, resume,
                          "64-bit arithmetic overflowed in the compiled search; the search ran in Python")
    finally:
        search.close()
