"""Limits become answers: every limit ends a search as `incomplete`, says which limit, and what
was covered; never a crash, never a silent `holds`. The memory limit holds for every engine,
and the state space the types allow is estimated before exploring."""

from __future__ import annotations

import pytest

from quiesce_check.build import build_file, build_text
from quiesce_check.compile.cgen import compiler
from quiesce_check.compile.deadline import Deadline
from quiesce_check.compile.size import approx, estimate
from quiesce_check.engines import ENGINES, breadth_first, memory
from quiesce_check.engines.memory import MB, MemoryGauge, budget
from quiesce_check.engines.result import NullReporter, Options, Status, Verdict
from tests.conftest import ROOT

PRECOPY = str(ROOT / "models" / "precopy_backend.qdl")
native = pytest.mark.skipif(compiler() is None, reason="no C compiler")

# every (engine, backend) pair that explores
RUNS = [("bfs", "python"), pytest.param("bfs", "native", marks=native), ("dfs", "python"), ("random", "python")]


@pytest.fixture(scope="module")
def big():
    # NPAGES=4, MAXV=2: about two million states, a few hundred thousand of them in a second of C
    return build_file(PRECOPY, {"NPAGES": 4, "MAXV": 2})


def run(built, engine: str, backend: str, **limits):
    if "time_limit" in limits:  # counted from here, as the CLI counts it from the command's start
        limits["deadline"] = Deadline(limits.pop("time_limit"))
    opts = Options(backend=backend, walks=100_000, **limits)
    if engine == "bfs":
        return breadth_first(built.model, opts, NullReporter())
    return ENGINES[engine].run(built.model, opts, NullReporter())


def assert_incomplete(result, limit_word: str) -> None:
    assert result.verdict is Verdict.INCOMPLETE
    assert result.exit_code == 20
    assert not result.complete
    assert result.limit is not None and limit_word in result.limit, result.limit
    assert result.stats.distinct > 0
    # nothing is claimed to hold: every property is undecided (a goal may have been reached)
    assert all(p.status in (Status.INCOMPLETE, Status.REACHED) for p in result.properties)


@pytest.mark.parametrize(("engine", "backend"), RUNS)
@pytest.mark.parametrize(("limit", "value", "word"), [
    ("max_states", 5000, "--max-states 5000"),
    ("time_limit", 0.3, "--time-limit"),
    ("max_depth", 6, "--max-depth 6"),
])
def test_every_limit_is_an_incomplete_answer(big, engine, backend, limit, value, word):
    if engine == "random" and limit == "max_depth":
        pytest.skip("a random walk's depth is its length, not a limit on a search")
    assert_incomplete(run(big, engine, backend, **{limit: value}), word)


@pytest.mark.parametrize(("engine", "backend"), RUNS)
def test_the_memory_limit(big, engine, backend):
    mb = 8 if backend == "native" else 2
    r = run(big, engine, backend, memory_limit=mb * MB, time_limit=60)
    assert_incomplete(r, f"--memory-limit {mb} MB")
    if backend == "native":
        # the compiled search counts its tables exactly: it filled them as far as the limit allows
        assert r.store_bytes is not None and 4 * MB < r.store_bytes <= 8 * MB
        assert r.stats.distinct > 150_000


@native
def test_the_compiled_search_stops_inside_its_initial_states():
    # a million initial states, 20 bytes each, and one megabyte to hold them
    built = build_text("var a: 0..999 = any;\nvar b: 0..999 = any;\naction step { skip; }\n", "wide.qdl")
    r = breadth_first(built.model, Options(backend="native", memory_limit=1 * MB), NullReporter())
    assert_incomplete(r, "--memory-limit 1 MB")
    assert r.stats.distinct < 1_000_000


def test_limits_say_what_was_covered(big):
    r = run(big, "bfs", "python", max_depth=3)
    # depth 3 of the pre-copy protocol: the migration has not got past its first steps
    assert r.stats.depth == 3
    never = [a.label for a in big.model.info.actions if not r.stats.fired[a.index]]
    assert never and all(label.startswith(("Migration", "Backend")) for label in never)


def test_the_default_memory_budget_is_most_of_what_is_free(monkeypatch):
    limit, explicit = budget(None)
    assert not explicit
    assert limit is None or limit > 16 * MB
    assert budget(5 * MB) == (5 * MB, True)
    # the Python engines measure how far the process has grown since their search began
    rss = iter([100 * MB, 104 * MB, 106 * MB])
    monkeypatch.setattr(memory, "rss_bytes", lambda: next(rss))
    gauge = MemoryGauge(5 * MB)
    assert not gauge.exceeded()
    assert gauge.exceeded()
    assert gauge.text() == "--memory-limit 5 MB"


def test_the_state_space_estimate():
    built = build_text("var x: 0..9 = 0;\nvar b: bool in {false, true};\nvar a: array[0..2] of 0..3 = any;\n"
                       "process P { x := 1; }\n", "e.qdl")
    space = estimate(built.program)
    # x: 10 values, b: 2, a: 4^3, P's program counter: 2 positions
    assert space.bound == 10 * 2 * 4 ** 3 * 2
    assert space.initial == 2 * 4 ** 3
    assert space.bits == 4 + 1 + 3 * 2 + 1
    assert space.words == 1
    assert approx(10 ** 40 + 7) == "1.00e40"
    assert approx(12_345) == "12,345"


def test_the_estimate_is_an_upper_bound(big):
    r = run(build_file(PRECOPY), "bfs", "python")
    assert r.complete and r.stats.distinct <= estimate(build_file(PRECOPY).program).bound
