"""Hostile inputs that once crashed, hung or misled quiesce-check, each pinned with its cause.

Every case runs the real command line and holds it to the README's contract (`assert_polite`):
an exit code from the table, no traceback, a message on one screen, and, here, a time bound.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from quiesce_check.compile.cgen import compiler
from tests.cli.fuzzing import assert_polite, run_cli, write_model
from tests.conftest import ROOT

native = pytest.mark.skipif(compiler() is None, reason="no C compiler")


def check(tmp_path: Path, text: str, *extra: object, bound: float = 60) -> tuple[int, str]:
    path = write_model(tmp_path, text, "m.qdl")
    r = run_cli(["check", path, *extra], bound=bound)
    assert_polite(r, str(path), text)
    return r.code, r.out + r.err


def located(text: str, code: str, line: int) -> bool:
    return re.search(rf"m\.qdl:{line}:\d+: error\[{code}\]", text) is not None


def test_an_integer_literal_too_long_to_convert(tmp_path):
    # FIXED: a literal of more than 4,300 digits raised ValueError inside Lark's callbacks: exit 153
    code, text = check(tmp_path, f"var x: 0..{'9' * 5000} = 0;\naction a {{ skip; }}\n")
    assert code == 150 and located(text, "E001", 1) and "5000 digits" in text


def test_a_constant_too_large_to_print(tmp_path):
    # FIXED: the product of long literals (5,000 digits) reached str() in a message: exit 153
    big = "1" + "0" * 999
    code, text = check(tmp_path, f"const C = {big} * {big} * {big} * {big} * {big};\nvar x: 0..C = 0;\n"
                                 "action a { x := 0; }\n")
    assert code == 150 and located(text, "E023", 1)


def test_a_value_too_large_to_compute(tmp_path):
    # FIXED: `x := C * C * ...` at run time: an internal error printing the value, and no bound on its cost
    big = "1" + "0" * 999
    code, text = check(tmp_path, f"const C = {big};\nvar x: 0..3 = 0;\naction a {{ x := C * C * C * C * C; }}\n")
    assert code == 150 and located(text, "E024", 3)


CHAINS = {"not": "not {}b", "sum": "x{} > 0", "implies": "{}b", "else-if": "({}2) > 0", "minus": "{}x > -5"}
LINKS = {"not": "not ", "sum": " + x", "implies": "b => ", "else-if": "if b then 1 else ", "minus": "- "}


@pytest.mark.parametrize("kind", sorted(CHAINS))
@pytest.mark.parametrize("backend", ["python", pytest.param("native", marks=native)])
def test_long_unbracketed_chains(tmp_path, kind, backend):
    # FIXED: `not not ...`, `x + x + ...`, `a => b => ...` nested one parenthesis per operator in the
    # generated Python, which refuses more than 200: SyntaxError, exit 153
    chain = CHAINS[kind].format(LINKS[kind] * 150)
    code, text = check(tmp_path, f"var x: 0..3 = 0;\nvar b: bool = false;\naction a when {chain} {{ skip; }}\n"
                                 "terminal t: true;\n", "--backend", backend)
    assert code == 0, text


@pytest.mark.parametrize("kind", sorted(CHAINS))
def test_chains_too_long_to_process(tmp_path, kind):
    # FIXED: a chain of 400 operators ran out of Python's recursion in a later stage: "nested too
    # deeply" with no location; now refused where the parse tree passes 200 levels
    chain = CHAINS[kind].format(LINKS[kind] * 400)
    code, text = check(tmp_path, f"var x: 0..3 = 0;\nvar b: bool = false;\naction a when {chain} {{ skip; }}\n")
    assert code == 150 and located(text, "E001", 3) and "200 levels" in text


def test_one_broken_declaration_gives_one_screen(tmp_path):
    # FIXED: deleting `param NPAGES` gave a hundred follow-on errors; and "`Page` is a type, not a type"
    text = (ROOT / "models" / "precopy_backend.qdl").read_text().replace("param NPAGES = 2;", "")
    code, out = check(tmp_path, text)
    assert code == 150 and "more errors" in out
    assert "is a type, not a type" not in out


def test_a_state_too_wide(tmp_path):
    # FIXED: sixty arrays of 16,384 values each passed every check and then took minutes to build
    decls = "".join(f"var v{i}: array[0..16383] of bool = [k in 0..16383: false];\n" for i in range(8))
    code, text = check(tmp_path, decls + "action a { v0[0] := true; }\n", bound=30)
    assert code == 150 and located(text, "E024", 1) and "131072 scalar values" in text


def test_too_many_process_instances(tmp_path):
    # FIXED: 60,001 instances of a process: code generation quadratic in the state's width, over 5 minutes
    code, text = check(tmp_path, "process P[i in 0..60000] { skip; }\n", bound=30)
    assert code == 150 and located(text, "E024", 1)


def test_a_step_with_billions_of_successors(tmp_path):
    # FIXED: two parameters over 0..65535: one expansion took gigabytes (Python: until the machine ran out)
    code, text = check(tmp_path, "var x: 0..65535 = 0;\naction a(p in 0..65535, q in 0..65535) { x := p; }\n",
                       "--time-limit", "2", bound=30)
    assert code == 150 and located(text, "E024", 2)


@native
def test_quantifiers_over_thousands_of_values(tmp_path):
    # FIXED: `a[i]` in a quantifier over 4,096 values rebuilt the array's slot list per `i`: minutes of lowering
    acts = "".join(f"action t{n} when forall i in 0..4095: not a[i] or x == 0 {{ x := 1 - x; }}\n" for n in range(3))
    code, text = check(tmp_path, "var a: array[0..4095] of bool = [k in 0..4095: false];\nvar x: 0..1 = 0;\n" + acts
                       + "terminal t: true;\n", "--max-states", "10", bound=90)
    assert code == 0, text


@native
def test_a_wide_state_in_c(tmp_path):
    # FIXED: 16,384 slots unrolled into pack/unpack: the C compiler took minutes; now a loop over a table
    code, text = check(tmp_path, "var a: array[0..16383] of 0..3 = [k in 0..16383: 0];\n"
                                 "action inc(i in 0..3) when a[i] < 3 { a[i] := a[i] + 1; }\nterminal t: true;\n",
                       "--backend", "native", bound=60)
    assert code == 0 and "native" in text


@native
@pytest.mark.parametrize("flag", ["--max-depth", "--max-states"])
def test_limits_beyond_64_bits_are_no_limits(tmp_path, flag):
    # FIXED: ctypes wrapped 2**64 around to 0: `--max-depth 18446744073709551616` stopped at depth 0
    code, text = check(tmp_path, (ROOT / "examples" / "peterson.qdl").read_text(), flag, str(2 ** 64 + 5),
                       "--backend", "native")
    assert code == 0, text


def test_a_diagnostic_far_along_a_long_line_stays_on_screen(tmp_path):
    # FIXED: the caret line of a spot at column 2,500 was 2,500 characters wide
    code, text = check(tmp_path, "var x: 0..3 = 0;\naction a when " + "x + " * 600 + "true { skip; }\n")
    assert code == 150
    line, caret = [s for s in text.splitlines() if s.lstrip().startswith(("2 |", "|"))][:2]
    assert len(line) < 260 and len(caret) < 260
    assert caret.index("^") < len(line)


def test_a_model_that_reads_a_device(tmp_path):
    # FIXED: `check /dev/zero` read forever: the size check trusted stat(), which says 0
    r = run_cli(["check", "/dev/zero"], bound=30)
    assert_polite(r)
    assert r.code == 151 and "E004" in r.err


@native
def test_a_time_limit_with_a_million_successors_a_state(tmp_path):
    # FIXED: the compiled search looked at the clock every 32,768 expansions, here 3 * 10^10 successors
    start = time.perf_counter()
    code, text = check(tmp_path, "var x: 0..1023 = 0;\nvar y: 0..1023 = 0;\n"
                                 "action a(p in 0..1023, q in 0..1023) { x := p; y := q; }\n",
                       "--time-limit", "1", "--backend", "native", bound=60)
    assert code == 20 and "--time-limit 1s" in text
    assert time.perf_counter() - start < 15


def test_a_parameter_that_unrolls_into_exponential_code(tmp_path):
    # FIXED: `--param NREQ=20` on the shipped model took 100 s and 16 GB: an `if` in an unrolled
    # `for` repeated all the code after it in both branches, doubling it per iteration
    r = run_cli(["check", ROOT / "models" / "precopy_backend.qdl", "--param", "NREQ=64", "--max-states", "100",
                 "--no-coverage"], bound=60)
    assert_polite(r)
    assert r.code == 20 and r.seconds < 30


def test_choices_one_after_another_are_bounded(tmp_path):
    # what follows an `either` is still written once per branch: twenty of them in a row would be
    # a million copies, refused before any code is generated
    code, text = check(tmp_path, "var y: 0..40 = 0;\nprocess P { atomic { "
                       + "either { y := y + 1; } or { skip; } " * 20 + "} }\n", bound=30)
    assert code == 150 and located(text, "E024", 2) and "generated code" in text


@pytest.mark.parametrize("engine", ["bfs", "bmc", "induction"])
def test_a_step_that_fails_in_the_initial_state(tmp_path, engine):
    # FIXED (found by fuzzing bmc): the solver saw another action fire in the initial state, where a
    # step fails; the compiled model, which stops at the failure, could not confirm it: exit 153
    code, text = check(tmp_path, "var big: 0..5 = 0;\nvar small: 0..3 = 0;\naction fill { small := 3; }\n"
                                 "action spill { small := -1; }\ninvariant i: big != 4;\n", "--engine", engine)
    assert code == 75, text


@pytest.mark.parametrize("param", ["PAGES=x", "RECOVERY=Foo", "drain=3"])
def test_an_ill_typed_parameter_gives_one_error(param):
    # FIXED: `--param PAGES=x` on a model of the Xen vocabulary was followed by a dozen errors
    # inside the vocabulary (the parameter was left undefined rather than at its default)
    r = run_cli(["check", ROOT / "models" / "s15_quiesce_handshake.qdl", "--param", param])
    assert_polite(r)
    assert r.code == 151
    assert r.err.count("error[") == 1, r.err
    assert f"--param {param}" in r.err


def test_nested_quantifiers_are_bounded_by_their_product(tmp_path):
    # FIXED: each quantifier was held to 4,096 values, but two nested over 512 unrolled into
    # 262,144 terms: minutes and gigabytes before anything was checked
    text = ("param N = 511;\nvar x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\n"
            "action rst when x == 3 { x := 0; }\n"
            "invariant far: forall i in 0..N: forall j in 0..N: i + j + x != 9000;\n")
    path = write_model(tmp_path, text)
    r = run_cli(["check", path], bound=30)
    assert_polite(r, str(path), text)
    assert r.code == 150 and "error[E024]" in r.err and "262,144 copies" in r.err
    assert f"{path}:5:34:" in r.err  # the inner quantifier
    r = run_cli(["check", path, "--param", "N=63", "--backend", "python"], bound=60)
    assert r.code == 0, r.err


@native
def test_a_compile_given_up_on_is_said_so_and_not_tried_again(tmp_path, monkeypatch):
    from quiesce_check.compile import cgen

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cgen, "_COMPILE_SECONDS", 0.001)
    path = write_model(tmp_path, "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\n")
    r = run_cli(["check", path, "--backend", "native", "--no-deadlock"])
    assert r.code == 151 and "took longer than 0.001 s" in r.out + r.err, r.out + r.err
    assert list((tmp_path / "cache" / "quiesce-check").glob("qc_*.timeout"))
    r = run_cli(["check", path, "--backend", "native", "--no-deadlock"])
    assert "on this model's C before" in r.out + r.err
    r = run_cli(["check", path, "--no-deadlock"])  # the default backend runs it in Python instead
    assert r.code == 0


def test_a_model_cannot_clear_the_screen_and_print_a_fake_verdict(tmp_path):
    # FIXED: a comment on a line with an error reached the terminal raw under the diagnostic:
    # "\x1b[2J\x1b[H" cleared the screen and the rest printed "Verdict: holds (exit 0)" in green
    text = "var x: 0..3 = y; // \x1b[2J\x1b[H\x1b[1;32mVerdict: holds (exit 0)\x1b[0m\n"
    code, shown = check(tmp_path, text)
    assert code == 150 and located(shown, "E011", 1)
    assert "\x1b" not in shown and "// \\x1b[2J\\x1b[H\\x1b[1;32mVerdict" in shown
    caret = shown.splitlines()[2]
    assert caret.index("^") == shown.splitlines()[1].index("y;")  # the caret still under `y`


def _held(d: Path) -> bool:
    import fcntl
    import os

    try:
        fd = os.open(d / ".lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_two_runs_on_one_checkpoint_folder(tmp_path):
    # FIXED: two searches saved into one folder, both said "saved", and only the last survived, so
    # `resume` went on with the other model's search; now the folder is held by one run at a time
    import subprocess
    import sys

    big = write_model(tmp_path, "var a: 0..1000 = 0;\nvar b: 0..1000 = 0;\naction i when a < 1000 { a := a + 1; }\n"
                                "action j when b < 1000 { b := b + 1; }\nterminal t: true;\n", "big.qdl")
    small = write_model(tmp_path, "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\nterminal t: true;\n",
                        "small.qdl")
    d = tmp_path / "ck"
    first = subprocess.Popen([sys.executable, "-m", "quiesce_check", "check", str(big), "--checkpoint", str(d),
                              "--time-limit", "2", "--backend", "python", "--no-coverage"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not _held(d) and time.monotonic() < deadline:
            time.sleep(0.05)
        r = run_cli(["check", small, "--checkpoint", d, "--backend", "python"])
        assert_polite(r)
        assert r.code == 151 and "in use by another run" in r.err, r.out + r.err
        r = run_cli(["resume", d, "--backend", "python"])
        assert r.code == 151 and "in use by another run" in r.err, r.out + r.err
        out, err = first.communicate(timeout=60)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 20 and "saved" in out, out + err
    from quiesce_check.engines.checkpoint import Checkpoint

    assert Checkpoint(d).meta["model"] == str(big.resolve())  # the first run's search, whole
