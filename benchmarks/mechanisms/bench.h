/*
 * Shared helpers for the pgrant-lab mechanism micro-benchmarks (memcpy.c, lookup.c, unmap.c).
 *
 * Timing: clock_gettime(CLOCK_MONOTONIC), which on x86 Linux is served by the vDSO from the TSC
 * (or kvm-clock in a KVM guest), so a reading costs tens of ns and no system call; every program
 * reports the measured cost of one reading (clock_overhead_ns) so the driver can judge whether a
 * sample is long enough. Samples always time a batch long enough to dwarf that overhead.
 *
 * Every program writes its samples as CSV on stdout (one row per sample, every sample kept) and
 * one line of JSON metadata on stderr at the end (pinning, clock overhead, validation).
 */
#ifndef PGRANT_BENCH_H
#define PGRANT_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_LIST 256 /* longest list option, e.g. --cpus on a 256-CPU host */

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Median cost of one clock reading in ns, from 1001 back-to-back pairs. */
static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static inline double bench_clock_overhead_ns(void)
{
	enum { N = 1001 };
	static uint64_t d[N];
	for (int i = 0; i < N; i++) {
		uint64_t t0 = bench_now_ns();
		uint64_t t1 = bench_now_ns();
		d[i] = t1 - t0;
	}
	qsort(d, N, sizeof d[0], bench_cmp_u64);
	return (double)d[N / 2];
}

/* Pin the calling thread to one CPU; returns 1 when pinned, 0 when the kernel refused. */
static inline int bench_pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof set, &set) == 0;
}

/* xorshift64*: a small seeded generator so runs are repeatable (Vigna, 2016). */
static inline uint64_t bench_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Fisher-Yates shuffle of n size_t values. */
static inline void bench_shuffle(size_t *v, size_t n, uint64_t *state)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(bench_rand(state) % i);
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* Parse "a,b,c" into out[]; returns the count, or exits with a one-line message. */
static inline int bench_parse_list(const char *opt, const char *text, long *out)
{
	int n = 0;
	const char *p = text;
	while (*p) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || n == BENCH_MAX_LIST || (*end && *end != ',')) {
			fprintf(stderr, "option %s: expected a comma-separated list of integers, found '%s'\n",
				opt, text);
			exit(2);
		}
		out[n++] = v;
		p = *end ? end + 1 : end;
	}
	if (n == 0) {
		fprintf(stderr, "option %s: expected at least one integer, found an empty list\n", opt);
		exit(2);
	}
	return n;
}

static inline long bench_parse_long(const char *opt, const char *text, long min)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (end == text || *end || errno || v < min) {
		fprintf(stderr, "option %s: expected an integer >= %ld, found '%s'\n", opt, min, text);
		exit(2);
	}
	return v;
}

static inline void *bench_xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "out of memory allocating %zu bytes\n", n);
		exit(1);
	}
	return p;
}

#endif
