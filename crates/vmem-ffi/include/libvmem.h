/*
 * libvmem.h -- the C API of vmem, source compatible with libvmem 1.x (PMDK).
 *
 * Volatile memory pools on memory-mapped files. Link with -lvmem
 * (or `pkg-config --cflags --libs vmem`). See libvmem(7).
 */

#ifndef LIBVMEM_H
#define LIBVMEM_H 1

#include <stddef.h>
#include <sys/types.h>
#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmem VMEM; /* opaque type internal to libvmem */

/*
 * managing overall library behavior
 */

/* current version of the libvmem API */
#define VMEM_MAJOR_VERSION 1
#define VMEM_MINOR_VERSION 1

/* NULL when the library provides API major.minor, else a static reason */
const char *vmem_check_version(unsigned major_required,
	unsigned minor_required);

/*
 * replaces the functions used for the library's run-time state and output;
 * print_func runs inside the library's calls and must not call it back
 */
void vmem_set_funcs(
	void *(*malloc_func)(size_t size),
	void (*free_func)(void *ptr),
	void *(*realloc_func)(void *ptr, size_t size),
	char *(*strdup_func)(const char *s),
	void (*print_func)(const char *s));

/* the last error message of the calling thread */
const char *vmem_errormsg(void);

/*
 * managing memory pools
 */

/* minimum pool size: 14MB */
#define VMEM_MIN_POOL ((size_t)(1024 * 1024 * 14))

VMEM *vmem_create(const char *dir, size_t size);
VMEM *vmem_create_in_region(void *addr, size_t size);
void vmem_delete(VMEM *vmp);
int vmem_check(VMEM *vmp);
void vmem_stats_print(VMEM *vmp, const char *opts);

/*
 * allocating memory from a pool
 */

void *vmem_malloc(VMEM *vmp, size_t size);
void vmem_free(VMEM *vmp, void *ptr);
void *vmem_calloc(VMEM *vmp, size_t nmemb, size_t size);
void *vmem_realloc(VMEM *vmp, void *ptr, size_t size);
void *vmem_aligned_alloc(VMEM *vmp, size_t alignment, size_t size);
char *vmem_strdup(VMEM *vmp, const char *s);
wchar_t *vmem_wcsdup(VMEM *vmp, const wchar_t *s);
size_t vmem_malloc_usable_size(VMEM *vmp, void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* LIBVMEM_H */
