"""Breadth-first search shared among workers: every core of this machine, or a Ray cluster.

Takes a `CompiledModel` whose program the C search takes, `Options` (`workers`, `cluster`)
and a `Reporter`; gives the `Result` `engines.native` gives, with the same verdicts, distinct
and generated counts, firing count of each step and shortest-counterexample lengths (tests hold
them equal; which step found a state first, the coverage's `new`, follows the order a level is
expanded in, and only its total is the same).

The state space is partitioned by a hash of the packed state (`compile/c/part.c`): each
worker owns one partition's store, checks the states that are new to it, and expands its
share of the frontier; successors travel to their owner in batches of packed records. The
search is level-synchronous: a level is expanded in rounds (each worker expands a slice of
its share, then each takes the batches addressed to it, from every worker in worker order),
and the next level starts only when every worker has finished this one. So the first
counterexample of a property is met in the same level as the single search meets it, and is
as short. When several properties fail at that length, the one reported is chosen as
`result.first_reported` chooses (the single search reports the one it met first).

Workers are threads of this process (`--workers N`: the C search releases the interpreter
while it runs) or Ray actors (`--cluster`: each compiles the model's program on its node;
the batches go through Ray's object store). A counterexample is a chain of (worker, index)
links, rebuilt and replayed here by the Python backend as `engines.native` does. The search
saves itself in the single search's checkpoint format between two rounds and goes on from any
such checkpoint with any number of workers; a Ray worker lost on the way is replaced, and the
search goes on from its last checkpoint (`WorkerLost`, `ParallelSearch.recover`).
Imports `compile.*`, `engines.*`.
"""

from __future__ import annotations

import bisect
import ctypes
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from quiesce_check.compile import cgen
from quiesce_check.compile.ir import Program
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model
from quiesce_check.compile.pygen import CompiledModel
from quiesce_check.compile.symmetry import Symmetry
from quiesce_check.engines.checkpoint import Checkpoint, CheckpointError, Snapshot
from quiesce_check.engines.common import DEADLOCK_MESSAGE, Clock, at_end, inspect
from quiesce_check.engines.interrupt import Interrupts
from quiesce_check.engines.memory import budget, limit_text
from quiesce_check.engines.native import NativeOverflow, NativeSearch, python_bfs
from quiesce_check.engines.result import (
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
from quiesce_check.trace.types import Trace

# A round: at most this many states expanded by each worker (threads; Ray actors), and about
# ROUND_RECORDS successors made by each (a few tens of MB of batches), whichever is fewer. Larger
# rounds mean fewer barriers, and a smaller share of a round lost to the slowest worker.
ROUND_LOCAL = 1 << 18
ROUND_CLUSTER = 1 << 16
ROUND_RECORDS = 1 << 20
_MOST = (1 << 64) - 1
_ROOT = 0xFFFFFFFF
# workers lost in one search that are replaced before it gives up (incomplete, exit 20)
MAX_RECOVERIES = 3

Ref = tuple[int, int]   # a state: (worker, index in its store)


def load_parallel(program: Program, symmetry: Symmetry | None, deadline: Any = None) -> cgen.NativeLib:
    """The model's library built for partitions in threads: with the fast thread-local model, or,
    when this process has used up its reserve of static TLS on earlier libraries, the general one."""
    try:
        return cgen.load_native(program, symmetry, deadline, search="parallel")
    except cgen.CompilerUnavailable as e:
        if cgen.STATIC_TLS_FULL not in e.reason:
            raise
        return cgen.load_native(program, symmetry, deadline, search="parallel-dynamic-tls")


class WorkerLost(Exception):
    """A worker (a Ray actor, or the node it ran on) died during the search."""


class Partition:
    """One worker's share of the search: the model's compiled search library and one
    partition's context in it. Lives in a thread of this process or in a Ray actor."""

    def __init__(self, program: Program, symmetry: Symmetry | None, me: int, nparts: int, check_deadlock: bool,
                 memory: int | None) -> None:
        self.lib = load_parallel(program, symmetry)
        L = self.lib.lib
        u64p, i64p = ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_int64)
        L.qc_part_setup.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
        L.qc_part_seed.argtypes = [ctypes.c_void_p, i64p]
        L.qc_part_expand.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        L.qc_part_outbox.restype = ctypes.c_void_p
        L.qc_part_outbox.argtypes = [ctypes.c_void_p, ctypes.c_uint32, u64p]
        L.qc_part_clear.argtypes = [ctypes.c_void_p]
        L.qc_part_absorb.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64]
        L.qc_part_level.argtypes = [ctypes.c_void_p]
        L.qc_part_parent_part.restype = ctypes.c_uint32
        L.qc_part_parent_part.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        L.qc_part_failure.argtypes = [ctypes.c_void_p, i64p]
        L.qc_part_cursor.argtypes = [ctypes.c_void_p, u64p]
        self.me, self.nparts = me, nparts
        self.record = (self.lib.packing.words + 1) * 8
        # each partition goes on past a violation: the engine decides, level by level, whether to stop
        self.ctx = L.qc_new(0, _MOST, int(check_deadlock), 1, min(memory or 0, _MOST), 0)
        if not self.ctx:
            raise MemoryError("cannot allocate the search tables")
        code = L.qc_part_setup(self.ctx, nparts, me)
        if code:
            raise MemoryError("cannot allocate a partition's tables")
        self.starts: list[int] = []   # the index of each level's first state in this store
        u32p = ctypes.POINTER(ctypes.c_uint32)
        L.qc_part_export_parents.argtypes = [ctypes.c_void_p, ctypes.c_uint32, u64p, u64p, u32p]
        L.qc_part_load.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint64,
                                   ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64]
        L.qc_part_counters.argtypes = [ctypes.c_void_p, ctypes.c_uint64, u64p, u64p, i64p, i64p, i64p, i64p,
                                       ctypes.c_int64]

    def close(self) -> None:
        if self.ctx:
            self.lib.lib.qc_free(self.ctx)
            self.ctx = None

    def outboxes(self) -> list[bytes]:
        L, out = self.lib.lib, []
        n = ctypes.c_uint64()
        for k in range(self.nparts):
            ptr = L.qc_part_outbox(self.ctx, k, ctypes.byref(n))
            out.append(ctypes.string_at(ptr, n.value * self.record) if n.value else b"")
        L.qc_part_clear(self.ctx)
        return out

    def seed(self, states: Sequence[State]) -> tuple[int, list[bytes]]:
        """Route the initial states to their owners: a status, and the batches."""
        for s in states:
            buf = (ctypes.c_int64 * self.lib.nslots)(*[int(v) for v in s])
            code = self.lib.lib.qc_part_seed(self.ctx, buf)
            if code:
                return code, []
        return cgen.DONE, self.outboxes()

    def expand(self, budget: int) -> tuple[int, list[bytes]]:
        """Expand up to `budget` states of this level: a status (RUNNING, DONE, or one that ends
        the search), and the batches for each worker."""
        code = self.lib.lib.qc_part_expand(self.ctx, budget)
        return code, self.outboxes()

    def expand_here(self, budget: int) -> int:
        """Expand up to `budget` states, leaving the batches in place for `absorb_from` (the last
        round's were read by then: every worker had taken its own before this round began)."""
        self.lib.lib.qc_part_clear(self.ctx)
        return int(self.lib.lib.qc_part_expand(self.ctx, budget))

    def absorb_from(self, sources: Sequence[Partition]) -> tuple[int, list[int]]:
        """Store the new states of the batches addressed here that `sources` (partitions of this
        process, in worker order) hold, read in place, not copied: 0 or the status that ends the
        search, and the counters after."""
        L, n = self.lib.lib, ctypes.c_uint64()
        for src in sources:
            ptr = L.qc_part_outbox(src.ctx, self.me, ctypes.byref(n))
            if n.value:
                code = L.qc_part_absorb(self.ctx, ctypes.c_char_p(ptr), n.value)
                if code:
                    return int(code), self.stats()
        return 0, self.stats()

    def absorb_counted(self, *batches: bytes) -> tuple[int, list[int]]:
        """`absorb`, and the counters after."""
        return self.absorb(*batches), self.stats()

    def absorb(self, *batches: bytes) -> int:
        """Store the new states of the batches addressed here, in worker order: 0, or the status
        that ends the search."""
        for b in batches:
            if b:
                code = self.lib.lib.qc_part_absorb(self.ctx, b, len(b) // self.record)
                if code:
                    return int(code)
        return 0

    def level(self) -> None:
        """The states stored since the last level are the frontier."""
        self.lib.lib.qc_part_level(self.ctx)
        self.starts.append(self.stats()[3])

    def stats(self) -> list[int]:
        out = (ctypes.c_uint64 * 8)()
        self.lib.lib.qc_stats(self.ctx, out)
        return list(out)

    def report(self, nact: int, ninv: int, nfin: int, nend: int, ngoal: int, nstep: int) -> dict[str, Any]:
        """What this partition found: counters, and the first state (its index) of each violation
        and goal, with the level each index starts."""
        L = self.lib.lib
        fired, fresh = (ctypes.c_uint64 * (nact + 1))(), (ctypes.c_uint64 * (nact + 1))()
        goals = (ctypes.c_int64 * (ngoal + 1))()
        L.qc_coverage(self.ctx, fired, fresh, goals)
        inv, fin = (ctypes.c_int64 * (ninv + 1))(), (ctypes.c_int64 * (nfin + 1))()
        endg, dead = (ctypes.c_int64 * (nend + 1))(), ctypes.c_int64()
        L.qc_firsts(self.ctx, inv, fin, endg, ctypes.byref(dead))
        sstate, spos = (ctypes.c_int64 * (nstep + 1))(), (ctypes.c_int64 * (nstep + 1))()
        L.qc_step_firsts(self.ctx, sstate, spos)
        fail = (ctypes.c_int64 * 2)()
        code = L.qc_part_failure(self.ctx, fail)
        cursor = (ctypes.c_uint64 * 3)()
        L.qc_part_cursor(self.ctx, cursor)
        return {"cursor": list(cursor), "fired": list(fired)[:nact], "fresh": list(fresh)[:nact], "goal": list(goals)[:ngoal],
                "inv": list(inv)[:ninv], "fin": list(fin)[:nfin], "end": list(endg)[:nend], "dead": dead.value,
                "step": list(zip(sstate, spos, strict=True))[:nstep], "failure": (int(code), fail[0], fail[1]),
                "starts": list(self.starts), "stats": self.stats()}

    def export(self, nlevels: int, base: Sequence[int], starts: Sequence[int]) -> tuple[bytes, bytes]:
        """This partition's states and their parents' indices in the single search's order
        (`qc_part_export_parents` says how `base` and `starts` give it)."""
        L, n = self.lib.lib, self.stats()[1]
        if not n:
            return b"", b""
        states = ctypes.string_at(L.qc_states(self.ctx), n * self.lib.packing.words * 8)
        parents = (ctypes.c_uint32 * n)()
        L.qc_part_export_parents(self.ctx, nlevels, (ctypes.c_uint64 * len(base))(*base),
                                 (ctypes.c_uint64 * len(starts))(*starts), parents)
        return states, bytes(parents)

    def load(self, share: dict[str, Any]) -> int:
        """Take this partition's share of a saved search (made by `ParallelSearch.shares`): 0, or a
        status."""
        L = self.lib.lib
        code = L.qc_part_load(self.ctx, share["states"], share["parents"], share["pparts"], share["count"],
                              share["head"], share["level_end"], share["depth"])
        if code:
            return int(code)

        def arr(kind: Any, values: Sequence[int]) -> Any:
            return (kind * (len(values) + 1))(*values)

        L.qc_part_counters(self.ctx, share["generated"], arr(ctypes.c_uint64, share["fired"]),
                           arr(ctypes.c_uint64, share["fresh"]), arr(ctypes.c_int64, share["goal"]),
                           arr(ctypes.c_int64, share["end"]), arr(ctypes.c_int64, share["inv"]),
                           arr(ctypes.c_int64, share["fin"]), share["dead"])
        self.starts = list(share["starts"])
        return 0

    def state(self, index: int) -> list[int]:
        buf = (ctypes.c_int64 * self.lib.nslots)()
        self.lib.lib.qc_state(self.ctx, index, buf)
        return list(buf)

    def parent(self, index: int) -> Ref | None:
        p = self.lib.lib.qc_parent(self.ctx, index)
        return None if p == _ROOT else (int(self.lib.lib.qc_part_parent_part(self.ctx, index)), int(p))


class Threads:
    """The workers as threads of this process, each with its own partition."""

    def __init__(self, make: Callable[[int], Partition], n: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="qc-worker")
        self.pending: list[Any] = []
        self.parts = list(self.pool.map(make, range(n)))
        self.n = n
        self.budget = ROUND_LOCAL

    def each(self, method: str, *args: Any) -> list[Any]:
        return self.all([self.pool.submit(getattr(p, method), *args) for p in self.parts])

    def all(self, futures: list[Any]) -> list[Any]:
        self.pending = futures
        return [f.result() for f in futures]

    def settle(self) -> bool:
        """Wait for the calls under way (a second Ctrl-C came while they ran): whether every one
        finished, leaving the search at the end of a round."""
        wait(self.pending)
        return False

    def again(self) -> Threads:
        raise WorkerLost("a worker thread cannot be replaced")

    def one(self, k: int, method: str, *args: Any) -> Any:
        return getattr(self.parts[k], method)(*args)

    def seed(self, states: Sequence[State]) -> list[int]:
        code, batches = self.parts[0].seed(states)
        if code != cgen.DONE:
            return [code]
        return self.all([self.pool.submit(self.parts[k].absorb, batches[k]) for k in range(self.n)])

    def load(self, shares: Sequence[dict[str, Any]]) -> list[int]:
        return self.all([self.pool.submit(self.parts[k].load, shares[k]) for k in range(self.n)])

    def round(self, budget: int) -> tuple[list[int], list[int], list[list[int]]]:
        """Each worker expands up to `budget` states, then takes its batches (read in place from the
        other workers' outboxes): the statuses of both, and each worker's counters."""
        expanded = self.each("expand_here", budget)
        absorbed = self.each("absorb_from", self.parts)
        return expanded, [code for code, _ in absorbed], [stats for _, stats in absorbed]

    def close(self) -> None:
        for p in self.parts:
            p.close()
        self.pool.shutdown()


class ParallelSearch(NativeSearch):
    """The level-synchronous search over the workers, and its result (traces rebuilt through
    `NativeSearch`'s methods, with (worker, index) for a state)."""

    def __init__(self, model: Model, workers: Any, lib: cgen.NativeLib, options: Options,
                 reporter: Reporter) -> None:
        self.model, self.options, self.reporter = model, options, reporter
        self.lib = lib   # this process's copy: a saved search is loaded, checked and split with it
        self.fields = lib.packing.fields
        self.lib_words = lib.packing.words
        self.consistent = True   # whether the workers stand at the end of a round (it can be saved)
        self.recoveries = 0
        self.lost = False        # the workers were lost and could not be replaced
        self.notes: list[str] = []
        self.workers = workers
        self.memory, self.memory_explicit = budget(options.memory_limit)
        self.elapsed_before, self.resumed = 0.0, False
        self.clock: Clock | None = None
        self.saved: str | None = None
        self.save_error: str | None = None
        self.depth = 0
        self.cache: dict[Ref, State] = {}
        self.reports: list[dict[str, Any]] = []

    # states, for the traces --------------------------------------------------
    def state(self, ref: Any) -> State:
        if ref not in self.cache:
            vals = self.workers.one(ref[0], "state", ref[1])
            self.cache[ref] = tuple(bool(v) if f.is_bool else v for f, v in zip(self.fields, vals, strict=False))
        return self.cache[ref]

    def path(self, ref: Any) -> list[State]:
        chain: list[State] = []
        at: Ref | None = ref
        while at is not None:
            chain.append(self.state(at))
            at = self.workers.one(at[0], "parent", at[1])
        return chain[::-1]

    def depth_of(self, ref: Ref, reports: Sequence[dict[str, Any]] | None = None) -> int:
        """The level of a stored state: where its index falls among its worker's level starts."""
        return bisect.bisect_right((reports or self.reports)[ref[0]]["starts"], ref[1]) - 1

    # saving and resuming ----------------------------------------------------
    def counts(self) -> tuple[int, ...]:
        info = self.model.info
        return (len(info.actions), len(info.invariants), len(info.finals), len(info.end_goals),
                len(info.reachables), len(info.step_properties))

    def snapshot(self) -> Snapshot:
        """The search between two rounds, in the single search's format, so that one worker or
        several can go on with it: every level's states worker by worker, except that the level
        being expanded is split in two, what every worker has expanded of it, then what is left;
        then the deeper states found so far."""
        rs = self.workers.each("report", *self.counts())
        d = self.depth
        # each worker's starts of the levels above this one, of what it expanded here, of what is
        # left here, of the deeper states; then its count
        starts = [r["starts"][:d] + [r["starts"][d], *r["cursor"]] for r in rs]
        nlevels = d + 3
        base, at = [[0] * nlevels for _ in rs], 0
        for L in range(nlevels):
            for q, st in enumerate(starts):
                base[q][L] = at
                at += st[L + 1] - st[L]
        total, words = at, self.lib_words
        flat_base = [b for row in base for b in row]
        flat_starts = [x for row in starts for x in row]
        exported = self.workers.each("export", nlevels, flat_base, flat_starts)
        states, parents = bytearray(total * words * 8), bytearray(total * 4)
        for q, (st_bytes, par_bytes) in enumerate(exported):
            for L in range(nlevels):
                lo, hi, g = starts[q][L], starts[q][L + 1], base[q][L]
                states[g * words * 8:(g + hi - lo) * words * 8] = st_bytes[lo * words * 8:hi * words * 8]
                parents[g * 4:(g + hi - lo) * 4] = par_bytes[lo * 4:hi * 4]

        def glob(key: str, k: int | None = None) -> int:
            refs = [(q, r[key][k] if k is not None else r[key]) for q, r in enumerate(rs)]
            ref = self.first([x for x in refs if x[1] >= 0], rs)
            if ref is None:
                return -1
            q, i = ref
            L = bisect.bisect_right(starts[q], i, 0, nlevels) - 1
            return base[q][L] + i - starts[q][L]

        info = self.model.info
        nact = len(info.actions)
        return Snapshot(words=words, count=total, head=base[0][d + 1], level_end=base[0][d + 2], depth=d,
                        generated=sum(r["stats"][0] for r in rs),
                        fired=[sum(r["fired"][a] for r in rs) for a in range(nact)],
                        fresh=[sum(r["fresh"][a] for r in rs) for a in range(nact)],
                        goal_first=[glob("goal", k) for k in range(len(info.reachables))],
                        end_goal_first=[glob("end", k) for k in range(len(info.end_goals))],
                        inv_first=[glob("inv", k) for k in range(len(info.invariants))],
                        fin_first=[glob("fin", k) for k in range(len(info.finals))],
                        deadlock_first=glob("dead"),
                        elapsed=self.elapsed_before + (self.clock.elapsed() if self.clock else 0.0),
                        states=states, parents=parents)

    def shares(self, snap: Snapshot) -> list[dict[str, Any]]:
        """A saved search (any, from one worker or several) split among the workers: each one's
        states, their parents' places, its counters and first violations. The search is first
        loaded whole and checked as one worker would check it."""
        whole = NativeSearch(self.model, self.lib, Options(keep_going=True, check_deadlock=self.options.check_deadlock,
                                                           memory_limit=self.options.memory_limit), self.reporter)
        try:
            whole.restore(snap)
            return self.split(whole, snap)
        finally:
            whole.close()

    def split(self, whole: NativeSearch, snap: Snapshot) -> list[dict[str, Any]]:
        L, n, nparts, words = self.lib.lib, snap.count, self.workers.n, self.lib_words
        u64, u32, u16 = ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint16
        owner, local, counts = (u32 * max(1, n))(), (u32 * max(1, n))(), (u64 * nparts)()
        L.qc_part_plan.argtypes = [ctypes.c_void_p, u64, u32, ctypes.POINTER(u32), ctypes.POINTER(u32),
                                   ctypes.POINTER(u64)]
        L.qc_part_plan(L.qc_states(whole.ctx), n, nparts, owner, local, counts)
        gstarts = (u64 * (snap.depth + 2))()
        L.qc_level_starts.restype = u32
        L.qc_level_starts.argtypes = [ctypes.c_void_p, ctypes.POINTER(u64), u32]
        nlevels = min(L.qc_level_starts(whole.ctx, gstarts, snap.depth + 2), snap.depth + 1)
        L.qc_part_split.argtypes = [ctypes.c_void_p, ctypes.POINTER(u32), ctypes.POINTER(u32), u32, u64, u64,
                                    ctypes.POINTER(u64), u32, ctypes.POINTER(u64), ctypes.POINTER(u32),
                                    ctypes.POINTER(u16), ctypes.POINTER(u64), ctypes.POINTER(u64)]
        shares = []
        for k in range(nparts):
            mine = counts[k]
            st, par, pp = (u64 * max(1, mine * words))(), (u32 * max(1, mine))(), (u16 * max(1, mine))()
            lstarts, cursor = (u64 * max(1, nlevels))(), (u64 * 3)()
            L.qc_part_split(whole.ctx, owner, local, k, snap.head, snap.level_end, gstarts, nlevels,
                            st, par, pp, lstarts, cursor)
            count = cursor[0]

            def mine_of(values: Sequence[int]) -> list[int]:
                return [local[g] if g >= 0 and owner[g] == k else -1 for g in values]  # noqa: B023

            shares.append({
                "states": bytes(st)[:count * words * 8], "parents": bytes(par)[:count * 4],
                "pparts": bytes(pp)[:count * 2], "count": count, "head": cursor[1], "level_end": cursor[2],
                "depth": snap.depth, "starts": list(lstarts)[:nlevels],
                "generated": snap.generated if k == 0 else 0,
                "fired": snap.fired if k == 0 else [0] * len(snap.fired),
                "fresh": snap.fresh if k == 0 else [0] * len(snap.fresh),
                "goal": mine_of(snap.goal_first), "end": mine_of(snap.end_goal_first),
                "inv": mine_of(snap.inv_first), "fin": mine_of(snap.fin_first),
                "dead": mine_of([snap.deadlock_first])[0]})
        return shares

    def restore(self, snap: Snapshot, read: Any = None) -> None:  # noqa: ARG002
        """Go on from a saved search, whichever number of workers saved it."""
        codes = self.workers.load(self.shares(snap))
        code = self.stop_code(codes)
        if code is not None:
            raise CheckpointError(f"the saved search cannot be loaded: {self.limit_of(code) or code}")
        self.depth = snap.depth
        self.elapsed_before = snap.elapsed
        self.resumed = True

    # the search --------------------------------------------------------------
    def search(self, interrupts: Interrupts) -> Result:
        clock = Clock(self.options.deadline)
        self.clock = clock
        limit, explored = self.levels(interrupts, clock)
        if self.lost:
            return self.lost_result(limit or "a worker died", clock)
        self.reports = self.workers.each("report", *self.counts())
        return self.outcome(limit, explored, clock)

    def lost_result(self, why: str, clock: Clock) -> Result:
        """The workers were lost and not replaced: what the last checkpoint holds, every property
        undecided (the checkpoint goes on with `resume`, with one worker or several)."""
        info, opts = self.model.info, self.options
        snap = Checkpoint(opts.checkpoint.directory).snapshot if self.saved and opts.checkpoint else None
        stats = Stats(generated=snap.generated, distinct=snap.count, depth=snap.depth,
                      elapsed=self.elapsed_before + clock.elapsed(), fired=snap.fired, new=snap.fresh) \
            if snap is not None else Stats(elapsed=clock.elapsed(), fired=[0] * len(info.actions),
                                           new=[0] * len(info.actions))
        out = Outcome({}, None, False, set(), set(), frozenset())
        saved = f"the counts are those of the last checkpoint, at depth {snap.depth}" if snap is not None \
            else "no checkpoint was written"
        return Result(engine="bfs", backend=f"native, {self.workers.n} workers" + self.where(),
                      verdict=final_verdict(info, out, opts.check_deadlock),
                      properties=property_results(info, out, opts.check_deadlock), stats=stats, trace=None,
                      traces={}, limit=why, complete=False, witnesses={}, checkpoint=self.saved,
                      resumed=self.resumed, note="; ".join([*self.notes, saved]))

    def totals(self, stats: Sequence[Sequence[int]] | None = None) -> tuple[int, int, int]:
        """Generated, distinct, and frontier states left, over every worker (from the counters
        `stats` each gave, else asked for)."""
        stats = stats or self.workers.each("stats")
        return (sum(s[0] for s in stats), sum(s[1] for s in stats), sum(s[1] - s[3] for s in stats))

    def stop_code(self, codes: Sequence[int]) -> int | None:
        """The status among `codes` that ends the search, if one does."""
        bad = [c for c in codes if c not in (0, cgen.RUNNING, cgen.DONE)]
        if cgen.OVERFLOW in bad:
            raise NativeOverflow()
        return bad[0] if bad else None

    def found_any(self) -> bool:
        """Whether a worker has met a violation or a failing step (the search stops after the level
        unless it goes on with --continue; a failing step always ends it)."""
        info = self.model.info
        counts = (len(info.actions), len(info.invariants), len(info.finals), len(info.end_goals),
                  len(info.reachables), len(info.step_properties))
        reports = self.workers.each("report", *counts)
        if any(r["failure"][0] for r in reports):
            return True
        if self.options.keep_going:
            return False
        return any(i >= 0 for r in reports for i in (*r["inv"], *r["fin"], r["dead"])) or \
            any(s >= 0 for r in reports for s, _ in r["step"])

    def levels(self, interrupts: Interrupts, clock: Clock) -> tuple[str | None, bool]:
        """Level by level until every state is explored, a violation ends it, or a limit passes:
        the limit (None if none passed), and whether every state was explored. A worker lost on
        the way (`WorkerLost`) is replaced, and the search goes on from its last checkpoint."""
        while True:
            try:
                return self.search_levels(interrupts, clock)
            except WorkerLost as e:
                why = self.recover(str(e))
                if why is not None:
                    self.lost = True
                    return why, False
            except KeyboardInterrupt:
                self.consistent = self.workers.settle()
                return "interrupted", False

    def search_levels(self, interrupts: Interrupts, clock: Clock) -> tuple[str | None, bool]:
        opts, plan = self.options, self.options.checkpoint
        if not self.resumed:
            states = list(dict.fromkeys(self.model.initial_states()))
            code = self.stop_code(self.workers.seed(states))
            if code is not None:
                self.consistent = False
                return self.limit_of(code), False
            self.workers.each("level")
        last_save = clock.elapsed()
        while True:
            if self.found_any():
                return None, False
            generated, distinct, left = self.totals()
            if left == 0:
                return None, True
            if opts.max_depth is not None and self.depth >= opts.max_depth:
                return f"--max-depth {opts.max_depth}", False
            if plan is not None and clock.elapsed() - last_save >= plan.every:
                self.save()
                last_save = clock.elapsed()
            stats_now: Sequence[Sequence[int]] = []
            while True:
                expanded, absorbed, stats = self.workers.round(self.round_size(stats_now))
                code = self.stop_code(expanded) or self.stop_code(absorbed)
                if code is not None:
                    self.consistent = False   # the round did not complete: no checkpoint of it
                    return self.limit_of(code), False
                generated, distinct, left = self.totals(stats)
                stats_now = stats
                self.reporter.progress(distinct, generated, self.depth, left, clock.elapsed())
                if opts.max_states is not None and distinct >= opts.max_states:
                    return f"--max-states {opts.max_states}", False
                if interrupts.requested:
                    return "interrupted", False
                if clock.expired():
                    return f"--time-limit {opts.time_limit:g}s", False
                if all(c == cgen.DONE for c in expanded):
                    break
            self.workers.each("level")
            if self.totals()[2]:
                self.depth += 1

    def recover(self, why: str) -> str | None:
        """A worker was lost: new workers go on from the last checkpoint (or from the initial
        states, when none was written yet). None, or why the search cannot go on."""
        self.recoveries += 1
        plan = self.options.checkpoint
        if self.recoveries > MAX_RECOVERIES:
            return f"{why}; {MAX_RECOVERIES} workers were replaced already"
        try:
            self.workers = self.workers.again()
        except WorkerLost as e:
            return f"{why}; no worker could replace it ({e})"
        self.cache.clear()
        if self.saved is not None and plan is not None:
            snap = Checkpoint(plan.directory).read_arrays()
            self.restore(snap)
            self.notes.append(f"{why}; the search went on from the checkpoint of depth {snap.depth}")
        else:
            self.resumed, self.depth = False, 0
            self.notes.append(f"{why}; the search started again (no checkpoint was written yet)")
        return None

    def round_size(self, stats: Sequence[Sequence[int]]) -> int:
        """The states each worker expands in the next round: the transport's most, fewer when the
        states expanded so far (`stats`: each worker's counters) made many successors each."""
        most = self.workers.budget
        expanded = sum(st[3] for st in stats)
        if not expanded:
            return int(most)
        per_state = max(1.0, sum(st[0] for st in stats) / expanded)
        return min(int(most), max(1 << 10, int(ROUND_RECORDS / per_state)))

    def limit_of(self, status: int) -> str | None:
        if status == cgen.MEMORY_LIMIT and self.memory:
            return limit_text(self.memory, self.memory_explicit) + f" ({self.workers.n} workers share it)"
        return super().limit_of(status)

    # what was found ----------------------------------------------------------
    def first(self, refs: Sequence[Ref], reports: Sequence[dict[str, Any]] | None = None) -> Ref | None:
        """Of the first states each worker met, the least deep (then the first worker's)."""
        return min(refs, key=lambda r: (self.depth_of(r, reports), r[0]), default=None)

    def found_traces(self) -> list[Trace]:
        info = self.model.info
        rs = self.reports
        found: list[Trace] = []
        for k, p in enumerate(info.invariants):
            ref = self.first([(w, r["inv"][k]) for w, r in enumerate(rs) if r["inv"][k] >= 0])
            if ref is not None:
                found.append(self.check_invariant(ref, p.name))
        for k, p in enumerate(info.finals):
            ref = self.first([(w, r["fin"][k]) for w, r in enumerate(rs) if r["fin"][k] >= 0])
            if ref is not None:
                found.append(self.check_final(ref, p.name))
        ref = self.first([(w, r["dead"]) for w, r in enumerate(rs) if r["dead"] >= 0])
        if ref is not None:
            found.append(self.trace_to(ref, "deadlock", "deadlock", DEADLOCK_MESSAGE))
        for k, sp in enumerate(info.step_properties):
            steps = {(w, r["step"][k][0]): r["step"][k][1] for w, r in enumerate(rs) if r["step"][k][0] >= 0}
            ref = self.first(list(steps))
            if ref is not None:
                found.append(self.bad_step(ref, steps[ref], sp.name))
        failures = [(w, r["failure"]) for w, r in enumerate(rs) if r["failure"][0]]
        if failures:
            w, (code, where, what) = min(failures, key=lambda f: (self.depth_of((f[0], f[1][1])), f[0]))
            found.append(self.failure_trace(code, (w, where), what))
        return found

    def failure_trace(self, code: int, ref: Ref, what: int) -> Trace:
        """A step or a property that failed at state `ref` in C, rebuilt by the Python backend."""
        if code == cgen.STEP_ERROR:
            return self.bad_step(ref, what, "model error")
        if code == cgen.MODEL_ERROR and what == -1:
            state = self.state(ref)
            bad, _ = inspect(self.model, state)
            if not self.has_successors(state):
                bad += at_end(self.model, state, self.options.check_deadlock)[0]
            bad = [v for v in bad if v[0] == "model-error"]
            if not bad:
                raise self.mismatch(f"the C search reports an error evaluating a property in {state}")
            return self.trace_to(ref, *bad[0])
        return self.failing_step(ref)

    def outcome(self, limit: str | None, explored: bool, clock: Clock) -> Result:
        info, opts, rs = self.model.info, self.options, self.reports
        found = self.found_traces()
        traces = {t.property: t for t in found}
        first = first_reported(info, traces)
        if not opts.keep_going and first is not None:
            traces = {first.property: first}
        nact = len(info.actions)
        fired = [sum(r["fired"][a] for r in rs) for a in range(nact)]
        fresh = [sum(r["fresh"][a] for r in rs) for a in range(nact)]
        generated = sum(r["stats"][0] for r in rs)
        distinct = sum(r["stats"][1] for r in rs)
        table_bytes = sum(r["stats"][7] for r in rs)
        stats = Stats(generated=generated, distinct=distinct,
                      depth=len(first.steps) if first is not None and not explored else self.depth,
                      elapsed=self.elapsed_before + clock.elapsed(), fired=fired, new=fresh)
        hit: set[int] = set()
        witnesses = {}
        for k, g in enumerate(info.reachables):
            ref = self.first([(w, r["goal"][k]) for w, r in enumerate(rs) if r["goal"][k] >= 0])
            if ref is None:
                continue
            hit.add(k)
            if g.kind != "premise":
                witnesses[g.name] = self.trace_to(ref, "goal", g.name, "")
        end_hit = {k for k in range(len(info.end_goals)) if any(r["end"][k] >= 0 for r in rs)}
        out = Outcome(traces, first, explored, hit, end_hit, frozenset())
        if opts.checkpoint is not None and self.consistent:
            self.save()
        notes = [*self.notes, *([f"the checkpoint was not written: {self.save_error}"] if self.save_error else [])]
        return Result(
            engine="bfs", backend=f"native, {self.workers.n} workers" + self.where(),
            verdict=final_verdict(info, out, opts.check_deadlock),
            properties=property_results(info, out, opts.check_deadlock),
            stats=stats, trace=first, traces=traces, limit=limit, complete=explored, witnesses=witnesses,
            store_bytes=table_bytes, checkpoint=self.saved, resumed=self.resumed or self.recoveries > 0,
            note="; ".join(notes) or None)

    def where(self) -> str:
        return "" if self.options.cluster is None else f" on the Ray cluster {self.options.cluster}"


def parallel_bfs(model: CompiledModel, options: Options, reporter: Reporter,
                 resume: Checkpoint | None = None) -> Result:
    """Breadth-first search shared among `options.workers` workers (threads here, or Ray actors
    on `options.cluster`), from the start or from a saved search (saved by one worker or by
    several). `cgen.CompilerUnavailable` when no C compiler is available."""
    searched: Model = model if options.symmetry is None else Reduced(model, options.symmetry)
    if not cgen.fits_int64(model.program):
        if cgen.compiler() is None:
            raise cgen.CompilerUnavailable(cgen.NO_COMPILER)
        return python_bfs(searched, options, reporter, resume,
                          "the model holds numbers beyond 64 bits; the search ran in Python, in one worker")
    n = options.workers
    memory, _ = budget(options.memory_limit)
    share = memory // n if memory else None
    program, sym, deadlock = model.program, options.symmetry, options.check_deadlock
    # compiled once, here, within the time limit; each worker loads it from the cache
    lib = load_parallel(program, sym, options.deadline)
    if options.cluster is not None:
        from quiesce_check.engines.ray_workers import RayWorkers
        workers: Any = RayWorkers(options.cluster, program, sym, n, deadlock, share)
    else:
        workers = Threads(lambda k: Partition(program, sym, k, n, deadlock, share), n)
    search = ParallelSearch(searched, workers, lib, options, reporter)
    try:
        if resume is not None:
            search.restore(resume.read_arrays())
        return search.run()
    except NativeOverflow:
        if resume is not None:
            resume = Checkpoint(resume.directory)
        return python_bfs(searched, options, reporter, resume,
                          "64-bit arithmetic overflowed in the compiled search; the search ran in Python, "
                          "in one worker")
    finally:
        search.workers.close()


__all__ = ["Partition", "ParallelSearch", "Threads", "WorkerLost", "load_parallel", "parallel_bfs"]
