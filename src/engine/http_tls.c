/*
 * http_tls: what a response's own connection and headers say about the
 * server's health, at no extra round trip: the certificates it sent (the
 * earliest expiry of the chain), the TLS version, and the wall clock when
 * the answer arrived (to compare with its Date header). libcurl's OpenSSL
 * connection is read while the transfer still holds it, so a reused
 * connection tells the same as a new one.
 */
#include "engine/http.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* notAfter of a certificate as Unix time, or 0. */
static long long not_after(X509 *cert, time_t now)
{
	int days = 0, secs = 0;

	if (!cert || !ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)))
		return 0;
	return (long long)now + (long long)days * 86400 + secs;
}

/* The earliest notAfter of the chain the server sent (the leaf at least), or 0. */
static long long earliest_not_after(SSL *ssl, time_t now)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	long long earliest = 0, t;
	X509 *leaf;
	int i;

	for (i = 0; chain && i < sk_X509_num(chain); i++) {
		t = not_after(sk_X509_value(chain, i), now);
		if (t && (!earliest || t < earliest))
			earliest = t;
	}
	if (earliest)
		return earliest;
	leaf = SSL_get1_peer_certificate(ssl);
	earliest = not_after(leaf, now);
	X509_free(leaf);
	return earliest;
}

/* blackbox_exporter's spelling of the version: "TLS 1.3". */
static void version_name(SSL *ssl, char out[12])
{
	const char *v = SSL_get_version(ssl);

	out[0] = '\0';
	if (v && !strncmp(v, "TLSv", 4))
		snprintf(out, 12, "TLS %.6s", v + 4);
}

void http_tls_note(CURL *easy, struct http_response *r)
{
	struct curl_tlssessioninfo *info = NULL;
	time_t now = time(NULL);
	SSL *ssl;

	r->received_at = (long long)now;
	if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info ||
	    info->backend != CURLSSLBACKEND_OPENSSL || !info->internals)
		return;
	ssl = info->internals;
	r->tls_not_after = earliest_not_after(ssl, now);
	version_name(ssl, r->tls_version);
}
