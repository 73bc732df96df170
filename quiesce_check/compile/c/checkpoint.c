/* Saving and resuming. A search is saved as it stood between two expansions: the states
   (packed words) and parents of its first n states, the queue (head, level_end, depth) and
   every counter and first-violation record. One that stopped inside an expansion, or that is
   finishing a level after a violation, is saved as it was before that expansion began:
   resumed, it does that expansion again and comes to the same end. Comes after bfs.c; a saved
   state is checked with the model's pack, unpack and in_range. */

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
