/*
 * The hot path alone, for comparing two builds of libvmem.so (bench/ab.sh):
 * malloc/free pairs of one size, or (size 0) batches of 1000 allocations of
 * 8-512 bytes, each written, freed in shuffled order (as the
 * yardstick's small batch). Prints the fastest of ROUNDS runs, in
 * nanoseconds per allocation and free.
 *
 * usage: ab-pairs DIR SIZE COUNT ROUNDS
 */
#include <libvmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

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
	double best = 1e30;
	for (int round = 0; round < rounds; round++) {
		double start = now_ns();
		if (size > 0) {
			for (long i = 0; i < count; i++) {
				void *volatile block = vmem_malloc(pool, size);
				vmem_free(pool, block);
			}
		} else {
			/* As the yardstick's small batch: random sizes, each block
			 * written, freed in shuffled order. */
			unsigned seed = 12345;
			for (long k = 0; k < count / 1000; k++) {
				for (int j = 0; j < 1000; j++) {
					seed = seed * 1103515245 + 12345;
					batch[j] = vmem_malloc(pool, 8 + (seed >> 16) % 505);
					*(char *)batch[j] = 1;
				}
				for (int j = 999; j > 0; j--) {
					seed = seed * 1103515245 + 12345;
					int other = (seed >> 16) % (j + 1);
					void *swap = batch[j];
					batch[j] = batch[other];
					batch[other] = swap;
				}
				for (int j = 0; j < 1000; j++)
					vmem_free(pool, batch[j]);
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
