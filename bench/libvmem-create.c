/*
 * libvmem 1.8's create and delete, as system calls, timed like
 * vmem_bench.c's "create" part: libvmem is not installable here, so this
 * replays what its vmem_create does for a file pool (util_map_tmpfile in
 * PMDK's src/common/file.c: mkstemp + unlink with signals blocked,
 * posix_fallocate of the whole size, mmap MAP_SHARED, close) and what
 * vmem_delete does (munmap). Its jemalloc set-up is left out, so the figure
 * is a floor for libvmem, measured in the same run as vmem.
 * Usage: libvmem-create DIR
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
	const char *dir = argc > 1 ? argv[1] : "/dev/shm";
	size_t size = (size_t)1 << 30;
	char path[4096];
	snprintf(path, sizeof(path), "%s/vmem.XXXXXX", dir);

	double t0 = now();
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	int fd = mkstemp(path);
	if (fd >= 0) unlink(path);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd < 0) { perror("mkstemp"); return 1; }
	int err = posix_fallocate(fd, 0, (off_t)size);
	if (err) { fprintf(stderr, "posix_fallocate: %s\n", strerror(err)); return 1; }
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) { perror("mmap"); return 1; }
	close(fd);
	double t1 = now();
	munmap(base, size);
	double t2 = now();
	printf("backend libvmem_syscalls\n");
	printf("create_1GiB_ms %.3f ms\n", (t1 - t0) * 1e3);
	printf("create_delete_1GiB_ms %.3f ms\n", (t2 - t0) * 1e3);
	return 0;
}
