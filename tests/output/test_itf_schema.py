"""`--itf`: every trace is valid ITF (a JSON Schema written from ADR-015's text, tests/schemas)
and reads back with itf-py as the encoding promises: arrays as maps that keep their indices,
sets as sets, sequences as lists, parameters in the top-level `params`, program counters
as identifiers, lassos with `loop`.

Expected values come from the fixtures' text, not from the output under test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from itf_py import trace_from_json

from quiesce_check.cli import main

ROOT = Path(__file__).parents[2]
TRACE_MODELS = ROOT / "tests" / "trace" / "models"
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "itf.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def itf_of(capsys, tmp_path: Path, *argv: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "t.itf.json"
    code = main([*argv, "--itf", str(out), "--no-coverage"])
    capsys.readouterr()
    return code, json.loads(out.read_text())


def test_the_schema_is_a_schema_and_has_teeth():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    good = {"vars": ["x"], "states": [{"x": {"#bigint": "1"}}]}
    assert VALIDATOR.is_valid(good)
    for bad in ({"vars": ["x"], "states": [{"x": 1}]},                       # a bare JSON number
                {"vars": ["x"], "states": [{"x": {"#map": [[1]]}}]},          # not a pair
                {"vars": ["x"], "states": [{"x": {"#bigint": "1", "y": 2}}]},
                {"states": []},                                                # no vars
                {"vars": ["x"], "states": [], "loop": -1}):
        assert not VALIDATOR.is_valid(bad), bad


CASES = [
    ("check", str(TRACE_MODELS / "types.qdl")),
    ("check", str(TRACE_MODELS / "collections.qdl")),
    ("check", str(TRACE_MODELS / "choose.qdl")),
    ("check", str(TRACE_MODELS / "lasso_spin.qdl")),
    ("check", str(TRACE_MODELS / "lasso_ring.qdl")),
    ("check", str(TRACE_MODELS / "limit.qdl"), "--param", "LIMIT=2"),
    ("check", str(ROOT / "examples" / "peterson_broken.qdl")),
    ("check", str(ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl")),
    ("check", str(TRACE_MODELS / "types.qdl"), "--engine", "bmc"),
    ("hook", str(ROOT / "specs" / "hooks" / "s15_handshake.qdl"), "--model",
     str(ROOT / "models" / "v2_blkfront_blkback.qdl"), "--param", "NREQS=1", "--without", "wait_ack",
     "--backend", "python"),
]


@pytest.mark.parametrize("argv", CASES, ids=lambda a: " ".join(Path(x).name for x in a[1:3]))
def test_every_trace_is_valid_itf(capsys, tmp_path, argv):
    code, doc = itf_of(capsys, tmp_path, *argv)
    assert code != 0
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
    assert errors == []
    trace = trace_from_json(doc)
    for state in doc["states"]:
        assert set(trace.vars) <= set(state)   # every variable in every state
    for name, value in doc["states"][-1].items():
        if name.endswith(".pc"):
            assert isinstance(value, str) and value.isidentifier()
    assert set(doc["params"]) <= set(doc["states"][0])  # the parameters set in the initial state


def test_collections_keep_their_shapes(capsys, tmp_path):
    code, doc = itf_of(capsys, tmp_path, "check", str(TRACE_MODELS / "collections.qdl"))
    assert code == 12
    trace = trace_from_json(doc)
    first, last = trace.states[0].values, trace.states[-1].values
    # collections.qdl: chan is a seq, seen and log.all sets, hits an array indexed from 0
    assert first["chan"] == [] and first["seen"] == frozenset() and first["log"].all == frozenset()
    assert dict(first["hits"]) == {0: 0, 1: 0, 2: 0}   # indices kept: a map, not a sequence
    assert len(last["seen"]) == 2                       # the invariant `card(seen) < 2` fails
    assert last["log"].all <= last["seen"] and last["seen"] <= {0, 1, 2}
    # Sender sends 0, 1, 2 in order and Receiver takes them in order: what was seen came first
    assert last["seen"] == {0, 1}
    assert all(isinstance(s.values["chan"], list) and len(s.values["chan"]) <= 2 for s in trace.states)
    raw = doc["states"][-1]
    assert raw["seen"] == {"#set": [{"#bigint": "0"}, {"#bigint": "1"}]}
    assert raw["hits"]["#map"][0][0] == {"#bigint": "0"}


def test_a_lasso_uses_loop(capsys, tmp_path):
    code, doc = itf_of(capsys, tmp_path, "check", str(TRACE_MODELS / "lasso_spin.qdl"))
    assert code == 13
    trace = trace_from_json(doc)
    assert trace.loop == 0 and len(trace.states) == 3  # lasso_spin: x goes round 0, 1, 2
