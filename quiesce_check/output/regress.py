"""The outcomes of `quiesce-check regress` as files for CI: JUnit XML (`--junit FILE`) and JSON
(`--json FILE`).

Takes a `RegressReport` (the `RunOutcome`s of `regress.regress`, and the command's exit code);
gives the text of a JUnit XML document and a JSON document (`docs/schemas/regress.schema.json`:
per run its model, parameters, state counts and per property what was expected and what was
found; the exit code, as every `--json` has it).

The JUnit XML is the form Jenkins' xUnit schema (junit-10.xsd, shipped with the tests, which
validate against it) and GitLab read: a `testsuites` root, a `testsuite` per run (its time the
run's, its `file` the model), a `testcase` per property with a dotted, stable `classname` (the
model file's stem, then the run's name made an identifier: `s5_persistent_ring.fails`), a
`failure` per deviation (its `message` what was expected and found, its text that, the
counterexample's message and the model's path), an `error` per run that could not be done. A
run is one search, which decides all its properties at once: its time is its first test
case's, and the others' 0, so that a CI page that adds the test cases' times (GitLab does)
gets the suite's. The schema has no `file` on a test case: it is on the run's suite. Imports
`regress` (the outcomes), `lang.paths`, `printable`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from quiesce_check.lang.paths import display
from quiesce_check.printable import printable
from quiesce_check.regress import RunOutcome


@dataclass(frozen=True)
class RegressReport:
    outcomes: Sequence[RunOutcome]
    exit_code: int           # the command's, as its last line says it
    interrupted: bool = False


def classname(o: RunOutcome) -> str:
    """`stem.run_name`: the model file's stem and the run's name, each made an identifier."""
    def ident(text: str) -> str:
        word = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
        return word if word and not word[0].isdigit() else f"_{word}"
    return f"{ident(Path(o.run.model).stem)}.{ident(o.run.name)}"


def _seconds(x: float) -> str:
    return f"{x:.3f}"


def _suite(root: ET.Element, o: RunOutcome) -> None:
    """One run's `testsuite`, with a test case per property (the module's docstring)."""
    cls, model = classname(o), printable(display(str(o.run.model)))
    suite = ET.SubElement(root, "testsuite", name=printable(o.run.name),
                          tests=str(len(o.rows) + (o.error is not None)),
                          failures=str(sum(not r.ok for r in o.rows)), errors=str(int(o.error is not None)),
                          time=_seconds(o.seconds), file=model)
    times = iter([o.seconds])
    if o.error is not None:
        case = ET.SubElement(suite, "testcase", classname=cls, name="(run)", time=_seconds(next(times, 0.0)))
        ET.SubElement(case, "error", message=printable(o.error)).text = printable(f"{o.error}\nmodel: {model}",
                                                                                  lines=True)
    for r in o.rows:
        case = ET.SubElement(suite, "testcase", classname=cls, name=printable(r.prop),
                             time=_seconds(next(times, 0.0)))
        if not r.ok:
            msg = f"expected {r.expected}, got {r.got}" + (f": {r.detail}" if r.detail else "")
            text = "\n".join(x for x in (msg, r.why, f"model: {model}") if x)
            ET.SubElement(case, "failure", message=printable(msg), type="deviation").text = printable(text, lines=True)


def junit(report: RegressReport) -> str:
    """The outcomes as JUnit XML. Text from the manifest or a model is written with control
    characters escaped: XML 1.0 has no way to hold most of them, and a CI page shows the rest raw."""
    outcomes = report.outcomes
    root = ET.Element("testsuites", name="quiesce-check regress",
                      tests=str(sum(len(o.rows) + (o.error is not None) for o in outcomes)),
                      failures=str(sum(not r.ok for o in outcomes for r in o.rows)),
                      errors=str(sum(o.error is not None for o in outcomes)),
                      time=_seconds(sum(o.seconds for o in outcomes)))
    for o in outcomes:
        _suite(root, o)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def to_json(report: RegressReport) -> dict[str, Any]:
    outcomes = report.outcomes
    return {
        "ok": all(o.ok for o in outcomes),
        "exit_code": report.exit_code,
        "interrupted": report.interrupted,
        "runs": [{
            "name": o.run.name, "model": display(o.run.model), "params": o.run.params, "scenario": o.run.scenario,
            "engine": o.run.engine,
            "ok": o.ok, "error": o.error, "states": o.states, "expected_states": o.run.states,
            "seconds": round(o.seconds, 3),
            "properties": [{"property": r.prop, "expected": r.expected, "got": r.got, "ok": r.ok,
                            "detail": r.detail, "why": r.why} for r in o.rows],
        } for o in outcomes],
    }
