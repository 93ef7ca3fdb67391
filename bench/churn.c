/*
 * Bulk churn past the front cache: N blocks of one size allocated (each
 * touched), then all freed, 20 rounds in one 1 GiB pool; prints the fastest
 * round in ns per operation (a malloc or a free). This is the path of
 * jemalloc's extents, which the front cache keeps small pairs and batches
 * away from: compare two builds of libvmem.so by running each in turn.
 *
 *   cc -O2 -I crates/vmem-ffi/include -o /tmp/churn bench/churn.c \
 *      -L target/release -Wl,-rpath,"$PWD/target/release" -lvmem
 *   /tmp/churn 65536 4000     (SIZE COUNT [DIR, default /dev/shm])
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <libvmem.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: %s SIZE COUNT [DIR]\n", argv[0]);
		return 2;
	}
	size_t size = strtoull(argv[1], NULL, 10);
	long count = strtol(argv[2], NULL, 10);
	const char *dir = argc > 3 ? argv[3] : "/dev/shm";
	if (size == 0 || count <= 0) {
		fprintf(stderr, "churn: SIZE and COUNT must be positive\n");
		return 2;
	}
	VMEM *pool = vmem_create(dir, (size_t)1 << 30);
	void **blocks = malloc(count * sizeof *blocks);
	if (!pool || !blocks) {
		perror("churn");
		return 1;
	}
	double best = 1e30;
	for (int round = 0; round < 20; round++) {
		double start = now();
		for (long i = 0; i < count; i++) {
			blocks[i] = vmem_malloc(pool, size);
			if (!blocks[i]) {
				fprintf(stderr, "churn: no room for block %ld\n", i);
				return 1;
			}
			((char *)blocks[i])[0] = 1;
		}
		for (long i = 0; i < count; i++) vmem_free(pool, blocks[i]);
		double ns = (now() - start) / (2.0 * count) * 1e9;
		if (ns < best) best = ns;
	}
	printf("%.0f\n", best);
	free(blocks);
	vmem_delete(pool);
	return 0;
}
