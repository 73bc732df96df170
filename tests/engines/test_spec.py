"""The engine contract: every engine's spec says what it reads and checks, and an engine asked
for what it does not do refuses instead of reporting "holds" having skipped it."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

from quiesce_check.build import build_text
from quiesce_check.cli import main
from quiesce_check.compile.deadline import Deadline
from quiesce_check.engines import ENGINES, SYMBOLIC, Family, Refused, run_checked
from quiesce_check.engines.result import NullReporter, Options, Status, Verdict
from quiesce_check.engines.spec import ALL_KINDS, COMMON_OPTIONS, requested
from tests.conftest import ROOT

WITH_FINAL = """
var x: 0..2 = 0;
action inc when x < 2 { x := x + 1; }
final done: x == 2;
terminal t: x == 2;
"""

EVERY_KIND = """
var x: 0..2 = 0;
action inc when x < 2 { x := x + 1; assert x > 0; }
invariant small: x <= 2;
final done: x == 2;
reachable top: x == 2;
terminal t: x == 2;
"""


def test_the_registry_lists_every_engine_once_by_its_name() -> None:
    assert list(ENGINES) == ["bfs", "dfs", "random", "swarm", "bmc", "induction"]
    assert all(name == spec.name for name, spec in ENGINES.items())
    assert SYMBOLIC == ("bmc", "induction")
    assert {s.name for s in ENGINES.values() if s.family is Family.EXPLICIT} == {"bfs", "dfs", "random", "swarm"}


def _fields_read(path: Path) -> set[str]:
    """The `Options` fields a module reads (`options.X` or `opts.X`), from its syntax."""
    tree = ast.parse(path.read_text())
    fields = {f.name for f in dataclasses.fields(Options)} | {"time_limit"}
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in fields
            and isinstance(n.value, ast.Name | ast.Attribute)
            and (getattr(n.value, "id", None) or getattr(n.value, "attr", None)) in ("options", "opts")}


@pytest.mark.parametrize("name", list(ENGINES))
def test_a_spec_declares_every_option_its_engine_reads(name: str) -> None:
    # the modules behind each engine, read as text: an option read there and not declared would be
    # silently dropped by `narrow` in the command line and in regress
    spec = ENGINES[name]
    package = ROOT / "quiesce_check" / "engines"
    modules = {"bfs": ["__init__", "bfs", "native", "fingerprint", "parallel"], "dfs": ["dfs"],
               "random": ["random_walk"], "swarm": ["swarm"], "bmc": ["bmc", "symbolic"],
               "induction": ["induction", "bmc", "symbolic"]}[name]
    read = set().union(*(_fields_read(package / f"{m}.py") for m in modules)) - {"time_limit"}
    assert read <= spec.options | COMMON_OPTIONS, read - spec.options - COMMON_OPTIONS
    assert inspect.signature(spec.run).parameters.keys() >= {"model", "options", "reporter"}


def test_an_engine_refuses_an_option_it_does_not_read() -> None:
    model = build_text(WITH_FINAL, "m.qdl").model
    with pytest.raises(Refused, match="--engine dfs does not take the option seed"):
        run_checked(ENGINES["dfs"], model, Options(seed=3), NullReporter())
    with pytest.raises(Refused, match="--engine induction does not take the option max_states"):
        run_checked(ENGINES["induction"], model, Options(max_states=10), NullReporter())
    # narrowed to what it reads, the same options run
    narrowed = ENGINES["dfs"].narrow(Options(seed=3, max_states=10, deadline=Deadline(60)))
    assert narrowed.seed == 0 and narrowed.max_states == 10 and narrowed.time_limit == 60
    assert run_checked(ENGINES["dfs"], model, narrowed, NullReporter()).verdict is Verdict.HOLDS


def test_the_kinds_a_run_asks_for() -> None:
    info = build_text(EVERY_KIND, "m.qdl").model.info
    assert requested(info, check_deadlock=True) == ["invariant", "final", "reachable", "assertion", "deadlock"]
    assert requested(info, check_deadlock=False) == ["invariant", "final", "reachable", "assertion"]
    assert all(set(requested(info, True)) <= s.checks for s in ENGINES.values())
    assert {"invariant", "lemma", "final", "reachable", "assertion", "deadlock", "liveness", "action"} == ALL_KINDS


TEMPORAL = """
var x: 0..2 = 0;
process P { while true { x := (x + 1) % 3; } }
fair process P;
"""


@pytest.mark.parametrize("decl,kind", [("liveness l: always eventually x == 0;", "liveness"),
                                       ("always step s: x' != x;", "action")])
@pytest.mark.parametrize("name", list(ENGINES))
def test_an_engine_checks_a_temporal_kind_or_refuses_it(name: str, decl: str, kind: str) -> None:
    """Liveness and step properties hold here: an engine that does not evaluate them must
    refuse the model, never say it holds."""
    spec = ENGINES[name]
    model = build_text(TEMPORAL + decl, "m.qdl").model
    assert kind in requested(model.info, True)
    # bmc decides the liveness property at the first length its lasso search has no loop-free path
    # of: the longest is x = 0, 1, 2 before the loop, the loop's first state x = 0 (nothing taken
    # yet), then x = 1, 2, 0 (P taken): 6 steps, so 7 (found by hand, by the flags of engines/lassos)
    opts = spec.narrow(Options(depth=8, walks=20, max_states=1000))
    if kind not in spec.checks:
        with pytest.raises(Refused, match=f"--engine {name} does not check"):
            run_checked(spec, model, opts, NullReporter())
        return
    result = run_checked(spec, model, opts, NullReporter())
    assert [(p.kind, p.status) for p in result.properties if p.kind == kind] == [(kind, Status.HOLDS)]


@pytest.mark.parametrize("name", list(ENGINES))
def test_every_engine_runs_a_model_of_every_kind_through_the_contract(name: str) -> None:
    spec = ENGINES[name]
    opts = spec.narrow(Options(depth=4, walks=20, max_states=1000))
    r = run_checked(spec, build_text(EVERY_KIND, "m.qdl").model, opts, NullReporter())
    kinds = {p.kind for p in r.properties}
    assert kinds == {"invariant", "final", "reachable", "assertion", "deadlock"}, kinds


def test_an_engine_that_does_not_check_a_kind_refuses_it_on_the_command_line(tmp_path: Path, capsys,
                                                                              monkeypatch) -> None:
    # an engine whose spec leaves out final-state properties: asked to check a model that states
    # one, it refuses with exit 151 and says which kind, rather than report the others as holding
    path = tmp_path / "m.qdl"
    path.write_text(WITH_FINAL)
    partial = dataclasses.replace(ENGINES["dfs"], checks=ALL_KINDS - {"final"})
    monkeypatch.setitem(ENGINES, "dfs", partial)
    code = main(["check", str(path), "--engine", "dfs"])
    captured = capsys.readouterr()
    assert code == 151
    assert "--engine dfs does not check final-state properties; the model states them" in captured.err
    assert "holds" not in captured.out
    # without the final property, the same engine runs
    path.write_text(WITH_FINAL.replace("final done: x == 2;\n", ""))
    assert main(["check", str(path), "--engine", "dfs"]) == 0


def test_the_command_line_words_come_from_the_specs(tmp_path: Path, capsys) -> None:
    path = tmp_path / "m.qdl"
    path.write_text(WITH_FINAL)
    cases = [
        (["--engine", "dfs", "--continue"], "--continue needs --engine bfs or bmc"),
        (["--engine", "bmc", "--max-states", "5"], "--max-states limits the explicit engines (bfs, dfs, random, swarm)"),
        (["--engine", "dfs", "--depth", "5"], "--depth is the bound of --engine bmc and induction"),
        (["--engine", "random", "--checkpoint", str(tmp_path / "ck")], "--checkpoint needs --engine bfs"),
    ]
    for extra, words in cases:
        assert main(["check", str(path), *extra]) == 151
        assert words in capsys.readouterr().err, extra


def test_hook_and_resume_go_through_the_contract_too(tmp_path: Path, capsys, monkeypatch) -> None:
    # a breadth-first search that checked no kind at all: `hook` refuses before any search, and so
    # does `resume` of a search saved while the engine still checked everything
    path = tmp_path / "m.qdl"
    path.write_text(WITH_FINAL)
    ck = tmp_path / "ck"
    assert main(["check", str(path), "--checkpoint", str(ck), "--backend", "python"]) == 0
    capsys.readouterr()
    monkeypatch.setitem(ENGINES, "bfs", dataclasses.replace(ENGINES["bfs"], checks=frozenset()))
    assert main(["resume", str(ck)]) == 151
    assert "--engine bfs does not check final-state properties, deadlock" in capsys.readouterr().err
    code = main(["hook", str(ROOT / "specs/hooks/s15_handshake.qdl"), "--model",
                 str(ROOT / "models/v2_blkfront_blkback.qdl")])
    err = capsys.readouterr().err
    assert code == 151 and "--engine bfs does not check" in err, err
