"""Untrusted models stay inert: names crafted to look like Python or C, and the one string QDL
has (the file name in `use "..."`), neither execute nor change the generated code.

The strongest form of "no model text reaches the code": a model and the same model with every
name replaced by a plain one generate byte-identical Python and C.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from quiesce_check.build import build_file, build_text
from quiesce_check.compile.cgen import compiler, generate_c
from quiesce_check.engines import breadth_first
from quiesce_check.engines.result import NullReporter, Options, Verdict
from quiesce_check.lang.errors import ModelError
from tests.conftest import ROOT

# Python builtins and dunders, names of the generated code's own variables and helpers, C keywords,
# macros and library functions, and a very long name.
HOSTILE = ["__import__", "exec", "eval", "os", "system", "open", "globals", "__builtins__", "__class__", "s", "out",
           "_R", "_T", "c0", "t1", "g2", "pc", "lambda", "yield", "None", "True", "int", "return", "main", "NULL",
           "errno", "stdin", "INT64_MAX", "NSLOTS", "NWORDS", "NACT1", "memcpy", "free", "malloc", "qadd", "chk",
           "unpack", "pack", "expand", "emit", "insert", "goto", "static", "void", "unsigned", "sizeof", "typedef",
           "define", "__LINE__", "_Bool", "val", "err", "ctx_t", "FIELDS", "HI", "T0", "printf", "x" * 5000]

TEMPLATE = """
param {0} = 2;
const {1} = {0} + 1;
type {2} = 0..{1};
type {3} = enum {{ {4}, {5}, {6} }};
type {7} = record {{ {8}: {2}, {9}: bool }};
var {10}: array[0..{0}] of {2} = [{11} in 0..{0}: 0];
var {12}: {3} = {4};
var {13}: {7} = {{ {8}: 0, {9}: false }};
def {14}({15}: {2}) = {15} < {1};
process {16}[{17} in 0..1] {{
    var {18}: bool = false;
    {19}: while {14}({10}[{17}]) {{
        {10}[{17}] := {10}[{17}] + 1;
        {18} := not {18};
    }}
    {12} := {5};
}}
action {20}({21} in {3}) when {12} == {5} and {21} == {6} {{ {12} := {21}; {13}.{9} := true; }}
invariant {22}: forall {23} in 0..{0}: {10}[{23}] <= {1};
invariant {24}: {12} != {6} or {13}.{9};
reachable {25}: {12} == {6};
reachable {26}: {16}[0]@{19};
terminal {27}: {12} == {6};
"""
SLOTS = 28


def model_text(names: list[str]) -> str:
    return TEMPLATE.format(*names)


def plain() -> list[str]:
    return [f"n{k}" for k in range(SLOTS)]


def hostile(offset: int) -> list[str]:
    return [HOSTILE[(offset + k) % len(HOSTILE)] for k in range(SLOTS)]


def sources(text: str) -> tuple[str, str]:
    built = build_text(text, "m.qdl")
    return built.model.source, generate_c(built.program)[0]


@pytest.mark.parametrize("offset", range(0, len(HOSTILE), 7))
def test_crafted_names_generate_the_same_code_as_plain_ones(offset):
    names = hostile(offset)
    if len(set(names)) < SLOTS:
        pytest.skip("names repeat")
    assert sources(model_text(names)) == sources(model_text(plain()))


@pytest.mark.parametrize("offset", [0, 21, 42])
@pytest.mark.parametrize("backend", ["python", pytest.param("native", marks=pytest.mark.skipif(
    compiler() is None, reason="no C compiler"))])
def test_crafted_names_check_like_plain_ones(offset, backend):
    names = hostile(offset)
    a = breadth_first(build_text(model_text(names), "m.qdl").model, Options(backend=backend), NullReporter())
    b = breadth_first(build_text(model_text(plain()), "m.qdl").model, Options(backend=backend), NullReporter())
    assert a.verdict == b.verdict and a.verdict is Verdict.HOLDS
    assert a.stats.distinct == b.stats.distinct and a.stats.generated == b.stats.generated


def test_the_generated_python_names_nothing_but_its_own():
    # every identifier in the generated code is one the generator made
    source, c_source = sources(model_text(hostile(0)))
    names = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    names |= {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
    names |= {a.arg for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) for a in n.args.args}
    allowed = re.compile(r"^(_R|_T|_a\d+|c\d+|s|out|pc|t\d*|v\d*|i\d*|k\d*|g\d*|n\d*|tuple|list|range|"
                         r"successors|violations|reached|final_violations|end_reached|is_terminal|temporal|"
                         r"step_violations|\w{1,3}\d*)$")
    assert all(allowed.match(n) for n in names), sorted(n for n in names if not allowed.match(n))
    assert "__import__" not in source and "x" * 100 not in source and "x" * 100 not in c_source


def test_no_model_is_ever_evaluated():
    # the only `exec` in the package runs the code generated from the IR; there is no `eval`
    calls = []
    for path in sorted((ROOT / "quiesce_check").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                calls.append((path.relative_to(ROOT).as_posix(), node.func.id))
    assert calls == [("quiesce_check/compile/pygen.py", "exec")]


# ------------------------------------------------------------------ the file name in `use "..."`

LIB = ("param WIDTH = 2;\nvar shared: 0..WIDTH = 0;\naction bump when shared < WIDTH { shared := shared + 1; }\n"
       "terminal done: shared == WIDTH;\n")
USER = 'use "{0}"(WIDTH = 3);\ninvariant small: shared <= 3;\nreachable full: shared == 3;\n'

ODD_NAMES = ["lib.qdl", "two words.qdl", "back\\slash.qdl", "$(touch pwned).qdl", "`id`.qdl", "%s%n{0}.qdl",
             "__import__('os').system('touch pwned').qdl", "');exec('x.qdl", "*/ x; /*.qdl", "é\u202e.qdl",
             "sub/../lib2.qdl", "./sub/./deep.qdl"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_a_use_path_is_only_a_file_name(tmp_path, name):
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(LIB)
    (tmp_path / "sub").mkdir(exist_ok=True)
    model = tmp_path / "m.qdl"
    model.write_text(USER.format(name))
    built = build_file(str(model))
    r = breadth_first(built.model, Options(backend="auto"), NullReporter())
    assert r.verdict is Verdict.HOLDS and r.stats.distinct == 4
    # the name reached no code, and nothing ran
    plain_built = build_text(LIB.replace("param WIDTH = 2;", "param WIDTH = 3;") + USER.split(";\n", 1)[1], "p.qdl")
    assert built.model.source == plain_built.model.source
    assert generate_c(built.program)[0] == generate_c(plain_built.program)[0]
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


@pytest.mark.parametrize("name", ["/etc/passwd", "notes.txt", "", "sub", "dir.qdl", "fifo.qdl", "/dev/zero"])
def test_a_use_path_names_only_regular_qdl_files(tmp_path, name):
    # what a model reads can be quoted in a diagnostic: only QDL files, never a device or a pipe
    root = tmp_path / "project"
    (root / "sub").mkdir(parents=True)
    (root / "dir.qdl").mkdir()
    (root / "notes.txt").write_text("secret\n")
    os.mkfifo(root / "fifo.qdl")
    model = root / "m.qdl"
    model.write_text(USER.format(name))
    with pytest.raises(ModelError) as e:
        build_file(str(model))
    (d,) = e.value.diagnostics
    assert d.code == "E014" and d.span is not None and d.span.line == 1
    assert "secret" not in d.message


def test_a_use_path_may_lead_anywhere_the_user_may_read(tmp_path):
    # it reads with the user's own permissions: `..` and links are ordinary paths
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "lib.qdl").write_text(LIB)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "link.qdl").symlink_to(tmp_path / "shared" / "lib.qdl")
    for target in ("../shared/lib.qdl", "link.qdl", str(tmp_path / "shared" / "lib.qdl")):
        model = tmp_path / "project" / "m.qdl"
        model.write_text(USER.format(target))
        r = breadth_first(build_file(str(model)).model, Options(backend="python"), NullReporter())
        assert r.verdict is Verdict.HOLDS and r.stats.distinct == 4
