"""The canonical form: equal for a state and each of its permutations, a member of its orbit,
and found by trying few permutations when the values can be told apart."""

from __future__ import annotations

import itertools

from quiesce_check.build import build_file, build_text, symmetry_of
from tests.conftest import ROOT


def test_canon_is_an_orbit_invariant_and_a_member_of_the_orbit() -> None:
    built = build_file(str(ROOT / "models" / "precopy_symmetric.qdl"), {"NPAGES": 3, "NBACKENDS": 2})
    sym = symmetry_of(built)
    assert sym is not None and len(sym) == 12 and sym.perms[0].src == tuple(range(len(sym.slot_type)))
    model = built.model
    seen = list(model.initial_states())
    for s in itertools.islice(seen, 400):
        seen.extend(t for _, _, t in model.successors(s) if t not in seen)
    tried = 0
    for s in seen[:400]:
        c = sym.canon(s)
        assert c in {sym.apply(p, s) for p in sym.perms}
        assert all(sym.canon(sym.apply(p, s)) == c for p in sym.perms)
        tried += len(sym.candidates(s))
    # the signatures leave on average far fewer than the 12 permutations to try
    assert tried < 400 * 4


def test_the_permutations_move_arrays_values_and_process_instances() -> None:
    built = build_file(str(ROOT / "models" / "precopy_symmetric.qdl"), {"NPAGES": 2, "NBACKENDS": 2})
    sym = symmetry_of(built)
    assert sym is not None
    names = [s.name for s in built.program.layout.slots]
    swap_pages = next(p for p in sym.perms if sym.describe(p) == "Page: 0→1, 1→0")
    moved = dict(zip(names, (names[i] for i in swap_pages.src), strict=True))
    assert moved["sent[0]"] == "sent[1]" and moved["mapped[1][0]"] == "mapped[1][1]"
    assert moved["Backends[0].pc"] == "Backends[0].pc"
    swap_backends = next(p for p in sym.perms if sym.describe(p) == "Backend: 0→1, 1→0")
    moved = dict(zip(names, (names[i] for i in swap_backends.src), strict=True))
    assert moved["Backends[0].pc"] == "Backends[1].pc" and moved["mapped[0][1]"] == "mapped[1][1]"
    assert moved["busy[1]"] == "busy[0]" and moved["sent[1]"] == "sent[1]"


def test_a_type_nothing_holds_costs_one_permutation() -> None:
    text = """
symmetric type Tok = 0..6;
var n: 0..3 = 0;
action tick(t in Tok) when n < 3 { n := n + 1; }
terminal full: n == 3;
"""
    built = build_text(text, "t.qdl")
    sym = symmetry_of(built)
    assert sym is not None and len(sym) == 5040 and sym.inert == (True,)
    assert sym.candidates(built.model.initial_states()[0]) == [0]
