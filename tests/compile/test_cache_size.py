"""The compile cache stays within its size cap, the least recently used entries removed first;
`quiesce-check cache` reports it and `--clear` empties it; neither ever follows a link or touches
a folder that is not private."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from quiesce_check.build import build_text
from quiesce_check.cli import main
from quiesce_check.compile import cache
from quiesce_check.compile.cgen import build_native, compiler

ONE = "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\n"
TWO = "var y: 0..5 = 0;\naction inc when y < 5 { y := y + 1; }\n"
KB = 1024


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cache.CAP_VARIABLE, raising=False)
    path = tmp_path / "xdg" / "quiesce-check"
    path.mkdir(parents=True, mode=0o700)
    return path


def entry(folder: Path, stem: str, size: int, age: float) -> None:
    """A library of `size` bytes and its digest, last used `age` seconds ago."""
    for suffix, n in ((".so", size), (".sha256", 65)):
        p = folder / f"qc_{stem}{suffix}"
        p.write_bytes(b"x" * n)
        os.utime(p, (time.time() - age, time.time() - age))


def stems(folder: Path) -> set[str]:
    return {p.name.split(".")[0].removeprefix("qc_") for p in folder.iterdir() if p.name.startswith("qc_")}


def test_pruning_removes_the_least_recently_used_first_down_to_the_cap(folder: Path) -> None:
    for stem, age in (("old", 300), ("mid", 200), ("new", 100)):
        entry(folder, stem, 100 * KB, age)
    gone = cache.prune(folder, 250 * KB)
    assert stems(folder) == {"mid", "new"} and gone.entries == 1
    cache.prune(folder, 0, keep="qc_mid")  # the library just built stays whatever the cap
    assert stems(folder) == {"mid"}


def test_the_cap_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CAP_VARIABLE, "3")
    assert cache.cap_bytes() == 3 * KB * KB
    monkeypatch.setenv(cache.CAP_VARIABLE, "lots")
    assert cache.cap_bytes() == cache.DEFAULT_CAP_MB * KB * KB


def test_a_link_among_the_entries_is_removed_never_followed(folder: Path, tmp_path: Path) -> None:
    precious = tmp_path / "precious.so"
    precious.write_bytes(b"p" * (500 * KB))
    (folder / "qc_planted.so").symlink_to(precious)
    entry(folder, "real", 10 * KB, 10)
    assert cache.usage(folder).size < 100 * KB  # what the link points to is not counted
    assert cache.clear(folder).entries == 2
    assert precious.read_bytes() == b"p" * (500 * KB) and stems(folder) == set()


def test_a_cache_folder_that_is_a_link_is_left_alone(folder: Path, tmp_path: Path) -> None:
    entry(folder, "kept", 10 * KB, 10)
    elsewhere = tmp_path / "elsewhere"
    os.replace(folder, elsewhere)
    folder.symlink_to(elsewhere)
    with pytest.raises(OSError):
        cache.clear(folder)
    with pytest.raises(OSError):
        cache.usage(folder)
    assert stems(elsewhere) == {"kept"}


def test_clear_removes_the_build_folders_a_killed_run_left_and_no_other(folder: Path) -> None:
    stale, busy = folder / "qc-build-stale", folder / "qc-build-busy"
    for d in (stale, busy):
        d.mkdir()
        (d / "model.c").write_text("int x;\n")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    cache.clear(folder)
    assert not stale.exists() and busy.exists()


def test_the_cache_command_reports_and_clears(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry(folder, "a", 512 * KB, 10)
    entry(folder, "b", 512 * KB, 20)
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert "2 compiled searches, 1.0 MB" in out and f"kept to {cache.DEFAULT_CAP_MB}.0 MB" in out
    assert main(["cache", "--clear"]) == 0
    assert "removed 2 compiled searches (1.0 MB)" in capsys.readouterr().out
    assert stems(folder) == set()
    assert main(["cache"]) == 0
    assert "0 compiled searches" in capsys.readouterr().out


def test_the_cache_command_refuses_a_folder_of_another_kind(folder: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    os.replace(folder, elsewhere)
    folder.symlink_to(elsewhere)
    assert main(["cache", "--clear"]) == 151
    assert "left alone" in capsys.readouterr().err
    assert elsewhere.is_dir()


@pytest.mark.skipif(compiler() is None, reason="no C compiler")
def test_a_build_prunes_the_cache_and_a_load_makes_an_entry_young(folder: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    build_native(build_text(ONE).program)
    (first,) = folder.glob("qc_*.so")
    os.utime(first, (time.time() - 3600, time.time() - 3600))
    build_native(build_text(ONE).program)  # a hit: the entry is used, so it is young again
    assert time.time() - first.stat().st_mtime < 600
    monkeypatch.setenv(cache.CAP_VARIABLE, "0")
    build_native(build_text(TWO).program)  # a new library, and a cap that holds only it
    (only,) = folder.glob("qc_*.so")
    assert only != first and not list(folder.glob(f"{first.stem}.*"))
