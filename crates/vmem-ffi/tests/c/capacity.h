/* capacity.h -- what the rows of capacity.c share: the pool and its
 * directory, the row report, filling and probing a pool, and the seeded
 * random numbers (the same as capacity.rs's). Included by capacity.c only. */
#ifndef VMEM_TEST_CAPACITY_H
#define VMEM_TEST_CAPACITY_H

#include <libvmem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define POOL (64 * MIB)

static const char *dir = "/dev/shm";
static int misses;
static int helper_failures; /* helper threads that could not do their work */

static VMEM *
new_pool(void)
{
	VMEM *vmp = vmem_create(dir, POOL);
	if (vmp == NULL) {
		fprintf(stderr, "vmem_create(%s, 64 MiB): %s\n", dir,
			vmem_errormsg());
		exit(2);
	}
	return vmp;
}

static double
percent(size_t bytes)
{
	return (double)bytes * 100.0 / (double)POOL;
}

/* Prints a row; a row whose helper threads failed their work fails too. */
static void
report(const char *key, double figure, double goal)
{
	int ok = figure >= goal && helper_failures == 0;
	helper_failures = 0;
	printf("%s: %.1f %% (goal ≥ %.1f %%) %s\n", key, figure, goal,
		ok ? "ok" : "FAIL");
	fflush(stdout);
	misses += !ok;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (p == NULL) {
		perror("calloc");
		exit(2);
	}
	return p;
}

/* Writes the first and last byte: the memory must really be usable. */
static void
touch(void *p, size_t size)
{
	((unsigned char *)p)[0] = 0xa5;
	((unsigned char *)p)[size - 1] = 0x5a;
}

/* Allocates size-byte blocks until NULL, frees them, returns the share. */
static double
fill_share(VMEM *vmp, size_t size)
{
	size_t cap = POOL / size + 1, n = 0;
	void **ptrs = xcalloc(cap, sizeof(*ptrs));
	while (n < cap && (ptrs[n] = vmem_malloc(vmp, size)) != NULL)
		touch(ptrs[n++], size);
	for (size_t i = 0; i < n; i++)
		vmem_free(vmp, ptrs[i]);
	free(ptrs);
	return percent(n * size);
}

/* The largest block malloc gives, to within a page, by binary search on the
 * size (each probe freed at once). */
static double
largest_block(VMEM *vmp)
{
	const size_t step = 4 * KIB;
	size_t lo = 0, hi = POOL + step; /* malloc(lo) worked, malloc(hi) not */
	while (hi - lo > step) {
		size_t mid = (lo + hi) / 2 / step * step;
		void *p = vmem_malloc(vmp, mid);
		if (p != NULL) {
			vmem_free(vmp, p);
			lo = mid;
		} else {
			hi = mid;
		}
	}
	return percent(lo);
}

/* SplitMix64: the same churn on every run (and as in capacity.rs). */
static uint64_t
next_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
rand_range(uint64_t *state, size_t lo, size_t hi)
{
	return lo + (size_t)(next_rand(state) % (uint64_t)(hi - lo + 1));
}

#endif
