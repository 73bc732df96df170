"""Fuzzing the classes of input whose cost once had no bound, or that reached a traceback: routines
that expand without bound, symmetric types whose tables explode, chains of used files, and special
files (devices, pipes, sockets, links, directories) wherever the tool reads a file.

Every input goes through `quiesce_check.cli.main` as a user's would, held to the README's contract
(`assert_polite`) and to a time bound. The number of examples is fixed in CI (derandomized);
QC_FUZZ (or QC_EXAMPLES) raises it for long runs with fresh random inputs.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.fuzzing import assert_polite, run_cli, write_model
from tests.conftest import ROOT

EXAMPLES = int(os.environ.get("QC_FUZZ") or os.environ.get("QC_EXAMPLES") or "0") or None
FUZZ = settings(deadline=None, max_examples=EXAMPLES or 40, derandomize=EXAMPLES is None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
LIMITS = ["--backend", "python", "--max-states", "50", "--time-limit", "3", "--no-coverage"]
# No input may keep the tool longer than this, whatever it asks for.
BOUND = 30.0


# ------------------------------------------------------------------------ expansion blow-up

@st.composite
def expanding_model(draw: st.DrawFn) -> str:
    """Routines that each use the one before `fan` times, `levels` deep, used where lowering
    inlines them: a guard, a property, an action's or a process's body, a quantifier."""
    kind = draw(st.sampled_from(["def", "def-arg", "const-def", "proc"]))
    levels = draw(st.integers(1, 64))
    fan = draw(st.integers(1, 4))
    join = draw(st.sampled_from([" and ", " or "]))
    lines = ["var x: 0..3 = 0;", "action inc when x < 3 { x := x + 1; }", "terminal t: true;"]
    if kind == "proc":
        lines.append("proc r0() { if x < 3 { x := x + 1; } }")
        lines += [f"proc r{i}() {{ {' '.join([f'r{i - 1}();'] * fan)} }}" for i in range(1, levels + 1)]
        use = f"r{levels}();"
        where = draw(st.sampled_from(["action", "process", "either"]))
        if where == "action":
            lines.append(f"action go {{ {use} }}")
        elif where == "process":
            lines.append(f"process P {{ {use} }}")
        else:
            lines.append(f"action go {{ either {{ {use} }} or {{ x := 0; }} }}")
        return "\n".join(lines) + "\n"
    if kind == "const-def":
        lines.append("def r0 = x > 0;")
        lines += [f"def r{i} = {join.join([f'r{i - 1}'] * fan)};" for i in range(1, levels + 1)]
        use = f"r{levels}"
    else:
        lines.append("def r0(a: 0..3) = a > 0;")
        arg = "a" if kind == "def" else "(if a > 0 then a - 1 else a)"
        lines += [f"def r{i}(a: 0..3) = {join.join([f'r{i - 1}({arg})'] * fan)};" for i in range(1, levels + 1)]
        use = f"r{levels}(x)"
    where = draw(st.sampled_from(["guard", "invariant", "assign", "forall", "final"]))
    if where == "guard":
        lines.append(f"action go when {use} {{ x := 0; }}")
    elif where == "invariant":
        lines.append(f"invariant inv: {use} or x >= 0;")
    elif where == "assign":
        lines += ["var b: bool = false;", f"action go {{ b := {use}; }}"]
    elif where == "forall":
        n = draw(st.sampled_from([1, 3, 64, 4096]))
        lines.append(f"invariant inv: forall i in 0..{n}: {use} or i >= 0;")
    else:
        lines.append(f"final f: {use} or x >= 0;")
    return "\n".join(lines) + "\n"


@FUZZ
@given(expanding_model())
def test_expansion_blowup(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = write_model(tmp_path_factory.mktemp("blowup"), text, "m.qdl")
    r = run_cli(["check", path, *LIMITS], bound=BOUND)
    assert_polite(r, str(path), text)
    if r.code == 150:
        assert "error[E024]" in r.err or "error[" in r.err, r.err


@st.composite
def symmetric_model(draw: st.DrawFn) -> str:
    """Symmetric types of up to 8 values beside states of up to 20,000 slots."""
    values = draw(st.integers(1, 8))
    second = draw(st.sampled_from([0, 0, 2, 3]))
    width = draw(st.sampled_from([1, 10, 400, 3000]))
    arrays = draw(st.integers(1, 6))
    decls = [f"symmetric type T = 0..{values - 1};", "var t: T = any;"]
    if second:
        decls += [f"symmetric type U = 0..{second - 1};", "var u: U = any;"]
    decls += [f"var a{i}: array[0..{width - 1}] of bool = [k in 0..{width - 1}: false];" for i in range(arrays)]
    decls += ["var seen: array[T] of bool = [v in T: false];", "action a(v in T) { t := v; seen[v] := true; }",
              "terminal done: true;"]
    return "\n".join(decls) + "\n"


@settings(FUZZ, max_examples=EXAMPLES or 20)
@given(symmetric_model())
def test_symmetry_tables(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = write_model(tmp_path_factory.mktemp("sym"), text, "m.qdl")
    r = run_cli(["check", path, *LIMITS], bound=BOUND)
    assert_polite(r, str(path), text)


@settings(FUZZ, max_examples=EXAMPLES or 12)
@given(st.integers(1, 1000), st.booleans())
def test_chains_of_used_files(tmp_path_factory: pytest.TempPathFactory, n: int, cycle: bool) -> None:
    d = tmp_path_factory.mktemp("chain")
    for i in range(n):
        nxt = (i + 1) % n if cycle else i + 1
        use = f'use "f{nxt}.qdl";\n' if cycle or i + 1 < n else ""
        body = "var x: 0..3 = 0;\naction a when x < 3 { x := x + 1; }\nterminal t: true;\n" if i == 0 else ""
        (d / f"f{i}.qdl").write_text(f"{use}const C{i} = {i};\n{body}")
    r = run_cli(["check", d / "f0.qdl", *LIMITS], bound=BOUND)
    assert_polite(r)
    assert r.code == (150 if cycle else 0), r.err


# -------------------------------------------------------------------------- special files

KINDS = ["dev-zero", "dev-null", "dev-urandom", "fifo", "directory", "socket", "link-to-dev-zero",
         "link-to-fifo", "link-loop", "missing", "huge", "empty"]
ROLES = ["model", "used-file", "manifest", "manifest-model", "trace", "hook-spec"]
GOOD = "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\nterminal t: x == 3;\ninvariant small: x < 5;\n"


def special(directory: Path, kind: str, name: str) -> Path:
    """A file of the given kind at `directory / name` (or a device itself)."""
    path = directory / name
    if kind == "dev-zero":
        return Path("/dev/zero")
    if kind == "dev-null":
        return Path("/dev/null")
    if kind == "dev-urandom":
        return Path("/dev/urandom")
    if kind == "fifo":
        os.mkfifo(path)  # nobody ever writes to it
    elif kind == "directory":
        path.mkdir()
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))  # left bound: nobody accepts
    elif kind == "link-to-dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "link-to-fifo":
        os.mkfifo(directory / f"{name}.fifo")
        path.symlink_to(directory / f"{name}.fifo")
    elif kind == "link-loop":
        path.symlink_to(path)
    elif kind == "huge":
        with open(path, "wb") as f:
            f.truncate(64 * 1024 * 1024)
    elif kind == "empty":
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_special_files(tmp_path: Path, kind: str, role: str) -> None:
    d = tmp_path / "p"
    d.mkdir()
    good = write_model(d, GOOD, "good.qdl")
    if role == "model":
        argv: list[object] = ["check", special(d, kind, "x.qdl"), *LIMITS]
    elif role == "used-file":
        target = special(d, kind, "x.qdl")
        argv = ["check", write_model(d, f'use "{target}";\n' + GOOD, "m.qdl"), *LIMITS]
    elif role == "manifest":
        argv = ["regress", special(d, kind, "m.toml"), "--backend", "python"]
    elif role == "manifest-model":
        target = special(d, kind, "x.qdl")
        (d / "m.toml").write_text(f'[[run]]\nname = "r"\nmodel = "{target}"\nexpect = {{ small = "holds" }}\n')
        argv = ["regress", d / "m.toml", "--allow-outside", "--backend", "python", "--time-limit", "3"]
    elif role == "trace":
        argv = ["replay", special(d, kind, "t.itf.json"), good]
    else:
        argv = ["hook", special(d, kind, "x.qdl"), "--model", ROOT / "models" / "v2_blkfront_blkback.qdl",
                "--backend", "python", "--max-states", "50"]
    r = run_cli(argv, bound=BOUND)
    assert_polite(r)
    assert r.seconds < 15, r.seconds
    # an empty model or file checks (or fails to) as text; anything else is refused
    if kind != "empty" and not (kind == "dev-null" and role in ("model", "used-file", "hook-spec")):
        assert r.code in (1, 150, 151), (r.code, r.err)
