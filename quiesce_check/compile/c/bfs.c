/* The breadth-first search and the functions the engine calls through ctypes (qc_*).

   Comes after the model's part: pack, unpack, expand (which calls `emit` for each successor),
   violations, finals, goals, end_goals, terminal, step_violations, and canon when QC_SYMMETRY is
   defined. */

/* the liveness graph (live.c): one step of the state being committed, then its end */
static void record_step(ctx_t *c, uint64_t to, int action);
static void close_state(ctx_t *c);

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

/* a step from state `parent` (`pos` among its successors) by `action`, from `cur` to `nxt`: the
   step properties it breaks; nonzero when the search must stop (status set) */
static int check_step(ctx_t *c, const val *cur, const val *nxt, int action, uint32_t parent, uint64_t pos) {
    unsigned char bad[NSTEP1];
    err = 0;
    memset(bad, 0, sizeof bad);
    step_violations(cur, nxt, (val)action, bad);
    if (err) { c->status = err == 3 ? OVERFLOW_ : STEP_ERROR_; c->where = parent; c->what = (int64_t)pos; return 1; }
    for (int k = 0; k < NSTEP1 - 1; k++) {
        if (!bad[k] || c->step_first[k] >= 0) continue;
        c->step_first[k] = parent; c->step_pos[k] = (int64_t)pos;
        if (!c->keep_going) { c->status = ACTION_; c->where = parent; c->what = k; return 1; }
    }
    return 0;
}

/* insert the buffered successors of state `parent` (unpacked in `cur`), checking each step and each
   new state, and recording the steps in the liveness graph */
static int commit(ctx_t *c, const val *cur, uint32_t parent) {
    val t[NSLOTS];
    int rec = c->record && c->g_n == parent;
    for (uint64_t i = 0; i < c->nsucc; i++) {
        const uint64_t *w = c->succ + i * NWORDS;
        int action = c->succ_action[i];
        c->generated++;
        c->fired[action]++;
        c->committed = i + 1;
        if (NSTEP1 > 1) {
            unpack(w, t);
            if (check_step(c, cur, t, action, parent, i)) return 1;
        }
        int64_t idx = insert(c, w, parent);
        if (idx == -2) return 1;
        if (rec && c->record) record_step(c, (uint64_t)(idx == -1 ? c->seen_at : idx), action);
        if (idx == -1) continue;
        c->fresh[action]++;
        if (NSTEP1 == 1) unpack(w, t);
        if (check_new(c, t, idx)) return 1;
    }
    if (rec && c->record) close_state(c);
    return 0;
}

/* `record`: 0 no liveness graph, 1 the steps' targets, 2 their actions too (for fairness) */
ctx_t *qc_new(uint64_t max_states, uint64_t max_depth, int check_deadlock, int keep_going, uint64_t mem_limit,
              int record) {
    ctx_t *c = calloc(1, sizeof *c);
    if (!c) return 0;
    c->max_states = max_states; c->max_depth = max_depth; c->check_deadlock = check_deadlock;
    c->keep_going = keep_going; c->mem_limit = mem_limit; c->record = record;
    for (int i = 0; i < NSTEP1; i++) c->step_first[i] = c->step_pos[i] = -1;
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
    drop_graph(c, 0); live_free(c);
#ifdef QC_PART
    part_free(c);
#endif
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
    if (c->status != INVARIANT_ && c->status != ASSERTION_ && c->status != MODEL_ERROR_ && c->status != ACTION_
        && c->status != STEP_ERROR_) return 0;
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
        if (c->status || commit(c, cur, (uint32_t)idx)) {
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
/* the first step breaking each step property: the state it leaves, its place among its successors */
void qc_step_firsts(ctx_t *c, int64_t *state, int64_t *pos) {
    memcpy(state, c->step_first, sizeof c->step_first); memcpy(pos, c->step_pos, sizeof c->step_pos);
}
void qc_state(ctx_t *c, uint64_t idx, val *out) { unpack(c->states + idx * NWORDS, out); }
uint32_t qc_parent(ctx_t *c, uint64_t idx) { return c->parent[idx]; }
