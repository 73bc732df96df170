"""Fuzzing the command line: no input may produce a traceback, a hang, or an exit code outside
the README's table.

Each test feeds hostile input through `quiesce_check.cli.main` exactly as a user would, with a
tiny --max-states and --time-limit so that a model that happens to check stays quick. The
number of examples is small and fixed in CI (derandomized); QC_FUZZ (or QC_EXAMPLES) raises it
for long runs with fresh random inputs (e.g. QC_FUZZ=5000).
Found defects are pinned as plain tests at the bottom, each with the one-line cause.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.cli.fuzzing import (
    ESCAPE_PLACES,
    FAKE,
    README_CODES,
    SEEDS,
    SOURCES,
    assert_escaped,
    assert_polite,
    hostile_text,
    mutated_model,
    planted_links,
    project,
    random_text,
    run_cli,
    write_model,
)
from tests.conftest import ROOT

EXAMPLES = int(os.environ.get("QC_FUZZ") or os.environ.get("QC_EXAMPLES") or "0") or None
FUZZ = settings(deadline=None, max_examples=EXAMPLES or 100, derandomize=EXAMPLES is None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])
LIMITS = ["--max-states", "200", "--time-limit", "2", "--no-coverage"]


@pytest.fixture(scope="module")
def scratch() -> Path:
    with tempfile.TemporaryDirectory(prefix="qc-fuzz-") as d:
        yield Path(d)


def test_the_table_is_the_contract() -> None:
    # the harness reads the README's table: make sure it read one
    assert {0, 11, 12, 14, 20, 21, 22, 75, 150, 151, 153} <= README_CODES


@FUZZ
@given(mutated_model(), st.sampled_from(["bfs", "dfs", "random"]))
def test_mutated_models(scratch: Path, case: tuple[str, str], engine: str) -> None:
    _, text = case
    path = write_model(project(scratch), text)
    r = run_cli(["check", path, "--engine", engine, "--backend", "python", "--walks", "20", *LIMITS])
    assert_polite(r, str(path), text)


@settings(FUZZ, max_examples=(EXAMPLES or 100) // 6)
@given(mutated_model())
def test_mutated_models_in_c(scratch: Path, case: tuple[str, str]) -> None:
    # the compiled search: generated C for what survives the checker
    _, text = case
    path = write_model(project(scratch), text)
    r = run_cli(["check", path, "--backend", "auto", *LIMITS])
    assert_polite(r, str(path), text)


@settings(FUZZ, max_examples=(EXAMPLES or 100) // 12)
@given(mutated_model(), st.sampled_from(["bmc", "induction"]), st.sampled_from(["bv", "int"]))
def test_mutated_models_symbolic(scratch: Path, case: tuple[str, str], engine: str, encoding: str) -> None:
    # the Z3 engines, with a small bound
    _, text = case
    path = write_model(project(scratch), text)
    r = run_cli(["check", path, "--engine", engine, "--encoding", encoding, "--depth", "4", "--time-limit", "1",
                 "--no-coverage"])
    assert_polite(r, str(path), text)


@FUZZ
@given(random_text())
@example("")
@example("\ufeffvar x: bool = false;")
@example("var x: 0..1 = 0 /* never closed")
@example("action a { " * 300)
def test_random_text(scratch: Path, text: str) -> None:
    path = write_model(scratch, text)
    assert_polite(run_cli(["check", path, *LIMITS]), str(path), text)


@settings(FUZZ, max_examples=(EXAMPLES or 100) // 2)
@given(st.binary(max_size=600))
@example(b"\xff\xfe\x00v\x00a\x00r")
@example(b"var x: bool = false;\n\x00")
def test_random_bytes(scratch: Path, data: bytes) -> None:
    path = write_model(scratch, data)
    assert_polite(run_cli(["check", path, *LIMITS]))


_PARAM_VALUES = st.one_of(
    st.sampled_from(["true", "false", "0", "-1", "1e3", "0x10", "3.5", "", " ", "abc", "Write", "__import__",
                     "1000000000", "1000000001", "-1000000000", "99999999999999999999", "1_000", "\u0663"]),
    st.text(max_size=12), st.integers(-10**12, 10**12).map(str))


@FUZZ
@given(st.sampled_from(sorted(SOURCES)),
       st.lists(st.tuples(st.sampled_from(["NPAGES", "NREQ", "K", "MAXV", "PERSISTENT", "N", "X", "", "NREQS", "PAGES",
                                           "1A", "a b", "NPAGES ", "é"]), _PARAM_VALUES), max_size=3),
       st.sampled_from(["=", "==", ":", ""]))
def test_params(name: str, params: list[tuple[str, str]], sep: str) -> None:
    argv = ["check", str(_model_path(name)), *LIMITS]
    for k, v in params:
        argv += ["--param", f"{k}{sep}{v}"]
    assert_polite(run_cli(argv))


_OPTIONS = st.lists(st.sampled_from([
    "--max-states", "--max-depth", "--time-limit", "--memory-limit", "--seed", "--walks", "--engine", "--backend",
    "--checkpoint", "--checkpoint-every", "--property", "--json", "--itf", "--continue", "--no-deadlock",
    "-1", "0", "0.01", "nan", "inf", "1e400", "bfs", "python", "native", "x", "--", "-", "/dev/null", "y",
]), max_size=6)


@FUZZ
@given(_OPTIONS)
def test_command_lines(tmp_path_factory: pytest.TempPathFactory, words: list[str]) -> None:
    here = tmp_path_factory.mktemp("argv")
    # x: a fresh path (a file or a checkpoint directory); y: a directory that exists
    words = [str(here / "out") if w == "x" else str(here) if w == "y" else w for w in words]
    with contextlib.chdir(here):  # a word taken for a file name (`--json 0`) lands here
        r = run_cli(["check", str(ROOT / "examples" / "water_jugs.qdl"), "--max-states", "50", "--time-limit", "2",
                     *words])
    assert_polite(r)


# ------------------------------------------------------------------ trace files

def _trace(tmp_path: Path) -> tuple[Path, dict]:
    itf = tmp_path / "t.itf.json"
    r = run_cli(["check", ROOT / "models" / "precopy_backend.qdl", "--param", "PERSISTENT=true",
                 "--itf", itf, "--no-coverage"])
    assert r.code == 14, r.err
    return itf, json.loads(itf.read_text())


@st.composite
def _tampered(draw: st.DrawFn, doc: dict) -> object:
    """The trace with one part of it changed: a value, a key, a list, its type."""
    doc = json.loads(json.dumps(doc))
    paths: list[list[object]] = []

    def walk(node: object, path: list[object]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, [*path, k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, [*path, i])

    walk(doc, [])
    path = draw(st.sampled_from(paths))
    junk = draw(st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=8),
                          st.just({"#bigint": "12"}), st.just({"#bigint": "-0"}), st.just({"#map": [[1]]}),
                          st.just([]), st.just({}), st.just([[0, 1], [0, 2]]), st.just("1" * 50)))
    if not path:
        return junk
    parent: object = doc
    for key in path[:-1]:
        parent = parent[key]  # type: ignore[index]
    key = path[-1]
    action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
    if action == "delete":
        del parent[key]  # type: ignore[attr-defined]
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(int(key), parent[int(key)])  # type: ignore[arg-type]
    else:
        parent[key] = junk  # type: ignore[index]
    return doc


@pytest.fixture(scope="module")
def trace_doc(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return _trace(tmp_path_factory.mktemp("trace"))


@FUZZ
@given(st.data())
def test_tampered_traces(trace_doc: tuple[Path, dict], scratch: Path, data: st.DataObject) -> None:
    _, doc = trace_doc
    bad = data.draw(_tampered(doc))
    path = scratch / "bad.itf.json"
    path.write_text(json.dumps(bad))
    r = run_cli(["replay", path, ROOT / "models" / "precopy_backend.qdl"])
    assert_polite(r)
    assert r.code in (0, 14, 22, 151), r.code


@FUZZ
@given(st.data())
def test_truncated_traces(trace_doc: tuple[Path, dict], scratch: Path, data: st.DataObject) -> None:
    itf, _ = trace_doc
    raw = itf.read_bytes()
    cut = data.draw(st.integers(0, len(raw)))
    flip = data.draw(st.one_of(st.none(), st.integers(0, max(0, cut - 1))))
    body = bytearray(raw[:cut])
    if flip is not None and body:
        body[flip] ^= 1 << data.draw(st.integers(0, 7))
    path = scratch / "cut.itf.json"
    path.write_bytes(bytes(body))
    assert_polite(run_cli(["replay", path, ROOT / "models" / "precopy_backend.qdl"]))


def _model_path(name: str) -> Path:
    return ROOT / name



# --------------------------------------------- files that are not model files

@pytest.mark.parametrize("kind", ["missing", "directory", "dev-zero", "unreadable", "fifo", "huge", "binary",
                                  "utf16", "nul-name"])
@pytest.mark.parametrize("command", ["check", "replay-trace", "replay-model"])
def test_files_that_are_not_models_or_traces(tmp_path: Path, kind: str, command: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.qdl"
    if kind == "directory":
        bad.mkdir()
    elif kind == "dev-zero":
        bad = Path("/dev/zero")
    elif kind == "unreadable":
        bad.write_text("var x: bool = false;\naction a { skip; }\n")
        bad.chmod(0)
        if os.access(bad, os.R_OK):  # root reads every file: have the kernel's answer given for it
            real_open = os.open

            def refuse(path: object, *a: object, **k: object) -> int:
                if Path(str(path)) == bad:
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
                return real_open(path, *a, **k)  # type: ignore[arg-type]
            monkeypatch.setattr(os, "open", refuse)
    elif kind == "fifo":
        os.mkfifo(bad)  # no writer: opening it for reading would wait for one forever
    elif kind == "huge":
        with open(bad, "wb") as f:
            f.truncate(64 * 1024 * 1024)
    elif kind == "binary":
        rng = random.Random(1)
        bad.write_bytes(b"\xff" + bytes(rng.randrange(256) for _ in range(4096)))
    elif kind == "utf16":
        bad.write_bytes("var x: bool = false;\n".encode("utf-16"))
    good_model = ROOT / "examples" / "water_jugs.qdl"
    path = "bad\x00.qdl" if kind == "nul-name" else str(bad)
    if command == "check":
        r = run_cli(["check", path])
    elif command == "replay-trace":
        r = run_cli(["replay", path, good_model])
    else:
        trace = tmp_path / "t.json"
        trace.write_text('{"vars": [], "states": [{}]}')
        r = run_cli(["replay", trace, path])
    assert_polite(r)
    assert r.code == (150 if kind == "fifo" and command != "replay-trace" else 151), (r.code, r.err)
    assert r.seconds < 30


def test_a_use_of_dev_zero_is_refused(tmp_path: Path) -> None:
    # FIXED: `use "/dev/zero"` (and `check /dev/zero`) read forever: the size check trusted stat()
    m = write_model(tmp_path, 'use "/dev/zero";\nvar x: bool = false;\naction a { skip; }\n', "m.qdl")
    r = run_cli(["check", m], bound=30)
    assert r.code == 150 and "E014" in r.err


# ------------------------------------------------------------------ checkpoints

def _write_raw(directory: Path, header: object, payload: bytes) -> None:
    """A checkpoint file in the format, with a header and payload of the test's choosing (and a
    correct checksum, so that only the checks of the contents stand between it and a search)."""
    import hashlib

    from quiesce_check.engines.checkpoint import CHECKPOINT_FILE, MAGIC

    raw = json.dumps(header).encode()
    body = MAGIC + len(raw).to_bytes(8, "little") + raw + payload
    (directory / CHECKPOINT_FILE).write_bytes(body + hashlib.sha256(body).digest())


@pytest.fixture(scope="module")
def checkpoint_doc(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, bytes]:
    from quiesce_check.engines.checkpoint import CHECKPOINT_FILE, MAGIC

    d = tmp_path_factory.mktemp("ck") / "saved"
    r = run_cli(["check", ROOT / "models" / "precopy_backend.qdl", "--max-states", "300", "--checkpoint", d])
    assert r.code == 20, r.err
    data = (d / CHECKPOINT_FILE).read_bytes()
    n = int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "little")
    start = len(MAGIC) + 8
    return json.loads(data[start:start + n]), data[start + n:-32]


@FUZZ
@given(st.data())
def test_tampered_checkpoints(checkpoint_doc: tuple[dict, bytes], tmp_path_factory: pytest.TempPathFactory,
                              data: st.DataObject) -> None:
    header, payload = checkpoint_doc
    bad = data.draw(_tampered(header))
    body = bytearray(payload)
    if body and data.draw(st.booleans()):
        for _ in range(data.draw(st.integers(1, 4))):
            body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    d = tmp_path_factory.mktemp("bad")
    _write_raw(d, bad, bytes(body))
    r = run_cli(["resume", d, "--backend", data.draw(st.sampled_from(["auto", "python"])), "--max-states", "2000"])
    assert_polite(r)
    assert r.code in (0, 11, 12, 14, 20, 75, 151), r.code


# ------------------------------------------------------------------ escapes and links

@FUZZ
@given(st.sampled_from(sorted(ESCAPE_PLACES)), hostile_text(), st.booleans())
@example("comment-on-error-line", f"\x1b[2J\x1b[H{FAKE}", False)
@example("use-path", "\x1b]0;owned\x07\u202e", True)
def test_escapes_never_reach_the_terminal(scratch: Path, place: str, text: str, in_name: bool) -> None:
    source = ESCAPE_PLACES[place].format(text, text)
    name = "m.qdl"
    if in_name:
        name = "m" + "".join(c for c in text if c not in "/\x00") + ".qdl"
    path = write_model(scratch, source, name)
    r = run_cli(["check", path, "--backend", "python", *LIMITS])
    assert_polite(r)
    assert_escaped(r)


@settings(FUZZ, max_examples=(EXAMPLES or 100) // 10)  # each example is a whole regress run
@given(hostile_text(), hostile_text())
def test_junit_is_well_formed_whatever_the_names(tmp_path_factory: pytest.TempPathFactory, name: str,
                                                 prop: str) -> None:
    import xml.etree.ElementTree as ET

    here = tmp_path_factory.mktemp("junit")
    (here / "m.qdl").write_text("var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\ninvariant small: x < 2;\n"
                                "terminal done: x == 3;\n")
    body = f'[[run]]\nname = {json.dumps(name)}\nmodel = "m.qdl"\nexpect = {{ small = "violated", ' \
           f'{json.dumps(prop)} = "holds" }}\n'
    (here / "r.toml").write_text(body)
    out = here / "j.xml"
    r = run_cli(["regress", here / "r.toml", "--junit", out, "--backend", "python"])
    assert_polite(r)
    assert_escaped(r)
    if out.exists():
        root = ET.fromstring(out.read_text())
        assert root.tag == "testsuites" and all(suite.tag == "testsuite" for suite in root)


_VIOLATED = "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\ninvariant small: x < 2;\nterminal done: x == 3;\n"


def _plant(folder: Path, name: str, to: str, victim: Path) -> Path | None:
    """A link at `folder/name` to the target kind `to`; the path it must never create, if any."""
    at = folder / name
    if to == "victim":
        at.symlink_to(victim)
    elif to == "missing":
        at.symlink_to(victim.parent / "never-created")
        return victim.parent / "never-created"
    elif to == "directory":
        at.symlink_to(victim.parent)
    elif to == "chain":
        middle = folder / f"{name}.middle"
        middle.symlink_to(victim)
        at.symlink_to(middle)
    elif to == "self":
        at.symlink_to(at)
    else:
        at.symlink_to(f"{name}.real")
        return folder / f"{name}.real"
    return None


@settings(FUZZ, max_examples=(EXAMPLES or 100) // 2)
@given(planted_links(), st.sampled_from(["python", "auto"]))
def test_writes_never_follow_planted_links(tmp_path_factory: pytest.TempPathFactory,
                                           links: list[tuple[str, str]], backend: str) -> None:
    here = tmp_path_factory.mktemp("links")
    victim = here / "victims" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("victim")
    model = write_model(here, _VIOLATED, "m.qdl")
    out, ck = here / "out", here / "ck"
    out.mkdir()
    ck.mkdir()
    names = {"--json": (out, "r.json"), "--itf": (out, "r.itf.json"), "--html": (out, "r.html"),
             "checkpoint-temporary": (ck, f".checkpoint.qcc.{os.getpid()}.tmp"),
             "checkpoint-probe": (ck, f".probe.{os.getpid()}"), "checkpoint-stale": (ck, ".checkpoint.qcc.7.tmp"),
             "checkpoint-file": (ck, "checkpoint.qcc"), "lock": (ck, ".lock")}
    never = [p for spot, to in links if (p := _plant(*names[spot], to, victim)) is not None]
    argv = ["check", model, "--backend", backend, "--no-coverage", "--checkpoint", ck, "--max-states", "2",
            *(x for flag in ("--json", "--itf", "--html") for x in (flag, out / names[flag][1]))]
    runs = [run_cli(argv)]
    if runs[0].code == 20:
        runs.append(run_cli(["resume", ck, "--backend", backend, "--json", out / "r.json"]))
    for r in runs:
        assert_polite(r)
        assert r.code in (12, 20, 151), r.out + r.err
    assert victim.read_text() == "victim" and sorted(victim.parent.iterdir()) == [victim]
    assert not any(os.path.lexists(p) for p in never)
    planted = {spot for spot, _ in links}
    if runs[0].code == 151:  # refused: a link where the lock or the checkpoint must be
        assert planted & {"lock", "checkpoint-file"}, runs[0].err
    else:
        assert (out / "r.json").is_file() and not (out / "r.json").is_symlink()
        assert (ck / "checkpoint.qcc").is_file() and not (ck / "checkpoint.qcc").is_symlink()


# ------------------------------------------------------------------ seeds

@pytest.mark.parametrize("seed", SEEDS)
def test_the_seeds_hold(tmp_path: Path, seed: str) -> None:
    # a seed is written to hold (its invariants follow from its guards) and to reach every
    # `reachable`: mutations then start from a model whose every construct is checked and run
    out = tmp_path / "r.json"
    r = run_cli(["check", ROOT / seed, "--backend", "python", "--no-coverage", "--json", out])
    assert_polite(r)
    data = json.loads(out.read_text())
    assert (r.code, data["complete"]) == (0, True), r.out + r.err
    assert {p["status"] for p in data["properties"] if p["kind"] == "reachable"} == {"reached"}
    assert {p["status"] for p in data["properties"] if p["kind"] != "reachable"} == {"holds"}


# Internal errors found by fuzzing the seeds and the random models of collections: each the
# smallest model that showed it, with where it was raised.
FOUND = {
    # compile/collections.py pads a sequence with the least value of its element type, and the
    # unbounded integer type of an integer literal (or arithmetic), or `<<>>`'s, has none
    "compare-literals": "var b: bool = false;\naction t { b := <<>> == <<0>>; }\n",
    "compare-shorter": "var b: bool = false;\nvar q: seq[2] of 0..2 = <<>>;\naction t { b := <<1>> == q; }\n",
    "head-of-literal": "var x: 0..3 = 0;\naction t { x := head(<<1, 2>>); }\n",
    "append-to-literal": "var q: seq[2] of 0..2 = <<>>;\naction t { q := append(<<1>>, 0); }\n",
    "head-of-empty-literal": "var y: 0..2 = 0;\naction t { y := head(<<>>); }\n",
    # compile/lower.py indexes the slots of `<<>>`, which has none
    "index-of-empty-literal": "var x: 0..3 = 0;\naction t { x := (<<>>)[0]; }\n",
    # compile/pygen.py takes the least and greatest of a choice's candidate values, and a set the
    # lowering folds to no candidates has none
    "with-over-no-candidates": "var x: 0..3 = 0;\naction t { with f in {0} minus {0} { x := f; } }\n",
    "parameter-over-no-candidates": "var x: 0..3 = 0;\naction t(v in {e in 0..2 where false}) { x := v; }\n",
    # lang/checker/processes.py: an indexed process and a plain one of the same name
    "process-declared-twice": "process P[i in 0..1] { skip; }\nprocess P { skip; }\n",
    # the checker lets a qualified enum member, and a def, be assigned; lowering finds no place
    "assign-enum-member": "type Phase = enum { Idle, Busy };\nvar phase: Phase = Idle;\n"
                          "action a { Phase.Idle := Phase.Busy; }\n",
    "assign-def": "var x: 0..2 = 0;\ndef d = x + 1;\naction a { d := 1; }\n",
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_what_fuzzing_found_is_polite(tmp_path: Path, name: str) -> None:
    # FIXED: each was an internal error (exit 153)
    path = write_model(tmp_path, FOUND[name])
    assert_polite(run_cli(["check", path, "--backend", "python", "--no-coverage"]), str(path), FOUND[name])
