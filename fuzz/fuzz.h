/*
 * fuzz: what every libFuzzer target here shares. Each target feeds one
 * parser of untrusted input; fuzz_string makes the NUL-terminated copy
 * most of them take.
 */
#ifndef OCIDOCTOR_FUZZ_H
#define OCIDOCTOR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
