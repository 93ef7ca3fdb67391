/* vmem_set_funcs: the library's run-time state goes through the host's
 * malloc/free/realloc, balanced after delete; a failing malloc makes
 * vmem_create fail with ENOMEM instead of aborting. */
#include <errno.h>
#include <libvmem.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static atomic_long mallocs, frees, reallocs, live;
static atomic_int failing;

static void *
counting_malloc(size_t size)
{
	if (atomic_load(&failing))
		return NULL;
	atomic_fetch_add(&mallocs, 1);
	atomic_fetch_add(&live, 1);
	return malloc(size);
}

static void
counting_free(void *ptr)
{
	if (ptr == NULL)
		return;
	atomic_fetch_add(&frees, 1);
	atomic_fetch_sub(&live, 1);
	free(ptr);
}

static void *
counting_realloc(void *ptr, size_t size)
{
	if (atomic_load(&failing))
		return NULL;
	atomic_fetch_add(&reallocs, 1);
	if (ptr == NULL)
		atomic_fetch_add(&live, 1);
	return realloc(ptr, size);
}

static char *
counting_strdup(const char *s)
{
	char *copy = counting_malloc(strlen(s) + 1);
	if (copy != NULL)
		strcpy(copy, s);
	return copy;
}

int
main(void)
{
	vmem_set_funcs(counting_malloc, counting_free, counting_realloc,
		counting_strdup, NULL);

	/* warm up lazily made library state (thread-locals, tables): one cycle
	 * like the ones counted below */
	VMEM *vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	vmem_free(vmp, vmem_malloc(vmp, 100));
	vmem_delete(vmp);

	long live_before = atomic_load(&live);
	long mallocs_before = atomic_load(&mallocs);
	for (int i = 0; i < 10; i++) {
		vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
		CHECK(vmp != NULL);
		void *p = vmem_malloc(vmp, 100);
		CHECK(p != NULL);
		vmem_free(vmp, p);
		vmem_delete(vmp);
	}
	CHECK(atomic_load(&mallocs) > mallocs_before); /* state went through them */
	CHECK(atomic_load(&live) == live_before);       /* and all of it came back */
	OK("set_funcs: the library's state goes through malloc_func/free_func, balanced");

	/* a failing malloc_func: vmem_create fails with ENOMEM, no abort */
	atomic_store(&failing, 1);
	errno = 0;
	vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmp == NULL && errno == ENOMEM);
	CHECK(strstr(vmem_errormsg(), "malloc_func failed") != NULL);
	atomic_store(&failing, 0);
	vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	vmem_delete(vmp);
	OK("set_funcs: a failing malloc_func makes vmem_create fail with ENOMEM");

	/* back to the defaults: blocks made under the counting functions are
	 * still freed by them */
	long frees_before = atomic_load(&frees);
	vmem_set_funcs(NULL, NULL, NULL, NULL, NULL);
	vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	vmem_delete(vmp);
	CHECK(atomic_load(&frees) >= frees_before);
	OK("set_funcs: NULL restores the defaults");
	return 0;
}
