"""What a vocabulary's timeline calls each step: a mark's kind follows what the step did.

A send is a step that copies (a page's send begins or ends, a word is taken), never a step
that only loads the pages to send (`start_migration()`, a CLEAN, the final CLEAN). A write is
marked when the bitmap holds its page at the next CLEAN, so a guest write to a page already
dirty is marked too. The expectations are read from the model's semantics (which statement
copies, which writes Xen or KVM marks), not from the annotation's output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quiesce_check.build import Built, build_file, build_text
from quiesce_check.compile.layout import variable_values
from quiesce_check.domain.explain import annotator
from quiesce_check.engines import breadth_first
from quiesce_check.engines.result import NullReporter, Options
from quiesce_check.trace.timeline import Timeline, timeline
from quiesce_check.trace.types import Trace
from tests.conftest import ROOT

# The guest writes page 0 twice once migration is live: the first write marks it, the second
# finds it marked. The invariant breaks only once the source is destroyed, so the trace holds
# start_migration(), a live pass, both writes, the final CLEAN and the final pass.
TWICE = """
use xen(PAGES = 1, WORDS = 1, MAXVAL = 3);

process Guest when running {
    await phase == Live;
    guest_write(0, 0, 1);
    guest_write(0, 0, 2);
}
invariant never_done: not (phase == Done and mem[0][0] == 2);
"""


def annotated(built: Built, prop: str) -> tuple[Trace, Timeline, list[dict[str, Any]]]:
    trace = breadth_first(built.model, Options(keep_going=True), NullReporter()).traces[prop]
    annotate = annotator(built.ast.sources, built.checked.consts)
    assert annotate is not None
    tl = annotate(built.model.info, trace, timeline(built.model.info, trace))
    return trace, tl, [variable_values(built.model.info.layout, s) for s in trace.states]


def steps_named(built: Built, trace: Trace, text: str) -> list[int]:
    return [k for k, s in enumerate(trace.steps, 1) if built.model.info.actions[s.action].text.startswith(text)]


def test_loading_the_pages_to_send_is_no_copy_and_a_second_guest_write_is_marked() -> None:
    built = build_text(TWICE, "twice.qdl")
    trace, tl, v = annotated(built, "never_done")
    kind = {m.step: m.kind for m in tl.marks}
    start, final = steps_named(built, trace, "start_migration"), steps_named(built, trace, "final_clean")
    assert len(start) == 1 and len(final) == 1
    # both load `todo` and copy no word: the target is unchanged by them
    for k in start + final:
        assert any(v[k]["todo"]) and v[k]["tgt"] == v[k - 1]["tgt"] and kind[k] != "send"
    # every step that is a send copied: took a word or began or ended a page's send
    sends = [k for k, c in kind.items() if c == "send"]
    assert sends and all(steps_named(built, trace, "send_word").count(k) for k in sends)
    # the guest's two writes: log-dirty is on, so Xen marks the page at each (the second finds it marked)
    writes = steps_named(built, trace, "guest_write")
    assert len(writes) == 2 and all(v[k]["logdirty"] and v[k]["dirty"][0] for k in writes)
    assert not v[writes[0] - 1]["dirty"][0] and v[writes[1] - 1]["dirty"][0]
    assert [kind[k] for k in writes] == ["mark", "mark"]
    assert "does not mark" not in " ".join(tl.legend[kind[k]] for k in writes)


def test_a_backend_write_through_a_mapping_kept_past_the_final_clean_is_unmarked() -> None:
    # S5: blkback writes the persistent ring's response through a mapping it never unmaps
    built = build_file(str(ROOT / "models" / "s5_persistent_ring_write_after_last_send.qdl"))
    trace, tl, v = annotated(built, "image_consistent")
    kind = {m.step: m.kind for m in tl.marks}
    writes = [k for k in range(1, len(v)) if v[k]["mem"] != v[k - 1]["mem"] and v[k]["logdirty"]]
    backend = [k for k in writes if built.model.info.actions[trace.steps[k - 1].action].process == "Blkback"]
    assert backend and all(not any(s["dirty"]) for s in v[backend[0]:])  # nothing marks the ring
    assert {kind[k] for k in backend} == {"write"}
    assert tl.legend["write"] == "a write to a page Xen does not mark before the next CLEAN"


def test_a_vcpu_write_to_a_page_kvm_marked_already_is_marked(tmp_path: Path) -> None:
    model = tmp_path / "m.qdl"
    model.write_text("""
use vhost(MAXVAL = 2);

process Writer when vcpus_running {
    await kvm_logging;
    vcpu_write(2, 0, 1);
    vcpu_write(2, 0, 2);
}
invariant never_started: not (target_running and mem[2][0] == 2);
""")
    built = build_file(str(model))
    trace, tl, v = annotated(built, "never_started")
    kind = {m.step: m.kind for m in tl.marks}
    writes = steps_named(built, trace, "vcpu_write")
    assert len(writes) == 2 and all(v[k]["kvm_dirty"][2] for k in writes)
    assert [kind[k] for k in writes] == ["mark", "mark"]
