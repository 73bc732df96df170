"""The command line: `quiesce-check check MODEL`, `resume DIR`, `hook SPEC --model MODEL`,
`regress MANIFEST`, `replay TRACE MODEL`, `cache [--clear]`, `lsp` (the language server, `lsp.py`).

Takes argv; gives an exit code (the README's table). The last stage: it calls
every earlier one and is the only place that prints. No Python traceback ever
reaches the user: model errors are rendered diagnostics (exit 150), bad command
lines and files exit 151, anything unexpected is an internal error (exit 153)
with a one-line summary (set QUIESCE_CHECK_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook
from rich.live import Live
from rich.padding import Padding
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from quiesce_check import hooks
from quiesce_check.ablation_runs import kept, rows_runs
from quiesce_check.build import Built, build_file, read_model, symmetry_of
from quiesce_check.compile.cache import CAP_VARIABLE, cache_dir, cap_bytes, clear, megabytes, usage
from quiesce_check.compile.cgen import compiler
from quiesce_check.compile.deadline import Deadline, TimeLimit
from quiesce_check.compile.size import estimate
from quiesce_check.compile.symmetry import Symmetry
from quiesce_check.compile.unused import unused_steps
from quiesce_check.compile.z3gen import ENCODINGS, EncodingError
from quiesce_check.domain.explain import annotator, explainer
from quiesce_check.engines import (
    ENGINES,
    EngineSpec,
    Family,
    NoCompiler,
    Refused,
    SpillError,
    breadth_first,
    by_family,
    names,
    run_checked,
    with_support,
)
from quiesce_check.engines.checkpoint import (
    CHECKPOINT_FILE,
    Checkpoint,
    CheckpointError,
    CheckpointPlan,
)
from quiesce_check.engines.checkpoint import lock as checkpoint_lock
from quiesce_check.engines.cluster import ClusterUnavailable, connect, cpus
from quiesce_check.engines.interrupt import Terminations
from quiesce_check.engines.memory import MB
from quiesce_check.engines.memory import budget as memory_budget
from quiesce_check.engines.result import (
    EXIT_CODES,
    EXIT_INTERNAL,
    EXIT_MODEL_INVALID,
    EXIT_USAGE,
    VERDICT_OF,
    Options,
    Result,
    Verdict,
)
from quiesce_check.engines.symmetry import SymmetryBreach
from quiesce_check.lang.checker import MAX_CONST_BITS
from quiesce_check.lang.errors import Diagnostic, ModelError, render
from quiesce_check.lang.paths import display
from quiesce_check.lang.types import TEnum, Value
from quiesce_check.output.ablation import render_ablation
from quiesce_check.output.formats import CheckReport, HookReport, NotWritten, Searched, files_of
from quiesce_check.output.regress import RegressReport
from quiesce_check.output.terminal import render_result, render_trace
from quiesce_check.printable import printable
from quiesce_check.regress import ManifestError, RunOutcome, load_manifest, regress
from quiesce_check.replay import replay
from quiesce_check.safe_write import write_text_atomic
from quiesce_check.session import check_same_model, checkpoint_meta, read_meta, recorded_param
from quiesce_check.trace.itf import TraceFormatError, recorded_params
from quiesce_check.trace.types import Trace
from quiesce_check.usage import bare_usage, swapped_hook, version

EXIT_REPLAY_MISMATCH = 22
EXIT_REGRESSION = 1

# The most diagnostics printed for one model: the first ones, on one screen.
_SHOWN_DIAGNOSTICS = 8


class UsageError(Exception):
    pass


class Stopped(Exception):
    """Ctrl-C or SIGTERM before the search could report: the phase it stopped."""


@contextlib.contextmanager
def _during(what: str) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        raise Stopped(f"interrupted while {what}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {n}")
    return n


def _state_limit(text: str) -> int:
    n = _positive(text)
    if n == 0:
        raise argparse.ArgumentTypeError("expected a number of states >= 1, got 0 (leave the option out for no limit)")
    return n


def _megabytes(text: str) -> int:
    try:
        mb = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected megabytes, got {text!r}") from None
    if not 1 <= mb <= 1 << 40 or mb != mb:
        raise argparse.ArgumentTypeError(f"expected at least 1 MB, got {text!r}")
    return int(mb * MB)


def _seconds(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not x > 0 or x != x or x == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return x


def _workers(text: str) -> int:
    """`--workers N` (N >= 1) or `auto` (this machine's cores)."""
    if text == "auto":
        return max(1, os.cpu_count() or 1)
    n = _positive(text)
    if n == 0:
        raise argparse.ArgumentTypeError("expected a number of workers >= 1, or auto")
    return n


def _scale_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_workers, default=None, metavar="N|auto",
                   help="bfs: share the search among N workers, each owning the states whose hash falls to it "
                        "(default 1; auto: the cores; with --cluster: the cluster's CPUs); swarm: searches at once "
                        "(default: the cores)")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="run the workers as Ray actors on the Ray cluster at ADDRESS (`local`: start Ray here); "
                        "needs `pip install 'quiesce-check[cluster]'`")


def parse_params(items: Sequence[str]) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"--param {item!r}: expected NAME=VALUE, e.g. --param PAGES=4")
        if raw in ("true", "false"):
            out[name] = raw == "true"
        elif raw.isidentifier():
            out[name] = raw  # an enum member, resolved against the parameter's type by the checker
        else:
            try:
                out[name] = int(raw)
            except ValueError:
                raise UsageError(f"--param {name}={raw}: the value must be an integer, true, false "
                                 "or the name of an enum member") from None
            if abs(int(out[name])) > 10**9:
                raise UsageError(f"--param {name}={raw}: too large (at most 10^9 in magnitude)")
    return out


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="quiesce-check", description="Model checker for backend-quiescence protocols.")
    p.add_argument("--version", action="version", version=version())
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _check_parser(sub.add_parser("check", help="explore every interleaving of a model and check its properties"))
    _resume_parser(sub.add_parser("resume", help="go on with a breadth-first search saved by check --checkpoint DIR"))
    _other_parsers(sub)
    ls = sub.add_parser("lsp", help="the language server for editors: diagnostics as you type, go to definition")
    ls.add_argument("--stdio", action="store_true", help="speak over standard input and output (the only way)")
    return p


def _check_parser(c: argparse.ArgumentParser) -> None:
    c.add_argument("model", help="the .qdl model file")
    c.add_argument("--engine", choices=sorted(ENGINES), default="bfs",
                   help="; ".join(f"{s.name}: {s.summary}" for s in ENGINES.values()))
    c.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a model parameter (repeatable)")
    c.add_argument("--max-states", type=_state_limit, help="stop after this many distinct states (swarm: in each search)")
    c.add_argument("--max-depth", type=_positive, help="explore no deeper than this many steps")
    c.add_argument("--time-limit", type=_seconds, metavar="SECONDS", help="stop after this long")
    c.add_argument("--memory-limit", type=_megabytes, metavar="MB",
                   help="explicit engines: stop before the search's tables take more than this (default: "
                        "most of the free memory)")
    c.add_argument("--depth", type=_positive, metavar="K",
                   help="bmc: check every behaviour of at most K steps; induction: also the largest k "
                        "(default 20)")
    c.add_argument("--encoding", choices=list(ENCODINGS), default="bv",
                   help="bmc, induction: integers as bit-vectors (bv, the default) or as Z3 integers (int)")
    c.add_argument("--backend", choices=["auto", "native", "python"], default="auto",
                   help="bfs, swarm: run the search as generated C (native), in Python, or C when a "
                        "compiler is available (auto, the default)")
    c.add_argument("--seed", type=_positive, default=0, help="random, swarm: the seed (echoed)")
    c.add_argument("--walks", type=_positive, default=1000,
                   help="random: number of walks; swarm: number of searches (each of at most --max-states "
                        "states)")
    c.add_argument("--no-deadlock", action="store_true", help="do not report states without successors")
    c.add_argument("--property", action="append", metavar="NAME", dest="properties",
                   help="check only this invariant or final property (repeatable); others are ignored")
    c.add_argument("--continue", action="store_true", dest="keep_going",
                   help="bfs, bmc: go on after a violation and report every property's shortest counterexample")
    _output_options(c, "check")
    c.add_argument("--symmetry", action=argparse.BooleanOptionalAction, default=None,
                   help="bfs: keep one state per orbit of the model's `symmetric type`s (the default when the "
                        "model declares one); --no-symmetry explores every state")
    c.add_argument("--checkpoint", metavar="DIR",
                   help="bfs: save the search in DIR periodically and when it stops (resume it with `resume DIR`)")
    c.add_argument("--checkpoint-every", type=_seconds, default=300.0, metavar="SECONDS",
                   help="seconds between checkpoints (default 300)")
    _scale_options(c)
    c.add_argument("--store", choices=["exact", "fingerprint"], default="exact",
                   help="bfs: keep each state whole (exact, the default) or a 64-bit fingerprint of it, with the "
                        "frontier and the parent links on disk (fingerprint: a collision may hide a state; the "
                        "chance is printed)")
    c.add_argument("--spill", metavar="DIR",
                   help="--store fingerprint: the folder for the frontier and the parent links (default: a "
                        "private temporary folder)")


def _resume_parser(u: argparse.ArgumentParser) -> None:
    u.add_argument("directory", metavar="DIR", help="the checkpoint directory")
    u.add_argument("--model", help="the model file, if it has moved (it must not have changed)")
    u.add_argument("--max-states", type=_state_limit, help="stop after this many distinct states (in all)")
    u.add_argument("--max-depth", type=_positive, help="explore no deeper than this many steps")
    u.add_argument("--time-limit", type=_seconds, metavar="SECONDS", help="stop after this much more time")
    u.add_argument("--memory-limit", type=_megabytes, metavar="MB", help="as for check")
    u.add_argument("--backend", choices=["auto", "native", "python"], default="auto", help="as for check")
    u.add_argument("--checkpoint-every", type=_seconds, default=300.0, metavar="SECONDS",
                   help="seconds between checkpoints, saved in DIR again (default 300)")
    _scale_options(u)
    _output_options(u, "resume")



def _other_parsers(sub: argparse._SubParsersAction) -> None:
    """`hook`, `regress` and `replay`."""
    h = sub.add_parser("hook", help="check a quiesce hook spec composed with a model; --ablate weighs its obligations")
    h.add_argument("spec", help="the hook spec (.qdl, with a `hook` declaration and its `obligation`s)")
    h.add_argument("--model", required=True, help="the protocol model the hook is composed with")
    h.add_argument("--ablate", action="store_true",
                   help="check with each obligation removed in turn, and find the minimal sets that keep "
                        "every property")
    h.add_argument("--without", action="append", default=[], metavar="OBLIGATION",
                   help="switch an obligation off (repeatable)")
    h.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter")
    h.add_argument("--backend", choices=["auto", "native", "python"], default="auto",
                   help="run the searches as generated C (native), in Python, or C when a compiler is available "
                        "(auto, the default)")
    h.add_argument("--max-states", type=_state_limit, help="per search")
    h.add_argument("--time-limit", type=_seconds, metavar="SECONDS", help="per search")
    h.add_argument("--jobs", type=_positive, help="when ablating a spec that needs its obligations as constants "
                   "(each subset compiled on its own): searches to run at once (default: the cores, up to 4)")
    h.add_argument("--no-coverage", action="store_true", help="omit the per-action coverage table")
    _file_options(h, "hook")

    g = sub.add_parser("regress", help="check every model of a manifest against its expected verdicts")
    g.add_argument("manifest", help="the TOML manifest (specs/regress.toml)")
    _file_options(g, "regress")
    g.add_argument("--backend", choices=["auto", "native", "python"], default="auto",
                   help="run the searches as generated C (native), in Python, or C when a compiler works")
    g.add_argument("--time-limit", type=_seconds, metavar="SECONDS", help="per run")
    g.add_argument("--allow-outside", action="store_true",
                   help="run models outside the manifest's repository (or, outside any, its folder)")

    k = sub.add_parser("cache", help="the compiled searches kept between runs: where, how many, how large; "
                       "--clear removes them")
    k.add_argument("--clear", action="store_true", help="remove every compiled search in the cache")

    r = sub.add_parser("replay", help="re-run an ITF trace file against a model, step by step; a lasso "
                       "(`loop`) also closes its cycle, is fair and breaks the liveness property")
    r.add_argument("trace", help="the ITF JSON trace (as written by check --itf)")
    r.add_argument("model", help="the .qdl model file")
    r.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a model parameter (default: the trace's recorded parameters)")


def _output_options(p: argparse.ArgumentParser, command: str) -> None:
    _file_options(p, command)
    p.add_argument("--no-coverage", action="store_true", help="omit the per-action coverage table")


def _file_options(p: argparse.ArgumentParser, command: str) -> None:
    """An option per file `command` can write (`output.formats`)."""
    for f in files_of(command):
        p.add_argument(f.option, metavar="FILE", help=f"write {f.holds}")


class _Progress:
    """Shows a live status line on stderr once a search has run for a while."""

    def __init__(self, console: Console, after: float = 1.5) -> None:
        self.console = console
        self.after = after
        self.live: Live | None = None
        self.start = time.perf_counter()

    def progress(self, distinct: int, generated: int, depth: int, queued: int, elapsed: float) -> None:
        if self.live is None:
            if elapsed < self.after or not self.console.is_terminal:
                return
            self.live = Live(console=self.console, refresh_per_second=4, transient=True)
            self.live.start()
        rate = distinct / elapsed if elapsed else 0.0
        self.live.update(Text(f"exploring: {distinct:,} distinct states, {generated:,} generated, depth {depth}, "
                              f"{queued:,} queued, {elapsed:.1f} s, {rate:,.0f} states/s"))

    def solving(self, depth: int, queries: int, elapsed: float) -> None:
        if self.live is None:
            if elapsed < self.after or not self.console.is_terminal:
                return
            self.live = Live(console=self.console, refresh_per_second=4, transient=True)
            self.live.start()
        self.live.update(Text(f"solving: depth {depth}, {queries:,} queries, {elapsed:.1f} s"))

    def ablating(self, p: hooks.Progress) -> None:
        """`hook --ablate`: which search of how many, its obligations, the time left."""
        if self.live is None:
            if not self.console.is_terminal:
                return
            self.live = Live(console=self.console, refresh_per_second=4, transient=True)
            self.live.start()
        # drawn at once: a search can take less than the display's refresh period
        self.live.update(Text(printable(hooks.progress_text(p))), refresh=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


class _Outputs:
    """The files a command writes once it has its verdict (--json, --itf, --html, --junit; which
    command writes which, and their text, are `output.formats`'s).

    Each is written atomically (`safe_write.write_atomic`): never through a link planted at its
    name, never left truncated. A file that cannot be written does not stop the others, and
    does not hide the verdict: `exit_code` says both, and keeps the verdict's exit code unless
    that is 0, when a missing file makes it 151 (the README's rule)."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def text(self, path: str, text: str) -> bool:
        try:
            write_text_atomic(path, text)
        except (OSError, ValueError) as e:
            self.failed.append(f"cannot write {path}: {getattr(e, 'strerror', None) or e}")
            return False
        return True

    def write(self, command: str, report: Any, args: argparse.Namespace, out: Console, err: Console) -> None:
        """Each file of `command` (`output.formats`) the command line names, in their order."""
        for f in files_of(command):
            path = getattr(args, f.dest)
            if not path:
                continue
            text = f.text(report)
            if isinstance(text, NotWritten):
                err.print(Text(printable(f"{text.reason}: {path} not written{text.note}")), soft_wrap=True)
            elif self.text(path, text) and f.written:
                out.print(Text(printable(f"{f.written} {path}")), soft_wrap=True)

    def exit_code(self, code: int, verdict: str, err: Console) -> int:
        if not self.failed:
            return code
        for why in self.failed:
            err.print(Text(f"error: {printable(why)}"), soft_wrap=True)
        if code != 0:
            err.print(Text(f"error: the verdict stands: {verdict} (exit {code}); {len(self.failed)} of the files "
                           "asked for not written"), soft_wrap=True)
            return code
        err.print(Text(f"error: the verdict was {verdict}, but {len(self.failed)} of the files asked for not "
                       f"written (exit {EXIT_USAGE})"), soft_wrap=True)
        return EXIT_USAGE


def _build(path: str, params: dict[str, Value], select: list[str] | None = None) -> Built:
    with _during("building the model; nothing was explored"):
        return build_file(path, params, select)


def _param_text(name: str, value: Value) -> str:
    """`NAME=VALUE` as --param takes it back (`true`, not Python's `True`)."""
    return f"{name}={str(value).lower() if isinstance(value, bool) else value}"


def user_params(built: Built) -> dict[str, Value]:
    """The model's parameters as `--param` takes them: enum members by name."""
    out: dict[str, Value] = {}
    for name, value in built.checked.params.items():
        t = built.checked.param_types.get(name)
        out[name] = t.members[value] if isinstance(t, TEnum) else value
    return out


def _locked(directory: Path, held: contextlib.ExitStack) -> None:
    """Hold a checkpoint directory until the command ends; a second run on it is refused."""
    try:
        held.callback(checkpoint_lock(directory).release)
    except CheckpointError as e:
        raise UsageError(str(e)) from None


def _checkpoint_dir(text: str, held: contextlib.ExitStack) -> Path:
    """A directory for a new checkpoint: created if need be, held for this run, refused if it
    holds a checkpoint already."""
    d = Path(text)
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new folder: only the user writes there
    except (OSError, ValueError) as e:
        raise UsageError(f"--checkpoint {text}: cannot write there: {getattr(e, 'strerror', None) or e}") from None
    _locked(d, held)
    if (d / CHECKPOINT_FILE).exists():
        raise UsageError(f"--checkpoint {text}: it holds a checkpoint already; go on with it "
                         f"(`quiesce-check resume {text}`) or remove it")
    return d


def _space_note(built: Built, opts: Options) -> str | None:
    """Say so before exploring when the search cannot hold even the initial states.

    The types bound the reachable states only from above (the product of every slot's
    range), usually far above: that bound is reported with a result that stopped early, not
    as a warning before every search."""
    space = estimate(built.program)
    limit, explicit = memory_budget(opts.memory_limit)
    if limit is None:
        return None
    native = opts.backend != "python" and compiler() is not None
    per_state = space.words * 8 + 12 if native else 200 + 8 * space.slots
    if space.initial * per_state <= limit:
        return None
    where = f"--memory-limit {limit // MB:,} MB" if explicit else f"the {limit // MB:,} MB of memory free"
    return (f"the model's {space.initial:,} initial states alone need about "
            f"{max(1, space.initial * per_state // MB):,} MB, more than {where}: the search cannot hold them")


def _symmetry(built: Built, wanted: bool | None, engine: EngineSpec,
              deadline: Deadline | None = None) -> Symmetry | None:
    """The reduction a search uses: the model's symmetric types, unless switched off; only an
    engine whose spec says it reduces does (an explicit --symmetry with another is refused)."""
    declared = built.checked.symmetric
    if wanted and not declared:
        raise UsageError("--symmetry: the model declares no `symmetric type`")
    if wanted and not engine.symmetry:
        raise UsageError(f"--symmetry needs --engine {names(with_support('symmetry'), ' or ')}; "
                         f"--engine {engine.name} explores (or solves for) every state")
    if wanted is False or not engine.symmetry:
        return None
    with _during("building the symmetric types' permutations; nothing was explored"):
        return symmetry_of(built, deadline)


def breach_error(e: SymmetryBreach) -> ModelError:
    """A model that does not respect its symmetric declaration: E028 at the declaration."""
    types = e.types
    names = ", ".join(f"`symmetric type {t.name}`" for t in types) or "its symmetric declarations"
    span = types[0].span if types else None
    return ModelError([Diagnostic(
        "E028", f"the model does not respect {names}: {e.message}", span,
        "the values of a symmetric type must be treated alike: look for a `for` loop over the type whose effect "
        "depends on the order, an initial value or a property that singles a value out; or check with "
        "--no-symmetry")])


def _search(built: Built, opts: Options, engine: EngineSpec, err: Console, resume: Checkpoint | None = None) -> Result:
    if not engine.symbolic:
        note = _space_note(built, opts)
        if note:
            err.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    reporter = _Progress(err)
    try:
        # an engine stops at a first interrupt itself and reports; one before it starts (while
        # the C compiles) or a second one ends here
        with _during("compiling the model or searching (a second interrupt stops at once)"):
            opts = engine.narrow(opts)
            if resume is not None:  # a resumed search is held to its engine's spec as a new one is
                engine.refuse(built.model, opts)
                return breadth_first(built.model, opts, reporter, resume)
            return run_checked(engine, built.model, opts, reporter)
    except Refused as e:
        raise UsageError(str(e)) from None
    except NoCompiler as e:
        raise UsageError(f"--backend native: {e}") from None
    except ClusterUnavailable as e:
        raise UsageError(str(e)) from None
    except EncodingError as e:
        raise UsageError(f"--engine {engine.name}: {e}; the explicit engines (bfs) take this model") from None
    except (CheckpointError, SpillError) as e:
        raise UsageError(str(e)) from None
    except SymmetryBreach as e:
        raise breach_error(e) from None
    finally:
        reporter.close()


def _report(args: argparse.Namespace, model_path: str, built: Built, result: Result, out: Console,
            err: Console, prepared: float | None = None) -> int:
    info = built.model.info
    space = estimate(built.program)
    if result.limit and result.symbolic is None and space.bound > result.stats.distinct:
        bound = f"the types allow up to {space.bound_text()} states (the product of every variable's range)"
        result.note = "; ".join(x for x in (result.note, bound) if x)
    params_shown = user_params(built)
    shown = ", ".join(_param_text(k, v) for k, v in params_shown.items())
    out.print(Text(printable(f"{display(model_path)}" + (f" with {shown}" if shown else "")
                             + f" (engine {result.engine}, {result.backend})" + (", resumed" if result.resumed else "")),
                   style="bold"))
    explain = explainer(built.ast.sources, built.checked.consts)
    unused = unused_steps(built.checked, built.program)
    render_result(out, info, result, coverage=not args.no_coverage, main_path=model_path, explain=explain,
                  unused=unused, prepared=prepared)
    if result.checkpoint and not result.complete and result.exit_code == EXIT_CODES[Verdict.INCOMPLETE]:
        directory = str(Path(result.checkpoint).parent)
        out.print(Text(printable(f"saved: go on with `quiesce-check resume {directory}`")), soft_wrap=True)
    searched = Searched(info, result, model_path, params_shown, explain,
                        annotator(built.ast.sources, built.checked.consts), unused)
    outputs = _Outputs()
    outputs.write(args.command, CheckReport(searched, space, args.memory_limit), args, out, err)
    return outputs.exit_code(result.exit_code, result.verdict.value, err)


def cmd_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    params = parse_params(args.param)
    _accepts(ENGINES[args.engine], args)
    deadline = Deadline(args.time_limit)  # the limit counts from here: building and compiling too
    with contextlib.ExitStack() as held:
        return _check(args, params, held, deadline, out, err)


def _accepts(engine: EngineSpec, args: argparse.Namespace) -> None:
    """A usage error for a flag the engine's spec says it does not take, in the user's words."""
    if args.keep_going and not engine.keep_going:
        raise UsageError(f"--continue needs --engine {names(with_support('keep_going'), ' or ')}: they find "
                         "every property's shortest counterexample")
    limits = [flag for flag, field in (("--max-states", "max_states"), ("--max-depth", "max_depth"),
                                       ("--memory-limit", "memory_limit"))
              if getattr(args, field) is not None and not engine.takes(field)]
    if limits:
        raise UsageError(f"{limits[0]} limits the explicit engines ({names(by_family(Family.EXPLICIT))}); "
                         f"--engine {engine.name} takes --depth K")
    if args.depth is not None and not engine.takes("depth"):
        raise UsageError(f"--depth is the bound of --engine {names(by_family(Family.SYMBOLIC), ' and ')}; "
                         f"--engine {engine.name} takes --max-depth")
    scaled = [flag for flag, field, given in (("--workers", "workers", args.workers is not None),
                                              ("--cluster", "cluster", args.cluster is not None),
                                              ("--store", "store", args.store != "exact"),
                                              ("--spill", "spill", args.spill is not None))
              if given and not engine.takes(field)]
    if scaled:
        takers = [s for s in ENGINES.values() if s.takes(scaled[0].lstrip("-"))]
        raise UsageError(f"{scaled[0]} is an option of --engine {names(takers, ' and ')}, not of --engine "
                         f"{engine.name}")
    if args.checkpoint is not None and not engine.checkpoints:
        raise UsageError(f"--checkpoint needs --engine {names(with_support('checkpoints'), ' or ')}: only a "
                         "breadth-first search can be saved and resumed")


def _check(args: argparse.Namespace, params: dict[str, Value], held: contextlib.ExitStack, deadline: Deadline,
           out: Console, err: Console) -> int:
    built = _build(args.model, params, args.properties)
    engine = ENGINES[args.engine]
    symmetry = _symmetry(built, args.symmetry, engine, deadline)
    plan = None
    scale = _scale(args, engine)
    directory = None
    if args.checkpoint is not None:
        directory = _checkpoint_dir(args.checkpoint, held)
    elif args.cluster is not None and engine.checkpoints:
        # a cluster's worker or node may die: the search goes on from its last checkpoint, kept
        # in a private folder of its own unless the run ends incomplete
        directory = Path(tempfile.mkdtemp(prefix="quiesce-check-cluster-"))
        held.callback(_drop_unless_kept, directory)
    if directory is not None:
        meta = checkpoint_meta(args.model, built, user_params(built), args.properties, not args.no_deadlock,
                               args.keep_going, symmetry is not None)
        plan = CheckpointPlan(directory, args.checkpoint_every, meta)
    opts = Options(max_states=args.max_states, max_depth=args.max_depth,
                   check_deadlock=not args.no_deadlock, seed=args.seed, walks=args.walks,
                   backend=args.backend, keep_going=args.keep_going, depth=args.depth,
                   encoding=args.encoding, memory_limit=args.memory_limit, checkpoint=plan, symmetry=symmetry,
                   deadline=deadline, **scale)
    result = _search(built, opts, engine, err)
    if directory is not None and args.checkpoint is None and not result.complete:
        _KEPT.add(directory)   # it goes on with `resume`
    if built.checked.symmetric and symmetry is None and args.symmetry is None:
        why = f"--engine {args.engine} does not reduce by symmetry"
        result.note = "; ".join(x for x in (result.note, f"{why}: states were not reduced to orbits") if x)
    # what the search's own clock leaves out: reading, checking and compiling the model
    prepared = max(0.0, deadline.elapsed() - result.stats.elapsed) if result.symbolic is None else None
    return _report(args, args.model, built, result, out, err, prepared)


# the cluster runs' own checkpoint folders that are kept: the run ended before it was complete
_KEPT: set[Path] = set()


def _drop_unless_kept(directory: Path) -> None:
    if directory not in _KEPT:
        shutil.rmtree(directory, ignore_errors=True)


def _scale(args: argparse.Namespace, engine: EngineSpec | None = None) -> dict[str, Any]:
    """The `Options` fields of --workers, --cluster, --store and --spill, those given only: with
    --cluster and no --workers, a breadth-first search takes a worker per CPU of the cluster; a
    swarm's independent searches run on every core unless told otherwise."""
    out: dict[str, Any] = {}
    if args.workers is not None:
        out["workers"] = args.workers
    elif engine is not None and engine.name == "swarm" and args.cluster is None:
        out["workers"] = max(1, os.cpu_count() or 1)
    if args.cluster is not None:
        out["cluster"] = args.cluster
        if args.workers is None and (engine is None or engine.name == "bfs"):
            try:
                out["workers"] = cpus(connect(args.cluster))
            except ClusterUnavailable as e:
                raise UsageError(str(e)) from None
    if getattr(args, "store", "exact") != "exact":
        out["store"] = args.store
    if out.get("store") == "fingerprint" and (out.get("workers", 1) > 1 or "cluster" in out):
        raise UsageError("--store fingerprint runs in one worker; drop --workers and --cluster, or use --store exact")
    if getattr(args, "spill", None) is not None:
        if getattr(args, "store", "exact") != "fingerprint":
            raise UsageError("--spill is the folder of --store fingerprint; add --store fingerprint")
        out["spill"] = args.spill
    return out


def cmd_resume(args: argparse.Namespace, out: Console, err: Console) -> int:
    with contextlib.ExitStack() as held:
        return _resume(args, held, out, err)


def _resume(args: argparse.Namespace, held: contextlib.ExitStack, out: Console, err: Console) -> int:
    if Path(args.directory).is_dir():
        _locked(Path(args.directory), held)
    try:
        saved = Checkpoint(Path(args.directory))
        spec = read_meta(saved.meta, str(saved.path))
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    model_path = args.model or spec.model
    deadline = Deadline(args.time_limit)
    try:
        built = _build(model_path, spec.params, spec.properties)
        check_same_model(spec, built, model_path)
    except ModelError as e:
        if any(d.code == "E004" for d in e.diagnostics):
            raise UsageError(f"{args.directory}: the model it explored, {model_path}, cannot be read; if it has "
                             "moved, give it with --model") from None
        raise UsageError(f"{args.directory}: {model_path} no longer builds with the recorded parameters (it, "
                         "or a file it uses, has changed since the checkpoint was written): "
                         + "; ".join(d.message for d in e.diagnostics[:3])) from None
    except CheckpointError as e:
        raise UsageError(f"{args.directory}: {e}") from None
    plan = CheckpointPlan(Path(args.directory), args.checkpoint_every, spec.meta)
    symmetry = _symmetry(built, spec.symmetry, ENGINES["bfs"], deadline) if spec.symmetry else None
    opts = Options(max_states=args.max_states, max_depth=args.max_depth,
                   check_deadlock=spec.check_deadlock, backend=args.backend, keep_going=spec.keep_going,
                   memory_limit=args.memory_limit, checkpoint=plan, symmetry=symmetry, deadline=deadline,
                   **_scale(args))
    result = _search(built, opts, ENGINES["bfs"], err, resume=saved)
    return _report(args, model_path, built, result, out, err)


def cmd_hook(args: argparse.Namespace, out: Console, err: Console) -> int:
    params = parse_params(args.param)
    spec_text, model_text = (read_model(path) for path in (args.spec, args.model))  # unreadable: exit 151
    swapped = swapped_hook(args.spec, spec_text, args.model, model_text)
    if swapped:
        raise UsageError(swapped)
    probe = hooks.build_composed(args.spec, args.model, params)
    hook = hooks.hook_of(probe)
    unknown = [n for n in args.without if n not in hook.obligations]
    if unknown:
        raise UsageError(f"--without {unknown[0]}: hook {hook.name} has no such obligation; its obligations are "
                         + ", ".join(hook.obligations))
    select = hooks.all_properties(probe)
    on = {n: n not in args.without and bool(probe.checked.params.get(n, True)) for n in hook.obligations}
    opts = Options(max_states=args.max_states, deadline=Deadline(args.time_limit), backend=args.backend,
                   keep_going=True)
    out.print(Text(printable(f"hook {hook.name} ({display(args.spec)}): {hook.text}"), style="bold"))
    out.print(Padding(Text(f"runs at {hook.at}; binds {', '.join(hook.binds)}"), (0, 0, 0, 2), expand=False))
    for n, text in hook.obligations.items():
        out.print(Padding(Text(printable(f"obligation {n}{'' if on[n] else ' (off)'}: {text}")), (0, 0, 0, 2),
                          expand=False))
    out.print(Text(printable(f"composed with {display(args.model)}"), style="bold"))
    reporter = _Progress(err)
    try:
        built, result = hooks.check_with(args.spec, args.model, params, on, select, opts, reporter)
    except Refused as e:
        raise UsageError(str(e)) from None
    except NoCompiler as e:
        raise UsageError(f"--backend native: {e}") from None
    except ClusterUnavailable as e:
        raise UsageError(str(e)) from None
    finally:
        reporter.close()
    explain = explainer(built.ast.sources, built.checked.consts)
    unused = unused_steps(built.checked, built.program)
    render_result(out, built.model.info, result, coverage=not args.no_coverage, main_path=args.spec, explain=explain,
                  unused=unused,
                  prepared=None if opts.deadline is None else max(0.0, opts.deadline.elapsed() - result.stats.elapsed))
    ablation, runs = None, None
    if args.ablate:
        full = hooks.summarise(built, result, frozenset(n for n, v in on.items() if v))
        err.print(Text(f"ablating {len(hook.obligations)} obligations ..."), soft_wrap=True)
        shown = _Progress(err)
        try:
            ablation = hooks.ablate(args.spec, args.model, params, hook, select, opts, full, args.jobs, shown.ablating)
        finally:
            shown.close()
        runs = rows_runs(args.spec, args.model, params, hook, select, opts, ablation, kept(built, result))
        render_ablation(out, hook, ablation, runs)
    searched = Searched(built.model.info, result, args.model, user_params(built), explain,
                        annotator(built.ast.sources, built.checked.consts), unused)
    outputs = _Outputs()
    outputs.write("hook", HookReport(searched, hook, args.spec, on, ablation, runs), args, out, err)
    return outputs.exit_code(result.exit_code, result.verdict.value, err)


def _explained(built: Built, trace: Trace) -> list[str]:
    """A regress run's counterexample explained in its vocabulary's words, if it has one."""
    explain = explainer(built.ast.sources, built.checked.consts)
    return explain(built.model.info, trace) if explain is not None else []


def cmd_regress(args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        runs = load_manifest(args.manifest, args.allow_outside)
    except ManifestError as e:
        raise UsageError(str(e)) from None
    opts = Options(deadline=Deadline(args.time_limit), backend=args.backend, keep_going=True)
    outcomes: list[RunOutcome] = []

    def progress(o: RunOutcome) -> None:
        outcomes.append(o)
        mark = "ok" if o.ok else "DIFFERS"
        err.print(Text(printable(f"{mark:>7}  {o.run.name}  ({o.seconds:.2f} s)"), style="green" if o.ok else "bold red"),
                  soft_wrap=True)

    interrupted = False
    try:
        regress(runs, opts, progress, _explained)
    except KeyboardInterrupt:  # a second Ctrl-C, or one while a model builds: the runs done so far
        interrupted = True
    interrupted = interrupted or any(o.interrupted for o in outcomes)
    table = Table(title=printable(f"{display(args.manifest)}: {len(runs)} runs"), title_justify="left",
                  show_edge=False)
    for col in ("run", "property", "expected", "got", "states", "time"):
        table.add_column(col, justify="right" if col in ("states", "time") else "left")
    for o in outcomes:
        states = f"{o.states:,}" if o.states is not None else "-"
        if o.error is not None:
            table.add_row(Text(printable(o.run.name)), Text("(run)"), Text("completes"), Text(printable(o.error), style="bold red"),
                          Text(states), Text(f"{o.seconds:.2f} s"))
        for k, r in enumerate(o.rows):
            got = Text(printable(r.got + (f": {r.detail}" if r.detail else "")), style="" if r.ok else "bold red")
            table.add_row(Text(printable(o.run.name) if k == 0 else ""), Text(printable(r.prop)), Text(printable(r.expected)), got,
                          Text(states if k == 0 else ""), Text(f"{o.seconds:.2f} s" if k == 0 else ""))
    out.print(table)
    bad = [o for o in outcomes if not o.ok]
    outputs = _Outputs()
    code = EXIT_CODES[Verdict.INCOMPLETE] if interrupted else EXIT_REGRESSION if bad else 0
    outputs.write("regress", RegressReport(outcomes, code, interrupted), args, out, err)
    if interrupted:
        verdict = f"interrupted after {len(outcomes)} of {len(runs)} runs, {len(bad)} of them differing from the manifest"
        out.print(Text(f"{verdict} (exit {code})", style="bold red"), soft_wrap=True)
        return outputs.exit_code(code, verdict, err)
    if bad:
        verdict = f"{len(bad)} of {len(outcomes)} runs differ from the manifest"
        out.print(Text(f"{verdict} (exit {EXIT_REGRESSION})", style="bold red"), soft_wrap=True)
        return outputs.exit_code(EXIT_REGRESSION, verdict, err)
    out.print(Text(f"all {len(outcomes)} runs as expected (exit 0)", style="bold green"), soft_wrap=True)
    return outputs.exit_code(0, f"all {len(outcomes)} runs as expected", err)


def _short_param(name: str, value: Value) -> str:
    text = _param_text(name, value)
    return text if len(text) <= 60 else text[:57] + "..."


def cmd_cache(args: argparse.Namespace, out: Console) -> int:
    """`quiesce-check cache [--clear]` (`compile.cache`)."""
    folder = cache_dir()
    try:
        if args.clear:
            gone = clear(folder)
            out.print(Text(printable(f"removed {gone.entries} compiled searches ({megabytes(gone.size)}) from "
                                     f"{folder}")), soft_wrap=True)
            return 0
        held = usage(folder)
    except OSError as e:
        raise UsageError(str(e)) from None
    out.print(Text(printable(f"{folder}: {held.entries} compiled searches, {megabytes(held.size)}; kept to "
                             f"{megabytes(cap_bytes())}, the least recently used removed first (set "
                             f"{CAP_VARIABLE} to a number of MB to change it)")), soft_wrap=True)
    return 0


def cmd_lsp(args: argparse.Namespace, out: Console, err: Console) -> int:
    """The language server, when its library is installed (the `lsp` extra)."""
    try:
        from quiesce_check.lsp import serve
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] not in ("pygls", "lsprotocol"):
            raise
        err.print(Text("error: the language server needs pygls: pip install 'quiesce-check[lsp]'"), soft_wrap=True)
        return EXIT_USAGE
    return serve()


def cmd_replay(args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        text = read_model(args.trace)
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{args.trace}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
    except RecursionError:
        raise UsageError(f"{args.trace}: nested too deeply to be a trace") from None
    except ValueError as e:  # a number with more digits than Python converts (sys.int_info)
        raise UsageError(f"{args.trace}: not a trace: {e}") from None
    recorded = recorded_params(doc)
    for k, v in recorded.items():
        if not recorded_param(k, v):
            raise UsageError(f"{args.trace}: the recorded parameter {_short_param(k, v)} is not a valid "
                             "parameter (a name, and a boolean, an enum member or an integer of at most "
                             f"{MAX_CONST_BITS} bits)")
    overrides = parse_params(args.param)
    params = {**recorded, **overrides}
    try:
        built = _build(args.model, params)
    except ModelError as e:
        from_file = {k: v for k, v in recorded.items() if k not in overrides}
        if not from_file:
            raise
        _build(args.model, overrides)  # the model's own errors, and those of --param, come first
        shown = ", ".join(_short_param(k, v) for k, v in from_file.items())
        raise UsageError(f"{args.trace}: the parameters the trace records ({shown}) do not fit {args.model}: "
                         + "; ".join(d.message for d in e.diagnostics[:3])) from None
    try:
        rep = replay(built.model, doc)
    except TraceFormatError as e:
        raise UsageError(f"{args.trace}: {e}") from None
    if rep.trace is not None and rep.trace.kind != "goal":
        render_trace(out, built.model.info, rep.trace, main_path=args.model, explain=explainer(built.ast.sources, built.checked.consts))
    if not rep.ok:
        err.print(Text(printable(f"{args.trace}: does not replay: {rep.message}"), style="bold red"), soft_wrap=True)
        return EXIT_REPLAY_MISMATCH
    out.print(Text(printable(f"{args.trace}: {rep.message}"), style="green"), soft_wrap=True)
    if rep.trace is not None and rep.reproduced:
        return EXIT_CODES[VERDICT_OF[rep.trace.kind]]
    return 0


def _tolerant(stream: Any) -> None:
    """A stream that cannot encode a character prints `?`, not an internal error; a UTF-8 one
    prints the byte of a file name that is not UTF-8 (a lone surrogate) as an escape."""
    encoding = str(getattr(stream, "encoding", None) or "").lower().replace("-", "")
    if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
        with contextlib.suppress(ValueError, OSError):
            stream.reconfigure(errors="backslashreplace" if encoding.startswith("utf") else "replace")


class _Escaped:
    """A renderable with every control character of its text escaped, rich's own styling kept."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for seg in console.render(self.inner, options):
            yield seg if seg.control else Segment(printable(seg.text, lines=True), seg.style)


class _EscapeAll(RenderHook):
    """What the renderers did not escape themselves is escaped here, on its way to the terminal
    (their own escaping keeps columns aligned; this keeps every path safe)."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Escaped(r) for r in renderables]


def _console(**kwargs: Any) -> Console:
    console = Console(highlight=False, **kwargs)
    console.push_render_hook(_EscapeAll())
    return console


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant(sys.stdout)
    _tolerant(sys.stderr)
    out = _console()
    err = _console(stderr=True)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        # a file or a pipe: tables as wide as they need (up to 200 columns), not 80
        out = _console(width=200)
    if not (sys.argv[1:] if argv is None else argv):
        err.print(Text(bare_usage(make_parser(), EXIT_USAGE)), soft_wrap=True)
        return EXIT_USAGE
    try:
        with Terminations():  # SIGTERM stops every phase as Ctrl-C does
            args = make_parser().parse_args(argv)
            if args.command == "check":
                return cmd_check(args, out, err)
            if args.command == "resume":
                return cmd_resume(args, out, err)
            if args.command == "regress":
                return cmd_regress(args, out, err)
            if args.command == "hook":
                return cmd_hook(args, out, err)
            if args.command == "lsp":
                return cmd_lsp(args, out, err)
            if args.command == "cache":
                return cmd_cache(args, out)
            return cmd_replay(args, out, err)
    except (Stopped, TimeLimit) as e:
        # a time limit that passes before the search reports is one that passed before it began
        shown = f"{e}; nothing was explored" if isinstance(e, TimeLimit) else str(e)
        err.print(Text(f"incomplete: {shown} (exit {EXIT_CODES[Verdict.INCOMPLETE]})"), soft_wrap=True)
        return EXIT_CODES[Verdict.INCOMPLETE]
    except UsageError as e:
        err.print(Text(printable(f"error: {e}")), soft_wrap=True)
        return EXIT_USAGE
    except ModelError as e:
        sources = {}
        for d in e.diagnostics:
            if d.span and d.span.path not in sources:
                with contextlib.suppress(ModelError):
                    sources[d.span.path] = read_model(d.span.path)
        for d in e.diagnostics[:_SHOWN_DIAGNOSTICS]:
            # never wrapped: the caret line must stay under the source line it marks
            err.print(Text(render(d, sources)), soft_wrap=True)
        if len(e.diagnostics) > _SHOWN_DIAGNOSTICS:
            # one screen: a model with one broken declaration can yield hundreds of follow-on errors
            err.print(Text(f"... and {len(e.diagnostics) - _SHOWN_DIAGNOSTICS} more errors; "
                           "fix the first ones and check again"), soft_wrap=True)
        codes = {d.code for d in e.diagnostics}
        if codes & {"E004", "E040"}:
            return EXIT_USAGE
        return EXIT_MODEL_INVALID
    except KeyboardInterrupt:
        err.print("interrupted")
        return EXIT_CODES[Verdict.INCOMPLETE]
    except SystemExit as e:  # argparse --help
        return int(e.code or 0) if isinstance(e.code, int) else 0
    except RecursionError:
        err.print("error: the model is nested too deeply to process")
        return EXIT_MODEL_INVALID
    except MemoryError:
        err.print("error: out of memory; use --max-states or a smaller parameter")
        return EXIT_CODES[Verdict.INCOMPLETE]
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a traceback
        if os.environ.get("QUIESCE_CHECK_DEBUG"):
            traceback.print_exc()
        err.print(Text(printable(f"internal error: {type(e).__name__}: {e}") + "\nThis is a bug in quiesce-check; "
                       "please report it with the model and the command line."), soft_wrap=True)
        return EXIT_INTERNAL

