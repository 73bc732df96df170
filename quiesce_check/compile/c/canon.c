/* The canonical form `Symmetry.canon` computes (compile/symmetry.py): each value's signature (a
   sum of hashes over its related slots), the permutations that sort each type's values by
   signature (every order among equal ones, enumerated group by group), and the least of their
   images (slot order, as Python compares tuples; an image is abandoned at its first slot greater
   than the least). Only in a program with QC_SYMMETRY; its tables (PSRC, PVAL, SYMT, SYMLO, SYMN,
   INERT, RADIX, SLOT_LO, REL_*, HOLD_*) and sizes (NPERM, NSYMT, SYMW, MAXCAND) come before it. */

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
    static QC_LOCAL uint32_t cand[NSYMT][MAXCAND];  /* per thread where partitions run in threads */
    int ncand[NSYMT];
    for (int k = 0; k < NSYMT; k++) {
        if (INERT[k]) { cand[k][0] = 0; ncand[k] = 1; continue; }
        /* `order` is written before it is read (order[p - 1] only for p <= i); zeroed because
           gcc cannot tell */
        int n = SYMN[k], order[SYMW] = {0}, gstart[SYMW], glen[SYMW], ng = 0, img[SYMW];
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
