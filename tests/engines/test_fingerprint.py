"""The search over fingerprints against the exact one: the same verdicts, counts, coverage, shortest
lengths and real traces; its spill folder's files never followed through a link."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from quiesce_check.build import Built, build_file, build_text, symmetry_of
from quiesce_check.cli import main
from quiesce_check.compile.cgen import compiler, load_native
from quiesce_check.compile.deadline import Deadline
from quiesce_check.engines import Refused, SpillError, breadth_first
from quiesce_check.engines.checkpoint import CheckpointPlan
from quiesce_check.engines.fingerprint import collision_probability
from quiesce_check.engines.result import NullReporter, Options, Result, Status, Verdict
from tests.conftest import model_files
from tests.engines.test_symmetry import assert_real

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler")


def safety(path: Path, params: dict | None = None) -> Built:
    """The model with its invariants and final properties only (the fingerprint search refuses
    liveness)."""
    built = build_file(str(path), params)
    info = built.model.info
    if not info.liveness:
        return built
    return build_file(str(path), params, [p.name for p in info.invariants] + [p.name for p in info.finals])


def agree(built: Built, options: Options | None = None) -> Result:
    """The search over fingerprints and the exact one (in C), on the same options: everything
    a user reads of a result is the same, and every trace is a real one."""
    opts = options or Options()
    exact = breadth_first(built.model, opts, NullReporter())
    fp = breadth_first(built.model, dataclasses.replace(opts, store="fingerprint"), NullReporter())
    assert exact.collision is None and fp.collision is not None and fp.backend == "native"
    assert fp.verdict is exact.verdict
    assert (fp.complete, fp.limit) == (exact.complete, exact.limit)
    assert [(p.name, p.status) for p in fp.properties] == [(p.name, p.status) for p in exact.properties]
    assert (fp.stats.distinct, fp.stats.generated, fp.stats.depth) == (
        exact.stats.distinct, exact.stats.generated, exact.stats.depth)
    assert (fp.stats.fired, fp.stats.new) == (exact.stats.fired, exact.stats.new)
    assert {k: (t.kind, len(t.steps)) for k, t in fp.traces.items()} == {
        k: (t.kind, len(t.steps)) for k, t in exact.traces.items()}
    if exact.trace is not None:
        assert fp.trace is not None
        assert (fp.trace.kind, fp.trace.property, len(fp.trace.steps)) == (
            exact.trace.kind, exact.trace.property, len(exact.trace.steps))
    assert {k: len(w.steps) for k, w in fp.witnesses.items()} == {k: len(w.steps) for k, w in exact.witnesses.items()}
    for t in [*fp.traces.values(), *fp.witnesses.values()]:
        assert_real(built, t)
    return fp


# ------------------------------------------------------------------ the repository's models

@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_repository_models(path: Path) -> None:
    built = safety(path)
    agree(built)
    if built.checked.symmetric:
        agree(built, Options(symmetry=symmetry_of(built)))


@pytest.mark.parametrize("name", ["s9_blkfront_recover", "s16_unmap_all_but_keep_processing", "peterson_broken",
                                  "water_jugs", "hanoi", "precopy_symmetric"])
def test_continue_past_violations(name: str) -> None:
    path = next(p for p in model_files() if p.stem == name)
    built = safety(path)
    agree(built, Options(keep_going=True))
    if built.checked.symmetric:
        agree(built, Options(keep_going=True, symmetry=symmetry_of(built)))


def test_merges_of_the_buffer_into_the_sorted_array() -> None:
    # 220,000 states: the recent buffer (32,768 fingerprints at first) is merged into the sorted
    # array several times, and the buffer and the index grow with it
    built = build_file("models/precopy_backend.qdl", {"NPAGES": 3, "NREQ": 3})
    fp = agree(built)
    assert fp.stats.distinct > 200_000
    assert fp.store_bytes is not None and fp.store_bytes / fp.stats.distinct < 12


@pytest.mark.parametrize("options", [Options(max_states=500), Options(max_depth=7), Options(check_deadlock=False),
                                     Options(max_states=3000, keep_going=True)])
def test_limits(options: Options) -> None:
    agree(build_file("models/precopy_backend.qdl", {"NPAGES": 3}), options)


@pytest.mark.parametrize("text", [
    "var x: 0..3 = 0;\naction inc { x := x + 1; }\n",
    "var x: 0..3 = 2;\naction d { x := 4 / (x - 2); }\n",
    "var z: 0..1 = 0;\nprocess P { assert false; }\ninvariant inv: 1 / z == 1;\n",
    "var z: 0..1 = 0;\naction a { assert z == 1; }\nreachable g: 1 / z == 0;\n",
    # a violation one step deeper than a deadlock of the same level: the shorter one wins
    "var x: 0..3 = 0;\nvar y: 0..1 = 0;\naction a when x == 0 { x := 1; }\naction b when x == 0 { y := 1; }\n"
    "action c when x == 1 { x := 2; }\ninvariant small: x < 2;\n",
    "var x: 0..3 = 0;\nvar y: 0..3 = 0;\nprocess A { x := 1; x := 2; }\nprocess B { y := 1; }\n"
    "always step up: x' >= x;\nalways step still: y' == y;\n",
])
@pytest.mark.parametrize("keep_going", [False, True])
def test_small_models(text: str, keep_going: bool) -> None:
    agree(build_text(text, "t.qdl"), Options(keep_going=keep_going))


def test_a_wide_state_and_its_collision_estimate() -> None:
    # several words a state: fingerprints are no longer one-to-one, and the chance is estimated
    built = build_file("models/s15_quiesce_handshake.qdl")
    fp = agree(built)
    assert fp.collision is not None and 0 < fp.collision < 1e-9
    assert fp.collision == pytest.approx(fp.stats.distinct * (fp.stats.generated - fp.stats.distinct) / 2 ** 64)


def test_one_word_states_cannot_collide() -> None:
    assert collision_probability(10**9, 5 * 10**9, 1) == 0.0
    assert collision_probability(10**6, 3 * 10**6, 2) == pytest.approx(10**6 * 2 * 10**6 / 2 ** 64)
    fp = agree(build_file("examples/peterson.qdl"))
    assert fp.collision == 0.0


def test_time_limit_passed() -> None:
    built = build_file("models/precopy_backend.qdl", {"NPAGES": 3, "NREQ": 3})
    load_native(built.program)  # compiled before the clock starts: the limit passes in the search
    r = breadth_first(built.model, Options(store="fingerprint", deadline=Deadline(1.0, time.perf_counter() - 5)), NullReporter())
    assert r.verdict is Verdict.INCOMPLETE and r.limit is not None and "--time-limit" in r.limit
    assert all(p.status is Status.INCOMPLETE for p in r.properties)


def test_memory_limit() -> None:
    # the visited set is counted against the limit as it grows: the search stops, incomplete
    built = build_file("models/precopy_backend.qdl", {"NPAGES": 3, "NREQ": 3})
    r = breadth_first(built.model, Options(store="fingerprint", memory_limit=4 * 2 ** 20), NullReporter())
    assert r.verdict is Verdict.INCOMPLETE and r.limit == "--memory-limit 4 MB"
    assert 30_000 < r.stats.distinct < 200_000
    assert r.store_bytes is not None and r.store_bytes <= 4 * 2 ** 20


# -------------------------------------------------------------------------------- refusals

@pytest.mark.parametrize(("options", "words"), [
    (Options(store="fingerprint", backend="python"), "--backend python"),
    (Options(store="fingerprint", checkpoint=CheckpointPlan(Path("unused"), 60.0, {})), "checkpoint"),
])
def test_what_it_refuses(options: Options, words: str) -> None:
    built = build_file("examples/peterson.qdl")
    with pytest.raises(Refused, match=words):
        breadth_first(built.model, options, NullReporter())


def test_liveness_is_refused() -> None:
    built = build_file("examples/token_ring.qdl")
    with pytest.raises(Refused, match="liveness"):
        breadth_first(built.model, Options(store="fingerprint"), NullReporter())


# ---------------------------------------------------------------------------- the spill folder

def test_a_given_folder_is_made_private_and_left_empty(tmp_path: Path) -> None:
    folder = tmp_path / "spill" / "here"
    built = build_file("examples/two_phase_commit.qdl")
    r = breadth_first(built.model, Options(store="fingerprint", spill=str(folder)), NullReporter())
    assert r.verdict is Verdict.HOLDS
    assert (os.stat(folder).st_mode & 0o777) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == [".lock"]  # the level files and the links removed


def test_the_temporary_folder_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    built = build_file("examples/hanoi.qdl")
    r = breadth_first(built.model, Options(store="fingerprint"), NullReporter())
    assert r.verdict is Verdict.VIOLATED
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["links", "level-0"])
def test_a_planted_link_is_never_followed(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "spill"
    folder.mkdir(mode=0o700)
    target = tmp_path / "precious"
    target.write_bytes(b"keep me")
    (folder / name).symlink_to(target)
    built = build_file("examples/peterson.qdl")
    with pytest.raises(SpillError, match="is there already"):
        breadth_first(built.model, Options(store="fingerprint", spill=str(folder)), NullReporter())
    assert target.read_bytes() == b"keep me"
    assert (folder / name).is_symlink()
    assert not (folder / "links").exists() or (folder / "links").is_symlink()  # nothing of the run left


def test_a_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    built = build_file("examples/peterson.qdl")
    with pytest.raises(SpillError, match="not a folder"):
        breadth_first(built.model, Options(store="fingerprint", spill=str(tmp_path / "link")), NullReporter())
    assert list(real.iterdir()) == []


# ------------------------------------------------------------------------------ the command line

def test_the_command_line_prints_the_collision_probability(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    report = tmp_path / "out.json"
    code = main(["check", "models/s15_quiesce_handshake.qdl", "--store", "fingerprint", "--no-coverage",
                 "--spill", str(tmp_path / "spill"), "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 0
    assert "as 64-bit fingerprints" in out and "probability that a fingerprint collision hid a state" in out
    assert "Verdict: holds (unless a fingerprint collision hid a state: probability about" in out
    doc = json.loads(report.read_text())
    assert doc["stats"]["store"] == "fingerprint" and 0 < doc["stats"]["collision_probability"] < 1e-9


def test_spill_without_fingerprint_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check", "examples/peterson.qdl", "--spill", str(tmp_path)]) == 151
    assert "--store fingerprint" in capsys.readouterr().err


def test_a_refusal_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "examples/token_ring.qdl", "--store", "fingerprint"]) == 151
    assert "liveness" in capsys.readouterr().err
    assert main(["check", "examples/peterson.qdl", "--store", "fingerprint", "--workers", "2"]) == 151
    assert "--store fingerprint runs in one worker" in capsys.readouterr().err
