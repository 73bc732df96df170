"""The outcomes of `quiesce-check regress` as files for CI: JUnit XML (`--junit FILE`) and JSON
(`--json FILE`).

Takes the `RunOutcome`s of `regress.regress`; gives the text of a JUnit XML document (a test
case per run and property, a failure per deviation, an error per run that could not be done)
and a JSON document (per run its model, parameters, state counts and per property what was
expected and what was found). Imports `regress` (the outcomes), `lang.paths`, `printable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree as ET

from quiesce_check.lang.paths import display
from quiesce_check.printable import printable
from quiesce_check.regress import RunOutcome


def junit(outcomes: Sequence[RunOutcome]) -> str:
    """The outcomes as JUnit XML: a test case per run and property, a failure per deviation. Text
    from the manifest or a model is written with control characters escaped: XML 1.0 has no way
    to hold most of them, and a CI page shows the rest raw."""
    cases = [(o, r) for o in outcomes for r in o.rows]
    errors = [o for o in outcomes if o.error is not None]
    suite = ET.Element("testsuite", name="quiesce-check regress", tests=str(len(cases) + len(errors)),
                       failures=str(sum(not r.ok for _, r in cases)), errors=str(len(errors)),
                       time=f"{sum(o.seconds for o in outcomes):.3f}")
    for o in outcomes:
        name = printable(o.run.name)
        if o.error is not None:
            case = ET.SubElement(suite, "testcase", classname=name, name="(run)", time=f"{o.seconds:.3f}")
            ET.SubElement(case, "error", message=printable(o.error)).text = printable(o.error, lines=True)
        for r in o.rows:
            case = ET.SubElement(suite, "testcase", classname=name, name=printable(r.prop), time=f"{o.seconds:.3f}")
            if not r.ok:
                msg = f"expected {r.expected}, got {r.got}" + (f": {r.detail}" if r.detail else "")
                ET.SubElement(case, "failure", message=printable(msg)).text = printable(msg, lines=True)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def to_json(outcomes: Sequence[RunOutcome]) -> dict[str, Any]:
    return {
        "ok": all(o.ok for o in outcomes),
        "runs": [{
            "name": o.run.name, "model": display(o.run.model), "params": o.run.params, "scenario": o.run.scenario,
            "engine": o.run.engine,
            "ok": o.ok, "error": o.error, "states": o.states, "expected_states": o.run.states,
            "seconds": round(o.seconds, 3),
            "properties": [{"property": r.prop, "expected": r.expected, "got": r.got, "ok": r.ok,
                            "detail": r.detail} for r in o.rows],
        } for o in outcomes],
    }
