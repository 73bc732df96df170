"""Hostile inputs whose cost once grew without bound, or that ended in a traceback: each pinned with
its cause, through the real command line, held to the README's contract (`assert_polite`) and to
a time bound.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.fuzzing import assert_polite, run_cli, write_model


def doubling_defs(levels: int) -> str:
    """Defs each using the one before twice: `levels` doublings of the first."""
    lines = ["var x: 0..3 = 0;", "def d0(a: 0..3) = a > 0;"]
    lines += [f"def d{i}(a: 0..3) = d{i - 1}(a) and d{i - 1}(a);" for i in range(1, levels + 1)]
    lines += [f"action go when d{levels}(x) {{ x := 0; }}", "action inc when x < 3 { x := x + 1; }"]
    return "\n".join(lines) + "\n"


def doubling_procs(levels: int) -> str:
    lines = ["var x: 0..3 = 0;", "proc p0() { x := 0; }"]
    lines += [f"proc p{i}() {{ p{i - 1}(); p{i - 1}(); }}" for i in range(1, levels + 1)]
    lines += [f"action go {{ p{levels}(); }}", "action inc when x < 3 { x := x + 1; }"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [18, 40])
@pytest.mark.parametrize("kind", ["def", "proc"])
def test_routines_that_double_at_every_level(tmp_path: Path, kind: str, levels: int) -> None:
    # FIXED: each level's two uses of the one before were inlined before any size check: 18 levels
    # of defs took 30 s (104 s and 3.3 GB on a slower machine), 40 never ended; now refused from
    # the routines' sizes, computed bottom up, at the use that expands
    text = doubling_defs(levels) if kind == "def" else doubling_procs(levels)
    path = write_model(tmp_path, text, "m.qdl")
    r = run_cli(["check", path, "--backend", "python"], bound=20)
    assert_polite(r, str(path), text)
    use_line = levels + 3
    assert r.code == 150 and re.search(rf"m\.qdl:{use_line}:\d+: error\[E024\]", r.err), r.err
    assert r.seconds < 5


def test_routines_that_double_a_few_times_still_check(tmp_path: Path) -> None:
    # the bound is far above real models: eight doublings (256 copies) is an ordinary model
    text = doubling_defs(8)
    r = run_cli(["check", write_model(tmp_path, text, "m.qdl"), "--backend", "python"], bound=30)
    assert r.code == 0, r.err


def test_a_long_chain_of_uses(tmp_path: Path) -> None:
    # FIXED: 1,000 files each `use`-ing the next: the loader recursed once per file, a
    # RecursionError reported as an internal error (exit 153); now spliced with an explicit stack
    n = 1000
    for i in range(n):
        use = f'use "f{i + 1}.qdl";\n' if i + 1 < n else ""
        body = "var x: 0..3 = 0;\naction a when x < 3 { x := x + 1; }\nterminal t: x == 3;\n" if i == 0 else ""
        (tmp_path / f"f{i}.qdl").write_text(f"{use}const C{i} = {i};\n{body}")
    r = run_cli(["check", tmp_path / "f0.qdl", "--backend", "python", "--no-coverage"], bound=60)
    assert_polite(r)
    assert r.code == 0, r.err


def test_a_long_cycle_of_uses_is_one_short_message(tmp_path: Path) -> None:
    n = 300
    for i in range(n):
        (tmp_path / f"f{i}.qdl").write_text(f'use "f{(i + 1) % n}.qdl";\nconst C{i} = {i};\n')
    r = run_cli(["check", tmp_path / "f0.qdl"], bound=60)
    assert_polite(r)
    assert r.code == 150 and "error[E014]" in r.err and "more ..." in r.err
    assert len(r.err) < 4000
