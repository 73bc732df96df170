/*
 * quiesce.pml: the pre-copy protocol of models/precopy_backend.qdl in Promela,
 * for SPIN, at the same atomicity: each QDL step is one transition here
 * (multi-statement steps are d_steps), so both tools must store the same
 * number of states. bench/vs_spin.py runs both side by side.
 *
 * Processes: guest vCPU, frontend, block backend, migration toolstack.
 * Pages carry a version; a send copies the version to the target. The
 * final step asserts that the target holds every page's current version.
 *
 * Variants (-D): default  non-persistent grants, unmap before respond,
 *                         backend stops at the suspend (holds)
 *                PERSISTENT       backend never unmaps         (fails)
 *                KEEP_PROCESSING  backend ignores the suspend  (fails)
 *                RESPOND_FIRST    respond, then unmap          (fails)
 * Sizes (-D): NPAGES (1..8), NREQ, K (live CLEAN passes), MAXV (guest
 * writes per page).
 * Liveness (-DCOMPLETES): the LTL property `completes`, <> done (the
 * migration eventually completes), for `pan -a` and `pan -a -f`.
 */

#ifndef NPAGES
#define NPAGES 2
#endif
#if NPAGES > 8
#error NPAGES must be at most 8
#endif
#ifndef NREQ
#define NREQ 1
#endif
#ifndef K
#define K 1
#endif
#ifndef MAXV
#define MAXV 1
#endif

byte ver[NPAGES];      /* source versions */
byte tgt[NPAGES];      /* target versions */
bit  dirty[NPAGES];    /* log-dirty bitmap */
bit  logdirty;
bit  suspended;
bit  inflight;
bit  done;

chan ring = [NREQ] of { byte };

#define MARK(q)  if :: logdirty -> dirty[q] = 1 :: else -> skip fi

/* one guarded option per page: the guest writes page q */
#define GUEST(q)    :: d_step { !suspended && ver[q] < MAXV -> ver[q]++; MARK(q) }
/* the frontend queues a request granting page q */
#define REQUEST(q)  :: d_step { !suspended && sent < NREQ -> ring!q; sent++ }

active proctype Guest()
{
end:
    do
    GUEST(0)
#if NPAGES > 1
    GUEST(1)
#endif
#if NPAGES > 2
    GUEST(2)
#endif
#if NPAGES > 3
    GUEST(3)
#endif
#if NPAGES > 4
    GUEST(4)
#endif
#if NPAGES > 5
    GUEST(5)
#endif
#if NPAGES > 6
    GUEST(6)
#endif
#if NPAGES > 7
    GUEST(7)
#endif
    od
}

active proctype Frontend()
{
    byte sent = 0;
end:
    do
    REQUEST(0)
#if NPAGES > 1
    REQUEST(1)
#endif
#if NPAGES > 2
    REQUEST(2)
#endif
#if NPAGES > 3
    REQUEST(3)
#endif
#if NPAGES > 4
    REQUEST(4)
#endif
#if NPAGES > 5
    REQUEST(5)
#endif
#if NPAGES > 6
    REQUEST(6)
#endif
#if NPAGES > 7
    REQUEST(7)
#endif
    od
}

#ifdef KEEP_PROCESSING
#define MAY_TAKE (!done)
#else
#define MAY_TAKE (!done && !suspended)
#endif

active proctype Backend()
{
    byte p;
end:
    do
    :: d_step { MAY_TAKE && nempty(ring) -> ring?p; inflight = 1 }
       ver[p]++;                                  /* through the mapping: unlogged */
#if defined(PERSISTENT)
       d_step { inflight = 0; p = 0 }             /* respond; stays mapped */
#elif defined(RESPOND_FIRST)
       inflight = 0;                              /* respond */
       d_step { MARK(p); p = 0 }                  /* unmap: logged */
#else
       d_step { MARK(p) };                        /* unmap: logged */
       d_step { inflight = 0; p = 0 }             /* respond */
#endif
    od
}

/* read and clear the bitmap into this pass's send set (CLEAN) */
#define CLEAN \
    i = 0; \
    do :: i < NPAGES -> send[i] = dirty[i]; dirty[i] = 0; i++ \
       :: else -> break \
    od; \
    i = 0

/* send page i if this pass sends it; move on */
#define SEND_ONE \
    :: d_step { i < NPAGES -> if :: send[i] -> tgt[i] = ver[i]; send[i] = 0 :: else -> skip fi; i++ }

active proctype Migration()
{
    byte live = 0;
    byte i = 0;
    bit send[NPAGES];

    d_step {
        logdirty = 1;
        do :: i < NPAGES -> dirty[i] = 0; send[i] = 1; i++
           :: else -> break
        od;
        i = 0
    };
    do
    SEND_ONE
    :: d_step { i == NPAGES && live < K -> CLEAN; live++ }
    :: d_step { i == NPAGES && live == K -> suspended = 1 }; break
    od;
    (inflight == 0);
    d_step { CLEAN };
    do
    SEND_ONE
    :: d_step {
           i == NPAGES ->
           i = 0;
           do :: i < NPAGES -> assert(tgt[i] == ver[i]); i++
              :: else -> break
           od;
           i = 0; live = 0; done = 1
       };
       break
    od;
end: false   /* block here: a terminated process would add a state */
}

#ifdef COMPLETES
/* the migration eventually completes: models/precopy_backend.qdl with
   `liveness migration_completes: eventually done;` (bench/vs_spin.py) */
ltl completes { <> done }
#endif
