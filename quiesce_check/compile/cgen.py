"""Stage 4, native: IR to a C breadth-first search, compiled with the system compiler.

Takes a `lower.Program`; gives C source (`generate_c`) for a shared library
that runs the whole breadth-first search: the successor function (one block
per action, dispatched on program counters, as the Python backend does),
invariants, goals and terminal states over unpacked slot values, states
packed into 64-bit words (`packing.Packing`) kept in one array in discovery
order, a parent index per state, and an open-addressing table of state
indices. Given a `symmetry.Symmetry`, every successor is replaced by its
canonical form (the one `Symmetry.canon` computes) before it is stored. `load_native` compiles it (`cc -O2 -shared`, -O1 for very large
sources) in a private temporary folder and loads it with ctypes; it keeps the library in a cache
named by the source's hash, trusted only as far as it is private (see `load_native`). It returns
None when no compiler works, and the caller falls back to the Python engine.

The C text holds only numbers and internal names: nothing from the model
reaches it. Arithmetic is checked for overflow; an overflow, like an
out-of-range value, index or a division by zero, stops the search with the
state and action, and the caller rebuilds the error with the Python backend.
Imports `compile.*` and `safe_write`.
"""

from __future__ import annotations

import contextlib
import ctypes
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
from io import BufferedReader
from pathlib import Path

from quiesce_check.compile import ir as I
from quiesce_check.compile.bounds import bounds
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

# why the last `load_native` that gave None did so
_last_failure = "no working C compiler (cc, gcc or clang; or set CC)"


def last_failure() -> str:
    return _last_failure

# States with more slots than this are packed and unpacked by a loop, not unrolled code.
_UNROLL_SLOTS = 64

# Status codes shared with the C side.
(RUNNING, DONE, INVARIANT, ASSERTION, MODEL_ERROR, DEADLOCK, MAX_STATES, MAX_DEPTH, NO_MEMORY, OVERFLOW, FINAL,
 MEMORY_LIMIT, TOO_MANY) = range(13)

# What `qc_import` says about a saved search it was given.
IMPORTED, BAD_PARENT, BAD_STATE, DUPLICATE_STATE, IMPORT_NO_MEMORY = range(5)

_RUNTIME = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t val;
static int err;   /* 1 index out of range, 2 division by zero, 3 overflow */

static inline val qadd(val a, val b) { val r; if (__builtin_add_overflow(a, b, &r)) { if (!err) err = 3; return 0; } return r; }
static inline val qsub(val a, val b) { val r; if (__builtin_sub_overflow(a, b, &r)) { if (!err) err = 3; return 0; } return r; }
static inline val qmul(val a, val b) { val r; if (__builtin_mul_overflow(a, b, &r)) { if (!err) err = 3; return 0; } return r; }
static inline val qneg(val a) { if (a == INT64_MIN) { if (!err) err = 3; return 0; } return -a; }
static inline val qdiv(val a, val b) {
    if (b == 0) { if (!err) err = 2; return 0; }
    if (a == INT64_MIN && b == -1) { if (!err) err = 3; return 0; }
    val q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) q--; return q;
}
static inline val qmod(val a, val b) {
    if (b == 0) { if (!err) err = 2; return 0; }
    if (b == -1) return 0;
    val r = a % b; if (r != 0 && ((r < 0) != (b < 0))) r += b; return r;
}
static inline val chk(val i, val n) { if (i < 0 || i >= n) { if (!err) err = 1; return 0; } return i; }

typedef struct {
    uint64_t *states;      /* NWORDS words per state, in discovery order */
    uint32_t *parent;
    uint64_t n, cap;
    uint32_t *table;       /* state index + 1; 0 = empty */
    uint64_t tcap;
    uint64_t head, level_end, depth;
    uint64_t generated;
    uint64_t fired[NACT1], fresh[NACT1];
    int64_t goal[NGOAL1];
    int64_t end_goal[NEND1];  /* first state without successors where each final's premise holds */
    int64_t inv_first[NINV1], fin_first[NFIN1], deadlock_first;  /* first violation of each, -1: none */
    int status;
    int64_t where, what;   /* state index; action, invariant or assertion */
    uint64_t max_states;   /* 0: no limit */
    uint64_t max_depth;    /* UINT64_MAX: no limit */
    int check_deadlock;
    int keep_going;        /* go on past violations, keeping the first of each property */
    uint64_t mem_limit;    /* bytes the tables may take; 0: no limit */
    /* the expansion under way: states from `mark` on are its new ones, and the first
       `committed` buffered successors have been counted (see qc_point) */
    uint64_t mark, committed;
    /* finishing: a violation one step below this level was found (noted in pend_*); the rest of
       the level is checked for ends only, which are a step shorter */
    int finishing, pend_status;
    int64_t pend_where, pend_what;
    /* where a saved search stands while the level is finished: before the expansion that met
       the violation (its state, the states before it, the counters before it) */
    uint64_t rb_n, rb_head, rb_generated;
    uint64_t rb_fired[NACT1], rb_fresh[NACT1];
    /* the successors of the state being expanded, committed only once its
       expansion completes: a step that fails leaves no partial expansion behind */
    uint64_t *succ; int32_t *succ_action; uint64_t nsucc, succ_cap;
} ctx_t;

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
    return x;
}
static inline uint64_t hash_words(const uint64_t *w) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < NWORDS; i++) h = mix(h ^ w[i]) + (uint64_t)i;
    return h;
}

static uint64_t mem_used(const ctx_t *c) {
    return c->tcap * sizeof *c->table + c->cap * (NWORDS * sizeof *c->states + sizeof *c->parent)
         + c->succ_cap * (NWORDS * sizeof *c->succ + sizeof *c->succ_action);
}
/* room for `extra` more bytes under the memory limit */
static int fits(const ctx_t *c, uint64_t extra) { return !c->mem_limit || mem_used(c) + extra <= c->mem_limit; }

/* 1: grown; 0: out of memory; -1: the memory limit forbids it */
static int grow_table(ctx_t *c) {
    uint64_t ncap = c->tcap ? c->tcap * 2 : 1024;
    if (c->tcap && !fits(c, (ncap - c->tcap) * sizeof *c->table)) return -1;
    uint32_t *t = calloc(ncap, sizeof *t);
    if (!t) return 0;
    for (uint64_t i = 0; i < c->n; i++) {
        uint64_t h = hash_words(c->states + i * NWORDS) & (ncap - 1);
        while (t[h]) h = (h + 1) & (ncap - 1);
        t[h] = (uint32_t)(i + 1);
    }
    free(c->table); c->table = t; c->tcap = ncap;
    return 1;
}

/* room for at least `want` states; 1: grown; 0: out of memory; -1: the memory limit forbids it */
static int grow_store_to(ctx_t *c, uint64_t want) {
    uint64_t ncap = c->cap ? c->cap * 2 : 4096;
    if (ncap < want) ncap = want;
    uint64_t per = NWORDS * sizeof *c->states + sizeof *c->parent;
    if (c->cap && !fits(c, (ncap - c->cap) * per)) {
        /* not twice as much: as much as the limit leaves */
        uint64_t room = c->mem_limit > mem_used(c) ? (c->mem_limit - mem_used(c)) / per : 0;
        if (c->cap + room < want || room == 0) return -1;
        ncap = c->cap + room;
    }
    uint64_t *s = realloc(c->states, ncap * NWORDS * sizeof *s);
    if (!s) return 0;
    c->states = s;
    uint32_t *p = realloc(c->parent, ncap * sizeof *p);
    if (!p) return 0;
    c->parent = p; c->cap = ncap;
    return 1;
}
static int grow_store(ctx_t *c) { return grow_store_to(c, c->n + 1); }

static void set_memory_status(ctx_t *c, int grown) { c->status = grown < 0 ? MEMORY_LIMIT_ : NO_MEMORY_; }

static int emit(ctx_t *c, const val *t, int action);

/* -1: already seen; otherwise the new state's index; -2: stop (status set) */
static int64_t insert(ctx_t *c, const uint64_t *w, uint32_t parent) {
    /* grow at 70 % load: linear probing stays short, the table costs 6-11 bytes a state */
    if ((c->n + 1) * 10 > c->tcap * 7) {
        int g = grow_table(c);
        if (g <= 0) { set_memory_status(c, g); return -2; }
    }
    uint64_t h = hash_words(w) & (c->tcap - 1);
    while (c->table[h]) {
        if (memcmp(c->states + (uint64_t)(c->table[h] - 1) * NWORDS, w, NWORDS * sizeof *w) == 0) return -1;
        h = (h + 1) & (c->tcap - 1);
    }
    if (c->max_states && c->n >= c->max_states) { c->status = MAX_STATES_; return -2; }
    if (c->n >= 0xfffffffeULL) { c->status = TOO_MANY_; return -2; }
    if (c->n == c->cap) {
        int g = grow_store(c);
        if (g <= 0) { set_memory_status(c, g); return -2; }
    }
    memcpy(c->states + c->n * NWORDS, w, NWORDS * sizeof *w);
    c->parent[c->n] = parent;
    c->table[h] = (uint32_t)(c->n + 1);
    return (int64_t)c->n++;
}
"""

# The canonical form `Symmetry.canon` computes: each value's signature (a sum of hashes over
# its related slots), the permutations that sort each type's values by signature (every order
# among equal ones, enumerated group by group), and the least of their images (slot order, as
# Python compares tuples; an image is abandoned at its first slot greater than the least).
_CANON = r"""
static inline uint64_t sig_term(uint64_t cls, uint64_t code) {
    return mix(((cls + 1) << 32) ^ (code & 0xffffffffULL));
}
static int next_perm(int *a, int n) {   /* the next arrangement in order; 0 (and sorted) after the last */
    int i = n - 2, t;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i >= 0) {
        int j = n - 1;
        while (a[j] <= a[i]) j--;
        t = a[i]; a[i] = a[j]; a[j] = t;
    }
    for (int l = i + 1, r = n - 1; l < r; l++, r--) { t = a[l]; a[l] = a[r]; a[r] = t; }
    return i >= 0;
}
static uint64_t lehmer(const int *img, int n) {
    static const uint64_t F[] = {1, 1, 2, 6, 24, 120, 720, 5040, 40320};
    uint64_t r = 0;
    for (int i = 0; i < n; i++) {
        uint64_t smaller = 0;
        for (int j = i + 1; j < n; j++) smaller += img[j] < img[i];
        r += smaller * F[n - 1 - i];
    }
    return r;
}
static void canon(val *v) {
    static uint32_t cand[NSYMT][MAXCAND];
    int ncand[NSYMT];
    for (int k = 0; k < NSYMT; k++) {
        if (INERT[k]) { cand[k][0] = 0; ncand[k] = 1; continue; }
        int n = SYMN[k], order[SYMW], gstart[SYMW], glen[SYMW], ng = 0, img[SYMW];
        uint64_t sig[SYMW];
        for (int i = 0; i < n; i++) {
            uint64_t s = 0;
            val me = SYMLO[k] + i;
            for (int r = REL_OFF[k * (SYMW + 1) + i]; r < REL_OFF[k * (SYMW + 1) + i + 1]; r++) {
                val x = v[REL_SLOT[r]];
                uint64_t code = REL_HOW[r] == 0 ? (uint64_t)(x - SLOT_LO[REL_SLOT[r]])
                              : REL_HOW[r] == 1 ? (uint64_t)(x != me) : 0;
                s += sig_term(REL_CLS[r], code);
            }
            for (int h = HOLD_OFF[k]; h < HOLD_OFF[k + 1]; h++)
                if (v[HOLD_SLOT[h]] == me) s += sig_term(HOLD_CLS[h], 2);
            sig[i] = s;
            int p = i;   /* insertion sort by signature; equal ones stay in ascending order */
            while (p > 0 && sig[order[p - 1]] > s) { order[p] = order[p - 1]; p--; }
            order[p] = i;
        }
        for (int p = 0; p < n; p++) {
            if (ng && sig[order[p]] == sig[order[gstart[ng - 1]]]) glen[ng - 1]++;
            else { gstart[ng] = p; glen[ng] = 1; ng++; }
        }
        ncand[k] = 0;
        for (;;) {
            for (int p = 0; p < n; p++) img[order[p]] = p;
            cand[k][ncand[k]++] = (uint32_t)lehmer(img, n);
            int g = ng - 1;
            while (g >= 0 && !next_perm(order + gstart[g], glen[g])) g--;
            if (g < 0) break;
        }
    }
    val best[NSLOTS], cur[NSLOTS];
    int have = 0, at[NSYMT];
    memset(at, 0, sizeof at);
    for (;;) {
        uint64_t p = 0;
        for (int k = 0; k < NSYMT; k++) p += (uint64_t)cand[k][at[k]] * RADIX[k];
        int less = !have;
        for (int j = 0; j < NSLOTS; j++) {
            val x = v[PSRC[p][j]];
            int t = SYMT[j];
            if (t >= 0) x = PVAL[p][t][x - SYMLO[t]];
            cur[j] = x;
            if (!less) {
                if (x > best[j]) goto next;
                if (x < best[j]) less = 1;
            }
        }
        if (less) { memcpy(best, cur, sizeof best); have = 1; }
    next:;
        int k = NSYMT - 1;
        while (k >= 0 && ++at[k] == ncand[k]) { at[k] = 0; k--; }
        if (k < 0) break;
    }
    memcpy(v, best, sizeof best);
}
"""

_DRIVER = r"""
static int check_new(ctx_t *c, const val *v, int64_t idx) {
    unsigned char bad[NINV1];
    err = 0;
    memset(bad, 0, sizeof bad);
    violations(v, bad);
    if (err) { c->status = err == 3 ? OVERFLOW_ : MODEL_ERROR_; c->where = idx; c->what = -1; return 1; }
    for (int k = 0; k < NINV1 - 1; k++) {
        if (!bad[k] || c->inv_first[k] >= 0) continue;
        c->inv_first[k] = idx;
        if (!c->keep_going) { c->status = INVARIANT_; c->where = idx; c->what = k; return 1; }
    }
    goals(c, v, idx);
    if (err) { c->status = err == 3 ? OVERFLOW_ : MODEL_ERROR_; c->where = idx; c->what = -1; return 1; }
    return 0;
}

/* a state without successors: final-state properties, end goals, deadlock */
static int check_end(ctx_t *c, const val *v, int64_t idx) {
    unsigned char bad[NFIN1];
    err = 0;
    memset(bad, 0, sizeof bad);
    finals(v, bad);
    end_goals(c, v, idx);
    if (err) { c->status = err == 3 ? OVERFLOW_ : MODEL_ERROR_; c->where = idx; c->what = -1; return 1; }
    for (int k = 0; k < NFIN1 - 1; k++) {
        if (!bad[k] || c->fin_first[k] >= 0) continue;
        c->fin_first[k] = idx;
        if (!c->keep_going) { c->status = FINAL_; c->where = idx; c->what = k; return 1; }
    }
    if (!c->check_deadlock) return 0;
    int term = terminal(v);
    if (err) { c->status = err == 3 ? OVERFLOW_ : MODEL_ERROR_; c->where = idx; c->what = -1; return 1; }
    if (!term && c->deadlock_first < 0) {
        c->deadlock_first = idx;
        if (!c->keep_going) { c->status = DEADLOCK_; c->where = idx; return 1; }
    }
    return 0;
}

/* buffer one successor; nonzero when memory ran out (status set) */
static int emit(ctx_t *c, const val *t, int action) {
    if (c->nsucc == c->succ_cap) {
        uint64_t ncap = c->succ_cap ? c->succ_cap * 2 : 64;
        if (!fits(c, (ncap - c->succ_cap) * (NWORDS * sizeof *c->succ + sizeof *c->succ_action))) {
            c->status = MEMORY_LIMIT_; return 1;
        }
        uint64_t *s = realloc(c->succ, ncap * NWORDS * sizeof *s);
        if (!s) { c->status = NO_MEMORY_; return 1; }
        c->succ = s;
        int32_t *a = realloc(c->succ_action, ncap * sizeof *a);
        if (!a) { c->status = NO_MEMORY_; return 1; }
        c->succ_action = a; c->succ_cap = ncap;
    }
#ifdef QC_SYMMETRY
    val least[NSLOTS];
    memcpy(least, t, sizeof least);
    canon(least);
    t = least;
#endif
    pack(t, c->succ + c->nsucc * NWORDS);
    c->succ_action[c->nsucc++] = action;
    return 0;
}

/* insert the buffered successors of state `parent`, checking each new one */
static int commit(ctx_t *c, uint32_t parent) {
    val t[NSLOTS];
    for (uint64_t i = 0; i < c->nsucc; i++) {
        const uint64_t *w = c->succ + i * NWORDS;
        int action = c->succ_action[i];
        c->generated++;
        c->fired[action]++;
        c->committed = i + 1;
        int64_t idx = insert(c, w, parent);
        if (idx == -2) return 1;
        if (idx == -1) continue;
        c->fresh[action]++;
        unpack(w, t);
        if (check_new(c, t, idx)) return 1;
    }
    return 0;
}

ctx_t *qc_new(uint64_t max_states, uint64_t max_depth, int check_deadlock, int keep_going, uint64_t mem_limit) {
    ctx_t *c = calloc(1, sizeof *c);
    if (!c) return 0;
    c->max_states = max_states; c->max_depth = max_depth; c->check_deadlock = check_deadlock;
    c->keep_going = keep_going; c->mem_limit = mem_limit;
    for (int i = 0; i < NGOAL1; i++) c->goal[i] = -1;
    for (int i = 0; i < NEND1; i++) c->end_goal[i] = -1;
    for (int i = 0; i < NINV1; i++) c->inv_first[i] = -1;
    for (int i = 0; i < NFIN1; i++) c->fin_first[i] = -1;
    c->deadlock_first = -1;
    if (!grow_table(c) || !grow_store(c)) { free(c->table); free(c->states); free(c->parent); free(c); return 0; }
    return c;
}

void qc_free(ctx_t *c) {
    if (!c) return;
    free(c->table); free(c->states); free(c->parent); free(c->succ); free(c->succ_action); free(c);
}

/* 0: added or already present; otherwise the search is over (status set) */
int qc_add_initial(ctx_t *c, const val *v) {
    uint64_t w[NWORDS];
    pack(v, w);
    c->mark = 0; c->committed = 0;
    c->generated++;
    int64_t idx = insert(c, w, 0xffffffffU);
    if (idx == -2) return 1;
    if (idx == -1) return 0;
    if (check_new(c, v, idx)) return 1;
    c->level_end = c->n;
    return 0;
}

/* a violation the rest of the level may beat: it is noted, and the level finished */
static void undo_expansion(const ctx_t *c, uint64_t *generated, uint64_t *fired, uint64_t *fresh);

static int deferred(ctx_t *c) {
    if (c->status != INVARIANT_ && c->status != ASSERTION_ && c->status != MODEL_ERROR_) return 0;
    c->finishing = 1; c->pend_status = c->status; c->pend_where = c->where; c->pend_what = c->what;
    c->rb_n = c->mark; c->rb_head = c->head; c->rb_generated = c->generated;
    memcpy(c->rb_fired, c->fired, sizeof c->fired); memcpy(c->rb_fresh, c->fresh, sizeof c->fresh);
    undo_expansion(c, &c->rb_generated, c->rb_fired, c->rb_fresh);
    c->status = 0;
    return 1;
}

int qc_run(ctx_t *c, uint64_t budget) {
    val cur[NSLOTS];
    if (c->status) return c->status;
    /* a slice ends after `budget` expansions or about four million successors, whichever comes
       first, so that time limits and Ctrl-C are seen promptly however many successors a state has */
    uint64_t until = c->generated + (1ULL << 22);
    while (budget-- && c->generated < until) {
        if (c->finishing && c->head == c->level_end) {
            c->status = c->pend_status; c->where = c->pend_where; c->what = c->pend_what;
            return c->status;
        }
        if (c->head == c->n) { c->status = DONE_; return c->status; }
        if (c->head == c->level_end) { c->depth++; c->level_end = c->n; }
        if (!c->finishing && c->depth >= c->max_depth) { c->status = MAX_DEPTH_; return c->status; }
        uint64_t idx = c->head;
        unpack(c->states + idx * NWORDS, cur);
        c->nsucc = 0;
        c->mark = c->n; c->committed = 0;
        int64_t produced = expand(c, cur, (uint32_t)idx);
        if (c->finishing) {
            if (c->status == OVERFLOW_ || c->status == NO_MEMORY_ || c->status == MEMORY_LIMIT_) return c->status;
            if (c->status) c->status = 0;   /* a step fails there: it is no end */
            else if (produced == 0 && check_end(c, cur, (int64_t)idx)) return c->status;  /* shorter: it wins */
            c->head++;
            continue;
        }
        if (c->status || commit(c, (uint32_t)idx)) {
            if (!deferred(c)) return c->status;
            c->head++;
            continue;
        }
        if (produced == 0 && check_end(c, cur, (int64_t)idx)) return c->status;
        c->head++;
    }
    return RUNNING_;
}

void qc_stats(ctx_t *c, uint64_t *out) {
    out[0] = c->generated; out[1] = c->n; out[2] = c->depth; out[3] = c->head;
    out[4] = (uint64_t)c->where; out[5] = (uint64_t)c->what; out[6] = (uint64_t)c->status;
    out[7] = c->tcap * sizeof *c->table + c->n * (NWORDS * sizeof *c->states + sizeof *c->parent);
}
void qc_coverage(ctx_t *c, uint64_t *fired, uint64_t *fresh, int64_t *goal) {
    memcpy(fired, c->fired, sizeof c->fired); memcpy(fresh, c->fresh, sizeof c->fresh);
    memcpy(goal, c->goal, sizeof c->goal);
}
void qc_firsts(ctx_t *c, int64_t *inv, int64_t *fin, int64_t *endg, int64_t *deadlock) {
    memcpy(inv, c->inv_first, sizeof c->inv_first); memcpy(fin, c->fin_first, sizeof c->fin_first);
    memcpy(endg, c->end_goal, sizeof c->end_goal); *deadlock = c->deadlock_first;
}
void qc_state(ctx_t *c, uint64_t idx, val *out) { unpack(c->states + idx * NWORDS, out); }
uint32_t qc_parent(ctx_t *c, uint64_t idx) { return c->parent[idx]; }

/* Saving and resuming. A search is saved as it stood between two expansions: the states
   (packed words) and parents of its first n states, the queue (head, level_end, depth) and
   every counter and first-violation record. One that stopped inside an expansion, or that is
   finishing a level after a violation, is saved as it was before that expansion began:
   resumed, it does that expansion again and comes to the same end. */

/* take the part of the current expansion already counted off the given counters */
static void undo_expansion(const ctx_t *c, uint64_t *generated, uint64_t *fired, uint64_t *fresh) {
    uint64_t p = c->mark;
    for (uint64_t i = 0; i < c->committed; i++) {
        const uint64_t *w = c->succ + i * NWORDS;
        int action = c->succ_action[i];
        (*generated)--;
        fired[action]--;
        /* new states were stored in the order of their first occurrence */
        if (p < c->n && memcmp(c->states + p * NWORDS, w, NWORDS * sizeof *w) == 0) { fresh[action]--; p++; }
    }
}

/* the point a checkpoint saves; the context itself is left as it is */
void qc_point(ctx_t *c, uint64_t *cursor, uint64_t *fired, uint64_t *fresh, int64_t *goal, int64_t *endg,
              int64_t *inv, int64_t *fin, int64_t *deadlock) {
    uint64_t n = c->n, head = c->head, generated = c->generated;
    memcpy(fired, c->fired, sizeof c->fired); memcpy(fresh, c->fresh, sizeof c->fresh);
    if (c->finishing) {
        n = c->rb_n; head = c->rb_head; generated = c->rb_generated;
        memcpy(fired, c->rb_fired, sizeof c->rb_fired); memcpy(fresh, c->rb_fresh, sizeof c->rb_fresh);
    } else if (c->status != RUNNING_ && c->status != DONE_ && c->status != MAX_DEPTH_) {
        n = c->mark;
        undo_expansion(c, &generated, fired, fresh);
    }
    if (n == 0) generated = 0;  /* stopped among the initial states: they are added again */
    for (int k = 0; k < NINV1; k++) inv[k] = c->inv_first[k] >= (int64_t)n ? -1 : c->inv_first[k];
    for (int k = 0; k < NGOAL1; k++) goal[k] = c->goal[k] >= (int64_t)n ? -1 : c->goal[k];
    /* records made by expanding head or later (states without successors) */
    for (int k = 0; k < NFIN1; k++) fin[k] = c->fin_first[k] >= (int64_t)head ? -1 : c->fin_first[k];
    for (int k = 0; k < NEND1; k++) endg[k] = c->end_goal[k] >= (int64_t)head ? -1 : c->end_goal[k];
    *deadlock = c->deadlock_first >= (int64_t)head ? -1 : c->deadlock_first;
    if (head > n) head = n;
    /* the level's end lies between the head and the states kept (among the initial states, 0) */
    uint64_t level_end = c->level_end > n ? n : c->level_end;
    cursor[0] = n; cursor[1] = head; cursor[2] = level_end < head ? head : level_end;
    cursor[3] = c->depth; cursor[4] = generated;
}
/* while finishing a level: the violation met first (status, state, what); 0 when not finishing */
int qc_pending(ctx_t *c, int64_t *out) {
    if (!c->finishing) return 0;
    out[0] = c->pend_status; out[1] = c->pend_where; out[2] = c->pend_what;
    return 1;
}
uint64_t *qc_states(ctx_t *c) { return c->states; }
uint32_t *qc_parents(ctx_t *c) { return c->parent; }
/* room for n states, into which a saved search is read; 0 when memory does not allow it */
int qc_reserve(ctx_t *c, uint64_t n) { return n <= c->cap || grow_store_to(c, n) > 0; }
/* take the n states and parents read into the store, check them, rebuild the table */
int qc_import(ctx_t *c, uint64_t n, const uint64_t *cursor, const uint64_t *fired, const uint64_t *fresh,
              const int64_t *goal, const int64_t *end_goal, const int64_t *inv, const int64_t *fin,
              int64_t deadlock) {
    val v[NSLOTS];
    uint64_t w[NWORDS];
    for (uint64_t i = 0; i < n; i++) {
        if (c->parent[i] != 0xffffffffU && c->parent[i] >= i) return BAD_PARENT_;
        /* the initial states come first, and only they have no parent */
        if (c->parent[i] == 0xffffffffU && i > 0 && c->parent[i - 1] != 0xffffffffU) return BAD_PARENT_;
        unpack(c->states + i * NWORDS, v);
        pack(v, w);
        if (memcmp(w, c->states + i * NWORDS, sizeof w) != 0 || !in_range(v)) return BAD_STATE_;
    }
    uint64_t tcap = c->tcap;
    while ((n + 1) * 10 > tcap * 7) tcap *= 2;
    if (tcap != c->tcap) {
        if (!fits(c, (tcap - c->tcap) * sizeof *c->table)) return IMPORT_NO_MEMORY_;
        uint32_t *t = calloc(tcap, sizeof *t);
        if (!t) return IMPORT_NO_MEMORY_;
        free(c->table); c->table = t; c->tcap = tcap;
    }
    memset(c->table, 0, c->tcap * sizeof *c->table);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t h = hash_words(c->states + i * NWORDS) & (c->tcap - 1);
        while (c->table[h]) {
            if (memcmp(c->states + (uint64_t)(c->table[h] - 1) * NWORDS, c->states + i * NWORDS,
                       NWORDS * sizeof *c->states) == 0) return DUPLICATE_STATE_;
            h = (h + 1) & (c->tcap - 1);
        }
        c->table[h] = (uint32_t)(i + 1);
    }
    c->n = n; c->head = cursor[1]; c->level_end = cursor[2]; c->depth = cursor[3]; c->generated = cursor[4];
    memcpy(c->fired, fired, sizeof c->fired); memcpy(c->fresh, fresh, sizeof c->fresh);
    memcpy(c->goal, goal, sizeof c->goal); memcpy(c->end_goal, end_goal, sizeof c->end_goal);
    memcpy(c->inv_first, inv, sizeof c->inv_first); memcpy(c->fin_first, fin, sizeof c->fin_first);
    c->deadlock_first = deadlock;
    return IMPORTED_;
}
"""


@dataclass
class _CGen:
    program: Program
    packing: Packing
    symmetry: Symmetry | None = None
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[int, ...]] = field(default_factory=list)
    counter: int = 0
    ranges: list[tuple[int, int]] = field(init=False)  # each slot's (lo, hi), computed once

    def __post_init__(self) -> None:
        self.ranges = [(x.lo, x.hi) for x in self.program.layout.slots]

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    # expressions ------------------------------------------------------------
    def slot_of(self, slots: tuple[int, ...], index: I.Expr, cur: str) -> str:
        idx = self.expr(index, cur)
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
            return f"{cur}[{e.index}]"
        if isinstance(e, I.Table):
            return f"{cur}[{self.slot_of(e.slots, e.index, cur)}]"
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
            self.emit(depth + 1, f"val c{s.var} = {arr}[{k}];")
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
            self.emit(depth, f"val c{s.var} = {self.expr(s.value, cur)};")
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

    def generate(self) -> str:
        p, pk = self.program, self.packing
        n = len(p.layout.slots)
        out = [f"#define NSLOTS {max(1, n)}", f"#define NWORDS {pk.words}",
               f"#define NACT1 {len(p.actions) + 1}", f"#define NGOAL1 {len(p.reachables) + 1}",
               f"#define NEND1 {len(p.end_goals) + 1}", f"#define NINV1 {len(p.invariants) + 1}",
               f"#define NFIN1 {len(p.finals) + 1}"]
        for name, code in (("RUNNING_", RUNNING), ("DONE_", DONE), ("INVARIANT_", INVARIANT),
                           ("ASSERTION_", ASSERTION), ("MODEL_ERROR_", MODEL_ERROR), ("DEADLOCK_", DEADLOCK),
                           ("MAX_STATES_", MAX_STATES), ("MAX_DEPTH_", MAX_DEPTH), ("NO_MEMORY_", NO_MEMORY),
                           ("OVERFLOW_", OVERFLOW), ("FINAL_", FINAL), ("MEMORY_LIMIT_", MEMORY_LIMIT),
                           ("TOO_MANY_", TOO_MANY), ("IMPORTED_", IMPORTED), ("BAD_PARENT_", BAD_PARENT),
                           ("BAD_STATE_", BAD_STATE), ("DUPLICATE_STATE_", DUPLICATE_STATE),
                           ("IMPORT_NO_MEMORY_", IMPORT_NO_MEMORY)):
            out.append(f"#define {name} {code}")
        out.append(_RUNTIME)
        # pack / unpack: unrolled for narrow states; for wide ones a loop over a table of the
        # fields (unrolled, thousands of slots take the C compiler minutes)
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
            out.append("static int in_range(const val *v) {")
            out.append("    for (int k = 0; k < NSLOTS; k++) if (v[k] > HI[k]) return 0;")
            out.append("    return 1;")
            out.append("}")
            rows = ", ".join(f"{{{f.word}, {f.shift if f.width else 0}, {f.mask}ULL, {f.lo}}}" for f in pk.fields)
            out.append("static const struct { uint32_t word, shift; uint64_t mask; val lo; } FIELDS[] = {"
                       + rows + "};")
            out.append("static void unpack(const uint64_t *w, val *v) {")
            out.append("    for (int k = 0; k < NSLOTS; k++)")
            out.append("        v[k] = (val)((w[FIELDS[k].word] >> FIELDS[k].shift) & FIELDS[k].mask) + FIELDS[k].lo;")
            out.append("}")
            out.append("static void pack(const val *v, uint64_t *w) {")
            out.append("    memset(w, 0, NWORDS * sizeof *w);")
            out.append("    for (int k = 0; k < NSLOTS; k++)")
            out.append("        w[FIELDS[k].word] |= (uint64_t)(v[k] - FIELDS[k].lo) << FIELDS[k].shift;")
            out.append("}")
        # successors
        self.lines = []
        self.emit(0, "static int64_t expand(ctx_t *c, const val *cur, uint32_t parent) {")
        self.emit(1, "int64_t produced = 0;")
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
        expand = list(self.lines)
        # properties
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
        for prop in p.terminals:
            self.emit(1, f"if ({self.expr(prop.expr, 'cur')}) return 1;")
        if p.end_pcs:
            self.emit(1, "return " + " && ".join(f"cur[{slot}] == {v}" for slot, v in p.end_pcs) + ";")
        else:
            self.emit(1, "return 0;")
        self.emit(0, "}")
        props = list(self.lines)
        tables = [f"static const int T{k}[] = {{{', '.join(map(str, t))}}};" for k, t in enumerate(self.tables)]
        return "\n".join(out + tables + self.canon() + props + expand) + "\n" + _DRIVER

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
        out.append(_CANON)
        return out


# Constants, ranges and initial values must stay well inside int64 in C.
_C_LIMIT = 1 << 62


def fits_int64(program: Program) -> bool:
    """Whether every number the model holds fits the C search's 64-bit arithmetic."""
    def ok(v: object) -> bool:
        return -_C_LIMIT < int(v) < _C_LIMIT  # type: ignore[call-overload]

    if not all(ok(s.lo) and ok(s.hi) for s in program.layout.slots):
        return False
    if not all(ok(v) for state in program.initial for v in state):
        return False
    todo: list[object] = [a.body for a in program.actions]
    todo += [p.expr for p in (*program.invariants, *program.reachables, *program.terminals, *program.finals,
                              *program.end_goals)]
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


def generate_c(program: Program, symmetry: Symmetry | None = None) -> tuple[str, Packing]:
    packing = pack_layout(program.layout)
    return _CGen(program, packing, symmetry).generate(), packing


class NativeLib:
    """The loaded shared library of one model, with its ctypes signatures."""

    def __init__(self, path: Path, packing: Packing, nslots: int) -> None:
        self.lib = ctypes.CDLL(str(path))
        self.packing = packing
        self.nslots = max(1, nslots)
        L = self.lib
        L.qc_new.restype = ctypes.c_void_p
        L.qc_new.argtypes = [ctypes.c_uint64, ctypes.c_uint64, ctypes.c_int, ctypes.c_int, ctypes.c_uint64]
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


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "quiesce-check"


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


def _load(path: Path, packing: Packing, nslots: int) -> NativeLib | None:
    global _last_failure
    try:
        return NativeLib(path, packing, nslots)
    except (OSError, AttributeError) as e:
        _last_failure = f"the compiled search could not be loaded: {e}"
        return None


def load_native(program: Program, symmetry: Symmetry | None = None, deadline: Deadline | None = None
                ) -> NativeLib | None:
    """Compile (or reuse) the model's search library, storing each state's canonical form under
    `symmetry` when it is given; None if no C compiler is usable. `TimeLimit` when `deadline`
    passes while the compiler runs (it is stopped, and its temporary folder removed).

    The cache is trusted only as far as it is private: its folder must be the user's own and
    writable by no one else (it is made so, mode 0700, or a private temporary folder is used
    instead); an entry is loaded only when the library and the SHA-256 of it recorded at build
    time are both the user's, writable by no one else, and agree. Anything else (planted,
    loosened, truncated, damaged) is built again. A library is built in a private temporary
    folder, loaded from there, and only then renamed into the cache."""
    global _last_failure
    cc = compiler()
    if cc is None:
        _last_failure = "no working C compiler (cc, gcc or clang; or set CC)"
        return None
    source, packing = generate_c(program, symmetry)
    nslots = len(program.layout.slots)
    # -O2 pays for itself on ordinary models; on very large sources (quantifiers over thousands
    # of values unroll into long expressions) it costs the compiler minutes, -O1 or -O0 seconds
    opt = "-O2" if len(source) <= _O2_SOURCE_BYTES else "-O1" if len(source) <= _O1_SOURCE_BYTES else "-O0"
    digest = hashlib.sha256((cc + "\0" + opt + "\0" + source).encode()).hexdigest()[:24]
    cache = private_dir(_cache_dir())
    if cache is not None:
        target, sidecar = cache / f"qc_{digest}.so", cache / f"qc_{digest}.sha256"
        if _verified(target, sidecar):
            lib = _load(target, packing, nslots)
            if lib is not None:
                return lib
        gave_up = cache / f"qc_{digest}.timeout"  # a compile given up on is not tried again
        with contextlib.suppress(OSError):
            st = os.lstat(gave_up)
            if stat.S_ISREG(st.st_mode) and trusted(st):
                _last_failure = f"{cc} took longer than {_COMPILE_SECONDS} s on this model's C before"
                return None
    try:
        with tempfile.TemporaryDirectory(dir=cache, prefix="qc-build-") as tmp:
            src = Path(tmp) / "model.c"
            src.write_text(source)
            out = Path(tmp) / "model.so"
            r = run_compiler([cc, opt, "-shared", "-fPIC", "-o", str(out), str(src)], _COMPILE_SECONDS,
                             deadline)
            if r.returncode != 0:
                _last_failure = f"{cc} could not compile this model's C: {r.stderr.strip()[:300]}"
                return None
            os.chmod(out, 0o700)
            built = _digest_of(out)
            lib = _load(out, packing, nslots) if built is not None else None
            if lib is None or built is None:
                return None
            if cache is not None:
                with contextlib.suppress(OSError):
                    # the digest first: a reader that sees the new library sees its digest
                    write_atomic(sidecar, (built[1] + "\n").encode("ascii"), mode=0o600)
                    os.replace(out, target)
            return lib
    except subprocess.TimeoutExpired:
        _last_failure = f"{cc} took longer than {_COMPILE_SECONDS} s on this model's C"
        if cache is not None:
            with contextlib.suppress(OSError):
                write_atomic(gave_up, b"", mode=0o600)
        return None
    except (OSError, subprocess.SubprocessError) as e:
        _last_failure = f"the C search could not be built: {e}"
        return None
