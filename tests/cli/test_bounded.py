"""Hostile inputs whose cost once grew without bound, or that ended in a traceback: each pinned with
its cause, through the real command line, held to the README's contract (`assert_polite`) and to
a time bound.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.fuzzing import assert_polite, run_cli, write_model
from tests.conftest import ROOT

unix = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def doubling_defs(levels: int) -> str:
    """Defs each using the one before twice: `levels` doublings of the first."""
    lines = ["var x: 0..3 = 0;", "def d0(a: 0..3) = a > 0;"]
    lines += [f"def d{i}(a: 0..3) = d{i - 1}(a) and d{i - 1}(a);" for i in range(1, levels + 1)]
    lines += [f"action go when d{levels}(x) {{ x := 0; }}", "action inc when x < 3 { x := x + 1; }"]
    return "\n".join(lines) + "\n"


def doubling_procs(levels: int) -> str:
    lines = ["var x: 0..3 = 0;", "proc p0() { x := 0; }"]
    lines += [f"proc p{i}() {{ p{i - 1}(); p{i - 1}(); }}" for i in range(1, levels + 1)]
    lines += [f"action go {{ p{levels}(); }}", "action inc when x < 3 { x := x + 1; }"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [18, 40])
@pytest.mark.parametrize("kind", ["def", "proc"])
def test_routines_that_double_at_every_level(tmp_path: Path, kind: str, levels: int) -> None:
    # FIXED: each level's two uses of the one before were inlined before any size check: 18 levels
    # of defs took 30 s (104 s and 3.3 GB on a slower machine), 40 never ended; now refused from
    # the routines' sizes, computed bottom up, at the use that expands
    text = doubling_defs(levels) if kind == "def" else doubling_procs(levels)
    path = write_model(tmp_path, text, "m.qdl")
    r = run_cli(["check", path, "--backend", "python"], bound=20)
    assert_polite(r, str(path), text)
    use_line = levels + 3
    assert r.code == 150 and re.search(rf"m\.qdl:{use_line}:\d+: error\[E024\]", r.err), r.err
    assert r.seconds < 5


def test_an_argument_that_grows_at_every_level(tmp_path: Path) -> None:
    # FIXED (found by fuzzing): one use per level, but an argument mentioning the parameter three
    # times: 3^40 copies of `a`, substituted into one another before any size check
    lines = ["var x: 0..3 = 0;", "def d0(a: 0..3) = a > 0;"]
    lines += [f"def d{i}(a: 0..3) = d{i - 1}(if a > 0 then a - 1 else a);" for i in range(1, 41)]
    text = "\n".join([*lines, "invariant inv: d40(x) or x >= 0;", "action inc when x < 3 { x := x + 1; }"]) + "\n"
    path = write_model(tmp_path, text, "m.qdl")
    r = run_cli(["check", path, "--backend", "python"], bound=20)
    assert_polite(r, str(path), text)
    assert r.code == 150 and re.search(r"m\.qdl:43:\d+: error\[E024\]", r.err), r.err


def test_routines_that_double_a_few_times_still_check(tmp_path: Path) -> None:
    # the bound is far above real models: eight doublings (256 copies) is an ordinary model
    text = doubling_defs(8)
    r = run_cli(["check", write_model(tmp_path, text, "m.qdl"), "--backend", "python"], bound=30)
    assert r.code == 0, r.err


def test_a_long_chain_of_uses(tmp_path: Path) -> None:
    # FIXED: 1,000 files each `use`-ing the next: the loader recursed once per file, a
    # RecursionError reported as an internal error (exit 153); now spliced with an explicit stack
    n = 1000
    for i in range(n):
        use = f'use "f{i + 1}.qdl";\n' if i + 1 < n else ""
        body = "var x: 0..3 = 0;\naction a when x < 3 { x := x + 1; }\nterminal t: x == 3;\n" if i == 0 else ""
        (tmp_path / f"f{i}.qdl").write_text(f"{use}const C{i} = {i};\n{body}")
    r = run_cli(["check", tmp_path / "f0.qdl", "--backend", "python", "--no-coverage"], bound=60)
    assert_polite(r)
    assert r.code == 0, r.err


def test_a_long_cycle_of_uses_is_one_short_message(tmp_path: Path) -> None:
    n = 300
    for i in range(n):
        (tmp_path / f"f{i}.qdl").write_text(f'use "f{(i + 1) % n}.qdl";\nconst C{i} = {i};\n')
    r = run_cli(["check", tmp_path / "f0.qdl"], bound=60)
    assert_polite(r)
    assert r.code == 150 and "error[E014]" in r.err and "more ..." in r.err
    assert len(r.err) < 4000


# ------------------------------------------------------------- symmetry tables and time limits

def symmetric_model(slots: int) -> str:
    """Seven symmetric values (5,040 permutations) and a state of `slots` booleans beside them."""
    arrays = "".join(f"var a{i}: array[0..{slots // 4 - 1}] of bool = [k in 0..{slots // 4 - 1}: false];\n"
                     for i in range(4))
    return "symmetric type T = 0..6;\nvar t: T = any;\n" + arrays + "action a(v in T) { t := v; }\n"


def test_symmetry_tables_of_permutations_times_slots_are_capped(tmp_path: Path) -> None:
    # FIXED: 7 values over 14,000 slots: a table entry per permutation and slot, 70 million in
    # all, 150 s and 5.3 GB before a search of 7 states; now refused at the symmetric type
    text = symmetric_model(14000)
    path = write_model(tmp_path, text, "m.qdl")
    r = run_cli(["check", path, "--backend", "python"], bound=30)
    assert_polite(r, str(path), text)
    assert r.code == 150 and re.search(r"m\.qdl:1:\d+: error\[E024\]", r.err), r.err
    assert "70,565,040" in r.err  # 5,040 permutations times 14,001 slots
    assert r.seconds < 10
    r = run_cli(["check", path, "--backend", "python", "--no-symmetry"], bound=60)
    assert r.code == 0 and " 7 distinct," in r.out, r.out  # without the reduction, no tables


def test_the_time_limit_holds_while_the_symmetry_tables_are_built(tmp_path: Path) -> None:
    # FIXED: --time-limit was counted from the search's start: building 2 million table entries
    # (seconds) ran past it, and a search then took the whole limit again
    path = write_model(tmp_path, symmetric_model(400), "m.qdl")
    r = run_cli(["check", path, "--backend", "python", "--time-limit", "0.3"], bound=30)
    assert_polite(r)
    assert r.code == 20 and "--time-limit 0.3s passed while building" in r.err, r.err
    assert r.seconds < 1.5


def slow_compiler(tmp_path: Path) -> tuple[Path, Path]:
    """A `cc` that starts a child of its own and never finishes; the file it writes the child's
    process id to."""
    pids = tmp_path / "compiler.pids"
    cc = tmp_path / "slowcc"
    cc.write_text(f"#!/bin/sh\necho $$ >> {pids}\nsleep 300 &\necho $! >> {pids}\nwait\n")
    cc.chmod(0o755)
    return cc, pids


def alive(pids: Path) -> list[int]:
    out = []
    for pid in (int(x) for x in pids.read_text().split()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            out.append(pid)
    return out


def test_the_time_limit_holds_while_the_c_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # FIXED: the compiler ran for up to 120 s whatever --time-limit said; now it is stopped at the
    # limit, with what it started, and its temporary folder removed
    cc, pids = slow_compiler(tmp_path)
    monkeypatch.setenv("CC", str(cc))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = write_model(tmp_path, "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\nterminal t: x == 3;\n")
    r = run_cli(["check", path, "--backend", "native", "--time-limit", "1"], bound=30)
    assert_polite(r)
    assert r.code == 20 and "passed while compiling the model's C" in r.err, r.err
    assert r.seconds < 5
    assert len(pids.read_text().split()) == 2 and alive(pids) == []
    assert list((tmp_path / "cache" / "quiesce-check").iterdir()) == []


# ------------------------------------------------------------------------ regress manifests

def manifest(directory: Path, model: str) -> Path:
    path = directory / "m.toml"
    path.write_text(f'[[run]]\nname = "r"\nmodel = "{model}"\nexpect = {{ t = "holds" }}\n')
    return path


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "huge"])
def test_a_manifest_that_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    # FIXED: a FIFO as the manifest blocked for ever, /dev/zero was read without a size limit
    path = tmp_path / "m.toml"
    if kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        with open(path, "wb") as f:
            f.write(b"# " + b"x" * (5 * 1024 * 1024))
    r = run_cli(["regress", path], bound=20)
    assert_polite(r)
    assert r.code == 151 and r.err.startswith("error: "), r.err
    assert r.seconds < 5


def test_manifest_models_stay_inside_its_folder(tmp_path: Path) -> None:
    # FIXED: a manifest's model paths reached anywhere (`../../..`), and any file of any kind
    inner = tmp_path / "project"
    inner.mkdir()
    (tmp_path / "outside.qdl").write_text("var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\n"
                                          "terminal end: x == 3;\ninvariant t: x < 5;\n")
    r = run_cli(["regress", manifest(inner, "../outside.qdl")])
    assert_polite(r)
    assert r.code == 151 and "--allow-outside" in r.err, r.err
    r = run_cli(["regress", manifest(inner, "../outside.qdl"), "--allow-outside", "--backend", "python"])
    assert r.code == 0, r.out + r.err
    for odd in ("/dev/zero", "/etc/passwd"):
        r = run_cli(["regress", manifest(inner, odd), "--allow-outside"], bound=20)
        assert_polite(r)
        assert r.code == 151 and ".qdl" in r.err, r.err


def test_the_repository_manifest_names_models_inside_the_repository() -> None:
    from quiesce_check.regress import load_manifest, manifest_root

    manifest_path = ROOT / "specs" / "regress.toml"
    runs = load_manifest(str(manifest_path))
    root = manifest_root(manifest_path)
    assert root == ROOT.resolve() and all(r.model.resolve().is_relative_to(root) for r in runs)


def test_runs_that_cannot_be_done_are_failed_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # FIXED: an induction run on integers wider than the bit-vector encoding, and --backend native
    # without a compiler, ended `regress` in a traceback (exit 153)
    (tmp_path / "wide.qdl").write_text(f"var x: 0..{2 ** 300} = 0;\naction inc when x < 3 {{ x := x + 1; }}\n"
                                       "invariant small: x < 5;\n")
    (tmp_path / "plain.qdl").write_text("var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\n"
                                        "terminal t: x == 3;\ninvariant small: x < 5;\n")
    path = tmp_path / "m.toml"
    path.write_text('[[run]]\nname = "wide"\nmodel = "wide.qdl"\nengine = "induction"\n'
                    'expect = { small = "holds" }\n\n'
                    '[[run]]\nname = "plain"\nmodel = "plain.qdl"\nexpect = { small = "holds" }\n')
    r = run_cli(["regress", path, "--json", tmp_path / "r.json"], bound=60)
    assert_polite(r)
    assert r.code == 1, r.out + r.err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [run["ok"] for run in doc["runs"]] == [False, True]
    assert "bit-vector" in doc["runs"][0]["error"]
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))
    monkeypatch.delenv("CC", raising=False)
    r = run_cli(["regress", path, "--backend", "native", "--json", tmp_path / "r.json"], bound=60)
    assert_polite(r)
    assert r.code == 1, r.out + r.err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert "compiler" in doc["runs"][1]["error"]


# ------------------------------------------------------------------------------ hook --ablate

def test_ablation_processes_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    # FIXED: `--jobs 64` started 64 processes for 2 searches on a 2-core machine
    from quiesce_check import hooks
    from quiesce_check.engines.result import Options

    started: list[tuple[int, int]] = []

    class Inline:
        def __init__(self, max_workers: int, **how: object) -> None:
            self.workers = max_workers
            self.initializer = how.get("initializer")
            self.initargs = how.get("initargs", ())

        def __enter__(self) -> Inline:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def submit(self, fn, *args):  # noqa: ANN001, ANN002, ANN202 - the executor's own signature
            from concurrent.futures import Future
            done: Future = Future()
            done.set_result(fn(*args))
            return done

        def map(self, fn, items):  # noqa: ANN001, ANN202 - the executor's own signature
            items = list(items)
            started.append((self.workers, len(items)))
            if self.initializer is not None:  # as a worker process starts
                self.initializer(*self.initargs)  # type: ignore[operator]
            return iter([fn(x) for x in items])

        def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
            pass

    monkeypatch.setattr(hooks, "ProcessPoolExecutor", Inline)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    spec, model = str(ROOT / "specs" / "hooks" / "andrew_2014.qdl"), str(ROOT / "models" / "v2_blkfront_blkback.qdl")
    probe = hooks.build_composed(spec, model, {"NREQS": 1})
    hook = hooks.hook_of(probe)
    select = hooks.all_properties(probe)
    opts = Options(keep_going=True, backend="python")
    built, result = hooks.check_with(spec, model, {"NREQS": 1}, dict.fromkeys(hook.obligations, True), select, opts)
    full = hooks.summarise(built, result, frozenset(hook.obligations))
    hooks.ablate(spec, model, {"NREQS": 1}, hook, select, opts, full, workers=64)
    # one pool for the whole ablation, sized to its searches (2 ** 2 subsets here) and the 3 cores
    assert started and all(1 < workers <= min(2 ** len(hook.obligations), 3) for workers, _ in started), started
    assert sum(n for _, n in started) <= 2 ** len(hook.obligations)
    assert hooks.workers_for(10, 64) == 3 and hooks.workers_for(1, 64) == 1 and hooks.workers_for(10, 2) == 2


# ----------------------------------------------------------------------- paths and signals

def test_a_model_name_that_is_not_utf8_with_html(tmp_path: Path) -> None:
    # FIXED: the page could not be written (a lone surrogate in the title): exit 153, a 0-byte page
    name = os.fsdecode(b"m\xff.qdl")
    path = write_model(tmp_path, "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\n"
                                 "invariant small: x < 3;\n", name)
    page, doc, itf = tmp_path / "p.html", tmp_path / "r.json", tmp_path / "t.itf.json"
    r = run_cli(["check", path, "--html", page, "--json", doc, "--itf", itf, "--backend", "python"])
    assert_polite(r)
    assert r.code == 12, r.err
    assert "m\\xff.qdl" in page.read_text(encoding="utf-8") and "m\\xff.qdl" in r.out
    assert json.loads(doc.read_text(encoding="utf-8"))["model"].endswith("m\\xff.qdl")
    assert itf.stat().st_size > 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def terminated(argv: list[object], ready: Callable[[subprocess.Popen[str]], bool],
               env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`quiesce-check ARGV` in a process of its own, sent SIGTERM once `ready` says so."""
    proc = subprocess.Popen([sys.executable, "-m", "quiesce_check", *map(str, argv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not ready(proc) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "it ended before the signal"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in out + err, out + err
    return proc.returncode, out, err


def busy(seconds: float) -> Callable[[subprocess.Popen[str]], bool]:
    """Ready once the process has run `seconds` of CPU time (its imports take about 0.7 s)."""
    return lambda proc: cpu_seconds(proc.pid) >= seconds


def cpu_of_run(argv: list[object]) -> float:
    """The CPU seconds `quiesce-check ARGV` takes, run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "quiesce_check", *map(str, argv)], capture_output=True, cwd=ROOT,
                   timeout=120, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


@unix
def test_sigterm_while_building(tmp_path: Path) -> None:
    # FIXED: SIGTERM outside a search ended the process (143) with no output at all
    path = write_model(tmp_path, symmetric_model(400))
    # The signal lands halfway between a run of a trivial model (imports, parsing, a search of
    # two states) and a run of this one, whose time goes on building its tables of permutations:
    # measured on the machine that runs the test, not guessed for it
    trivial = write_model(tmp_path, "var x: 0..1 = 0;\naction a { x := 1; }\n", "trivial.qdl")
    start, end = (cpu_of_run(["check", p, "--backend", "python"]) for p in (trivial, path))
    assert end - start > 0.2, (start, end)
    code, out, err = terminated(["check", path, "--backend", "python"], busy((start + end) / 2))
    assert code == 20 and "interrupted while building" in err, (code, out, err)


@unix
def test_sigterm_while_compiling(tmp_path: Path) -> None:
    # FIXED: SIGTERM while the C compiled: exit 143, the compiler left running, its temporary
    # folder left in the cache
    cc, pids = slow_compiler(tmp_path)
    path = write_model(tmp_path, "var x: 0..3 = 0;\naction inc when x < 3 { x := x + 1; }\nterminal t: x == 3;\n")
    code, out, err = terminated(["check", path, "--backend", "native"],
                                lambda proc: pids.exists() and len(pids.read_text().split()) == 2,
                                {"CC": str(cc), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert code == 20 and "interrupted while compiling" in err, (code, out, err)
    assert alive(pids) == []
    assert list((tmp_path / "cache" / "quiesce-check").iterdir()) == []


@unix
@pytest.mark.parametrize("engine", ["random", "bmc", "induction"])
def test_sigterm_stops_every_engine_with_a_summary(engine: str) -> None:
    # FIXED: only the breadth-first searches took SIGTERM as a request to stop: random, bmc and
    # induction ended at once (143) and printed nothing
    extra = ["--walks", "100000000"] if engine == "random" else ["--depth", "200"]
    code, out, err = terminated(["check", ROOT / "models" / "precopy_backend.qdl", "--engine", engine, *extra,
                                 "--no-coverage"], busy(2.0))
    assert code == 20, (code, out, err)
    assert "stopped: interrupted" in out and "Verdict: incomplete (exit 20)" in out, out
