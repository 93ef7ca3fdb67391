/* Threads hammering one pool, freeing each other's blocks through a shared
 * ring, every block's pattern verified before it is freed. */
#include <libvmem.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define THREADS 4
#define OPS 250000
#define RING 4096

static VMEM *vmp;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block {
	unsigned char *ptr;
	size_t size;
	unsigned id;
} ring[RING];
static size_t ring_count;

static unsigned char
pattern(unsigned id, size_t i)
{
	return (unsigned char)((id * 31u + i * 7u) % 251u);
}

static void
verify_and_free(struct block b)
{
	for (size_t i = 0; i < b.size; i++)
		CHECK(b.ptr[i] == pattern(b.id, i));
	vmem_free(vmp, b.ptr);
}

static void *
worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	unsigned seed = t + 1;
	for (unsigned i = 0; i < OPS; i++) {
		unsigned id = t * OPS + i;
		size_t size = 8 + rand_r(&seed) % 1000;
		unsigned char *p = vmem_malloc(vmp, size);
		CHECK(p != NULL);
		for (size_t k = 0; k < size; k++)
			p[k] = pattern(id, k);
		struct block out = {0};
		pthread_mutex_lock(&ring_lock);
		if (ring_count == RING) {
			size_t victim = rand_r(&seed) % RING;
			out = ring[victim];
			ring[victim] = (struct block){p, size, id};
		} else {
			ring[ring_count++] = (struct block){p, size, id};
		}
		pthread_mutex_unlock(&ring_lock);
		if (out.ptr != NULL)
			verify_and_free(out);
	}
	return NULL;
}

int
main(void)
{
	vmp = vmem_create("/dev/shm", 256 << 20);
	CHECK(vmp != NULL);
	pthread_t threads[THREADS];
	for (uintptr_t t = 0; t < THREADS; t++)
		CHECK(pthread_create(&threads[t], NULL, worker, (void *)t) == 0);
	for (int t = 0; t < THREADS; t++)
		CHECK(pthread_join(threads[t], NULL) == 0);
	for (size_t i = 0; i < ring_count; i++)
		verify_and_free(ring[i]);
	CHECK(vmem_check(vmp) == 1);
	vmem_delete(vmp);
	printf("ok %d threads, %d operations, cross-thread frees\n", THREADS, THREADS * OPS);
	return 0;
}
