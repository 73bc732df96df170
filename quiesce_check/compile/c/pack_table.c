/* Packing by a loop over a table of the fields, for states too wide to unroll (unrolled, thousands
   of slots take the C compiler minutes). HI (each slot's largest value) and FIELDS (each slot's
   word, shift, mask and least value) come before it. */

static int in_range(const val *v) {
    for (int k = 0; k < NSLOTS; k++) if (v[k] > HI[k]) return 0;
    return 1;
}
static void unpack(const uint64_t *w, val *v) {
    for (int k = 0; k < NSLOTS; k++)
        v[k] = (val)((w[FIELDS[k].word] >> FIELDS[k].shift) & FIELDS[k].mask) + FIELDS[k].lo;
}
static void pack(const val *v, uint64_t *w) {
    memset(w, 0, NWORDS * sizeof *w);
    for (int k = 0; k < NSLOTS; k++)
        w[FIELDS[k].word] |= (uint64_t)(v[k] - FIELDS[k].lo) << FIELDS[k].shift;
}
