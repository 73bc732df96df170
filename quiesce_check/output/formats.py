"""The files the command line writes (`--json`, `--itf`, `--html`, `--junit`), in one registry.

Takes what a command computed: a `CheckReport` (check, resume), a `HookReport` (hook), the
`RegressReport` (regress). Gives `FILES`: per file, the commands that write it, the option that
names it, what it holds (the option's help is "write " and that), the function from the
command's report to the file's text, and what is said once it is written. A command writes
its files in the order they are registered. A new format is a module of its own in this
package and one `FileFormat` here. Writing (atomically, a failure reported with the verdict)
is the command line's. Imports `compile.*`, `engines.*`, `hooks`, `lang.paths`, `lang.types`,
`output.*`, `trace.timeline`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from quiesce_check.ablation_runs import Runs
from quiesce_check.compile.model import ModelInfo
from quiesce_check.compile.size import StateSpace
from quiesce_check.engines.memory import MB
from quiesce_check.engines.result import Result
from quiesce_check.hooks import Ablation, Hook
from quiesce_check.lang.paths import display
from quiesce_check.lang.types import Value
from quiesce_check.output.ablation import ablation_counterexamples, ablation_html, ablation_json
from quiesce_check.output.html import render_html
from quiesce_check.output.itf import to_itf
from quiesce_check.output.jsonout import result_to_json, space_to_json
from quiesce_check.output.regress import RegressReport, junit, to_json
from quiesce_check.trace.timeline import Annotate, Explain

R = TypeVar("R")


@dataclass(frozen=True)
class NotWritten:
    """A file with nothing to hold (`--itf` without a counterexample): said, and no failure."""

    reason: str     # said before the file's name
    note: str = ""  # said after "not written"


@dataclass(frozen=True)
class FileFormat(Generic[R]):
    commands: tuple[str, ...]
    option: str                              # `--json`: the option that names the file
    holds: str                               # what the file holds, for the option's help
    text: Callable[[R], str | NotWritten]    # the command's report -> the file's text
    written: str = ""                        # said with the file's name once written, if anything

    @property
    def dest(self) -> str:
        """The option's attribute on the parsed command line."""
        return self.option.removeprefix("--").replace("-", "_")


@dataclass(frozen=True)
class Searched:
    """A search's result and what its files show with it."""

    info: ModelInfo
    result: Result
    model_path: str            # as given on the command line
    params: dict[str, Value]   # as --param takes them
    explain: Explain | None
    annotate: Annotate | None
    # the steps that cannot fire under the parameters, and the settings that decide them
    # (`compile.unused.unused_steps`): apart from the steps that never fired
    unused: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckReport:
    search: Searched
    space: StateSpace          # the state space as the types bound it
    memory_limit: int | None   # bytes, as --memory-limit gave it


@dataclass(frozen=True)
class HookReport:
    search: Searched
    hook: Hook
    spec: str                  # the hook spec's path, as given
    on: dict[str, bool]        # obligation -> switched on
    ablation: Ablation | None
    runs: Runs | None = None   # the searches behind the ablation's rows, for their counterexamples


def _json_text(doc: Any) -> str:
    return json.dumps(doc, indent=2) + "\n"


def _result_json(s: Searched) -> dict[str, Any]:
    return result_to_json(s.info, s.result, display(s.model_path), s.params, s.explain, s.unused)


def check_json(r: CheckReport) -> str:
    doc = _result_json(r.search)
    doc["memory_limit_mb"] = r.memory_limit // MB if r.memory_limit else None
    doc["state_space"] = space_to_json(r.space)
    return _json_text(doc)


def check_itf(r: CheckReport | HookReport) -> str | NotWritten:
    s = r.search
    if s.result.trace is None:
        cti = s.result.symbolic is not None and s.result.symbolic.cti is not None
        return NotWritten("no counterexample",
                          " (a counterexample to induction is no trace of the model: see --json)" if cti else "")
    return _json_text(to_itf(s.info, s.result.trace, display(s.model_path), s.params))


def _page(s: Searched, title: str | None = None, extra: Sequence[str] = (), tail: Sequence[str] = ()) -> str:
    page = render_html(s.info, s.result, s.model_path, s.params, s.explain, s.annotate, title=title, extra=extra,
                       tail=tail)
    return display(page)  # a path that is not UTF-8, escaped wherever it is shown


def check_html(r: CheckReport) -> str:
    return _page(r.search)


def hook_json(r: HookReport) -> str:
    doc = _result_json(r.search)
    h = r.hook
    doc["hook"] = {"name": h.name, "spec": display(r.spec), "text": h.text, "at": h.at,
                   "binds": list(h.binds), "obligations": h.obligations, "on": r.on}
    if r.ablation is not None:
        doc["ablation"] = ablation_json(r.ablation, r.runs)
    return _json_text(doc)


def hook_html(r: HookReport) -> str:
    if r.ablation is None:
        return _page(r.search, title=f"hook {r.hook.name} with {r.search.model_path}")
    return _page(r.search, title=f"hook {r.hook.name} with {r.search.model_path}",
                 extra=[ablation_html(r.hook, r.ablation, r.runs)],
                 tail=ablation_counterexamples(r.hook, r.ablation, r.runs, r.search.model_path))


def regress_junit(report: RegressReport) -> str:
    return display(junit(report))


def regress_json(report: RegressReport) -> str:
    return _json_text(to_json(report))


_SEARCH = ("check", "resume")
FILES: tuple[FileFormat[Any], ...] = (
    FileFormat(_SEARCH, "--json", "the result as JSON", check_json),
    FileFormat(_SEARCH, "--itf", "the counterexample as an ITF JSON trace", check_itf, "trace written to"),
    FileFormat(_SEARCH, "--html", "the result as a self-contained HTML page with a timeline of each "
               "counterexample", check_html, "page written to"),
    FileFormat(("hook",), "--json", "the result and the ablation as JSON", hook_json),
    FileFormat(("hook",), "--itf", "the counterexample (of the hook composed with the model) as an ITF JSON trace",
               check_itf, "trace written to"),
    FileFormat(("hook",), "--html", "the result and the ablation as an HTML page", hook_html, "page written to"),
    FileFormat(("regress",), "--junit", "the results as JUnit XML", regress_junit),
    FileFormat(("regress",), "--json", "the results as JSON", regress_json),
)


def files_of(command: str) -> list[FileFormat[Any]]:
    """The files `command` can write, in the order it writes them."""
    return [f for f in FILES if command in f.commands]
