"""Checkpoints and `resume`: a search killed, interrupted or stopped by a limit goes on to exactly
the result of an uninterrupted run; a checkpoint is written atomically and checked on load.

Results are compared through `--json` with the fields that must differ left out: times, the
note on the checkpoint, and whether the run was resumed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quiesce_check import safe_write
from quiesce_check.cli import main
from quiesce_check.compile.cgen import compiler
from quiesce_check.engines import checkpoint as ck
from quiesce_check.engines.checkpoint import (
    CHECKPOINT_FILE,
    Checkpoint,
    CheckpointError,
    Snapshot,
    write_checkpoint,
)
from tests.cli.fuzzing import run_cli
from tests.conftest import ROOT

PRECOPY = ROOT / "models" / "precopy_backend.qdl"
# Found after about three million states and a couple of seconds in C: a 25-step counterexample.
LONG_C = ["--param", "NPAGES=5", "--param", "NREQ=2", "--param", "PERSISTENT=true"]
# The same kind of run, a second or two in Python: a 19-step counterexample after 96,233 states.
LONG_PY = ["--param", "NPAGES=3", "--param", "MAXV=2", "--param", "PERSISTENT=true"]

native = pytest.mark.skipif(compiler() is None, reason="no C compiler")


def comparable(doc: dict) -> dict:
    """A --json result without what may differ between a resumed and an uninterrupted run."""
    doc = json.loads(json.dumps(doc))
    for key in ("checkpoint", "resumed", "note", "backend"):
        doc.pop(key, None)
    doc["stats"].pop("seconds")
    doc["stats"].pop("states_per_second")
    doc["stats"].pop("store_bytes")
    return doc


def cli(*argv: object, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if k != "QUIESCE_CHECK_DEBUG"}
    e.update(env or {})
    p = subprocess.run([sys.executable, "-m", "quiesce_check", *map(str, argv)], capture_output=True, text=True,
                       timeout=timeout, env=e)
    assert "Traceback" not in p.stdout + p.stderr, p.stderr
    return p


def start(*argv: object) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "QUIESCE_CHECK_DEBUG"}
    return subprocess.Popen([sys.executable, "-m", "quiesce_check", *map(str, argv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for_checkpoint(proc: subprocess.Popen[str], directory: Path, states: int, timeout: float = 60) -> int:
    """Wait until the running search has saved at least `states` states; their number."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the search ended before it could be stopped part-way"
        try:
            count = Checkpoint(directory).snapshot.count
        except CheckpointError:
            count = 0
        if count >= states:
            return count
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def full_run(tmp_path: Path, params: list[str], backend: str) -> dict:
    out = tmp_path / "full.json"
    p = cli("check", PRECOPY, *params, "--backend", backend, "--no-coverage", "--json", out)
    assert p.returncode == 14, p.stderr
    return json.loads(out.read_text())


@pytest.mark.parametrize(("backend", "params", "states"), [
    pytest.param("native", LONG_C, 300_000, marks=native),
    ("python", LONG_PY, 15_000),
])
def test_a_search_killed_part_way_resumes_to_the_same_result(tmp_path, backend, params, states):
    full = full_run(tmp_path, params, backend)
    assert full["trace"]["length"] > 15 and full["stats"]["distinct"] > 2 * states
    d = tmp_path / "ck"
    proc = start("check", PRECOPY, *params, "--backend", backend, "--checkpoint", d, "--checkpoint-every", "0.2",
                 "--no-coverage")
    try:
        saved = wait_for_checkpoint(proc, d, states)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert saved < full["stats"]["distinct"]
    out = tmp_path / "resumed.json"
    p = cli("resume", d, "--backend", backend, "--no-coverage", "--json", out)
    assert p.returncode == 14, p.stderr
    resumed = json.loads(out.read_text())
    assert resumed["resumed"] is True
    assert comparable(resumed) == comparable(full)
    assert resumed["stats"]["distinct"] == full["stats"]["distinct"]
    assert resumed["trace"] == full["trace"]


@pytest.mark.parametrize(("sig", "backend", "params", "states"), [
    (signal.SIGINT, "python", LONG_PY, 5_000),
    pytest.param(signal.SIGTERM, "native", LONG_C, 100_000, marks=native),
])
def test_ctrl_c_prints_partial_statistics_and_saves(tmp_path, sig, backend, params, states):
    d = tmp_path / "ck"
    proc = start("check", PRECOPY, *params, "--backend", backend, "--checkpoint", d, "--checkpoint-every", "0.2",
                 "--no-coverage")
    try:
        wait_for_checkpoint(proc, d, states)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "Traceback" not in out + err
    assert proc.returncode == 20, err
    assert "stopped: interrupted" in out and "covered:" in out
    assert "distinct" in out and "Verdict: incomplete (exit 20)" in out
    assert f"quiesce-check resume {d}" in out
    p = cli("resume", d, "--backend", backend, "--no-coverage", "--json", tmp_path / "r.json")
    assert p.returncode == 14, p.stderr
    assert comparable(json.loads((tmp_path / "r.json").read_text())) == comparable(full_run(tmp_path, params,
                                                                                             backend))


# ------------------------------------------------------------- in-process: limits, crossing backends

def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out + cap.err
    return code, cap.out, cap.err


@pytest.mark.parametrize("first", [pytest.param("native", marks=native), "python"])
@pytest.mark.parametrize("then", [pytest.param("native", marks=native), "python"])
@pytest.mark.parametrize("limit", [["--max-states", "1"], ["--max-states", "1234"], ["--max-depth", "9"],
                                   ["--max-states", "100000"]])
def test_a_search_stopped_by_a_limit_resumes_on_either_backend(capsys, tmp_path, first, then, limit):
    params = ["--param", "NPAGES=3", "--param", "PERSISTENT=true", "--continue", "--no-deadlock"]
    code, _, _ = run(capsys, "check", PRECOPY, *params, "--backend", first, "--json", tmp_path / "full.json")
    assert code == 14
    full = json.loads((tmp_path / "full.json").read_text())
    d = tmp_path / "ck"
    code, out, _ = run(capsys, "check", PRECOPY, *params, "--backend", first, *limit, "--checkpoint", d)
    finished = limit == ["--max-states", "100000"]
    assert code == (14 if finished else 20)
    assert finished or f"quiesce-check resume {d}" in out
    code, out, _ = run(capsys, "resume", d, "--backend", then, "--json", tmp_path / "r.json",
                       "--itf", tmp_path / "r.itf.json")
    assert code == 14, out
    assert comparable(json.loads((tmp_path / "r.json").read_text())) == comparable(full)
    # the trace a resumed search writes replays on the model
    assert run(capsys, "replay", tmp_path / "r.itf.json", PRECOPY)[0] == 14


@pytest.mark.parametrize("backend", [pytest.param("native", marks=native), "python"])
def test_a_resumed_search_goes_on_past_its_limit_again(capsys, tmp_path, backend):
    # resume with a new limit: it stops again, and the next resume still ends where a full run does
    base = ["--param", "NPAGES=3", "--backend", backend]
    code, _, _ = run(capsys, "check", PRECOPY, *base, "--json", tmp_path / "full.json")
    assert code == 0
    d = tmp_path / "ck"
    assert run(capsys, "check", PRECOPY, *base, "--max-states", "3000", "--checkpoint", d)[0] == 20
    code, out, _ = run(capsys, "resume", d, "--backend", backend, "--max-states", "8000")
    assert code == 20 and "--max-states 8000" in out
    code, _, _ = run(capsys, "resume", d, "--backend", backend, "--json", tmp_path / "r.json")
    assert code == 0
    assert comparable(json.loads((tmp_path / "r.json").read_text())) == \
        comparable(json.loads((tmp_path / "full.json").read_text()))


# ------------------------------------------------------------- checked on load

@pytest.fixture
def saved(capsys, tmp_path) -> Path:
    d = tmp_path / "ck"
    code, _, _ = run(capsys, "check", PRECOPY, "--param", "NPAGES=3", "--max-states", "500", "--checkpoint", d)
    assert code == 20
    return d


def resume_error(capsys: pytest.CaptureFixture[str], *argv: object) -> str:
    code, out, err = run(capsys, "resume", *argv)
    assert code == 151, out + err
    assert err.startswith("error: ") and len(err.splitlines()) <= 3
    return err


def test_a_damaged_checkpoint_is_refused(capsys, saved):
    f = saved / CHECKPOINT_FILE
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x40
    f.write_bytes(bytes(data))
    assert "damaged" in resume_error(capsys, saved)


@pytest.mark.parametrize("keep", [0, 10, 20, 100, -33, -1])
def test_a_truncated_checkpoint_is_refused(capsys, saved, keep):
    f = saved / CHECKPOINT_FILE
    data = f.read_bytes()
    f.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    err = resume_error(capsys, saved)
    assert "truncated" in err or "damaged" in err or "not a quiesce-check checkpoint" in err


def test_a_changed_model_is_refused(capsys, tmp_path):
    m = tmp_path / "m.qdl"
    shutil.copy(PRECOPY, m)
    d = tmp_path / "ck"
    assert run(capsys, "check", m, "--max-states", "100", "--checkpoint", d)[0] == 20
    m.write_text(m.read_text().replace("param MAXV = 1;", "param MAXV = 2;"))
    assert "has changed since the checkpoint was written" in resume_error(capsys, d)
    m.unlink()
    assert "cannot be read" in resume_error(capsys, d) and "--model" in resume_error(capsys, d)


def test_a_moved_model_is_found_with_model(capsys, tmp_path):
    m = tmp_path / "m.qdl"
    shutil.copy(PRECOPY, m)
    d = tmp_path / "ck"
    assert run(capsys, "check", m, "--max-states", "100", "--checkpoint", d)[0] == 20
    moved = tmp_path / "elsewhere.qdl"
    m.rename(moved)
    code, out, _ = run(capsys, "resume", d, "--model", moved)
    assert code == 0 and "resumed" in out


def test_tampered_metadata_is_refused(capsys, saved):
    # a header rewritten with its checksum: the parameters no longer match the generated code
    f = saved / CHECKPOINT_FILE
    c = Checkpoint(saved)
    snap = c.read_arrays()
    meta = dict(c.meta, params={**c.meta["params"], "NPAGES": 2})
    write_checkpoint(saved, meta, snap)
    assert f.exists()
    err = resume_error(capsys, saved)
    assert "builds this model differently" in err or "does not fit" in err
    write_checkpoint(saved, dict(c.meta, params={"NOPE": 1}), snap)
    assert "no longer builds" in resume_error(capsys, saved)
    write_checkpoint(saved, dict(c.meta, model=7), snap)
    assert "names no model" in resume_error(capsys, saved)


@pytest.mark.parametrize("change", ["parent", "state", "duplicate", "first", "head"])
@pytest.mark.parametrize("backend", [pytest.param("native", marks=native), "python"])
def test_tampered_states_are_refused(capsys, saved, change, backend):
    c = Checkpoint(saved)
    snap = c.read_arrays()
    states = bytearray(snap.states)
    parents = bytearray(snap.parents)
    if change == "parent":
        parents[40:44] = (300).to_bytes(4, "little")
    elif change == "state":
        states[8 * snap.words * 20:8 * snap.words * 21] = b"\xff" * 8 * snap.words
    elif change == "duplicate":
        states[8 * snap.words * 30:8 * snap.words * 31] = states[8 * snap.words * 29:8 * snap.words * 30]
    elif change == "first":
        snap.goal_first = [snap.count + 5] * len(snap.goal_first)
    else:
        snap.head = snap.count + 1
    snap.states, snap.parents = memoryview(states), memoryview(parents)
    write_checkpoint(saved, c.meta, snap)
    err = resume_error(capsys, saved, "--backend", backend)
    assert ("queue does not fit" if change == "head" else "saved search") in err


def test_a_kill_while_writing_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    d = tmp_path / "ck"
    old = Snapshot(words=1, count=2, head=1, level_end=1, depth=0, generated=2, fired=[2], fresh=[1],
                   goal_first=[], end_goal_first=[], inv_first=[], fin_first=[], deadlock_first=-1, elapsed=1.0,
                   states=memoryview(bytes(16)), parents=memoryview((0xFFFFFFFF).to_bytes(4, "little") * 2))
    write_checkpoint(d, {"run": "old"}, old)
    before = (d / CHECKPOINT_FILE).read_bytes()

    class Killed(BaseException):
        pass

    def dies(*args: object) -> None:
        raise Killed

    new = Snapshot(**{**old.__dict__, "count": 1, "head": 0, "level_end": 1,
                      "states": memoryview(bytes(8)), "parents": memoryview(bytes(4))})
    for point in ("_write_all", "replace", "fsync"):
        with monkeypatch.context() as m:
            if point == "_write_all":
                m.setattr(ck, "_write_all", dies)
            else:  # the checkpoint is written by safe_write.write_atomic
                m.setattr(safe_write.os, point, dies)
            with pytest.raises(Killed):
                write_checkpoint(d, {"run": "new"}, new)
        assert (d / CHECKPOINT_FILE).read_bytes() == before
        assert Checkpoint(d).meta == {"run": "old"}
        assert Checkpoint(d).read_arrays().count == 2
    write_checkpoint(d, {"run": "new"}, new)  # and the stale temporary file goes
    assert Checkpoint(d).meta == {"run": "new"}
    assert sorted(p.name for p in d.iterdir()) == [CHECKPOINT_FILE]


@pytest.mark.parametrize("argv", [
    ["resume", "{tmp}/nothing"],
    ["resume", "{tmp}/file"],
    ["resume", "{tmp}"],
    ["check", str(PRECOPY), "--checkpoint", "{tmp}/file"],
    ["check", str(PRECOPY), "--checkpoint", "{tmp}/ck", "--engine", "dfs"],
    ["check", str(PRECOPY), "--checkpoint", "{tmp}/ck", "--checkpoint-every", "0"],
    ["check", str(PRECOPY), "--memory-limit", "0"],
    ["check", str(PRECOPY), "--memory-limit", "lots"],
])
def test_bad_checkpoint_command_lines(tmp_path, argv):
    (tmp_path / "file").write_text("x")
    r = run_cli([a.format(tmp=tmp_path) for a in argv])
    assert r.code == 151, r.err
    assert r.err.startswith("error: ")


def test_a_directory_with_a_checkpoint_is_not_overwritten(capsys, saved):
    before = (saved / CHECKPOINT_FILE).read_bytes()
    code, _, err = run(capsys, "check", PRECOPY, "--checkpoint", saved)
    assert code == 151 and "holds a checkpoint already" in err and f"resume {saved}" in err
    assert (saved / CHECKPOINT_FILE).read_bytes() == before


FINISHING = """
// the first state expanded fails an assertion (one step); the last state of the same level has no
// step at all (a deadlock, no step): the search finishes the level after the assertion, and the
// deadlock, shorter, is the answer
var a: 0..499 = any;
var b: 0..499 = any;
action step when not (a == 499 and b == 499) { assert a + b != 0; a := (a + 1) % 500; }
"""


@pytest.mark.parametrize("first", [pytest.param("native", marks=native), "python"])
@pytest.mark.parametrize("then", [pytest.param("native", marks=native), "python"])
def test_a_search_stopped_while_finishing_a_level_resumes(capsys, tmp_path, first, then):
    m = tmp_path / "finishing.qdl"
    m.write_text(FINISHING)
    code, _, _ = run(capsys, "check", m, "--backend", first, "--json", tmp_path / "full.json")
    full = json.loads((tmp_path / "full.json").read_text())
    assert code == 11 and full["trace"]["length"] == 0
    d = tmp_path / "ck"
    code, out, _ = run(capsys, "check", m, "--backend", first, "--time-limit", "0.000001", "--checkpoint", d)
    # the limit struck while the level was being finished: the assertion, found first, is the answer
    assert code == 14 and "stopped: --time-limit" in out
    saved = Checkpoint(d).snapshot
    assert saved.head == 0 and saved.count == 250_000  # before the expansion that met the assertion
    code, _, _ = run(capsys, "resume", d, "--backend", then, "--json", tmp_path / "r.json")
    assert code == 11
    assert comparable(json.loads((tmp_path / "r.json").read_text())) == comparable(full)


# ------------------------------------------------------------- stopped among the initial states

ANY_INITIAL = "var a: 0..9 = any;\naction step { skip; }\ninvariant not_five: a != 5;\n"


@pytest.mark.parametrize("first", [pytest.param("native", marks=native), "python"])
@pytest.mark.parametrize("then", [pytest.param("native", marks=native), "python"])
@pytest.mark.parametrize("how", [["--max-states", "3"], ["--no-deadlock"]])
def test_a_search_stopped_among_its_initial_states_resumes(capsys, tmp_path, first, then, how):
    # FIXED: the C search saved a level end beyond the states it kept ("the header's queue does not
    # fit its states"), and the Python search added every initial state past --max-states
    m = tmp_path / "initial.qdl"
    m.write_text(ANY_INITIAL)
    settings = how if how == ["--no-deadlock"] else []
    code, _, _ = run(capsys, "check", m, "--backend", first, *settings, "--json", tmp_path / "full.json")
    assert code == 12
    d = tmp_path / "ck"
    code, out, _ = run(capsys, "check", m, "--backend", first, *how, "--checkpoint", d)
    if how[0] == "--max-states":
        assert code == 20 and "3 distinct" in out
        assert Checkpoint(d).snapshot.count == 0  # the initial states are added again on resume
    else:
        assert code == 12  # a violation in an initial state that is not the first
    code, _, _ = run(capsys, "resume", d, "--backend", then, "--json", tmp_path / "r.json")
    assert code == 12
    assert comparable(json.loads((tmp_path / "r.json").read_text())) == \
        comparable(json.loads((tmp_path / "full.json").read_text()))


def test_a_default_parameter_beyond_what_param_accepts_resumes(capsys, tmp_path):
    # FIXED: a checkpoint recording `param BIG = 10000000000` was refused as damaged, and so was a
    # trace: recorded parameters were held to --param's bound of 10^9
    m = tmp_path / "big.qdl"
    m.write_text("param BIG = 10000000000;\nvar x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\n"
                 "invariant small: x < 3 or BIG < 5;\n")
    d = tmp_path / "ck"
    assert run(capsys, "check", m, "--max-states", "2", "--checkpoint", d)[0] == 20
    assert run(capsys, "resume", d, "--itf", tmp_path / "t.json")[0] == 12
    code, out, _ = run(capsys, "replay", tmp_path / "t.json", m)
    assert code == 12 and "all 3 steps replay" in out


@pytest.mark.slow  # about 40 s: it fills a native store until it overflows
@native
def test_an_overflow_on_resume_goes_on_in_python_from_the_latest_save(capsys, tmp_path):
    # FIXED: the Python search re-read a checkpoint the C search had rewritten since it was opened,
    # and refused it as damaged ("its contents do not match their checksum")
    m = tmp_path / "overflow.qdl"
    m.write_text("var x: 0..1000000 = 0;\nvar y: 0..1 = 0;\naction inc when x < 1000000 { x := x + 1; }\n"
                 "action flip { y := 1 - y; }\ninvariant big: x * x * x * x >= 0;\n")
    d = tmp_path / "ck"
    assert run(capsys, "check", m, "--max-states", "100", "--checkpoint", d)[0] == 20
    code, out, err = run(capsys, "resume", d, "--checkpoint-every", "0.0001")
    assert code == 0, out + err
    assert "2,000,002 distinct" in out and "ran in Python" in out + err


MEMORY_FINISHING = """
var p: 0..2 in {0, 2};
var v: 0..200000 = 0;
action a when p == 0 { assert false; }
action b(w in 0..999, u in 0..199) when p == 2 { v := w * 200 + u; p := 1; }
action c when p == 1 { skip; }
"""


@pytest.mark.parametrize("backend", [pytest.param("native", marks=native), "python"])
def test_a_violation_found_before_the_memory_limit_is_the_answer(capsys, tmp_path, backend):
    # FIXED: the C search stopped by the memory limit while finishing the level reported
    # `incomplete` and lost the assertion it had found first
    m = tmp_path / "finishing.qdl"
    m.write_text(MEMORY_FINISHING)
    code, out, _ = run(capsys, "check", m, "--backend", backend, "--memory-limit", "2")
    assert code == 14 and "Counterexample (1 step): assertion" in out
