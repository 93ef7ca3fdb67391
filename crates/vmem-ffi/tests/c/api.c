/* Every libvmem function and every errno of docs/api-contract.md, against libvmem.so. */
#include <dirent.h>
#include <errno.h>
#include <libvmem.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "check.h"

static char scratch[4096];

static void
test_create_errors(const char *tmp)
{
	errno = 0;
	CHECK(vmem_create(tmp, 1000) == NULL && errno == EINVAL);
	CHECK(strcmp(vmem_errormsg(), "size 1000 smaller than 14680064") == 0);
	CHECK(vmem_create(tmp, VMEM_MIN_POOL - 1) == NULL && errno == EINVAL);

	snprintf(scratch, sizeof(scratch), "%s/missing", tmp);
	CHECK(vmem_create(scratch, VMEM_MIN_POOL) == NULL && errno == ENOENT);
	CHECK(strstr(vmem_errormsg(), ": No such file or directory") != NULL);

	CHECK(vmem_create("/etc/hostname", VMEM_MIN_POOL) == NULL && errno == ENOTDIR);
	CHECK(vmem_create(NULL, VMEM_MIN_POOL) == NULL && errno == EINVAL);
	CHECK(strcmp(vmem_errormsg(), "dir is NULL") == 0);
	OK("create: EINVAL, ENOENT, ENOTDIR");
}

static void *
create_as_nobody(void *dir)
{
	/* fsuid is per thread on Linux; dropping it drops CAP_DAC_OVERRIDE */
	if (geteuid() == 0)
		setfsuid(65534);
	errno = 0;
	VMEM *vmp = vmem_create(dir, VMEM_MIN_POOL);
	return (void *)(intptr_t)(vmp == NULL ? errno : 0);
}

static void
test_eacces(const char *tmp)
{
	snprintf(scratch, sizeof(scratch), "%s/locked", tmp);
	CHECK(mkdir(scratch, 0500) == 0);
	pthread_t thread;
	void *result;
	CHECK(pthread_create(&thread, NULL, create_as_nobody, scratch) == 0);
	CHECK(pthread_join(thread, &result) == 0);
	CHECK((intptr_t)result == EACCES);
	rmdir(scratch);
	OK("create: EACCES");
}

static void
test_enospc(const char *tmp)
{
	if (geteuid() != 0) {
		printf("skip ENOSPC: not root\n");
		return;
	}
	char mnt[4096], cmd[8192];
	snprintf(mnt, sizeof(mnt), "%s/tiny", tmp);
	CHECK(mkdir(mnt, 0700) == 0);
	snprintf(cmd, sizeof(cmd), "mount -t tmpfs -o size=20m tmpfs %s", mnt);
	CHECK(system(cmd) == 0);
	errno = 0;
	CHECK(vmem_create(mnt, 32 << 20) == NULL && errno == ENOSPC);
	VMEM *vmp = vmem_create(mnt, 18 << 20);
	CHECK(vmp != NULL);
	/* filled to ENOMEM with every byte written: never SIGBUS */
	size_t n = 0;
	void *p;
	while ((p = vmem_malloc(vmp, 64 << 10)) != NULL) {
		memset(p, 0xcd, 64 << 10);
		n++;
	}
	CHECK(errno == ENOMEM && n * (64 << 10) >= (17u << 20));
	vmem_delete(vmp);
	snprintf(cmd, sizeof(cmd), "umount -l %s", mnt);
	CHECK(system(cmd) == 0);
	rmdir(mnt);
	OK("create: ENOSPC on a 20 MiB tmpfs; full pool never SIGBUSes");
}

static void
test_invisible_file(const char *tmp)
{
	snprintf(scratch, sizeof(scratch), "%s/invisible", tmp);
	CHECK(mkdir(scratch, 0700) == 0);
	VMEM *vmp = vmem_create(scratch, VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	DIR *dir = opendir(scratch);
	struct dirent *entry;
	int entries = 0;
	while ((entry = readdir(dir)) != NULL)
		if (entry->d_name[0] != '.')
			entries++;
	closedir(dir);
	CHECK(entries == 0);
	vmem_delete(vmp);
	rmdir(scratch);
	OK("create: the pool file is invisible");
}

static void
test_allocation(void)
{
	VMEM *vmp = vmem_create("/dev/shm", 64 << 20);
	CHECK(vmp != NULL);
	CHECK(vmem_check(vmp) == 1);

	char *p = vmem_malloc(vmp, 100);
	CHECK(p != NULL);
	memset(p, 'x', 100);
	CHECK(vmem_malloc_usable_size(vmp, p) >= 100);
	CHECK(vmem_malloc_usable_size(vmp, NULL) == 0);

	/* realloc keeps contents; NULL and 0 cases */
	p = vmem_realloc(vmp, p, 1 << 20);
	CHECK(p != NULL && p[0] == 'x' && p[99] == 'x');
	p = vmem_realloc(vmp, p, 10);
	CHECK(p != NULL && p[9] == 'x');
	errno = 0;
	CHECK(vmem_realloc(vmp, p, (size_t)1 << 40) == NULL && errno == ENOMEM);
	CHECK(p[0] == 'x');
	CHECK(vmem_realloc(vmp, p, 0) == NULL);
	char *q = vmem_realloc(vmp, NULL, 50);
	CHECK(q != NULL);
	vmem_free(vmp, q);
	vmem_free(vmp, NULL);

	/* calloc zeroes; overflow is ENOMEM */
	unsigned char *z = vmem_calloc(vmp, 1000, 10);
	CHECK(z != NULL);
	for (int i = 0; i < 10000; i++)
		CHECK(z[i] == 0);
	vmem_free(vmp, z);
	errno = 0;
	CHECK(vmem_calloc(vmp, SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);

	/* aligned_alloc */
	for (size_t align = 1; align <= (1 << 21); align <<= 1) {
		void *a = vmem_aligned_alloc(vmp, align, 100);
		CHECK(a != NULL && (uintptr_t)a % align == 0);
		vmem_free(vmp, a);
	}
	errno = 0;
	CHECK(vmem_aligned_alloc(vmp, 24, 100) == NULL && errno == EINVAL);

	/* strdup and wcsdup */
	char *s = vmem_strdup(vmp, "pool string");
	CHECK(s != NULL && strcmp(s, "pool string") == 0);
	wchar_t *w = vmem_wcsdup(vmp, L"wide \u2713");
	CHECK(w != NULL && wcscmp(w, L"wide \u2713") == 0);
	vmem_free(vmp, s);
	vmem_free(vmp, w);

	/* out of space */
	errno = 0;
	CHECK(vmem_malloc(vmp, (size_t)1 << 40) == NULL && errno == ENOMEM);
	CHECK(vmem_check(vmp) == 1);
	vmem_delete(vmp);
	OK("malloc, calloc, realloc, free, aligned_alloc, strdup, wcsdup, usable_size");
}

static void
test_fill_refill(void)
{
	VMEM *vmp = vmem_create("/dev/shm", 64 << 20);
	CHECK(vmp != NULL);
	static void *blocks[2 << 20];
	size_t first = 0, second = 0;
	while ((blocks[first] = vmem_malloc(vmp, 64)) != NULL)
		first++;
	CHECK(errno == ENOMEM);
	for (size_t i = 0; i < first; i++)
		vmem_free(vmp, blocks[i]);
	while ((blocks[second] = vmem_malloc(vmp, 64)) != NULL)
		second++;
	CHECK(first == second);
	CHECK(first * 64 >= (size_t)(64 << 20) * 97 / 100);
	vmem_delete(vmp);
	OK("fill to ENOMEM, free all, refill to the same count");
}

static void
test_check(void)
{
	VMEM *vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmem_check(vmp) == 1);
	vmem_delete(vmp);
	/* a deleted handle: -1, never a crash */
	CHECK(vmem_check(vmp) == -1 && errno == EINVAL);
	CHECK(strstr(vmem_errormsg(), "invalid pool handle") != NULL);
	vmem_delete(vmp); /* refused, not a crash */

	size_t size = 3 * VMEM_MIN_POOL;
	char *region = mmap(NULL, size, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(region != MAP_FAILED);
	VMEM *a = vmem_create_in_region(region, 2 * VMEM_MIN_POOL);
	CHECK(a != NULL && vmem_check(a) == 1);
	VMEM *b = vmem_create_in_region(region + VMEM_MIN_POOL, 2 * VMEM_MIN_POOL);
	CHECK(b != NULL);
	CHECK(vmem_check(a) == 0 && vmem_check(b) == 0);
	vmem_delete(a);
	CHECK(vmem_check(b) == 1);
	void *p = vmem_malloc(b, 1000);
	CHECK(p != NULL && (char *)p >= region && (char *)p < region + size);
	vmem_delete(b);
	/* the region is still mapped */
	memset(region, 1, size);

	errno = 0;
	CHECK(vmem_create_in_region(region + 1, VMEM_MIN_POOL) == NULL && errno == EINVAL);
	CHECK(vmem_create_in_region(region, VMEM_MIN_POOL - 4096) == NULL && errno == EINVAL);
	munmap(region, size);
	OK("check: deleted handles, overlapping pools; create_in_region");
}

static void
test_check_version(void)
{
	CHECK(vmem_check_version(VMEM_MAJOR_VERSION, VMEM_MINOR_VERSION) == NULL);
	CHECK(vmem_check_version(1, 0) == NULL);
	const char *major = vmem_check_version(2, 0);
	CHECK(major && strcmp(major, "libvmem major version mismatch (need 2, found 1)") == 0);
	const char *minor = vmem_check_version(1, 2);
	CHECK(minor && strcmp(minor, "libvmem minor version mismatch (need 2, found 1)") == 0);
	CHECK(vmem_check_version(1, 2) == minor); /* static */
	OK("check_version");
}

static char printed[1 << 16];

static void
collect(const char *s)
{
	strncat(printed, s, sizeof(printed) - strlen(printed) - 1);
}

static void
test_stats_print(void)
{
	VMEM *vmp = vmem_create("/dev/shm", 64 << 20);
	void *small = vmem_malloc(vmp, 100), *large = vmem_malloc(vmp, 1 << 20);
	vmem_set_funcs(NULL, NULL, NULL, NULL, collect);
	vmem_stats_print(vmp, NULL);
	CHECK(strstr(printed, "Begin vmem statistics") && strstr(printed, "bins:") &&
		strstr(printed, "large:") && strstr(printed, "End vmem statistics"));
	printed[0] = 0;
	vmem_stats_print(vmp, "gmabl");
	CHECK(strstr(printed, "Begin vmem statistics") && !strstr(printed, "bins:") &&
		!strstr(printed, "Version"));
	vmem_set_funcs(NULL, NULL, NULL, NULL, NULL);
	vmem_free(vmp, small);
	vmem_free(vmp, large);
	vmem_delete(vmp);
	OK("stats_print through print_func, with opts");
}

static void *
other_thread_error(void *arg)
{
	(void)arg;
	CHECK(vmem_create("/no/such/dir", VMEM_MIN_POOL) == NULL);
	CHECK(strstr(vmem_errormsg(), "/no/such/dir") != NULL);
	return NULL;
}

static void
test_thread_local_errors(void)
{
	CHECK(vmem_create("/dev/shm", 5) == NULL);
	pthread_t thread;
	CHECK(pthread_create(&thread, NULL, other_thread_error, NULL) == 0);
	CHECK(pthread_join(thread, NULL) == 0);
	CHECK(strcmp(vmem_errormsg(), "size 5 smaller than 14680064") == 0);
	OK("errormsg is thread-local");
}

int
main(void)
{
	char tmp[] = "/tmp/vmem-c-api-XXXXXX";
	CHECK(mkdtemp(tmp) != NULL);
	test_create_errors(tmp);
	test_eacces(tmp);
	test_enospc(tmp);
	test_invisible_file(tmp);
	test_allocation();
	test_fill_refill();
	test_check();
	test_check_version();
	test_stats_print();
	test_thread_local_errors();
	rmdir(tmp);
	return 0;
}
