/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz.h - the one entry point every fuzz target defines. Built with
 * libFuzzer (`make fuzz`, clang) or with replay_main.c, which runs the saved
 * corpus through the same function inside `make check` (gcc, ASan, UBSan).
 */
#ifndef EA_FUZZ_H
#define EA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the target checks failed: report and abort, so both libFuzzer
 * and the replay run see a crash. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                       \
		if(!(cond)){                                                           \
			fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__,     \
					__LINE__, #cond);                                          \
			abort();                                                           \
		}                                                                      \
	} while(0)

#endif
