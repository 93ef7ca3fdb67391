/*
 * Each thread's own speed when two threads run the yardstick's small batch
 * at once: 1000 allocations of 8-512 B, each written, freed in shuffled
 * order, 2000 rounds after 20 to warm up, the two threads started together
 * (a barrier) and timed apart. The yardstick's 2-thread row is wall time,
 * which mixes this with starting and ending the threads; here a thread
 * that runs slower beside another than alone shows as such.
 *
 * Built twice by bench/two-threads.sh: against libvmem (-DBACKEND_VMEM)
 * and against malloc, for the heaps through LD_PRELOAD.
 *
 * usage: two-threads DIR THREADS POOLS   (THREADS 1 or 2; POOLS 1, or 2 for
 *        a pool per thread; prints each thread's ns per operation)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef BACKEND_VMEM
#include <libvmem.h>
#define MALLOC(pool, size) vmem_malloc(pool, size)
#define FREE(pool, ptr) vmem_free(pool, ptr)
typedef VMEM pool_t;
#else
#define MALLOC(pool, size) ((void)(pool), malloc(size))
#define FREE(pool, ptr) ((void)(pool), free(ptr))
typedef void pool_t;
#endif

static pool_t *pools[2];
static int pool_count;
static pthread_barrier_t start;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static uint64_t xorshift(uint64_t *s) { *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17; return *s; }

struct worker { int id; double ns; };

static void rounds(pool_t *pool, uint64_t *seed, int count) {
	void *blocks[1000];
	for (int round = 0; round < count; round++) {
		for (int i = 0; i < 1000; i++) {
			blocks[i] = MALLOC(pool, 8 + xorshift(seed) % 505);
			if (!blocks[i]) { fprintf(stderr, "allocation failed\n"); exit(1); }
			*(char *)blocks[i] = 1;
		}
		for (int i = 999; i > 0; i--) {
			int j = xorshift(seed) % (i + 1);
			void *t = blocks[i]; blocks[i] = blocks[j]; blocks[j] = t;
		}
		for (int i = 0; i < 1000; i++) FREE(pool, blocks[i]);
	}
}

static void *work(void *arg) {
	struct worker *w = arg;
	pool_t *pool = pools[w->id % pool_count];
	uint64_t seed = 7 + w->id;
	rounds(pool, &seed, 20);
	pthread_barrier_wait(&start);
	double t0 = now();
	rounds(pool, &seed, 2000);
	w->ns = (now() - t0) / 2e6 * 1e9;
	return NULL;
}

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: %s DIR THREADS POOLS\n", argv[0]); return 2; }
	int threads = atoi(argv[2]);
	pool_count = atoi(argv[3]);
	if (threads < 1 || threads > 2 || pool_count < 1 || pool_count > 2) { fprintf(stderr, "THREADS and POOLS: 1 or 2\n"); return 2; }
	for (int i = 0; i < pool_count; i++) {
#ifdef BACKEND_VMEM
		pools[i] = vmem_create(argv[1], (size_t)256 << 20);
		if (!pools[i]) { perror("vmem_create"); return 1; }
#else
		(void)argv;
#endif
	}
	pthread_barrier_init(&start, NULL, threads);
	pthread_t ids[2];
	struct worker workers[2] = {{0, 0}, {1, 0}};
	for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, work, &workers[i]);
	for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
	for (int i = 0; i < threads; i++) printf("%.2f%c", workers[i].ns, i + 1 < threads ? ' ' : '\n');
	return 0;
}
