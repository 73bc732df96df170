"""The search on a real multi-node Ray cluster (several nodes on this machine, on its loopback):
the same counts and verdicts as one worker, and what happens when a worker or a node dies."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest

from quiesce_check.build import build_file
from quiesce_check.compile.cgen import compiler
from quiesce_check.engines import breadth_first, ray_workers
from quiesce_check.engines.checkpoint import Checkpoint, CheckpointPlan
from quiesce_check.engines.result import NullReporter, Options, Result

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")
ray_constants = pytest.importorskip("ray._private.ray_constants")
pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler")

LOOPBACK = {"node_ip_address": "127.0.0.1", "include_dashboard": False}


@pytest.fixture(scope="module")
def cluster() -> Any:
    """A head node and a worker node, two CPUs each, bound to 127.0.0.1; stopped after."""
    with pytest.MonkeyPatch.context() as mp:
        # Ray's own switch for addresses on loopback (else it takes the machine's address)
        mp.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)
        # Ray's session files in a folder of the test's own, removed after
        temp = tempfile.mkdtemp(prefix="qcray")
        c = cluster_utils.Cluster(initialize_head=True,
                                  head_node_args={**LOOPBACK, "num_cpus": 2, "temp_dir": temp})
        c.add_node(**LOOPBACK, num_cpus=2)
        ray.init(address=c.address, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        try:
            assert c.address.startswith("127.0.0.1:")
            yield c
        finally:
            ray.shutdown()
            c.shutdown()
            shutil.rmtree(temp, ignore_errors=True)


def run(path: str, params: dict, options: Options) -> Result:
    built = build_file(path, params)
    return breadth_first(built.model, options, NullReporter())


def same(a: Result, b: Result) -> None:
    assert a.verdict is b.verdict and a.complete == b.complete
    assert (a.stats.distinct, a.stats.generated, a.stats.depth) == (b.stats.distinct, b.stats.generated,
                                                                    b.stats.depth)
    assert a.stats.fired == b.stats.fired
    assert {k: len(t.steps) for k, t in a.traces.items()} == {k: len(t.steps) for k, t in b.traces.items()}


@pytest.mark.parametrize(("path", "params"), [
    ("models/precopy_backend.qdl", {"NPAGES": 3, "NREQ": 2}),
    ("models/s5_persistent_ring_write_after_last_send.qdl", {}),
])
def test_the_cluster_gives_what_one_worker_gives(cluster: Any, path: str, params: dict) -> None:
    one = run(path, params, Options(keep_going=True))
    for n in (2, 3):
        on = run(path, params, Options(keep_going=True, workers=n, cluster=cluster.address))
        assert "on the Ray cluster" in on.backend
        same(on, one)


class Killer(NullReporter):
    """At the `at`-th progress report, `kill()`; counts its reports."""

    def __init__(self, at: int, kill: Any) -> None:
        self.at, self.kill, self.calls = at, kill, 0

    def progress(self, distinct: int, generated: int, depth: int, queued: int, elapsed: float) -> None:
        self.calls += 1
        if self.calls == self.at:
            self.kill()


@pytest.fixture()
def small_rounds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Rounds of a few states (many progress reports), and the workers made, for the killers."""
    monkeypatch.setattr(ray_workers, "ROUND_CLUSTER", 256)
    made: list[Any] = []
    init = ray_workers.RayWorkers.__init__

    def record(self: Any, *args: Any) -> None:
        init(self, *args)
        made.append(self)

    monkeypatch.setattr(ray_workers.RayWorkers, "__init__", record)
    return made


MODEL, PARAMS = "models/precopy_backend.qdl", {"NPAGES": 3, "NREQ": 2}


def plan(tmp_path: Path) -> CheckpointPlan:
    return CheckpointPlan(tmp_path, 0.0, {})   # a checkpoint at every level


def test_a_killed_worker_is_replaced_and_the_count_is_the_same(cluster: Any, small_rounds: list[Any],
                                                               tmp_path: Path) -> None:
    one = run(MODEL, PARAMS, Options())
    killer = Killer(40, lambda: os.kill(small_rounds[-1].pids()[1], signal.SIGKILL))
    built = build_file(MODEL, PARAMS)
    on = breadth_first(built.model, Options(workers=2, cluster=cluster.address, checkpoint=plan(tmp_path)), killer)
    assert killer.calls > 40 and len(small_rounds) == 2   # killed, and replaced once
    assert "a worker died" in (on.note or "") and "went on from the checkpoint of depth" in (on.note or "")
    same(on, one)


def test_a_lost_node_is_replaced_and_the_count_is_the_same(cluster: Any, small_rounds: list[Any],
                                                           tmp_path: Path) -> None:
    extra = cluster.add_node(**LOOPBACK, num_cpus=1)
    cluster.wait_for_nodes()
    one = run(MODEL, PARAMS, Options())
    built = build_file(MODEL, PARAMS)
    killer = Killer(30, lambda: cluster.remove_node(extra, allow_graceful=False))
    on = breadth_first(built.model, Options(workers=3, cluster=cluster.address, checkpoint=plan(tmp_path)), killer)
    assert killer.calls > 30
    same(on, one)
    # whether the lost node held a worker is Ray's choice (it spreads them): if it did, the
    # search went on from a checkpoint
    assert len(small_rounds) == 1 or "went on from the checkpoint" in (on.note or "")


def test_workers_that_keep_dying_end_incomplete_with_a_checkpoint_that_resumes(
        cluster: Any, small_rounds: list[Any], tmp_path: Path) -> None:
    one = run(MODEL, PARAMS, Options())
    built = build_file(MODEL, PARAMS)

    class EveryTime(NullReporter):
        def __init__(self) -> None:
            self.calls = 0

        def progress(self, *args: Any) -> None:
            self.calls += 1
            if self.calls % 25 == 0:
                os.kill(small_rounds[-1].pids()[0], signal.SIGKILL)

    on = breadth_first(built.model, Options(workers=2, cluster=cluster.address, checkpoint=plan(tmp_path)),
                       EveryTime())
    assert not on.complete and on.exit_code == 20 and on.verdict.value == "incomplete"
    assert on.checkpoint is not None and "replaced already" in (on.limit or "")
    assert all(p.status.value == "incomplete" for p in on.properties)
    assert on.stats.distinct < one.stats.distinct
    # the checkpoint goes on, with one worker here, to the same result
    resumed = breadth_first(built.model, Options(checkpoint=plan(tmp_path)), NullReporter(), Checkpoint(tmp_path))
    same(resumed, one)
    again = breadth_first(built.model, dataclasses.replace(Options(workers=2)), NullReporter(), Checkpoint(tmp_path))
    same(again, one)


def test_without_ray_the_cluster_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import builtins

    from quiesce_check.cli import main
    from quiesce_check.engines import cluster as cluster_module

    real_import = builtins.__import__

    def no_ray(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(cluster_module.ClusterUnavailable, match=r"pip install 'quiesce-check\[cluster\]'"):
        cluster_module.ray_module()
    code = main(["check", "models/s1_guest_only_writes.qdl", "--cluster", "local"])
    assert code == 151
    err = capsys.readouterr().err
    assert "Ray, which is not installed" in err and "quiesce-check[cluster]" in err and "Traceback" not in err
