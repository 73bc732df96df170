"""Files the tool writes, and the folders it keeps: never through a link, never half written.

A foundation module below every stage: it imports nothing of the project. Gives
`write_atomic` (a new file, created exclusively beside the target, filled, flushed to disk
and renamed over the target: a reader sees the old file or the new one, never a truncated
one, and a link planted at the target's name is replaced, its target untouched),
`private_dir` (a folder only the user can write, or None when the one at that path cannot
be made so), `trusted` (a file only the user can have written) and `FolderLock` (an
advisory lock on a folder, held for a run).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

# group and others may not write
_SHARED_WRITE = stat.S_IWGRP | stat.S_IWOTH


def _umask() -> int:
    """The process's umask, read without changing it (os.umask can only set it)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


# The names of this process's own streams (`--json /dev/stdout`): written to as they are.
_OWN_STREAM = re.compile(r"/dev/(stdout|stderr|fd/\d+)|/proc/self/fd/\d+")


def _harmless_device(rdev: int) -> bool:
    """/dev/null, /dev/zero, /dev/full, a terminal: devices that writing a report to cannot harm
    (Linux numbers; the pseudo-terminal master, 5:2, excluded)."""
    major, minor = os.major(rdev), os.minor(rdev)
    return (major == 1 and minor in (3, 5, 7)) or major == 4 or (major == 5 and minor in (0, 1)) \
        or 136 <= major <= 143


def _stream(path: Path) -> bool:
    """Whether `path` is a stream to write to as it is (a pipe, a terminal, /dev/null, this
    process's stdout), not a file to replace. A link to one counts only when it is the user's
    or the system's: one planted by another user is replaced, never followed."""
    try:
        lst = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(lst.st_mode) and lst.st_uid not in (os.geteuid(), 0):
        return False
    if _OWN_STREAM.fullmatch(os.path.abspath(path)):
        return True
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISFIFO(st.st_mode) or (stat.S_ISCHR(st.st_mode) and _harmless_device(st.st_rdev))


def _write_stream(path: Path, data: bytes | Callable[[BinaryIO], None]) -> None:
    # never created or truncated: appended to (a pipe with no reader fails at once, not hangs)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "wb") as f:
        if callable(data):
            data(f)
        else:
            f.write(data)


def write_atomic(path: str | os.PathLike[str], data: bytes | Callable[[BinaryIO], None],
                 mode: int | None = None) -> None:
    """Write `data` (bytes, or a function that writes to the file it is given) to `path` atomically.

    `mode` is the new file's permissions (default: what `open` would give under the umask). An
    `OSError` leaves `path` as it was and no temporary file behind. A stream (`_stream`) is
    written to as it is; any other file that is not a regular file (a device, a socket) is
    refused, never replaced."""
    target = Path(path)
    if _stream(target):
        _write_stream(target, data)
        return
    with contextlib.suppress(FileNotFoundError):
        st = os.lstat(target)
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise OSError(errno.EINVAL, "not a regular file, a pipe or a terminal")
    folder = target.parent
    # mkstemp creates with O_EXCL (and O_NOFOLLOW): a name planted in the folder is never opened
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode if mode is not None else 0o666 & ~_umask())
            os.fsync(f.fileno())
        # rename does not follow a link at the target's name: it replaces the link
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    write_atomic(path, text.encode("utf-8"))


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk (a rename is durable only then); best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def trusted(st: os.stat_result) -> bool:
    """A regular file or folder of this user that no one else may write."""
    return st.st_uid == os.geteuid() and not st.st_mode & _SHARED_WRITE


def private_dir(path: Path) -> Path | None:
    """`path` as a folder only this user can write: made with mode 0700 when missing, tightened
    when it is the user's own; None when it is a link, not a folder, or another user's."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:  # a link (ELOOP), not a folder, or unreadable
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
            return None
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.fchmod(fd, 0o700)  # the user's own folder, made under a permissive umask
            st = os.fstat(fd)
        if stat.S_IMODE(st.st_mode) & 0o077:
            return None
        if not os.path.samestat(st, os.lstat(path)):  # replaced since it was opened
            return None
    except OSError:
        return None
    finally:
        os.close(fd)
    return path


class FolderBusy(Exception):
    """Another run holds the folder's lock, or the lock cannot be taken; the message says which."""


class FolderLock:
    """An advisory lock (`flock`) on `folder/.lock`, held from `acquire` until `release`.

    The lock file is opened without following a link and must be a regular file; the lock is
    the kernel's, so it ends with the process however that ends."""

    NAME = ".lock"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / self.NAME
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as e:
            why = "it is a symbolic link" if e.errno == errno.ELOOP else e.strerror or str(e)
            raise FolderBusy(f"cannot lock {self.folder} ({self.path}: {why})") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise FolderBusy(f"cannot lock {self.folder}: {self.path} is not a regular file")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FolderBusy(f"{self.folder} is in use by another run; wait for it to end, or use "
                                 "another folder") from None
            except OSError as e:
                raise FolderBusy(f"cannot lock {self.folder}: {e.strerror or e}") from None
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the last descriptor releases the lock
            self.fd = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
