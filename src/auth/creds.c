/*
 * creds: finds the credential for a registry in the places docker, podman
 * and CI systems keep them (the order is in creds.h), and runs docker
 * credential helpers.
 *
 * Secrets pass through here, so: no message ever holds text from a
 * credential, a config value or a helper's output (JSON errors report a
 * line and column only); buffers that held a secret are wiped before they
 * are freed; and a helper is a child process with a time limit, a capped
 * stdout and its stderr sent to /dev/null.
 */
#define _GNU_SOURCE /* close_range */
#include "auth/creds.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_MAX ((size_t)4 << 20)
#define HELPER_OUT_MAX ((size_t)64 << 10)
#define HELPER_TIMEOUT_MS 10000
#define HELPER_NAME_MAX 64
#define HOST_MAX 1024
#define AUTH_B64_MAX ((size_t)64 << 10)
#define DOCKER_INDEX_KEY "https://index.docker.io/v1/"

/* Sets *why (when why is not NULL) to a formatted message; returns -1. */
__attribute__((format(printf, 2, 3)))
static int fail(char **why, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (!why)
		return -1;
	buf_init(&b, BUF_TEXT_MAX);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(*why);
	*why = buf_detach(&b);
	return -1;
}

void creds_release(struct creds *c)
{
	if (!c)
		return;
	secret_free(c->username);
	secret_free(c->password);
	secret_free(c->identity_token);
	free(c->origin);
	free(c->looked);
	memset(c, 0, sizeof(*c));
}

const char *cred_source_name(enum cred_source s)
{
	switch (s) {
	case CRED_FLAG:
		return "flag";
	case CRED_ENV:
		return "env";
	case CRED_DOCKER_CONFIG:
		return "docker-config";
	case CRED_HELPER:
		return "helper";
	case CRED_AUTH_JSON:
		return "auth-json";
	case CRED_NONE:
		break;
	}
	return "none";
}

/* ---- matching config keys against the registry ---- */

static int is_docker_hub(const char *host)
{
	return !strcasecmp(host, "docker.io") || !strcasecmp(host, "index.docker.io") ||
	       !strcasecmp(host, "registry-1.docker.io");
}

/* An auths or credHelpers key taken apart. */
struct key_parts {
	const char *host;
	size_t host_len;
	const char *path; /* namespace/repo of an auth.json key, without slashes at the ends */
	size_t path_len;
};

/*
 * Splits a key. A key with a scheme ("https://host/v1/") is docker's form
 * and loses its path; a key without one may be "host/namespace/repo", except
 * that a bare "/v1" or "/v2" path is an API version, not a namespace.
 */
static void split_key(const char *key, struct key_parts *kp)
{
	const char *s = key;
	int had_scheme = 0;

	if (!strncasecmp(s, "https://", 8)) {
		s += 8;
		had_scheme = 1;
	} else if (!strncasecmp(s, "http://", 7)) {
		s += 7;
		had_scheme = 1;
	}
	kp->host = s;
	kp->host_len = strcspn(s, "/");
	kp->path = s + kp->host_len;
	while (*kp->path == '/')
		kp->path++;
	kp->path_len = strlen(kp->path);
	while (kp->path_len && kp->path[kp->path_len - 1] == '/')
		kp->path_len--;
	if (had_scheme ||
	    (kp->path_len == 2 && (!strncmp(kp->path, "v1", 2) || !strncmp(kp->path, "v2", 2))))
		kp->path_len = 0;
}

/* Does the key name `host` (or, for Docker Hub, one of its aliases)? */
static int key_host_matches(const struct key_parts *kp, const char *host)
{
	static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };
	size_t i;

	if (kp->host_len == strlen(host) && !strncasecmp(kp->host, host, kp->host_len))
		return 1;
	if (!is_docker_hub(host))
		return 0;
	for (i = 0; i < sizeof(hub) / sizeof(hub[0]); i++)
		if (kp->host_len == strlen(hub[i]) && !strncasecmp(kp->host, hub[i], kp->host_len))
			return 1;
	return 0;
}

/* Does the key match host plus the first path_len bytes of repository? */
static int key_matches(const char *key, const char *host, const char *repository, size_t path_len)
{
	struct key_parts kp;

	split_key(key, &kp);
	if (!key_host_matches(&kp, host))
		return 0;
	if (kp.path_len != path_len)
		return 0;
	return !path_len || !strncmp(kp.path, repository, path_len);
}

/* ---- auths entries ---- */

static int b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Strict standard base64 with padding, as Go's encoding/base64 writes it. */
static int b64_valid(const char *s, size_t len, size_t *pad)
{
	size_t i;

	*pad = 0;
	if (len == 0 || len % 4 || len > AUTH_B64_MAX)
		return 0;
	while (*pad < 2 && s[len - 1 - *pad] == '=')
		(*pad)++;
	for (i = 0; i < len - *pad; i++)
		if (!b64_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Decodes `auth` (base64 "user:password", split at the first ':'). */
static int decode_auth(const char *b64, char **user, char **pass)
{
	size_t len = strnlen(b64, AUTH_B64_MAX + 1);
	size_t pad;
	unsigned char *raw;
	const unsigned char *colon;
	int n;
	int ret = -1;

	if (!b64_valid(b64, len, &pad))
		return -1;
	raw = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n < 0 || (size_t)n < pad)
		goto done;
	n -= (int)pad;
	if (memchr(raw, '\0', (size_t)n))
		goto done;
	colon = memchr(raw, ':', (size_t)n);
	if (!colon)
		goto done;
	*user = xstrndup((const char *)raw, (size_t)(colon - raw));
	*pass = xstrndup((const char *)colon + 1, (size_t)n - (size_t)(colon - raw) - 1);
	ret = 0;
done:
	secret_wipe(raw, len / 4 * 3 + 1);
	free(raw);
	return ret;
}

/* Reads an optional string member; -1 when it is there but not a string. */
static int get_string(json_t *obj, const char *name, const char **out)
{
	json_t *v = json_object_get(obj, name);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/*
 * Fills out from one auths entry. Returns 1 when it holds a credential,
 * 0 when it holds none (an empty placeholder), -1 when it is broken.
 */
static int fill_from_entry(struct creds *out, json_t *entry, const char *host, char **why)
{
	const char *auth, *token;

	if (!json_is_object(entry))
		return fail(why, "auths entry for %s is not an object", host);
	if (get_string(entry, "auth", &auth) < 0 || get_string(entry, "identitytoken", &token) < 0)
		return fail(why, "auths entry for %s has a value that is not a string", host);
	if ((!auth || !auth[0]) && (!token || !token[0]))
		return 0;
	if (auth && auth[0] && decode_auth(auth, &out->username, &out->password) < 0)
		return fail(why, "auths entry for %s has an invalid auth value (want base64 of user:password)",
			    host);
	if (token && token[0])
		out->identity_token = xstrdup(token);
	out->source = CRED_DOCKER_CONFIG;
	out->origin = xstrdup("docker config");
	return 1;
}

/* Length of the repository prefix one level up from `len`. */
static size_t parent_len(const char *repository, size_t len)
{
	while (len > 0 && repository[len - 1] != '/')
		len--;
	return len ? len - 1 : 0;
}

/*
 * Looks the registry up in `auths`, most specific key first: host/a/b/c,
 * host/a/b, host/a, then host. Returns 1, 0 or -1 as fill_from_entry.
 */
static int lookup_auths(struct creds *out, json_t *auths, const char *host,
			const char *repository, char **why)
{
	size_t len = repository ? strnlen(repository, 256) : 0;

	if (!json_is_object(auths))
		return fail(why, "auths is not an object");
	if (len > 255)
		len = 0;
	for (;;) {
		const char *key;
		json_t *entry;

		json_object_foreach(auths, key, entry) {
			int rc;

			if (!key_matches(key, host, repository, len))
				continue;
			rc = fill_from_entry(out, entry, host, why);
			if (rc != 0)
				return rc;
		}
		if (len == 0)
			return 0;
		len = parent_len(repository, len);
	}
}

/* ---- credential helpers named in the config ---- */

static int helper_name_valid(const char *name)
{
	size_t i;

	if (!name[0] || strnlen(name, HELPER_NAME_MAX + 1) > HELPER_NAME_MAX)
		return 0;
	for (i = 0; name[i]; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/*
 * Finds the helper for the host: credHelpers[host], else credsStore.
 * Sets *helper (newly allocated) or leaves it NULL.
 */
static int lookup_helper(json_t *root, const char *host, char **helper, char **why)
{
	json_t *helpers = json_object_get(root, "credHelpers");
	const char *name = NULL;
	const char *key;
	json_t *v;

	if (helpers && !json_is_object(helpers))
		return fail(why, "credHelpers is not an object");
	json_object_foreach(helpers, key, v) {
		if (!key_matches(key, host, NULL, 0))
			continue;
		if (!json_is_string(v))
			return fail(why, "credHelpers entry for %s is not a string", host);
		name = json_string_value(v);
		if (name[0])
			break;
	}
	if ((!name || !name[0]) && get_string(root, "credsStore", &name) < 0)
		return fail(why, "credsStore is not a string");
	if (!name || !name[0])
		return 0;
	if (!helper_name_valid(name))
		return fail(why, "credential helper name for %s is not valid", host);
	*helper = xstrdup(name);
	return 0;
}

int creds_from_docker_config(struct creds *out, char **helper, const char *json_text,
			     const char *host, const char *repository, char **why)
{
	json_error_t err;
	json_t *root = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	*helper = NULL;
	if (why)
		*why = NULL;
	if (!json_text || !host || !host[0])
		return fail(why, "no config text or registry host");
	root = json_loads(json_text, 0, &err);
	if (!root) {
		/* err.text may quote the file, and so a secret: line and column only */
		fail(why, "invalid JSON at line %d column %d", err.line, err.column);
		goto done;
	}
	if (!json_is_object(root)) {
		fail(why, "not a JSON object");
		goto done;
	}
	if (lookup_helper(root, host, helper, why) < 0)
		goto done;
	if (*helper || !json_object_get(root, "auths")) {
		ret = 0;
		goto done;
	}
	if (lookup_auths(out, json_object_get(root, "auths"), host, repository, why) < 0)
		goto done;
	ret = 0;
done:
	if (ret < 0)
		creds_release(out);
	json_decref(root);
	return ret;
}

int creds_from_helper_output(struct creds *out, const char *json_text, char **why)
{
	json_error_t err;
	json_t *root;
	const char *user = NULL, *secret = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (why)
		*why = NULL;
	if (!json_text)
		return fail(why, "no credential helper output");
	root = json_loads(json_text, 0, &err);
	if (!root)
		return fail(why, "credential helper output is not valid JSON (line %d column %d)",
			    err.line, err.column);
	if (!json_is_object(root) || get_string(root, "Username", &user) < 0 ||
	    get_string(root, "Secret", &secret) < 0 || !secret) {
		fail(why, "credential helper output is not an object with string Username and Secret");
		goto done;
	}
	ret = 0;
	if (!secret[0])
		goto done;
	if (user && !strcmp(user, "<token>")) {
		out->identity_token = xstrdup(secret);
	} else {
		out->username = xstrdup(user ? user : "");
		out->password = xstrdup(secret);
	}
	out->source = CRED_HELPER;
	out->origin = xstrdup("credential helper");
done:
	json_decref(root);
	return ret;
}

/* ---- running a credential helper ---- */

enum helper_end {
	HELPER_DONE,
	HELPER_TIMEOUT,
	HELPER_OVERFLOW,
	HELPER_IO_ERROR
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Creates a pipe whose ends are close-on-exec and above stderr, so the
 * child's dup2 onto 0, 1 and 2 can never clobber one of them. */
static int make_pipe(int fds[2])
{
	int i;

	if (pipe(fds) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);

		close(fds[i]);
		fds[i] = fd;
	}
	if (fds[0] < 0 || fds[1] < 0) {
		close_fd(&fds[0]);
		close_fd(&fds[1]);
		return -1;
	}
	return 0;
}

/* In the child: closes every descriptor above stderr but keep (async-signal-safe). */
static void close_inherited(int keep, int max_fd)
{
	int fd;

	if (close_range(3, (unsigned)keep - 1, 0) == 0 &&
	    close_range((unsigned)keep + 1, ~0U, 0) == 0)
		return;
	for (fd = 3; fd < max_fd; fd++) /* kernels before 5.9 */
		if (fd != keep)
			close(fd);
}

/*
 * In the child: stdin from in_fd, stdout to out_fd, stderr to /dev/null,
 * nothing else inherited (report files, sockets of other targets), then
 * exec. When exec fails, errno goes back through st_fd.
 */
static _Noreturn void child_exec(const char *prog, int in_fd, int out_fd, int st_fd, int max_fd)
{
	char get[] = "get";
	char *argv[3];
	int err;
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	argv[0] = (char *)prog;
	argv[1] = get;
	argv[2] = NULL;
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0)
		goto done;
	if (null_fd < 0 || dup2(null_fd, 2) < 0)
		close(2);
	close_inherited(st_fd, max_fd);
	execvp(prog, argv);
done:
	err = errno;
	if (write(st_fd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

/* Milliseconds left before deadline, a clock_now_ms() point; negative once it passed. */
static long ms_until(long deadline)
{
	return deadline - clock_now_ms();
}

/* Reads what fd holds right now (it is non-blocking) into out. */
static enum helper_end drain(int fd, struct buf *out)
{
	char chunk[4096];
	enum helper_end end = HELPER_DONE;

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			end = HELPER_IO_ERROR;
		if (n <= 0)
			break;
		if (buf_add(out, chunk, (size_t)n) < 0) {
			end = HELPER_OVERFLOW;
			break;
		}
	}
	secret_wipe(chunk, sizeof(chunk));
	return end;
}

/*
 * Reads fd into out until EOF, the helper's exit, the deadline or the
 * size limit. The helper's exit ends the read even when a process it left
 * behind still holds its stdout: then *reaped is set with *status.
 */
static enum helper_end read_until(int fd, struct buf *out, long deadline,
				  pid_t pid, int *status, int *reaped)
{
	char chunk[4096];
	enum helper_end end;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return HELPER_IO_ERROR;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = ms_until(deadline);
		ssize_t n;
		int rc;

		if (left <= 0)
			return HELPER_TIMEOUT;
		if (waitpid(pid, status, WNOHANG) == pid) {
			*reaped = 1;
			return drain(fd, out);
		}
		rc = poll(&pfd, 1, left < 50 ? (int)left : 50);
		if (rc < 0 && errno != EINTR)
			return HELPER_IO_ERROR;
		if (rc <= 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return HELPER_IO_ERROR;
		if (n == 0)
			return HELPER_DONE;
		end = buf_add(out, chunk, (size_t)n) < 0 ? HELPER_OVERFLOW : HELPER_DONE;
		secret_wipe(chunk, (size_t)n);
		if (end != HELPER_DONE)
			return end;
	}
}

/* Kills the child (when still there) and reaps it. */
static void kill_and_reap(pid_t pid, int *status)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* Waits for the child until the deadline, then kills it. */
static enum helper_end wait_until(pid_t pid, int *status, long deadline)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return HELPER_DONE;
		if (r < 0 && errno != EINTR)
			return HELPER_IO_ERROR;
		if (ms_until(deadline) <= 0) {
			kill_and_reap(pid, status);
			return HELPER_TIMEOUT;
		}
		nanosleep(&tick, NULL);
	}
}

/* One helper run: its program name, the pipes, what came back. */
struct helper_run {
	char *prog;
	int in[2], out[2], st[2];
	pid_t pid;
	int status;
	int exec_errno;
	enum helper_end end;
	struct buf output;
};

/* Reads the exec status pipe: 0 when exec worked, else the child's errno. */
static int read_exec_errno(int fd)
{
	int err = 0;
	ssize_t n;

	do {
		n = read(fd, &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(err) ? (err ? err : ENOEXEC) : 0;
}

/*
 * Starts the helper with `server` already waiting on its stdin (a few
 * hundred bytes fit in any pipe, so the write never blocks and the child
 * can never make us take a SIGPIPE), then collects its stdout and status.
 */
static int spawn_and_collect(struct helper_run *h, const char *server)
{
	long deadline;
	struct buf line;
	long max_fd = sysconf(_SC_OPEN_MAX);
	int ret = -1, reaped = 0;

	buf_init(&line, HOST_MAX + 64);
	if (buf_addf(&line, "%s\n", server) < 0)
		goto done;
	if (make_pipe(h->in) < 0 || make_pipe(h->out) < 0 || make_pipe(h->st) < 0)
		goto done;
	if (write(h->in[1], line.data, line.len) != (ssize_t)line.len)
		goto done;
	close_fd(&h->in[1]);
	h->pid = fork();
	if (h->pid < 0)
		goto done;
	if (h->pid == 0)
		child_exec(h->prog, h->in[0], h->out[1], h->st[1],
			   max_fd > 0 && max_fd < 1048576 ? (int)max_fd : 1048576);
	close_fd(&h->in[0]);
	close_fd(&h->out[1]);
	close_fd(&h->st[1]);
	h->exec_errno = read_exec_errno(h->st[0]);
	deadline = clock_now_ms() + HELPER_TIMEOUT_MS;
	h->end = h->exec_errno ? HELPER_DONE
			       : read_until(h->out[0], &h->output, deadline, h->pid, &h->status,
					    &reaped);
	if (!reaped && h->end == HELPER_DONE)
		h->end = wait_until(h->pid, &h->status, deadline);
	else if (!reaped)
		kill_and_reap(h->pid, &h->status);
	ret = 0;
done:
	buf_release(&line);
	return ret;
}

static void helper_run_release(struct helper_run *h)
{
	int i;

	for (i = 0; i < 2; i++) {
		close_fd(&h->in[i]);
		close_fd(&h->out[i]);
		close_fd(&h->st[i]);
	}
	buf_release(&h->output);
	free(h->prog);
}

/* Turns a finished run into a credential, CRED_NONE or an error. */
static int helper_verdict(struct creds *out, struct helper_run *h, char **why)
{
	char *inner = NULL;
	int ret;

	if (h->exec_errno == ENOENT)
		return fail(why, "credential helper %s is not installed (not found on PATH)", h->prog);
	if (h->exec_errno)
		return fail(why, "cannot run credential helper %s: %s", h->prog, strerror(h->exec_errno));
	if (h->end == HELPER_TIMEOUT)
		return fail(why, "credential helper %s timed out after %d s", h->prog,
			    HELPER_TIMEOUT_MS / 1000);
	if (h->end == HELPER_OVERFLOW)
		return fail(why, "credential helper %s wrote more than %zu KiB", h->prog,
			    HELPER_OUT_MAX >> 10);
	if (h->end != HELPER_DONE)
		return fail(why, "cannot read from credential helper %s", h->prog);
	if (strstr(h->output.data, "credentials not found"))
		return 0;
	if (WIFSIGNALED(h->status))
		return fail(why, "credential helper %s was killed by signal %d", h->prog,
			    WTERMSIG(h->status));
	if (!WIFEXITED(h->status) || WEXITSTATUS(h->status) != 0)
		return fail(why, "credential helper %s failed (exit %d)", h->prog,
			    WIFEXITED(h->status) ? WEXITSTATUS(h->status) : -1);
	ret = creds_from_helper_output(out, h->output.data, &inner);
	if (ret < 0)
		fail(why, "credential helper %s: %s", h->prog, inner);
	free(inner);
	return ret;
}

/*
 * Runs `docker-credential-NAME get` for server. Returns 0 with out
 * filled, or CRED_NONE when the helper knows no credential; -1 on error.
 */
static int run_helper(struct creds *out, const char *name, const char *server, char **why)
{
	struct helper_run h;
	int ret = -1;

	memset(&h, 0, sizeof(h));
	h.in[0] = h.in[1] = h.out[0] = h.out[1] = h.st[0] = h.st[1] = -1;
	buf_init_secret(&h.output, HELPER_OUT_MAX);
	h.prog = xstrfmt("docker-credential-%s", name);
	if (strnlen(server, HOST_MAX + 1) > HOST_MAX) {
		fail(why, "registry host is too long for credential helper %s", h.prog);
		goto done;
	}
	if (spawn_and_collect(&h, server) < 0) {
		fail(why, "cannot start credential helper %s: %s", h.prog, strerror(errno));
		goto done;
	}
	ret = helper_verdict(out, &h, why);
	if (ret == 0 && out->source == CRED_HELPER) {
		free(out->origin);
		out->origin = xstrdup(h.prog);
	}
done:
	helper_run_release(&h);
	return ret;
}

/* ---- the sources, in order ---- */

/* What creds_resolve carries from one source to the next. */
struct resolve {
	const struct creds_options *opts;
	struct creds *out;
	struct buf looked;
	char **why;
};

__attribute__((format(printf, 2, 3)))
static void add_looked(struct resolve *r, const char *fmt, ...)
{
	va_list ap;

	if (r->looked.len)
		buf_adds(&r->looked, ", ");
	va_start(ap, fmt);
	buf_vaddf(&r->looked, fmt, ap);
	va_end(ap);
}

/* Each source returns 1 when it found a credential, 0 when not, -1 on error. */
static int from_flags(struct resolve *r)
{
	const struct creds_options *o = r->opts;

	if (o->username && !o->password)
		return fail(r->why, "--username needs --password-stdin or --password-file");
	if (o->password && !o->username)
		return fail(r->why, "--password-stdin needs --username");
	if (!o->username) {
		add_looked(r, "--username");
		return 0;
	}
	r->out->source = CRED_FLAG;
	r->out->username = xstrdup(o->username);
	r->out->password = xstrdup(o->password);
	r->out->origin = xstrdup(o->origin ? o->origin : "--username/--password-stdin");
	return 1;
}

static const char *getenv_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

static int from_env(struct resolve *r)
{
	const char *user = getenv_nonempty("OCI_USERNAME");
	const char *pass = getenv_nonempty("OCI_PASSWORD");

	if (user && !pass)
		return fail(r->why, "OCI_USERNAME is set but OCI_PASSWORD is not");
	if (pass && !user)
		return fail(r->why, "OCI_PASSWORD is set but OCI_USERNAME is not");
	if (!user) {
		add_looked(r, "OCI_USERNAME/OCI_PASSWORD");
		return 0;
	}
	r->out->source = CRED_ENV;
	r->out->username = xstrdup(user);
	r->out->password = xstrdup(pass);
	r->out->origin = xstrdup("environment (OCI_USERNAME)");
	return 1;
}

/* $HOME, else the password database; NULL when neither knows. */
static const char *home_dir(void)
{
	const char *home = getenv_nonempty("HOME");
	struct passwd *pw;

	if (home)
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && pw->pw_dir[0] ? pw->pw_dir : NULL;
}

/* dir + "/" + file, without doubling the slash. */
static char *join_path(const char *dir, const char *file)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	return xstrfmt("%.*s/%s", (int)len, dir, file);
}

/* Reads a config file: 1 when read, 0 when it does not exist, -1 on error. */
static int read_config(const char *path, struct buf *text, char **why)
{
	char chunk[4096];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int ret = -1;

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (fd < 0)
		return fail(why, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fail(why, "cannot read %s: not a regular file", path);
		goto done;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(why, "cannot read %s: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (buf_add(text, chunk, (size_t)n) < 0) {
			fail(why, "%s is larger than %zu MiB", path, CONFIG_MAX >> 20);
			goto done;
		}
	}
	ret = 1;
done:
	secret_wipe(chunk, sizeof(chunk));
	close(fd);
	return ret;
}

/* The server name a helper is asked about: docker's key for Docker Hub. */
static const char *helper_server(const char *host)
{
	return is_docker_hub(host) ? DOCKER_INDEX_KEY : host;
}

static int from_helper(struct resolve *r, const char *helper)
{
	const char *host = r->opts->registry_host;

	if (run_helper(r->out, helper, helper_server(host), r->why) < 0)
		return -1;
	if (r->out->source != CRED_NONE)
		return 1;
	add_looked(r, "docker-credential-%s (not found)", helper);
	return 0;
}

/* One docker config.json or auth.json file. */
static int from_file(struct resolve *r, const char *path, enum cred_source source)
{
	struct buf text;
	char *helper = NULL;
	char *inner = NULL;
	int ret = -1;

	buf_init_secret(&text, CONFIG_MAX); /* auth values and identity tokens */
	ret = read_config(path, &text, r->why);
	if (ret <= 0) {
		if (ret == 0)
			add_looked(r, "%s (missing)", path);
		goto done;
	}
	ret = -1;
	if (creds_from_docker_config(r->out, &helper, text.data, r->opts->registry_host,
				     r->opts->repository, &inner) < 0) {
		fail(r->why, "%s: %s", path, inner);
		goto done;
	}
	if (helper) {
		ret = from_helper(r, helper);
		goto done;
	}
	ret = r->out->source != CRED_NONE;
	if (ret) {
		r->out->source = source;
		free(r->out->origin);
		r->out->origin = xstrdup(path);
	} else {
		add_looked(r, "%s", path);
	}
done:
	free(inner);
	free(helper);
	buf_release(&text);
	return ret;
}

static int from_docker_config(struct resolve *r)
{
	const char *dir = r->opts->docker_config;
	char *docker_dir = NULL;
	char *path;
	int ret;

	if (!dir || !dir[0])
		dir = getenv_nonempty("DOCKER_CONFIG");
	if (!dir) {
		const char *home = home_dir();

		if (!home) {
			add_looked(r, "~/.docker/config.json (no home directory)");
			return 0;
		}
		docker_dir = join_path(home, ".docker");
		dir = docker_dir;
	}
	path = join_path(dir, "config.json");
	ret = from_file(r, path, CRED_DOCKER_CONFIG);
	free(path);
	free(docker_dir);
	return ret;
}

/* Tries dir/containers/auth.json. */
static int from_auth_json_in(struct resolve *r, const char *dir)
{
	char *path = join_path(dir, "containers/auth.json");
	int ret = from_file(r, path, CRED_AUTH_JSON);

	free(path);
	return ret;
}

static int from_auth_json(struct resolve *r)
{
	const char *file = getenv_nonempty("REGISTRY_AUTH_FILE");
	const char *runtime = getenv_nonempty("XDG_RUNTIME_DIR");
	const char *config = getenv_nonempty("XDG_CONFIG_HOME");
	char *config_dir = NULL;
	int ret;

	if (file)
		return from_file(r, file, CRED_AUTH_JSON);
	if (runtime) {
		ret = from_auth_json_in(r, runtime);
		if (ret != 0)
			return ret;
	}
	if (!config) {
		const char *home = home_dir();

		if (!home)
			return 0;
		config_dir = join_path(home, ".config");
		config = config_dir;
	}
	ret = from_auth_json_in(r, config);
	free(config_dir);
	return ret;
}

int creds_resolve(struct creds *out, const struct creds_options *opts, char **why)
{
	static int (*const sources[])(struct resolve *) = {
		from_flags, from_env, from_docker_config, from_auth_json
	};
	struct resolve r = { .opts = opts, .out = out, .why = why };
	size_t i;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (why)
		*why = NULL;
	if (!opts || !opts->registry_host || !opts->registry_host[0])
		return fail(why, "no registry host to look up credentials for");
	buf_init(&r.looked, BUF_TEXT_MAX);
	for (i = 0; i < sizeof(sources) / sizeof(sources[0]) && ret == 0; i++)
		ret = sources[i](&r);
	if (ret < 0) {
		creds_release(out);
	} else if (ret == 0) {
		creds_release(out);
		out->looked = buf_detach(&r.looked);
	}
	buf_release(&r.looked);
	return ret < 0 ? -1 : 0;
}
