"""A breadth-first search saved to disk, and read back to go on with it.

Takes a `Snapshot` (a search between two expansions: every state it holds, packed into 64-bit
words, with its parent; the queue's head, the end of the current level and the depth; every
counter and the first state of each violation and goal) and the metadata the command line
records with it; gives the checkpoint file, written atomically, and reads it back checked.

The file `DIR/checkpoint.qcc` is: 16 bytes of magic; the length of a JSON header (8 bytes,
little-endian); the header (format version, byte order, the metadata, the counters, the sizes
of the two arrays); the states (count * words * 8 bytes); the parents (count * 4 bytes,
0xffffffff for an initial state); and a SHA-256 of everything before it. It is written to a
new temporary file in DIR (created exclusively: a link planted there is never followed),
flushed to disk, and renamed over the old one, so a crash or SIGKILL at any moment leaves
either the old checkpoint or the new one, never a mixture; the digest catches a file damaged
later (it is no signature: whoever can write the file can recompute it). `lock` holds DIR
for one run. The Python and the compiled search write the same format, so either can
resume the other's. Imports `safe_write` only.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from quiesce_check.safe_write import FolderBusy, FolderLock, write_atomic

CHECKPOINT_FILE = "checkpoint.qcc"
MAGIC = b"QCCHECKPOINT\x00\x00\x00\x01"
FORMAT = "quiesce-check breadth-first search"
VERSION = 1
ROOT_PARENT = 0xFFFFFFFF

_CHUNK = 64 * 1024 * 1024
_MAX_HEADER = 64 * 1024 * 1024

# A writable buffer the size of one array, or a read-only one to write out.
Buffer = bytes | bytearray | memoryview


class CheckpointError(Exception):
    """A checkpoint that cannot be written, read or resumed; the message says why."""


@dataclass
class Snapshot:
    words: int               # 64-bit words per packed state
    count: int               # states held, in the order found
    head: int                # the next state to expand
    level_end: int           # the first state deeper than the head's level
    depth: int
    generated: int
    fired: list[int]         # per action
    fresh: list[int]         # per action: new states it found
    goal_first: list[int]    # per goal (and invariant premise): first state reaching it, -1: none
    end_goal_first: list[int]
    inv_first: list[int]     # per invariant: first state violating it, -1: none
    fin_first: list[int]     # per final property: first state violating it
    deadlock_first: int
    elapsed: float           # seconds of searching before this snapshot
    states: Buffer = b""
    parents: Buffer = b""

    _COUNTERS = ("words", "count", "head", "level_end", "depth", "generated", "deadlock_first")
    _LISTS = ("fired", "fresh", "goal_first", "end_goal_first", "inv_first", "fin_first")

    def header(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in (*self._COUNTERS, *self._LISTS)}
        out["elapsed"] = self.elapsed
        return out

    @classmethod
    def from_header(cls, h: Any) -> Snapshot:
        """The counters of a header, each checked for its type and sign; the arrays come later."""
        if not isinstance(h, dict):
            raise CheckpointError("the header has no search counters")

        def whole(v: Any, what: str, lo: int = 0) -> int:
            if not isinstance(v, int) or isinstance(v, bool) or v < lo or v >= 1 << 63:
                raise CheckpointError(f"the header's `{what}` is not a whole number of the right range")
            return v

        counters = {k: whole(h.get(k), k, -1 if k == "deadlock_first" else 0) for k in cls._COUNTERS}
        lists = {}
        for k in cls._LISTS:
            v = h.get(k)
            if not isinstance(v, list):
                raise CheckpointError(f"the header's `{k}` is not a list")
            lists[k] = [whole(x, k, -1 if k.endswith("first") else 0) for x in v]
        elapsed = h.get("elapsed")
        if not isinstance(elapsed, int | float) or isinstance(elapsed, bool) or not 0 <= elapsed < 1e12:
            raise CheckpointError("the header's `elapsed` is not a number of seconds")
        snap = cls(**counters, **lists, elapsed=float(elapsed))  # type: ignore[arg-type]
        if snap.words < 1 or not snap.head <= snap.level_end <= snap.count or snap.count >= ROOT_PARENT:
            raise CheckpointError("the header's queue does not fit its states")
        return snap

    def check_shape(self, words: int, actions: int, goals: int, end_goals: int, invariants: int,
                    finals: int) -> None:
        """`CheckpointError` unless the snapshot has the shape of this model's search."""
        want = {"words": (self.words, words), "fired": (len(self.fired), actions),
                "fresh": (len(self.fresh), actions), "goal_first": (len(self.goal_first), goals),
                "end_goal_first": (len(self.end_goal_first), end_goals),
                "inv_first": (len(self.inv_first), invariants), "fin_first": (len(self.fin_first), finals)}
        for name, (got, expected) in want.items():
            if got != expected:
                raise CheckpointError(f"the saved search does not fit this model ({name}: {got}, "
                                      f"the model needs {expected})")
        firsts = [*self.goal_first, *self.end_goal_first, *self.inv_first, *self.fin_first, self.deadlock_first]
        if any(x >= self.count for x in firsts):
            raise CheckpointError("the saved search records a state it does not hold")


@dataclass(frozen=True)
class CheckpointPlan:
    """Where and how often a search saves itself, and what the command line records with it."""

    directory: Path
    every: float                  # seconds between checkpoints (and one when the search ends)
    meta: dict[str, Any]


def checkpoint_path(directory: Path) -> Path:
    return Path(directory) / CHECKPOINT_FILE


def _write_all(f: BinaryIO, h: Any, data: Buffer) -> None:
    view = memoryview(data).cast("B")
    for start in range(0, len(view), _CHUNK):
        part = view[start:start + _CHUNK]
        h.update(part)
        f.write(part)


def write_checkpoint(directory: Path, meta: dict[str, Any], snap: Snapshot) -> Path:
    """Save `snap` in `directory`, replacing the checkpoint there only once the new one is whole."""
    directory = Path(directory)
    target = checkpoint_path(directory)
    header = json.dumps({"format": FORMAT, "version": VERSION, "byteorder": sys.byteorder, "meta": meta,
                         "search": snap.header(), "sizes": [len(memoryview(snap.states).cast("B")),
                                                            len(memoryview(snap.parents).cast("B"))]},
                        sort_keys=True).encode()

    def write(f: BinaryIO) -> None:
        h = hashlib.sha256()
        for part in (MAGIC, len(header).to_bytes(8, "little"), header):
            h.update(part)
            f.write(part)
        _write_all(f, h, snap.states)
        _write_all(f, h, snap.parents)
        f.write(h.digest())

    try:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob(f".{CHECKPOINT_FILE}.*.tmp"):  # left by a run that was killed
            stale.unlink(missing_ok=True)  # a link is removed, never followed
        write_atomic(target, write, mode=0o600)
    except OSError as e:
        raise CheckpointError(f"cannot write a checkpoint in {directory}: {e.strerror or e}") from None
    return target


def lock(directory: Path) -> FolderLock:
    """Hold `directory` for this run (an advisory lock on `directory/.lock`, created if need be);
    `CheckpointError` when another run holds it or it cannot be locked."""
    held = FolderLock(Path(directory))
    try:
        held.acquire()
    except FolderBusy as e:
        raise CheckpointError(str(e)) from None
    return held


class Checkpoint:
    """A checkpoint file opened and its header read; `read_arrays` reads and checks the rest."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = checkpoint_path(self.directory)
        where = str(self.path)
        try:
            if self.directory.exists() and not self.directory.is_dir():
                raise CheckpointError(f"{self.directory} is not a directory")
            if not self.path.is_file():
                raise CheckpointError(f"{self.directory} holds no checkpoint ({CHECKPOINT_FILE})")
            self.size = self.path.stat().st_size
            with open(self.path, "rb") as f:
                head = f.read(len(MAGIC) + 8)
                if len(head) < len(MAGIC) + 8 or head[:len(MAGIC)] != MAGIC:
                    raise CheckpointError(f"{where} is not a quiesce-check checkpoint (or one of another version)")
                n = int.from_bytes(head[len(MAGIC):], "little")
                if n > _MAX_HEADER or len(MAGIC) + 8 + n + 32 > self.size:
                    raise CheckpointError(f"{where} is truncated or damaged (its header runs past its end)")
                raw = f.read(n)
        except OSError as e:
            raise CheckpointError(f"cannot read {where}: {e.strerror or e}") from None
        self.prefix = head + raw
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
            raise CheckpointError(f"{where} is damaged: its header is not JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise CheckpointError(f"{where} is not a checkpoint of this version of quiesce-check")
        if doc.get("byteorder") != sys.byteorder:
            raise CheckpointError(f"{where} was written on a machine of another byte order")
        meta, sizes = doc.get("meta"), doc.get("sizes")
        if not isinstance(meta, dict):
            raise CheckpointError(f"{where} is damaged: it records no model")
        self.meta: dict[str, Any] = meta
        self.snapshot = Snapshot.from_header(doc.get("search"))
        snap = self.snapshot
        want = [snap.count * snap.words * 8, snap.count * 4]
        if sizes != want or len(self.prefix) + sum(want) + 32 != self.size:
            raise CheckpointError(f"{where} is truncated or damaged (its size does not match its header)")

    def read_arrays(self, into: Callable[[int, int], Sequence[Any]] | None = None) -> Snapshot:
        """Read the states and parents (into the buffers `into(states bytes, parents bytes)` gives,
        else new ones) and check the digest of the whole file."""
        snap = self.snapshot
        sizes = [snap.count * snap.words * 8, snap.count * 4]
        buffers = list(into(*sizes)) if into is not None else [bytearray(n) for n in sizes]
        h = hashlib.sha256(self.prefix)
        try:
            with open(self.path, "rb") as f:
                f.seek(len(self.prefix))
                for buf, n in zip(buffers, sizes, strict=True):
                    view = memoryview(buf).cast("B")
                    for start in range(0, n, _CHUNK):
                        part = view[start:min(n, start + _CHUNK)]
                        if f.readinto(part) != len(part):
                            raise CheckpointError(f"{self.path} is truncated")
                        h.update(part)
                digest = f.read(32)
        except OSError as e:
            raise CheckpointError(f"cannot read {self.path}: {e.strerror or e}") from None
        if digest != h.digest():
            raise CheckpointError(f"{self.path} is damaged: its contents do not match their checksum")
        snap.states, snap.parents = memoryview(buffers[0]), memoryview(buffers[1])
        return snap
