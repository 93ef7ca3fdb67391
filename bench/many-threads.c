/*
 * Per-thread speed with many threads on one pool: N threads (default 16)
 * run one after another, each staying alive after its turn, so each new
 * thread meets the slots the earlier ones hold. Each runs batches of
 * 1000 × 8–512 B (allocate, write, free in shuffled order) and prints its
 * best ns per operation of 5 runs. A thread that finds no slot for its
 * cache shows up at about twice the others' time.
 *
 * cc -O2 -I crates/vmem-ffi/include -o many-threads bench/many-threads.c \
 *   -L target/release -Wl,-rpath,$PWD/target/release -lvmem -lpthread
 * ./many-threads [N] [DIR]
 */
#include <libvmem.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static VMEM *pool;
static sem_t turn_done;
static pthread_barrier_t all_done;

static uint64_t xorshift(uint64_t *s) { *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17; return *s; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static void *worker(void *arg) {
	long id = (long)arg;
	void *blocks[1000];
	uint64_t seed = id + 1;
	double best = 1e30;
	for (int run = 0; run < 5; run++) {
		double t0 = now();
		for (int round = 0; round < 200; round++) {
			for (int i = 0; i < 1000; i++) {
				blocks[i] = vmem_malloc(pool, 8 + xorshift(&seed) % 505);
				if (!blocks[i]) { fprintf(stderr, "allocation failed\n"); exit(1); }
				*(char *)blocks[i] = 1;
			}
			for (int i = 999; i > 0; i--) {
				int j = xorshift(&seed) % (i + 1);
				void *t = blocks[i]; blocks[i] = blocks[j]; blocks[j] = t;
			}
			for (int i = 0; i < 1000; i++) vmem_free(pool, blocks[i]);
		}
		double ns = (now() - t0) / 200000 * 1e9;
		if (ns < best) best = ns;
	}
	printf("thread %2ld: %.1f ns/op\n", id, best);
	fflush(stdout);
	sem_post(&turn_done);
	pthread_barrier_wait(&all_done);
	return NULL;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 16;
	const char *dir = argc > 2 ? argv[2] : "/dev/shm";
	if (n < 1 || n > 256) { fprintf(stderr, "N is 1 to 256\n"); return 1; }
	pool = vmem_create(dir, (size_t)1 << 30);
	if (!pool) { perror("vmem_create"); return 1; }
	sem_init(&turn_done, 0, 0);
	pthread_barrier_init(&all_done, NULL, n + 1);
	pthread_t threads[256];
	for (long i = 0; i < n; i++) {
		pthread_create(&threads[i], NULL, worker, (void *)i);
		sem_wait(&turn_done);
	}
	pthread_barrier_wait(&all_done);
	for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
	vmem_delete(pool);
	return 0;
}
