"""The compile cache is trusted only as far as it is private: a library planted by another
user, one others may write, or one damaged since it was built is never loaded; it is rebuilt,
and the verdict stays that of the model."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from quiesce_check.compile.cgen import compiler
from tests.cli.fuzzing import write_model

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler")

# `small` is violated in two steps (exit 12); the assertion fails in three (exit 14)
VIOLATED = "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\ninvariant small: x < 2;\nterminal done: x == 3;\n"
ASSERTS = "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; assert x < 3; }\nterminal done: x == 3;\n"
NOBODY = 65534

# A library that runs code as it is loaded, and would report every search as done, nothing found.
EVIL = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void planted(void) {
    int fd = open("%s", O_WRONLY | O_CREAT, 0600);
    if (fd >= 0) close(fd);
}
"""


def evil_library(tmp_path: Path) -> tuple[bytes, Path]:
    marker = tmp_path / "planted-code-ran"
    src = tmp_path / "evil.c"
    src.write_text(EVIL % marker)
    out = tmp_path / "evil.so"
    subprocess.run([str(compiler()), "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return out.read_bytes(), marker


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "quiesce-check"


def check(model: Path, *extra: str) -> int:
    """`check --backend native` in a process of its own: this one keeps each library it loaded, by
    path, and would not load a planted one at all."""
    r = subprocess.run([sys.executable, "-m", "quiesce_check", "check", str(model), "--backend", "native",
                        "--no-coverage", *extra], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in r.stdout + r.stderr
    assert "no working C compiler" not in r.stdout + r.stderr
    assert "engine bfs, native" in r.stdout, r.stdout + r.stderr
    return r.returncode


def entry(cache: Path) -> Path:
    (lib,) = cache.glob("qc_*.so")
    return lib


def plant(lib: Path, data: bytes, owner: int | None = None, mode: int = 0o700) -> None:
    lib.unlink()
    lib.write_bytes(data)
    os.chmod(lib, mode)
    if owner is not None:
        os.chown(lib, owner, owner)


def test_the_cache_folder_is_private_whatever_the_umask(tmp_path: Path, cache: Path) -> None:
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    old = os.umask(0)
    try:
        assert check(model) == 12
    finally:
        os.umask(old)
    st = os.lstat(cache)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid()
    for p in cache.iterdir():
        assert not os.lstat(p).st_mode & 0o022, p


@pytest.mark.parametrize("how, text, code", [("another-owner", VIOLATED, 12), ("another-owner", ASSERTS, 14),
                                              ("group-writable", VIOLATED, 12), ("other-writable", ASSERTS, 14),
                                              ("other-owner-sidecar", VIOLATED, 12)],
                         ids=["another-owner", "another-owner-assert", "group-writable", "other-writable",
                              "another-owner-with-digest"])
def test_a_planted_library_is_never_loaded(tmp_path: Path, cache: Path, how: str, text: str, code: int) -> None:
    model = write_model(tmp_path, text, "m.qdl")
    assert check(model) == code
    lib = entry(cache)
    data, marker = evil_library(tmp_path)
    if how == "another-owner":
        plant(lib, data, owner=NOBODY)
    elif how == "group-writable":
        plant(lib, data, mode=0o770)
    elif how == "other-writable":
        plant(lib, data, mode=0o707)
    else:
        # a library and a digest of it, both planted by another user
        plant(lib, data, owner=NOBODY)
        for side in cache.glob("qc_*.sha256"):
            side.unlink()
            side.write_text(hashlib.sha256(data).hexdigest() + "\n")
            os.chown(side, NOBODY, NOBODY)
    assert check(model) == code
    assert not marker.exists()
    assert check(model) == code  # and again, from the rebuilt entry
    assert not marker.exists()


def test_a_library_replaced_by_its_owner_is_caught_by_its_digest(tmp_path: Path, cache: Path) -> None:
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    assert check(model) == 12
    data, marker = evil_library(tmp_path)
    plant(entry(cache), data)
    assert check(model) == 12 and not marker.exists()


def test_a_cache_folder_of_another_user_is_not_used(tmp_path: Path, cache: Path) -> None:
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    assert check(model) == 12
    data, marker = evil_library(tmp_path)
    plant(entry(cache), data, owner=NOBODY, mode=0o777)
    os.chown(cache, NOBODY, NOBODY)
    os.chmod(cache, 0o777)
    assert check(model) == 12 and not marker.exists()


def test_a_cache_folder_that_is_a_link_is_not_used(tmp_path: Path, cache: Path) -> None:
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    assert check(model) == 12
    data, marker = evil_library(tmp_path)
    plant(entry(cache), data)
    elsewhere = tmp_path / "elsewhere"
    os.replace(cache, elsewhere)
    cache.symlink_to(elsewhere)
    assert check(model) == 12 and not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_a_damaged_library_is_rebuilt(tmp_path: Path, cache: Path, damage: str) -> None:
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    assert check(model) == 12
    lib = entry(cache)
    whole = lib.read_bytes()
    damaged = {"truncated": whole[:len(whole) // 3], "empty": b"", "garbage": b"\x7fELF" + b"\0" * 400}[damage]
    lib.unlink()  # not written in place: this process has the library mapped
    lib.write_bytes(damaged)
    assert check(model) == 12  # --backend native: rebuilt, not "no working C compiler"
    assert entry(cache).read_bytes() == whole


def test_an_own_cache_folder_others_may_write_is_tightened(tmp_path: Path, cache: Path) -> None:
    # as an earlier version left it under a permissive umask, with a library planted meanwhile
    model = write_model(tmp_path, VIOLATED, "m.qdl")
    assert check(model) == 12
    data, marker = evil_library(tmp_path)
    plant(entry(cache), data, mode=0o775)
    os.chmod(cache, 0o777)
    assert check(model) == 12 and not marker.exists()
    assert stat.S_IMODE(os.lstat(cache).st_mode) == 0o700
