"""The Xen vocabulary's semantics, rule by rule (DESIGN section 3, domain-xen.md section 2).

Each test is a script: one process calls the vocabulary's operations in a
fixed order (the toolstack is replaced by an empty process), so the model has
one path, and the test reads the state after every step.
"""

from __future__ import annotations

from typing import Any

import pytest

from quiesce_check.build import build_text
from quiesce_check.compile.layout import variable_values
from quiesce_check.engines.bfs import bfs
from quiesce_check.engines.result import Options, Status


def script(body: str, sizes: str = "PAGES = 1, WORDS = 2, MAXVAL = 3, HANDLES = 1, GRANTS = 1",
           extra: str = "") -> list[dict[str, Any]]:
    """The values after each step of `body`, run by the only process there is."""
    text = f"use xen({sizes});\noverride process Toolstack {{ }}\n{extra}\nprocess Script {{\n{body}\n}}\n"
    built = build_text(text, "script.qdl")
    model = built.model
    (state,) = model.initial_states()
    out = [variable_values(model.info.layout, state)]
    while True:
        succs = [t for ai, _, t in model.successors(state) if model.info.actions[ai].process == "Script"]
        if not succs:
            return out
        assert len(succs) == 1, "a script has one path"
        state = succs[0]
        out.append(variable_values(model.info.layout, state))


def test_a_guest_write_is_marked_only_with_log_dirty_on() -> None:
    s = script("guest_write(0, 0, 1);\nstart_migration();\nguest_write(0, 1, 2);")
    assert s[1]["mem"][0][0] == 1 and s[1]["dirty"] == (False,)      # log-dirty off: no mark
    assert s[2]["logdirty"] and s[2]["dirty"] == (False,)            # enabled with an empty bitmap
    assert s[3]["mem"][0][1] == 2 and s[3]["dirty"] == (True,)       # marked, with the write


def test_a_grant_mapping_is_marked_once_at_unmap_and_only_if_writable() -> None:
    s = script("""start_migration();
grant_access(0, 0, true);
map_grant(0, 0, true);
map_write(0, 0, 1);
map_write(0, 1, 2);
unmap(0);
atomic { dirty[0] := false; }
map_grant(0, 0, false);
unmap(0);""")
    assert [v["dirty"][0] for v in s[2:6]] == [False, False, False, False]  # map and writes: nothing
    assert s[5]["mem"][0] == (1, 2, 0, 0)[:2]
    assert s[6]["dirty"][0] and not s[6]["mapping"][0][0]                  # the unmap marks, after the writes
    assert not s[9]["dirty"][0]                                           # a read-only unmap does not


def test_a_foreign_mapping_is_never_marked() -> None:
    s = script("start_migration();\nmap_foreign(0, 0);\nmap_write(0, 1, 3);\nunmap(0);")
    assert s[3]["mem"][0][1] == 3
    assert not any(v["dirty"][0] for v in s)


def test_a_grant_copy_writes_first_and_marks_after() -> None:
    s = script("start_migration();\ngrant_access(0, 0, true);\ncopy_write(0, 0, 2);\ncopy_mark(0);")
    assert s[3]["mem"][0][0] == 2 and not s[3]["dirty"][0]
    assert s[4]["dirty"][0]


def test_clean_reads_and_clears_the_bitmap_in_one_step() -> None:
    s = script("start_migration();\nsend_word();\nsend_word();\nguest_write(0, 1, 1);\nclean_pass();",
               extra="")
    assert s[3]["todo"] == (False,) and s[4]["dirty"] == (True,)
    assert s[5]["todo"] == (True,) and s[5]["dirty"] == (False,) and s[5]["pass"] == 1


def test_a_page_is_sent_word_by_word_from_live_memory() -> None:
    s = script("start_migration();\nsend_word();\nguest_write(0, 0, 3);\nguest_write(0, 1, 2);\nsend_word();")
    assert s[2]["tgt"][0] == (0, 0) and s[2]["sending"] == 0   # word 0 read before the writes
    assert s[5]["tgt"][0] == (0, 2) and s[5]["sending"] == 1   # word 1 read after them; the send is over
    # word 0 changed after its copy, then word 1 before its copy: the target's page never existed
    assert s[5]["torn"] == (True,)


def test_writes_in_the_copy_order_do_not_tear_a_page() -> None:
    # word 1, not yet copied, then word 0, already copied: the target has the page as it was
    # between the two writes, a state the source had
    s = script("start_migration();\nsend_word();\nguest_write(0, 1, 2);\nguest_write(0, 0, 3);\nsend_word();")
    assert s[5]["tgt"][0] == (0, 2) and s[5]["torn"] == (False,)


def test_a_resend_repairs_a_torn_page() -> None:
    s = script("""start_migration();
send_word();
guest_write(0, 0, 3);
guest_write(0, 1, 2);
send_word();
clean_pass();
send_word();
send_word();""")
    assert s[5]["torn"] == (True,) and s[8]["torn"] == (False,) and s[8]["tgt"][0] == (3, 2)


@pytest.mark.parametrize("order, first", [("Ascending", 0), ("Descending", 1)])
def test_the_copy_order_is_a_parameter(order: str, first: int) -> None:
    s = script("start_migration();\nsend_word();",
               sizes=f"PAGES = 1, WORDS = 2, MAXVAL = 3, COPY_ORDER = {order}")
    assert s[2]["copied"][first] and not s[2]["copied"][1 - first]


def test_anything_written_after_the_final_clean_is_late() -> None:
    s = script("""start_migration();
send_word();
send_word();
suspend_guest();
final_clean();
map_foreign(0, 0);
map_write(0, 0, 0);""", sizes="PAGES = 1, WORDS = 2, MAXVAL = 3, HANDLES = 1, LIVE_PASSES = 0")
    assert s[5]["final_read"] and not s[6]["late_write"]
    assert s[7]["late_write"]  # even a store of the value already there


def test_the_hypervisor_final_clean_can_be_overridden() -> None:
    # a Xen that marks the frames still writably grant-mapped when the toolstack reads the bitmap last
    s = script("""start_migration();
grant_access(0, 0, true);
map_grant(0, 0, true);
send_word();
send_word();
map_write(0, 1, 2);
suspend_guest();
final_clean();""", sizes="PAGES = 1, WORDS = 2, MAXVAL = 3, HANDLES = 1, GRANTS = 1, LIVE_PASSES = 0",
               extra="""override proc hypervisor_final_clean() {
    for h in Handle { if mapping[h].live and mapping[h].writable and not mapping[h].foreign { dirty[mapping[h].pfn] := true; } }
    read_bitmap();
}""")
    assert s[8]["todo"] == (True,)  # the page is sent again in the final pass


@pytest.mark.parametrize("idempotent", [True, False])
def test_running_a_request_twice_is_a_duplicate_unless_it_is_idempotent(idempotent: bool) -> None:
    # (a request the guest saw complete counts too: models/s9_blkfront_recover.qdl)
    s = script("execute(0);\nexecute(0);",
               sizes=f"PAGES = 1, WORDS = 1, NREQ = 1, IDEMPOTENT = [{str(idempotent).lower()}]")
    assert [v["executed"][0] for v in s] == [0, 1, 2]
    assert not s[1]["duplicated"] and s[2]["duplicated"] is not idempotent


def test_the_guest_and_the_backend_write_through_different_doors() -> None:
    # `mem` is written only through the vocabulary's operations, which keep the ghosts
    from quiesce_check.lang.errors import ModelError
    with pytest.raises(ModelError) as e:
        build_text("use xen;\nprocess Rogue { mem[0][0] := 1; }\n", "rogue.qdl")
    assert [d.code for d in e.value.diagnostics] == ["E034"]


def test_a_model_whose_target_never_resumes_is_vacuous_not_safe() -> None:
    # the toolstack waits forever for an acknowledgement nobody sends: no property is ever exercised
    text = """use xen(PAGES = 1, WORDS = 1, MAXVAL = 1);
override def may_read_final = false;
check image_consistent, no_torn_page, no_lost_completion;
"""
    r = bfs(build_text(text, "stuck.qdl").model, Options(check_deadlock=False))
    assert r.verdict.value == "vacuous" and r.exit_code == 21
    assert {p.name: p.status for p in r.properties if p.kind in ("invariant", "final")} == {
        "image_consistent": Status.VACUOUS, "no_torn_page": Status.VACUOUS, "no_lost_completion": Status.VACUOUS}
