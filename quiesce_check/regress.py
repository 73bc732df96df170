"""`quiesce-check regress MANIFEST`: every model of a manifest against its expected verdicts.

Takes a TOML manifest (`specs/regress.toml`): runs, each naming a model (a
path relative to the manifest), its parameters, and the expected verdict of
each property (`holds`, `violated`, `vacuous`; `assertions` and `deadlock`
stand for the model's `assert`s and for deadlock freedom), with, where known,
the shortest counterexample's length (for a liveness property, a lasso's: its
steps in all, and `loop`, the state its cycle starts from) and the complete
search's distinct-state count. Gives one row per (run, property) with what was
expected and what was found, and the deviations: a property that stops failing is as much a
regression as one that starts. Each run is one breadth-first search that goes
on past violations (`--continue`), so every property gets its verdict and
shortest counterexample from the same exploration; a run with
`engine = "induction"` (a proof, e.g. a model with its lemmas) is one
k-induction instead, with `depth` its largest k, and its `expect` may name
lemmas too: each must be proved.

The manifest is read like a model: a regular file of at most `MAX_MANIFEST_BYTES` (no device,
pipe or directory). Its model paths are relative to it, must name `.qdl` files, and must stay
inside the repository the manifest belongs to (the nearest folder above it holding `.git`),
or inside the manifest's own folder when it belongs to none: a manifest names the models of
its project, and reaching further (`../../../etc/...`) needs the user's `allow_outside`
(`--allow-outside`). A run that cannot be done (its model does not build, the time limit
passes while building it, no C compiler for `--backend native`, an encoding it does not fit)
is a failed row that says why; a deviation has the counterexample's message and, where the
caller gives an `Explain` (the command line gives the vocabularies'), its explanation. The
outcomes' files (JUnit XML, JSON) are `output.regress`'s. Imports `build`, `compile`,
`engines.*`, `lang.errors`.
"""

from __future__ import annotations

import os
import stat
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from quiesce_check.build import Built, build_file, symmetry_of
from quiesce_check.compile.deadline import Deadline, TimeLimit
from quiesce_check.compile.z3gen import EncodingError
from quiesce_check.engines import ENGINES, NoCompiler, Refused, run_checked
from quiesce_check.engines.result import NullReporter, Options, Reporter, Result, Status, halt_of
from quiesce_check.engines.symmetry import SymmetryBreach
from quiesce_check.lang.errors import ModelError

VERDICTS = ("holds", "violated", "vacuous")
_RUN_KEYS = {"name", "model", "params", "expect", "states", "scenario", "note", "symmetry", "engine", "depth"}
# the engines a run may name (by their specs in `engines.ENGINES`): the default search, whose
# counts and shortest lengths a run pins, or a proof by k-induction
RUN_ENGINES = ("bfs", "induction")
_EXPECT_KEYS = {"verdict", "length", "loop"}
# Sentences that say why a counterexample of a built model breaks its property (a vocabulary's).
Explain = Callable[[Built, Any], list[str]]
# A manifest larger than this is refused before parsing (the repository's is 20 KB).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


class ManifestError(Exception):
    """The manifest cannot be read, or says something this runner does not understand."""


@dataclass(frozen=True)
class Expect:
    prop: str
    verdict: str
    length: int | None = None
    loop: int | None = None   # a lasso's: the state its cycle starts from (`length` when it stutters)


@dataclass(frozen=True)
class Run:
    name: str
    model: Path
    params: dict[str, Any]
    expects: tuple[Expect, ...]
    states: int | None = None
    scenario: str = ""
    note: str = ""
    symmetry: bool = True  # reduce by the model's symmetric types, if it declares any
    engine: str = "bfs"
    depth: int | None = None   # induction: the largest k (None: the engine's default)


@dataclass
class Row:
    run: str
    prop: str
    expected: str
    got: str
    ok: bool
    detail: str = ""
    why: str = ""   # a deviation's counterexample: its message and explanation, if the search found one


@dataclass
class RunOutcome:
    run: Run
    rows: list[Row] = field(default_factory=list)
    states: int | None = None
    seconds: float = 0.0
    error: str | None = None
    interrupted: bool = False  # Ctrl-C or SIGTERM stopped the run: the runs after it are not done

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.rows)


def counterexample_text(length: int, loop: int | None) -> str:
    """`21 steps`; a lasso's `13 steps, then a cycle of 2 steps` or `14 steps, then stuttering`."""
    def steps(n: int) -> str:
        return f"{n} step{'s' * (n != 1)}"
    if loop is None:
        return steps(length)
    return f"{steps(loop)}, then " + ("stuttering" if loop == length else f"a cycle of {steps(length - loop)}")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _expect(where: str, prop: str, want: Any) -> Expect:
    """One property's expectation: a verdict, or a table with the counterexample's length and loop."""
    if isinstance(want, str):
        want = {"verdict": want}
    if not isinstance(want, dict) or set(want) - _EXPECT_KEYS or "verdict" not in want:
        raise ManifestError(f"{where}: expect.{prop} must be a verdict or a table "
                            '{ verdict = "violated", length = N }, with `loop = L` for a lasso')
    if want["verdict"] not in VERDICTS:
        raise ManifestError(f"{where}: expect.{prop}: `{want['verdict']}` is not one of " + ", ".join(VERDICTS))
    length, loop = want.get("length"), want.get("loop")
    for key, value in (("length", length), ("loop", loop)):
        if value is not None and not _whole(value):
            raise ManifestError(f"{where}: expect.{prop}.{key} must be a whole number")
        if value is not None and want["verdict"] != "violated":
            raise ManifestError(f"{where}: expect.{prop}: only a violated property has a counterexample {key}")
    if loop is not None and (length is None or loop > length):
        raise ManifestError(f"{where}: expect.{prop}.loop is the state a lasso's cycle starts from: "
                            "give its `length` too, at least the loop")
    return Expect(prop, want["verdict"], length, loop)


def _scalar_params(where: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ManifestError(f"{where}: `params` must be a table, e.g. params = {{ PAGES = 3 }}")
    for k, v in raw.items():
        if not isinstance(v, bool | int | str):
            raise ManifestError(f"{where}: parameter `{k}` must be an integer, a boolean or an enum member's name")
    return dict(raw)


def read_manifest(path: str) -> str:
    """The text of a manifest: a regular file of at most MAX_MANIFEST_BYTES, read without waiting
    on a pipe nobody writes to; ManifestError otherwise."""
    try:
        # not blocking in open(): a named pipe is refused, not waited on
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise ManifestError(f"{path} is a directory, not a manifest")
            if not stat.S_ISREG(mode):
                raise ManifestError(f"{path} is not a regular file (a device, pipe or socket): a manifest "
                                    "is a TOML file")
            os.set_blocking(fd, True)
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as e:
        raise ManifestError(f"cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:  # a path with a NUL byte in it
        raise ManifestError(f"cannot read {path!r}: {e}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{path}: more than {MAX_MANIFEST_BYTES} bytes; a manifest may have at most "
                            f"{MAX_MANIFEST_BYTES}")
    return data.decode("utf-8")


def manifest_root(manifest: Path) -> Path:
    """The folder a manifest's models must be in: the repository it belongs to (the nearest
    folder above it holding `.git`), else its own folder."""
    folder = manifest.resolve().parent
    for d in (folder, *folder.parents):
        if (d / ".git").exists():
            return d
    return folder


def _model_path(where: str, manifest: Path, model: str, allow_outside: bool) -> Path:
    path = manifest.parent / model
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError) as e:
        raise ManifestError(f"{where}: `model` {model!r}: cannot resolve the path: {e}") from None
    if path.suffix != ".qdl" or real.suffix != ".qdl":
        raise ManifestError(f"{where}: `model` {model!r} must name a QDL model (`.qdl`)")
    if not allow_outside:
        root = manifest_root(manifest)
        if not real.is_relative_to(root):
            raise ManifestError(f"{where}: `model` {model!r} is outside {root}, the folder the manifest's "
                                "models must be in (its repository, or its own folder); pass --allow-outside "
                                "to run it anyway")
    return path


def load_manifest(path: str, allow_outside: bool = False) -> list[Run]:
    """The runs of a manifest, checked: ManifestError says what is wrong and where. Unless
    `allow_outside`, every model must be inside the manifest's repository (or folder)."""
    p = Path(path)
    try:
        doc = tomllib.loads(read_manifest(path))
    except UnicodeDecodeError as e:
        raise ManifestError(f"{path} is not UTF-8 text (byte {e.start})") from None
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"{path}: not TOML: {e}") from None
    unknown = set(doc) - {"run"}
    if unknown:
        raise ManifestError(f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))}; "
                            "a manifest is a list of [[run]] tables")
    raw_runs = doc.get("run")
    if not isinstance(raw_runs, list) or not raw_runs:
        raise ManifestError(f"{path}: no runs; write one [[run]] table per model and parameter set")
    runs = []
    names: set[str] = set()
    for k, raw in enumerate(raw_runs, 1):
        where = f"{path}: run {k}"
        if not isinstance(raw, dict):
            raise ManifestError(f"{where}: a run is a table")
        bad = set(raw) - _RUN_KEYS
        if bad:
            raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(bad))}; "
                                f"a run has {', '.join(sorted(_RUN_KEYS))}")
        name = raw.get("name")
        model = raw.get("model")
        if not isinstance(name, str) or not name:
            raise ManifestError(f"{where}: `name` must be a non-empty string")
        where = f"{path}: run {k} ({name})"
        if name in names:
            raise ManifestError(f"{where}: another run has this name")
        names.add(name)
        if not isinstance(model, str) or not model:
            raise ManifestError(f"{where}: `model` must be the model's path, relative to the manifest")
        expect = raw.get("expect")
        if not isinstance(expect, dict) or not expect:
            raise ManifestError(f"{where}: `expect` must name at least one property, e.g. "
                                'expect = { image_consistent = "holds" }')
        expects = [_expect(where, prop, want) for prop, want in expect.items()]
        states = raw.get("states")
        if states is not None and (not isinstance(states, int) or isinstance(states, bool) or states < 0):
            raise ManifestError(f"{where}: `states` must be a whole number")
        symmetry = raw.get("symmetry", True)
        if not isinstance(symmetry, bool):
            raise ManifestError(f"{where}: `symmetry` must be true or false")
        engine = raw.get("engine", "bfs")
        if engine not in RUN_ENGINES:
            raise ManifestError(f"{where}: `engine` must be one of {', '.join(RUN_ENGINES)}")
        depth = raw.get("depth")
        if depth is not None and (engine != "induction" or not isinstance(depth, int) or isinstance(depth, bool)
                                  or depth < 0):
            raise ManifestError(f"{where}: `depth` is the largest k of an induction run, a whole number")
        if engine == "induction" and (states is not None or any(x.verdict == "violated" for x in expects)):
            raise ManifestError(f"{where}: an induction run proves properties: it has no state count, and "
                                "expects only holds or vacuous (a violation is for a bfs run to pin)")
        runs.append(Run(name, _model_path(where, p, model, allow_outside), _scalar_params(where, raw.get("params", {})),
                        tuple(expects), states, str(raw.get("scenario", "")), str(raw.get("note", "")),
                        symmetry, engine, depth))
    return runs


# outcomes that are not properties of the model but may be expected of it
SPECIAL = ("assertions", "deadlock")


def _verdict_of(result: Result, prop: str) -> tuple[str, int | None, int | None]:
    """The verdict found for `prop`, with its counterexample's length and, for a lasso, its loop."""
    if prop in SPECIAL:
        kind = "assertion" if prop == "assertions" else "deadlock"
        trace = next((t for t in result.traces.values() if t.kind == kind), None)
        if trace is not None:
            return "violated", len(trace.steps), None
        return ("holds" if result.complete else "incomplete"), None, None
    for p in result.properties:
        if p.name == prop and p.kind in ("invariant", "final", "lemma", "action", "liveness"):
            if p.status is Status.VIOLATED:
                trace = result.traces.get(prop)
                if trace is None:
                    return "violated", None, None
                return "violated", len(trace.steps), trace.loop
            return p.status.value, None, None
    return "not checked", None, None


def _why(built: Built, trace: Any, explain: Explain | None) -> str:
    """A counterexample's message, and its explanation if there is one."""
    if trace is None:
        return ""
    return " ".join([trace.message, *(explain(built, trace) if explain is not None else [])])


def check_run(run: Run, options: Options, reporter: Reporter | None = None,
              explain: Explain | None = None) -> RunOutcome:
    """One run: build the model with the run's parameters, search once, compare."""
    out = RunOutcome(run)
    engine = ENGINES[run.engine]
    start = time.perf_counter()
    deadline = Deadline(options.time_limit, start)  # per run: its build counts too
    options = replace(options, deadline=deadline)
    try:
        # a proof checks what its model says it checks, lemmas included (a selection names no lemma)
        select = None if engine.symbolic else [x.prop for x in run.expects if x.prop not in SPECIAL]
        built = build_file(str(run.model), run.params, select)
        if engine.symmetry:
            options = replace(options, symmetry=symmetry_of(built, deadline) if run.symmetry else None)
    except ModelError as exc:
        out.error = "; ".join(f"{d.span}: {d.message}" if d.span else d.message for d in exc.diagnostics[:3])
        out.seconds = time.perf_counter() - start
        return out
    except TimeLimit as exc:
        out.error = f"incomplete: {exc}"
        out.seconds = time.perf_counter() - start
        return out
    try:
        options = engine.narrow(replace(options, depth=run.depth) if engine.takes("depth") else options)
        result = run_checked(engine, built.model, options, reporter or NullReporter())
    except Refused as exc:
        out.error = str(exc)
    except SymmetryBreach as exc:
        out.error = f"the model does not respect its symmetric types: {exc.message}"
    except NoCompiler as exc:
        out.error = f"--backend native: {exc}"
    except EncodingError as exc:
        out.error = f"engine {run.engine}: {exc}; a bfs run takes this model"
    except TimeLimit as exc:
        out.error = f"incomplete: {exc}"
    if out.error is not None:
        out.seconds = time.perf_counter() - start
        return out
    out.seconds = time.perf_counter() - start
    out.interrupted = result.limit == "interrupted"
    out.states = result.stats.distinct if result.complete and not engine.symbolic else None
    expected = {x.prop for x in run.expects}
    fatal = [t for t in result.traces.values() if t.kind == "model-error"
             or (t.kind == "assertion" and "assertions" not in expected)
             or (t.kind == "deadlock" and "deadlock" not in expected)]
    halt = halt_of(built.model.info, result.traces)
    if halt is not None and any(t is halt.trace for t in fatal):
        out.error = halt.text  # a model error above all, with where and at which step
    elif fatal:
        out.error = f"{fatal[0].kind}: {fatal[0].message}"
    elif not engine.symbolic and not result.complete and not any(t.kind == "assertion"
                                                                   for t in result.traces.values()):
        out.error = f"the search did not complete ({result.limit or result.verdict.value})"
    for e in run.expects:
        got, length, loop = _verdict_of(result, e.prop)
        same = (e.length is None or length == e.length) and (e.loop is None or loop == e.loop)
        ok = got == e.verdict and same
        found = counterexample_text(length, loop) if length is not None else ""
        shown = got + (f" ({found})" if found else "")
        wanted = e.verdict + (f" ({counterexample_text(e.length, e.loop)})" if e.length is not None else "")
        detail = ""
        if got == e.verdict and not same:
            detail = f"shortest counterexample now {found}, the manifest says {counterexample_text(e.length or 0, e.loop)}"
        elif got != e.verdict and out.error is None:
            detail = ("now holds: a known-bad model stopped failing" if e.verdict == "violated"
                      else f"now {got}")
        why = _why(built, result.traces.get(e.prop), explain) if not ok else ""
        out.rows.append(Row(run.name, e.prop, wanted, shown, ok, detail, why))
    if run.states is not None and out.states is not None and out.states != run.states:
        out.rows.append(Row(run.name, "(distinct states)", str(run.states), str(out.states), False,
                            "the state count changed"))
    return out


def regress(runs: Sequence[Run], options: Options,
            on_run: Callable[[RunOutcome], None] | None = None, explain: Explain | None = None) -> list[RunOutcome]:
    outcomes = []
    for run in runs:
        outcome = check_run(run, options, explain=explain)
        outcomes.append(outcome)
        if on_run is not None:
            on_run(outcome)
        if outcome.interrupted:
            break
    return outcomes
