"""The swarm against breadth-first search: a violation it reports is one bfs finds too, by a real
path no shorter than bfs's shortest; on a model that holds it ends incomplete, never "holds"; a
search with no bound meets exactly the states bfs counts; the same seed and workers give the same
result, in processes and on Ray as in this process."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

from quiesce_check.build import build_file, build_text
from quiesce_check.cli import main
from quiesce_check.compile.cgen import compiler
from quiesce_check.compile.deadline import Deadline
from quiesce_check.engines import ENGINES, Refused, breadth_first, run_checked
from quiesce_check.engines.result import VERDICT_OF, NullReporter, Options, Result, Status, Verdict
from quiesce_check.engines.swarm import Budget, Searcher, SwarmMismatch, confirm, search_seed
from quiesce_check.trace.types import Step
from tests.conftest import ROOT, model_files

SPEC = ENGINES["swarm"]
PRECOPY = ROOT / "models" / "precopy_backend.qdl"
BACKENDS = ["python", "native"] if compiler() is not None else ["python"]


def temporal(path: Path) -> bool:
    info = build_file(str(path)).model.info
    return bool(info.liveness or info.step_properties)


SAFETY_MODELS = [p for p in model_files() if not temporal(p)]


def run(path: Path | str, **kw: object) -> Result:
    return run_checked(SPEC, build_file(str(path)).model, Options(**kw), NullReporter())  # type: ignore[arg-type]


def replays(model, trace) -> bool:  # type: ignore[no-untyped-def]
    try:
        confirm(model, trace, True)
    except SwarmMismatch:
        return False
    return True


@pytest.mark.parametrize("path", SAFETY_MODELS, ids=lambda p: p.name)
def test_against_bfs_on_every_repository_model(path: Path) -> None:
    model = build_file(str(path)).model
    ref = breadth_first(model, Options(keep_going=True), NullReporter())
    got = run_checked(SPEC, model, Options(walks=4), NullReporter())
    assert got.verdict is not Verdict.HOLDS and not got.complete
    assert all(p.status is not Status.HOLDS for p in got.properties)
    if ref.verdict is Verdict.HOLDS:
        assert got.verdict is Verdict.INCOMPLETE and got.trace is None
        return
    # these models are small enough for one search to meet every state: a violation is found
    assert got.trace is not None, ref.verdict
    assert got.trace.property in ref.traces
    shortest = ref.traces[got.trace.property]
    assert got.trace.kind == shortest.kind
    assert len(got.trace.steps) >= len(shortest.steps)
    assert replays(model, got.trace)
    assert got.verdict is VERDICT_OF[got.trace.kind]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", [p for p in SAFETY_MODELS if p.stem in
                                  ("peterson", "two_phase_commit", "s15_quiesce_handshake", "precopy_backend")],
                         ids=lambda p: p.name)
def test_a_search_without_bounds_meets_exactly_the_states_bfs_counts(path: Path, backend: str) -> None:
    model = build_file(str(path)).model
    ref = breadth_first(model, Options(), NullReporter())
    assert ref.verdict is Verdict.HOLDS
    searcher = Searcher(model, backend)
    for k in range(3):
        rep = searcher.search(search_seed(7, k), Budget(ref.stats.distinct + 1, None, None, True, None))
        assert rep.backend == backend and rep.trace is None
        assert rep.exhausted and rep.distinct == ref.stats.distinct
        assert [f > 0 for f in rep.fired] == [f > 0 for f in ref.stats.fired]
        assert sum(rep.new) + len(set(model.initial_states())) == ref.stats.distinct


def test_a_model_that_holds_ends_incomplete_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(ROOT / "examples" / "peterson.qdl"), "--engine", "swarm", "--workers", "1",
                 "--walks", "3", "--seed", "11"])
    out = capsys.readouterr().out
    assert code == 20
    assert "Verdict: incomplete (exit 20)" in out and "seed 11" in out
    assert "holds" not in out.replace("--engine bfs can", "")
    assert "one search met every reachable state (42)" in out  # bfs counts 42


def test_a_violation_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl"
    code = main(["check", str(path), "--engine", "swarm", "--workers", "1", "--walks", "2", "--seed", "5"])
    out = capsys.readouterr().out
    assert code == 12 and "Verdict: violated (exit 12)" in out and "seed 5" in out


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_seed_gives_the_same_result(backend: str) -> None:
    path = ROOT / "models" / "s8_completion_after_final_clean.qdl"
    a, b = (run(path, walks=6, seed=3, backend=backend) for _ in range(2))
    assert a.trace is not None and a.trace == b.trace
    assert dataclasses.replace(a.stats, elapsed=0) == dataclasses.replace(b.stats, elapsed=0)
    c = run(path, walks=6, seed=4, backend=backend)
    assert c.trace is not None and replays(build_file(str(path)).model, c.trace)


def test_searches_differ_by_seed() -> None:
    # the orders differ: on a model too big for one search, two seeds meet different sets of states
    model = build_file(str(PRECOPY), {"NPAGES": 3, "NREQ": 2}).model
    searcher = Searcher(model, "auto")
    reps = [searcher.search(search_seed(0, k), Budget(500, None, None, True, None)) for k in range(2)]
    assert all(r.distinct == 500 and not r.exhausted for r in reps)
    assert reps[0].fired != reps[1].fired or reps[0].depth != reps[1].depth
    assert len({search_seed(0, k) for k in range(1000)}) == 1000


@pytest.mark.parametrize("backend", BACKENDS)
def test_bounds_per_search(backend: str) -> None:
    model = build_file(str(PRECOPY), {"NPAGES": 3, "NREQ": 2}).model
    r = run_checked(SPEC, model, Options(walks=5, max_states=300, max_depth=6, backend=backend), NullReporter())
    assert r.verdict is Verdict.INCOMPLETE and r.limit is not None
    assert "5 of 5 searches, each to --max-states 300, --max-depth 6" in r.limit
    assert r.stats.distinct <= 300 and r.stats.depth <= 6


def test_the_time_limit_stops_the_swarm() -> None:
    model = build_file(str(PRECOPY), {"NPAGES": 3, "NREQ": 2}).model
    r = run_checked(SPEC, model, Options(walks=10**6, max_states=2000, deadline=Deadline(0.5)), NullReporter())
    assert r.verdict is Verdict.INCOMPLETE and r.limit == "--time-limit 0.5s"
    assert r.stats.elapsed < 5


def test_workers_give_the_same_result_as_one_process_per_round() -> None:
    # two processes run the rounds of two searches that this process runs one after the other
    # only when nothing is found; with a violation, the round decides, so compare like with like
    path = ROOT / "models" / "s19_quiesce_without_ack.qdl"
    a = run(path, walks=6, seed=2, workers=2)
    b = run(path, walks=6, seed=2, workers=2)
    assert a.trace is not None and a.trace == b.trace and a.stats.fired == b.stats.fired
    assert "2 at a time in 2 processes" in (a.note or "")
    held = run(ROOT / "examples" / "two_phase_commit.qdl", walks=4, workers=2)
    assert held.verdict is Verdict.INCOMPLETE


def test_confirm_rejects_a_trace_that_is_not_a_run() -> None:
    model = build_file(str(ROOT / "examples" / "peterson_broken.qdl")).model
    r = run_checked(SPEC, model, Options(walks=2), NullReporter())
    assert r.trace is not None and replays(model, r.trace)
    steps = list(r.trace.steps)
    steps[0] = Step(steps[0].action + 1, steps[0].choices)
    assert not replays(model, dataclasses.replace(r.trace, steps=tuple(steps)))
    assert not replays(model, dataclasses.replace(r.trace, property="no_such_property"))


def test_refusals(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    live = build_file(str(ROOT / "models" / "s15_handshake_liveness.qdl")).model
    with pytest.raises(Refused, match="--engine swarm does not check liveness"):
        run_checked(SPEC, live, Options(), NullReporter())
    step = build_text("var x: 0..2 = 0;\naction a { x := (x + 1) % 3; }\nalways step s: x' != x;\n", "m.qdl").model
    with pytest.raises(Refused, match="step properties"):
        run_checked(SPEC, step, Options(), NullReporter())
    model = build_file(str(ROOT / "examples" / "peterson.qdl")).model
    with pytest.raises(Refused, match="keep_going"):
        run_checked(SPEC, model, Options(keep_going=True), NullReporter())
    path = str(ROOT / "examples" / "peterson.qdl")
    for extra, words in ((["--continue"], "--continue needs"), (["--checkpoint", str(tmp_path / "c")],
                                                               "--checkpoint needs")):
        assert main(["check", path, "--engine", "swarm", *extra]) == 151
        assert words in capsys.readouterr().err
    assert not SPEC.symmetry and not SPEC.checkpoints and not SPEC.keep_going


def test_help_lists_the_swarm(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "swarm: many depth-" in out and "bugs (proves nothing)" in out


# Ray: a local Ray of two CPUs, started once for this module -----------------------------------

@pytest.fixture(scope="module")
def ray_local():  # type: ignore[no-untyped-def]
    ray = pytest.importorskip("ray")
    # address "local": a Ray of this test's own, whatever other Ray runs on this machine
    temp = tempfile.mkdtemp(prefix="qcray")   # Ray's session files, removed after
    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False, _temp_dir=temp)
    yield ray
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def test_ray_gives_the_same_result_as_processes(ray_local) -> None:  # type: ignore[no-untyped-def]
    path = ROOT / "models" / "s19_quiesce_without_ack.qdl"
    on_ray = run(path, walks=6, seed=2, workers=2, cluster="local")
    local = run(path, walks=6, seed=2, workers=2)
    assert on_ray.trace is not None and on_ray.trace == local.trace
    assert on_ray.stats.fired == local.stats.fired and on_ray.stats.generated == local.stats.generated
    assert "as 2 Ray actors" in (on_ray.note or "")
    held = run(ROOT / "examples" / "two_phase_commit.qdl", walks=4, cluster="local")
    assert held.verdict is Verdict.INCOMPLETE and held.trace is None
    assert "Ray actors" in (held.limit or "")


def _kill_one_later(find, after: float) -> threading.Thread:  # type: ignore[no-untyped-def]
    def kill() -> None:
        time.sleep(after)
        victims = find()
        assert victims, "no worker to kill"
        os.kill(victims[0], signal.SIGKILL)
    t = threading.Thread(target=kill)
    t.start()
    return t


LARGE = {"NPAGES": 5, "NREQ": 4}  # holds, 118 million states: no search of 10^6 meets them all


def test_a_worker_process_that_dies_ends_the_swarm_incomplete() -> None:
    model = build_file(str(PRECOPY), LARGE).model
    killer = _kill_one_later(lambda: [p.pid for p in multiprocessing.active_children()], 3.0)
    r = run_checked(SPEC, model, Options(walks=400, max_states=10**6, workers=2), NullReporter())
    killer.join()
    assert r.verdict is Verdict.INCOMPLETE and r.trace is None
    assert r.limit is not None and r.limit.startswith("a worker process ended before its search did")
    assert all(p.status not in (Status.HOLDS, Status.VACUOUS, Status.UNREACHED) for p in r.properties)


def test_a_ray_actor_that_dies_ends_the_swarm_incomplete(ray_local) -> None:  # type: ignore[no-untyped-def]
    model = build_file(str(PRECOPY), LARGE).model

    def parent(pid: int) -> int:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])

    def ours(pid: int) -> bool:  # below this process: the Ray this module started, no other
        while pid > 1:
            pid = parent(pid)
            if pid == os.getpid():
                return True
        return False

    def actors() -> list[int]:  # Ray names an actor's process after its class
        out = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and b"ray::Searcher" in (proc / "cmdline").read_bytes() \
                        and ours(int(proc.name)):
                    out.append(int(proc.name))
            except (OSError, ValueError, IndexError):
                continue
        return out
    killer = _kill_one_later(actors, 4.0)
    r = run_checked(SPEC, model, Options(walks=400, max_states=10**6, workers=2, cluster="local"), NullReporter())
    killer.join()
    assert r.verdict is Verdict.INCOMPLETE and r.trace is None
    assert r.limit is not None and r.limit.startswith("a Ray worker was lost")
