/* host_blocks.c -- what a pool's life leaves in the host's heap: after 20
 * pools were created, used from this thread and from a second one (still
 * alive), and deleted, at most 4 blocks from the vmem_set_funcs malloc are
 * still held (libvmem 1.8: at most 4; per-thread caches must go with the
 * pool). */
#include <libvmem.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static atomic_long live;

static void *
counting_malloc(size_t size)
{
	void *p = malloc(size);
	if (p != NULL)
		atomic_fetch_add(&live, 1);
	return p;
}

static void
counting_free(void *ptr)
{
	if (ptr != NULL)
		atomic_fetch_sub(&live, 1);
	free(ptr);
}

static void *
counting_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size);
	if (ptr == NULL && p != NULL)
		atomic_fetch_add(&live, 1);
	return p;
}

static char *
counting_strdup(const char *s)
{
	char *copy = counting_malloc(strlen(s) + 1);
	if (copy != NULL)
		strcpy(copy, s);
	return copy;
}

#define POOLS 20

static VMEM *pools[POOLS];
static pthread_barrier_t used, deleted;

static void
use(VMEM *vmp)
{
	void *blocks[100];
	for (int i = 0; i < 100; i++)
		CHECK((blocks[i] = vmem_malloc(vmp, (size_t)(16 + i * 40))) != NULL);
	for (int i = 0; i < 100; i++)
		vmem_free(vmp, blocks[i]);
}

static void *
second_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < POOLS; i++)
		use(pools[i]);
	pthread_barrier_wait(&used);
	/* Alive and idle while the pools are deleted and the heap counted. */
	pthread_barrier_wait(&deleted);
	return NULL;
}

int
main(void)
{
	vmem_set_funcs(counting_malloc, counting_free, counting_realloc,
		counting_strdup, NULL);
	CHECK(pthread_barrier_init(&used, NULL, 2) == 0);
	CHECK(pthread_barrier_init(&deleted, NULL, 2) == 0);
	long before = atomic_load(&live);
	for (int i = 0; i < POOLS; i++)
		CHECK((pools[i] = vmem_create("/dev/shm", VMEM_MIN_POOL)) != NULL);
	pthread_t thread;
	CHECK(pthread_create(&thread, NULL, second_thread, NULL) == 0);
	for (int i = 0; i < POOLS; i++)
		use(pools[i]);
	pthread_barrier_wait(&used);
	for (int i = 0; i < POOLS; i++)
		vmem_delete(pools[i]);
	long held = atomic_load(&live) - before;
	if (held > 4)
		fprintf(stderr, "%ld host blocks still held after every pool was deleted\n", held);
	pthread_barrier_wait(&deleted);
	CHECK(pthread_join(thread, NULL) == 0);
	CHECK(held <= 4);
	OK("host blocks after 20 pools deleted");
	return 0;
}
