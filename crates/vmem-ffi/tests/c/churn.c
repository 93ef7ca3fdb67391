/* 3000 create/delete cycles leave no descriptor or mapping behind (the
 * library's jemalloc runs with retain:false, set inside libvmem.so). */
#include <dirent.h>
#include <libvmem.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

static int
count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int lines = 0, c;
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	return lines;
}

static int
count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;
	while (readdir(dir) != NULL)
		n++;
	closedir(dir);
	return n;
}

int
main(void)
{
	VMEM *vmp = vmem_create("/tmp", VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	vmem_free(vmp, vmem_malloc(vmp, 10));
	vmem_delete(vmp);
	int maps = count_lines("/proc/self/maps"), fds = count_fds();
	for (int i = 0; i < 3000; i++) {
		vmp = vmem_create("/tmp", VMEM_MIN_POOL);
		CHECK(vmp != NULL);
		vmem_free(vmp, vmem_malloc(vmp, 100 + i));
		vmem_delete(vmp);
	}
	CHECK(count_lines("/proc/self/maps") <= maps + 4);
	CHECK(count_fds() == fds);
	OK("3000 create/delete cycles: no mapping or descriptor left");
	return 0;
}
