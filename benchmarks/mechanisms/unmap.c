/*
 * Per-unmap cost and TLB shootdown on native Linux: the analogue of a grant unmap (claim (b) of
 * the 2012 thread: "unmap operations ... cause a (costly) TLB shootdown"; "The cost of unmapping
 * scales badly with the number of CPUs in Dom0").
 *
 * A grant unmap in dom0 clears page-table entries that other dom0 CPUs may have cached, so the
 * kernel must flush their TLBs with inter-processor interrupts. Here the unmapping thread is pinned
 * on the first CPU of --cpus and k other threads of the same process are pinned on the next k
 * CPUs; before every timed call each of them reads every page of the region (so its TLB holds the
 * translations) and then spins in user space in the same address space, which is what makes
 * Linux send it a flush IPI (arch/x86/mm/tlb.c: native_flush_tlb_multi targets the CPUs in
 * mm_cpumask that are not lazy). The main thread then times one call:
 *   munmap    munmap(region, pages_per_call pages): clears the PTEs, flushes, frees the pages;
 *   mprotect  mprotect(region, ..., PROT_NONE): clears the permissions and flushes, keeps pages
 *             (closer to a grant unmap, which returns the page to the guest, not to the allocator).
 * Calls with several pages per call are the batched unmap (one flush for the batch, as
 * gnttab_unmap_refs does per request); one page per call is the unbatched case.
 *
 * Output CSV (stdout): op,remote_threads,pages_per_call,rep,elapsed_ns
 * Counters CSV (--counters FILE): op,remote_threads,pages_per_call,calls,tlb_irqs,cal_irqs,
 *   the change of the "TLB" (TLB shootdowns received) and "CAL" (function call IPIs) lines of
 *   /proc/interrupts, summed over CPUs, around the block of calls (system-wide: other processes'
 *   flushes are included; -1 when the line does not exist, e.g. on arm64).
 * One JSON line on stderr: pinning per thread, clock overhead, how many touches were validated.
 *
 * Usage: unmap --cpus 0,1[,2...] [--remote 0,1] [--pages 1,11,32] [--ops munmap,mprotect]
 *              [--reps 1000] [--warmup 50] [--counters FILE]
 *   --remote lists the remote-thread counts k to run (default 0..len(cpus)-1).
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
#define STOP UINT64_MAX

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

struct shared {
	_Atomic uint64_t gen;              /* bumped by the main thread for every call */
	_Atomic(unsigned char *) region;   /* the pages to touch for this generation */
	_Atomic long npages;
	_Atomic uint64_t acks[BENCH_MAX_LIST]; /* last generation each remote thread touched */
	_Atomic long pinned;
	_Atomic uint64_t touched;          /* pages touched by remote threads, all generations */
};

struct remote {
	struct shared *sh;
	int idx, cpu;
};

static void *remote_main(void *arg)
{
	struct remote *r = arg;
	struct shared *sh = r->sh;
	if (bench_pin(r->cpu))
		atomic_fetch_add(&sh->pinned, 1);
	uint64_t last = 0, sink = 0, touched = 0;
	for (;;) {
		uint64_t g = atomic_load_explicit(&sh->gen, memory_order_acquire);
		if (g == STOP)
			break;
		if (g == last) {
			cpu_relax();
			continue;
		}
		volatile unsigned char *p = atomic_load(&sh->region);
		long n = atomic_load(&sh->npages);
		for (long i = 0; i < n; i++)
			sink += p[i * PAGE];
		touched += (uint64_t)n;
		last = g;
		atomic_store_explicit(&sh->acks[r->idx], g, memory_order_release);
	}
	atomic_fetch_add(&sh->touched, touched);
	return (void *)(uintptr_t)sink;
}

/* Sum of the counts on the /proc/interrupts line whose label is `label` (e.g. "TLB:"), or -1. */
static long long interrupts(const char *label)
{
	FILE *f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	char line[8192];
	long long total = -1;
	size_t len = strlen(label);
	while (fgets(line, sizeof line, f)) {
		char *p = line;
		while (*p == ' ')
			p++;
		if (strncmp(p, label, len))
			continue;
		total = 0;
		p += len;
		for (;;) {
			char *end;
			long long v = strtoll(p, &end, 10);
			if (end == p)
				break;
			total += v;
			p = end;
		}
		break;
	}
	fclose(f);
	return total;
}

static unsigned char *map_region(long pages)
{
	void *p = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap of %ld pages failed: %s\n", pages, strerror(errno));
		exit(1);
	}
	return p;
}

/* Publish the region, wait until every remote thread has read all its pages. */
static void touch_everywhere(struct shared *sh, unsigned char *region, long pages, int k)
{
	for (long i = 0; i < pages; i++)
		region[i * PAGE] = (unsigned char)i;
	atomic_store(&sh->region, region);
	atomic_store(&sh->npages, pages);
	uint64_t g = atomic_fetch_add_explicit(&sh->gen, 1, memory_order_release) + 1;
	for (int t = 0; t < k; t++)
		while (atomic_load_explicit(&sh->acks[t], memory_order_acquire) != g)
			cpu_relax();
}

/* One timed unmap (or protect) of `pages` pages; returns ns. For mprotect the region is kept
 * between calls (made writable again untimed: an upgrade needs no flush), so the counters see
 * only the flushes of the timed PROT_NONE calls. */
static uint64_t one_call(struct shared *sh, int is_mprotect, unsigned char *kept, long pages, int k)
{
	unsigned char *region = kept;
	if (is_mprotect) {
		if (mprotect(region, (size_t)pages * PAGE, PROT_READ | PROT_WRITE)) {
			fprintf(stderr, "mprotect(PROT_READ|PROT_WRITE) failed: %s\n", strerror(errno));
			exit(1);
		}
	} else {
		region = map_region(pages);
	}
	touch_everywhere(sh, region, pages, k);
	uint64_t t0 = bench_now_ns();
	int rc = is_mprotect ? mprotect(region, (size_t)pages * PAGE, PROT_NONE)
			     : munmap(region, (size_t)pages * PAGE);
	uint64_t t1 = bench_now_ns();
	if (rc) {
		fprintf(stderr, "%s failed: %s\n", is_mprotect ? "mprotect" : "munmap", strerror(errno));
		exit(1);
	}
	return t1 - t0;
}

int main(int argc, char **argv)
{
	long cpus[BENCH_MAX_LIST], remote[BENCH_MAX_LIST], pages[BENCH_MAX_LIST];
	int ncpus = 0, nremote = -1, npages = 3, nops = 2;
	long reps = 1000, warmup = 50;
	int ops[2] = {0, 1};
	const char *counters_path = NULL;
	pages[0] = 1, pages[1] = 11, pages[2] = 32;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];
		if (!strcmp(o, "--cpus"))
			ncpus = bench_parse_list(o, v, cpus);
		else if (!strcmp(o, "--remote"))
			nremote = bench_parse_list(o, v, remote);
		else if (!strcmp(o, "--pages"))
			npages = bench_parse_list(o, v, pages);
		else if (!strcmp(o, "--reps"))
			reps = bench_parse_long(o, v, 1);
		else if (!strcmp(o, "--warmup"))
			warmup = bench_parse_long(o, v, 0);
		else if (!strcmp(o, "--counters"))
			counters_path = v;
		else if (!strcmp(o, "--ops")) {
			nops = 0;
			if (strstr(v, "munmap"))
				ops[nops++] = 0;
			if (strstr(v, "mprotect"))
				ops[nops++] = 1;
		} else {
			fprintf(stderr, "unknown option '%s'\n", o);
			return 2;
		}
	}
	if (ncpus == 0 || nops == 0) {
		fprintf(stderr, "usage: unmap --cpus 0,1 [--remote 0,1] [--pages 1,11,32] [--ops munmap,mprotect]\n");
		return 2;
	}
	if (nremote < 0) {
		nremote = ncpus;
		for (int i = 0; i < ncpus; i++)
			remote[i] = i;
	}
	for (int i = 0; i < nremote; i++)
		if (remote[i] < 0 || remote[i] > ncpus - 1) {
			fprintf(stderr, "option --remote: expected counts in 0..%d (the CPUs after the first of --cpus), found %ld\n",
				ncpus - 1, remote[i]);
			return 2;
		}
	for (int i = 0; i < npages; i++)
		if (pages[i] < 1) {
			fprintf(stderr, "option --pages: expected page counts >= 1, found %ld\n", pages[i]);
			return 2;
		}
	FILE *counters = NULL;
	if (counters_path) {
		counters = fopen(counters_path, "w");
		if (!counters) {
			fprintf(stderr, "cannot write %s: %s\n", counters_path, strerror(errno));
			return 1;
		}
		fprintf(counters, "op,remote_threads,pages_per_call,calls,tlb_irqs,cal_irqs\n");
	}

	int main_pinned = bench_pin((int)cpus[0]);
	double clock_ns = bench_clock_overhead_ns();
	long remote_pinned_min = 0;
	int first = 1;
	uint64_t expected_touches = 0;
	struct shared *sh = calloc(1, sizeof *sh);

	printf("op,remote_threads,pages_per_call,rep,elapsed_ns\n");
	for (int ri = 0; ri < nremote; ri++) {
		int k = (int)remote[ri];
		pthread_t th[BENCH_MAX_LIST];
		struct remote rs[BENCH_MAX_LIST];
		atomic_store(&sh->gen, 0);
		atomic_store(&sh->pinned, 0);
		for (int t = 0; t < k; t++) {
			atomic_store(&sh->acks[t], 0);
			rs[t] = (struct remote){sh, t, (int)cpus[t + 1]};
			pthread_create(&th[t], NULL, remote_main, &rs[t]);
		}
		for (int o = 0; o < nops; o++)
			for (int p = 0; p < npages; p++) {
				unsigned char *kept = ops[o] ? map_region(pages[p]) : NULL;
				for (long r = 0; r < warmup; r++)
					one_call(sh, ops[o], kept, pages[p], k);
				long long tlb0 = interrupts("TLB:"), cal0 = interrupts("CAL:");
				for (long r = 0; r < reps; r++) {
					uint64_t ns = one_call(sh, ops[o], kept, pages[p], k);
					printf("%s,%d,%ld,%ld,%llu\n", ops[o] ? "mprotect" : "munmap", k, pages[p],
					       r, (unsigned long long)ns);
				}
				long long tlb1 = interrupts("TLB:"), cal1 = interrupts("CAL:");
				if (kept)
					munmap(kept, (size_t)pages[p] * PAGE);
				expected_touches += (uint64_t)k * (uint64_t)(warmup + reps) * (uint64_t)pages[p];
				if (counters)
					fprintf(counters, "%s,%d,%ld,%ld,%lld,%lld\n", ops[o] ? "mprotect" : "munmap",
						k, pages[p], reps, tlb0 < 0 ? -1 : tlb1 - tlb0,
						cal0 < 0 ? -1 : cal1 - cal0);
			}
		atomic_store(&sh->gen, STOP);
		for (int t = 0; t < k; t++)
			pthread_join(th[t], NULL);
		long pinned_now = atomic_load(&sh->pinned);
		if (k > 0 && (first || pinned_now - k < remote_pinned_min))
			remote_pinned_min = pinned_now - k, first = 0;
	}
	if (counters)
		fclose(counters);
	fflush(stdout);
	uint64_t touched = atomic_load(&sh->touched);
	int ok = touched == expected_touches;
	fprintf(stderr,
		"{\"program\": \"unmap\", \"pinned\": %s, \"remote_pinned\": %s, \"cpu\": %ld, "
		"\"clock_overhead_ns\": %.1f, \"warmup\": %ld, \"reps\": %ld, \"remote_touches\": %llu, "
		"\"expected_touches\": %llu, \"validated\": %s}\n",
		main_pinned ? "true" : "false", remote_pinned_min == 0 ? "true" : "false", cpus[0], clock_ns,
		warmup, reps, (unsigned long long)touched, (unsigned long long)expected_touches,
		ok ? "true" : "false");
	free(sh);
	return ok ? 0 : 1;
}
