"""Traces that survive edits: program counters by stable names, replay after a comment, exit 22
naming the first step after a real change.

The expected names are read off the models' structure as written here (which statement
is the how-many-th of which block), not from the output under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quiesce_check.build import build_text
from quiesce_check.cli import main

HERE = Path(__file__).parent
ROOT = HERE.parents[1]

NESTED = """\
var x: 0..3 = 0;
var y: 0..3 = 0;

process P {
    x := 1;
    if x == 1 {
        y := 1;
    } else {
        y := 2;
    }
    top: while x < 3 {
        x := x + 1;
    }
    for i in 0..1 {
        again: y := i;
        either { skip; } or { y := 0; }
    }
}
"""


def test_stable_names_follow_the_structure():
    pos = build_text(NESTED).model.info.layout.instances[0][0].positions
    names = [pos.names[k] for k in pos.keys]
    assert names == [
        "body_1",                     # x := 1
        "body_2",                     # the if
        "body_2_then_1", "body_2_else_1",
        "top",                        # the labelled while
        "top_do_1",                   # its body's first statement, named from the label
        "again_for1",                 # the label in the for names each iteration's copy
        "body_4_for1_2",              # the either, second statement of the for's body
        "body_4_for1_2_or1_1", "body_4_for1_2_or2_1",
        "again_for2", "body_4_for2_2", "body_4_for2_2_or1_1", "body_4_for2_2_or2_1",
        "end",
    ]
    assert all(n.isidentifier() for n in names)


def test_a_comment_or_a_blank_line_moves_no_name():
    before = build_text(NESTED).model.info.layout.instances[0][0].positions
    edited = NESTED.replace("    top:", "    // a comment\n\n    top:").replace("var y", "// about y\nvar y")
    after = build_text(edited).model.info.layout.instances[0][0].positions
    assert [before.names[k] for k in before.keys] == [after.names[k] for k in after.keys]
    # while the lines people read did move
    assert before.stmt[before.keys[4]].span.line + 3 == after.stmt[after.keys[4]].span.line


def test_a_label_that_would_clash_names_every_position_by_its_path():
    text = "var x: 0..3 = 0;\nprocess P {\n    x := 1;\n    end: x := 2;\n}\n"
    pos = build_text(text).model.info.layout.instances[0][0].positions
    assert [pos.names[k] for k in pos.keys] == ["body_1", "body_2", "end"]


# ------------------------------------------------------------------ replay after an edit

COUNTER = """\
var x: 0..5 = 0;

process P {
    x := 1;
    x := 2;
    x := 3;
}

invariant small: x < 3;
"""


def _record(capsys, tmp_path: Path, text: str, *extra: str) -> Path:
    model = tmp_path / "model.qdl"
    model.write_text(text)
    itf = tmp_path / "trace.itf.json"
    code = main(["check", str(model), "--itf", str(itf), "--no-coverage", *extra])
    capsys.readouterr()
    assert code == 12 and itf.exists()
    return itf


def _replay(capsys, tmp_path: Path, itf: Path, text: str) -> tuple[int, str]:
    model = tmp_path / "edited.qdl"
    model.write_text(text)
    code = main(["replay", str(itf), str(model)])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out + cap.err
    return code, cap.err


ENGINES = [("--backend", "native"), ("--backend", "python"), ("--engine", "bmc"), ("--engine", "dfs")]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("edit", [
    lambda t: "// a comment line above everything\n" + t,
    lambda t: t.replace("    x := 2;", "    // why x is 2\n\n    x := 2;"),
    lambda t: t.replace("x := 1;", "x := 1;   // trailing"),
])
def test_replay_after_a_comment_is_inserted(capsys, tmp_path, engine, edit):
    if engine == ("--backend", "native") and not _compiler():
        pytest.skip("no C compiler")
    itf = _record(capsys, tmp_path, COUNTER, *engine)
    code, err = _replay(capsys, tmp_path, itf, edit(COUNTER))
    assert code == 12, err  # the recorded violation, reproduced
    assert "does not replay" not in err


@pytest.mark.parametrize(("edited", "step", "words"), [
    # step 2 is `x := 2`, which now writes 4
    (COUNTER.replace("x := 2;", "x := 4;"), 2, "x is 4, the trace says 2"),
    # a statement inserted before `x := 2`: step 2 now runs it, and x stays 1
    (COUNTER.replace("    x := 2;", "    skip;\n    x := 2;"), 2, "x is 1, the trace says 2"),
    # `x := 3` removed: the process has no third statement, which state 2 stands at
    (COUNTER.replace("    x := 3;\n", ""), 2, "`P.pc` is 'body_3', which is none of the process's positions"),
    # a new variable: no state of the trace is one of the model's
    (COUNTER.replace("var x", "var z: bool = false;\nvar x"), 0, "the model has z, the trace not"),
])
def test_a_changed_model_names_the_first_step_that_does_not_replay(capsys, tmp_path, edited, step, words):
    itf = _record(capsys, tmp_path, COUNTER)
    code, err = _replay(capsys, tmp_path, itf, edited)
    assert code == 22
    where = "the initial state is not one of this model's" if step == 0 else f"does not replay: step {step}"
    assert where in err and words in err


def test_a_trace_written_with_lines_replays_while_no_line_moves(capsys, tmp_path):
    """Earlier versions wrote `line:col`: such a trace still replays on the model it came from."""
    itf = _record(capsys, tmp_path, COUNTER)
    doc = json.loads(itf.read_text())
    for state in doc["states"]:
        state["P.pc"] = state["#meta"]["positions"]["P.pc"]
        assert ":" in state["P.pc"] or state["P.pc"] == "end"
    itf.write_text(json.dumps(doc))
    code, err = _replay(capsys, tmp_path, itf, COUNTER)
    assert code == 12, err


def test_a_xen_counterexample_replays_after_a_comment(capsys, tmp_path):
    model = ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl"
    itf = tmp_path / "s5.itf.json"
    assert main(["check", str(model), "--itf", str(itf), "--no-coverage"]) == 12
    capsys.readouterr()
    edited = tmp_path / model.name
    edited.write_text("// a note at the top\n" + model.read_text())  # it uses only the xen vocabulary
    code = main(["replay", str(itf), str(edited)])
    cap = capsys.readouterr()
    assert code == 12, cap.err
    assert "all 16 steps replay" in cap.out


def test_hook_writes_its_counterexample_as_itf(capsys, tmp_path):
    spec = ROOT / "specs" / "hooks" / "s15_handshake.qdl"
    model = ROOT / "models" / "v2_blkfront_blkback.qdl"
    itf = tmp_path / "hook.itf.json"
    code = main(["hook", str(spec), "--model", str(model), "--param", "NREQS=1", "--without", "wait_ack",
                 "--backend", "python", "--no-coverage", "--itf", str(itf)])
    cap = capsys.readouterr()
    assert code == 13  # as S19 (test_hooks.py): a liveness lasso is the shortest failure
    assert f"trace written to {itf}" in cap.out
    doc = json.loads(itf.read_text())
    assert doc["#meta"]["violation"]["kind"] == "liveness"
    assert isinstance(doc["loop"], int) and 0 <= doc["loop"] < len(doc["states"])
    assert "NREQS" in doc["params"] and doc["states"][0]["NREQS"] == {"#bigint": "1"}


def _compiler() -> bool:
    import shutil
    return any(shutil.which(c) for c in ("cc", "gcc", "clang"))
