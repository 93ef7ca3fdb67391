/* capacity.c -- capacity under churn (issue #11) through the libvmem API.
 *
 * Each row takes a fresh 64 MiB pool (in /dev/shm, or the directory given as
 * the first argument), churns it, frees every block again, then measures what
 * the pool still serves. One line per row:
 *
 *	key: figure % (goal ≥ X %) ok|FAIL
 *
 * and exit status 1 when any row misses its goal. Only the libvmem 1.x API is
 * used, so the same source builds against this project's libvmem.so and
 * against the original libvmem (bench/capacity.sh runs both).
 *
 * "fill" = allocate blocks of one size until NULL; "share" = blocks × size /
 * pool size. Helper threads stay alive, blocked on a condition variable,
 * while another thread measures; nothing waits on a timer. */
#include <libvmem.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capacity.h"

/* Row: a freed block merges back with the untouched rest of the pool. */
static void
row_grow(void)
{
	VMEM *vmp = new_pool();
	void *a = vmem_malloc(vmp, 32 * MIB);
	vmem_free(vmp, a);
	void *b = a != NULL ? vmem_malloc(vmp, 40 * MIB) : NULL;
	int ok = b != NULL;
	if (ok)
		touch(b, 40 * MIB);
	vmem_free(vmp, b);
	vmem_delete(vmp);
	printf("grow40: %s (goal ok) %s\n", ok ? "ok" : "fails",
		ok ? "ok" : "FAIL");
	fflush(stdout);
	misses += !ok;
}

/* Row: the largest block by binary search on a fresh pool (each probe that
 * fits is freed before the next, larger one). */
static void
row_largest(void)
{
	VMEM *vmp = new_pool();
	report("largest", largest_block(vmp), 93.7);
	vmem_delete(vmp);
}

/* Row, harder: a pool half filled with blocks of 64 B, 4 KiB and 64 KiB and
 * emptied again gives one block of almost all of itself. */
static void
row_largest_half(void)
{
	VMEM *vmp = new_pool();
	const size_t sizes[] = {64, 4 * KIB, 64 * KIB};
	size_t cap = POOL / 64, n = 0, allocated = 0;
	void **ptrs = xcalloc(cap, sizeof(*ptrs));
	while (allocated < POOL / 2) {
		size_t size = sizes[n % 3];
		void *p = vmem_malloc(vmp, size);
		if (p == NULL) {
			fprintf(stderr, "half of a fresh pool: malloc(%zu) "
				"failed after %zu bytes\n", size, allocated);
			break;
		}
		touch(p, size);
		ptrs[n++] = p;
		allocated += size;
	}
	for (size_t i = 0; i < n; i++)
		vmem_free(vmp, ptrs[i]);
	free(ptrs);
	report("largest-half", largest_block(vmp), 93.7);
	vmem_delete(vmp);
}

/* Rows: 20000 B blocks interleaved with 1 MiB-aligned 1 MiB blocks until
 * neither fits, all freed; then a 4 KiB fill, then a 1 MiB fill. */
static void
row_interleaved(void)
{
	VMEM *vmp = new_pool();
	size_t cap = 2 * (POOL / 20000 + 1), n = 0;
	void **ptrs = xcalloc(cap, sizeof(*ptrs));
	while (n + 2 <= cap) {
		void *a = vmem_malloc(vmp, 20000);
		void *b = vmem_aligned_alloc(vmp, MIB, MIB);
		if (a == NULL && b == NULL)
			break;
		if (a != NULL) {
			touch(a, 20000);
			ptrs[n++] = a;
		}
		if (b != NULL) {
			if ((uintptr_t)b % MIB != 0) {
				fprintf(stderr, "aligned_alloc(1 MiB): %p\n", b);
				exit(2);
			}
			touch(b, MIB);
			ptrs[n++] = b;
		}
	}
	for (size_t i = 0; i < n; i++)
		vmem_free(vmp, ptrs[i]);
	free(ptrs);
	report("interleaved-4k", fill_share(vmp, 4 * KIB), 99.0);
	report("interleaved-1m", fill_share(vmp, MIB), 98.0);
	vmem_delete(vmp);
}

/* Helper threads that work (all at once), then stay alive and blocked until
 * released: row idle-1m. */
struct helpers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int finished; /* threads done with their work */
	int released;
	int failed;   /* work that could not be done */
	VMEM *vmp;
	int (*work)(VMEM *vmp, int i); /* 0 when done as planned */
};

struct helper_arg {
	struct helpers *h;
	int i;
};

static void *
helper_main(void *argp)
{
	struct helper_arg *arg = argp;
	struct helpers *h = arg->h;
	int failed = h->work(h->vmp, arg->i) != 0;

	pthread_mutex_lock(&h->lock);
	h->failed += failed;
	h->finished++;
	pthread_cond_broadcast(&h->cond);
	while (!h->released)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void *
measure_fill_1m(void *vmp)
{
	double *share = xcalloc(1, sizeof(*share));
	*share = fill_share(vmp, MIB);
	return share;
}

/* Runs n helpers, then a 1 MiB fill on one more thread while they are
 * blocked; returns the fill's share. Helpers that failed their work are
 * counted in helper_failures. */
static double
fill_next_to_idle_threads(VMEM *vmp, int n, int (*work)(VMEM *vmp, int i))
{
	struct helpers h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
		0, 0, 0, vmp, work};
	pthread_t threads[16];
	struct helper_arg args[16];
	for (int i = 0; i < n; i++) {
		args[i] = (struct helper_arg){&h, i};
		int rc = pthread_create(&threads[i], NULL, helper_main, &args[i]);
		if (rc != 0) {
			fprintf(stderr, "pthread_create: %s\n", strerror(rc));
			exit(2);
		}
	}
	pthread_mutex_lock(&h.lock);
	while (h.finished < n)
		pthread_cond_wait(&h.cond, &h.lock);
	int failed = h.failed;
	pthread_mutex_unlock(&h.lock);

	pthread_t measurer;
	void *result;
	int rc = pthread_create(&measurer, NULL, measure_fill_1m, vmp);
	if (rc == 0)
		rc = pthread_join(measurer, &result);
	if (rc != 0) {
		fprintf(stderr, "measuring thread: %s\n", strerror(rc));
		exit(2);
	}
	double share = *(double *)result;
	free(result);

	pthread_mutex_lock(&h.lock);
	h.released = 1;
	pthread_cond_broadcast(&h.cond);
	pthread_mutex_unlock(&h.lock);
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	if (failed)
		fprintf(stderr, "%d helper threads could not do their work\n",
			failed);
	helper_failures += failed;
	return share;
}

/* 1/8 of the pool in 64 B objects, all freed again in a shuffled order (as
 * a cache evicts), so what the thread still caches is spread out. */
static int
small_objects(VMEM *vmp, int i)
{
	size_t n = POOL / 8 / 64, done = 0;
	uint64_t rng = 0x1d1e + (uint64_t)i;
	void **ptrs = xcalloc(n, sizeof(*ptrs));
	while (done < n && (ptrs[done] = vmem_malloc(vmp, 64)) != NULL)
		touch(ptrs[done++], 64);
	if (done < n)
		fprintf(stderr, "thread %d: 64 B object %zu of %zu: NULL\n", i,
			done, n);
	for (size_t k = done; k > 1; k--) {
		size_t j = rand_range(&rng, 0, k - 1);
		void *t = ptrs[k - 1];
		ptrs[k - 1] = ptrs[j];
		ptrs[j] = t;
	}
	for (size_t k = 0; k < done; k++)
		vmem_free(vmp, ptrs[k]);
	free(ptrs);
	return done < n;
}

/* Row: 7 threads at once each free 1/8 of the pool in 64 B objects and stay
 * idle; an 8th thread fills the pool with 1 MiB blocks. */
static void
row_idle(void)
{
	VMEM *vmp = new_pool();
	report("idle-1m", fill_next_to_idle_threads(vmp, 7, small_objects),
		95.0);
	vmem_delete(vmp);
}

/* Mixed churn, as in capacity.rs: 80 % up to 512 B, 18 % up to 16 KiB, 2 %
 * up to 512 KiB; up to 7/32 of the pool live per thread. */
static size_t
churn_size(uint64_t *rng)
{
	size_t pick = rand_range(rng, 0, 99);
	if (pick < 80)
		return rand_range(rng, 1, 512);
	if (pick < 98)
		return rand_range(rng, 513, 16 * KIB);
	return rand_range(rng, 16 * KIB + 1, 512 * KIB);
}

static int
churn(VMEM *vmp, int i)
{
	const size_t steps = 60000, budget = POOL / 4 / 8 * 7;
	uint64_t rng = 0xc0ffee + (uint64_t)i;
	void **ptrs = xcalloc(steps, sizeof(*ptrs));
	size_t *sizes = xcalloc(steps, sizeof(*sizes));
	size_t live = 0, live_bytes = 0;
	for (size_t s = 0; s < steps; s++) {
		size_t size = churn_size(&rng);
		if (live > 0 && (rand_range(&rng, 0, 99) < 45 ||
			live_bytes + size > budget)) {
			size_t k = rand_range(&rng, 0, live - 1);
			vmem_free(vmp, ptrs[k]);
			live_bytes -= sizes[k];
			live--;
			ptrs[k] = ptrs[live];
			sizes[k] = sizes[live];
		} else {
			void *p = vmem_malloc(vmp, size);
			if (p != NULL) {
				memset(p, 0x3c, size < 64 ? size : 64);
				ptrs[live] = p;
				sizes[live++] = size;
				live_bytes += size;
			}
		}
	}
	for (size_t k = 0; k < live; k++)
		vmem_free(vmp, ptrs[k]);
	free(ptrs);
	free(sizes);
	return 0;
}

struct churn_arg {
	VMEM *vmp;
	int i;
};

static void *
churn_main(void *argp)
{
	struct churn_arg *arg = argp;
	churn(arg->vmp, arg->i);
	return NULL;
}

/* Row: mixed churn on 4 threads, all freed, the threads joined (their exit
 * empties their caches); a 1 MiB fill. */
static void
row_churn(void)
{
	VMEM *vmp = new_pool();
	pthread_t threads[4];
	struct churn_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct churn_arg){vmp, i};
		int rc = pthread_create(&threads[i], NULL, churn_main, &args[i]);
		if (rc != 0) {
			fprintf(stderr, "pthread_create: %s\n", strerror(rc));
			exit(2);
		}
	}
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	report("churn-1m", fill_share(vmp, MIB), 98.0);
	vmem_delete(vmp);
}

/* Row: the gaps skipped to align blocks to 32 MiB are not lost.
 * aligned_alloc(32 MiB, 4096) until it fails: a 64 MiB pool holds two such
 * blocks wherever it is mapped (when all of it is usable), and a gap of
 * almost 32 MiB lies before the second (one block alone needs no gap in a
 * pool at a 32 MiB boundary). All freed, then a 4 KiB fill. */
static void
row_aligned(void)
{
	VMEM *vmp = new_pool();
	void *ptrs[8];
	int n = 0;
	while (n < 8 && (ptrs[n] = vmem_aligned_alloc(vmp, 32 * MIB, 4096))) {
		if ((uintptr_t)ptrs[n] % (32 * MIB) != 0) {
			fprintf(stderr, "aligned_alloc(32 MiB): %p\n", ptrs[n]);
			exit(2);
		}
		touch(ptrs[n++], 4096);
	}
	for (int i = 0; i < n; i++)
		vmem_free(vmp, ptrs[i]);
	fprintf(stderr, "aligned32m: %d blocks aligned to 32 MiB\n", n);
	report("aligned32m", n > 0 ? fill_share(vmp, 4 * KIB) : 0.0, 99.0);
	vmem_delete(vmp);
}

int
main(int argc, char *argv[])
{
	if (argc > 1)
		dir = argv[1];
	row_grow();
	row_largest();
	row_largest_half();
	row_interleaved();
	row_idle();
	row_churn();
	row_aligned();
	printf("capacity: %d of 8 rows miss their goal\n", misses);
	return misses ? 1 : 0;
}
