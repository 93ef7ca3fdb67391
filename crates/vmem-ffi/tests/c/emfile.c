/*
 * emfile.c -- a pool in a directory keeps one file descriptor for its life,
 * so RLIMIT_NOFILE caps how many such pools a process holds; past it
 * vmem_create fails with EMFILE and says why. Pools in a caller's region
 * hold no descriptor.
 *
 * With arguments DIR COUNT, measures instead: creates up to COUNT pools in
 * DIR under the current limit and prints how many it got.
 */
#include <sys/mman.h>
#include <sys/resource.h>

#include <libvmem.h>

#include "check.h"

static int
measure(const char *dir, int count)
{
	VMEM **pools = calloc((size_t)count, sizeof(*pools));
	CHECK(pools != NULL);
	int made = 0;
	while (made < count &&
		(pools[made] = vmem_create(dir, VMEM_MIN_POOL)) != NULL)
		made++;
	struct rlimit limit;
	CHECK(getrlimit(RLIMIT_NOFILE, &limit) == 0);
	printf("%d of %d pools in %s with RLIMIT_NOFILE %llu%s%s\n", made,
		count, dir, (unsigned long long)limit.rlim_cur,
		made < count ? "; then: " : "",
		made < count ? vmem_errormsg() : "");
	for (int i = 0; i < made; i++)
		vmem_delete(pools[i]);
	free(pools);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 3)
		return measure(argv[1], atoi(argv[2]));

	struct rlimit limit = { 32, 32 };
	CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0);
	VMEM *pools[32];
	int made = 0;
	while (made < 32 &&
		(pools[made] = vmem_create("/dev/shm", VMEM_MIN_POOL)) != NULL)
		made++;
	CHECK(made >= 20 && made < 32); /* 3 std descriptors, the rest pools */
	CHECK(errno == EMFILE);
	CHECK(strstr(vmem_errormsg(), "too many open files") != NULL);
	CHECK(strstr(vmem_errormsg(), "one file descriptor") != NULL);

	/* region pools need no descriptor */
	char *region = mmap(NULL, VMEM_MIN_POOL, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(region != MAP_FAILED);
	VMEM *in_region = vmem_create_in_region(region, VMEM_MIN_POOL);
	CHECK(in_region != NULL);
	vmem_delete(in_region);
	munmap(region, VMEM_MIN_POOL);

	/* a deleted pool gives its descriptor back */
	vmem_delete(pools[--made]);
	pools[made] = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(pools[made] != NULL);
	made++;
	while (made > 0)
		vmem_delete(pools[--made]);
	OK("emfile: one descriptor per file pool; EMFILE past the limit");
	return 0;
}
