"""Stage 4, native: IR to a C breadth-first search, compiled with the system compiler.

Takes an `ir.Program`; gives C source (`generate_c`) for a shared library
that runs the whole breadth-first search. This module writes only the model's
part: its sizes, the packing of its states into 64-bit words
(`packing.Packing`), the successor function (one block per action, dispatched
on program counters, as the Python backend does), invariants, goals and
terminal states over unpacked slot values, step properties over a step (the
state before, the state after, the action: `Slot(n + i)` and `Slot(2n)` of a
step property read the last two), each liveness instance's two predicates,
and the tables of its symmetry.
The rest is the same for every model and ships as C files beside this module
(`compile/c/`, read with `importlib.resources`), concatenated with the
model's part into one source: `runtime.h` (checked arithmetic, the search's
context), `store.c` (states in one array in discovery order, a parent index
per state, an open-addressing table of state indices, memory accounting),
`pack_table.c` (packing by a table, for wide states), `canon.c` (with a
`symmetry.Symmetry`, every successor is replaced by the canonical form
`Symmetry.canon` computes before it is stored), `bfs.c` (the search and its
entry points), `fp.c` (the search over fingerprints, `--store fingerprint`,
whose entry points `engines.fingerprint` declares), `checkpoint.c` (saving
and resuming) and `live.c` (the liveness check on the graph the search
records, as `engines.liveness` does it, giving the same lassos). `load_native`
compiles it (`cc -O2 -Wall -Wextra -shared`, -O1 for very large sources;
the program is warning-free) in a private temporary folder and loads it with
ctypes; it keeps the library in a cache named by the hash of the compiler,
its options and the whole source (so of the shipped files too), trusted only
as far as it is private (see `load_native`), and pruned to a size cap, least
recently used first (`compile.cache`). `pin` keeps one program's library
loaded for the rest of the process (a hook's ablation: one compiled model,
many searches). When no compiler works it raises
`CompilerUnavailable`, which carries the reason, and the caller falls back to
the Python engine or tells the user why.

The C text holds only numbers and internal names: nothing from the model
reaches it. Arithmetic is checked for overflow; an overflow, like an
out-of-range value, index or a division by zero, stops the search with the
state and action, and the caller rebuilds the error with the Python backend.
Imports `compile.*` and `safe_write`.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import hmac
import math
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from io import BufferedReader
from pathlib import Path
from typing import Any

from quiesce_check.compile import ir as I
from quiesce_check.compile.bounds import bounds
from quiesce_check.compile.cache import cache_dir, cap_bytes, prune
from quiesce_check.compile.cc import run_compiler
from quiesce_check.compile.deadline import Deadline
from quiesce_check.compile.ir import Program, assigns, flatten_chain, straight
from quiesce_check.compile.packing import Packing, pack_layout
from quiesce_check.compile.symmetry import Symmetry
from quiesce_check.safe_write import private_dir, trusted, write_atomic

# Sources longer than _O2_SOURCE_BYTES are compiled with -O1, longer than _O1_SOURCE_BYTES with
# -O0 (a quantifier nest unrolled into 16,384 terms, 1.2 MB of C: -O0 2.3 s, -O1 over 100 s); a
# compiler that takes longer than _COMPILE_SECONDS is given up on, and the search runs in Python.
_O2_SOURCE_BYTES = 256 * 1024
_O1_SOURCE_BYTES = 768 * 1024
_COMPILE_SECONDS = 120
# the most read of a cache entry's digest file (a hex SHA-256 and a newline)
_SIDECAR_BYTES = 128

NO_COMPILER = "no working C compiler (cc, gcc or clang; or set CC)"


class CompilerUnavailable(Exception):
    """No C search for this model here: no compiler works, the compiler failed or was given up
    on, or the library it built would not load. `reason` says which, as the user is told."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

# States with more slots than this are packed and unpacked by a loop, not unrolled code.
_UNROLL_SLOTS = 64

# Status codes shared with the C side.
(RUNNING, DONE, INVARIANT, ASSERTION, MODEL_ERROR, DEADLOCK, MAX_STATES, MAX_DEPTH, NO_MEMORY, OVERFLOW, FINAL,
 MEMORY_LIMIT, TOO_MANY, ACTION, STEP_ERROR, STOPPED, LASSO, LIVE_BUG) = range(18)

# How the liveness check in C (live.c) is told each property's kind.
LIVE_KINDS = {"eventually": 0, "always_eventually": 1, "eventually_always": 2, "leads_to": 3}

# What `qc_import` says about a saved search it was given.
IMPORTED, BAD_PARENT, BAD_STATE, DUPLICATE_STATE, IMPORT_NO_MEMORY = range(5)


@functools.cache
def fixed_c(name: str) -> str:
    """The text of one of the C files shipped with the package (`compile/c/NAME`), the same in
    every program: the runtime, the store, the canonical form, the search and its saving."""
    return resources.files("quiesce_check.compile").joinpath("c", name).read_text(encoding="utf-8")


@dataclass
class _CGen:
    program: Program
    packing: Packing
    symmetry: Symmetry | None = None
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[int, ...]] = field(default_factory=list)
    counter: int = 0
    ranges: list[tuple[int, int]] = field(init=False)  # each slot's (lo, hi), computed once
    # while a step property is written: slots from n on are read from the state after the step
    # (`nxt`), slot 2n is the action taken (`act`); None elsewhere
    after: int | None = None

    def __post_init__(self) -> None:
        self.ranges = [(x.lo, x.hi) for x in self.program.layout.slots]

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    # expressions ------------------------------------------------------------
    def state_of(self, slot: int, cur: str) -> tuple[str, int]:
        """The array a slot is read from, and its place there: a step property's slots from n on
        are the state after the step (`shift_slots` moves a table's slots all together)."""
        n = self.after
        if n is not None and slot >= n:
            return "nxt", slot - n
        return cur, slot

    def slot_of(self, slots: tuple[int, ...], index: I.Expr, cur: str) -> str:
        idx = self.expr(index, cur)
        slots = tuple(self.state_of(x, cur)[1] for x in slots)
        first, n = slots[0], len(slots)
        stride = slots[1] - first if n > 1 else 1
        if all(slots[k] == first + k * stride for k in range(n)):
            return f"{first} + ({idx})" if stride == 1 else f"{first} + ({idx}) * {stride}"
        self.tables.append(slots)
        return f"T{len(self.tables) - 1}[{idx}]"

    def expr(self, e: I.Expr, cur: str) -> str:
        if isinstance(e, I.Const):
            return f"((val){int(e.value)})"
        if isinstance(e, I.Slot):
            if self.after is not None and e.index == 2 * self.after:
                return "act"
            array, place = self.state_of(e.index, cur)
            return f"{array}[{place}]"
        if isinstance(e, I.Table):
            return f"{self.state_of(e.slots[0], cur)[0]}[{self.slot_of(e.slots, e.index, cur)}]"
        if isinstance(e, I.Checked):
            return f"chk({self.expr(e.index, cur)}, {e.size})"
        if isinstance(e, I.Chosen):
            return f"c{e.var}"
        if isinstance(e, I.Un):
            a = self.expr(e.a, cur)
            return f"(val)(!{a})" if e.op == "not" else f"qneg({a})"
        if isinstance(e, I.Ite):
            return f"({self.expr(e.cond, cur)} ? {self.expr(e.then, cur)} : {self.expr(e.orelse, cur)})"
        if isinstance(e, I.Count):
            return "((val)0 + " + " + ".join(f"(val)({self.expr(t, cur)} != 0)" for t in e.terms) + ")"
        if isinstance(e, I.Bin):
            if e.op in ("and", "or"):
                sep = " && " if e.op == "and" else " || "
                return "(val)(" + sep.join(self.expr(x, cur) for x in flatten_chain(e)) + ")"
            a, b = self.expr(e.a, cur), self.expr(e.b, cur)
            ops = {"+": "qadd", "-": "qsub", "*": "qmul", "/": "qdiv", "%": "qmod"}
            if e.op in ops:
                return f"{ops[e.op]}({a}, {b})"
            if e.op == "=>":
                return f"(val)(!{a} || {b})"
            if isinstance(e.a, I.Chosen) and a == b:
                # a bound value compared with itself (a model may say `i == i`): through qcmp, as
                # the compiler warns that such a comparison is always true
                return f"(val)(qcmp({a}, {b}) {e.op} 0)"
            return f"(val)({a} {e.op} {b})"
        raise AssertionError(e)

    # statements -------------------------------------------------------------
    def fail_on_err(self, depth: int, ai: int) -> None:
        self.emit(depth, f"if (err) {{ c->status = err == 3 ? OVERFLOW_ : MODEL_ERROR_; c->where = parent; "
                         f"c->what = {ai}; return produced; }}")

    def block(self, stmts: Sequence[I.Stmt], depth: int, cur: str, ai: int, bail: str,
              chosen: dict[int, tuple[int, int]]) -> None:
        """Code for `stmts`, then the successor: in line while a statement has one
        outcome, in continuation style (the rest repeated per outcome) when it has several."""
        while stmts and straight(stmts[:1]):
            cur, chosen = self.straight(stmts[0], depth, cur, ai, bail, chosen)
            stmts = stmts[1:]
        if not stmts:
            self.emit(depth, "produced++;")
            self.emit(depth, f"if (emit(c, {cur}, {ai})) return produced;")
            return
        s, rest = stmts[0], list(stmts[1:])
        if isinstance(s, I.If):
            v = self.fresh("g")
            self.emit(depth, f"val {v} = {self.expr(s.cond, cur)};")
            self.fail_on_err(depth, ai)
            self.emit(depth, f"if ({v}) {{")
            self.branch(list(s.then) + rest, depth + 1, cur, ai, bail, chosen)
            self.emit(depth, "} else {")
            self.branch(list(s.orelse) + rest, depth + 1, cur, ai, bail, chosen)
            self.emit(depth, "}")
        elif isinstance(s, I.Choice):
            for branch in s.branches:
                self.emit(depth, "do {")
                self.branch(list(branch) + rest, depth + 1, cur, ai, "break;", chosen)
                self.emit(depth, "} while (0);")
        elif isinstance(s, I.Pick):
            vals = ", ".join(str(int(v)) for v in s.values)
            arr, k = self.fresh("pv"), self.fresh("k")
            self.emit(depth, f"static const val {arr}[] = {{{vals}}};")
            self.emit(depth, f"for (int {k} = 0; {k} < {len(s.values)}; {k}++) {{")
            # a value bound and not read is no warning: (void) reads it
            self.emit(depth + 1, f"val c{s.var} = {arr}[{k}]; (void)c{s.var};")
            if s.where is not None:
                v = self.fresh("g")
                self.emit(depth + 1, f"val {v} = {self.expr(s.where, cur)};")
                self.fail_on_err(depth + 1, ai)
                self.emit(depth + 1, f"if (!{v}) continue;")
            ints = [int(v) for v in s.values]
            self.branch(list(s.body) + rest, depth + 1, cur, ai, "continue;",
                        {**chosen, s.var: (min(ints), max(ints))})
            self.emit(depth, "}")
        else:
            raise AssertionError(s)

    def straight(self, s: I.Stmt, depth: int, cur: str, ai: int, bail: str,
                 chosen: dict[int, tuple[int, int]]) -> tuple[str, dict[int, tuple[int, int]]]:
        """Code for one statement with one outcome; gives the state array after it and
        the bounds of the values bound so far."""
        slots = self.ranges
        if isinstance(s, I.Guard):
            v = self.fresh("g")
            self.emit(depth, f"val {v} = {self.expr(s.cond, cur)};")
            self.fail_on_err(depth, ai)
            self.emit(depth, f"if (!{v}) {bail}")
        elif isinstance(s, I.Assert):
            v = self.fresh("g")
            self.emit(depth, f"val {v} = {self.expr(s.cond, cur)};")
            self.fail_on_err(depth, ai)
            self.emit(depth, f"if (!{v}) {{ c->status = ASSERTION_; c->where = parent; c->what = {ai}; "
                             "return produced; }")
        elif isinstance(s, I.Let):
            self.emit(depth, f"val c{s.var} = {self.expr(s.value, cur)}; (void)c{s.var};")
            self.fail_on_err(depth, ai)
            known = bounds(s.value, slots, chosen)
            if known is not None:
                chosen = {**chosen, s.var: known}
        elif isinstance(s, I.Assign):
            values, targets = [], []
            for (tslots, index), value in zip(s.targets, s.values, strict=True):
                v = self.fresh("v")
                self.emit(depth, f"val {v} = {self.expr(value, cur)};")
                target = str(tslots[0]) if index is None else self.fresh("i")
                if index is not None:
                    self.emit(depth, f"val {target} = {self.slot_of(tslots, index, cur)};")
                self.fail_on_err(depth, ai)
                lo, hi = slots[tslots[0]]
                known = bounds(value, slots, chosen)
                if known is None or known[0] < lo or known[1] > hi:
                    self.emit(depth, f"if ({v} < {lo} || {v} > {hi}) {{ c->status = MODEL_ERROR_; "
                                     f"c->where = parent; c->what = {ai}; return produced; }}")
                values.append(v)
                targets.append(target)
            cur = self.private(depth, cur)
            for target, v in zip(targets, values, strict=True):
                self.emit(depth, f"{cur}[{target}] = {v};")
        elif isinstance(s, I.If):
            # both arms write into one private copy, made before the `if` if either arm writes
            if assigns(s.then) or assigns(s.orelse):
                cur = self.private(depth, cur)
            v = self.fresh("g")
            self.emit(depth, f"val {v} = {self.expr(s.cond, cur)};")
            self.fail_on_err(depth, ai)
            self.emit(depth, f"if ({v}) {{")
            arm_chosen = chosen
            for x in s.then:
                _, arm_chosen = self.straight(x, depth + 1, cur, ai, bail, arm_chosen)
            self.emit(depth, "} else {")
            arm_chosen = chosen
            for x in s.orelse:
                _, arm_chosen = self.straight(x, depth + 1, cur, ai, bail, arm_chosen)
            self.emit(depth, "}")
        else:
            raise AssertionError(s)
        return cur, chosen

    def private(self, depth: int, cur: str) -> str:
        """A state array this step may write: `cur` is the expanded state itself."""
        if cur != "cur":
            return cur
        t = self.fresh("t")
        self.emit(depth, f"val {t}[NSLOTS]; memcpy({t}, cur, sizeof {t});")
        return t

    def branch(self, stmts: list[I.Stmt], depth: int, cur: str, ai: int, bail: str,
               chosen: dict[int, tuple[int, int]]) -> None:
        if cur != "cur":
            t = self.fresh("t")
            self.emit(depth, f"val {t}[NSLOTS]; memcpy({t}, {cur}, sizeof {t});")
            cur = t
        self.block(stmts, depth, cur, ai, bail, chosen)

    def action(self, a: I.Action) -> None:
        body = list(a.body)
        if a.pc_slot is not None and body and isinstance(body[0], I.Guard):
            body = body[1:]
        self.emit(2, "do {")
        self.block(body, 3, "cur", a.index, "break;", {})
        self.emit(2, "} while (0);")

    def generate(self, search: str = "bfs") -> str:
        """The whole program: the model's part between the shipped files, each part after the
        ones it uses. Every program has the breadth-first search (and its checkpoints and liveness
        check); `search` adds the partition of a parallel search (its runtime's scratch then one per
        thread: partitions run in threads of one process), the search over fingerprints, or the
        swarm's depth-first search."""
        flags = {"parallel": ["#define QC_THREADS 1", "#define QC_PART 1"],
                 "parallel-dynamic-tls": ["#define QC_THREADS 1", "#define QC_PART 1", "#define QC_DYNAMIC_TLS 1"]
                 }.get(search, [])
        head = [*self.sizes(), *flags, fixed_c("runtime.h"), fixed_c("store.c"), *self.pack_code()]
        expand = self.successors()  # before the properties: fresh names are numbered in this order
        props = self.properties()
        tables = [f"static const int T{k}[] = {{{', '.join(map(str, t))}}};" for k, t in enumerate(self.tables)]
        extra = {"parallel": ["part.c"], "parallel-dynamic-tls": ["part.c"], "fingerprint": ["fp.c"],
                 "swarm": ["swarm.c"]}[search] if search != "bfs" else []
        return "\n".join([*head, *tables, *self.canon(), *props, *expand, fixed_c("bfs.c"), fixed_c("checkpoint.c"),
                          fixed_c("live.c"), *map(fixed_c, extra)])

    def sizes(self) -> list[str]:
        """The model's sizes, and the status codes shared with `engines.native`."""
        p, pk = self.program, self.packing
        n = len(p.layout.slots)
        out = [f"#define NSLOTS {max(1, n)}", f"#define NWORDS {pk.words}",
               f"#define NACT1 {len(p.actions) + 1}", f"#define NGOAL1 {len(p.reachables) + 1}",
               f"#define NEND1 {len(p.end_goals) + 1}", f"#define NINV1 {len(p.invariants) + 1}",
               f"#define NFIN1 {len(p.finals) + 1}", f"#define NSTEP1 {len(p.step_properties) + 1}",
               f"#define NLIVE {len(p.liveness)}"]
        for name, code in (("RUNNING_", RUNNING), ("DONE_", DONE), ("INVARIANT_", INVARIANT),
                           ("ASSERTION_", ASSERTION), ("MODEL_ERROR_", MODEL_ERROR), ("DEADLOCK_", DEADLOCK),
                           ("MAX_STATES_", MAX_STATES), ("MAX_DEPTH_", MAX_DEPTH), ("NO_MEMORY_", NO_MEMORY),
                           ("OVERFLOW_", OVERFLOW), ("FINAL_", FINAL), ("MEMORY_LIMIT_", MEMORY_LIMIT),
                           ("TOO_MANY_", TOO_MANY), ("ACTION_", ACTION), ("STEP_ERROR_", STEP_ERROR),
                           ("STOPPED_", STOPPED), ("LASSO_", LASSO), ("LIVE_BUG_", LIVE_BUG), ("IMPORTED_", IMPORTED), ("BAD_PARENT_", BAD_PARENT),
                           ("BAD_STATE_", BAD_STATE), ("DUPLICATE_STATE_", DUPLICATE_STATE),
                           ("IMPORT_NO_MEMORY_", IMPORT_NO_MEMORY)):
            out.append(f"#define {name} {code}")
        return out

    def pack_code(self) -> list[str]:
        """pack / unpack / in_range: unrolled for narrow states; for wide ones a loop over a table
        of the fields (unrolled, thousands of slots take the C compiler minutes)."""
        pk = self.packing
        out: list[str] = []
        if len(pk.fields) <= _UNROLL_SLOTS:
            out.append("static inline void unpack(const uint64_t *w, val *v) {")
            for k, f in enumerate(pk.fields):
                if f.width == 0:
                    out.append(f"    v[{k}] = {f.lo};")
                else:
                    out.append(f"    v[{k}] = (val)((w[{f.word}] >> {f.shift}) & {f.mask}ULL) + ({f.lo});")
            out.append("}")
            out.append("static inline void pack(const val *v, uint64_t *w) {")
            for wi in range(pk.words):
                parts = [f"((uint64_t)(v[{k}] - ({f.lo})) << {f.shift})" for k, f in enumerate(pk.fields)
                         if f.word == wi and f.width > 0]
                out.append(f"    w[{wi}] = {' | '.join(parts) if parts else '0'};")
            out.append("}")
            out.append("static int in_range(const val *v) {")
            for k, f in enumerate(pk.fields):
                if f.width:
                    out.append(f"    if (v[{k}] > {self.ranges[k][1]}) return 0;")
            out.append("    (void)v; return 1;")
            out.append("}")
        else:
            out.append("static const val HI[] = {" + ", ".join(str(hi) for _, hi in self.ranges) + "};")
            rows = ", ".join(f"{{{f.word}, {f.shift if f.width else 0}, {f.mask}ULL, {f.lo}}}" for f in pk.fields)
            out.append("static const struct { uint32_t word, shift; uint64_t mask; val lo; } FIELDS[] = {"
                       + rows + "};")
            out.append(fixed_c("pack_table.c"))
        return out

    def successors(self) -> list[str]:
        """`expand`: every step from a state, one block per action, dispatched on program counters."""
        p = self.program
        self.lines = []
        self.emit(0, "static int64_t expand(ctx_t *c, const val *cur, uint32_t parent) {")
        self.emit(1, "int64_t produced = 0;")
        self.emit(1, "(void)c; (void)cur; (void)parent;")  # `action a { }` evaluates nothing: no `parent`
        by_pc: dict[int, dict[int, list[I.Action]]] = {}
        plain = []
        for a in p.actions:
            if a.pc_slot is None:
                plain.append(a)
            else:
                by_pc.setdefault(a.pc_slot, {}).setdefault(int(a.pc_value or 0), []).append(a)
        self.emit(1, "err = 0;")
        for slot, cases in by_pc.items():
            self.emit(1, f"switch (cur[{slot}]) {{")
            for value, acts in sorted(cases.items()):
                self.emit(1, f"case {value}:")
                for a in acts:
                    self.action(a)
                self.emit(2, "break;")
            self.emit(1, "default: break;")
            self.emit(1, "}")
        for a in plain:
            self.emit(1, "{")
            self.action(a)
            self.emit(1, "}")
        self.emit(1, "return produced;")
        self.emit(0, "}")
        return list(self.lines)

    def properties(self) -> list[str]:
        """Invariants, final properties, goals, end goals and terminal states over a state."""
        p = self.program
        self.lines = []
        for fname, checked in (("violations", p.invariants), ("finals", p.finals)):
            # every property is evaluated; one that cannot be evaluated sets `err`
            self.emit(0, f"static void {fname}(const val *cur, unsigned char *bad) {{")
            for k, prop in enumerate(checked):
                self.emit(1, f"bad[{k}] = !({self.expr(prop.expr, 'cur')});")
            self.emit(1, "(void)cur; (void)bad;")
            self.emit(0, "}")
        for fname, field_, goals in (("goals", "goal", p.reachables), ("end_goals", "end_goal", p.end_goals)):
            self.emit(0, f"static void {fname}(ctx_t *c, const val *cur, int64_t idx) {{")
            names = []
            for prop in goals:
                # every goal is evaluated on every new state, and none is recorded if one
                # fails to evaluate: as in the Python engines, so errors surface alike
                g = self.fresh("goal")
                names.append(g)
                self.emit(1, f"val {g} = {self.expr(prop.expr, 'cur')};")
                self.emit(1, "if (err) return;")
            for k, g in enumerate(names):
                self.emit(1, f"if ({g} && c->{field_}[{k}] < 0) c->{field_}[{k}] = idx;")
            self.emit(1, "(void)c; (void)cur; (void)idx;")
            self.emit(0, "}")
        self.emit(0, "static int terminal(const val *cur) {")
        self.emit(1, "(void)cur;")
        for prop in p.terminals:
            self.emit(1, f"if ({self.expr(prop.expr, 'cur')}) return 1;")
        if p.end_pcs:
            self.emit(1, "return " + " && ".join(f"cur[{slot}] == {v}" for slot, v in p.end_pcs) + ";")
        else:
            self.emit(1, "return 0;")
        self.emit(0, "}")
        self.temporal()
        return list(self.lines)

    def temporal(self) -> None:
        """The step properties over a step (the state before, after, the action: `step_violations`)
        and each liveness instance's `p` (bit 0) and `q` (bit 1) over a state (`temporal`)."""
        p = self.program
        self.emit(0, "static void step_violations(const val *cur, const val *nxt, val act, unsigned char *bad) {")
        self.after = len(p.layout.slots)
        for k, prop in enumerate(p.step_properties):
            self.emit(1, f"bad[{k}] = !({self.expr(prop.expr, 'cur')});")
        self.after = None
        self.emit(1, "(void)cur; (void)nxt; (void)act; (void)bad;")
        self.emit(0, "}")
        self.emit(0, "static int temporal(int k, const val *cur) {")
        self.emit(1, "(void)cur;")
        self.emit(1, "switch (k) {")
        for k, live in enumerate(p.liveness):
            # both are evaluated, as the Python backend's `temporal` does: an error in either counts
            q = "0" if live.q is None else self.expr(live.q, "cur")
            self.emit(1, f"case {k}: {{ int p = {self.expr(live.p, 'cur')} != 0; int q = {q} != 0; "
                         "return p | q << 1; }")
        self.emit(1, "default: return 0;")
        self.emit(1, "}")
        self.emit(0, "}")

    def canon(self) -> list[str]:
        """`canon(v)`: the canonical form of state `v` under the permutations of the symmetric
        types' values (as `Symmetry.canon` computes it), for every successor before it is stored."""
        sym = self.symmetry
        if sym is None or len(sym) < 2:
            return []
        width = max(len(t.values) for t in sym.types)
        out = ["#define QC_SYMMETRY 1", f"#define NPERM {len(sym)}", f"#define NSYMT {len(sym.types)}",
               f"#define SYMW {width}", f"#define MAXCAND {math.factorial(width)}"]

        def table(ctype: str, name: str, values: Sequence[int]) -> None:
            out.append(f"static const {ctype} {name}[] = {{{', '.join(map(str, values)) or '0'}}};")

        out.append("static const uint32_t PSRC[NPERM][NSLOTS] = {"
                   + ", ".join("{" + ", ".join(map(str, p.src)) + "}" for p in sym.perms) + "};")
        table("int32_t", "SYMT", sym.slot_type)
        table("val", "SYMLO", [t.values[0] for t in sym.types])
        table("int32_t", "SYMN", [len(t.values) for t in sym.types])
        table("int32_t", "INERT", [int(x) for x in sym.inert])
        table("uint64_t", "RADIX", sym.radix)
        table("val", "SLOT_LO", sym.slot_lo)
        offsets: list[int] = []
        slots: list[int] = []
        classes: list[int] = []
        hows: list[int] = []
        hold_offsets: list[int] = []
        hold_slots: list[int] = []
        hold_classes: list[int] = []
        for sig in sym.signatures:
            for i in range(width + 1):
                offsets.append(len(slots))
                if i < len(sig.related):
                    for j, cls, how in sig.related[i]:
                        slots.append(j)
                        classes.append(cls)
                        hows.append(how)
            hold_offsets.append(len(hold_slots))
            for j, cls in sig.holders:
                hold_slots.append(j)
                hold_classes.append(cls)
        hold_offsets.append(len(hold_slots))
        table("int32_t", "REL_OFF", offsets)
        table("uint32_t", "REL_SLOT", slots)
        table("uint32_t", "REL_CLS", classes)
        table("uint8_t", "REL_HOW", hows)
        table("int32_t", "HOLD_OFF", hold_offsets)
        table("uint32_t", "HOLD_SLOT", hold_slots)
        table("uint32_t", "HOLD_CLS", hold_classes)
        rows = []
        for p in sym.perms:
            per_type = []
            for t, img in zip(sym.types, p.images, strict=True):
                images = [t.values[j] for j in img] + [0] * (width - len(img))
                per_type.append("{" + ", ".join(map(str, images)) + "}")
            rows.append("{" + ", ".join(per_type) + "}")
        out.append("static const val PVAL[NPERM][NSYMT][SYMW] = {" + ", ".join(rows) + "};")
        out.append(fixed_c("canon.c"))
        return out


# Constants, ranges and initial values must stay well inside int64 in C.
_C_LIMIT = 1 << 62


class _Recent:
    """Values this process keeps for a few objects, by identity (at most `size`, the oldest
    dropped). Each entry holds the objects of its key, so no other object can take their ids."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: dict[tuple[int, ...], tuple[tuple[object, ...], Any]] = {}

    def find(self, held: tuple[object, ...]) -> Any:
        hit = self.items.get(tuple(map(id, held)))
        return hit[1] if hit is not None else None

    def put(self, held: tuple[object, ...], value: Any) -> Any:
        if len(self.items) >= self.size:
            self.items.pop(next(iter(self.items)))
        self.items[tuple(map(id, held))] = (held, value)
        return value


# fits_int64 of the last programs asked about (a hook's ablation asks once per search)
_FITS = _Recent(8)
# the libraries `pin` keeps loaded, by program
_PINNED = _Recent(4)


def fits_int64(program: Program) -> bool:
    """Whether every number the model holds fits the C search's 64-bit arithmetic."""
    known = _FITS.find((program,))
    return bool(known) if known is not None else bool(_FITS.put((program,), _fits_int64(program)))


def _fits_int64(program: Program) -> bool:
    def ok(v: object) -> bool:
        return -_C_LIMIT < int(v) < _C_LIMIT  # type: ignore[call-overload]

    if not all(ok(s.lo) and ok(s.hi) for s in program.layout.slots):
        return False
    if not all(ok(v) for state in program.initial for v in state):
        return False
    todo: list[object] = [a.body for a in program.actions]
    todo += [p.expr for p in (*program.invariants, *program.reachables, *program.terminals, *program.finals,
                              *program.end_goals)]
    todo += [sp.expr for sp in program.step_properties] + [(live.p, live.q) for live in program.liveness]
    while todo:
        x = todo.pop()
        if isinstance(x, tuple | list):
            todo.extend(x)
        elif isinstance(x, I.Const):
            if not ok(x.value):
                return False
        elif isinstance(x, I.Pick):
            if not all(ok(v) for v in x.values):
                return False
            todo += [x.where, x.body]
        elif x is not None and hasattr(x, "__dataclass_fields__"):
            todo.extend(getattr(x, f) for f in x.__dataclass_fields__)
    return True


# the searches a program can be built for (`generate_c`, `load_native`)
SEARCHES = ("bfs", "parallel", "parallel-dynamic-tls", "fingerprint", "swarm")
# what a loader says when the process's reserve of static thread-local storage is used up
STATIC_TLS_FULL = "static TLS"


def generate_c(program: Program, symmetry: Symmetry | None = None, search: str = "bfs") -> tuple[str, Packing]:
    if search not in SEARCHES:
        raise ValueError(f"no search {search!r}: one of {', '.join(SEARCHES)}")
    packing = pack_layout(program.layout)
    return _CGen(program, packing, symmetry).generate(search), packing


class NativeLib:
    """The loaded shared library of one model, with its ctypes signatures."""

    def __init__(self, path: Path, packing: Packing, nslots: int) -> None:
        self.lib = ctypes.CDLL(str(path))
        self.packing = packing
        self.nslots = max(1, nslots)
        L = self.lib
        L.qc_new.restype = ctypes.c_void_p
        L.qc_new.argtypes = [ctypes.c_uint64, ctypes.c_uint64, ctypes.c_int, ctypes.c_int, ctypes.c_uint64,
                             ctypes.c_int]
        L.qc_firsts.argtypes = [ctypes.c_void_p] + [ctypes.POINTER(ctypes.c_int64)] * 4
        L.qc_free.argtypes = [ctypes.c_void_p]
        L.qc_add_initial.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)]
        L.qc_run.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        L.qc_stats.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64)]
        L.qc_coverage.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64),
                                  ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_int64)]
        L.qc_state.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.POINTER(ctypes.c_int64)]
        L.qc_parent.restype = ctypes.c_uint32
        L.qc_parent.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        u64p, i64p = ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_int64)
        L.qc_point.argtypes = [ctypes.c_void_p, u64p, u64p, u64p, i64p, i64p, i64p, i64p, i64p]
        L.qc_pending.argtypes = [ctypes.c_void_p, i64p]
        L.qc_states.restype = ctypes.c_void_p
        L.qc_states.argtypes = [ctypes.c_void_p]
        L.qc_parents.restype = ctypes.c_void_p
        L.qc_parents.argtypes = [ctypes.c_void_p]
        L.qc_reserve.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        L.qc_import.argtypes = [ctypes.c_void_p, ctypes.c_uint64, u64p, u64p, u64p, i64p, i64p, i64p, i64p,
                                ctypes.c_int64]
        L.qc_step_firsts.argtypes = [ctypes.c_void_p, i64p, i64p]
        # the liveness check (live.c); `stop` is an int the engine sets to end a check
        u32p, stop = ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_int)
        L.qc_live_setup.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint8), u64p]
        L.qc_live_graph.argtypes = [ctypes.c_void_p, stop]
        L.qc_live_scan.argtypes = [ctypes.c_void_p, stop, i64p]
        L.qc_live_check.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, stop]
        L.qc_live_lasso.restype = ctypes.c_uint64
        L.qc_live_lasso.argtypes = [ctypes.c_void_p, u32p, u32p, u64p]
        L.qc_live_bytes.argtypes = [ctypes.c_void_p, u64p]
        # the entry points of the program's own search (swarm.c, fp.c, part.c) are declared by the
        # engine that runs it


def compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _read_regular(path: Path, read: Callable[[BufferedReader], str]) -> tuple[os.stat_result, str] | None:
    """What `read` gives of the regular file at `path` (opened without following a link), with
    the file's status; None when there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        return st, read(f)


def _digest_of(path: Path) -> tuple[os.stat_result, str] | None:
    """The file at `path` and the SHA-256 of its contents."""
    return _read_regular(path, lambda f: hashlib.file_digest(f, "sha256").hexdigest())


def _recorded(sidecar: Path) -> tuple[os.stat_result, str] | None:
    """The digest a sidecar file records, and the file's status."""
    return _read_regular(sidecar, lambda f: f.read(_SIDECAR_BYTES).decode("ascii", "replace").strip())


def _verified(lib: Path, sidecar: Path) -> bool:
    """A cache entry this user built: both files the user's own, writable by no one else, and the
    library's contents those whose digest was recorded when it was built."""
    got, want = _digest_of(lib), _recorded(sidecar)
    if got is None or want is None:
        return False
    (lst, digest), (sst, recorded) = got, want
    return trusted(lst) and trusted(sst) and hmac.compare_digest(digest, recorded)


def _load(path: Path, packing: Packing, nslots: int) -> NativeLib:
    try:
        return NativeLib(path, packing, nslots)
    except (OSError, AttributeError) as e:
        raise CompilerUnavailable(f"the compiled search could not be loaded: {e}") from None


def compile_flags(source: str) -> list[str]:
    """The compiler's options for `source`, warnings on: -O2 pays for itself on ordinary models;
    on very large sources (quantifiers over thousands of values unroll into long expressions) it
    costs the compiler minutes, -O1 or -O0 seconds."""
    opt = "-O2" if len(source) <= _O2_SOURCE_BYTES else "-O1" if len(source) <= _O1_SOURCE_BYTES else "-O0"
    return [opt, "-Wall", "-Wextra", "-shared", "-fPIC"]


def _marked(path: Path) -> bool:
    """Whether the marker at `path` is a regular file of this user's, writable by no one else."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and trusted(st)


def _compile(argv: list[str], source: str, folder: Path, deadline: Deadline | None) -> Path:
    """The library `argv` builds from `source` in `folder` (private), mode 0700."""
    src = folder / "model.c"
    src.write_text(source)
    out = folder / "model.so"
    r = run_compiler([*argv, "-o", str(out), str(src)], _COMPILE_SECONDS, deadline)
    if r.returncode != 0:
        raise CompilerUnavailable(f"{argv[0]} could not compile this model's C: {r.stderr.strip()[:300]}")
    os.chmod(out, 0o700)
    return out


def pin(program: Program, deadline: Deadline | None = None) -> NativeLib:
    """`program`'s breadth-first search library, built or loaded now and kept: every later
    `load_native` of the same program object in this process (and in processes forked from it)
    gives it without generating and hashing the C again. For a hook's ablation, which runs one
    compiled model from many initial states, where that would cost more than each search."""
    lib: NativeLib = _PINNED.put((program,), build_native(program, None, deadline))
    return lib


def load_native(program: Program, symmetry: Symmetry | None = None, deadline: Deadline | None = None,
                search: str = "bfs") -> NativeLib:
    """The library `pin` keeps for `program`, or `build_native`'s."""
    if symmetry is None and search == "bfs":
        pinned: NativeLib | None = _PINNED.find((program,))
        if pinned is not None:
            return pinned
    return build_native(program, symmetry, deadline, search)


def build_native(program: Program, symmetry: Symmetry | None = None, deadline: Deadline | None = None,
                 search: str = "bfs") -> NativeLib:
    """Compile (or reuse) the model's search library, storing each state's canonical form under
    `symmetry` when it is given. `CompilerUnavailable`, saying why, when no C compiler is usable;
    `TimeLimit` when `deadline` passes while the compiler runs (it is stopped, and its temporary
    folder removed).

    The cache is trusted only as far as it is private: its folder must be the user's own and
    writable by no one else (it is made so, mode 0700, or a private temporary folder is used
    instead); an entry is loaded only when the library and the SHA-256 of it recorded at build
    time are both the user's, writable by no one else, and agree. Anything else (planted,
    loosened, truncated, damaged) is built again. A library is built in a private temporary
    folder, loaded from there, and only then renamed into the cache. An entry is named by the
    hash of the compiler, its options and the whole source, the shipped C files included."""
    cc = compiler()
    if cc is None:
        raise CompilerUnavailable(NO_COMPILER)
    source, packing = generate_c(program, symmetry, search)
    nslots = len(program.layout.slots)
    argv = [cc, *compile_flags(source)]
    digest = hashlib.sha256("\0".join([*argv, source]).encode()).hexdigest()[:24]
    cache = private_dir(cache_dir())
    why = NO_COMPILER  # said when a built library cannot be read, unless a cached one failed to load
    if cache is not None:
        target, sidecar = cache / f"qc_{digest}.so", cache / f"qc_{digest}.sha256"
        gave_up = cache / f"qc_{digest}.timeout"  # a compile given up on is not tried again
        if _verified(target, sidecar):
            try:
                lib = _load(target, packing, nslots)
                with contextlib.suppress(OSError):  # its age is its last use: pruned last
                    os.utime(target, follow_symlinks=False)
                return lib
            except CompilerUnavailable as e:
                why = e.reason  # and it is built again
        if _marked(gave_up):
            raise CompilerUnavailable(f"{cc} took longer than {_COMPILE_SECONDS} s on this model's C before")
    try:
        with tempfile.TemporaryDirectory(dir=cache, prefix="qc-build-") as tmp:
            out = _compile(argv, source, Path(tmp), deadline)
            built = _digest_of(out)
            if built is None:
                raise CompilerUnavailable(why)
            lib = _load(out, packing, nslots)
            if cache is not None:
                with contextlib.suppress(OSError):
                    # the digest first: a reader that sees the new library sees its digest
                    write_atomic(sidecar, (built[1] + "\n").encode("ascii"), mode=0o600)
                    os.replace(out, target)
                    prune(cache, cap_bytes(), keep=target.stem)
            return lib
    except subprocess.TimeoutExpired:
        if cache is not None:
            with contextlib.suppress(OSError):
                write_atomic(gave_up, b"", mode=0o600)
        raise CompilerUnavailable(f"{cc} took longer than {_COMPILE_SECONDS} s on this model's C") from None
    except (OSError, subprocess.SubprocessError) as e:
        raise CompilerUnavailable(f"the C search could not be built: {e}") from None
