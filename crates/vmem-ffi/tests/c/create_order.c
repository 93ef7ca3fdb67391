/*
 * create_order.c -- vmem_create's and vmem_create_in_region's checks run in
 * libvmem's order: the size first, then the address, then the directory, so
 * a caller sees the same errno and message as with libvmem.
 */
#include <stdint.h>
#include <sys/mman.h>

#include <libvmem.h>

#include "check.h"

static void
expect(VMEM *vmp, int err, const char *message)
{
	CHECK(vmp == NULL);
	CHECK(errno == err);
	CHECK(strstr(vmem_errormsg(), message) != NULL);
}

int
main(void)
{
	errno = 0;
	expect(vmem_create_in_region(NULL, 1), EINVAL,
		"size 1 smaller than 14680064");
	char *region = mmap(NULL, 2 * VMEM_MIN_POOL, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(region != MAP_FAILED);
	expect(vmem_create_in_region(region + 1, VMEM_MIN_POOL - 1), EINVAL,
		"smaller than 14680064");
	expect(vmem_create_in_region(region + 1, VMEM_MIN_POOL), EINVAL,
		"not page aligned");
	expect(vmem_create_in_region(NULL, VMEM_MIN_POOL), EINVAL,
		"not page aligned");
	munmap(region, 2 * VMEM_MIN_POOL);
	OK("create_in_region: size checked before the address");

	expect(vmem_create("/no/such/dir", 1), EINVAL,
		"size 1 smaller than 14680064");
	expect(vmem_create("/no/such/dir", VMEM_MIN_POOL), ENOENT,
		"/no/such/dir");
	expect(vmem_create("/etc/passwd", VMEM_MIN_POOL - 1), EINVAL,
		"smaller than 14680064");
	OK("create: size checked before the directory");
	return 0;
}
