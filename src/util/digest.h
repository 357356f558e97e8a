/*
 * digest: random bytes and SHA-256, from OpenSSL, for the probes that need
 * names and content unique to a run (unique, not secret).
 */
#ifndef OCIDOCTOR_DIGEST_H
#define OCIDOCTOR_DIGEST_H

#include <stddef.h>

/* Writes 2 * bytes random lower-case hex digits and a NUL to out (bytes <= 128). */
void random_hex(char *out, size_t bytes);
/* "sha256:" and the hex SHA-256 of data (newly allocated). */
char *sha256_digest_of(const void *data, size_t len);

#endif
