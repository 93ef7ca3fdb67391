/*
 * fds.c -- with VMEM_LOG_LEVEL and VMEM_LOG_FILE set (run.sh sets both), the
 * set of open descriptors before the first pool and after the last
 * vmem_delete is the same: the log file opens when the library loads, as
 * libvmem's did, and every pool's descriptor closes with the pool.
 */
#include <dirent.h>
#include <pthread.h>

#include <libvmem.h>

#include "check.h"

/* The open descriptors as a bit set (the test opens fewer than 1024). */
static void
open_fds(unsigned char set[1024 / 8])
{
	memset(set, 0, 1024 / 8);
	DIR *dir = opendir("/proc/self/fd");
	CHECK(dir != NULL);
	int own = dirfd(dir);
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		int fd = atoi(entry->d_name);
		if (fd != own && fd < 1024)
			set[fd / 8] |= (unsigned char)(1 << (fd % 8));
	}
	closedir(dir);
}

static void *
use_pool(void *vmp)
{
	for (int i = 0; i < 100; i++)
		vmem_free(vmp, vmem_malloc(vmp, (size_t)i * 100));
	return NULL;
}

int
main(void)
{
	CHECK(getenv("VMEM_LOG_FILE") != NULL && getenv("VMEM_LOG_LEVEL"));
	unsigned char before[1024 / 8], after[1024 / 8];
	open_fds(before);

	VMEM *pools[8];
	for (int i = 0; i < 8; i++) {
		pools[i] = vmem_create("/dev/shm", VMEM_MIN_POOL);
		CHECK(pools[i] != NULL);
	}
	CHECK(vmem_create("/dev/shm", 1) == NULL); /* an error line */
	pthread_t thread;
	CHECK(pthread_create(&thread, NULL, use_pool, pools[0]) == 0);
	CHECK(pthread_join(thread, NULL) == 0);
	vmem_stats_print(pools[1], "");
	for (int i = 0; i < 8; i++)
		vmem_delete(pools[i]);

	open_fds(after);
	for (int fd = 0; fd < 1024; fd++) {
		int was = (before[fd / 8] >> (fd % 8)) & 1;
		int is = (after[fd / 8] >> (fd % 8)) & 1;
		if (was != is)
			fprintf(stderr, "fd %d: open before %d, after %d\n",
				fd, was, is);
		CHECK(was == is);
	}
	OK("fds: the same descriptors before the first pool and after the last delete");
	return 0;
}
