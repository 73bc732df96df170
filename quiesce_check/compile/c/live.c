/* Liveness on the reachable graph, as engines/liveness.py defines it (its docstring says what a
   behaviour, a fairness assumption and a lasso are), and the same lassos it builds.

   The graph is recorded as the search commits each state's successors (record_step, close_state:
   the target's index of every step, its action when there are fairness assumptions, in the order
   the search met them), or, after a resumed search, rebuilt by expanding every state again. Once
   every state is explored, each liveness property is checked in turn (qc_live_check): a byte of
   flags per state says what the property makes of it (stay, accept, entry); the states a pending
   prefix reaches are split into strongly connected components (Tarjan's algorithm, iterative, with
   one number per state as Pearce's variant keeps); each component is judged under the fairness
   assumptions and, for strong fairness, refined as Emerson and Lei do; then a shortest prefix to a
   fair component (breadth first over (state, pending)) and a cycle in it (breadth-first walks to
   what acceptance and fairness require, then back). Every choice is made in the order
   liveness.py makes it, so the lasso is the same one. A flag the engine sets (`stop`) ends a
   check between two steps of it; memory it takes counts against the limit. Comes after
   checkpoint.c; reads the model's `temporal`, `expand`, `unpack`. */

#define F_STAY 1
#define F_ACCEPT 2
#define F_ENTRY 4
#define F_ACTIVE 8     /* in the component search under way, not yet in a component */
#define F_FAIR 16      /* in a fair component; `mark` holds its number */
#define F_INSIDE 32    /* in the component being judged */
#define F_SEEN0 64     /* the prefix search reached (v, not pending); a walk reached v */
#define F_SEEN1 128    /* the prefix search reached (v, pending) */
/* bits that mean something else in another phase */
#define F_ROOT F_SEEN1      /* component search: v is still the root of its component */
#define F_PREDP F_ACTIVE    /* prefix search: (v, pending) was reached from a pending state */
#define F_STILL F_INSIDE    /* the resting prefix search: stuttering at v for ever is fair */
#define NONE 0xffffffffU

enum { K_EVENTUALLY, K_ALWAYS_EVENTUALLY, K_EVENTUALLY_ALWAYS, K_LEADS_TO };
enum { G_ACCEPT, G_TAKE, G_REST, G_BACK };   /* what a walk inside a component looks for */

typedef struct { uint32_t *a; uint64_t n, cap; } vec32;
typedef struct { uint64_t *a; uint64_t head, n, cap; } ring64;

struct live {
    volatile int *stop;
    uint64_t tick;
    int nfair, fw;          /* fairness assumptions, and 64-bit words of a set of them */
    uint8_t *strong;        /* per assumption */
    uint64_t *cover;        /* per action: the set of assumptions covering it (fw words) */
    uint64_t *taken, *en, *all, *rm, *cnt;   /* scratch sets (fw words); counts per assumption */
    uint64_t ninit;
    int accept, free_prefix;
    uint8_t *flag;
    uint32_t *mark;         /* component search: index, then low link; fair states: component */
    uint32_t *par0, *par1;  /* prefix search: predecessors of (v, 0), (v, 1); walks: state, step */
    uint32_t index, fair_comps, cid;
    vec32 fv, fe, S, comp, jobs, joblen, job, walkq;
    vec32 pre_n, pre_s, alt_n, alt_s, cyc_n, cyc_s;   /* paths: states, and steps as edge numbers */
    ring64 q;
};

/* memory for the check, counted against the limit; 0 (status set) when there is none */
static void *live_alloc(ctx_t *c, void *old, uint64_t old_bytes, uint64_t bytes) {
    if (bytes > old_bytes && !room(c, bytes - old_bytes)) { c->status = MEMORY_LIMIT_; return 0; }
    void *p = realloc(old, bytes ? bytes : 1);
    if (!p) { c->status = NO_MEMORY_; return 0; }
    c->live_bytes = c->live_bytes + bytes - old_bytes;
    return p;
}
static int vpush(ctx_t *c, vec32 *v, uint32_t x) {
    if (v->n == v->cap) {
        uint64_t ncap = v->cap ? v->cap * 2 : 256;
        uint32_t *a = live_alloc(c, v->a, v->cap * 4, ncap * 4);
        if (!a) return 0;
        v->a = a; v->cap = ncap;
    }
    v->a[v->n++] = x;
    return 1;
}
static int rpush(ctx_t *c, ring64 *r, uint64_t x, int front) {
    if (r->n == r->cap) {
        uint64_t ncap = r->cap ? r->cap * 2 : 256;
        uint64_t *a = live_alloc(c, 0, 0, ncap * 8);
        if (!a) return 0;
        for (uint64_t i = 0; i < r->n; i++) a[i] = r->a[(r->head + i) & (r->cap - 1)];
        free(r->a); c->live_bytes -= r->cap * 8;
        r->a = a; r->cap = ncap; r->head = 0;
    }
    if (front) { r->head = (r->head + r->cap - 1) & (r->cap - 1); r->a[r->head] = x; }
    else r->a[(r->head + r->n) & (r->cap - 1)] = x;
    r->n++;
    return 1;
}
static uint64_t rpop(ring64 *r) { uint64_t x = r->a[r->head]; r->head = (r->head + 1) & (r->cap - 1); r->n--; return x; }

/* whether the engine asked the check to stop (status set); read every 65,536 calls */
static int halted(ctx_t *c) {
    struct live *L = c->live;
    if ((++L->tick & 0xffff) == 0 && L->stop && *L->stop) { c->status = STOPPED_; return 1; }
    return 0;
}

/* what an entry point gives, the search's own status (it explored every state) put back: a
   checkpoint saved after the check reads it */
static int searched(ctx_t *c, int r) { c->status = DONE_; return r; }

/* the graph ------------------------------------------------------------------------------ */
static void drop_graph(ctx_t *c, int why) {
    free(c->g_off); free(c->g_dst); free(c->g_act);
    c->g_off = c->g_dst = 0; c->g_act = 0;
    c->g_n = c->g_off_cap = c->g_m = c->g_cap = 0;
    if (why) { c->record = 0; c->graph_lost = why; }
}
static void record_step(ctx_t *c, uint64_t to, int action) {
    if (c->g_m == c->g_cap) {
        if (c->g_cap >= 0xffffffffULL) { drop_graph(c, TOO_MANY_); return; }
        uint64_t ncap = c->g_cap ? c->g_cap * 2 : 4096;
        if (ncap > 0xffffffffULL) ncap = 0xffffffffULL;
        uint64_t per = sizeof *c->g_dst + (c->record == 2 ? sizeof *c->g_act : 0);
        if (!room(c, (ncap - c->g_cap) * per)) { drop_graph(c, MEMORY_LIMIT_); return; }
        uint32_t *d = realloc(c->g_dst, ncap * sizeof *d);
        if (!d) { drop_graph(c, NO_MEMORY_); return; }
        c->g_dst = d;
        if (c->record == 2) {
            act_t *a = realloc(c->g_act, ncap * sizeof *a);
            if (!a) { drop_graph(c, NO_MEMORY_); return; }
            c->g_act = a;
        }
        c->g_cap = ncap;
    }
    c->g_dst[c->g_m] = (uint32_t)to;
    if (c->g_act) c->g_act[c->g_m] = (act_t)action;
    c->g_m++;
}
/* the state being committed has all its steps recorded */
static void close_state(ctx_t *c) {
    if (c->g_n + 2 > c->g_off_cap) {
        uint64_t ncap = c->g_off_cap ? c->g_off_cap * 2 : 4096;
        if (!room(c, (ncap - c->g_off_cap) * sizeof *c->g_off)) { drop_graph(c, MEMORY_LIMIT_); return; }
        uint32_t *o = realloc(c->g_off, ncap * sizeof *o);
        if (!o) { drop_graph(c, NO_MEMORY_); return; }
        if (!c->g_off_cap) o[0] = 0;
        c->g_off = o; c->g_off_cap = ncap;
    }
    c->g_off[++c->g_n] = (uint32_t)c->g_m;
}
/* after a resumed search, whose first states were expanded by another: every state again */
static int rebuild_graph(ctx_t *c) {
    val cur[NSLOTS];
    drop_graph(c, 0);
    for (uint64_t v = 0; v < c->n; v++) {
        if (halted(c)) return 1;
        unpack(c->states + v * NWORDS, cur);
        c->nsucc = 0;
        expand(c, cur, (uint32_t)v);
        if (c->status) { if (c->status != NO_MEMORY_ && c->status != MEMORY_LIMIT_) c->status = LIVE_BUG_; return 1; }
        for (uint64_t i = 0; i < c->nsucc; i++) {
            int64_t to = find(c, c->succ + i * NWORDS);
            if (to < 0) { c->status = LIVE_BUG_; return 1; }
            record_step(c, (uint64_t)to, c->succ_action[i]);
        }
        if (c->record) close_state(c);
        if (!c->record) { c->status = c->graph_lost; return 1; }
    }
    return 0;
}

/* the fairness assumptions: how many, which are strong, and per action the set covering it */
int qc_live_setup(ctx_t *c, int nfair, const uint8_t *strong, const uint64_t *cover) {
    struct live *L = calloc(1, sizeof *L);
    if (!L) return NO_MEMORY_;
    live_free(c);
    c->live = L;
    L->nfair = nfair; L->fw = (nfair + 63) / 64;
    uint64_t fw = (uint64_t)L->fw;
    L->strong = live_alloc(c, 0, 0, (uint64_t)nfair);
    L->cover = live_alloc(c, 0, 0, NACT1 * fw * 8);
    L->taken = live_alloc(c, 0, 0, fw * 8); L->en = live_alloc(c, 0, 0, fw * 8);
    L->all = live_alloc(c, 0, 0, fw * 8); L->rm = live_alloc(c, 0, 0, fw * 8);
    L->cnt = live_alloc(c, 0, 0, (uint64_t)nfair * 8);
    if (!L->strong || !L->cover || !L->taken || !L->en || !L->all || !L->rm || !L->cnt) return searched(c, c->status);
    memcpy(L->strong, strong, (size_t)nfair);
    memcpy(L->cover, cover, NACT1 * fw * 8);
    return 0;
}

/* the graph whole (rebuilt if the search was resumed), the state table freed (the check needs
   none), the per-state arrays allocated; 0, or the status that stopped it */
int qc_live_graph(ctx_t *c, volatile int *stop) {
    struct live *L = c->live;
    L->stop = stop;
    c->status = 0;
    if (c->g_n != c->n) {
        if (c->graph_lost) return searched(c, c->graph_lost);
        if (rebuild_graph(c)) return searched(c, c->status);
    }
    free(c->table); c->table = 0; c->tcap = 0;
    free(c->succ); free(c->succ_action); c->succ = 0; c->succ_action = 0; c->succ_cap = 0;
    while (L->ninit < c->n && c->parent[L->ninit] == 0xffffffffU) L->ninit++;
    L->flag = live_alloc(c, 0, 0, c->n ? c->n : 1);
    L->mark = L->flag ? live_alloc(c, 0, 0, (c->n ? c->n : 1) * 4) : 0;
    return searched(c, L->mark ? 0 : c->status);
}

/* the first state (in the search's order) where a liveness property cannot be evaluated */
int qc_live_scan(ctx_t *c, volatile int *stop, int64_t *where) {
    val cur[NSLOTS];
    c->live->stop = stop;
    c->status = 0;
    for (uint64_t v = 0; v < c->n; v++) {
        if (halted(c)) return searched(c, c->status);
        unpack(c->states + v * NWORDS, cur);
        err = 0;
        for (int k = 0; k < NLIVE; k++) {
            (void)temporal(k, cur);
            if (err) { *where = (int64_t)v; return searched(c, err == 3 ? OVERFLOW_ : MODEL_ERROR_); }
        }
    }
    return searched(c, 0);
}

/* the set of assumptions an action covers, or that a state's steps cover (enabled there) */
static const uint64_t *cover_of(const struct live *L, int action) { return L->cover + (uint64_t)action * L->fw; }
static void enabled_at(ctx_t *c, uint32_t v, uint64_t *en) {
    struct live *L = c->live;
    memset(en, 0, (size_t)L->fw * 8);
    if (!L->nfair) return;   /* no actions recorded, none needed */
    for (uint32_t e = c->g_off[v]; e < c->g_off[v + 1]; e++) {
        const uint64_t *m = cover_of(L, c->g_act[e]);
        for (int i = 0; i < L->fw; i++) en[i] |= m[i];
    }
}
static int has(const uint64_t *set, int f) { return (int)(set[f >> 6] >> (f & 63)) & 1; }

/* the property: flags ------------------------------------------------------------------- */
static int live_flags(ctx_t *c, int k, int kind) {
    struct live *L = c->live;
    val cur[NSLOTS];
    for (uint64_t v = 0; v < c->n; v++) {
        if (halted(c)) return 1;
        unpack(c->states + v * NWORDS, cur);
        err = 0;
        int pq = temporal(k, cur);
        if (err) { c->status = err == 3 ? OVERFLOW_ : MODEL_ERROR_; c->where = (int64_t)v; return 1; }
        int p = pq & 1, q = pq >> 1;
        uint8_t f = 0;
        if (kind == K_EVENTUALLY) f = p ? 0 : F_STAY | (v < L->ninit ? F_ENTRY : 0);
        else if (kind == K_ALWAYS_EVENTUALLY) f = p ? 0 : F_STAY | F_ENTRY;
        else if (kind == K_EVENTUALLY_ALWAYS) f = F_STAY | F_ENTRY | (p ? 0 : F_ACCEPT);
        else f = q ? 0 : F_STAY | (p ? F_ENTRY : 0);
        L->flag[v] = f;
    }
    memset(L->mark, 0, c->n * 4);
    L->accept = kind == K_EVENTUALLY_ALWAYS;
    L->free_prefix = kind != K_EVENTUALLY;
    return 0;
}

/* the states a pending prefix reaches from the entry states, inside `stay`: made active */
static int live_region(ctx_t *c) {
    struct live *L = c->live;
    for (uint64_t r = 0; r < c->n; r++) {
        if (!(L->flag[r] & F_ENTRY) || (L->flag[r] & F_ACTIVE)) continue;
        L->flag[r] |= F_ACTIVE;
        L->S.n = 0;
        if (!vpush(c, &L->S, (uint32_t)r)) return 1;
        while (L->S.n) {
            uint32_t v = L->S.a[--L->S.n];
            if (halted(c)) return 1;
            for (uint32_t e = c->g_off[v]; e < c->g_off[v + 1]; e++) {
                uint32_t w = c->g_dst[e];
                if ((L->flag[w] & (F_STAY | F_ACTIVE)) != F_STAY) continue;
                L->flag[w] |= F_ACTIVE;
                if (!vpush(c, &L->S, w)) return 1;
            }
        }
    }
    return 0;
}

/* components ------------------------------------------------------------------------------- */
/* the component in `comp` under the fairness assumptions: fair (its states numbered), unfair, or
   refined (the states where a strongly fair action it never takes is enabled removed, the rest
   queued to be split again) */
static int judge(ctx_t *c) {
    struct live *L = c->live;
    vec32 *comp = &L->comp;
    int fw = L->fw;
    int accepted = !L->accept;
    for (uint64_t i = 0; i < comp->n; i++) {
        L->flag[comp->a[i]] &= ~F_ACTIVE;
        if (L->flag[comp->a[i]] & F_ACCEPT) accepted = 1;
    }
    if (!accepted) return 0;
    int ok = 1, refine = 0;
    if (L->nfair) {
        for (uint64_t i = 0; i < comp->n; i++) L->flag[comp->a[i]] |= F_INSIDE;
        memset(L->taken, 0, (size_t)fw * 8);
        memset(L->cnt, 0, (size_t)L->nfair * 8);
        for (uint64_t i = 0; i < comp->n; i++) {
            uint32_t v = comp->a[i];
            if (halted(c)) return 1;
            memset(L->en, 0, (size_t)fw * 8);
            for (uint32_t e = c->g_off[v]; e < c->g_off[v + 1]; e++) {
                const uint64_t *m = cover_of(L, c->g_act[e]);
                int in = (L->flag[c->g_dst[e]] & F_INSIDE) != 0;
                for (int j = 0; j < fw; j++) { L->en[j] |= m[j]; if (in) L->taken[j] |= m[j]; }
            }
            for (int j = 0; j < fw; j++)
                for (uint64_t b = L->en[j]; b; b &= b - 1) L->cnt[j * 64 + __builtin_ctzll(b)]++;
        }
        for (uint64_t i = 0; i < comp->n; i++) L->flag[comp->a[i]] &= ~F_INSIDE;
        memset(L->rm, 0, (size_t)fw * 8);
        for (int f = 0; f < L->nfair && ok; f++) {
            if (has(L->taken, f)) continue;
            if (!L->strong[f] && L->cnt[f] == comp->n) ok = 0;
            else if (L->strong[f] && L->cnt[f]) { L->rm[f >> 6] |= 1ULL << (f & 63); refine = 1; }
        }
    }
    if (!ok) return 0;
    if (!refine) {
        L->fair_comps++;
        for (uint64_t i = 0; i < comp->n; i++) { L->flag[comp->a[i]] |= F_FAIR; L->mark[comp->a[i]] = L->fair_comps; }
        return 0;
    }
    uint64_t kept = 0;
    for (uint64_t i = 0; i < comp->n; i++) {
        uint32_t v = comp->a[i];
        enabled_at(c, v, L->en);
        int removed = 0;
        for (int j = 0; j < fw; j++) removed |= (L->en[j] & L->rm[j]) != 0;
        if (!removed) { if (!vpush(c, &L->jobs, v)) return 1; kept++; }
    }
    return kept ? !vpush(c, &L->joblen, (uint32_t)kept) : 0;
}

/* the node stack's top, down to root v: a component, judged */
static int close_comp(ctx_t *c, uint32_t v) {
    struct live *L = c->live;
    L->comp.n = 0;
    if (!vpush(c, &L->comp, v)) return 1;
    while (L->S.n && L->mark[v] <= L->mark[L->S.a[L->S.n - 1]])
        if (!vpush(c, &L->comp, L->S.a[--L->S.n])) return 1;
    return judge(c);
}
static int enter(ctx_t *c, uint32_t v) {
    struct live *L = c->live;
    L->mark[v] = ++L->index;
    L->flag[v] |= F_ROOT;
    return vpush(c, &L->fv, v) && vpush(c, &L->fe, c->g_off[v]);
}
/* Tarjan's algorithm from `root` over the active states, iteratively; Pearce's single number per
   state (the index, lowered to the low link) */
static int tarjan(ctx_t *c, uint32_t root) {
    struct live *L = c->live;
    if (!enter(c, root)) return 1;
    while (L->fv.n) {
        uint64_t top = L->fv.n - 1;
        uint32_t v = L->fv.a[top], e = L->fe.a[top], end = c->g_off[v + 1];
        int deeper = 0;
        while (e < end && !deeper) {
            uint32_t w = c->g_dst[e++];
            if (!(L->flag[w] & F_ACTIVE)) continue;
            if (!L->mark[w]) { L->fe.a[top] = e; if (!enter(c, w)) return 1; deeper = 1; }
            else if (L->mark[w] < L->mark[v]) { L->mark[v] = L->mark[w]; L->flag[v] &= ~F_ROOT; }
        }
        if (deeper) continue;
        if (halted(c)) return 1;
        L->fv.n--; L->fe.n--;
        if (L->flag[v] & F_ROOT) {
            L->flag[v] &= ~F_ROOT;
            if (close_comp(c, v)) return 1;
        } else if (!vpush(c, &L->S, v)) return 1;
        if (L->fv.n && (L->flag[v] & F_ACTIVE)) {   /* v is still open: its parent takes its low link */
            uint32_t u = L->fv.a[L->fv.n - 1];
            if (L->mark[v] < L->mark[u]) { L->mark[u] = L->mark[v]; L->flag[u] &= ~F_ROOT; }
        }
    }
    return 0;
}
/* every fair component of the region, refining as strong fairness requires */
static int live_components(ctx_t *c) {
    struct live *L = c->live;
    L->fair_comps = 0; L->index = 0;
    L->S.n = L->jobs.n = L->joblen.n = 0;
    for (uint64_t v = 0; v < c->n; v++)
        if ((L->flag[v] & F_ACTIVE) && !L->mark[v] && tarjan(c, (uint32_t)v)) return 1;
    while (L->joblen.n) {
        uint32_t len = L->joblen.a[--L->joblen.n];
        L->job.n = 0;
        for (uint64_t i = L->jobs.n - len; i < L->jobs.n; i++) {
            uint32_t v = L->jobs.a[i];
            L->flag[v] |= F_ACTIVE; L->mark[v] = 0;
            if (!vpush(c, &L->job, v)) return 1;
        }
        L->jobs.n -= len;
        L->index = 0;
        for (uint64_t i = 0; i < L->job.n; i++) {
            uint32_t v = L->job.a[i];
            if ((L->flag[v] & F_ACTIVE) && !L->mark[v] && tarjan(c, v)) return 1;
        }
    }
    return 0;
}

/* the lasso --------------------------------------------------------------------------------- */
static uint32_t first_step(ctx_t *c, uint32_t from, uint32_t to) {
    uint32_t e = c->g_off[from];
    while (c->g_dst[e] != to) e++;
    return e;
}
/* the prefix search reaches (w, pending) from state p ((p, pending of p): `from_pending`); (w, not
   pending) at an entry state is (w, pending) too, at once: the same state, no step taken */
static int reach(ctx_t *c, uint32_t w, int pending, uint32_t p, int from_pending) {
    struct live *L = c->live;
    if (!pending) {
        if (L->flag[w] & F_SEEN0) return 0;
        L->flag[w] |= F_SEEN0; L->par0[w] = p;
        if (!rpush(c, &L->q, (uint64_t)w << 1, 0)) return 1;
        return (L->flag[w] & F_ENTRY) ? reach(c, w, 1, p, 0) : 0;
    }
    if (L->flag[w] & F_SEEN1) return 0;
    L->flag[w] = (uint8_t)((L->flag[w] | F_SEEN1) & ~F_PREDP);
    if (from_pending) L->flag[w] |= F_PREDP;
    L->par1[w] = p;
    return !rpush(c, &L->q, (uint64_t)w << 1 | 1, 0);
}
/* LivenessCheck.prefix: a shortest path from an initial state to a state flagged `target`,
   pending from an entry state on, into (nodes, steps); *found 0 when there is none */
static int prefix(ctx_t *c, uint8_t target, vec32 *nodes, vec32 *steps, int *found) {
    struct live *L = c->live;
    ring64 *q = &L->q;
    q->n = q->head = 0;
    *found = 0;
    for (uint64_t v = 0; v < L->ninit; v++)
        if ((L->free_prefix || (L->flag[v] & F_ENTRY)) && reach(c, (uint32_t)v, !L->free_prefix, NONE, 0)) return 1;
    while (q->n) {
        if (halted(c)) return 1;
        uint64_t x = rpop(q);
        uint32_t v = (uint32_t)(x >> 1);
        int pending = (int)(x & 1);
        if (pending && (L->flag[v] & target)) {
            nodes->n = steps->n = 0;
            for (;;) {
                if (!vpush(c, nodes, v)) return 1;
                uint32_t p = pending ? L->par1[v] : L->par0[v];
                if (p == NONE) break;
                int pp = pending && (L->flag[v] & F_PREDP);
                if (!vpush(c, steps, first_step(c, p, v))) return 1;
                v = p; pending = pp;
            }
            for (uint64_t i = 0, j = nodes->n - 1; i < j; i++, j--) { uint32_t t = nodes->a[i]; nodes->a[i] = nodes->a[j]; nodes->a[j] = t; }
            for (uint64_t i = 0, j = steps->n ? steps->n - 1 : 0; i < j; i++, j--) { uint32_t t = steps->a[i]; steps->a[i] = steps->a[j]; steps->a[j] = t; }
            *found = 1;
            break;
        }
        for (uint32_t e = c->g_off[v]; e < c->g_off[v + 1]; e++)
            if ((!pending || (L->flag[c->g_dst[e]] & F_STAY)) && reach(c, c->g_dst[e], pending, v, pending)) return 1;
    }
    for (uint64_t v = 0; v < c->n; v++) L->flag[v] &= (uint8_t)~(F_SEEN0 | F_SEEN1 | F_PREDP);
    return 0;
}

static int in_comp(const struct live *L, uint32_t w) { return (L->flag[w] & F_FAIR) && L->mark[w] == L->cid; }
/* the cycle so far goes on by edge e */
static void cycle_step(ctx_t *c, uint32_t e) {
    struct live *L = c->live;
    L->cyc_n.a[L->cyc_n.n++] = c->g_dst[e];
    L->cyc_s.a[L->cyc_s.n++] = e;
    if (L->nfair) {
        const uint64_t *m = cover_of(L, c->g_act[e]);
        for (int j = 0; j < L->fw; j++) L->taken[j] |= m[j];
    }
}
static int state_goal(ctx_t *c, int goal, int f, uint32_t v) {
    if (goal == G_ACCEPT) return (c->live->flag[v] & F_ACCEPT) != 0;
    if (goal != G_REST) return 0;
    enabled_at(c, v, c->live->en);
    return !has(c->live->en, f);
}
static int edge_goal(ctx_t *c, int goal, int f, uint32_t e, uint32_t start) {
    if (goal == G_TAKE) return has(cover_of(c->live, c->g_act[e]), f);
    return goal == G_BACK && c->g_dst[e] == start;
}
/* the walk's path from its source to v, then (unless NONE) edge `last`, onto the cycle */
static int walk_to(ctx_t *c, uint32_t v, uint32_t last) {
    struct live *L = c->live;
    L->job.n = 0;
    if (last != NONE && !vpush(c, &L->job, last)) return 1;
    for (; L->par0[v] != NONE; v = L->par0[v]) if (!vpush(c, &L->job, L->par1[v])) return 1;
    for (uint64_t i = 0; i < L->job.n; i++)
        if (!vpush(c, &L->cyc_n, 0) || !vpush(c, &L->cyc_s, 0)) return 1;
    L->cyc_n.n -= L->job.n; L->cyc_s.n -= L->job.n;
    for (uint64_t i = L->job.n; i-- > 0;) cycle_step(c, L->job.a[i]);
    return 0;
}
/* LivenessCheck.cycle's walk: breadth first inside the component from the cycle's last state to
   the nearest state or step meeting the goal, which the cycle then takes */
static int walk(ctx_t *c, int goal, int f, uint32_t start) {
    struct live *L = c->live;
    uint32_t src = L->cyc_n.a[L->cyc_n.n - 1];
    int done = 0;
    L->walkq.n = 0;
    L->flag[src] |= F_SEEN0; L->par0[src] = NONE;
    if (!vpush(c, &L->walkq, src)) return 1;
    for (uint64_t i = 0; i < L->walkq.n && !done; i++) {
        if (halted(c)) return 1;
        uint32_t v = L->walkq.a[i];
        if (v != src && state_goal(c, goal, f, v)) { if (walk_to(c, v, NONE)) return 1; done = 1; break; }
        for (uint32_t e = c->g_off[v]; e < c->g_off[v + 1]; e++) {
            uint32_t w = c->g_dst[e];
            if (!in_comp(L, w)) continue;
            if (edge_goal(c, goal, f, e, start)) { if (walk_to(c, v, e)) return 1; done = 1; break; }
            if (L->flag[w] & F_SEEN0) continue;
            L->flag[w] |= F_SEEN0; L->par0[w] = v; L->par1[w] = e;
            if (!vpush(c, &L->walkq, w)) return 1;
        }
    }
    for (uint64_t i = 0; i < L->walkq.n; i++) L->flag[L->walkq.a[i]] &= (uint8_t)~F_SEEN0;
    if (!done) { c->status = LIVE_BUG_; return 1; }   /* a fair component without what fairness needs */
    return 0;
}
/* the first fairness assumption the cycle does not meet yet, or -1 (LivenessCheck.cycle's needs) */
static int unmet(ctx_t *c, const uint64_t *comp_en) {
    struct live *L = c->live;
    int fw = L->fw;
    for (int j = 0; j < fw; j++) L->all[j] = ~0ULL;
    for (uint64_t i = 0; i < L->cyc_n.n; i++) {
        enabled_at(c, L->cyc_n.a[i], L->en);
        for (int j = 0; j < fw; j++) L->all[j] &= L->en[j];
    }
    for (int f = 0; f < L->nfair; f++) {
        if (has(L->taken, f)) continue;
        if (L->strong[f] ? !has(comp_en, f) : !has(L->all, f)) continue;
        return f;
    }
    return -1;
}
/* LivenessCheck.cycle from `start`, in its fair component: states in cyc_n, steps in cyc_s */
static int cycle(ctx_t *c, uint32_t start) {
    struct live *L = c->live;
    int fw = L->fw;
    L->cid = L->mark[start];
    uint64_t *comp_en = L->rm, *comp_taken = L->cnt;   /* free here: the components are known */
    memset(comp_en, 0, (size_t)fw * 8); memset(comp_taken, 0, (size_t)fw * 8);
    for (uint64_t v = 0; v < c->n && L->nfair; v++) {
        if (!in_comp(L, (uint32_t)v)) continue;
        for (uint32_t e = c->g_off[v]; e < c->g_off[v + 1]; e++) {
            const uint64_t *m = cover_of(L, c->g_act[e]);
            for (int j = 0; j < fw; j++) { comp_en[j] |= m[j]; if (in_comp(L, c->g_dst[e])) comp_taken[j] |= m[j]; }
        }
    }
    L->cyc_n.n = L->cyc_s.n = 0;
    memset(L->taken, 0, (size_t)fw * 8);
    if (!vpush(c, &L->cyc_n, start)) return 1;
    if (L->accept && !(L->flag[start] & F_ACCEPT) && walk(c, G_ACCEPT, 0, start)) return 1;
    for (int f; (f = unmet(c, comp_en)) >= 0;)
        if (walk(c, has(comp_taken, f) ? G_TAKE : G_REST, f, start)) return 1;
    if (L->cyc_s.n && L->cyc_n.a[L->cyc_n.n - 1] != start && walk(c, G_BACK, 0, start)) return 1;
    return 0;
}
/* the states of fair components where stuttering for ever is fair (and accepted): flagged */
static int mark_still(ctx_t *c) {
    struct live *L = c->live;
    int any = 0;
    for (uint64_t v = 0; v < c->n; v++) {
        if (!(L->flag[v] & F_FAIR) || (L->accept && !(L->flag[v] & F_ACCEPT))) continue;
        int quiet = 1;
        if (L->nfair) {
            enabled_at(c, (uint32_t)v, L->en);
            for (int j = 0; j < L->fw; j++) quiet &= L->en[j] == 0;
        }
        if (quiet) { L->flag[v] |= F_STILL; any = 1; }
    }
    return any;
}
/* LivenessCheck.lasso: a shortest prefix to a fair component and a cycle in it, or a shortest
   prefix to where stuttering for ever is fair when that is no longer */
static int lasso(ctx_t *c) {
    struct live *L = c->live;
    int found;
    if (!L->par0) {
        L->par0 = live_alloc(c, 0, 0, c->n * 4);
        L->par1 = L->par0 ? live_alloc(c, 0, 0, c->n * 4) : 0;
        if (!L->par1) return 1;
    }
    if (prefix(c, F_FAIR, &L->pre_n, &L->pre_s, &found)) return 1;
    if (!found) { c->status = LIVE_BUG_; return 1; }   /* a fair component no prefix reaches */
    if (cycle(c, L->pre_n.a[L->pre_n.n - 1])) return 1;
    if (L->cyc_s.n && mark_still(c)) {
        if (prefix(c, F_STILL, &L->alt_n, &L->alt_s, &found)) return 1;
        if (found && L->alt_s.n <= L->pre_s.n + L->cyc_s.n) {
            vec32 t = L->pre_n; L->pre_n = L->alt_n; L->alt_n = t;
            t = L->pre_s; L->pre_s = L->alt_s; L->alt_s = t;
            L->cyc_n.n = 1; L->cyc_n.a[0] = L->pre_n.a[L->pre_n.n - 1]; L->cyc_s.n = 0;
        }
    }
    return 0;
}

/* liveness property instance k (of kind `kind`): DONE_ when it holds, LASSO_ when a lasso breaks it
   (qc_live_lasso gives it), else the status that stopped the check */
int qc_live_check(ctx_t *c, int k, int kind, volatile int *stop) {
    struct live *L = c->live;
    L->stop = stop;
    c->status = 0;
    if (live_flags(c, k, kind) || live_region(c) || live_components(c)) return searched(c, c->status);
    if (!L->fair_comps) return searched(c, DONE_);
    return searched(c, lasso(c) ? c->status : LASSO_);
}

/* the lasso found last: its states (the prefix's, then the cycle's after its first) and each
   step's place among its state's successors; gives the number of states, and the place where
   the cycle starts in `loop` (states and places may be null, to ask the size) */
uint64_t qc_live_lasso(ctx_t *c, uint32_t *states, uint32_t *places, uint64_t *loop) {
    struct live *L = c->live;
    uint64_t n = 0, s = 0;
    for (uint64_t i = 0; i < L->pre_n.n; i++, n++) if (states) states[n] = L->pre_n.a[i];
    for (uint64_t i = 1; i < L->cyc_n.n; i++, n++) if (states) states[n] = L->cyc_n.a[i];
    if (places) {
        for (uint64_t i = 0; i < L->pre_s.n; i++, s++) places[s] = L->pre_s.a[i] - c->g_off[states[s]];
        for (uint64_t i = 0; i < L->cyc_s.n; i++, s++) places[s] = L->cyc_s.a[i] - c->g_off[states[s]];
    }
    if (loop) *loop = L->pre_n.n - 1;
    return n;
}

/* the bytes the graph fills (its arrays may hold more, not yet written), and the check's */
void qc_live_bytes(ctx_t *c, uint64_t *out) {
    out[0] = (c->g_n + 1) * sizeof *c->g_off + c->g_m * (sizeof *c->g_dst + (c->g_act ? sizeof *c->g_act : 0));
    out[1] = c->live_bytes;
}

static void live_free(ctx_t *c) {
    struct live *L = c->live;
    if (!L) return;
    vec32 *vs[] = {&L->fv, &L->fe, &L->S, &L->comp, &L->jobs, &L->joblen, &L->job, &L->walkq,
                   &L->pre_n, &L->pre_s, &L->alt_n, &L->alt_s, &L->cyc_n, &L->cyc_s};
    for (size_t i = 0; i < sizeof vs / sizeof *vs; i++) free(vs[i]->a);
    free(L->q.a); free(L->strong); free(L->cover); free(L->taken); free(L->en); free(L->all); free(L->rm);
    free(L->cnt); free(L->flag); free(L->mark); free(L->par0); free(L->par1); free(L);
    c->live = 0; c->live_bytes = 0;
}
