"""`quiesce-check regress`: the project's manifest passes; every kind of deviation is caught."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from quiesce_check.build import build_file
from quiesce_check.cli import main
from quiesce_check.engines.result import Options
from quiesce_check.reference.interp import ReferenceModel
from quiesce_check.regress import ManifestError, load_manifest, regress
from tests.compile.test_differential import compare
from tests.conftest import ROOT

MANIFEST = ROOT / "specs" / "regress.toml"
S5 = (ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl").as_posix()
S1 = (ROOT / "models" / "s1_guest_only_writes.qdl").as_posix()


def test_the_manifest_matches_the_catalogue() -> None:
    outcomes = regress(load_manifest(str(MANIFEST)), Options(keep_going=True))
    bad = [(o.run.name, o.error, [(r.prop, r.expected, r.got) for r in o.rows if not r.ok])
           for o in outcomes if not o.ok]
    assert not bad, bad
    # every model in models/ (and models/vhost/) is in it, and every proof in specs/proofs/, by induction
    models = {o.run.model.resolve() for o in outcomes if o.run.engine == "bfs"}
    assert models == {p.resolve() for p in [*(ROOT / "models").glob("*.qdl"), *(ROOT / "models").glob("vhost/*.qdl")]}
    proofs = {o.run.model.resolve() for o in outcomes if o.run.engine == "induction"}
    assert proofs == {p.resolve() for p in (ROOT / "specs" / "proofs").glob("*.qdl")}


def manifest(tmp_path: Path, body: str) -> str:
    p = tmp_path / "m.toml"
    p.write_text(body)
    return str(p)


def test_every_kind_of_deviation_is_reported(tmp_path: Path) -> None:
    path = manifest(tmp_path, f'''
[[run]]
name = "bad stops failing"
model = "{S1}"
expect = {{ image_consistent = "violated" }}

[[run]]
name = "good starts failing"
model = "{S5}"
expect = {{ image_consistent = "holds" }}

[[run]]
name = "longer counterexample"
model = "{S5}"
expect = {{ image_consistent = {{ verdict = "violated", length = 3 }} }}

[[run]]
name = "state count"
model = "{S1}"
states = 7
expect = {{ no_torn_page = "holds" }}

[[run]]
name = "as expected"
model = "{S1}"
expect = {{ no_torn_page = "holds" }}
''')
    # the manifest is in a scratch folder and names the repository's models: outside it
    outcomes = regress(load_manifest(path, allow_outside=True), Options(keep_going=True))
    assert [o.ok for o in outcomes] == [False, False, False, False, True]
    details = [r.detail for o in outcomes for r in o.rows if not r.ok]
    assert "known-bad model stopped failing" in details[0]
    assert details[1] == "now violated"
    assert "manifest says 3" in details[2]
    assert details[3] == "the state count changed"


def test_the_command_exits_1_on_a_deviation_and_writes_junit(tmp_path: Path, capsys) -> None:
    path = manifest(tmp_path, f'''
[[run]]
name = "fails"
model = "{S5}"
expect = {{ image_consistent = "holds" }}

[[run]]
name = "passes"
model = "{S5}"
expect = {{ image_consistent = "violated" }}
''')
    xml = tmp_path / "junit.xml"
    assert main(["regress", path, "--allow-outside", "--junit", str(xml), "--json", str(tmp_path / "r.json")]) == 1
    suites = ET.parse(xml).getroot()
    assert suites.tag == "testsuites" and suites.get("tests") == "2" and suites.get("failures") == "1"
    failing = [c for c in suites.iter("testcase") if c.find("failure") is not None]
    # the model file's stem, then the run's name
    assert [c.get("classname") for c in failing] == [f"{Path(S5).stem}.fails"]
    assert "1 of 2 runs differ" in capsys.readouterr().out


@pytest.mark.parametrize(("body", "fragment"), [
    ("", "no runs"),
    ("[[run]]\nname = 'x'\n", "`model`"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\n", "`expect`"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nexpect = { p = 'fine' }\n", "not one of"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nexpect = { p = { verdict = 'holds', length = 3 } }\n",
     "only a violated property"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nexpectt = {}\n", "unknown key"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nparams = { A = [1] }\nexpect = { p = 'holds' }\n", "parameter `A`"),
    ("[[run]\n", "not TOML"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nengine = 'dfs'\nexpect = { p = 'holds' }\n", "`engine`"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\ndepth = 4\nexpect = { p = 'holds' }\n", "`depth`"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nengine = 'induction'\nstates = 3\nexpect = { p = 'holds' }\n",
     "no state count"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nengine = 'induction'\nexpect = { p = 'violated' }\n",
     "no state count"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nexpect = { p = { verdict = 'violated', loop = 2 } }\n",
     "give its `length` too"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nexpect = { p = { verdict = 'violated', length = 2, loop = 3 } }\n",
     "at least the loop"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nexpect = { p = { verdict = 'holds', loop = 0 } }\n",
     "only a violated property"),
    ("[[run]]\nname = 'x'\nmodel = 'm.qdl'\nexpect = { p = { verdict = 'violated', length = 2, loop = true } }\n",
     "loop must be a whole number"),
])
def test_a_bad_manifest_is_refused_with_its_reason(tmp_path: Path, body: str, fragment: str) -> None:
    with pytest.raises(ManifestError, match=None) as e:
        load_manifest(manifest(tmp_path, body))
    assert fragment in str(e.value)
    assert main(["regress", manifest(tmp_path, body)]) == 151


def test_a_model_that_does_not_build_is_a_deviation(tmp_path: Path) -> None:
    (tmp_path / "broken.qdl").write_text("var x: 0..1 = 5;\n")
    path = manifest(tmp_path, '[[run]]\nname = "b"\nmodel = "broken.qdl"\nexpect = { p = "holds" }\n')
    (o,) = regress(load_manifest(path), Options(keep_going=True))
    assert not o.ok and o.error is not None and "outside" in o.error


@pytest.mark.slow
def test_pinned_counts_agree_with_the_reference_interpreter() -> None:
    # the manifest's state counts come from the C search; the reference interpreter, which
    # shares only the parser and the checker with it, must find the same state graph
    for run in load_manifest(str(MANIFEST)):
        if run.states is None:
            continue
        built = build_file(str(run.model), run.params)
        if run.symmetry and built.checked.symmetric:
            continue  # its pinned count is of orbits: test_symmetry holds those to the reference
        ReferenceModel(built.checked, built.program.layout)  # builds
        assert compare(built, limit=10**9) == run.states, run.name


def test_an_induction_run_checks_lemmas_and_reports_what_it_could_not_prove(tmp_path: Path) -> None:
    (tmp_path / "climb.qdl").write_text("""
var x: 0..60 = 0;
action up when x <= 58 { x := x + 2; }
action down when x >= 2 { x := x - 2; }
invariant below_top: x != 59;
lemma even: x % 2 == 0;
""")
    (tmp_path / "bare.qdl").write_text((tmp_path / "climb.qdl").read_text().replace("lemma even: x % 2 == 0;", ""))
    path = manifest(tmp_path, """
[[run]]
name = "proved"
model = "climb.qdl"
engine = "induction"
depth = 3
expect = { below_top = "holds", even = "holds" }

[[run]]
name = "not proved"
model = "bare.qdl"
engine = "induction"
depth = 3
expect = { below_top = "holds" }
""")
    proved, bare = regress(load_manifest(path), Options(keep_going=True))
    assert proved.ok and proved.states is None
    assert not bare.ok and bare.error is None
    assert [(r.prop, r.got) for r in bare.rows] == [("below_top", "incomplete")]


def test_a_lasso_is_pinned_by_its_length_and_its_loop(tmp_path: Path) -> None:
    # two models whose lassos are plain by hand: `stops` takes its two steps and then has none,
    # so it stutters for ever at x = 2 (2 steps, loop 2); `cycles` counts 0, 1, 2, 0, ... for
    # ever, so the cycle is the whole behaviour from the initial state (3 steps, loop 0)
    (tmp_path / "stops.qdl").write_text("""
var x: 0..3 = 0;
process P { x := 1; x := 2; }
fair process P;
liveness reaches_three: eventually x == 3;
terminal stopped: x == 2;
""")
    (tmp_path / "cycles.qdl").write_text("""
var x: 0..3 = 0;
process P { while true { x := (x + 1) % 3; } }
fair process P;
liveness reaches_three: eventually x == 3;
liveness comes_back: always eventually x == 0;
""")
    path = manifest(tmp_path, """
[[run]]
name = "stops"
model = "stops.qdl"
states = 3
expect = { reaches_three = { verdict = "violated", length = 2, loop = 2 } }

[[run]]
name = "cycles"
model = "cycles.qdl"
states = 3
expect = { reaches_three = { verdict = "violated", length = 3, loop = 0 }, comes_back = "holds" }

[[run]]
name = "cycles, another loop"
model = "cycles.qdl"
expect = { reaches_three = { verdict = "violated", length = 3, loop = 1 } }

[[run]]
name = "cycles, the length alone"
model = "cycles.qdl"
expect = { reaches_three = { verdict = "violated", length = 3 } }
""")
    stops, cycles, wrong, length_only = regress(load_manifest(path), Options(keep_going=True))
    assert stops.ok and cycles.ok and length_only.ok, (stops.rows, cycles.rows, length_only.rows)
    assert [r.got for r in stops.rows] == ["violated (2 steps, then stuttering)"]
    assert cycles.rows[0].got == "violated (0 steps, then a cycle of 3 steps)"
    (row,) = wrong.rows
    assert not row.ok and row.detail == ("shortest counterexample now 0 steps, then a cycle of 3 steps, the manifest "
                                         "says 1 step, then a cycle of 2 steps")


def test_a_step_property_can_be_pinned(tmp_path: Path) -> None:
    # x only grows: `up` holds; `still` breaks on the first step
    (tmp_path / "m.qdl").write_text("var x: 0..2 = 0;\nprocess P { x := 1; x := 2; }\n"
                                    "always step up: x' >= x;\nalways step still: x' == x;\n")
    path = manifest(tmp_path, '[[run]]\nname = "steps"\nmodel = "m.qdl"\n'
                              'expect = { up = "holds", still = { verdict = "violated", length = 1 } }\n')
    (o,) = regress(load_manifest(path), Options(keep_going=True))
    assert o.ok, o
