"""`replay TRACE MODEL`: traces written by `check --itf` replay; tampered ones fail cleanly.

Exit codes: the recorded violation's own code when it is reproduced, 0 for a
trace that replays without one, 22 for a well-formed trace that the model cannot
take (its variables, values or positions are not this model's, or its steps are
none of the model's: the model was changed), 151 for a file that is not an ITF
trace.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiesce_check.cli import main

HERE = Path(__file__).parent
MODELS = HERE / "models"
CLI_MODELS = HERE.parent / "cli" / "models"
PRECOPY = HERE.parents[1] / "models" / "precopy_backend.qdl"


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> Run:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out and "Traceback" not in cap.err, cap.out + cap.err
    return Run(code, cap.out, cap.err)


def counterexample(out: str) -> list[str]:
    """The `Counterexample (...)` line (its first, when the heading wraps) and the table under it."""
    lines = out.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("Counterexample ("))
    header = next(k for k in range(start + 1, len(lines)) if "┃" in lines[k])
    block = [lines[start]]
    for line in lines[header:]:
        if not line or not (line[0] in " ━" or line[0].isdigit()):
            break
        block.append(line)
    return block


def record(capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, *extra: object) -> tuple[Run, Path]:
    itf = tmp_path / f"{model.stem}.itf.json"
    r = run(capsys, "check", model, "--itf", itf, "--no-coverage", *extra)
    assert itf.exists()
    return r, itf


def set_params(doc: dict[str, Any], params: dict[str, Any]) -> None:
    """Record `params` as ITF does: their names in `params`, their values in the initial state."""
    first = doc["states"][0]
    for name in doc.get("params", []):
        first.pop(name, None)
    doc["params"] = list(params)
    for name, v in params.items():
        first[name] = v if isinstance(v, bool) else {"#bigint": str(v)}


def write_doc(tmp_path: Path, doc: Any, name: str = "tampered.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


# ----------------------------------------------------- what check writes replays

@pytest.mark.parametrize(("model", "extra", "code"), [
    (CLI_MODELS / "invariant.qdl", [], 12),
    (CLI_MODELS / "assert.qdl", [], 14),
    (CLI_MODELS / "deadlock.qdl", [], 11),
    (CLI_MODELS / "out_of_range.qdl", [], 75),
    (CLI_MODELS / "bad_index.qdl", [], 75),
    (CLI_MODELS / "div_zero.qdl", [], 75),
    (CLI_MODELS / "race.qdl", ["--engine", "random", "--seed", "5"], 12),
    (CLI_MODELS / "race.qdl", ["--engine", "dfs"], 12),
    (MODELS / "types.qdl", [], 12),
    (MODELS / "choose.qdl", [], 14),
    (MODELS / "limit.qdl", ["--param", "LIMIT=4"], 12),
    (PRECOPY, ["--param", "PERSISTENT=true"], 14),
])
def test_replay_reproduces_the_counterexample(capsys, tmp_path, model, extra, code):
    checked, itf = record(capsys, tmp_path, model, *extra)
    assert checked.code == code
    replayed = run(capsys, "replay", itf, model)  # parameters: the ones the trace recorded
    assert replayed.code == code
    # FIXED (deadlock): replay said "... not terminal", check "... not declared terminal"
    assert counterexample(replayed.out) == counterexample(checked.out)
    assert re.search(rf"{re.escape(str(itf))}: (all \d+ steps replay|its one step replays)", replayed.out)


def test_precopy_counterexample_has_16_steps(capsys, tmp_path):
    checked, itf = record(capsys, tmp_path, PRECOPY, "--param", "PERSISTENT=true")
    assert checked.code == 14
    assert counterexample(checked.out)[0].startswith("Counterexample (16 steps): assertion")
    doc = json.loads(itf.read_text())
    assert len(doc["states"]) == 16  # 15 completed steps and the failing 16th
    assert "PERSISTENT" in doc["params"] and doc["states"][0]["PERSISTENT"] is True
    # with the parameter the other way the protocol is right, and the trace is not a behaviour of it
    r = run(capsys, "replay", itf, PRECOPY, "--param", "PERSISTENT=false")
    assert r.code == 22
    assert "does not replay: step " in r.err


def test_recorded_parameters_are_used_and_can_be_overridden(capsys, tmp_path):
    model = MODELS / "limit.qdl"
    _, itf = record(capsys, tmp_path, model, "--param", "LIMIT=2")
    assert run(capsys, "replay", itf, model).code == 12
    # with LIMIT=3 the same two steps replay, but x = 2 then violates nothing
    r = run(capsys, "replay", itf, model, "--param", "LIMIT=3")
    assert r.code == 22
    assert "ends in no violation, not in the recorded invariant below" in r.err


def test_hand_written_traces(capsys, tmp_path):
    model = CLI_MODELS / "counter.qdl"

    def trace(*xs: int) -> Path:
        return write_doc(tmp_path, {"vars": ["x"], "states": [{"x": {"#bigint": str(x)}} for x in xs]})

    r = run(capsys, "replay", trace(0, 1, 2), model)
    assert r.code == 0 and "all 2 steps replay" in r.out
    r = run(capsys, "replay", trace(0), model)
    assert r.code == 0 and "all 0 steps replay" in r.out
    r = run(capsys, "replay", trace(0, 2), model)
    assert r.code == 22
    assert "step 1:" in r.err and "x is 1, the trace says 2" in r.err
    r = run(capsys, "replay", trace(1, 2), model)
    assert r.code == 22 and "state 0 is not an initial state" in r.err
    # a deadlock the file does not claim is still found: exit 11
    dead = CLI_MODELS / "deadlock.qdl"
    r = run(capsys, "replay", trace(0, 1, 2), dead)
    assert r.code == 11 and "not declared terminal" in r.out


# ------------------------------------------------------------ tampered traces

@pytest.fixture
def base(capsys, tmp_path) -> tuple[dict, Path]:
    _, itf = record(capsys, tmp_path, CLI_MODELS / "invariant.qdl")
    return json.loads(itf.read_text()), CLI_MODELS / "invariant.qdl"


def test_value_changed_in_the_middle(capsys, tmp_path, base):
    doc, model = base
    doc["states"][2]["x"] = {"#bigint": "0"}  # x: 0, 1, 0, 3
    r = run(capsys, "replay", write_doc(tmp_path, doc), model)
    assert r.code == 22
    assert "does not replay: step 2: the model cannot go from state 1 to state 2" in r.err
    assert "x is 2, the trace says 0" in r.err


def test_state_removed(capsys, tmp_path, base):
    doc, model = base
    del doc["states"][2]  # x: 0, 1, 3
    r = run(capsys, "replay", write_doc(tmp_path, doc), model)
    assert r.code == 22
    assert "step 2:" in r.err and "x is 2, the trace says 3" in r.err


def test_last_states_cut(capsys, tmp_path, base):
    doc, model = base
    doc["states"] = doc["states"][:2]  # x: 0, 1 still claims the invariant fails
    r = run(capsys, "replay", write_doc(tmp_path, doc), model)
    assert r.code == 22
    assert "not in the recorded invariant small" in r.err


def test_recorded_violation_changed(capsys, tmp_path, base):
    doc, model = base
    doc["#meta"]["violation"]["property"] = "other"
    r = run(capsys, "replay", write_doc(tmp_path, doc), model)
    assert r.code == 22
    assert "ends in invariant small, not in the recorded invariant other" in r.err


def test_variable_renamed(capsys, tmp_path, base):
    doc, model = base
    doc["vars"] = ["y"]
    for s in doc["states"]:
        s["y"] = s.pop("x")
    r = run(capsys, "replay", write_doc(tmp_path, doc), model)
    assert r.code == 22  # a trace of another model, or of this one before a change
    assert "the initial state is not one of this model's" in r.err
    assert "the model has x, the trace not" in r.err and "the trace has y, the model not" in r.err


def test_variable_missing_from_one_state(capsys, tmp_path, base):
    doc, model = base
    del doc["states"][1]["x"]
    r = run(capsys, "replay", write_doc(tmp_path, doc), model)
    assert r.code == 22
    assert "does not replay: step 1" in r.err and "state 1: variable `x` is missing" in r.err


@pytest.mark.parametrize(("value", "words", "code"), [
    (True, "expected an integer", 22),
    ("2", "expected an integer", 22),
    ({"#bigint": "two"}, "expected an integer", 151),  # no ITF integer at all
    ({"#bigint": "9"}, "9 is outside 0..5", 22),
    ({"#bigint": "-1"}, "-1 is outside 0..5", 22),
    (None, "expected an integer", 22),
])
def test_value_of_the_wrong_type_or_range(capsys, tmp_path, base, value, words, code):
    doc, model = base
    doc["states"][1]["x"] = value
    r = run(capsys, "replay", write_doc(tmp_path, doc), model)
    assert r.code == code
    assert "state 1, `x`" in r.err and words in r.err
    assert ("does not replay: step 1" in r.err) == (code == 22)


def test_bad_program_counter(capsys, tmp_path):
    model = CLI_MODELS / "assert.qdl"
    _, itf = record(capsys, tmp_path, model)
    doc = json.loads(itf.read_text())
    doc["states"][1]["P.pc"] = "body_99"
    r = run(capsys, "replay", write_doc(tmp_path, doc), model)
    assert r.code == 22
    assert "does not replay: step 1" in r.err
    assert "state 1: `P.pc` is 'body_99', which is none of the process's positions (body_1" in r.err


@pytest.mark.parametrize(("text", "words"), [
    ('{"vars": ["x"], "states": [{"x": {"#bigi', "not JSON"),   # truncated
    ("hello, world\n", "not JSON"),
    ("", "not JSON"),
    ("[" * 100_000, "nested too deeply"),
    ('{"vars": ["x"], "states": [' + "9" * 5000 + "]}", "not a trace"),  # FIXED: was internal error 153
    ("[]", "a JSON object"),
    ('{"vars": ["x"], "states": []}', "no `states`"),
    ('{"vars": ["x"], "states": {"x": 1}}', "no `states`"),
    ('{"vars": ["x"], "states": [1, 2]}', "state 0: not a JSON object"),
    ("NaN", "a JSON object"),
])
def test_malformed_files(capsys, tmp_path, text, words):
    p = tmp_path / "bad.json"
    p.write_text(text)
    r = run(capsys, "replay", p, CLI_MODELS / "invariant.qdl")
    assert r.code == 151
    assert r.err.startswith(f"error: {p}")
    assert words in r.err


@pytest.mark.parametrize("kind", ["missing", "directory", "binary"])
def test_unreadable_trace_files(capsys, tmp_path, kind):
    p = tmp_path / "t.json"
    if kind == "directory":
        p.mkdir()
    elif kind == "binary":
        p.write_bytes(b"\xff\xfe\x00\x01" * 10)
    r = run(capsys, "replay", p, CLI_MODELS / "invariant.qdl")
    assert r.code == 151
    assert "error[E004]" in r.err and str(p) in r.err


@pytest.mark.parametrize(("params", "words"), [
    ({"N": 3}, "declares no parameter `N`"),                 # not this model's parameter
    ({"LIMIT": 2**4001}, "not a valid parameter"),           # no constant of a model is that long
    ({"LIMIT": True}, "LIMIT=true"),
    ({"LIMIT": 2, "TOP": -7}, "empty range 0..-7"),        # FIXED: was exit 150, blaming the model
])
def test_recorded_parameters_that_do_not_fit(capsys, tmp_path, params, words):
    model = MODELS / "limit.qdl"
    _, itf = record(capsys, tmp_path, model)
    doc = json.loads(itf.read_text())
    set_params(doc, params)
    p = write_doc(tmp_path, doc)
    r = run(capsys, "replay", p, model)
    assert r.code == 151
    assert r.err.startswith(f"error: {p}: ")
    assert words in r.err


def test_an_invalid_model_is_still_a_model_error(capsys, tmp_path, base):
    doc, _ = base
    set_params(doc, {"LIMIT": 2})
    bad = tmp_path / "bad.qdl"
    bad.write_text("param LIMIT = 3;\nvar x: 0..5 = ;\n")
    r = run(capsys, "replay", write_doc(tmp_path, doc), bad)
    assert r.code == 150
    assert f"{bad}:2:" in r.err and "error[E001]" in r.err


def test_replay_of_a_directory_model(capsys, tmp_path, base):
    doc, _ = base
    r = run(capsys, "replay", write_doc(tmp_path, doc), tmp_path)
    assert r.code == 151 and "E004" in r.err


# --------------------------------------------------------- random JSON edits

ALLOWED = {0, 11, 12, 13, 14, 22, 75, 151}

_LEAVES = (st.none() | st.booleans() | st.integers(-6, 6) | st.sampled_from([10**12, -(2**70), 1.5])
           | st.text(max_size=4) | st.sampled_from(["Red", "Green", "end", "14:3", "x", "#meta"])
           | st.integers(-3, 6).map(lambda n: {"#bigint": str(n)})
           | st.sampled_from([{"#bigint": "1_0"}, {"#bigint": ""}, {"#map": []}, {"#map": [[1]]}]))
_JSON = st.recursive(_LEAVES, lambda kids: st.lists(kids, max_size=3)
                     | st.dictionaries(st.sampled_from(["x", "f", "g", "#map", "#bigint", "v"]), kids, max_size=3),
                     max_leaves=6).map(copy.deepcopy)  # the edits below mutate; sampled_from shares objects


def _paths(j: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(j, dict):
        for k, v in j.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(j, list):
        for i, v in enumerate(j):
            yield from _paths(v, prefix + (i,))


def _at(j: Any, path: tuple) -> Any:
    for k in path:
        j = j[k]
    return j


@st.composite
def _edited(draw: st.DrawFn, doc: dict) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(doc))))
        op = draw(st.sampled_from(["replace", "replace", "delete", "duplicate", "swap", "rename"]))
        if not path:
            if op == "replace":
                doc = draw(_JSON)
            continue
        parent, key = _at(doc, path[:-1]), path[-1]
        if op == "replace":
            parent[key] = draw(_JSON)
        elif op == "delete":
            del parent[key]
        elif op == "duplicate":
            if isinstance(parent, list):
                parent.insert(key, copy.deepcopy(parent[key]))
            else:
                parent[key + "_"] = copy.deepcopy(parent[key])
        elif op == "swap" and isinstance(parent, list) and len(parent) > 1:
            other = draw(st.integers(0, len(parent) - 1))
            parent[key], parent[other] = parent[other], parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["x", "y", "c", "P[0].pc", "vars", "states"]))] = parent.pop(key)
        if not isinstance(doc, dict | list):
            break
    return doc


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> list[tuple[Path, dict]]:
    """Valid traces of several models, written by check --itf."""
    out = []
    d = tmp_path_factory.mktemp("recorded")
    for model, extra in [(MODELS / "types.qdl", []), (MODELS / "choose.qdl", []),
                         (MODELS / "limit.qdl", ["--param", "LIMIT=2"]), (CLI_MODELS / "div_zero.qdl", []),
                         (CLI_MODELS / "deadlock.qdl", []), (MODELS / "lasso_spin.qdl", []),
                         (MODELS / "lasso_skip.qdl", []), (MODELS / "step_only_p.qdl", [])]:
        itf = d / f"{model.stem}.json"
        assert main(["check", str(model), "--itf", str(itf), "--no-coverage", *extra]) in ALLOWED
        out.append((model, json.loads(itf.read_text())))
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_edited_traces_never_crash(capsys, tmp_path, recorded, data):
    capsys.readouterr()
    model, doc = data.draw(st.sampled_from(recorded))
    edited = data.draw(_edited(doc))
    p = tmp_path / "edited.json"
    p.write_text(json.dumps(edited))
    r = run(capsys, "replay", p, model)
    assert r.code in ALLOWED, (r.code, r.err)
    if r.code == 151:
        assert r.err.startswith("error")
    if r.code == 22:
        assert "does not replay" in r.err
