"""The C search's program: the model's part written by `compile.cgen`, the rest shipped as C files
(package data) and compiled in with it. The whole program compiles without a warning; a change
to a shipped file builds a new library; no C search comes with the reason why, carried by the
failure itself."""

from __future__ import annotations

import fnmatch
import subprocess
import tomllib
from pathlib import Path

import pytest

from quiesce_check.build import build_file, build_text, symmetry_of
from quiesce_check.compile import cgen
from quiesce_check.compile.cgen import (
    CompilerUnavailable,
    compile_flags,
    compiler,
    generate_c,
    load_native,
)
from quiesce_check.engines import NoCompiler, breadth_first
from quiesce_check.engines.result import NullReporter, Options, Verdict
from tests.conftest import ROOT

native = pytest.mark.skipif(compiler() is None, reason="no C compiler")

C_FILES = ROOT / "quiesce_check" / "compile" / "c"

# Corners of the generated code: a value compared with itself, a step that evaluates nothing,
# values chosen and bound but never read, no terminal property.
CORNERS = """var x: 0..3 = 0;
var y: 0..1 = 0;
action idle { }
action pick(i in 0..1) when x < 3 { x := x + 1; }
action bind when y == 0 { let unused = x + 1; y := 1; }
action self(j in 0..1) when j == j and not (j < j) and j >= j and y == 1 { y := 0; }
invariant same: x == x and not (x < x) and x >= x;
"""


def model_c(name: str, search: str = "bfs") -> str:
    if name == "corners":
        return generate_c(build_text(CORNERS, "corners.qdl").program, None, search)[0]
    built = build_file(str(ROOT / name))
    return generate_c(built.program, symmetry_of(built) if name.endswith("symmetric.qdl") else None, search)[0]


@native
@pytest.mark.parametrize("name", ["models/precopy_symmetric.qdl",  # symmetry: canon.c
                                  "examples/peterson.qdl",  # plain
                                  "tests/cli/models/assert.qdl",  # a failing assertion
                                  "tests/cli/models/wide_invariant.qdl",  # packed by a table: pack_table.c
                                  "corners"])
@pytest.mark.parametrize("search", cgen.SEARCHES)
def test_the_whole_program_compiles_without_a_warning(tmp_path: Path, name: str, search: str) -> None:
    source = model_c(name, search)
    src, out = tmp_path / "model.c", tmp_path / "model.so"
    src.write_text(source)
    flags = compile_flags(source)
    assert "-Wall" in flags and "-Wextra" in flags
    r = subprocess.run([str(compiler()), *flags, "-Werror", "-o", str(out), str(src)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr


@native
def test_the_corners_search_alike_in_c_and_in_python() -> None:
    built = build_text(CORNERS, "corners.qdl")
    c = breadth_first(built.model, Options(backend="native"), NullReporter())
    py = breadth_first(built.model, Options(backend="python"), NullReporter())
    assert c.backend == "native" and c.verdict is py.verdict is Verdict.HOLDS
    assert (c.stats.distinct, c.stats.generated, c.stats.fired) == (py.stats.distinct, py.stats.generated,
                                                                    py.stats.fired)


def test_every_shipped_c_file_is_in_the_program() -> None:
    symmetric, wide = model_c("models/precopy_symmetric.qdl"), model_c("tests/cli/models/wide_invariant.qdl")
    plain = model_c("examples/peterson.qdl")
    shipped = sorted(p.name for p in C_FILES.iterdir())
    assert shipped == ["bfs.c", "canon.c", "checkpoint.c", "fp.c", "live.c", "pack_table.c", "part.c", "runtime.h",
                       "store.c", "swarm.c"]
    searches = {"part.c": "parallel", "fp.c": "fingerprint", "swarm.c": "swarm"}
    built = build_file("models/precopy_symmetric.qdl")
    for name in shipped:
        assert cgen.fixed_c(name) == (C_FILES / name).read_text()
        if name in searches:   # only in the program built for its search
            assert cgen.fixed_c(name) not in symmetric
            assert cgen.fixed_c(name) in generate_c(built.program, symmetry_of(built), searches[name])[0]
            continue
        assert cgen.fixed_c(name) in (wide if name == "pack_table.c" else symmetric)
    assert cgen.fixed_c("canon.c") not in plain and cgen.fixed_c("pack_table.c") not in plain


def test_the_shipped_c_files_are_package_data() -> None:
    # so that an install that is not editable has them too
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for path in C_FILES.iterdir():
        rel = path.relative_to(ROOT / "quiesce_check").as_posix()
        assert any(fnmatch.fnmatch(rel, g) for g in globs["quiesce_check"]), rel


@native
def test_a_changed_c_file_builds_a_new_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    program = build_file(str(ROOT / "tests/cli/models/counter.qdl")).program
    load_native(program)
    shipped = cgen.fixed_c
    monkeypatch.setattr(cgen, "fixed_c", lambda name: shipped(name) + ("/* changed */\n" if name == "bfs.c" else ""))
    load_native(program)
    assert len(list((tmp_path / "quiesce-check").glob("qc_*.so"))) == 2


def failing_compiler(tmp_path: Path) -> Path:
    cc = tmp_path / "failing-cc"
    cc.write_text("#!/bin/sh\necho 'model.c:1:1: error: no' >&2\nexit 1\n")
    cc.chmod(0o755)
    return cc


def test_why_there_is_no_c_search_travels_with_the_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cc = failing_compiler(tmp_path)
    monkeypatch.setenv("CC", str(cc))
    built = build_file(str(ROOT / "tests/cli/models/counter.qdl"))
    with pytest.raises(CompilerUnavailable) as failed:
        load_native(built.program)
    assert failed.value.reason == f"{cc} could not compile this model's C: model.c:1:1: error: no"
    with pytest.raises(NoCompiler) as told:
        breadth_first(built.model, Options(backend="native"), NullReporter())
    assert str(told.value) == failed.value.reason
    result = breadth_first(built.model, Options(backend="auto"), NullReporter())
    assert result.backend == "python" and result.verdict is Verdict.HOLDS
    monkeypatch.delenv("CC")
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))
    with pytest.raises(NoCompiler) as told:
        breadth_first(built.model, Options(backend="native"), NullReporter())
    assert str(told.value) == "no working C compiler (cc, gcc or clang; or set CC)" == cgen.NO_COMPILER
