"""`use` and `override`: what a model brings in, what it replaces, and the errors of both."""

from __future__ import annotations

from pathlib import Path

import pytest

from quiesce_check.build import build_file, build_text
from quiesce_check.engines.bfs import bfs
from quiesce_check.lang import ast as A
from quiesce_check.lang.errors import ModelError

LIB = """
param N = 2;
const LIMIT = N + 1;
type Count = 0..LIMIT;
var n: Count = 0;
protected var log: 0..9 = 0;
default def may_step = n < N;
default proc step() { n := n + 1; note(); }
proc note() { log := (log + 1) % 10; }
default var mode: bool = false;
default process Stepper { while may_step { step(); } }
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def codes(path: Path, params: dict | None = None) -> list[tuple[str, int, int]]:
    with pytest.raises(ModelError) as e:
        build_file(str(path), params)
    return [(d.code, d.span.line if d.span else 0, d.span.col if d.span else 0) for d in e.value.diagnostics]


def test_use_splices_a_file_and_sets_its_parameters(tmp_path):
    write(tmp_path, "lib.qdl", LIB)
    m = write(tmp_path, "m.qdl", 'use "lib.qdl"(N = 3);\ninvariant small: n <= 3;\nreachable top: n == 3;\n')
    built = build_file(str(m))
    assert built.checked.params == {"N": 3}
    r = bfs(built.model)
    # n = 0, 1, 2, 3 at the loop, then the loop's exit to the end of the process
    assert r.verdict.value == "holds" and r.stats.distinct == 5
    # --param still overrides what the `use` line set
    assert build_file(str(m), {"N": 1}).checked.params == {"N": 1}


def test_override_replaces_defaults_in_place(tmp_path):
    write(tmp_path, "lib.qdl", LIB)
    m = write(tmp_path, "m.qdl", """use "lib.qdl";
override def may_step = n < 2 and mode;
override var mode = true;
override proc step() { n := n + 2; }
invariant even: n % 2 == 0;
invariant quiet: log == 0;
""")
    built = build_file(str(m))
    r = bfs(built.model)
    # n = 0, then 2 (the override of `step` adds 2 and no longer calls `note`, so `log` stays 0),
    # then the loop's exit; with `mode` false as declared, the loop would not run at all
    assert r.verdict.value == "holds" and r.stats.distinct == 3
    decls = {d.name: d for d in built.ast.decls if hasattr(d, "name")}
    assert isinstance(decls["mode"], A.VarDecl) and decls["mode"].type is not None


def test_override_of_a_process(tmp_path):
    write(tmp_path, "lib.qdl", LIB)
    m = write(tmp_path, "m.qdl", 'use "lib.qdl";\noverride process Stepper { step(); step(); step(); }\n'
                                 'reachable three: n == 3;\n')
    r = bfs(build_file(str(m)).model)
    assert r.verdict.value == "holds" and r.stats.distinct == 4


@pytest.mark.parametrize(("text", "expected"), [
    ('use "nowhere.qdl";\n', ("E014", 1, 1)),
    ("use nonesuch;\n", ("E014", 1, 1)),
    ('use "lib.qdl"(M = 3);\n', ("E015", 1, 15)),
    ('use "lib.qdl";\noverride def nothing = true;\n', ("E015", 2, 1)),
    ('use "lib.qdl";\noverride proc note() { skip; }\n', ("E015", 2, 1)),          # not declared `default`
    ('use "lib.qdl";\noverride def step = true;\n', ("E015", 2, 1)),               # a proc, not a def
    ('use "lib.qdl";\ndef may_step = true;\n', ("E010", 2, 1)),                    # needs `override`
    ('use "lib.qdl";\noverride def may_step = true;\noverride def may_step = false;\n', ("E010", 3, 1)),
    ('use "lib.qdl";\naction a { log := 1; }\n', ("E034", 2, 12)),                 # protected
    ('use "lib.qdl";\noverride proc step() { log := 0; }\n', ("E034", 2, 24)),    # an override is model code
    ('use "lib.qdl"(N = true);\n', ("E020", 3, 15)),   # a bool where the library adds to it
])
def test_errors(tmp_path, text, expected):
    write(tmp_path, "lib.qdl", LIB)
    assert expected in codes(write(tmp_path, "m.qdl", text))


# a model that declares a used file's `default` again without `override`: the declaration of the
# model's to change (a line of its own text), and what the hint must tell it to do
FORGOTTEN_OVERRIDE = {
    "plain": ('use "lib.qdl";\ndef may_step = true;\n', "def may_step = true;",
              "write `override def may_step"),
    "of a process": ('use "lib.qdl";\nprocess Stepper { step(); }\n', "process Stepper { step(); }",
                     "write `override process Stepper"),
    # the model's own `default`, before the `use` that brings the library's: the model's is the one
    # to change, not the library's
    "before the use": ('default def may_step = true;\nuse "lib.qdl";\n', "default def may_step = true;",
                       "write `override def may_step"),
    # with an override already there, writing `override` again is not the fix
    "beside an override": ('use "lib.qdl";\noverride def may_step = true;\ndef may_step = false;\n',
                           "def may_step = false;", "already overridden"),
}


@pytest.mark.parametrize("case", sorted(FORGOTTEN_OVERRIDE))
def test_a_default_declared_again_without_override_is_one_error_with_the_hint_that_fits(tmp_path, case):
    text, line_text, hint = FORGOTTEN_OVERRIDE[case]
    write(tmp_path, "lib.qdl", LIB)
    m = write(tmp_path, "m.qdl", text)
    with pytest.raises(ModelError) as e:
        build_file(str(m))
    (d,) = e.value.diagnostics
    assert d.code == "E010" and d.span is not None
    assert (d.span.path, d.span.line, d.span.col) == (str(m), text.split("\n").index(line_text) + 1, 1)
    assert d.hint is not None and hint in d.hint


def test_forgetting_override_of_a_xen_step_is_one_error_that_says_to_write_it():
    text = ("use xen(PAGES = 1, WORDS = 1, MAXVAL = 1);\n"
            "proc hypervisor_final_clean() { read_bitmap(); }\n"
            "check image_consistent;\n")
    with pytest.raises(ModelError) as e:
        build_text(text, "m.qdl")
    (d,) = e.value.diagnostics
    assert (d.code, d.span.path if d.span else None, d.span.line if d.span else 0) == ("E010", "m.qdl", 2)
    assert d.hint == "write `override proc hypervisor_final_clean ...` to replace the default"
    ((what, default),) = d.related
    assert what == "the default" and default.path.endswith("xen.qdl")


def test_a_file_that_uses_itself(tmp_path):
    write(tmp_path, "a.qdl", 'use "b.qdl";\n')
    write(tmp_path, "b.qdl", 'use "a.qdl";\nvar x: bool = true;\n')
    assert ("E014", 1, 1) in codes(tmp_path / "a.qdl")


def test_a_second_use_of_the_same_file_is_one_use(tmp_path):
    write(tmp_path, "lib.qdl", LIB)
    write(tmp_path, "mid.qdl", 'use "lib.qdl";\n')
    m = write(tmp_path, "m.qdl", 'use "lib.qdl"(N = 1);\nuse "mid.qdl";\nreachable one: n == 1;\n')
    assert bfs(build_file(str(m)).model).stats.distinct == 3  # one Stepper: n = 0, n = 1, the end
    bad = write(tmp_path, "bad.qdl", 'use "lib.qdl";\nuse "lib.qdl"(N = 1);\n')
    assert ("E015", 2, 1) in codes(bad)


def test_errors_in_a_used_file_point_into_it(tmp_path):
    write(tmp_path, "lib.qdl", "var x: 0..3 = 9;\n")
    m = write(tmp_path, "m.qdl", 'use "lib.qdl";\naction a { x := 1; }\n')
    with pytest.raises(ModelError) as e:
        build_file(str(m))
    (d,) = e.value.diagnostics
    assert d.code == "E021" and d.span is not None and d.span.path.endswith("lib.qdl")
