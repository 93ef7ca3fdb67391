/* VMEM_LOG_FILE with a trailing '-' gets the pid appended; VMEM_LOG_LEVEL is
 * honoured in this (release) build. run.sh sets both variables. */
#include <libvmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

int
main(void)
{
	const char *prefix = getenv("VMEM_LOG_FILE");
	CHECK(prefix != NULL && prefix[strlen(prefix) - 1] == '-');

	VMEM *vmp = vmem_create("/dev/shm", VMEM_MIN_POOL);
	CHECK(vmp != NULL);
	CHECK(vmem_create("/dev/shm", 7) == NULL);
	vmem_stats_print(vmp, "");
	vmem_delete(vmp);

	char path[4096];
	snprintf(path, sizeof(path), "%s%d", prefix, (int)getpid());
	FILE *log = fopen(path, "r");
	CHECK(log != NULL);
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof(text) - 1, log);
	fclose(log);
	text[n] = 0;
	CHECK(strstr(text, "created") != NULL);
	CHECK(strstr(text, "size 7 smaller than 14680064") != NULL);
	CHECK(strstr(text, "Begin vmem statistics") != NULL);
	CHECK(strstr(text, "deleted") != NULL);
	unlink(path);
	OK("VMEM_LOG_FILE with trailing '-' and VMEM_LOG_LEVEL=2");
	return 0;
}
