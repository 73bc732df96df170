"""`--json`: every document validates against the schema published in docs/schemas, and holds
what tools need: unique action ids, typed values, null for the initial state's "before",
structured choices, explanations in whole sentences; `regress --json` has `exit_code`.

Expected values come from the models' declarations (a variable's type says what its JSON
value must be), not from the output under test.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from quiesce_check.build import build_file
from quiesce_check.cli import main
from quiesce_check.domain.explain import explainer
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import Options
from quiesce_check.lang.types import TBool, TEnum, TInt
from quiesce_check.output.jsonout import sentences

ROOT = Path(__file__).parents[2]
TRACE_MODELS = ROOT / "tests" / "trace" / "models"
CLI_MODELS = ROOT / "tests" / "cli" / "models"
S5 = ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl"
RESULT = jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "schemas" / "result.schema.json").read_text()))
REGRESS = jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "schemas" / "regress.schema.json").read_text()))


def json_of(capsys, tmp_path: Path, *argv: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "r.json"
    code = main([*argv, "--json", str(out)])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out + cap.err
    return code, json.loads(out.read_text())


def errors(validator: jsonschema.Draft202012Validator, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_the_schemas_are_schemas():
    for v in (RESULT, REGRESS):
        jsonschema.Draft202012Validator.check_schema(v.schema)


CASES = [
    ("check", str(S5)),
    ("check", str(ROOT / "examples" / "peterson_broken.qdl")),
    ("check", str(TRACE_MODELS / "collections.qdl")),
    ("check", str(TRACE_MODELS / "choose.qdl")),
    ("check", str(TRACE_MODELS / "lasso_spin.qdl")),
    ("check", str(TRACE_MODELS / "types.qdl"), "--engine", "bmc"),
    ("check", str(TRACE_MODELS / "types.qdl"), "--engine", "random", "--seed", "3"),
    ("check", str(ROOT / "specs" / "proofs" / "s1_guest_only_writes.qdl"), "--engine", "induction"),
    ("check", str(CLI_MODELS / "out_of_range.qdl")),
    ("check", str(CLI_MODELS / "deadlock.qdl")),
    ("check", str(CLI_MODELS / "counter.qdl")),
    ("check", str(CLI_MODELS / "invariant.qdl"), "--continue", "--backend", "python"),
    ("check", str(CLI_MODELS / "counter.qdl"), "--max-states", "2"),
    ("hook", str(ROOT / "specs" / "hooks" / "s15_handshake.qdl"), "--model",
     str(ROOT / "models" / "v2_blkfront_blkback.qdl"), "--param", "NREQS=1", "--without", "wait_ack",
     "--backend", "python"),
]


@pytest.mark.parametrize("argv", CASES, ids=lambda a: " ".join(Path(x).name for x in a[1:4]))
def test_every_result_validates(capsys, tmp_path, argv):
    code, doc = json_of(capsys, tmp_path, *argv)
    assert doc["exit_code"] == code
    assert errors(RESULT, doc) == []
    ids = [c["action"] for c in doc["coverage"]]
    assert len(ids) == len(set(ids))                 # action ids are unique
    known = set(ids)
    for t in [doc["trace"], *doc["traces"].values()]:
        if t is not None:
            assert {s["action"] for s in t["steps"][1:]} <= known
            assert all(c["before"] is None for c in t["steps"][0]["changes"])


def test_values_are_typed_as_the_model_declares(capsys, tmp_path):
    code, doc = json_of(capsys, tmp_path, "check", str(S5))
    assert code == 12
    info = build_file(str(S5)).model.info
    types = {s.name: s.type for s in info.layout.slots}
    seen = Counter[str]()
    for step in doc["trace"]["steps"]:
        for c in step["changes"]:
            t = types[c["name"]]
            for v in ([c["after"]] if step["index"] == 0 else [c["before"], c["after"]]):
                if isinstance(t, TBool):
                    assert type(v) is bool
                    seen["bool"] += 1
                elif isinstance(t, TEnum):
                    assert v in t.members
                    seen["enum"] += 1
                else:
                    assert isinstance(t, TInt) and type(v) is int and t.lo <= v <= t.hi
                    seen["int"] += 1
    assert set(seen) == {"bool", "enum", "int"}    # S5's trace changes all three kinds


def test_choices_are_name_value_pairs(capsys, tmp_path):
    code, doc = json_of(capsys, tmp_path, "check", str(TRACE_MODELS / "choose.qdl"))
    assert code == 14
    picked = doc["trace"]["steps"][1]["choices"]
    # choose.qdl: `with v in V where v > 1`, and then an `either`
    assert len(picked) == 1 and picked[0]["name"] == "v" and picked[0]["value"] in (2, 3)


def test_explanations_are_whole_sentences(capsys, tmp_path):
    code, doc = json_of(capsys, tmp_path, "check", str(S5))
    assert code == 12
    built = build_file(str(S5))
    trace = bfs(built.model, Options(), None).trace
    explain = explainer(built.ast.sources, built.checked.consts)
    assert explain is not None and trace is not None
    parts = explain(built.model.info, trace)
    got = doc["trace"]["explanation"]
    assert got and all(s[-1] in ".!?" and s[0].isupper() for s in got)
    # nothing lost or added: the same words in the same order
    assert " ".join(got).split() == " ".join(parts).split()


@pytest.mark.parametrize(("parts", "want"), [
    (["A write at step 3 (pass 1);", "Xen logs it only when unmapped.", "The target holds 0."],
     ["A write at step 3 (pass 1); Xen logs it only when unmapped.", "The target holds 0."]),
    (["One sentence, split", "in two."], ["One sentence, split in two."]),
    ([], []),
])
def test_sentences(parts, want):
    assert sentences(parts) == want


# limit.qdl: `below` fails at x == LIMIT, LIMIT steps in; x stops at TOP = 5, a deadlock
MANIFEST = """\
[[run]]
name = "limit as expected"
model = "{limit}"
params = {{ LIMIT = 2 }}
expect = {{ below = {{ verdict = "violated", length = 2 }}, deadlock = "violated" }}

[[run]]
name = "limit: the manifest is wrong"
model = "{limit}"
expect = {{ below = "holds", deadlock = "violated" }}
"""


@pytest.mark.parametrize(("fix", "code"), [(False, 1), (True, 0)])
def test_regress_json_has_the_exit_code(capsys, tmp_path, fix, code):
    text = MANIFEST.format(limit=(TRACE_MODELS / "limit.qdl").as_posix())
    if fix:
        text = text.replace('below = "holds"', 'below = "violated"')
    manifest = tmp_path / "m.toml"
    manifest.write_text(text)
    got, doc = json_of(capsys, tmp_path, "regress", str(manifest), "--allow-outside")
    assert got == code and doc["exit_code"] == code and doc["ok"] == (code == 0)
    assert errors(REGRESS, doc) == []
    wrong = [p for r in doc["runs"] for p in r["properties"] if not p["ok"]]
    if not fix:
        # limit.qdl: `below` fails at x == LIMIT: the manifest's "holds" is wrong, and why says so
        assert len(wrong) == 1 and "invariant `below`" in wrong[0]["why"]


def test_steps_the_parameters_rule_out_are_listed_apart(capsys, tmp_path):
    # s17 runs with RECOVERY=BlkifRecover: the target frontend's branches for the other settings
    # cannot fire; they are `not_used`, with the setting, and never among the steps never fired
    code, doc = json_of(capsys, tmp_path, "check", str(ROOT / "models" / "s17_stop_processing_without_unmap.qdl"))
    assert errors(RESULT, doc) == []
    covered = doc["covered"]
    apart = {u["action"] for u in covered["not_used"]}
    assert apart and not apart & set(covered["never_fired"])
    assert any(u["with"] == "RECOVERY=BlkifRecover" for u in covered["not_used"])
    fired = {a["action"] for a in doc["coverage"] if a["fired"] > 0}
    assert fired and not apart & fired
