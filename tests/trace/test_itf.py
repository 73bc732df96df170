"""`check --itf FILE`: the trace as ITF JSON, read back with the independent reader itf-py.

Expected values are derived from the fixtures' text (tests/trace/models), not
from the output under test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itf_py import trace_from_json

from quiesce_check.build import build_file
from quiesce_check.cli import main
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import Options
from quiesce_check.lang.types import (
    TArray,
    TBool,
    TEnum,
    TInt,
    TRecord,
    TSeq,
    TSet,
    Type,
    scalar_values,
)
from quiesce_check.output.itf import to_itf, value_to_itf
from quiesce_check.replay import replay
from quiesce_check.trace.itf import TraceFormatError, from_itf, value_from_itf

HERE = Path(__file__).parent
MODELS = HERE / "models"
CLI_MODELS = HERE.parent / "cli" / "models"


def check_itf(capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, *extra: str) -> tuple[int, dict]:
    out = tmp_path / f"{model.stem}.itf.json"
    code = main(["check", str(model), "--itf", str(out), *extra])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out + cap.err
    assert f"trace written to {out}" in cap.out
    return code, json.loads(out.read_text())


def pc_of(model: Path, statement: str) -> str:
    """A process position as people read it: `line:col` of the statement in the source."""
    for n, line in enumerate(model.read_text().splitlines(), start=1):
        if statement in line:
            return f"{n}:{line.index(statement) + 1}"
    raise AssertionError(statement)


def body_path(model: Path, process: str, statement: str) -> str:
    """The stable name of a statement directly in a process's body, counted from the source
    text: `body_N` for its N-th statement (one statement per line after the locals)."""
    lines = model.read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.lstrip().startswith(f"process {process}"))
    stmts = [line.strip() for line in lines[start + 1:] if line.strip() and not line.strip().startswith("var ")]
    stmts = stmts[:next(n for n, text in enumerate(stmts) if text == "}")]
    return f"body_{next(n for n, text in enumerate(stmts, 1) if text.startswith(statement))}"


def ints_are_bigints(j: Any) -> bool:
    """No bare JSON number anywhere: every integer is {"#bigint": "..."}."""
    if isinstance(j, bool | str) or j is None:
        return True
    if isinstance(j, int | float):
        return False
    if isinstance(j, list):
        return all(ints_are_bigints(x) for x in j)
    if isinstance(j, dict):
        if set(j) == {"#bigint"}:
            return isinstance(j["#bigint"], str)
        return all(ints_are_bigints(v) for k, v in j.items() if k != "#meta")
    return False


# -------------------------------------------------------- every kind of value

def test_types_trace(capsys, tmp_path):
    model = MODELS / "types.qdl"
    code, doc = check_itf(capsys, tmp_path, model)
    assert code == 12
    trace = trace_from_json(doc)
    # 2 steps per process, then `go`: 5 steps, 6 states
    assert len(trace.states) == 5 + 1
    expected_vars = {"c", "a", "m", "e", "r", "n", "t", "P[0].l", "P[1].l", "P[0].pc", "P[1].pc"}
    assert set(trace.vars) == expected_vars
    assert len(trace.vars) == len(expected_vars)
    for s in trace.states:
        assert set(s.values) == expected_vars
    assert [s.meta["index"] for s in trace.states] == list(range(6))
    assert all(ints_are_bigints(s) for s in doc["states"])

    first, last = trace.states[0].values, trace.states[-1].values
    start = body_path(model, "P", "l := l + 1;")
    assert start == "body_1"
    assert first["c"] == "Red"
    assert dict(first["a"]) == {0: False, 1: False, 2: False}  # array[0..2]: a #map too, keys kept
    assert dict(first["m"]) == {1: 1, 2: 2}               # array[1..2]: a #map keyed by 1, 2
    assert dict(first["e"]) == {"Red": False, "Green": False, "Blue": False}  # keyed by enum names
    assert first["r"]._asdict() == {"f": 0, "g": False}   # a record: an object
    assert first["n"] == -1 and type(first["n"]) is int
    assert first["t"].v == 0 and dict(first["t"].w) == {False: "Red", True: "Red"}
    assert first["P[0].l"] == first["P[1].l"] == 0
    assert first["P[0].pc"] == first["P[1].pc"] == start
    # the line people read is beside it, in the state's #meta
    assert trace.states[0].meta["positions"] == {"P[0].pc": pc_of(model, "l := l + 1;"),
                                                 "P[1].pc": pc_of(model, "l := l + 1;")}

    assert last["c"] == "Green"
    assert dict(last["a"]) == {0: True, 1: True, 2: False}
    assert dict(last["m"]) == {1: 1, 2: 0}
    assert dict(last["e"]) == {"Red": False, "Green": False, "Blue": True}
    assert last["r"]._asdict() == {"f": 1, "g": True}
    assert last["n"] == -2
    assert last["t"].v == 2 and dict(last["t"].w) == {False: "Red", True: "Blue"}
    assert last["P[0].l"] == last["P[1].l"] == 1
    assert last["P[0].pc"] == last["P[1].pc"] == "end"

    # the raw shapes: every array a #map, whatever its index type
    raw = doc["states"][0]
    assert raw["a"] == {"#map": [[{"#bigint": str(i)}, False] for i in range(3)]}
    assert raw["m"] == {"#map": [[{"#bigint": "1"}, {"#bigint": "1"}], [{"#bigint": "2"}, {"#bigint": "2"}]]}
    assert raw["t"]["w"] == {"#map": [[False, "Red"], [True, "Red"]]}

    # only `go` touches the globals other than a; it is the last step
    assert trace.states[5].meta["action"] == "go"
    for k in range(1, 5):
        assert trace.states[k].values["c"] == "Red"

    meta = trace.meta
    assert meta["format"] == "ITF"
    assert meta["violation"]["kind"] == "invariant" and meta["violation"]["property"] == "only_red"
    assert trace.params == [] and "params" not in meta
    assert "failing_step" not in meta


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_trace_length_follows_the_parameter(capsys, tmp_path, limit):
    code, doc = check_itf(capsys, tmp_path, MODELS / "limit.qdl", "--param", f"LIMIT={limit}")
    assert code == 12
    trace = trace_from_json(doc)
    assert len(trace.states) == limit + 1  # x reaches LIMIT in LIMIT steps
    assert [s.values["x"] for s in trace.states] == list(range(limit + 1))
    assert trace.vars == ["x"]
    # parameters: ITF's top-level `params`, set in the initial state
    assert sorted(trace.params) == ["LIMIT", "TOP"]
    assert (trace.states[0].values["LIMIT"], trace.states[0].values["TOP"]) == (limit, 5)
    assert all("LIMIT" not in s.values for s in trace.states[1:])
    assert all(s.meta.get("action") == "inc" for s in trace.states[1:])


def test_failing_step_is_in_the_trace_meta(capsys, tmp_path):
    model = MODELS / "choose.qdl"
    code, doc = check_itf(capsys, tmp_path, model)
    assert code == 14
    trace = trace_from_json(doc)
    # two completed steps (the pick, the either), then the assertion fails: no state after it
    assert len(trace.states) == 2 + 1
    assert set(trace.vars) == {"x", "y", "P.pc"}
    xs = [s.values["x"] for s in trace.states]
    assert xs[0] == 0 and xs[1] == xs[2] and xs[1] in (2, 3)  # `where v > 1`
    assert trace.states[1].meta["choices"] == [{"name": "v", "value": xs[1]}]
    assert trace.states[-1].values["P.pc"] == body_path(model, "P", "assert x < 2;") == "body_3"
    assert trace.states[-1].meta["positions"] == {"P.pc": pc_of(model, "assert x < 2;")}
    assert trace.meta["violation"]["kind"] == "assertion"
    assert trace.meta["failing_step"]["action"].startswith("P.")


@pytest.mark.parametrize(("name", "steps", "kind"), [
    ("out_of_range.qdl", 3, "model-error"),   # x: 0, 1, 2 and the third inc fails
    ("bad_index.qdl", 3, "model-error"),
    ("div_zero.qdl", 2, "model-error"),
    ("deadlock.qdl", 2, "deadlock"),
    ("assert.qdl", 3, "assertion"),
    ("invariant.qdl", 3, "invariant"),
])
def test_states_and_steps(capsys, tmp_path, name, steps, kind):
    _, doc = check_itf(capsys, tmp_path, CLI_MODELS / name)
    trace = trace_from_json(doc)
    failing = kind in ("assertion", "model-error")
    # a failing step leaves no state behind it
    assert len(trace.states) == steps + 1 - failing
    assert ("failing_step" in trace.meta) == failing
    assert trace.meta["violation"]["kind"] == kind


def test_no_counterexample_no_file(capsys, tmp_path):
    out = tmp_path / "t.json"
    code = main(["check", str(CLI_MODELS / "counter.qdl"), "--itf", str(out)])
    cap = capsys.readouterr()
    assert code == 0
    assert not out.exists()
    assert "not written" in cap.err


# ------------------------------------------------------------ the API, both ways

def test_from_itf_inverts_to_itf():
    built = build_file(str(MODELS / "types.qdl"))
    result = bfs(built.model, Options(), None)
    assert result.trace is not None
    doc = to_itf(built.model.info, result.trace, "types.qdl", {})
    doc = json.loads(json.dumps(doc))  # through JSON text, as a file would
    rec = from_itf(built.model.info, doc)
    assert tuple(rec.states) == result.trace.states
    assert rec.actions[0] is None and all(isinstance(a, str) for a in rec.actions[1:])
    assert rec.meta["violation"]["property"] == "only_red"
    assert rec.loop is None and "loop" not in doc


def _values(t: Type) -> st.SearchStrategy[Any]:
    if isinstance(t, TBool | TEnum) or (isinstance(t, TInt) and t.lo is not None):
        return st.sampled_from(scalar_values(t))
    if isinstance(t, TArray):
        n = len(scalar_values(t.index))
        return st.lists(_values(t.elem), min_size=n, max_size=n).map(tuple)
    if isinstance(t, TRecord):
        return st.tuples(*(_values(ft) for _, ft in t.fields))
    if isinstance(t, TSet):
        return st.frozensets(_values(t.elem))
    if isinstance(t, TSeq):
        return st.lists(_values(t.elem), max_size=t.capacity).map(tuple)
    raise TypeError(t)


_TYPES: list[Type] = [
    TInt(-3, 3),
    TEnum("ABC", ("A", "B", "C")),
    TArray(TInt(0, 2), TBool()),
    TArray(TInt(1, 3), TInt(0, 5)),
    TArray(TEnum("XY", ("X", "Y")), TRecord((("p", TInt(0, 1)), ("q", TBool())))),
    TRecord((("u", TArray(TBool(), TEnum("AB", ("A", "B")))), ("v", TInt(-1, 1)))),
    TSet(TInt(0, 3)),
    TSet(TRecord((("p", TInt(0, 1)), ("q", TBool())))),
    TSeq(3, TEnum("XY", ("X", "Y"))),
    TArray(TInt(0, 1), TSeq(2, TSet(TBool()))),
]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_TYPES).flatmap(lambda t: st.tuples(st.just(t), _values(t))))
def test_value_round_trip(tv):
    t, v = tv
    j = json.loads(json.dumps(value_to_itf(t, v)))
    assert ints_are_bigints(j)
    assert value_from_itf(t, j, "here") == v


@pytest.mark.parametrize(("t", "j", "words"), [
    (TInt(0, 3), {"#bigint": "4"}, "outside"),
    (TInt(0, 3), {"#bigint": "1_0"}, "integer"),       # FIXED: int() took `1_0` for 10
    (TInt(0, 3), {"#bigint": " 2"}, "integer"),        # FIXED: and ` 2` for 2
    (TInt(0, 3), {"#bigint": "+2"}, "integer"),
    (TInt(0, 3), {"#bigint": "9" * 5000}, "integer"),
    (TInt(0, 3), True, "integer"),
    (TInt(0, 3), 1.0, "integer"),
    (TBool(), 0, "true or false"),
    (TEnum("AB", ("A", "B")), "C", "one of A, B"),
    (TArray(TInt(0, 1), TBool()), [True], "2 elements"),
    (TArray(TInt(1, 2), TBool()), {"#map": [[{"#bigint": "1"}, True]]}, "every index"),
    (TArray(TInt(1, 2), TBool()),  # FIXED: a repeated key silently overrode the first
     {"#map": [[{"#bigint": "1"}, True], [{"#bigint": "1"}, False], [{"#bigint": "2"}, True]]}, "once"),
    (TArray(TInt(1, 2), TBool()), {"#map": [[{"#bigint": "1"}]]}, "pairs"),
    (TRecord((("f", TBool()),)), {"f": True, "g": False}, "fields f"),
    (TSet(TInt(0, 3)), [{"#bigint": "1"}], "a set"),                      # a list is a sequence
    (TSet(TInt(0, 3)), {"#set": [{"#bigint": "1"}, {"#bigint": "1"}]}, "each member once"),
    (TSet(TInt(0, 3)), {"#set": [{"#bigint": "4"}]}, "outside"),
    (TSeq(1, TBool()), [True, False], "at most 1"),
    (TSeq(1, TBool()), {"#set": []}, "a sequence"),
])
def test_value_from_itf_rejects(t, j, words):
    with pytest.raises(TraceFormatError) as e:
        value_from_itf(t, j, "state 3, `v`")
    assert str(e.value).startswith("state 3, `v`")
    assert words in str(e.value)


# ------------------------------------------------------------------- lassos and step properties

@pytest.mark.parametrize(("model", "name", "written", "loop", "loop_step"), [
    # A goes round x = 0, 1, 2: three states written, and the last goes on to state 0 by A's step
    ("lasso_spin.qdl", "done", 3, 0, "A."),
    # P's skip goes from the initial state to itself: one state, and a closing step
    ("lasso_skip.qdl", "one", 1, 0, "P."),
    # nothing is fair: the behaviour stops in the initial state; one state, no closing step
    ("lasso_ring.qdl", "reaches3", 1, 0, None),
    # one inc, then x = 1 for ever
    ("lasso_ring.qdl", "answered", 2, 1, None),
])
def test_a_lasso_in_itf(model, name, written, loop, loop_step):
    built = build_file(str(MODELS / model))
    trace = bfs(built.model, Options(keep_going=True), None).traces[name]
    assert trace.kind == "liveness" and trace.loop == loop
    doc = json.loads(json.dumps(to_itf(built.model.info, trace, model, {})))
    read = trace_from_json(doc)  # the independent reader: ITF's own `loop`
    assert read.loop == loop and len(read.states) == written
    assert doc["#meta"]["violation"] == {"kind": "liveness", "property": name, "message": trace.message}
    if loop_step is None:
        assert "loop_step" not in doc["#meta"]
    else:
        assert doc["#meta"]["loop_step"]["action"].startswith(loop_step)
    # read back: the state the cycle closes on is there again, reached by the closing step
    rec = from_itf(built.model.info, doc)
    assert rec.loop == loop and tuple(rec.states) == trace.states
    rebuilt = replay(built.model, doc)
    assert rebuilt.ok and rebuilt.trace is not None
    assert (rebuilt.trace.states, rebuilt.trace.steps, rebuilt.trace.kind, rebuilt.trace.property,
            rebuilt.trace.loop) == (trace.states, trace.steps, trace.kind, trace.property, trace.loop)


def test_a_step_property_counterexample_in_itf():
    built = build_file(str(MODELS / "step_only_p.qdl"))
    trace = bfs(built.model, Options(), None).traces["only_p"]
    doc = json.loads(json.dumps(to_itf(built.model.info, trace, "step_only_p.qdl", {})))
    assert "loop" not in doc and trace.loop is None
    assert doc["#meta"]["violation"]["kind"] == "action" and doc["#meta"]["violation"]["property"] == "only_p"
    # P counts x to 2, Q waits for it and resets it: 4 steps, 5 states, the last by Q
    assert len(trace_from_json(doc).states) == 5 and doc["states"][-1]["#meta"]["action"].startswith("Q.")
    rebuilt = replay(built.model, doc)
    assert rebuilt.ok and rebuilt.reproduced == "action only_p" and rebuilt.trace is not None
    assert (rebuilt.trace.states, rebuilt.trace.steps, rebuilt.trace.kind) == (trace.states, trace.steps, "action")
