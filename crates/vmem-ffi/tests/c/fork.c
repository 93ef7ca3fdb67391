/*
 * fork.c -- fork() while other threads call vmem_create, vmem_delete,
 * vmem_check and allocate: no child hangs on a lock of the library, and a
 * child can use its parent's pool and make, use and delete its own.
 * Each child gets a deadline; a hung one is killed and the test fails.
 */
#include <libvmem.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define CHILDREN 300
#define DEADLINE_MS 20000

static const char *dir = "/dev/shm";
static VMEM *shared;
static atomic_int stop;

static void *
create_delete(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		VMEM *vmp = vmem_create(dir, VMEM_MIN_POOL);
		if (vmp == NULL)
			continue;
		(void)vmem_check(vmp);
		void *p = vmem_malloc(vmp, 100);
		vmem_free(vmp, p);
		vmem_delete(vmp);
	}
	return NULL;
}

static void *
churn(void *arg)
{
	size_t size = (size_t)arg;
	void *blocks[64];
	while (!atomic_load(&stop)) {
		int n = 0;
		while (n < 64 && (blocks[n] = vmem_malloc(shared, size)) != NULL)
			n++;
		(void)vmem_check(shared);
		while (n > 0)
			vmem_free(shared, blocks[--n]);
	}
	return NULL;
}

/* What a child does; its exit status says how far it got. */
static int
child_work(void)
{
	void *p = vmem_malloc(shared, 1000);
	if (p == NULL)
		return 2;
	vmem_free(shared, p);
	if (vmem_check(shared) != 1)
		return 3;
	VMEM *own = vmem_create(dir, VMEM_MIN_POOL);
	if (own == NULL)
		return 4;
	p = vmem_malloc(own, 1 << 20);
	if (p == NULL)
		return 5;
	vmem_free(own, p);
	if (vmem_check(own) != 1)
		return 6;
	vmem_delete(own);
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char *argv[])
{
	if (argc > 1)
		dir = argv[1];
	shared = vmem_create(dir, 64 << 20);
	CHECK(shared != NULL);

	pthread_t threads[3];
	CHECK(pthread_create(&threads[0], NULL, create_delete, NULL) == 0);
	CHECK(pthread_create(&threads[1], NULL, churn, (void *)(size_t)48) == 0);
	CHECK(pthread_create(&threads[2], NULL, churn, (void *)(size_t)(256 << 10)) == 0);

	int hung = 0, failed = 0;
	for (int i = 0; i < CHILDREN; i++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			_exit(child_work());
		long start = now_ms();
		int status;
		pid_t done;
		while ((done = waitpid(pid, &status, WNOHANG)) == 0 &&
				now_ms() - start < DEADLINE_MS)
			usleep(1000);
		if (done == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "child %d hung\n", (int)pid);
			hung++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "child %d failed (status %#x)\n", (int)pid, status);
			failed++;
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++)
		CHECK(pthread_join(threads[i], NULL) == 0);
	CHECK(hung == 0 && failed == 0);
	CHECK(vmem_check(shared) == 1);
	vmem_delete(shared);
	OK("fork");
	return 0;
}
