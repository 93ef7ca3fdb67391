/* exit_destructor.c -- allocating from a pthread key destructor, on a
 * thread's way out (after jemalloc's own thread state is gone): each call
 * gives pool memory or NULL with ENOMEM, prints nothing, leaks nothing. */
#include <errno.h>
#include <libvmem.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"

static VMEM *vmp;
static int results[8];
static int nresults;

static int
in_pool_or_enomem(void *p)
{
	return p != NULL || errno == ENOMEM;
}

static void
on_exit_destructor(void *arg)
{
	void *earlier = arg;
	void *p;
	errno = 0;
	p = vmem_malloc(vmp, 100);
	results[nresults++] = in_pool_or_enomem(p);
	vmem_free(vmp, p);
	p = vmem_calloc(vmp, 10, 10);
	results[nresults++] = in_pool_or_enomem(p);
	vmem_free(vmp, p);
	p = vmem_aligned_alloc(vmp, 4096, 100);
	results[nresults++] = in_pool_or_enomem(p);
	vmem_free(vmp, p);
	p = vmem_malloc(vmp, 1 << 20);
	results[nresults++] = in_pool_or_enomem(p);
	vmem_free(vmp, p);
	p = vmem_strdup(vmp, "on the way out");
	results[nresults++] = in_pool_or_enomem(p);
	vmem_free(vmp, p);
	p = vmem_realloc(vmp, earlier, 1 << 16);
	results[nresults++] = in_pool_or_enomem(p);
	vmem_free(vmp, p != NULL ? p : earlier);
}

static pthread_key_t key;

static void *
thread_main(void *arg)
{
	(void)arg;
	void *earlier = vmem_malloc(vmp, 64);
	CHECK(earlier != NULL);
	CHECK(pthread_setspecific(key, earlier) == 0);
	return NULL;
}

int
main(void)
{
	/* Whatever the library would print goes to a file we read back. */
	char log[] = "/tmp/vmem-exit-destructor.XXXXXX";
	int fd = mkstemp(log);
	CHECK(fd >= 0);
	int saved = dup(2);
	CHECK(dup2(fd, 2) == 2);

	vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	CHECK(pthread_key_create(&key, on_exit_destructor) == 0);
	pthread_t thread;
	CHECK(pthread_create(&thread, NULL, thread_main, NULL) == 0);
	CHECK(pthread_join(thread, NULL) == 0);

	CHECK(dup2(saved, 2) == 2);
	off_t printed = lseek(fd, 0, SEEK_END);
	close(fd);
	unlink(log);
	CHECK(printed == 0);
	CHECK(nresults == 6);
	for (int i = 0; i < nresults; i++)
		CHECK(results[i]);
	CHECK(vmem_check(vmp) == 1);
	vmem_delete(vmp);
	OK("allocations in a thread-exit destructor");
	return 0;
}
