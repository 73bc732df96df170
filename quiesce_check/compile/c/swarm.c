/* One search of a swarm (engines/swarm.py): depth-first, each state's successors tried in an order
   drawn from the search's seed, over the breadth-first search's store and checks.

   Comes after bfs.c (check_new, check_end, insert, emit). A state's parent in the store is the state
   the search first reached it from, so the chain of parents of any state is the path on the stack
   when it was found: the engine rebuilds a counterexample from it as it does for bfs. A state first
   met at the depth bound (`max_depth`) is checked and stored but not expanded, and `truncated` says
   so. The swarm's own memory (the path and its successors) grows with the depth, not the states. */

typedef struct {
    ctx_t *c;
    uint64_t rng;
    uint64_t max_depth;        /* UINT64_MAX: no bound */
    uint64_t roots, root;      /* the initial states (indices 0 .. roots - 1), and the next to start from */
    /* the path: per frame its state, where its successors begin in `buf`, how many, the next one */
    uint64_t *f_idx, *f_beg, *f_cnt, *f_next;
    uint64_t nf, f_cap;
    uint64_t *buf; int32_t *b_act; uint64_t nb, b_cap;
    uint64_t deepest;          /* the greatest depth of a state it stored */
    int truncated;
} swarm_t;

static uint64_t swarm_next(swarm_t *d) {   /* splitmix64 */
    uint64_t z = (d->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

swarm_t *qc_swarm_new(ctx_t *c, uint64_t seed, uint64_t max_depth) {
    swarm_t *d = calloc(1, sizeof *d);
    if (!d) return 0;
    d->c = c; d->rng = seed; d->max_depth = max_depth;
    d->roots = c->n;
    return d;
}

void qc_swarm_free(swarm_t *d) {
    if (!d) return;
    free(d->f_idx); free(d->f_beg); free(d->f_cnt); free(d->f_next); free(d->buf); free(d->b_act); free(d);
}

/* deepest, truncated, frames */
void qc_swarm_stats(swarm_t *d, uint64_t *out) { out[0] = d->deepest; out[1] = (uint64_t)d->truncated; out[2] = d->nf; }

static int swarm_room(swarm_t *d, uint64_t more) {
    if (d->nf == d->f_cap) {
        uint64_t n = d->f_cap ? d->f_cap * 2 : 64;
        uint64_t *a = realloc(d->f_idx, n * sizeof *a); if (!a) return 0; d->f_idx = a;
        a = realloc(d->f_beg, n * sizeof *a); if (!a) return 0; d->f_beg = a;
        a = realloc(d->f_cnt, n * sizeof *a); if (!a) return 0; d->f_cnt = a;
        a = realloc(d->f_next, n * sizeof *a); if (!a) return 0; d->f_next = a;
        d->f_cap = n;
    }
    if (d->nb + more > d->b_cap) {
        uint64_t n = d->b_cap ? d->b_cap * 2 : 1024;
        while (n < d->nb + more) n *= 2;
        uint64_t *b = realloc(d->buf, n * NWORDS * sizeof *b); if (!b) return 0; d->buf = b;
        int32_t *a = realloc(d->b_act, n * sizeof *a); if (!a) return 0; d->b_act = a;
        d->b_cap = n;
    }
    return 1;
}

/* expand stored state `idx` at depth `depth` and put it on the path; nonzero when the search must
   stop (status set): a step failed, or it is an end that breaks a property */
static int swarm_push(swarm_t *d, uint64_t idx, uint64_t depth) {
    ctx_t *c = d->c;
    val cur[NSLOTS];
    if (depth > d->deepest) d->deepest = depth;
    if (depth >= d->max_depth) { d->truncated = 1; return 0; }
    unpack(c->states + idx * NWORDS, cur);
    c->nsucc = 0; c->mark = c->n; c->committed = 0;
    int64_t produced = expand(c, cur, (uint32_t)idx);
    if (c->status) return 1;
    if (produced == 0) return check_end(c, cur, (int64_t)idx);
    if (!swarm_room(d, c->nsucc)) { c->status = NO_MEMORY_; return 1; }
    uint64_t beg = d->nb;
    memcpy(d->buf + beg * NWORDS, c->succ, c->nsucc * NWORDS * sizeof *c->succ);
    memcpy(d->b_act + beg, c->succ_action, c->nsucc * sizeof *c->succ_action);
    /* the seed's order: Fisher-Yates over this state's successors */
    for (uint64_t i = c->nsucc; i > 1; i--) {
        uint64_t j = swarm_next(d) % i;
        if (j == i - 1) continue;
        uint64_t w[NWORDS];
        memcpy(w, d->buf + (beg + i - 1) * NWORDS, sizeof w);
        memcpy(d->buf + (beg + i - 1) * NWORDS, d->buf + (beg + j) * NWORDS, sizeof w);
        memcpy(d->buf + (beg + j) * NWORDS, w, sizeof w);
        int32_t a = d->b_act[beg + i - 1]; d->b_act[beg + i - 1] = d->b_act[beg + j]; d->b_act[beg + j] = a;
    }
    d->nb += c->nsucc;
    d->f_idx[d->nf] = idx; d->f_beg[d->nf] = beg; d->f_cnt[d->nf] = c->nsucc; d->f_next[d->nf] = 0;
    d->nf++;
    return 0;
}

/* `budget` more expansions: RUNNING_ when it is spent, DONE_ when every state reachable within the
   depth bound was met, else the status that ended the search (a violation, a limit) */
int qc_swarm_run(swarm_t *d, uint64_t budget) {
    ctx_t *c = d->c;
    val t[NSLOTS];
    if (c->status) return c->status;
    while (budget--) {
        if (d->nf == 0) {
            if (d->root == d->roots) { c->status = DONE_; return c->status; }
            if (swarm_push(d, d->root++, 0)) return c->status;
            continue;
        }
        uint64_t f = d->nf - 1;
        if (d->f_next[f] == d->f_cnt[f]) { d->nb = d->f_beg[f]; d->nf--; continue; }
        uint64_t i = d->f_beg[f] + d->f_next[f]++;
        int action = d->b_act[i];
        c->generated++;
        c->fired[action]++;
        int64_t idx = insert(c, d->buf + i * NWORDS, (uint32_t)d->f_idx[f]);
        if (idx == -2) return c->status;
        if (idx == -1) continue;
        c->fresh[action]++;
        unpack(d->buf + i * NWORDS, t);
        if (check_new(c, t, idx)) return c->status;
        if (swarm_push(d, (uint64_t)idx, d->nf)) return c->status;
    }
    return RUNNING_;
}
