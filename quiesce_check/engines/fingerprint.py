"""Breadth-first search in compiled C over fingerprints: more states than memory holds.

Takes a `CompiledModel`, `Options` (with `store == "fingerprint"`) and a `Reporter`; gives the
same `Result` as `engines.native` (verdicts, counts, coverage, shortest counterexamples), with
`Result.collision`, the probability that a fingerprint collision hid a state. The C search
(`compile/c/fp.c`) keeps a 64-bit fingerprint of each visited state, about 9 bytes a state, and
writes the frontier and one link per state (its fingerprint, its parent's record number) to files
in the spill folder (`Options.spill`, made private when missing; else a private temporary folder,
removed at the end). A counterexample is rebuilt by walking the links back to an initial state,
then replaying forward with the Python backend, at each step to a successor of the next
fingerprint; every trace is then checked as `engines.native` checks its own, so a disagreement
raises and is never reported. Refuses (`engines.spec.Refused`) what it does not do: liveness,
checkpoints, the Python backend, a model beyond 64-bit arithmetic.
`SpillError` when the spill folder cannot be used.
Imports `compile.*`, `engines.*`, `safe_write`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
from pathlib import Path

from quiesce_check.compile import cgen
from quiesce_check.compile.layout import State
from quiesce_check.compile.model import Model
from quiesce_check.compile.pygen import CompiledModel
from quiesce_check.engines.common import Clock, Failure, expand
from quiesce_check.engines.interrupt import Interrupts
from quiesce_check.engines.memory import budget
from quiesce_check.engines.native import NativeOverflow, NativeSearch, python_bfs
from quiesce_check.engines.result import NullReporter, Options, Reporter, Result
from quiesce_check.engines.spec import Refused
from quiesce_check.engines.symmetry import Reduced
from quiesce_check.safe_write import FolderBusy, FolderLock, private_dir

_SLICE = 1 << 15
# the C search's status when a spill file could not be created, written or read (fp.c)
SPILL_IO = 100
# the parent of an initial state in the links
_NONE = (1 << 64) - 1


class SpillError(Exception):
    """The spill folder cannot be used: not a private folder of this user's, in use by another
    run, or a file of the search's cannot be created in it."""


def collision_probability(distinct: int, generated: int, words: int) -> float:
    """TLC's "calculated (optimistic)" chance that a fingerprint collision hid a state:
    distinct * (generated - distinct) / 2**64. None can when a packed state is one word: its
    fingerprint is then one-to-one."""
    if words <= 1:
        return 0.0
    return distinct * max(0, generated - distinct) / 2.0 ** 64


def _declare(lib: ctypes.CDLL) -> None:
    """The ctypes signatures of fp.c's entry points (the rest are `cgen.NativeLib`'s)."""
    u64, u64p = ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)
    lib.qc_fp_new.restype = ctypes.c_void_p
    lib.qc_fp_new.argtypes = [u64, u64, ctypes.c_int, ctypes.c_int, u64, ctypes.c_int]
    lib.qc_fp_free.argtypes = [ctypes.c_void_p]
    lib.qc_fp_add_initial.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)]
    lib.qc_fp_run.argtypes = [ctypes.c_void_p, u64]
    lib.qc_fp_stats.argtypes = [ctypes.c_void_p, u64p]
    lib.qc_fp_chain.restype = u64
    lib.qc_fp_chain.argtypes = [ctypes.c_void_p, u64, u64p, u64]
    lib.qc_fp_of.restype = u64
    lib.qc_fp_of.argtypes = [ctypes.POINTER(ctypes.c_int64)]


class SpillFolder:
    """The folder of the search's files, opened (not followed if a link) and locked for the run:
    `path` made private (0700) when missing, or a private temporary folder removed at the end."""

    def __init__(self, path: str | None) -> None:
        self.temporary = path is None
        folder = Path(tempfile.mkdtemp(prefix="quiesce-check-spill-")) if path is None else Path(path)
        if private_dir(folder) is None:
            raise SpillError(f"--spill {folder}: not a folder of this user's that only this user can write "
                             "(a link, a file, or another user's)")
        self.path = folder
        self.lock = FolderLock(folder)
        try:
            self.lock.acquire()
        except FolderBusy as e:
            raise SpillError(f"--spill: {e}") from None
        try:
            self.fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as e:
            self.lock.release()
            raise SpillError(f"--spill {folder}: {e.strerror or e}") from None

    def close(self) -> None:
        os.close(self.fd)
        if self.temporary:
            with contextlib.suppress(OSError):
                os.unlink(self.lock.path)
        self.lock.release()
        if self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)


class FingerprintSearch(NativeSearch):
    """The search over fingerprints: `NativeSearch`'s way of reading results and rebuilding
    counterexamples, with states found by their fingerprints instead of read from a store."""

    ADD_INITIAL = "qc_fp_add_initial"
    RUN = "qc_fp_run"
    FREE = "qc_fp_free"
    LIMIT_STATUSES = (*NativeSearch.LIMIT_STATUSES, SPILL_IO)

    def __init__(self, model: Model, lib: cgen.NativeLib, options: Options, reporter: Reporter,
                 folder: SpillFolder) -> None:
        self.model = model
        self.lib = lib
        self.options = options
        self.reporter = reporter
        self.nslots = lib.nslots
        self.folder = folder
        self.memory, self.memory_explicit = budget(options.memory_limit)
        most = (1 << 64) - 1
        _declare(lib.lib)
        self.ctx = lib.lib.qc_fp_new(min(options.max_states or 0, most),
                                     min(options.max_depth, most) if options.max_depth is not None else most,
                                     1 if options.check_deadlock else 0, 1 if options.keep_going else 0,
                                     min(self.memory or 0, most), folder.fd)
        if not self.ctx:
            raise MemoryError("cannot allocate the search tables")
        self.elapsed_before = 0.0
        self.resumed = False
        self.clock: Clock | None = None
        self.saved: str | None = None
        self.save_error: str | None = None
        self.walked: dict[int, list[State]] = {}
        if self.stats()[6] == SPILL_IO:
            errno = self.fp_stats()[9]
            self.close()
            raise SpillError(f"cannot create the search's files in {folder.path}: {os.strerror(errno)}"
                             + (" (a file of the name is there already: left by another run, or planted; remove "
                                "`links` and `level-*` from the folder, or use another)" if errno == 17 else ""))

    def fp_stats(self) -> list[int]:
        out = (ctypes.c_uint64 * 10)()
        self.lib.lib.qc_fp_stats(self.ctx, out)
        return list(out)

    def stats(self) -> list[int]:
        """As `NativeSearch.stats`; the last, the most memory the visited set took."""
        return self.fp_stats()[:7] + [self.fp_stats()[8]]

    def fingerprint(self, state: State) -> int:
        return int(self.lib.lib.qc_fp_of((ctypes.c_int64 * self.nslots)(*[int(v) for v in state])))

    def path(self, index: int) -> list[State]:
        """The states from an initial one to state `index`: its chain of fingerprints read from the
        links, and at each step a successor of the next fingerprint (with backtracking, should two
        successors share one)."""
        if index in self.walked:
            return self.walked[index]
        depth = self.fp_stats()[2]
        cap = depth + 2
        out = (ctypes.c_uint64 * cap)()
        n = self.lib.lib.qc_fp_chain(self.ctx, index, out, cap)
        if n == 0:
            raise self.mismatch(f"the links of state {index} cannot be read from {self.folder.path}")
        chain = list(out)[:n]
        options = [[s for s in dict.fromkeys(self.model.initial_states()) if self.fingerprint(s) == chain[0]]]
        states: list[State] = []
        while options:
            if not options[-1]:
                options.pop()
                if states:
                    states.pop()
                continue
            states.append(options[-1].pop(0))
            if len(states) == n:
                self.walked[index] = states
                return states
            try:
                succs = expand(self.model, states[-1])
            except Failure as f:
                raise self.mismatch(f"a step of the Python backend fails in {states[-1]} ({f.message}); the C "
                                    "search expanded that state") from None
            want = chain[len(states)]
            options.append(list(dict.fromkeys(t for _, _, t in succs if self.fingerprint(t) == want)))
        raise self.mismatch(f"no path of the Python backend follows the fingerprints the C search recorded to "
                            f"state {index}")

    def state(self, index: int) -> State:
        return self.path(index)[-1]

    def limit_of(self, status: int) -> str | None:
        if status == SPILL_IO:
            return f"the spill folder {self.folder.path}: {os.strerror(self.fp_stats()[9])}"
        return super().limit_of(status)

    def search(self, interrupts: Interrupts) -> Result:
        result = super().search(interrupts)
        result.collision = collision_probability(result.stats.distinct, result.stats.generated,
                                                 self.lib.packing.words)
        return result


def refuse(model: Model, options: Options) -> None:
    """`Refused` unless the search over fingerprints can run this model with these options."""
    if options.checkpoint is not None:
        raise Refused("--store fingerprint does not save checkpoints: its visited set is fingerprints, its frontier "
                      "on disk; check without --checkpoint")
    if model.info.liveness:
        raise Refused("--store fingerprint does not check liveness properties (they need the whole graph); check "
                      "this model with --store exact")
    if options.backend == "python":
        raise Refused("--store fingerprint runs the compiled search; --backend python keeps every state whole")
    if not isinstance(model, CompiledModel) or model.program is None:
        raise Refused("--store fingerprint needs a model compiled from its program")
    if not cgen.fits_int64(model.program):
        raise Refused("--store fingerprint runs the compiled search, and this model holds numbers beyond 64 bits; "
                      "check it with --store exact")


def fingerprint_bfs(model: Model, options: Options | None = None, reporter: Reporter | None = None) -> Result:
    """Breadth-first search over fingerprints in C. `Refused` when it cannot run as asked (no C
    compiler among the reasons); `SpillError` when the spill folder cannot be used. With
    `Options.symmetry` it stores canonical states and its traces are through them, as
    `native_bfs`'s are."""
    opts = options or Options()
    rep = reporter or NullReporter()
    refuse(model, opts)
    assert isinstance(model, CompiledModel) and model.program is not None
    try:
        lib = cgen.load_native(model.program, opts.symmetry, opts.deadline, search="fingerprint")
    except cgen.CompilerUnavailable as e:
        raise Refused(f"--store fingerprint runs the compiled search: {e.reason}") from None
    searched: Model = model if opts.symmetry is None else Reduced(model, opts.symmetry)
    folder = SpillFolder(opts.spill)
    try:
        search = FingerprintSearch(searched, lib, opts, rep, folder)
        try:
            return search.run()
        except NativeOverflow:
            search.close()
            return python_bfs(searched, opts, rep, None, "64-bit arithmetic overflowed in the compiled search; the "
                              "search ran in Python, keeping every state whole")
        finally:
            search.close()
    finally:
        folder.close()
