"""The command line: exit codes, diagnostics, --json, limits, the random engine.

Every expected number here comes from the model's text (see the comment at the
top of each fixture under tests/cli/models), never from the output checked.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from quiesce_check.cli import main
from quiesce_check.engines import ENGINES
from quiesce_check.engines.result import Options
from quiesce_check.lang.errors import CODES

MODELS = Path(__file__).parent / "models"
REPO = Path(__file__).resolve().parents[2]
PRECOPY = REPO / "models" / "precopy_backend.qdl"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> Run:
    """`quiesce-check ARGV` in-process; no output may ever hold a traceback."""
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out and "Traceback" not in cap.err, cap.out + cap.err
    return Run(code, cap.out, cap.err)


def model(name: str) -> str:
    return str(MODELS / name)


def check_json(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, *extra: object) -> tuple[Run, dict]:
    out = tmp_path / f"{Path(name).stem}.result.json"
    r = run(capsys, "check", model(name), "--json", out, *extra)
    return r, json.loads(out.read_text())


# ---------------------------------------------------------------- exit codes

@pytest.mark.parametrize(("name", "extra", "code", "verdict"), [
    ("counter.qdl", [], 0, "holds"),
    ("grid.qdl", [], 0, "holds"),
    ("interleave.qdl", [], 0, "holds"),        # processes that all end: a proper end, not a deadlock
    ("deadlock.qdl", [], 11, "deadlock"),
    ("deadlock.qdl", ["--no-deadlock"], 0, "holds"),
    ("invariant.qdl", [], 12, "violated"),
    ("assert.qdl", [], 14, "assertion failed"),
    ("out_of_range.qdl", [], 75, "model error"),
    ("bad_index.qdl", [], 75, "model error"),
    ("div_zero.qdl", [], 75, "model error"),
    ("vacuous.qdl", [], 21, "vacuous"),
    ("counter.qdl", ["--param", "N=10", "--max-states", "5"], 20, "incomplete"),
    ("counter.qdl", ["--param", "N=10", "--max-depth", "3"], 20, "incomplete"),
    ("counter.qdl", ["--engine", "random", "--walks", "5"], 20, "incomplete"),
    ("vacuous.qdl", ["--engine", "random", "--walks", "5"], 20, "incomplete"),  # random never says vacuous
    ("invariant.qdl", ["--engine", "dfs"], 12, "violated"),
    ("invariant.qdl", ["--engine", "random", "--seed", "3"], 12, "violated"),
])
def test_exit_codes(capsys, tmp_path, name, extra, code, verdict):
    r, doc = check_json(capsys, tmp_path, name, *extra)
    assert r.code == code
    assert doc["exit_code"] == code
    assert doc["verdict"] == verdict
    assert f"Verdict: {verdict} (exit {code})" in r.out


@pytest.mark.parametrize("backend", ["auto", "python"])
def test_time_limit_stops_a_large_search(capsys, tmp_path, backend):
    # big.qdl has 1001 ** 3 states: far more than 0.3 s of exploring. Its C search is compiled
    # first (and cached), so the limit falls in the search, not in the compiler
    run(capsys, "check", model("big.qdl"), "--max-states", "1", "--backend", backend)
    start = time.perf_counter()
    r, doc = check_json(capsys, tmp_path, "big.qdl", "--time-limit", "0.3", "--no-coverage", "--backend", backend)
    assert time.perf_counter() - start < 10
    assert r.code == 20
    assert doc["verdict"] == "incomplete" and doc["complete"] is False
    assert "--time-limit" in doc["limit"]
    assert 0 < doc["stats"]["distinct"] < 1001 ** 3


def test_limits_say_which_limit(capsys, tmp_path):
    _, doc = check_json(capsys, tmp_path, "counter.qdl", "--param", "N=10", "--max-states", "5")
    assert doc["limit"] == "--max-states 5"
    assert doc["stats"]["distinct"] == 5
    assert doc["complete"] is False
    assert all(p["status"] == "incomplete" for p in doc["properties"])
    _, doc = check_json(capsys, tmp_path, "counter.qdl", "--param", "N=10", "--max-depth", "3")
    assert doc["limit"] == "--max-depth 3"
    # depths 0..3 of the line 0..10: four states
    assert doc["stats"]["distinct"] == 4


def test_a_state_limit_of_zero_is_refused_everywhere(capsys, tmp_path):
    # FIXED: the C search read `--max-states 0` as no limit and explored everything, while the
    # Python searches stopped at once: it has no meaning, and is refused as `--time-limit 0` is
    for argv in (["check", model("counter.qdl")], ["check", model("counter.qdl"), "--backend", "python"],
                 ["resume", tmp_path], ["hook", REPO / "specs" / "hooks" / "andrew_2014.qdl", "--model",
                                        model("counter.qdl")]):
        r = run(capsys, *argv, "--max-states", "0")
        assert r.code == 151 and "--max-states: expected a number of states >= 1, got 0" in r.err
    with pytest.raises(ValueError):
        Options(max_states=0)


def test_an_invariant_cannot_take_the_deadlock_verdicts_name(capsys, tmp_path):
    # FIXED: the C search with --continue reported the invariant's violation as a deadlock (exit
    # 11), and a model that never deadlocks showed a "deadlock ... violated" row
    path = tmp_path / "m.qdl"
    path.write_text("var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\ninvariant deadlock: x < 2;\n")
    for extra in ([], ["--continue"], ["--backend", "python"], ["--engine", "bmc"]):
        r = run(capsys, "check", path, *extra)
        assert r.code == 150 and f"{path}:3:1: error[E013]: `deadlock` names the built-in deadlock verdict" in r.err
    path.write_text("var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\ninvariant dead: x < 2;\n")
    for backend in ("native", "python"):
        _, doc = check_json(capsys, tmp_path, str(path), "--continue", "--backend", backend)
        assert {p["name"]: p["status"] for p in doc["properties"]} == {"dead": "violated", "no deadlock": "violated"}
        assert {k: t["length"] for k, t in doc["traces"].items()} == {"dead": 2, "deadlock": 3}


def test_model_errors_come_with_the_trace_that_led_there(capsys, tmp_path):
    # third `inc` of 0..2: two completed steps, then the failing one
    r, doc = check_json(capsys, tmp_path, "out_of_range.qdl")
    t = doc["trace"]
    assert t["kind"] == "model-error" and t["length"] == 3
    assert [s["failed"] for s in t["steps"]] == [False, False, False, True]
    assert [(c["before"], c["after"]) for s in t["steps"][1:3] for c in s["changes"]] == [(0, 1), (1, 2)]
    assert "outside" in t["message"] and "0..2" in t["message"]
    assert "Counterexample (3 steps)" in r.out

    _, doc = check_json(capsys, tmp_path, "bad_index.qdl")
    assert doc["trace"]["kind"] == "model-error" and doc["trace"]["length"] == 3
    assert "index" in doc["trace"]["message"]

    _, doc = check_json(capsys, tmp_path, "div_zero.qdl")
    assert doc["trace"]["kind"] == "model-error" and doc["trace"]["length"] == 2
    assert "division by zero" in doc["trace"]["message"]
    # the first step did y := 1 / 1 and x := 1
    first = {c["name"]: (c["before"], c["after"]) for c in doc["trace"]["steps"][1]["changes"]}
    assert first == {"x": (2, 1), "y": (0, 1)}


# --------------------------------------------------------------- diagnostics

def diagnostic_lines(err: str) -> tuple[str, str, str]:
    lines = err.splitlines()
    head = next(i for i, line in enumerate(lines) if "error[" in line)
    return lines[head], lines[head + 1], lines[head + 2]


def assert_caret(source_line: str, caret_line: str, src: str, col: int, width: int) -> None:
    """The excerpt repeats the source line and puts `^~~` under columns col..col+width-1."""
    gutter = source_line.index(" | ") + 3
    assert source_line[gutter:] == src
    assert caret_line[gutter - 3:gutter] == " | "
    marks = caret_line[gutter:]
    assert marks.index("^") == col - 1
    assert marks.strip() == "^" + "~" * (width - 1)


def write(tmp_path: Path, text: str, name: str = "m.qdl") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_syntax_error(capsys, tmp_path):
    src = ["var x: 0..3 = 0;", "action inc when x < 3 {", "  x := x + ;", "}"]
    p = write(tmp_path, "\n".join(src) + "\n")
    r = run(capsys, "check", p)
    assert r.code == 150
    col = src[2].index(";") + 1
    head, line, caret = diagnostic_lines(r.err)
    assert head.startswith(f"{p}:3:{col}: error[E001]: ")
    assert_caret(line, caret, src[2], col, 1)


def test_type_error(capsys, tmp_path):
    src = ["var x: 0..3 = 0;", "var b: bool = false;", "action inc when x < 3 { x := b; }"]
    p = write(tmp_path, "\n".join(src) + "\n")
    r = run(capsys, "check", p)
    assert r.code == 150
    col = src[2].index("b;") + 1
    head, line, caret = diagnostic_lines(r.err)
    assert head.startswith(f"{p}:3:{col}: error[E021]: ")
    assert_caret(line, caret, src[2], col, 1)


def test_misspelt_name_has_a_hint(capsys, tmp_path):
    src = ["var counter: 0..3 = 0;", "action inc when counter < 3 {", "  counter := countr + 1;", "}"]
    p = write(tmp_path, "\n".join(src) + "\n")
    r = run(capsys, "check", p)
    assert r.code == 150
    col = src[2].index("countr ") + 1
    head, line, caret = diagnostic_lines(r.err)
    assert head.startswith(f"{p}:3:{col}: error[E011]: ")
    assert "countr" in head
    assert_caret(line, caret, src[2], col, len("countr"))
    assert "did you mean `counter`?" in r.err


@pytest.mark.parametrize(("text", "code", "line", "token"), [
    ("var x: 0..3 = 0;\naction a { x := 1 $ 2; }\n", "E003", 2, "$"),
    ("var x: 0..3 = 0;\nvar x: bool = false;\naction a { skip; }\n", "E010", 2, "var x: bool"),
    ("var x: 0..3 = 0;\naction a when x + 1 { skip; }\n", "E020", 2, "x + 1"),
    ("var x: 3..1 = 3;\naction a { skip; }\n", "E024", 1, "3..1"),
])
def test_more_diagnostics(capsys, tmp_path, text, code, line, token):
    assert code in CODES
    p = write(tmp_path, text)
    r = run(capsys, "check", p)
    assert r.code == 150
    col = text.splitlines()[line - 1].index(token) + 1
    head, _, _ = diagnostic_lines(r.err)
    assert head.startswith(f"{p}:{line}:{col}: error[{code}]: "), head


def test_unexpected_end_of_file(capsys, tmp_path):
    p = write(tmp_path, "var x: 0..3 = 0;\naction a {\n  x := 1;\n")
    r = run(capsys, "check", p)
    assert r.code == 150
    head, _, _ = diagnostic_lines(r.err)
    assert re.match(rf"{re.escape(str(p))}:\d+:\d+: error\[E002\]: ", head), head


def test_long_source_lines_are_not_wrapped(capsys, tmp_path):
    # FIXED: rich wrapped diagnostics at the console width (80 columns when not a terminal),
    # which split `path:line:col: error` and left the caret under the wrong character.
    name = "counter_with_a_rather_long_name"
    src = (f"action increment_it_by_one when {name} < 3 {{ {name} := "
           f"counter_with_a_rather_long_nme + 1; }}")
    p = write(tmp_path, f"var {name}: 0..3 = 0;\n{src}\n")
    r = run(capsys, "check", p)
    assert r.code == 150
    col = src.index("counter_with_a_rather_long_nme") + 1
    assert col > 80
    head, line, caret = diagnostic_lines(r.err)
    assert head.startswith(f"{p}:2:{col}: error[E011]: unknown name `counter_with_a_rather_long_nme`")
    assert_caret(line, caret, src, col, len("counter_with_a_rather_long_nme"))


# ------------------------------------------------------------ bad usage: 151

@pytest.mark.parametrize("argv", [
    [],
    ["frob"],
    ["check"],
    ["check", "{counter}", "--max-states", "x"],
    ["check", "{counter}", "--max-states", "-1"],
    ["check", "{counter}", "--max-depth", "1.5"],
    ["check", "{counter}", "--time-limit", "0"],
    ["check", "{counter}", "--time-limit", "nan"],
    ["check", "{counter}", "--engine", "nope"],
    ["check", "{counter}", "--frobnicate"],
    ["check", "{counter}", "--param", "N"],
    ["check", "{counter}", "--param", "=3"],
    ["check", "{counter}", "--param", "N=1.5"],
    ["check", "{counter}", "--param", "N=10000000000"],
    ["replay"],
    ["replay", "{tmp}/trace.json"],
])
def test_bad_command_lines(capsys, tmp_path, argv):
    argv = [a.format(counter=model("counter.qdl"), tmp=tmp_path) for a in argv]
    r = run(capsys, *argv)
    assert r.code == 151
    assert r.err.startswith("error: ")


def test_a_name_for_an_integer_parameter_is_refused_at_the_parameter(capsys):
    # a name may be an enum member; for an integer parameter the checker refuses it where it is declared
    r = run(capsys, "check", model("counter.qdl"), "--param", "N=abc")
    assert r.code == 151
    assert "error[E040]" in r.err and ":2:1:" in r.err


def test_unknown_param(capsys):
    r = run(capsys, "check", model("counter.qdl"), "--param", "M=3")
    assert r.code == 151
    assert "error[E040]" in r.err and "`M`" in r.err
    assert "N" in r.err  # says which parameters there are


def test_ill_typed_param(capsys):
    r = run(capsys, "check", model("counter.qdl"), "--param", "N=true")
    assert r.code == 151
    assert "error[E040]" in r.err


def test_param_that_empties_a_range_is_a_model_error(capsys):
    # the model itself is then ill-formed: 0..-1
    r = run(capsys, "check", model("counter.qdl"), "--param", "N=-1")
    assert r.code == 150
    assert "error[E024]" in r.err


@pytest.mark.parametrize("kind", ["missing", "directory", "binary", "nul", "latin1"])
def test_unreadable_model_files(capsys, tmp_path, kind):
    p = tmp_path / "m.qdl"
    if kind == "directory":
        p.mkdir()
    elif kind == "binary":
        p.write_bytes(bytes(range(256)) * 4)
    elif kind == "nul":
        p.write_text("var x: 0..1 = 0;\n\0\n")
    elif kind == "latin1":
        p.write_bytes("// caf\xe9\nvar x: 0..1 = 0;\n".encode("latin-1"))
    r = run(capsys, "check", p)
    assert r.code == 151
    assert "error[E004]" in r.err and str(p) in r.err


def test_unwritable_json_output(capsys, tmp_path):
    r = run(capsys, "check", model("counter.qdl"), "--json", tmp_path)  # a directory
    assert r.code == 151
    assert f"cannot write {tmp_path}" in r.err


def test_help_exits_zero(capsys):
    r = run(capsys, "--help")
    assert r.code == 0 and "check" in r.out and "replay" in r.out
    r = run(capsys, "check", "--help")
    assert r.code == 0 and "--max-states" in r.out


# ------------------------------------------------------- internal errors: 153

def test_internal_error_is_one_line_summary(capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.delenv("QUIESCE_CHECK_DEBUG", raising=False)
    monkeypatch.setitem(ENGINES, "bfs", dataclasses.replace(ENGINES["bfs"], run=boom))
    r = run(capsys, "check", model("counter.qdl"))
    assert r.code == 153
    assert "internal error: RuntimeError: boom" in r.err
    assert "This is a bug in quiesce-check" in r.err


def test_internal_error_traceback_only_on_request(capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setenv("QUIESCE_CHECK_DEBUG", "1")
    monkeypatch.setitem(ENGINES, "bfs", dataclasses.replace(ENGINES["bfs"], run=boom))
    code = main(["check", model("counter.qdl")])
    err = capsys.readouterr().err
    assert code == 153
    assert "Traceback" in err and "RuntimeError: boom" in err


def test_interrupt_is_incomplete(capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setitem(ENGINES, "bfs", dataclasses.replace(ENGINES["bfs"], run=interrupted))
    r = run(capsys, "check", model("counter.qdl"))
    assert r.code == 20
    assert "interrupted" in r.err


# ----------------------------------------------------------------- --json

@pytest.mark.parametrize("engine", ["bfs", "dfs"])
@pytest.mark.parametrize("n", [0, 1, 3, 7])
def test_json_counter_state_count(capsys, tmp_path, engine, n):
    r, doc = check_json(capsys, tmp_path, "counter.qdl", "--param", f"N={n}", "--engine", engine)
    assert r.code == 0
    assert set(doc) >= {"verdict", "exit_code", "properties", "stats", "coverage", "trace"}
    assert doc["verdict"] == "holds" and doc["exit_code"] == 0 and doc["complete"] is True
    assert doc["params"] == {"N": n}
    assert doc["engine"] == engine
    assert doc["stats"]["distinct"] == n + 1
    assert doc["stats"]["depth"] == n
    # one initial state plus one transition out of each of x = 0..n-1
    assert doc["stats"]["generated"] == 1 + n
    assert doc["coverage"] == [{"action": "inc", "label": "inc", "text": "inc", "line": 4, "fired": n, "new_states": n}]
    assert doc["trace"] is None
    assert doc["properties"] == [{"kind": "deadlock", "name": "no deadlock", "status": "holds"}]


@pytest.mark.parametrize(("a", "b"), [(2, 3), (1, 1), (4, 0)])
def test_json_grid(capsys, tmp_path, a, b):
    _, doc = check_json(capsys, tmp_path, "grid.qdl", "--param", f"A={a}", "--param", f"B={b}")
    s = doc["stats"]
    assert s["distinct"] == (a + 1) * (b + 1)
    assert s["depth"] == a + b
    incx, incy = a * (b + 1), b * (a + 1)  # states where x < A, states where y < B
    assert s["generated"] == 1 + incx + incy
    cov = {c["action"]: c for c in doc["coverage"]}
    assert cov["incx"]["fired"] == incx and cov["incy"]["fired"] == incy
    assert cov["incx"]["line"] == 6 and cov["incy"]["line"] == 7
    assert cov["incx"]["new_states"] + cov["incy"]["new_states"] == (a + 1) * (b + 1) - 1


def test_json_interleavings_and_initial_states(capsys, tmp_path):
    _, doc = check_json(capsys, tmp_path, "interleave.qdl")
    assert doc["stats"]["distinct"] == 3 * 3  # each process: before, between, after its two statements
    assert doc["stats"]["depth"] == 4
    _, doc = check_json(capsys, tmp_path, "initial.qdl")
    assert doc["stats"]["distinct"] == 4 * 2
    assert doc["stats"]["depth"] == 0  # every state is initial


def test_json_counterexample(capsys, tmp_path):
    _, doc = check_json(capsys, tmp_path, "invariant.qdl")
    assert doc["properties"][0] == {"kind": "invariant", "name": "small", "status": "violated"}
    t = doc["trace"]
    assert t["kind"] == "invariant" and t["property"] == "small"
    assert t["length"] == 3  # x = 3 is three steps from 0
    assert len(t["steps"]) == 4  # the initial state's row and one row per step
    assert t["steps"][0]["action"] is None  # the initial state's row: no step led to it
    assert t["steps"][0]["changes"] == [{"name": "x", "before": None, "after": 0}]
    for k, step in enumerate(t["steps"][1:], start=1):
        assert step["index"] == k and step["action"] == "inc" and step["failed"] is False
        assert step["changes"] == [{"name": "x", "before": k - 1, "after": k}]


def test_json_vacuous_goal(capsys, tmp_path):
    _, doc = check_json(capsys, tmp_path, "vacuous.qdl")
    assert {"kind": "reachable", "name": "three", "status": "unreached"} in doc["properties"]
    assert doc["stats"]["distinct"] == 3
    assert doc["complete"] is True


def test_json_is_deterministic_but_for_times(capsys, tmp_path):
    _, one = check_json(capsys, tmp_path, "race.qdl")
    _, two = check_json(capsys, tmp_path, "race.qdl")
    for doc in (one, two):
        doc["stats"].pop("seconds")
        doc["stats"].pop("states_per_second")
    assert one == two


def test_json_precopy_persistent(capsys, tmp_path):
    # The model's documented variant: the assertion fails, 16 steps at the defaults.
    out = tmp_path / "r.json"
    r = run(capsys, "check", PRECOPY, "--param", "PERSISTENT=true", "--json", out)
    doc = json.loads(out.read_text())
    assert r.code == 14
    assert doc["verdict"] == "assertion failed"
    assert doc["trace"]["length"] == 16
    assert doc["trace"]["steps"][-1]["failed"] is True
    assert doc["params"]["PERSISTENT"] is True
    # the header echoes the parameters as --param takes them back
    assert "PERSISTENT=true" in r.out and "NPAGES=2" in r.out


# ------------------------------------------------------------- random engine

def test_random_seed_is_echoed_and_reproducible(capsys, tmp_path):
    runs = []
    for k in range(2):
        out = tmp_path / f"r{k}.json"
        itf = tmp_path / f"r{k}.itf.json"
        r = run(capsys, "check", model("race.qdl"), "--engine", "random", "--seed", "4242",
                "--json", out, "--itf", itf)
        assert r.code == 12
        assert "seed 4242" in r.out
        doc = json.loads(out.read_text())
        assert doc["seed"] == 4242 and doc["engine"] == "random"
        runs.append((doc["trace"], json.loads(itf.read_text())["states"]))
    assert runs[0] == runs[1]
    trace = runs[0][0]
    # P[0] and P[1] must each take their three steps; P[2] may take up to three more
    assert 6 <= trace["length"] <= 9
    procs = [s["process"] for s in trace["steps"][1:]]
    assert procs.count("P[0]") == 3 and procs.count("P[1]") == 3


def test_random_seeds_matter(capsys, tmp_path):
    traces = set()
    for seed in range(8):
        out = tmp_path / "r.json"
        r = run(capsys, "check", model("race.qdl"), "--engine", "random", "--seed", seed, "--json", out)
        assert r.code == 12
        traces.add(json.dumps(json.loads(out.read_text())["trace"]))
    assert len(traces) > 1


def test_random_without_violation_says_how_far_it_went(capsys, tmp_path):
    r, doc = check_json(capsys, tmp_path, "counter.qdl", "--engine", "random", "--seed", "9", "--walks", "7")
    assert r.code == 20
    assert doc["seed"] == 9 and "seed 9" in r.out
    assert "7 walks" in doc["limit"]
    assert doc["stats"]["distinct"] == 4  # every walk runs the whole line 0..3
    assert doc["stats"]["depth"] == 3


def test_random_generated_counts_initial_states(capsys, tmp_path):
    _, doc = check_json(capsys, tmp_path, "invariant.qdl", "--engine", "random")
    assert doc["stats"]["distinct"] == 4
    assert doc["stats"]["generated"] >= doc["stats"]["distinct"]


# ----------------------------------------------------------------- elsewhere

def test_quantifier_over_a_large_array(capsys):
    r = run(capsys, "check", model("wide_invariant.qdl"))
    assert r.code == 0


# -------------------------------------------------------------- subprocesses

def _no_traceback(p: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in p.stdout and "Traceback" not in p.stderr


def test_console_script(tmp_path):
    script = Path(sys.executable).parent / "quiesce-check"
    assert script.exists()
    env = {k: v for k, v in os.environ.items() if k != "QUIESCE_CHECK_DEBUG"}
    p = subprocess.run([str(script), "check", model("invariant.qdl"), "--json", str(tmp_path / "r.json")],
                       capture_output=True, text=True, timeout=60, env=env)
    _no_traceback(p)
    assert p.returncode == 12
    assert "Verdict: violated (exit 12)" in p.stdout
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == 12
    p = subprocess.run([str(script), "check", str(tmp_path / "nope.qdl")],
                       capture_output=True, text=True, timeout=60, env=env)
    _no_traceback(p)
    assert p.returncode == 151 and "E004" in p.stderr


def test_python_dash_m(tmp_path):
    bad = write(tmp_path, "var x: 0..3 = 0;\naction a { x := x + ; }\n")
    env = {k: v for k, v in os.environ.items() if k != "QUIESCE_CHECK_DEBUG"}
    p = subprocess.run([sys.executable, "-m", "quiesce_check", "check", str(bad)],
                       capture_output=True, text=True, timeout=60, env=env)
    _no_traceback(p)
    assert p.returncode == 150
    assert f"{bad}:2:" in p.stderr and "error[E001]" in p.stderr
    p = subprocess.run([sys.executable, "-m", "quiesce_check", "check", model("assert.qdl")],
                       capture_output=True, text=True, timeout=60, env=env)
    _no_traceback(p)
    assert p.returncode == 14


def test_step_text_is_the_statement_alone(capsys, tmp_path):
    p = write(tmp_path, "var x: 0..1 = 0;\nvar y: 0..1 = 0;\nprocess P { x := 1; y := 1; }\n"
                        "invariant none_yet: y == 0;\n")
    out = tmp_path / "r.json"
    r = run(capsys, "check", p, "--json", out)
    assert r.code == 12
    steps = json.loads(out.read_text())["trace"]["steps"]
    assert [s["text"] for s in steps[1:]] == ["x := 1;", "y := 1;"]


def test_a_console_that_is_not_utf8():
    # FIXED: the trace's arrow (and any non-ASCII text) raised UnicodeEncodeError: internal error 153
    env = {k: v for k, v in os.environ.items() if k != "QUIESCE_CHECK_DEBUG"}
    env["PYTHONIOENCODING"] = "ascii"
    p = subprocess.run([sys.executable, "-m", "quiesce_check", "check", model("invariant.qdl")],
                       capture_output=True, text=True, timeout=60, env=env)
    _no_traceback(p)
    assert p.returncode == 12
    assert "x: 2->3" in p.stdout
    assert "Verdict: violated (exit 12)" in p.stdout
