/*
 * gref lookup cost vs the number of persistently mapped grants n (claim (d) of the 2012 thread).
 *
 * The 2012 patch keeps `struct pers_gnt *pers_gnts[]` and searches it linearly, dereferencing
 * every pointer (seed thread, blkback.c hunk):
 *     for (i = 0; i < blkif->pers_gnt_c; i++)
 *             if (gref == blkif->pers_gnts[i]->gnt)
 *                     return blkif->pers_gnts[i];
 * Linux 3.8 merged an rb-tree keyed by gref instead. Structures measured here:
 *   ptr-array     the patch's array of pointers to separately allocated structs (linear search);
 *   flat-array    the same structs stored contiguously (linear search, no pointer chase);
 *   sorted-array  contiguous {gref, pointer} pairs sorted by gref (binary search);
 *   bst           a perfectly balanced binary search tree of separately allocated nodes: the
 *                 lookup path of an rb-tree (rb_find walks left/right pointers the same way; an
 *                 rb-tree is at most twice as deep, typically about log2 n);
 *   hash          chained hash table, buckets = next power of two >= n, Linux hash_32
 *                 (multiply by GOLDEN_RATIO_32 = 0x61C88647, keep the top bits; include/linux/hash.h).
 * Structs are allocated like kmalloc'd objects: separately malloc'ed from a pool of 4 n
 * allocations of which a random n are kept, so neighbours in the array are not neighbours in
 * memory. Queries are precomputed: a hit picks a mapped gref at a uniformly random position, a miss
 * asks for a gref that is not mapped (the linear searches then scan all n).
 *
 * Output CSV (stdout): structure,outcome,n,rep,lookups,elapsed_ns,checksum,expected
 *   checksum sums the `handle` field of every struct found (+1 per miss); expected is the same
 *   sum computed from the query generator, independent of the structure. One JSON line on stderr.
 *
 * Usage: lookup --n 1,2,...,1056 [--reps 50] [--warmup 5] [--lookups 1024] [--cpu -1] [--seed 1]
 */
#include "bench.h"

/* The 2012 patch's struct pers_gnt (drivers/block/xen-blkback/common.h hunk), with a page
 * pointer standing in for struct page *. */
struct pers_gnt {
	void *page;
	uint32_t gnt;
	uint32_t handle;
	uint64_t dev_bus_addr;
};

struct tree_node {
	struct pers_gnt g;
	struct tree_node *left, *right;
};

struct hash_node {
	struct pers_gnt g;
	struct hash_node *next;
};

struct sorted_entry {
	uint32_t gnt;
	struct pers_gnt *p;
};

struct tables {
	size_t n;
	struct pers_gnt **ptrs;     /* ptr-array */
	struct pers_gnt *flat;      /* flat-array */
	struct sorted_entry *sorted;/* sorted-array */
	struct tree_node *root;     /* bst */
	struct hash_node **buckets; /* hash */
	unsigned hash_bits;
	void **allocations;         /* everything malloc'ed, to free */
	size_t nallocations;
};

enum structure { PTR_ARRAY, FLAT_ARRAY, SORTED_ARRAY, BST, HASH, NSTRUCTURES };
static const char *structure_names[NSTRUCTURES] = {"ptr-array", "flat-array", "sorted-array", "bst",
						  "hash"};

/* Mapped grefs are key(0..n-1), misses key(n..2n-1): distinct because x -> x * odd ^ c is a
 * bijection on 32-bit integers. Key 0 is avoided so a zeroed struct never matches. */
static uint32_t key(size_t i) { return (uint32_t)((i + 1) * 2654435761u) ^ 0x5bd1e995u; }
static uint32_t handle_of(size_t i) { return (uint32_t)(i * 7 + 3); }

static uint32_t hash_32(uint32_t val, unsigned bits)
{
	return bits ? (val * 0x61C88647u) >> (32 - bits) : 0;
}

static void remember(struct tables *t, void *p) { t->allocations[t->nallocations++] = p; }

/* Allocate 4 n objects of `size` bytes one by one, keep a random n of them, free the rest. */
static void **scattered_objects(size_t n, size_t size, uint64_t *rng)
{
	size_t pool = 4 * n;
	void **all = bench_xmalloc(pool * sizeof(void *));
	size_t *order = bench_xmalloc(pool * sizeof(size_t));
	for (size_t i = 0; i < pool; i++) {
		all[i] = bench_xmalloc(size);
		order[i] = i;
	}
	bench_shuffle(order, pool, rng);
	void **kept = bench_xmalloc(n * sizeof(void *));
	for (size_t i = 0; i < pool; i++) {
		if (i < n)
			kept[i] = all[order[i]];
		else
			free(all[order[i]]);
	}
	free(all);
	free(order);
	return kept;
}

static void fill(struct pers_gnt *g, size_t i)
{
	g->page = g;
	g->gnt = key(i);
	g->handle = handle_of(i);
	g->dev_bus_addr = (uint64_t)i << 12;
}

static struct tree_node *build_tree(struct tree_node **nodes, const size_t *by_key, size_t lo,
				    size_t hi)
{
	if (lo >= hi)
		return NULL;
	size_t mid = lo + (hi - lo) / 2;
	struct tree_node *node = nodes[by_key[mid]];
	node->left = build_tree(nodes, by_key, lo, mid);
	node->right = build_tree(nodes, by_key, mid + 1, hi);
	return node;
}

static int cmp_by_key(const void *a, const void *b)
{
	uint32_t x = key(*(const size_t *)a), y = key(*(const size_t *)b);
	return (x > y) - (x < y);
}

static void tables_build(struct tables *t, size_t n, uint64_t *rng)
{
	memset(t, 0, sizeof *t);
	t->n = n;
	t->allocations = bench_xmalloc((3 * n + 8) * sizeof(void *));

	struct pers_gnt **ptrs = (struct pers_gnt **)scattered_objects(n, sizeof(struct pers_gnt), rng);
	struct tree_node **nodes = (struct tree_node **)scattered_objects(n, sizeof(struct tree_node), rng);
	struct hash_node **hnodes = (struct hash_node **)scattered_objects(n, sizeof(struct hash_node), rng);
	for (size_t i = 0; i < n; i++) {
		fill(ptrs[i], i);
		fill(&nodes[i]->g, i);
		fill(&hnodes[i]->g, i);
		remember(t, ptrs[i]);
		remember(t, nodes[i]);
		remember(t, hnodes[i]);
	}
	t->ptrs = ptrs;

	t->flat = bench_xmalloc(n * sizeof(struct pers_gnt));
	for (size_t i = 0; i < n; i++)
		fill(&t->flat[i], i);

	size_t *by_key = bench_xmalloc(n * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		by_key[i] = i;
	qsort(by_key, n, sizeof(size_t), cmp_by_key);
	t->sorted = bench_xmalloc(n * sizeof(struct sorted_entry));
	for (size_t i = 0; i < n; i++)
		t->sorted[i] = (struct sorted_entry){key(by_key[i]), ptrs[by_key[i]]};
	t->root = build_tree(nodes, by_key, 0, n);
	free(by_key);
	free(nodes);

	unsigned bits = 0;
	while (((size_t)1 << bits) < n)
		bits++;
	t->hash_bits = bits;
	t->buckets = calloc((size_t)1 << bits, sizeof(struct hash_node *));
	for (size_t i = 0; i < n; i++) {
		uint32_t b = hash_32(hnodes[i]->g.gnt, bits);
		hnodes[i]->next = t->buckets[b];
		t->buckets[b] = hnodes[i];
	}
	free(hnodes);
}

static void tables_free(struct tables *t)
{
	for (size_t i = 0; i < t->nallocations; i++)
		free(t->allocations[i]);
	free(t->allocations);
	free(t->ptrs);
	free(t->flat);
	free(t->sorted);
	free(t->buckets);
}

static struct pers_gnt *find_ptr_array(const struct tables *t, uint32_t gref)
{
	for (size_t i = 0; i < t->n; i++)
		if (gref == t->ptrs[i]->gnt)
			return t->ptrs[i];
	return NULL;
}

static struct pers_gnt *find_flat_array(const struct tables *t, uint32_t gref)
{
	for (size_t i = 0; i < t->n; i++)
		if (gref == t->flat[i].gnt)
			return &t->flat[i];
	return NULL;
}

static struct pers_gnt *find_sorted_array(const struct tables *t, uint32_t gref)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t k = t->sorted[mid].gnt;
		if (k == gref)
			return t->sorted[mid].p;
		if (k < gref)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct pers_gnt *find_bst(const struct tables *t, uint32_t gref)
{
	const struct tree_node *node = t->root;
	while (node) {
		if (gref < node->g.gnt)
			node = node->left;
		else if (gref > node->g.gnt)
			node = node->right;
		else
			return (struct pers_gnt *)&node->g;
	}
	return NULL;
}

static struct pers_gnt *find_hash(const struct tables *t, uint32_t gref)
{
	for (struct hash_node *h = t->buckets[hash_32(gref, t->hash_bits)]; h; h = h->next)
		if (h->g.gnt == gref)
			return &h->g;
	return NULL;
}

typedef struct pers_gnt *(*finder)(const struct tables *, uint32_t);
static const finder finders[NSTRUCTURES] = {find_ptr_array, find_flat_array, find_sorted_array,
					    find_bst, find_hash};

/* Time `lookups` queries; the sum of handles found (+1 per miss) goes to *checksum. The finder is
 * called through a pointer so all structures pay the same call cost, as blkback's does. */
static uint64_t run_queries(finder find, const struct tables *t, const uint32_t *queries,
			    size_t lookups, uint64_t *checksum)
{
	uint64_t sum = 0;
	uint64_t t0 = bench_now_ns();
	for (size_t q = 0; q < lookups; q++) {
		struct pers_gnt *g = find(t, queries[q]);
		sum += g ? g->handle : 1;
	}
	uint64_t t1 = bench_now_ns();
	*checksum = sum;
	return t1 - t0;
}

int main(int argc, char **argv)
{
	long ns_list[BENCH_MAX_LIST];
	int nn = 0;
	long reps = 50, warmup = 5, lookups = 1024, cpu = -1;
	uint64_t rng = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];
		if (!strcmp(o, "--n"))
			nn = bench_parse_list(o, v, ns_list);
		else if (!strcmp(o, "--reps"))
			reps = bench_parse_long(o, v, 1);
		else if (!strcmp(o, "--warmup"))
			warmup = bench_parse_long(o, v, 0);
		else if (!strcmp(o, "--lookups"))
			lookups = bench_parse_long(o, v, 1);
		else if (!strcmp(o, "--cpu"))
			cpu = bench_parse_long(o, v, -1);
		else if (!strcmp(o, "--seed"))
			rng = (uint64_t)bench_parse_long(o, v, 1);
		else {
			fprintf(stderr, "unknown option '%s'\n", o);
			return 2;
		}
	}
	if (nn == 0) {
		fprintf(stderr, "usage: lookup --n 1,352,1056 [--reps 50] [--lookups 1024]\n");
		return 2;
	}
	for (int i = 0; i < nn; i++)
		if (ns_list[i] < 1) {
			fprintf(stderr, "option --n: expected counts >= 1, found %ld\n", ns_list[i]);
			return 2;
		}

	int pinned = cpu >= 0 ? bench_pin((int)cpu) : 0;
	double clock_ns = bench_clock_overhead_ns();
	uint32_t *queries = bench_xmalloc((size_t)lookups * sizeof(uint32_t));
	long mismatches = 0;
	uint64_t total = 0;

	printf("structure,outcome,n,rep,lookups,elapsed_ns,checksum,expected\n");
	for (int k = 0; k < nn; k++) {
		size_t n = (size_t)ns_list[k];
		struct tables t;
		tables_build(&t, n, &rng);
		for (int s = 0; s < NSTRUCTURES; s++)
			for (int hit = 1; hit >= 0; hit--)
				for (long r = -warmup; r < reps; r++) {
					uint64_t expected = 0, checksum;
					for (long q = 0; q < lookups; q++) {
						size_t i = (size_t)(bench_rand(&rng) % n);
						queries[q] = hit ? key(i) : key(n + i);
						expected += hit ? handle_of(i) : 1;
					}
					uint64_t ns = run_queries(finders[s], &t, queries, (size_t)lookups,
								  &checksum);
					if (r < 0)
						continue;
					mismatches += checksum != expected;
					total += checksum;
					printf("%s,%s,%zu,%ld,%ld,%llu,%llu,%llu\n", structure_names[s],
					       hit ? "hit" : "miss", n, r, lookups, (unsigned long long)ns,
					       (unsigned long long)checksum, (unsigned long long)expected);
				}
		tables_free(&t);
	}
	fflush(stdout);
	fprintf(stderr,
		"{\"program\": \"lookup\", \"pinned\": %s, \"cpu\": %ld, \"clock_overhead_ns\": %.1f, "
		"\"warmup\": %ld, \"reps\": %ld, \"lookups\": %ld, \"checksum\": %llu, "
		"\"mismatched_samples\": %ld}\n",
		pinned ? "true" : "false", cpu, clock_ns, warmup, reps, lookups,
		(unsigned long long)total, mismatches);
	free(queries);
	return mismatches ? 1 : 0;
}
