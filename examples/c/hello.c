/*
 * hello.c -- a libvmem program: a pool in a directory, a string in it, the
 * pool's statistics. Build against vmem's drop-in library:
 *
 *   scripts/install-c.sh "$HOME/.local"
 *   export PKG_CONFIG_PATH="$HOME/.local/lib/pkgconfig"
 *   cc -o hello examples/c/hello.c $(pkg-config --cflags --libs libvmem)
 *   LD_LIBRARY_PATH="$HOME/.local/lib" ./hello /dev/shm
 */
#include <libvmem.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char *argv[])
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	const char *why = vmem_check_version(VMEM_MAJOR_VERSION, VMEM_MINOR_VERSION);
	if (why != NULL) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}

	VMEM *vmp = vmem_create(dir, VMEM_MIN_POOL);
	if (vmp == NULL) {
		fprintf(stderr, "vmem_create: %s\n", vmem_errormsg());
		return 1;
	}
	char *greeting = vmem_strdup(vmp, "hello from a vmem pool");
	if (greeting == NULL) {
		fprintf(stderr, "vmem_strdup: %s\n", vmem_errormsg());
		return 1;
	}
	printf("%s (usable size %zu)\n", greeting, vmem_malloc_usable_size(vmp, greeting));
	vmem_stats_print(vmp, "bl");
	vmem_free(vmp, greeting);
	vmem_delete(vmp);
	return 0;
}
