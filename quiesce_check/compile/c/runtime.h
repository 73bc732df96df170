/* The runtime every generated search shares: checked 64-bit arithmetic and the search's context.

   The first of the shipped files in the program; only the model's sizes (NSLOTS, NWORDS, NACT1,
   NGOAL1, NEND1, NINV1, NFIN1, NSTEP1: each count of properties and actions plus one; NLIVE, the
   liveness properties' instances) and the status codes
   (RUNNING_ ...) come before it, which compile/cgen.py defines from its own constants. A value is a `val`; an operation that cannot be
   done sets `err` and gives 0, and the step or property that ran it is then stopped. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t val;
/* an action's number in the liveness graph: a byte when the model has few */
#if NACT1 <= 256
typedef uint8_t act_t;
#else
typedef uint16_t act_t;
#endif
/* 1 index out of range, 2 division by zero, 3 overflow; one per thread in a library built for the
   partitions of a parallel search (part.c), which run in threads of one process. There it is read
   after nearly every statement, so it takes the fast thread-local model (initial-exec: an offset
   from the thread pointer) unless QC_DYNAMIC_TLS asks for the general one: the fast model draws on
   a small reserve of the process's static TLS, which runs out after many libraries (engines/
   parallel.py then loads the library built with QC_DYNAMIC_TLS). */
#ifdef QC_THREADS
#define QC_LOCAL __thread
#ifdef QC_DYNAMIC_TLS
#define QC_ERR_MODEL
#else
#define QC_ERR_MODEL __attribute__((tls_model("initial-exec")))
#endif
#else
#define QC_LOCAL
#define QC_ERR_MODEL
#endif
static QC_LOCAL int err QC_ERR_MODEL;

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
/* -1, 0, 1 as a < b, a == b, a > b: `a OP b` is `qcmp(a, b) OP 0` for every comparison OP */
static inline int qcmp(val a, val b) { return (a > b) - (a < b); }

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
    /* the first step breaking each step property: the state it leaves and its place among that
       state's successors (-1: none) */
    int64_t step_first[NSTEP1], step_pos[NSTEP1];
    int64_t seen_at;       /* the state `insert` found already stored */
    /* The graph the liveness check reads (live.c), recorded as states are expanded: the steps of
       state v are g_dst[g_off[v] .. g_off[v + 1]) (their actions in g_act, kept only when there
       are fairness assumptions), for v < g_n. `record` is 0 when there is no liveness property;
       the graph gives way to the search when memory runs short (`graph_lost` says why). */
    int record, graph_lost;
    uint32_t *g_off, *g_dst; act_t *g_act;
    uint64_t g_n, g_off_cap, g_m, g_cap;
    struct live *live;     /* the liveness check's working memory (live.c) */
    struct part *part;     /* a partition of a parallel search (part.c); 0 otherwise */
    uint64_t aux_bytes;    /* ... and what it takes */
    uint64_t live_bytes;   /* ... and what it takes */
    struct fpstore *fps;   /* the search over fingerprints (fp.c), when it is that one */
} ctx_t;

/* buffer one successor of the state being expanded (bfs.c); nonzero when the search must stop */
static int emit(ctx_t *c, const val *t, int action);
/* give up the liveness graph, which a search needs memory for (live.c) */
static void drop_graph(ctx_t *c, int why);
static void live_free(ctx_t *c);
#ifdef QC_PART
/* ... and a partition's tables (part.c, in a program built for the parallel search) */
static void part_free(ctx_t *c);
#endif
