/*
 * The hot path alone, for comparing two builds of libvmem.so (bench/ab.sh):
 * malloc/free pairs of one size, or (size 0) batches of 1000 allocations of
 * 8-512 bytes, each written, freed in shuffled order (the yardstick's
 * small batch, step for step). Prints the fastest of ROUNDS runs, in
 * nanoseconds per allocation and free.
 *
 * usage: ab-pairs DIR SIZE COUNT ROUNDS
 */
#include <libvmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>

static double now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static uint64_t next(uint64_t *state) {
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* The batch's pool and size bounds, as the yardstick keeps them: in memory
 * that a call may change (so the loop reloads them after each call, and
 * divides by a number it cannot know). A constant bound, divided by a
 * multiply, and bounds kept in registers each hid most of the yardstick's
 * gap to tcmalloc. */
struct batch_args {
	VMEM *pool;
	size_t lo, hi;
} batch_args = {NULL, 8, 512};

int main(int argc, char **argv) {
	if (argc != 5) {
		fprintf(stderr, "usage: %s DIR SIZE COUNT ROUNDS\n", argv[0]);
		return 2;
	}
	size_t size = strtoul(argv[2], NULL, 0);
	long count = atol(argv[3]);
	int rounds = atoi(argv[4]);
	VMEM *pool = vmem_create(argv[1], 64 << 20);
	if (pool == NULL) {
		fprintf(stderr, "vmem_create: %s\n", vmem_errormsg());
		return 1;
	}
	static void *batch[1000];
	batch_args.pool = pool;
	struct batch_args *args = &batch_args;
	double best = 1e30;
	for (int round = 0; round < rounds; round++) {
		double start = now_ns();
		if (size > 0) {
			for (long i = 0; i < count; i++) {
				void *volatile block = vmem_malloc(pool, size);
				vmem_free(pool, block);
			}
		} else {
			/* The yardstick's small batch, step for step: xorshift sizes
			 * (see `batch_args`), each block written, freed in shuffled
			 * order. */
			uint64_t seed = 1;
			for (long k = 0; k < count / 1000; k++) {
				for (int j = 0; j < 1000; j++) {
					batch[j] = vmem_malloc(args->pool, args->lo + next(&seed) % (args->hi - args->lo + 1));
					*(char *)batch[j] = 1;
				}
				for (int j = 999; j > 0; j--) {
					int other = next(&seed) % (j + 1);
					void *swap = batch[j];
					batch[j] = batch[other];
					batch[other] = swap;
				}
				for (int j = 0; j < 1000; j++)
					vmem_free(args->pool, batch[j]);
			}
		}
		double per_pair = (now_ns() - start) / count;
		if (per_pair < best)
			best = per_pair;
	}
	printf("%.2f\n", best);
	vmem_delete(pool);
	return 0;
}
