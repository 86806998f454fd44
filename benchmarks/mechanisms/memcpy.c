/*
 * memcpy cost per request, the copy that persistent grants add to blkfront (claim (c) of the 2012
 * thread): on a read completion blkfront memcpy's each segment from its pool of persistently
 * granted pages into the bio's pages, one memcpy per segment of at most 4 KiB (seed thread,
 * blkif_completion hunk: memcpy(bvec_data, shared_data + bvec->bv_offset, bvec->bv_len)).
 *
 * Layouts:
 *   segments    a request of S bytes is ceil(S / page) memcpy calls, each from a page of the
 *               source pool to a page of the destination pool, like blkfront's per-bvec copy;
 *   contiguous  one memcpy of S bytes between contiguous buffers (what numpy's copy does).
 * Cache states:
 *   warm  the same source and destination pages for every copy (re-used, cached);
 *   cold  pages taken in a shuffled order from pools of --pool-mib MiB each (choose several
 *         times the last-level cache), so a page is evicted before it is used again.
 *
 * Output CSV (stdout): layout,cache,size_bytes,rep,copies,elapsed_ns,checksum,expected
 *   copies is the number of requests copied in the timed sample; checksum sums the destination
 *   bytes at the first, middle and last offsets of every segment copied; expected sums the same
 *   source bytes. They must be equal (the copy really happened). One JSON line on stderr.
 *
 * Usage: memcpy --sizes 512,4096,... [--page-bytes 4096] [--reps 200] [--warmup 20]
 *               [--pool-mib 128] [--sample-bytes 65536] [--cpu -1] [--seed 1]
 *               [--caches warm,cold] [--layouts segments,contiguous]
 */
#include "bench.h"

#include <sys/mman.h>

struct pools {
	unsigned char *src, *dst;
	size_t bytes, pages, page_bytes;
	size_t *src_order, *dst_order; /* shuffled page indices for the segment layout */
};

struct cursor {
	size_t page;  /* next index into the shuffled page orders */
	size_t chunk; /* next chunk for the contiguous layout */
};

static unsigned char *map_pool(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		       -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap of a %zu-byte pool failed: %s\n", bytes, strerror(errno));
		exit(1);
	}
	return p;
}

static void pools_init(struct pools *p, size_t bytes, size_t page_bytes, uint64_t *rng)
{
	p->bytes = bytes;
	p->page_bytes = page_bytes;
	p->pages = bytes / page_bytes;
	p->src = map_pool(bytes);
	p->dst = map_pool(bytes);
	for (size_t i = 0; i < bytes; i += 8) {
		uint64_t r = bench_rand(rng);
		memcpy(p->src + i, &r, 8);
	}
	memset(p->dst, 0, bytes);
	p->src_order = bench_xmalloc(p->pages * sizeof(size_t));
	p->dst_order = bench_xmalloc(p->pages * sizeof(size_t));
	for (size_t i = 0; i < p->pages; i++)
		p->src_order[i] = p->dst_order[i] = i;
	bench_shuffle(p->src_order, p->pages, rng);
	bench_shuffle(p->dst_order, p->pages, rng);
}

/* Source and destination of segment `seg` of a request starting at page cursor `first`. */
static void segment_at(const struct pools *p, size_t first, size_t seg, unsigned char **src,
		       unsigned char **dst)
{
	size_t k = (first + seg) % p->pages;
	*src = p->src + p->src_order[k] * p->page_bytes;
	*dst = p->dst + p->dst_order[k] * p->page_bytes;
}

/* Copy `copies` requests of `size` bytes; returns the page/chunk cursor after the last one. */
static struct cursor copy_requests(const struct pools *p, int contiguous, int warm, size_t size,
				   size_t copies, struct cursor c)
{
	size_t segs = (size + p->page_bytes - 1) / p->page_bytes;
	size_t chunks = p->bytes / size;
	for (size_t r = 0; r < copies; r++) {
		if (contiguous) {
			size_t off = warm ? 0 : (c.chunk % chunks) * size;
			memcpy(p->dst + off, p->src + off, size);
			c.chunk++;
			continue;
		}
		size_t first = warm ? 0 : c.page;
		for (size_t s = 0; s < segs; s++) {
			unsigned char *src, *dst;
			size_t len = size - s * p->page_bytes;
			segment_at(p, first, s, &src, &dst);
			memcpy(dst, src, len < p->page_bytes ? len : p->page_bytes);
		}
		c.page += segs;
	}
	return c;
}

/* Replay the copies of one sample after timing: sum destination and source probe bytes. */
static void check_requests(const struct pools *p, int contiguous, int warm, size_t size,
			   size_t copies, struct cursor c, uint64_t *checksum, uint64_t *expected)
{
	size_t segs = (size + p->page_bytes - 1) / p->page_bytes;
	size_t chunks = p->bytes / size;
	for (size_t r = 0; r < copies; r++) {
		for (size_t s = 0; s < segs; s++) {
			unsigned char *src, *dst;
			size_t len = size - s * p->page_bytes;
			if (len > p->page_bytes)
				len = p->page_bytes;
			if (contiguous) {
				size_t off = (warm ? 0 : (c.chunk % chunks) * size) + s * p->page_bytes;
				src = p->src + off;
				dst = p->dst + off;
			} else {
				segment_at(p, warm ? 0 : c.page, s, &src, &dst);
			}
			*checksum += dst[0] + dst[len / 2] + dst[len - 1];
			*expected += src[0] + src[len / 2] + src[len - 1];
		}
		if (contiguous)
			c.chunk++;
		else
			c.page += segs;
	}
}

int main(int argc, char **argv)
{
	long sizes[BENCH_MAX_LIST], caches[2] = {0, 1}, layouts[2] = {0, 1};
	int nsizes = 0, ncaches = 2, nlayouts = 2;
	long page_bytes = 4096, reps = 200, warmup = 20, pool_mib = 128, sample_bytes = 65536, cpu = -1;
	uint64_t rng = 1;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];
		if (!strcmp(o, "--sizes"))
			nsizes = bench_parse_list(o, v, sizes);
		else if (!strcmp(o, "--page-bytes"))
			page_bytes = bench_parse_long(o, v, 64);
		else if (!strcmp(o, "--reps"))
			reps = bench_parse_long(o, v, 1);
		else if (!strcmp(o, "--warmup"))
			warmup = bench_parse_long(o, v, 0);
		else if (!strcmp(o, "--pool-mib"))
			pool_mib = bench_parse_long(o, v, 1);
		else if (!strcmp(o, "--sample-bytes"))
			sample_bytes = bench_parse_long(o, v, 1);
		else if (!strcmp(o, "--cpu"))
			cpu = bench_parse_long(o, v, -1);
		else if (!strcmp(o, "--seed"))
			rng = (uint64_t)bench_parse_long(o, v, 1);
		else if (!strcmp(o, "--caches")) {
			ncaches = 0;
			if (strstr(v, "warm"))
				caches[ncaches++] = 1;
			if (strstr(v, "cold"))
				caches[ncaches++] = 0;
		} else if (!strcmp(o, "--layouts")) {
			nlayouts = 0;
			if (strstr(v, "segments"))
				layouts[nlayouts++] = 0;
			if (strstr(v, "contiguous"))
				layouts[nlayouts++] = 1;
		} else {
			fprintf(stderr, "unknown option '%s'\n", o);
			return 2;
		}
	}
	if (nsizes == 0 || ncaches == 0 || nlayouts == 0) {
		fprintf(stderr, "usage: memcpy --sizes 512,4096 [--caches warm,cold] [--layouts segments,contiguous]\n");
		return 2;
	}
	size_t pool_bytes = (size_t)pool_mib << 20;
	for (int s = 0; s < nsizes; s++)
		if (sizes[s] < 1 || (size_t)sizes[s] > pool_bytes) {
			fprintf(stderr, "option --sizes: expected sizes in 1..%zu bytes (the pool), found %ld\n",
				pool_bytes, sizes[s]);
			return 2;
		}

	int pinned = cpu >= 0 ? bench_pin((int)cpu) : 0;
	struct pools pools;
	pools_init(&pools, pool_bytes, (size_t)page_bytes, &rng);
	double clock_ns = bench_clock_overhead_ns();
	uint64_t total_checksum = 0, total_expected = 0;
	long mismatches = 0;

	printf("layout,cache,size_bytes,rep,copies,elapsed_ns,checksum,expected\n");
	for (int l = 0; l < nlayouts; l++)
		for (int c = 0; c < ncaches; c++)
			for (int s = 0; s < nsizes; s++) {
				int contiguous = (int)layouts[l], warm = (int)caches[c];
				size_t size = (size_t)sizes[s];
				size_t copies = size >= (size_t)sample_bytes ? 1 : (size_t)sample_bytes / size;
				struct cursor cur = {0, 0};
				for (long r = -warmup; r < reps; r++) {
					struct cursor start = cur;
					uint64_t t0 = bench_now_ns();
					cur = copy_requests(&pools, contiguous, warm, size, copies, cur);
					uint64_t t1 = bench_now_ns();
					uint64_t sum = 0, want = 0;
					check_requests(&pools, contiguous, warm, size, copies, start, &sum, &want);
					if (r < 0)
						continue;
					mismatches += sum != want;
					total_checksum += sum;
					total_expected += want;
					printf("%s,%s,%zu,%ld,%zu,%llu,%llu,%llu\n",
					       contiguous ? "contiguous" : "segments", warm ? "warm" : "cold", size,
					       r, copies, (unsigned long long)(t1 - t0), (unsigned long long)sum,
					       (unsigned long long)want);
				}
			}
	fflush(stdout);
	fprintf(stderr,
		"{\"program\": \"memcpy\", \"pinned\": %s, \"cpu\": %ld, \"clock_overhead_ns\": %.1f, "
		"\"pool_bytes\": %zu, \"page_bytes\": %ld, \"sample_bytes\": %ld, \"warmup\": %ld, "
		"\"reps\": %ld, \"checksum\": %llu, \"expected\": %llu, \"mismatched_samples\": %ld}\n",
		pinned ? "true" : "false", cpu, clock_ns, pool_bytes, page_bytes, sample_bytes, warmup,
		reps, (unsigned long long)total_checksum, (unsigned long long)total_expected, mismatches);
	return mismatches ? 1 : 0;
}
