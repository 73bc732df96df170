"""Bounded model checking held to breadth-first search on the vhost models.

For every run of specs/regress.toml whose model is in models/vhost/, and every property
that run expects violated, bmc (Z3), bounded just past bfs's longest one, finds a
counterexample of that property, of the same length as bfs's shortest one; both are
computed here, and the manifest's pinned length is only checked against them.
"""

from __future__ import annotations

import pytest

from quiesce_check.build import build_file
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.bmc import bmc
from quiesce_check.engines.result import Options
from quiesce_check.regress import Run, load_manifest
from tests.conftest import ROOT

VHOST_RUNS = [run for run in load_manifest(str(ROOT / "specs" / "regress.toml"))
              if run.model.parent.name == "vhost" and any(e.verdict == "violated" for e in run.expects)]
# bmc's time grows with the depth: the longest counterexamples are run only with the slow tests
QUICK_DEPTH = 25


def _bmc_matches_bfs(run: Run) -> None:
    built = build_file(str(run.model), dict(run.params))
    r_bfs = bfs(built.model, Options(keep_going=True, backend="python"))
    violated = {e.prop: e.length for e in run.expects if e.verdict == "violated"}
    # one step past the longest: at its bound bmc, as bfs --max-depth, does not judge final
    # properties (a state at the bound is not known to have no successor)
    depth = max(len(r_bfs.traces[p].steps) for p in violated) + 1
    r_bmc = bmc(built.model, Options(keep_going=True, depth=depth))
    for prop, pinned in violated.items():
        shortest = len(r_bfs.traces[prop].steps)
        assert prop in r_bmc.traces, prop
        assert len(r_bmc.traces[prop].steps) == shortest, prop
        assert pinned == shortest, prop


def _quick(run: Run) -> bool:
    return all(e.length is not None and e.length <= QUICK_DEPTH for e in run.expects if e.verdict == "violated")


@pytest.mark.parametrize("run", [r for r in VHOST_RUNS if _quick(r)], ids=lambda r: r.name)
def test_bmc_finds_the_shortest_counterexample(run: Run) -> None:
    _bmc_matches_bfs(run)


@pytest.mark.slow
@pytest.mark.parametrize("run", [r for r in VHOST_RUNS if not _quick(r)], ids=lambda r: r.name)
def test_bmc_finds_the_shortest_long_counterexample(run: Run) -> None:
    _bmc_matches_bfs(run)
