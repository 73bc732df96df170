"""The C search against the Python one: same verdicts, counts, coverage and trace lengths."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.compile.cgen import compiler, generate_c
from quiesce_check.engines import NATIVE_TEMPORAL
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.native import native_bfs
from quiesce_check.engines.result import Options
from tests.compile.test_differential import random_model
from tests.conftest import model_files

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler")


def agree(built: Built, options: Options | None = None, backend: str = "native") -> None:
    if not NATIVE_TEMPORAL and (built.model.info.liveness or built.model.info.step_properties):
        pytest.skip("the C search does not check liveness or step properties (breadth_first refuses it)")
    opts = options or Options()
    py = bfs(built.model, opts)
    nat = native_bfs(built.model, opts)
    assert nat is not None and nat.backend == backend
    assert nat.verdict is py.verdict
    assert nat.complete == py.complete
    assert [p.status for p in nat.properties] == [p.status for p in py.properties]
    if py.trace is not None:
        assert nat.trace is not None
        assert len(nat.trace.steps) == len(py.trace.steps)
        assert (nat.trace.kind, nat.trace.property) == (py.trace.kind, py.trace.property)
    # every property's counterexample: the same ones, of the same lengths, each a real path
    assert {k: (t.kind, len(t.steps)) for k, t in nat.traces.items()} == {
        k: (t.kind, len(t.steps)) for k, t in py.traces.items()}
    for t in nat.traces.values():
        for k, step in enumerate(t.steps[: len(t.states) - 1]):
            assert (step.action, step.choices, t.states[k + 1]) in built.model.successors(t.states[k])
    # both expand states in the same order and commit a state's successors only
    # when its expansion completes, so even a search that stops early counts alike
    assert (nat.stats.distinct, nat.stats.generated, nat.stats.depth) == (
        py.stats.distinct, py.stats.generated, py.stats.depth)
    assert (nat.stats.fired, nat.stats.new) == (py.stats.fired, py.stats.new)
    assert set(nat.witnesses) == set(py.witnesses)
    for name, w in nat.witnesses.items():
        assert len(w.steps) == len(py.witnesses[name].steps)


@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_repository_models(path: Path) -> None:
    agree(build_file(str(path)))


@pytest.mark.parametrize("params", [
    {"NPAGES": 3, "NREQ": 2}, {"PERSISTENT": True}, {"KEEP_PROCESSING": True, "NPAGES": 3},
    {"RESPOND_FIRST": True, "NREQ": 2}, {"K": 2, "MAXV": 2},
])
def test_precopy(params: dict) -> None:
    agree(build_file("models/precopy_backend.qdl", params))


@pytest.mark.parametrize("options", [Options(max_states=500), Options(max_depth=7), Options(check_deadlock=False)])
def test_limits(options: Options) -> None:
    agree(build_file("models/precopy_backend.qdl", {"NPAGES": 3}), options)


def test_runtime_errors() -> None:
    agree(build_text("var x: 0..3 = 0;\naction inc { x := x + 1; }\n", "e.qdl"))
    agree(build_text("var x: 0..3 = 0;\nvar a: array[0..2] of bool = [false, false, false];\n"
                     "action inc when x < 3 { x := x + 1; a[x] := true; }\n", "e.qdl"))
    agree(build_text("var x: 0..3 = 2;\naction d { x := 4 / (x - 2); }\n", "e.qdl"))


@pytest.mark.parametrize("text", [
    "var z: 0..1 = 0;\nprocess P { assert false; }\ninvariant inv: 1 / z == 1;\n",
    "var z: 0..1 = 0;\naction a { z := z + 2; }\ninvariant inv: 1 / z == 1;\n",
    "var z: 0..1 = 0;\naction a { assert z == 1; }\nreachable g: 1 / z == 0;\n",
    "var z: 0..1 = 0;\nprocess P { assert false; }\nterminal t: 1 / z == 1;\n",
    "var z: 0..1 = 0;\nvar a: array[0..1] of bool = [i in 0..1: false];\naction s { a[z + 2] := true; }\n"
    "invariant inv: a[z - 1];\n",
], ids=range(5))
def test_initial_states_where_a_step_fails_and_a_property_cannot_be_evaluated(text: str) -> None:
    # FIXED: rebuilding the C search's property error ran the steps and caught only model errors:
    # a failing assertion there was an internal error (exit 153)
    built = build_text(text, "e.qdl")
    agree(built)
    agree(built, Options(keep_going=True))



def test_overflow_in_c_falls_back_to_python() -> None:
    # Python's integers do not overflow; C's do: the search must then run in Python
    built = build_text("var x: 0..3 = 0;\naction big { x := (x + 3037000500) * 3037000500 % 2; }\n", "e.qdl")
    agree(built, backend="python")
    assert "overflow" in (native_bfs(built.model) or bfs(built.model)).note


def test_wide_states_span_several_words() -> None:
    text = "var a: array[0..39] of 0..7 = [i in 0..39: 0];\naction inc(i in 0..39) when a[i] < 1 { a[i] := a[i] + 1; }\n"
    built = build_text(text, "w.qdl")
    assert generate_c(built.program)[1].words == 2
    agree(built, Options(max_states=3000, check_deadlock=False))


@settings(max_examples=int(__import__("os").environ.get("QC_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_model())
def test_random_models(text: str) -> None:
    agree(build_text(text, "random.qdl"), Options(max_states=5000))
    agree(build_text(text, "random.qdl"), Options(max_states=5000, keep_going=True))
