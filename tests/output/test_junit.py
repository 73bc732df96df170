"""`regress --junit`: valid against the JUnit schema Jenkins' xUnit plugin ships (junit-10.xsd,
in tests/schemas), which GitLab reads too; each test case's time its own, so their sum is the
suite's; failures with a message, the counterexample's message and explanation, and the
model's file; dotted, stable class names.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from quiesce_check.build import build_file
from quiesce_check.cli import main
from quiesce_check.domain.explain import explainer
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import Options

ROOT = Path(__file__).parents[2]
LIMIT = ROOT / "tests" / "trace" / "models" / "limit.qdl"
SCHEMA = xmlschema.XMLSchema(ROOT / "tests" / "schemas" / "junit-10.xsd")

# limit.qdl: `below` fails at x == LIMIT, LIMIT steps in; x stops at TOP = 5, a deadlock. The
# second run's manifest is wrong about `below`; the third names a model that does not build.
MANIFEST = """\
[[run]]
name = "limit as expected"
model = "{limit}"
params = {{ LIMIT = 2 }}
expect = {{ below = {{ verdict = "violated", length = 2 }}, deadlock = "violated" }}

[[run]]
name = "Limit: the manifest is wrong!"
model = "{limit}"
expect = {{ below = "holds", deadlock = "violated" }}

[[run]]
name = "broken"
model = "{broken}"
expect = {{ below = "holds" }}
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[int, str]:
    tmp = tmp_path_factory.mktemp("junit")
    broken = tmp / "broken.qdl"
    broken.write_text("var x: 0..3 = ;\n")
    manifest = tmp / "m.toml"
    manifest.write_text(MANIFEST.format(limit=LIMIT.as_posix(), broken=broken.as_posix()))
    xml = tmp / "junit.xml"
    code = main(["regress", str(manifest), "--allow-outside", "--junit", str(xml)])
    return code, xml.read_text()


def test_valid_against_the_jenkins_schema(report):
    code, text = report
    assert code == 1
    SCHEMA.validate(text)  # raises, naming the element, if not


def test_the_schema_has_teeth():
    bad = '<testsuites><testsuite name="x" tests="1"><testcase/></testsuite></testsuites>'
    assert not SCHEMA.is_valid(bad)  # failures and errors missing, a test case without a name


def test_each_test_case_has_its_own_time(report):
    _, text = report
    root = ET.fromstring(text)
    suites = root.findall("testsuite")
    assert len(suites) == 3
    for suite in suites:
        times = [float(c.get("time", "0")) for c in suite.findall("testcase")]
        # one search decides every property of a run: its time is on its first test case only
        assert times[1:] == [0.0] * (len(times) - 1)
        assert times[0] == pytest.approx(float(suite.get("time", "0")), abs=1e-3)
    total = sum(float(c.get("time", "0")) for c in root.iter("testcase"))
    assert total == pytest.approx(float(root.get("time", "0")), abs=5e-3)


def test_failures_say_what_why_and_where(report):
    _, text = report
    root = ET.fromstring(text)
    failures = [(s, c, f) for s in root.findall("testsuite") for c in s.findall("testcase")
                for f in c.findall("failure")]
    assert len(failures) == 1
    suite, case, failure = failures[0]
    assert case.get("name") == "below"
    assert failure.get("message", "").startswith("expected holds, got violated (3 steps)")  # LIMIT = 3
    assert "invariant `below`" in (failure.text or "")          # the counterexample's message
    assert f"model: {LIMIT}" in (failure.text or "")
    assert suite.get("file") == str(LIMIT)
    errors = [c for c in root.iter("testcase") if c.find("error") is not None]
    assert [c.get("name") for c in errors] == ["(run)"]
    error = errors[0].find("error")
    assert error is not None and "broken.qdl:1:15" in (error.get("message") or "")  # the stray `;`


def test_class_names_are_dotted_and_stable(report, tmp_path):
    _, text = report
    names = {c.get("classname") for c in ET.fromstring(text).iter("testcase")}
    assert names == {"limit.limit_as_expected", "limit.limit_the_manifest_is_wrong", "broken.broken"}
    assert all(re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", n or "") for n in names)


def test_a_failure_carries_the_vocabulary_explanation(tmp_path):
    s5 = ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl"
    manifest = tmp_path / "m.toml"
    manifest.write_text(f'[[run]]\nname = "s5 claimed safe"\nmodel = "{s5.as_posix()}"\n'
                        'expect = { image_consistent = "holds" }\n')
    xml = tmp_path / "j.xml"
    assert main(["regress", str(manifest), "--allow-outside", "--junit", str(xml)]) == 1
    SCHEMA.validate(str(xml))
    (failure,) = ET.parse(xml).getroot().iter("failure")
    built = build_file(str(s5))
    trace = bfs(built.model, Options(), None).trace
    explain = explainer(built.ast.sources, built.checked.consts)
    assert trace is not None and explain is not None
    text = " ".join((failure.text or "").split())
    assert " ".join(trace.message.split()) in text
    assert " ".join(" ".join(explain(built.model.info, trace)).split()) in text  # the Xen words
