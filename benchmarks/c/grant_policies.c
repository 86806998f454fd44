/* The per-segment loops of analysis/grants/policies.py in plain C: the speed floor for the compiled
 * kernels (analysis/grants/compiled.py). Same arguments, same counts; built by
 * benchmarks/bench_trace_replay.py with `cc -O2 -shared -fPIC` and called through ctypes.
 * Grant references arrive as dense ids 0..nid-1 (analysis.grants.compiled._dense_ids). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t i64;
enum { PERSISTENT = 0, FALLBACK = 1, FAILED = 2 };

static inline i64 bit_length(i64 x) { i64 b = 0; while (x > 0) { x >>= 1; b++; } return b; }

void capped(const i64 *offs, i64 n, const i64 *ids, i64 nid, i64 cap, int array, int request_fallback,
            i64 *maps, i64 *trans, i64 *cmps, i64 *res, i64 *status) {
    i64 *position = malloc(nid * sizeof(i64));
    for (i64 g = 0; g < nid; g++) position[g] = -1;
    i64 count = 0, depth = 0;
    for (i64 k = 0; k < n; k++) {
        i64 a = offs[k], b = offs[k + 1];
        if (request_fallback && count >= cap) {
            maps[k] = trans[k] = b - a; status[k] = FALLBACK; res[k] = count; continue;
        }
        i64 c = 0, m = 0, t = 0;
        for (i64 i = a; i < b; i++) {
            i64 g = ids[i], p = position[g];
            if (p >= 0) { c += array ? p + 1 : depth; continue; }
            c += array ? count : depth;
            if (count < cap) { position[g] = count++; depth = bit_length(count); m++; }
            else t++;
        }
        maps[k] = m + t; trans[k] = t; cmps[k] = c; status[k] = t ? FALLBACK : PERSISTENT; res[k] = count;
    }
    free(position);
}

void fail_past_limit(const i64 *offs, i64 n, const i64 *ids, i64 nid, i64 cap, i64 *maps, i64 *cmps, i64 *res,
                     i64 *status) {
    char *stored = calloc(nid, 1);
    i64 *seen_in = malloc(nid * sizeof(i64));
    for (i64 g = 0; g < nid; g++) seen_in[g] = -1;
    i64 count = 0;
    for (i64 k = 0; k < n; k++) {
        i64 a = offs[k], b = offs[k + 1], new_ = 0;
        cmps[k] = (b - a) * bit_length(count);
        for (i64 i = a; i < b; i++) {
            i64 g = ids[i];
            if (!stored[g] && seen_in[g] != k) { seen_in[g] = k; new_++; }
        }
        if (count + new_ > cap) status[k] = FAILED;
        else { for (i64 i = a; i < b; i++) stored[ids[i]] = 1; count += new_; maps[k] = new_; }
        res[k] = count;
    }
    free(stored); free(seen_in);
}

void lru(const i64 *offs, i64 n, const i64 *ids, i64 nid, const i64 *done, i64 cap, i64 batch, i64 *maps,
         i64 *trans, i64 *pu, i64 *pb, i64 *cmps, i64 *res, i64 *peak, i64 *status) {
    i64 head = nid, size = 0, depth = 0;
    i64 *nxt = malloc((nid + 1) * sizeof(i64)), *prv = malloc((nid + 1) * sizeof(i64));
    i64 *last = calloc(nid, sizeof(i64));
    char *inside = calloc(nid, 1);
    nxt[head] = prv[head] = head;
    for (i64 k = 0; k < n; k++) {
        i64 c = 0, m = 0, t = 0; int purged = 0;
        for (i64 i = offs[k]; i < offs[k + 1]; i++) {
            i64 g = ids[i];
            c += depth;
            if (inside[g]) {
                last[g] = k;
                nxt[prv[g]] = nxt[g]; prv[nxt[g]] = prv[g];
                i64 tail = prv[head]; nxt[tail] = g; prv[g] = tail; nxt[g] = head; prv[head] = g;
                continue;
            }
            if (size >= cap) {
                i64 evicted = 0;
                while (evicted < batch && size) {
                    i64 oldest = nxt[head];
                    if (done[last[oldest]] > k) break;
                    nxt[head] = nxt[oldest]; prv[nxt[oldest]] = head; inside[oldest] = 0; size--; evicted++;
                }
                if (evicted) { pu[k] += evicted; pb[k] += 1; purged = 1; }
            }
            if (size < cap) {
                inside[g] = 1; last[g] = k;
                i64 tail = prv[head]; nxt[tail] = g; prv[g] = tail; nxt[g] = head; prv[head] = g;
                size++; m++;
            } else t++;
            depth = bit_length(size);
        }
        maps[k] = m + t; trans[k] = t; cmps[k] = c; status[k] = t ? FALLBACK : PERSISTENT; res[k] = size;
        peak[k] = purged ? cap : size;
    }
    free(nxt); free(prv); free(last); free(inside);
}

static int cmp_i64(const void *x, const void *y) {
    i64 a = *(const i64 *)x, b = *(const i64 *)y;
    return (a > b) - (a < b);
}

void linux_lru(const i64 *offs, i64 n, const i64 *ids, i64 nid, const i64 *done, const double *times, i64 cap,
               double interval_us, i64 percent_clean, i64 unmap_batch, int timed, double timeout_us, i64 *maps,
               i64 *trans, i64 *pu, i64 *pb, i64 *cmps, i64 *res, i64 *peak, i64 *status) {
    char *stored = calloc(nid, 1), *active = calloc(nid, 1), *victim = calloc(nid, 1);
    i64 *last = calloc(nid, sizeof(i64)), *slot = calloc(nid, sizeof(i64));
    i64 capacity = cap > 1 ? cap : 1;
    i64 *members = malloc(capacity * sizeof(i64)), *order = malloc(capacity * sizeof(i64));
    i64 *chosen = malloc(capacity * sizeof(i64));
    i64 count = 0, depth = 0;
    int overflow = 0;
    double next_lru_us = n ? times[0] + interval_us : 0.0;
    for (i64 k = 0; k < n; k++) {
        i64 size = count, peak_k = size;
        if (times[k] >= next_lru_us) {
            next_lru_us = times[k] + interval_us;
            int over = size > cap || (size == cap && overflow);
            if (over || timed) {
                i64 num_clean = 0;
                if (over) { num_clean = (cap / 100) * percent_clean + size - cap; if (num_clean > size) num_clean = size; }
                memcpy(order, members, count * sizeof(i64));
                qsort(order, count, sizeof(i64), cmp_i64);
                i64 nv = 0;
                if (!timed) {
                    i64 in_use = 0;
                    for (i64 j = 0; j < count; j++) in_use += done[last[order[j]]] > k;
                    if (num_clean != 0 && num_clean <= size - in_use) {
                        for (int scan_used = 0; scan_used < 2; scan_used++)
                            for (i64 j = 0; j < count && nv < num_clean; j++) {
                                i64 g = order[j];
                                if (done[last[g]] > k || (!scan_used && active[g]) || victim[g]) continue;
                                victim[g] = 1; chosen[nv++] = g;
                            }
                        for (i64 j = 0; j < count; j++) active[order[j]] = 0;
                    }
                } else {
                    double now = times[k];
                    for (i64 j = 0; j < count; j++) {
                        i64 g = order[j];
                        if (done[last[g]] <= k && now - times[last[g]] >= timeout_us) { victim[g] = 1; chosen[nv++] = g; }
                    }
                    for (i64 j = 0; j < count && nv < num_clean; j++) {
                        i64 g = order[j];
                        if (done[last[g]] <= k && !victim[g]) { victim[g] = 1; chosen[nv++] = g; }
                    }
                }
                for (i64 j = 0; j < nv; j++) {
                    i64 g = chosen[j], moved = members[count - 1];
                    victim[g] = 0; stored[g] = 0;
                    members[slot[g]] = moved; slot[moved] = slot[g]; count--;
                }
                if (nv) { pu[k] = nv; pb[k] = (nv + unmap_batch - 1) / unmap_batch; overflow = 0; depth = bit_length(count); }
            }
        }
        i64 c = 0, m = 0, t = 0;
        for (i64 i = offs[k]; i < offs[k + 1]; i++) {
            i64 g = ids[i];
            c += depth;
            if (stored[g]) { last[g] = k; active[g] = 1; continue; }
            if (count < cap) {
                stored[g] = 1; last[g] = k; active[g] = 1; members[count] = g; slot[g] = count; count++; m++;
                depth = bit_length(count);
            } else { overflow = 1; t++; }
        }
        maps[k] = m + t; trans[k] = t; cmps[k] = c; status[k] = t ? FALLBACK : PERSISTENT; res[k] = count;
        peak[k] = peak_k > count ? peak_k : count;
    }
    free(stored); free(active); free(victim); free(last); free(slot); free(members); free(order); free(chosen);
}
