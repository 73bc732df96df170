"""Explanations of models in which the default Xen's assumptions do not hold.

Each model (tests/domain/models/) breaks one thing the explainer used to take for
granted: a final CLEAN that marks mapped frames, a model with no ring, a backend that
is no block backend, a grant copy after the target resumed, a property of the model's
own. Every step an explanation cites is checked against the trace's states (the step
at which `final_read` became true, the one whose statement is `resume_target();`, the
last step that changed a slot), not against the explainer's own reckoning.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.compile.layout import format_slot, variable_values
from quiesce_check.domain import vocabulary_path
from quiesce_check.domain.explain import annotator, explainer
from quiesce_check.domain.xen import XenExplainer
from quiesce_check.domain.xen_names import (
    CONSTANTS,
    MEMBERS,
    PROPERTIES,
    RING_NAMES,
    VARIABLES,
    XEN_STEPS,
)
from quiesce_check.engines import breadth_first
from quiesce_check.engines.result import NullReporter, Options
from quiesce_check.lang import ast as A
from quiesce_check.lang.parser import parse
from quiesce_check.trace.timeline import timeline
from quiesce_check.trace.types import Trace
from tests.conftest import ROOT
from tests.domain.test_explain import cited, step_of

MODELS = Path(__file__).resolve().parent / "models"


def traces(built: Built) -> dict[str, Trace]:
    return breadth_first(built.model, Options(keep_going=True), NullReporter()).traces


def why(built: Built, trace: Trace, sources: Any = None) -> str:
    explain = explainer(built.ast.sources if sources is None else sources, built.checked.consts)
    assert explain is not None
    return " ".join(explain(built.model.info, trace))


def values(built: Built, trace: Trace) -> list[dict[str, Any]]:
    return [variable_values(built.model.info.layout, s) for s in trace.states]


def process_at(built: Built, trace: Trace, k: int) -> str:
    return built.model.info.actions[trace.steps[k - 1].action].process


def first_true(vals: list[dict[str, Any]], pick: Any) -> int:
    """The step after which `pick` first holds."""
    return next(k for k in range(1, len(vals)) if pick(vals[k]) and not pick(vals[k - 1]))


# ------------------------------------------------------- a final CLEAN that marks mapped frames

def test_a_final_clean_that_marks_mapped_frames_is_named_as_what_marked_the_page() -> None:
    built = build_file(str(MODELS / "final_clean_marks_mapped.qdl"))
    trace = traces(built)["image_consistent"]
    text, v = why(built, trace), values(built, trace)
    assert "only when it is unmapped" not in text
    assert "the final CLEAN had marked page 1 itself (mapping 0 still held it)" in text
    final = cited(text, r"after the final CLEAN \(step (\d+)\)")
    assert final == first_true(v, lambda s: s["final_read"])
    # the CLEAN itself marked page 1: it was not in the bitmap before, and the CLEAN took it
    assert not v[final - 1]["dirty"][1] and v[final]["todo"][1]
    assert v[final - 1]["mapping"][0][:3] == (True, 1, True)
    write = cited(text, r"through grant mapping 0 at step (\d+)")
    assert process_at(built, trace, write) == "Backend" and v[write - 1]["mem"][1] != v[write]["mem"][1]
    m = re.search(r"the final pass sent page 1 again \(steps (\d+)-(\d+)\), before this write", text)
    assert m is not None, text
    first, last = int(m.group(1)), int(m.group(2))
    assert final < first <= last < write
    assert v[first - 1]["sending"] != 1 and v[first]["sending"] == 1 and v[last - 1]["todo"][1] and not v[last]["todo"][1]


def test_a_torn_final_pass_of_a_page_the_final_clean_marked() -> None:
    built = build_file(str(MODELS / "final_clean_marks_mapped.qdl"))
    trace = traces(built)["no_torn_page"]
    text, v = why(built, trace), values(built, trace)
    assert "only when it is unmapped" not in text and "the final CLEAN had marked page 1 itself" in text
    m = re.search(r"the final pass sent page 1 again \(steps (\d+)-(\d+)\); this write came during that send", text)
    assert m is not None, text
    write = cited(text, r"wrote it through grant mapping 0 at step (\d+)")
    assert int(m.group(1)) < write < int(m.group(2))
    assert cited(text, r"after the final CLEAN \(step (\d+)\)") == first_true(v, lambda s: s["final_read"])


def test_a_late_write_to_a_page_the_final_pass_sent_names_the_mark_that_sent_it() -> None:
    built = build_file(str(MODELS / "late_write_to_a_resent_page.qdl"))
    trace = traces(built)["image_consistent"]
    text, v = why(built, trace), values(built, trace)
    m = re.search(r"the final CLEAN had taken page 1 \(marked at step (\d+) by Guest's write\), and the final pass "
                  r"sent page 1 again \(steps? (\d+)(?:-(\d+))?\), before this write", text)
    assert m is not None, text
    mark, first = int(m.group(1)), int(m.group(2))
    last = int(m.group(3) or first)
    final = cited(text, r"after the final CLEAN \(step (\d+)\)")
    assert final == first_true(v, lambda s: s["final_read"])
    assert process_at(built, trace, mark) == "Guest" and not v[mark - 1]["dirty"][1] and v[mark]["dirty"][1]
    assert mark < final and v[final]["todo"][1] and v[last - 1]["todo"][1] and not v[last]["todo"][1]
    assert last < cited(text, r"through grant mapping 0 at step (\d+)")
    assert (m.group(3) is None) == (first == last)   # a send of one step is cited as one step


# --------------------------------------------------------------------------- no ring

def test_a_model_without_a_ring_names_no_ring_word() -> None:
    built = build_file(str(MODELS / "no_ring.qdl"))
    trace = traces(built)["image_consistent"]
    text = why(built, trace)
    assert text.startswith("Word 1 of page 0 was written by Backend through grant mapping 0") and "ring" not in text
    annotate = annotator(built.ast.sources, built.checked.consts)
    assert annotate is not None
    rows = [r.label for r in annotate(built.model.info, trace, timeline(built.model.info, trace)).rows]
    assert rows == ["page 0 source", "page 0 target"]


def test_a_model_that_uses_the_ring_names_its_words() -> None:
    built = build_text((MODELS / "no_ring.qdl").read_text().replace("map_write(0, 1, 1)", "map_write(0, RSP_PROD_AT, 1)"),
                       "t.qdl")
    assert "word 1 of page 0 (the ring's rsp_prod)" in why(built, traces(built)["image_consistent"]).lower()


def test_given_paths_alone_neither_the_ring_nor_xens_rule_is_said() -> None:
    """Without the model's text the explainer cannot know its ring or what it overrides."""
    built = build_file(str(ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl"))
    text = why(built, traces(built)["image_consistent"], list(built.ast.sources))
    assert "ring" not in text and "only when it is unmapped" not in text
    assert "no step marked page 0 between the write and the final CLEAN" in text


# ------------------------------------------------------------ who runs a request twice

@pytest.mark.parametrize("backend,disk", [("Xenstored", False), ("Netback", False), ("Blkback", True)])
def test_only_a_block_backend_puts_a_request_run_twice_on_a_disk(backend: str, disk: bool) -> None:
    built = build_text((MODELS / "request_twice.qdl").read_text().replace("BACKEND", backend), "t.qdl")
    trace = traces(built)["no_duplicate_execution"]
    text = why(built, trace)
    m = re.search(r"Request 0 was executed at step (\d+) by the target's backend .* and again at step (\d+) by "
                  + backend + ", on the source", text)
    assert m is not None, text
    assert process_at(built, trace, int(m.group(1))) == "TargetFrontend"
    assert process_at(built, trace, int(m.group(2))) == backend
    assert ("disk" in text) == disk and ("The stale WRITE reaches the shared disk" in text) == disk


# ------------------------------------------------------- a grant copy after the target resumed

@pytest.mark.parametrize("steps", [2, 1])
def test_a_grant_copy_after_the_target_resumed(steps: int) -> None:
    built = build_file(str(MODELS / "grant_copy_after_resume.qdl"), {"COPY_STEPS": steps})
    trace = traces(built)["image_consistent"]
    text, v = why(built, trace), values(built, trace)
    assert "had not landed" not in text
    resumed = cited(text, r"after the target resumed \(step (\d+)\), with log-dirty off")
    assert resumed == step_of(built, trace, "resume_target()")
    write = cited(text, r"by Netback by grant copy at step (\d+)")
    assert write > resumed and process_at(built, trace, write) == "Netback" and not v[write - 1]["logdirty"]
    assert not any(k > write for k, s in enumerate(v) if s["final_read"] and not v[k - 1]["final_read"])
    if steps == 1:
        end = cited(text, r"the grant copy ended at step (\d+) with log-dirty off without marking page 1")
        assert end == write and not v[end]["dirty"][1] and v[end]["copying"][0] == 0


# ------------------------------------------------------------------ a model's own invariant

def test_an_invariant_of_the_models_own_gets_the_last_writes_to_what_it_reads() -> None:
    built = build_file(str(MODELS / "own_invariant.qdl"))
    trace = traces(built)["flagged_page_arrives"]
    text = why(built, trace)
    layout = built.model.info.layout
    m = re.match(r"`flagged_page_arrives` reads (.*?); ", text)
    assert m is not None, text
    assert set(re.split(r", | and ", m.group(1))) == {"resumed", "flag", "mem", "tgt"}   # as the invariant says
    states = trace.states
    slot = {s.name: i for i, s in enumerate(layout.slots)}
    writes = re.findall(r"at step (\d+) (\w+) set (.*?) \(`", text)
    assert writes
    for k, who, sets in writes:
        assert process_at(built, trace, int(k)) == who
        for name, value in re.findall(r"(\S+) to (\S+?)(?:,|$)", sets):
            i = slot[name]
            changes = [j for j in range(1, len(states)) if states[j - 1][i] != states[j][i]]
            assert changes[-1] == int(k) and format_slot(layout, i, states[int(k)][i]) == value
    # the last write to each slot the invariant reads that the trace changed is cited
    for name in ("mem[1][0]", "flag", "resumed"):
        i = slot[name]
        last = max(j for j in range(1, len(states)) if states[j - 1][i] != states[j][i])
        assert any(int(k) == last and name in sets for k, _, sets in writes), (name, text)
    # the CLEANs between them: the final CLEAN is the step at which final_read became true
    v = values(built, trace)
    final = cited(text, r"at step (\d+) the final CLEAN read the bitmap")
    assert final == first_true(v, lambda s: s["final_read"])
    assert int(writes[0][0]) < final < int(writes[-1][0])


# ---------------------------------------------------------- the vocabulary's names it relies on

def declared() -> dict[str, set[str]]:
    """The names xen.qdl declares, by kind."""
    xen = vocabulary_path("xen")
    assert xen is not None
    out: dict[str, set[str]] = {"var": set(), "const": set(), "member": set(), "property": set(), "default": set(),
                                "any": set()}
    for d in parse(xen.read_text(), str(xen)).decls:
        name = getattr(d, "name", None)
        if isinstance(d, A.VarDecl):
            out["var"].add(d.name)
        elif isinstance(d, A.ParamDecl | A.ConstDecl):
            out["const"].add(d.name)
        elif isinstance(d, A.TypeDecl) and isinstance(d.type, A.EnumType):
            out["member"] |= {m.name for m in d.type.members}
        elif isinstance(d, A.PropertyDecl):
            out["property"].add(d.name)
        if getattr(d, "modifier", None) == "default" and name:
            out["default"].add(name)
        if name:
            out["any"].add(name)
    return out


def test_every_name_the_explainer_relies_on_is_declared_in_the_vocabulary() -> None:
    names = declared()
    assert set(VARIABLES) <= names["var"]
    assert set(CONSTANTS) <= names["const"]
    assert set(MEMBERS) <= names["member"]
    assert set(PROPERTIES) <= names["property"]
    assert set(RING_NAMES) <= names["any"]
    # Xen's steps it says a default rule of are overridable; those still to come are read if present
    assert set(XEN_STEPS) <= names["default"]
    assert all(callable(getattr(XenExplainer, f"explain_{p}", None)) for p in PROPERTIES)
