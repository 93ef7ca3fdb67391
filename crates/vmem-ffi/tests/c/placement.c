/*
 * placement.c -- large blocks are placed at their natural alignment, at
 * most as aligned as the pool's start: pools made with
 * vmem_create_in_region at odd offsets, of an odd size, hold as many blocks
 * of each large size as their memory allows (whole jemalloc pages), every
 * block of its usual usable size; and vmem_create's pools as many as
 * their size allows.
 */
#include <stdint.h>
#include <sys/mman.h>

#include <libvmem.h>

#include "check.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define MAX_BLOCKS 2048

static const size_t sizes[] = { 64 * KIB, 128 * KIB, MIB, 5 * MIB / 4, 3 * MIB };

/* jemalloc's page: what a block just past 1 MiB is rounded up by. */
static size_t
jemalloc_page(void)
{
	VMEM *vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	void *block = vmem_malloc(vmp, MIB + 1);
	CHECK(block != NULL);
	size_t page = vmem_malloc_usable_size(vmp, block) - MIB;
	vmem_free(vmp, block);
	vmem_delete(vmp);
	return page;
}

/* Fills vmp with blocks of size, checks them, frees them: their count. */
static size_t
fill(VMEM *vmp, size_t size)
{
	static void *blocks[MAX_BLOCKS];
	size_t count = 0;
	while (count < MAX_BLOCKS && (blocks[count] = vmem_malloc(vmp, size)) != NULL) {
		CHECK(vmem_malloc_usable_size(vmp, blocks[count]) == size);
		count++;
	}
	CHECK(count < MAX_BLOCKS);
	for (size_t i = 0; i < count; i++)
		vmem_free(vmp, blocks[i]);
	CHECK(vmem_check(vmp) == 1);
	return count;
}

static void
test_region_pools(size_t page)
{
	size_t len = VMEM_MIN_POOL + 12 * KIB;
	size_t mapped = len + 8 * MIB;
	char *region = mmap(NULL, mapped, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(region != MAP_FAILED);
	uintptr_t aligned = ((uintptr_t)region + 4 * MIB - 1) & ~(4 * MIB - 1);
	static const size_t offsets[] = { 4 * KIB, 12 * KIB, 64 * KIB, MIB + 4 * KIB,
		3 * MIB / 2, 2 * MIB - 4 * KIB };
	for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
		uintptr_t start = aligned + offsets[o];
		/* whole jemalloc pages of the region */
		size_t pages = (start + len) / page * page - (start + page - 1) / page * page;
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			VMEM *vmp = vmem_create_in_region((void *)start, len);
			CHECK(vmp != NULL);
			size_t count = fill(vmp, sizes[s]);
			if (count != pages / sizes[s]) {
				fprintf(stderr, "region at +%#zx: %zu blocks of %zu, want %zu\n",
					offsets[o], count, sizes[s], pages / sizes[s]);
				exit(1);
			}
			vmem_delete(vmp);
		}
	}
	munmap(region, mapped);
	OK("region pools at odd offsets hold what their pages allow");
}

static void
test_file_pools(void)
{
	size_t lens[] = { VMEM_MIN_POOL, VMEM_MIN_POOL + 12 * KIB, 64 * MIB };
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			VMEM *vmp = vmem_create("/dev/shm", lens[l]);
			CHECK(vmp != NULL);
			CHECK(fill(vmp, sizes[s]) == lens[l] / sizes[s]);
			vmem_delete(vmp);
		}
	}
	OK("file pools hold len / size blocks of every large size");
}

static void
test_big_alignments(void)
{
	VMEM *vmp = vmem_create("/dev/shm", 64 * MIB);
	CHECK(vmp != NULL);
	size_t alignments[] = { 64 * KIB, 2 * MIB, 4 * MIB, 32 * MIB };
	for (size_t a = 0; a < sizeof(alignments) / sizeof(alignments[0]); a++) {
		void *block = vmem_aligned_alloc(vmp, alignments[a], 3 * MIB);
		CHECK(block != NULL && (uintptr_t)block % alignments[a] == 0);
		CHECK(vmem_malloc_usable_size(vmp, block) == 3 * MIB);
		vmem_free(vmp, block);
	}
	CHECK(vmem_check(vmp) == 1);
	CHECK(fill(vmp, MIB) == 64);
	vmem_delete(vmp);
	OK("aligned_alloc up to 32 MiB, then a full 1 MiB fill");
}

int
main(void)
{
	size_t page = jemalloc_page();
	/* A page, not a size class's step (large classes are page-granular
	 * in the pools' jemalloc; were they not, this would be 256 KiB). */
	CHECK(page >= 4 * KIB && page <= 64 * KIB && (page & (page - 1)) == 0);
	test_region_pools(page);
	test_file_pools();
	test_big_alignments();
	return 0;
}
