/* One partition of a parallel breadth-first search (engines/parallel.py).

   The state space is split by a hash of the packed state: partition k owns the states whose
   hash falls to k, stores them (store.c), checks them when they are new (check_new) and expands
   them. The search is level-synchronous: the engine has every partition expand its share of the
   level in rounds; each successor goes, as a record, into the outbox of its owner; between
   rounds the engine hands each partition the records addressed to it, from every partition in
   partition order, and it stores the new ones. A state's parent may belong to another
   partition: `ppart` names it. The counters (generated, fired, fresh) and the first violation of
   each property are each partition's own; the engine adds and compares them.

   A record is NWORDS words of packed state and one word: the parent's index (bits 0-31), its
   partition (32-47) and the action (48-63; NO_ACTION for an initial state). */

#define NO_ACTION 0xffffU
#define RECW (NWORDS + 1)

struct part {
    uint32_t nparts, me;
    uint16_t *ppart;          /* each state's parent's partition */
    uint64_t ppart_cap;
    uint64_t **out, *out_n, *out_cap;   /* per owner: records */
    /* the first step of this level that failed (an assertion, a model error, a property that
       could not be evaluated): its status, state and what; the level's expansions go on for
       its ends only, as bfs.c's `finishing` does */
    int fail_status;
    int64_t fail_where, fail_what;
};

static uint32_t owner(const struct part *P, const uint64_t *w) {
    /* the hash's high half: the table (store.c) indexes by its low bits */
    return (uint32_t)(((hash_words(w) >> 32) * (uint64_t)P->nparts) >> 32);
}

static uint64_t part_bytes(const struct part *P) {
    uint64_t b = P->ppart_cap * sizeof *P->ppart;
    for (uint32_t k = 0; k < P->nparts; k++) b += P->out_cap[k] * RECW * sizeof(uint64_t);
    return b;
}

static void part_free(ctx_t *c) {
    struct part *P = c->part;
    if (!P) return;
    for (uint32_t k = 0; k < P->nparts; k++) free(P->out[k]);
    free(P->out); free(P->out_n); free(P->out_cap); free(P->ppart); free(P);
    c->part = 0; c->aux_bytes = 0;
}

/* 0, or the status that ends the search: NO_MEMORY_ */
int qc_part_setup(ctx_t *c, uint32_t nparts, uint32_t me) {
    if (nparts == 0 || nparts > 0xffffU || me >= nparts || NACT1 - 1 >= NO_ACTION) return BAD_STATE_;
    struct part *P = calloc(1, sizeof *P);
    if (!P) return NO_MEMORY_;
    P->nparts = nparts; P->me = me; P->fail_where = -1; P->fail_what = -1;
    P->out = calloc(nparts, sizeof *P->out);
    P->out_n = calloc(nparts, sizeof *P->out_n);
    P->out_cap = calloc(nparts, sizeof *P->out_cap);
    c->part = P;
    if (!P->out || !P->out_n || !P->out_cap) { part_free(c); return NO_MEMORY_; }
    c->level_end = 0;
    return 0;
}

/* append one record for the owner of packed state `w`; nonzero when memory ran out (status set) */
static int route(ctx_t *c, const uint64_t *w, uint32_t parent, uint32_t action) {
    struct part *P = c->part;
    uint32_t k = owner(P, w);
    if (P->out_n[k] == P->out_cap[k]) {
        uint64_t ncap = P->out_cap[k] ? P->out_cap[k] * 2 : 1024;
        if (!fits(c, (ncap - P->out_cap[k]) * RECW * sizeof(uint64_t))) { c->status = MEMORY_LIMIT_; return 1; }
        uint64_t *o = realloc(P->out[k], ncap * RECW * sizeof *o);
        if (!o) { c->status = NO_MEMORY_; return 1; }
        P->out[k] = o; P->out_cap[k] = ncap;
        c->aux_bytes = part_bytes(P);
    }
    uint64_t *r = P->out[k] + P->out_n[k]++ * RECW;
    memcpy(r, w, NWORDS * sizeof *w);
    r[NWORDS] = (uint64_t)parent | (uint64_t)P->me << 32 | (uint64_t)action << 48;
    return 0;
}

/* route an initial state to its owner; nonzero when memory ran out */
int qc_part_seed(ctx_t *c, const val *v) {
    uint64_t w[NWORDS];
    pack(v, w);
    return route(c, w, 0xffffffffU, NO_ACTION) ? c->status : 0;
}

static void note_failure(ctx_t *c, int status, int64_t where, int64_t what) {
    struct part *P = c->part;
    if (!P->fail_status) { P->fail_status = status; P->fail_where = where; P->fail_what = what; }
}

/* A step or a property met an error: a failure of the level (noted) unless it ends the whole
   search (overflow: the engine runs it again in Python; memory). 1: it ends the search. */
static int failed_step(ctx_t *c) {
    if (c->status == OVERFLOW_ || c->status == NO_MEMORY_ || c->status == MEMORY_LIMIT_ || c->status == TOO_MANY_)
        return 1;
    note_failure(c, c->status, c->where, c->what);
    c->status = 0;
    return 0;
}

/* Expand up to `budget` states of this partition's share of the level, routing their successors.
   RUNNING_: states of the level remain; DONE_: its share is expanded; else the status that ends
   the search. */
int qc_part_expand(ctx_t *c, uint64_t budget) {
    struct part *P = c->part;
    val cur[NSLOTS], t[NSLOTS];
    while (budget-- && c->head < c->level_end) {
        uint64_t idx = c->head;
        unpack(c->states + idx * NWORDS, cur);
        c->nsucc = 0;
        c->status = 0;
        int64_t produced = expand(c, cur, (uint32_t)idx);
        if (c->status) {
            /* a failing step (expand set where and what: the state, the action) */
            if (failed_step(c)) return c->status;
            c->head++;
            continue;
        }
        if (!P->fail_status) {
            for (uint64_t i = 0; i < c->nsucc; i++) {
                const uint64_t *w = c->succ + i * NWORDS;
                int action = c->succ_action[i];
                c->generated++;
                c->fired[action]++;
                if (NSTEP1 > 1) {
                    unpack(w, t);
                    if (check_step(c, cur, t, action, (uint32_t)idx, i)) {
                        if (failed_step(c)) return c->status;
                        break;
                    }
                }
                if (route(c, w, (uint32_t)idx, (uint32_t)action)) return c->status;
            }
        }
        if (produced == 0 && check_end(c, cur, (int64_t)idx) && failed_step(c)) return c->status;
        c->head++;
    }
    return c->head < c->level_end ? RUNNING_ : DONE_;
}

/* the records for partition `k`, and how many */
uint64_t *qc_part_outbox(ctx_t *c, uint32_t k, uint64_t *n) { *n = c->part->out_n[k]; return c->part->out[k]; }
void qc_part_clear(ctx_t *c) { memset(c->part->out_n, 0, c->part->nparts * sizeof *c->part->out_n); }

static int grow_ppart(ctx_t *c) {
    struct part *P = c->part;
    if (P->ppart_cap >= c->cap) return 1;
    uint16_t *p = realloc(P->ppart, c->cap * sizeof *p);
    if (!p) return 0;
    P->ppart = p; P->ppart_cap = c->cap;
    c->aux_bytes = part_bytes(P);
    return 1;
}

/* Store the new states among `n` records addressed to this partition, checking each. 0, or the
   status that ends the search. */
int qc_part_absorb(ctx_t *c, const uint64_t *recs, uint64_t n) {
    val t[NSLOTS];
    for (uint64_t i = 0; i < n; i++) {
        const uint64_t *r = recs + i * RECW;
        uint64_t meta = r[NWORDS];
        uint32_t parent = (uint32_t)meta, src = (uint32_t)(meta >> 32) & 0xffffU, action = (uint32_t)(meta >> 48);
        if (action == NO_ACTION) c->generated++;   /* an initial state: counted as bfs.c counts it */
        int64_t idx = insert(c, r, parent);
        if (idx == -2) return c->status;
        if (idx == -1) continue;
        if (!grow_ppart(c)) { c->status = NO_MEMORY_; return c->status; }
        c->part->ppart[idx] = (uint16_t)src;
        if (action != NO_ACTION) c->fresh[action]++;
        unpack(r, t);
        c->status = 0;
        if (check_new(c, t, idx) && failed_step(c)) return c->status;
    }
    return 0;
}

/* the level's new states become the frontier */
void qc_part_level(ctx_t *c) { c->head = c->level_end; c->level_end = c->n; }

uint32_t qc_part_parent_part(ctx_t *c, uint64_t idx) { return c->part->ppart[idx]; }

/* the next state to expand, the end of the level, the states held */
void qc_part_cursor(ctx_t *c, uint64_t *out) { out[0] = c->head; out[1] = c->level_end; out[2] = c->n; }

/* the level's first failure: status (0: none), state, what */
int qc_part_failure(ctx_t *c, int64_t *out) {
    out[0] = c->part->fail_where; out[1] = c->part->fail_what;
    return c->part->fail_status;
}

/* Saving a parallel search in the single search's format (engines/checkpoint.py), at the end of a
   level: every partition's states level by level, partition by partition within a level. Each
   partition gives its parents as indices in that order: `base[q * nlevels + L]` is where partition
   q's states of level L begin in it, and `starts[q * (nlevels + 1) + L]` where they begin in q's
   store (starts[... + nlevels]: its count). */
static uint64_t level_of(const uint64_t *starts, uint32_t nlevels, uint64_t j) {
    uint32_t lo = 0, hi = nlevels;   /* the last level whose start is <= j */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (starts[mid] <= j) lo = mid; else hi = mid;
    }
    return lo;
}

void qc_part_export_parents(ctx_t *c, uint32_t nlevels, const uint64_t *base, const uint64_t *starts, uint32_t *out) {
    struct part *P = c->part;
    for (uint64_t i = 0; i < c->n; i++) {
        uint32_t j = c->parent[i];
        if (j == 0xffffffffU) { out[i] = j; continue; }
        uint32_t q = P->ppart[i];
        const uint64_t *sq = starts + (uint64_t)q * (nlevels + 1);
        uint64_t L = level_of(sq, nlevels, j);
        out[i] = (uint32_t)(base[(uint64_t)q * nlevels + L] + (j - sq[L]));
    }
}

/* Going on from a saved search (in one search's order, checked by qc_import in a context of its
   own, `whole`): the partition of each state and its index there. */
void qc_part_plan(const uint64_t *states, uint64_t n, uint32_t nparts, uint32_t *owner_of, uint32_t *local,
                  uint64_t *count) {
    struct part P = {0};
    P.nparts = nparts;
    memset(count, 0, nparts * sizeof *count);
    for (uint64_t g = 0; g < n; g++) {
        uint32_t k = owner(&P, states + g * NWORDS);
        owner_of[g] = k; local[g] = (uint32_t)count[k]++;
    }
}

/* Partition `me`'s share of a saved search held whole in `whole` (in one search's order), as
   qc_part_load takes it: its states, their parents' indices and partitions, where each of the
   `nlevels` levels (beginning at `gstarts` in `whole`) begins in it; `cursor`: how many states,
   and the saved head and level end counted in it. */
void qc_part_split(const ctx_t *whole, const uint32_t *owner_of, const uint32_t *local, uint32_t me,
                   uint64_t head, uint64_t level_end, const uint64_t *gstarts, uint32_t nlevels,
                   uint64_t *states, uint32_t *parents, uint16_t *pparts, uint64_t *lstarts, uint64_t *cursor) {
    uint64_t mine = 0, h = 0, le = 0;
    uint32_t L = 0;
    for (uint64_t g = 0; g < whole->n; g++) {
        while (L < nlevels && gstarts[L] <= g) lstarts[L++] = mine;
        if (owner_of[g] != me) continue;
        uint32_t pg = whole->parent[g];
        memcpy(states + mine * NWORDS, whole->states + g * NWORDS, NWORDS * sizeof *states);
        parents[mine] = pg == 0xffffffffU ? pg : local[pg];
        pparts[mine] = pg == 0xffffffffU ? 0 : (uint16_t)owner_of[pg];
        mine++;
        if (g < head) h++;
        if (g < level_end) le++;
    }
    while (L < nlevels) lstarts[L++] = mine;
    cursor[0] = mine; cursor[1] = h; cursor[2] = le;
}

/* Load a share made by qc_part_split into this (new) partition. 0, or a status. */
int qc_part_load(ctx_t *c, const uint64_t *states, const uint32_t *parents, const uint16_t *pparts, uint64_t n,
                 uint64_t head, uint64_t level_end, uint64_t depth) {
    struct part *P = c->part;
    if (n > c->cap) {
        int g = grow_store_to(c, n);
        if (g <= 0) { set_memory_status(c, g); return c->status; }
    }
    for (uint64_t i = 0; i < n; i++) {
        int64_t idx = insert(c, states + i * NWORDS, parents[i]);
        if (idx < 0) return idx == -2 ? c->status : BAD_STATE_;
        if (!grow_ppart(c)) { c->status = NO_MEMORY_; return c->status; }
        P->ppart[idx] = pparts[i];
    }
    c->head = head; c->level_end = level_end; c->depth = depth;
    return 0;
}

/* Where each level of a saved search begins (its states are in breadth-first order): the number of
   levels, at most `max` starts written to `out`; 0 when memory ran out. */
uint32_t qc_level_starts(const ctx_t *whole, uint64_t *out, uint32_t max) {
    uint32_t *depth = malloc((whole->n ? whole->n : 1) * sizeof *depth);
    if (!depth) return 0;
    uint32_t nlevels = 0;
    for (uint64_t g = 0; g < whole->n; g++) {
        uint32_t p = whole->parent[g];
        depth[g] = p == 0xffffffffU ? 0 : depth[p] + 1;
        if (depth[g] >= nlevels && nlevels < max) out[nlevels++] = g;
    }
    free(depth);
    return nlevels;
}

/* The counters and first violations of a saved search, given to the partition holding them */
void qc_part_counters(ctx_t *c, uint64_t generated, const uint64_t *fired, const uint64_t *fresh, const int64_t *goal,
                      const int64_t *end_goal, const int64_t *inv, const int64_t *fin, int64_t deadlock) {
    c->generated = generated;
    memcpy(c->fired, fired, sizeof c->fired); memcpy(c->fresh, fresh, sizeof c->fresh);
    memcpy(c->goal, goal, sizeof c->goal); memcpy(c->end_goal, end_goal, sizeof c->end_goal);
    memcpy(c->inv_first, inv, sizeof c->inv_first); memcpy(c->fin_first, fin, sizeof c->fin_first);
    c->deadlock_first = deadlock;
}
