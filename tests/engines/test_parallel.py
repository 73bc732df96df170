"""The search shared among workers against the single search: the same verdicts, counts,
coverage and shortest lengths, with and without symmetry, on every model of the repository."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from quiesce_check.build import Built, build_file, build_text, symmetry_of
from quiesce_check.cli import main
from quiesce_check.compile.cgen import compiler
from quiesce_check.engines import Refused, breadth_first
from quiesce_check.engines.result import NullReporter, Options, Result
from tests.compile.test_differential import random_model
from tests.conftest import model_files
from tests.engines.test_symmetry import assert_real

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler")


def run(built: Built, options: Options) -> Result:
    return breadth_first(built.model, options, NullReporter())


def agree(built: Built, options: Options, workers: int) -> None:
    """`workers` workers give what one gives: whole searches alike in every count; a search that
    stops at a violation, the same verdict and shortest length (and, but for a tie between
    properties failing at that length, the same property)."""
    one = run(built, options)
    par = run(built, dataclasses.replace(options, workers=workers))
    assert par.backend.startswith(f"native, {workers} workers")
    assert par.complete == one.complete
    if one.complete:
        assert par.verdict is one.verdict
        assert [p.status for p in par.properties] == [p.status for p in one.properties]
        assert (par.stats.distinct, par.stats.generated, par.stats.depth) == (
            one.stats.distinct, one.stats.generated, one.stats.depth)
        # each step's count is the same; which step reached a state first (`new`) depends on the
        # order a level is expanded in, which workers change: only the total is the same
        assert par.stats.fired == one.stats.fired
        assert sum(par.stats.new) == sum(one.stats.new)
        assert {k: (t.kind, len(t.steps)) for k, t in par.traces.items()} == {
            k: (t.kind, len(t.steps)) for k, t in one.traces.items()}
    assert (par.trace is None) == (one.trace is None)
    if one.trace is not None and par.trace is not None:
        assert len(par.trace.steps) == len(one.trace.steps)
        every = run(built, dataclasses.replace(options, keep_going=True))
        tied = {k for k, t in every.traces.items() if len(t.steps) == len(one.trace.steps)}
        assert par.trace.property in tied
        if len(tied) == 1:
            assert (par.trace.kind, par.trace.property, par.verdict) == (
                one.trace.kind, one.trace.property, one.verdict)
    for t in par.traces.values():
        assert_real(built, t)
    # a search stopped by a violation may have seen more goals: each worker finishes the level
    assert set(par.witnesses) == set(one.witnesses) if one.complete else set(par.witnesses) >= set(one.witnesses)
    for name, w in par.witnesses.items():
        if name in one.witnesses:
            assert len(w.steps) == len(one.witnesses[name].steps)
        assert_real(built, w)


def _checked(path: Path) -> Built | None:
    built = build_file(str(path))
    return None if built.model.info.liveness else built


@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_repository_models(path: Path) -> None:
    built = _checked(path)
    if built is None:
        pytest.skip("liveness properties: the parallel search refuses them (tested below)")
    sym = symmetry_of(built)
    agree(built, Options(symmetry=sym), 2)
    agree(built, Options(symmetry=sym, keep_going=True), 3)


@pytest.mark.parametrize(("params", "workers"), [
    ({"NPAGES": 3, "NREQ": 2}, 2), ({"NPAGES": 3, "NREQ": 2}, 4), ({"PERSISTENT": True}, 2),
    ({"KEEP_PROCESSING": True, "NPAGES": 3}, 4), ({"RESPOND_FIRST": True, "NREQ": 2}, 2),
])
def test_precopy(params: dict, workers: int) -> None:
    built = build_file("models/precopy_backend.qdl", params)
    agree(built, Options(), workers)
    agree(built, Options(keep_going=True), workers)


def test_precopy_with_symmetry_and_without() -> None:
    built = build_file("models/precopy_symmetric.qdl")
    agree(built, Options(symmetry=symmetry_of(built), keep_going=True), 2)
    agree(built, Options(keep_going=True), 2)


@pytest.mark.parametrize("options", [Options(max_depth=7), Options(check_deadlock=False)])
def test_limits_that_fall_on_a_level(options: Options) -> None:
    agree(build_file("models/precopy_backend.qdl", {"NPAGES": 3}), options, 2)


def test_max_states_stops_within_a_round() -> None:
    built = build_file("models/precopy_backend.qdl", {"NPAGES": 3})
    r = run(built, Options(max_states=500, workers=2))
    assert not r.complete and r.limit == "--max-states 500" and r.verdict.value == "incomplete"
    assert r.stats.distinct >= 500


@pytest.mark.parametrize("text", [
    "var x: 0..3 = 0;\naction inc { x := x + 1; }\n",
    "var x: 0..3 = 2;\naction d { x := 4 / (x - 2); }\n",
    "var z: 0..1 = 0;\nprocess P { assert false; }\ninvariant inv: 1 / z == 1;\n",
    "var z: 0..1 = 0;\naction a { z := z + 2; }\ninvariant inv: 1 / z == 1;\n",
    "var z: 0..1 = 0;\naction a { assert z == 1; }\nreachable g: 1 / z == 0;\n",
    "var z: 0..1 = 0;\nprocess P { assert false; }\nterminal t: 1 / z == 1;\n",
    "var x: 0..5 = 0;\naction inc when x < 5 { x := x + 1; }\nalways step up: x' >= x;\n"
    "always step small: x' < 4;\n",
], ids=range(7))
def test_failing_steps_properties_and_step_properties(text: str) -> None:
    built = build_text(text, "e.qdl")
    agree(built, Options(), 2)
    agree(built, Options(keep_going=True), 3)


def test_liveness_is_refused() -> None:
    built = build_file("models/s15_handshake_liveness.qdl")
    with pytest.raises(Refused, match="liveness"):
        run(built, Options(workers=2))


def test_the_command_line_takes_workers(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "models/s5_persistent_ring_write_after_last_send.qdl", "--workers", "2"])
    out = capsys.readouterr().out
    assert code == 12 and "2 workers" in out
    assert main(["check", "models/s1_guest_only_writes.qdl", "--workers", "auto", "--no-coverage"]) == 0
    assert main(["check", "models/s15_handshake_liveness.qdl", "--workers", "2"]) == 151
    assert "does not check liveness" in capsys.readouterr().err


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_model())
def test_random_models(text: str) -> None:
    built = build_text(text, "random.qdl")
    agree(built, Options(max_depth=12), 2)
    agree(built, Options(max_depth=12, keep_going=True), 3)


def test_a_process_out_of_static_tls_loads_the_general_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # the fast thread-local model takes from a small reserve of the process's static TLS, which
    # runs out after many libraries: the search then loads the library built without it
    from quiesce_check.compile import cgen
    real = cgen.load_native
    asked: list[str] = []

    def load(*args: object, search: str = "bfs", **kwargs: object) -> cgen.NativeLib:
        asked.append(search)
        if search == "parallel":
            raise cgen.CompilerUnavailable("the compiled search could not be loaded: model.so: cannot allocate "
                                           "memory in static TLS block")
        return real(*args, search=search, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cgen, "load_native", load)
    built = build_file("models/precopy_backend.qdl", {"NPAGES": 3, "NREQ": 2})
    agree(built, Options(), 2)
    assert "parallel-dynamic-tls" in asked


@pytest.mark.parametrize(("first", "then"), [(2, 1), (2, 3), (1, 2)])
def test_a_checkpoint_goes_on_with_any_number_of_workers(tmp_path: Path, first: int, then: int) -> None:
    # stopped part-way through a level (a limit passes between two rounds), saved in the one
    # search's format, and resumed by another number of workers: the uninterrupted result
    from quiesce_check.engines.checkpoint import Checkpoint, CheckpointPlan
    built = build_file("models/precopy_backend.qdl", {"NPAGES": 3, "NREQ": 2})
    whole = run(built, Options())
    plan = CheckpointPlan(tmp_path, 0.0, {})
    part = run(built, Options(workers=first, max_states=30_000, checkpoint=plan))
    assert not part.complete and part.checkpoint is not None
    assert 30_000 <= part.stats.distinct < whole.stats.distinct
    done = breadth_first(built.model, Options(workers=then, checkpoint=plan), NullReporter(), Checkpoint(tmp_path))
    assert done.complete and done.resumed and done.verdict is whole.verdict
    assert (done.stats.distinct, done.stats.generated, done.stats.depth) == (
        whole.stats.distinct, whole.stats.generated, whole.stats.depth)
    assert done.stats.fired == whole.stats.fired


@pytest.mark.parametrize(("engine", "flags", "says"), [
    ("dfs", ["--workers", "2"], "--workers is an option of --engine bfs and swarm, not of --engine dfs"),
    ("random", ["--cluster", "local"], "--cluster is an option of --engine bfs and swarm"),
    ("swarm", ["--store", "fingerprint"], "--store is an option of --engine bfs, not of --engine swarm"),
])
def test_an_engine_that_does_not_scale_refuses_the_flags(engine: str, flags: list[str], says: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # never silently one process when workers were asked for
    assert main(["check", "models/s1_guest_only_writes.qdl", "--engine", engine, *flags]) == 151
    assert says in capsys.readouterr().err
