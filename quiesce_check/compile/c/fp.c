/* Breadth-first search over fingerprints (`--store fingerprint`): the visited set holds a 64-bit
   fingerprint of each packed state (`hash_words`, which is one-to-one on a one-word state), not
   the state; the frontier and the parent links are in files. Comes after bfs.c, whose checks
   (check_new, check_end) and `emit` it shares, with the context's counters and first-violation
   records; its own state is `c->fps`. A state's record number is its place in discovery order,
   as in the exact search, so the two count, stop and report alike.

   The visited set: one sorted array of fingerprints (`main`), an index of where each value of
   their top bits starts in it, and a recent buffer: an open-addressing table whose home slot is
   a fingerprint's top bits, probed linearly with no wrap-around, so that its entries read in
   slot order are almost sorted. When the buffer is half full it is compacted, sorted (insertion
   sort: entries are only a few places out of order) and merged into `main` in place from the
   back (`main` grown by realloc, which for large arrays remaps pages instead of copying). About
   8 bytes a state for `main`, at most 1 for the buffer and 1/2 for the index.

   The files, in the folder the engine opened (`dirfd`), each created O_EXCL|O_NOFOLLOW (a name
   already there, a planted link among them, is an error, never followed): `links`, a record per
   visited state in discovery order (its fingerprint, its parent's record number), and `level-D`,
   the packed states first reached at depth D in discovery order, removed once read. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define SPILL_IO_ 100          /* a spill file could not be created, written or read (errno kept) */
#define FP_NONE UINT64_MAX     /* the parent of an initial state */
#define FP_TAIL 1024           /* slots past the buffer's last home slot a probe may run into */
#define FP_IO (1u << 20)       /* bytes buffered per file */
#define FP_MIN_BITS 16         /* the smallest buffer: 2^16 slots */

typedef struct { int fd; unsigned char *buf; size_t len, pos; } fp_file;

struct fpstore {
    int dirfd;
    uint64_t *main, nmain;     /* sorted */
    uint64_t *index; int ibits;  /* index[k]: the first place in main whose top ibits bits are >= k */
    uint64_t *buf, bn; int bbits;  /* 2^bbits home slots and FP_TAIL more; 0: empty */
    int zero;                  /* the fingerprint 0 was seen (0 marks an empty slot) */
    uint64_t peak;             /* the most the visited set took */
    fp_file links, cur, next;  /* `cur` reads the level being expanded, `next` writes the one after */
    uint64_t next_depth;       /* the depth `next` holds */
    int reading;               /* `cur` is open */
    int io_errno;
};

static uint64_t fp_bytes(const struct fpstore *s) {
    return (s->nmain + ((1ULL << s->bbits) + FP_TAIL) + (s->index ? (1ULL << s->ibits) + 1 : 0)) * sizeof(uint64_t);
}
static int fp_room(const ctx_t *c, uint64_t extra) {
    return !c->mem_limit || mem_used(c) + fp_bytes(c->fps) + 3 * FP_IO + extra <= c->mem_limit;
}
static int fp_io_error(ctx_t *c) {
    c->fps->io_errno = errno ? errno : EIO;
    c->status = SPILL_IO_;
    return 1;
}

/* files ------------------------------------------------------------------------------------ */
static int fp_create(ctx_t *c, fp_file *f, const char *name) {
    f->len = f->pos = 0;
    f->fd = openat(c->fps->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (f->fd < 0) return fp_io_error(c);
    if (!f->buf && !(f->buf = malloc(FP_IO))) { c->status = NO_MEMORY_; return 1; }
    return 0;
}
static int fp_flush(ctx_t *c, fp_file *f) {
    size_t done = 0;
    while (done < f->len) {
        ssize_t k = write(f->fd, f->buf + done, f->len - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return fp_io_error(c);
        done += (size_t)k;
    }
    f->len = 0;
    return 0;
}
static int fp_put(ctx_t *c, fp_file *f, const void *p, size_t n) {
    if (f->len + n > FP_IO && fp_flush(c, f)) return 1;
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}
/* the next n bytes of a file being read */
static int fp_get(ctx_t *c, fp_file *f, void *p, size_t n) {
    if (f->pos + n > f->len) {
        memmove(f->buf, f->buf + f->pos, f->len - f->pos);
        f->len -= f->pos; f->pos = 0;
        while (f->len < n) {
            ssize_t k = read(f->fd, f->buf + f->len, FP_IO - f->len);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) { if (k == 0) errno = EIO; return fp_io_error(c); }
            f->len += (size_t)k;
        }
    }
    memcpy(p, f->buf + f->pos, n);
    f->pos += n;
    return 0;
}
static void fp_level_name(char *out, size_t size, uint64_t depth) {
    snprintf(out, size, "level-%llu", (unsigned long long)depth);
}
static void fp_close(fp_file *f) { if (f->fd >= 0) close(f->fd); f->fd = -1; }

/* the level just written becomes the one read; the one read before is removed; the next is begun */
static int fp_rotate(ctx_t *c) {
    struct fpstore *s = c->fps;
    char name[32];
    if (s->reading) {
        fp_close(&s->cur);
        fp_level_name(name, sizeof name, s->next_depth - 1);
        unlinkat(s->dirfd, name, 0);
    }
    if (fp_flush(c, &s->next)) return 1;
    if (lseek(s->next.fd, 0, SEEK_SET) < 0) return fp_io_error(c);
    unsigned char *spare = s->cur.buf;
    s->cur = s->next; s->cur.len = s->cur.pos = 0;
    s->next.buf = spare; s->next.fd = -1;
    s->reading = 1;
    fp_level_name(name, sizeof name, ++s->next_depth);
    return fp_create(c, &s->next, name);
}

/* the visited set ---------------------------------------------------------------------------- */
static int fp_in_main(const struct fpstore *s, uint64_t fp) {
    if (!s->nmain) return 0;
    uint64_t k = fp >> (64 - s->ibits), lo = s->index[k], hi = s->index[k + 1];
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (s->main[mid] < fp) lo = mid + 1; else hi = mid;
    }
    return lo < s->index[k + 1] && s->main[lo] == fp;
}
static int floor_log2(uint64_t x) { return x ? 63 - __builtin_clzll(x) : 0; }

/* the buffer into the sorted array; 0 when memory does not allow it (status set) */
static int fp_merge(ctx_t *c) {
    struct fpstore *s = c->fps;
    uint64_t m = s->bn, n = s->nmain + m;
    int ibits = floor_log2(n / 16); if (ibits < 1) ibits = 1; if (ibits > 40) ibits = 40;
    int bbits = floor_log2(n / 8); if (bbits < FP_MIN_BITS) bbits = FP_MIN_BITS; if (bbits > 40) bbits = 40;
    uint64_t extra = m * sizeof(uint64_t);
    if (ibits > s->ibits || !s->index) extra += ((1ULL << ibits) + 1) * sizeof(uint64_t);
    if (bbits > s->bbits) extra += ((1ULL << bbits) + FP_TAIL) * sizeof(uint64_t);
    if (!fp_room(c, extra)) { c->status = MEMORY_LIMIT_; return 0; }
    uint64_t end = (1ULL << s->bbits) + FP_TAIL, k = 0;
    for (uint64_t i = 0; i < end; i++) if (s->buf[i]) s->buf[k++] = s->buf[i];
    for (uint64_t i = 1; i < m; i++) {
        uint64_t x = s->buf[i], j = i;
        while (j && s->buf[j - 1] > x) { s->buf[j] = s->buf[j - 1]; j--; }
        s->buf[j] = x;
    }
    uint64_t *grown = realloc(s->main, (n ? n : 1) * sizeof *grown);
    if (!grown) { c->status = NO_MEMORY_; return 0; }
    s->main = grown;
    uint64_t i = s->nmain, j = m;
    k = n;
    while (j) s->main[--k] = (i && s->main[i - 1] > s->buf[j - 1]) ? s->main[--i] : s->buf[--j];
    s->nmain = n;
    if (ibits != s->ibits || !s->index) {
        uint64_t *ix = realloc(s->index, ((1ULL << ibits) + 1) * sizeof *ix);
        if (!ix) { c->status = NO_MEMORY_; return 0; }
        s->index = ix; s->ibits = ibits;
    }
    uint64_t p = 0, buckets = 1ULL << s->ibits;
    for (uint64_t b = 0; b <= buckets; b++) {
        while (p < n && (s->main[p] >> (64 - s->ibits)) < b) p++;
        s->index[b] = p;
    }
    if (bbits > s->bbits) {
        free(s->buf);
        s->buf = calloc((1ULL << bbits) + FP_TAIL, sizeof *s->buf);
        if (!s->buf) { c->status = NO_MEMORY_; return 0; }
        s->bbits = bbits;
    } else {
        memset(s->buf, 0, ((1ULL << s->bbits) + FP_TAIL) * sizeof *s->buf);
    }
    s->bn = 0;
    if (fp_bytes(s) > s->peak) s->peak = fp_bytes(s);
    return 1;
}

/* 1: a new state (its link and its packed words written, c->n counts it); 0: seen; -1: stop */
static int fp_insert(ctx_t *c, const uint64_t *w, uint64_t parent) {
    struct fpstore *s = c->fps;
    uint64_t fp = hash_words(w), h = 0;
    if (fp == 0) {
        if (s->zero) return 0;
    } else {
        uint64_t end = (1ULL << s->bbits) + FP_TAIL;
        h = fp >> (64 - s->bbits);
        while (h < end && s->buf[h]) { if (s->buf[h] == fp) return 0; h++; }
        if (fp_in_main(s, fp)) return 0;
        if (h == end) h = UINT64_MAX;
    }
    if (c->max_states && c->n >= c->max_states) { c->status = MAX_STATES_; return -1; }
    if (fp == 0) {
        s->zero = 1;
    } else {
        if (h == UINT64_MAX || (s->bn + 1) * 2 > (1ULL << s->bbits)) {
            if (!fp_merge(c)) return -1;
            h = fp >> (64 - s->bbits);
        }
        /* h is empty: where the probe stopped, or a home slot in the buffer a merge emptied */
        s->buf[h] = fp; s->bn++;
    }
    uint64_t rec[2] = {fp, parent};
    if (fp_put(c, &s->links, rec, sizeof rec) || fp_put(c, &s->next, w, NWORDS * sizeof *w)) return -1;
    c->n++;
    return 1;
}

/* the search ---------------------------------------------------------------------------------- */
static int fp_check_step(ctx_t *c, const val *cur, const val *nxt, int action, uint64_t parent, uint64_t pos) {
    unsigned char bad[NSTEP1];
    err = 0;
    memset(bad, 0, sizeof bad);
    step_violations(cur, nxt, (val)action, bad);
    if (err) { c->status = err == 3 ? OVERFLOW_ : STEP_ERROR_; c->where = (int64_t)parent; c->what = (int64_t)pos; return 1; }
    for (int k = 0; k < NSTEP1 - 1; k++) {
        if (!bad[k] || c->step_first[k] >= 0) continue;
        c->step_first[k] = (int64_t)parent; c->step_pos[k] = (int64_t)pos;
        if (!c->keep_going) { c->status = ACTION_; c->where = (int64_t)parent; c->what = k; return 1; }
    }
    return 0;
}

static int fp_commit(ctx_t *c, const val *cur, uint64_t parent) {
    val t[NSLOTS];
    for (uint64_t i = 0; i < c->nsucc; i++) {
        const uint64_t *w = c->succ + i * NWORDS;
        int action = c->succ_action[i];
        c->generated++;
        c->fired[action]++;
        if (NSTEP1 > 1) {
            unpack(w, t);
            if (fp_check_step(c, cur, t, action, parent, i)) return 1;
        }
        int r = fp_insert(c, w, parent);
        if (r < 0) return 1;
        if (r == 0) continue;
        c->fresh[action]++;
        if (NSTEP1 == 1) unpack(w, t);
        if (check_new(c, t, (int64_t)(c->n - 1))) return 1;
    }
    return 0;
}

static int fp_deferred(ctx_t *c) {
    if (c->status != INVARIANT_ && c->status != ASSERTION_ && c->status != MODEL_ERROR_ && c->status != ACTION_
        && c->status != STEP_ERROR_) return 0;
    c->finishing = 1; c->pend_status = c->status; c->pend_where = c->where; c->pend_what = c->what;
    c->status = 0;
    return 1;
}

/* a search in the folder `dirfd`; its status is SPILL_IO_ when its first files cannot be made */
ctx_t *qc_fp_new(uint64_t max_states, uint64_t max_depth, int check_deadlock, int keep_going, uint64_t mem_limit,
                 int dirfd) {
    ctx_t *c = calloc(1, sizeof *c);
    struct fpstore *s = calloc(1, sizeof *s);
    if (!c || !s) { free(c); free(s); return 0; }
    c->fps = s;
    c->max_states = max_states; c->max_depth = max_depth; c->check_deadlock = check_deadlock;
    c->keep_going = keep_going; c->mem_limit = mem_limit;
    for (int i = 0; i < NSTEP1; i++) c->step_first[i] = c->step_pos[i] = -1;
    for (int i = 0; i < NGOAL1; i++) c->goal[i] = -1;
    for (int i = 0; i < NEND1; i++) c->end_goal[i] = -1;
    for (int i = 0; i < NINV1; i++) c->inv_first[i] = -1;
    for (int i = 0; i < NFIN1; i++) c->fin_first[i] = -1;
    c->deadlock_first = -1;
    s->dirfd = dirfd;
    s->links.fd = s->cur.fd = s->next.fd = -1;
    s->bbits = FP_MIN_BITS;
    s->buf = calloc((1ULL << s->bbits) + FP_TAIL, sizeof *s->buf);
    if (!s->buf) { free(s); free(c); return 0; }
    s->peak = fp_bytes(s);
    if (!fp_create(c, &s->links, "links")) fp_create(c, &s->next, "level-0");
    return c;
}

/* every file it made removed, every byte freed */
void qc_fp_free(ctx_t *c) {
    if (!c) return;
    struct fpstore *s = c->fps;
    char name[32];
    if (s->links.fd >= 0) unlinkat(s->dirfd, "links", 0);
    if (s->reading && s->cur.fd >= 0) { fp_level_name(name, sizeof name, s->next_depth - 1); unlinkat(s->dirfd, name, 0); }
    if (s->next.fd >= 0) { fp_level_name(name, sizeof name, s->next_depth); unlinkat(s->dirfd, name, 0); }
    fp_close(&s->links); fp_close(&s->cur); fp_close(&s->next);
    free(s->links.buf); free(s->cur.buf); free(s->next.buf);
    free(s->main); free(s->index); free(s->buf); free(s);
    free(c->succ); free(c->succ_action); free(c);
}

/* 0: added or already present; otherwise the search is over (status set) */
int qc_fp_add_initial(ctx_t *c, const val *v) {
    uint64_t w[NWORDS];
    if (c->status) return 1;
    pack(v, w);
    c->generated++;
    int r = fp_insert(c, w, FP_NONE);
    if (r < 0) return 1;
    if (r == 0) return 0;
    if (check_new(c, v, (int64_t)(c->n - 1))) return 1;
    c->level_end = c->n;
    return 0;
}

int qc_fp_run(ctx_t *c, uint64_t budget) {
    struct fpstore *s = c->fps;
    val cur[NSLOTS];
    uint64_t w[NWORDS];
    if (c->status) return c->status;
    if (!s->reading && fp_rotate(c)) return c->status;
    uint64_t until = c->generated + (1ULL << 22);
    while (budget-- && c->generated < until) {
        if (c->finishing && c->head == c->level_end) {
            c->status = c->pend_status; c->where = c->pend_where; c->what = c->pend_what;
            return c->status;
        }
        if (c->head == c->n) { c->status = DONE_; return c->status; }
        if (c->head == c->level_end) {
            c->depth++; c->level_end = c->n;
            if (fp_rotate(c)) return c->status;
        }
        if (!c->finishing && c->depth >= c->max_depth) { c->status = MAX_DEPTH_; return c->status; }
        if (fp_get(c, &s->cur, w, sizeof w)) return c->status;
        unpack(w, cur);
        c->nsucc = 0;
        int64_t produced = expand(c, cur, (uint32_t)c->head);
        if (c->status) c->where = (int64_t)c->head;  /* the generated code knows 32 bits of it */
        if (c->finishing) {
            if (c->status == OVERFLOW_ || c->status == NO_MEMORY_ || c->status == MEMORY_LIMIT_) return c->status;
            if (c->status) c->status = 0;   /* a step fails there: it is no end */
            else if (produced == 0 && check_end(c, cur, (int64_t)c->head)) return c->status;  /* shorter: it wins */
            c->head++;
            continue;
        }
        if (c->status || fp_commit(c, cur, c->head)) {
            if (!fp_deferred(c)) return c->status;
            c->head++;
            continue;
        }
        if (produced == 0 && check_end(c, cur, (int64_t)c->head)) return c->status;
        c->head++;
    }
    return RUNNING_;
}

/* generated, distinct, depth, head, where, what, status, the visited set's bytes now and at most,
   and the errno of a spill file that failed */
void qc_fp_stats(ctx_t *c, uint64_t *out) {
    struct fpstore *s = c->fps;
    out[0] = c->generated; out[1] = c->n; out[2] = c->depth; out[3] = c->head;
    out[4] = (uint64_t)c->where; out[5] = (uint64_t)c->what; out[6] = (uint64_t)c->status;
    out[7] = fp_bytes(s); out[8] = s->peak > fp_bytes(s) ? s->peak : fp_bytes(s); out[9] = (uint64_t)s->io_errno;
}

/* the fingerprints from an initial state to state `idx` (at most `cap`, the last at out[n - 1]):
   their number, or 0 when the links cannot be read */
uint64_t qc_fp_chain(ctx_t *c, uint64_t idx, uint64_t *out, uint64_t cap) {
    struct fpstore *s = c->fps;
    if (fp_flush(c, &s->links)) return 0;
    uint64_t n = 0;
    while (idx != FP_NONE && n < cap) {
        uint64_t rec[2];
        if (pread(s->links.fd, rec, sizeof rec, (off_t)(idx * sizeof rec)) != (ssize_t)sizeof rec) return 0;
        out[n++] = rec[0];
        if (rec[1] != FP_NONE && rec[1] >= idx) return 0;
        idx = rec[1];
    }
    if (idx != FP_NONE) return 0;
    for (uint64_t i = 0; i < n / 2; i++) { uint64_t t = out[i]; out[i] = out[n - 1 - i]; out[n - 1 - i] = t; }
    return n;
}

/* the fingerprint of a state, as the search stores it (of its canonical form when it reduces by
   symmetry: the state given must be canonical already) */
uint64_t qc_fp_of(const val *v) {
    uint64_t w[NWORDS];
    pack(v, w);
    return hash_words(w);
}
