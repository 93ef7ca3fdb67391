/*
 * memcheck.c -- memcheck sees pool blocks as it sees malloc's. run.sh runs
 * it under valgrind once per mode and reads memcheck's report:
 *   (no argument)  a clean program: every call, 0 errors
 *   use-after-free a write into a freed block: an invalid write
 *   overrun        a write past a block into free pool space: an invalid write
 *   leak           a block never freed while its pool lives: definitely lost
 */
#include <stdint.h>
#include <sys/mman.h>
#include <wchar.h>

#include <libvmem.h>

#include "check.h"

/* Every allocating call; every block freed; reads only of written bytes. */
static void
clean(void)
{
	VMEM *vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	char *blocks[64];
	for (int i = 0; i < 64; i++) {
		blocks[i] = vmem_malloc(vmp, (size_t)(i + 1) * 24);
		CHECK(blocks[i] != NULL);
		memset(blocks[i], i, (size_t)(i + 1) * 24);
	}
	for (int i = 0; i < 64; i += 2)
		vmem_free(vmp, blocks[i]);
	for (int i = 1; i < 64; i += 2) {
		/* all of the usable size is the program's */
		size_t usable = vmem_malloc_usable_size(vmp, blocks[i]);
		memset(blocks[i], 1, usable);
		blocks[i] = vmem_realloc(vmp, blocks[i], usable * 3);
		CHECK(blocks[i] != NULL);
		for (size_t j = 0; j < usable; j++)
			CHECK(blocks[i][j] == 1); /* defined: copied */
		vmem_free(vmp, blocks[i]);
	}
	int *zeros = vmem_calloc(vmp, 1000, sizeof(int));
	CHECK(zeros != NULL);
	for (int i = 0; i < 1000; i++)
		CHECK(zeros[i] == 0);
	vmem_free(vmp, zeros);
	char *big = vmem_aligned_alloc(vmp, 1 << 16, 3 << 20);
	CHECK(big != NULL && ((uintptr_t)big & 0xffff) == 0);
	memset(big, 2, 3 << 20);
	big = vmem_realloc(vmp, big, 100);
	CHECK(big != NULL && big[99] == 2);
	vmem_free(vmp, big);
	char *copy = vmem_strdup(vmp, "hello");
	CHECK(copy != NULL && strcmp(copy, "hello") == 0);
	vmem_free(vmp, copy);
	wchar_t *wide = vmem_wcsdup(vmp, L"wide");
	CHECK(wide != NULL && wcscmp(wide, L"wide") == 0);
	vmem_free(vmp, wide);
	vmem_delete(vmp);

	/* a region is the caller's again after its pool is deleted */
	char *region = mmap(NULL, VMEM_MIN_POOL, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(region != MAP_FAILED);
	vmp = vmem_create_in_region(region, VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	char *p = vmem_malloc(vmp, 10);
	CHECK(p != NULL);
	p[9] = 1;
	vmem_delete(vmp); /* frees p with the pool: no leak */
	memset(region, 3, VMEM_MIN_POOL);
	CHECK(region[VMEM_MIN_POOL - 1] == 3);
	munmap(region, VMEM_MIN_POOL);
	OK("memcheck clean: every call");
}

int
main(int argc, char *argv[])
{
	if (argc < 2) {
		clean();
		return 0;
	}
	VMEM *vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	/* a block that is not the first of its slab, so that no allocator
	 * metadata points at it */
	char *first = vmem_malloc(vmp, 100);
	char *p = vmem_malloc(vmp, 100);
	CHECK(first != NULL && p != NULL);
	if (strcmp(argv[1], "use-after-free") == 0) {
		vmem_free(vmp, p);
		p[10] = 'x';
	} else if (strcmp(argv[1], "overrun") == 0) {
		p[4096] = 'x'; /* the rest of the slab is free */
		vmem_free(vmp, p);
	} else if (strcmp(argv[1], "leak") == 0) {
		p[0] = 'x';
		p = NULL;
		vmem_free(vmp, first);
		return 0; /* the pool lives on: p is lost */
	}
	vmem_free(vmp, first);
	vmem_delete(vmp);
	return 0;
}
