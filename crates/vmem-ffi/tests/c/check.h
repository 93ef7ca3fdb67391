/* check.h -- a minimal check macro for the C tests of libvmem.so */
#ifndef VMEM_TEST_CHECK_H
#define VMEM_TEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d, " \
				"vmem_errormsg \"%s\")\n", __FILE__, __LINE__, \
				#cond, errno, vmem_errormsg());              \
			exit(1);                                             \
		}                                                            \
	} while (0)

#define OK(name) printf("ok %s\n", name)

#endif
