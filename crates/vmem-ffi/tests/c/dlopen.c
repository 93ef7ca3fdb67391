/*
 * libvmem.so loaded after the program started, the way Python's ctypes, a
 * plugin host or Node.js (for the addon) load a library: dlopen must succeed
 * and the pool must work from several threads. Its thread-local storage
 * must stay "dynamic": a library that used the initial-exec model would
 * need its whole thread-local block (over 2 KiB, most of it jemalloc's) from
 * glibc's small static reserve, and dlopen fails with "cannot allocate
 * memory in static TLS block"; musl refuses such a library outright.
 *
 * Built without -lvmem (run.sh), so nothing loads the library at start.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vmem VMEM;
static VMEM *(*create)(const char *, size_t);
static void (*delete_pool)(VMEM *);
static void *(*pool_malloc)(VMEM *, size_t);
static void (*pool_free)(VMEM *, void *);
static int (*check)(VMEM *);
static VMEM *pool;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n",       \
				__FILE__, __LINE__, #cond);                \
			exit(1);                                           \
		}                                                          \
	} while (0)

static void *churn(void *arg)
{
	(void)arg;
	for (int round = 0; round < 1000; round++) {
		void *blocks[64];
		for (int i = 0; i < 64; i++) {
			blocks[i] = pool_malloc(pool, 8 + (size_t)i * 40);
			CHECK(blocks[i] != NULL);
			memset(blocks[i], i, 8);
		}
		for (int i = 0; i < 64; i++)
			pool_free(pool, blocks[i]);
	}
	return NULL;
}

int main(void)
{
	void *lib = dlopen("libvmem.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	*(void **)&create = dlsym(lib, "vmem_create");
	*(void **)&delete_pool = dlsym(lib, "vmem_delete");
	*(void **)&pool_malloc = dlsym(lib, "vmem_malloc");
	*(void **)&pool_free = dlsym(lib, "vmem_free");
	*(void **)&check = dlsym(lib, "vmem_check");
	CHECK(create && delete_pool && pool_malloc && pool_free && check);
	pool = create("/dev/shm", 64 << 20);
	CHECK(pool != NULL);
	pthread_t threads[4];
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&threads[i], NULL, churn, NULL) == 0);
	churn(NULL);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_join(threads[i], NULL) == 0);
	CHECK(check(pool) == 1);
	delete_pool(pool);
	/* No dlclose: thread-exit destructors of the library may still run. */
	printf("ok dlopen: loaded after start, used from 5 threads\n");
	return 0;
}
