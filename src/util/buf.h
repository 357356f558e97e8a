/*
 * buf: one growable byte buffer with a hard size limit.
 *
 * Everything ocidoctor reads from a server (bodies, headers, token
 * answers) lands in a struct buf, so a hostile or broken server can never
 * make it use more memory than the limit the caller chose.
 *
 * Invariants:
 *  - `data` is never NULL after buf_init (it points at a static "" until
 *    the first append), and is always NUL-terminated;
 *  - `len` never exceeds `max`; an append that would pass `max` fails with
 *    -1, leaves the buffer as it was and sets `overflow`;
 *  - buf_release() frees the contents and leaves an empty, reusable buffer;
 *    buf_detach() hands the bytes to the caller, who frees them.
 */
#ifndef OCIDOCTOR_BUF_H
#define OCIDOCTOR_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
	int overflow;
	int secret;     /* buf_init_secret: memory is wiped before it is freed or moved */
};

/* Default limit for text that ocidoctor builds itself (messages, URLs). */
#define BUF_TEXT_MAX ((size_t)1 << 20)

void buf_init(struct buf *b, size_t max);
/*
 * For a buffer that will hold a secret (a password, a credential file, a
 * helper's answer): growing copies into new memory and wipes the old
 * instead of realloc'ing, and buf_release/buf_reset wipe what it held.
 */
void buf_init_secret(struct buf *b, size_t max);
void buf_release(struct buf *b);
char *buf_detach(struct buf *b);
void buf_reset(struct buf *b);

int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Appends everything f yields until its end. Returns 0, or -1 when
 * reading failed or the buffer's limit was reached (then `overflow` is set).
 */
int buf_read_stream(struct buf *b, FILE *f);

/*
 * Appends the regular file at path, opened so that nothing can make it
 * wait: O_NONBLOCK, then a FIFO, a device, a socket or a directory is
 * refused without waiting for a writer, and a file larger than what the
 * buffer may still take is refused by its size before a byte is read.
 * Returns 0, or -1 with a static reason in *why ("not a regular file",
 * "larger than N bytes" with `overflow` set, or strerror's text).
 */
int buf_read_file(struct buf *b, const char *path, const char **why);

/* 0 when path can be opened and a byte read from it, else the errno that says why not; never waits on a FIFO. */
int path_readable(const char *path);

/*
 * Replaces, in place, every byte that is not part of printable UTF-8 with
 * '?': control characters (C0, DEL, C1) and invalid sequences; and every
 * invisible format character (bidirectional overrides such as U+202E,
 * zero-width characters, the BOM) and noncharacter (U+FFFE, U+FFFF, ...)
 * with one '?'. Text that came from a server then cannot drive or
 * disguise the terminal it is printed on, is valid UTF-8 for JSON and holds
 * only characters XML 1.0 allows.
 */
void text_sanitize(char *s);

/*
 * The one way ocidoctor wipes a secret (a password, a token, a credential
 * file, an Authorization header): OPENSSL_cleanse, which the compiler may
 * not drop. Nothing else hand-rolls a wipe (no memset, no volatile loop);
 * a buffer that will hold a secret is made with buf_init_secret.
 * Overwrites n bytes at p; NULL or 0 is fine.
 */
void secret_wipe(void *p, size_t n);
/* secret_wipe(s, strlen(s)), then free(s); NULL is fine. */
void secret_free(char *s);

/*
 * Makes jansson allocate through functions that wipe every block before
 * freeing it, so the strings of a parsed token answer or credential file
 * do not linger in freed memory. Call once, before any other jansson use.
 */
void secret_json_allocator(void);

/*
 * A newly allocated string made with printf rules, then text_sanitize'd:
 * for messages that quote what a server sent.
 */
char *text_vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Returns a newly allocated string made with printf rules; aborts on OOM. */
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
