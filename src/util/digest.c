/*
 * digest: random bytes and SHA-256 from OpenSSL.
 */
#include "util/digest.h"
#include "util/xalloc.h"

#include <assert.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>

/*
 * OpenSSL's random bytes, drawn RANDOM_DRAW at a time by each thread: a
 * RAND_bytes call costs its provider machinery microseconds whatever the
 * size, and a probe asks for a few dozen bytes in two or three calls.
 * The names and digests made of them need to be unique, not secret.
 */
#define RANDOM_DRAW 1024

static _Thread_local struct {
	unsigned char bytes[RANDOM_DRAW];
	size_t used;            /* a thread starts with none left */
} random_pool = { .used = RANDOM_DRAW };

static const unsigned char *random_take(size_t n)
{
	const unsigned char *p;

	assert(n <= RANDOM_DRAW);
	if (RANDOM_DRAW - random_pool.used < n) {
		if (RAND_bytes(random_pool.bytes, RANDOM_DRAW) != 1)
			xdie("cannot get random bytes");
		random_pool.used = 0;
	}
	p = random_pool.bytes + random_pool.used;
	random_pool.used += n;
	return p;
}

static void hex_of(char *out, const unsigned char *raw, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = "0123456789abcdef"[raw[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
	}
	out[2 * n] = '\0';
}

void random_hex(char *out, size_t bytes)
{
	hex_of(out, random_take(bytes), bytes);
}

/*
 * SHA-256 fetched from OpenSSL's providers once: EVP_sha256() makes
 * every digest look the algorithm up again, which costs more than
 * hashing a manifest.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_release(void)
{
	EVP_MD_free(sha256_md);
}

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha256_md)
		atexit(sha256_release);
}

char *sha256_digest_of(const void *data, size_t len)
{
	unsigned char md[32];
	unsigned int n = 0;
	char hex[sizeof("sha256:") + 64] = "sha256:";

	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || EVP_Digest(data, len, md, &n, sha256_md, NULL) != 1 || n != 32)
		xdie("cannot compute a sha256 digest");
	hex_of(hex + 7, md, 32);
	return xstrdup(hex);
}
