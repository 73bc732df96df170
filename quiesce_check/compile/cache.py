"""The folder of compiled search libraries: where it is, what it holds, and keeping it bounded.

Takes the environment (`XDG_CACHE_HOME`, and `QUIESCE_CHECK_CACHE_MB` for the size cap); gives
`cache_dir`, `cap_bytes`, `usage` (entries and bytes), `prune` (oldest first, down to the cap;
`compile.cgen` calls it after storing a library) and `clear` (`quiesce-check cache --clear`).

An entry is the files named `qc_<hash>.*`: the library (`.so`), the digest of it recorded when
it was built (`.sha256`), or the marker of a compile given up on (`.timeout`). Its age is the
time of its newest file; `cgen` touches a library each time it loads it, so "oldest" is "least
recently used". A build in progress is a `qc-build-*` folder of the run that compiles.

The folder is used only when it is private (`safe_write.private_dir`: the user's own, mode
0700, not a link). Every file in it is looked at and removed relative to the folder's open
descriptor, without following a link: a link among the entries is removed as a name, and what
it points to is never read, measured or touched. Imports `safe_write`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from quiesce_check.safe_write import private_dir

# The default size cap: a few hundred libraries of ordinary models (most are 50-100 kB).
DEFAULT_CAP_MB = 128
CAP_VARIABLE = "QUIESCE_CHECK_CACHE_MB"
# A build folder older than this was left by a run that was killed (a compile is given up on
# after two minutes): `clear` removes it; a younger one may be another run's, still compiling.
_STALE_BUILD_SECONDS = 600
_ENTRY_PREFIX = "qc_"
_BUILD_PREFIX = "qc-build-"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "quiesce-check"


def cap_bytes() -> int:
    """The size the cache is pruned to: `QUIESCE_CHECK_CACHE_MB` megabytes (0 keeps nothing but
    the library just built), or DEFAULT_CAP_MB when it is unset or not a whole number."""
    text = os.environ.get(CAP_VARIABLE, "").strip()
    mb = int(text) if text.isdigit() else DEFAULT_CAP_MB
    return mb * 1024 * 1024


def megabytes(size: int) -> str:
    """`3.2 MB`, as the cache's size is shown."""
    return f"{size / (1024 * 1024):.1f} MB"


@dataclass(frozen=True)
class Entry:
    stem: str                 # qc_<hash>
    names: tuple[str, ...]    # its files (and links) in the folder
    size: int                 # bytes of its regular files
    age: float                # the newest modification time of its files


@dataclass(frozen=True)
class Usage:
    entries: int
    size: int


@contextlib.contextmanager
def _opened(folder: Path) -> Iterator[int]:
    """The folder's descriptor, opened without following a link."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def _entries(fd: int) -> list[Entry]:
    """The folder's entries, oldest first."""
    found: dict[str, tuple[list[str], int, float]] = {}
    with os.scandir(fd) as it:
        for e in it:
            if not e.name.startswith(_ENTRY_PREFIX):
                continue
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            stem = e.name.split(".", 1)[0]
            names, size, age = found.get(stem, ([], 0, 0.0))
            regular = stat.S_ISREG(st.st_mode)
            found[stem] = ([*names, e.name], size + (st.st_size if regular else 0), max(age, st.st_mtime))
    out = [Entry(stem, tuple(sorted(names)), size, age) for stem, (names, size, age) in found.items()]
    return sorted(out, key=lambda x: (x.age, x.stem))


def _remove(fd: int, entry: Entry) -> None:
    for name in entry.names:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=fd)  # a link is removed, not followed; a folder here is refused


def _not_private(folder: Path) -> OSError:
    return OSError(f"{folder} is not a folder of this user's that only this user can write: it is not used, "
                   "and left alone")


def usage(folder: Path | None = None) -> Usage:
    """What the cache holds (nothing when it does not exist yet); `OSError` when it is not private."""
    folder = folder or cache_dir()
    if not os.path.lexists(folder):
        return Usage(0, 0)
    if private_dir(folder) is None:
        raise _not_private(folder)
    with _opened(folder) as fd:
        entries = _entries(fd)
    return Usage(len(entries), sum(e.size for e in entries))


def prune(folder: Path, cap: int, keep: str | None = None) -> Usage:
    """Remove the oldest entries until the cache holds at most `cap` bytes; never the entry
    `keep` (the library just built). Gives what was removed."""
    removed, freed = 0, 0
    with _opened(folder) as fd:
        entries = _entries(fd)
        total = sum(e.size for e in entries)
        for e in entries:
            if total <= cap:
                break
            if e.stem == keep:
                continue
            _remove(fd, e)
            total -= e.size
            removed, freed = removed + 1, freed + e.size
    return Usage(removed, freed)


def clear(folder: Path | None = None) -> Usage:
    """Remove every entry, and the build folders runs that were killed left behind. Gives what
    was removed; `OSError` when the folder is not private (then nothing is touched)."""
    folder = folder or cache_dir()
    if not os.path.lexists(folder):
        return Usage(0, 0)
    if private_dir(folder) is None:
        raise _not_private(folder)
    with _opened(folder) as fd:
        entries = _entries(fd)
        for e in entries:
            _remove(fd, e)
        _remove_stale_builds(fd)
    return Usage(len(entries), sum(e.size for e in entries))


def _remove_stale_builds(fd: int) -> None:
    now = time.time()
    with os.scandir(fd) as it:
        stale = [e.name for e in it if e.name.startswith(_BUILD_PREFIX)
                 and e.is_dir(follow_symlinks=False)
                 and now - e.stat(follow_symlinks=False).st_mtime > _STALE_BUILD_SECONDS]
    for name in stale:
        # rmtree with a dir_fd works through descriptors and never follows a link inside
        with contextlib.suppress(OSError):
            shutil.rmtree(name, dir_fd=fd)
