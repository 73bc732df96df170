/* The state store: packed states in one array in discovery order, a parent index per state, an
   open-addressing table of state indices, and the memory they take counted against the limit. */

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
    return x;
}
static inline uint64_t hash_words(const uint64_t *w) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < NWORDS; i++) h = mix(h ^ w[i]) + (uint64_t)i;
    return h;
}

static uint64_t graph_bytes(const ctx_t *c) {
    return c->g_off_cap * sizeof *c->g_off + c->g_cap * (sizeof *c->g_dst + (c->g_act ? sizeof *c->g_act : 0));
}
static uint64_t mem_used(const ctx_t *c) {
    return c->tcap * sizeof *c->table + c->cap * (NWORDS * sizeof *c->states + sizeof *c->parent)
         + c->succ_cap * (NWORDS * sizeof *c->succ + sizeof *c->succ_action) + graph_bytes(c) + c->live_bytes + c->aux_bytes;
}
/* room for `extra` more bytes under the memory limit */
static int room(const ctx_t *c, uint64_t extra) { return !c->mem_limit || mem_used(c) + extra <= c->mem_limit; }
/* ... for the search: the liveness graph gives way to it (the safety verdicts come first; the
   liveness check then says that memory stopped it) */
static int fits(ctx_t *c, uint64_t extra) {
    if (room(c, extra)) return 1;
    if (c->g_off || c->g_dst) drop_graph(c, MEMORY_LIMIT_);
    return room(c, extra);
}

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

/* the index of a stored state, or -1 */
static int64_t find(const ctx_t *c, const uint64_t *w) {
    uint64_t h = hash_words(w) & (c->tcap - 1);
    while (c->table[h]) {
        if (memcmp(c->states + (uint64_t)(c->table[h] - 1) * NWORDS, w, NWORDS * sizeof *w) == 0)
            return (int64_t)c->table[h] - 1;
        h = (h + 1) & (c->tcap - 1);
    }
    return -1;
}

/* -1: already seen (its index in `seen_at`); otherwise the new state's index; -2: stop (status set) */
static int64_t insert(ctx_t *c, const uint64_t *w, uint32_t parent) {
    /* grow at 70 % load: linear probing stays short, the table costs 6-11 bytes a state */
    if ((c->n + 1) * 10 > c->tcap * 7) {
        int g = grow_table(c);
        if (g <= 0) { set_memory_status(c, g); return -2; }
    }
    uint64_t h = hash_words(w) & (c->tcap - 1);
    while (c->table[h]) {
        if (memcmp(c->states + (uint64_t)(c->table[h] - 1) * NWORDS, w, NWORDS * sizeof *w) == 0) {
            c->seen_at = (int64_t)c->table[h] - 1;
            return -1;
        }
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
