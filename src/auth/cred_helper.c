/*
 * cred_helper: docker credential helpers as a credential source.
 *
 * A helper is `docker-credential-NAME get`, the server name on its stdin
 * and a JSON answer on its stdout. It runs as a child process with a time
 * limit (creds_options.helper_timeout_ms, else HELPER_TIMEOUT_MS), a
 * capped stdout, its stderr on /dev/null and
 * no descriptor of ours but its standard streams; its exit ends the read
 * even when a process it left behind holds its stdout. Its output is kept
 * in wiped memory, and no message quotes it.
 *
 * Answers are cached per process (see cred_helper_get): a fleet or
 * exporter that probes many targets on one registry host runs the
 * helper once for that host, not once per target.
 */
#define _GNU_SOURCE /* close_range */
#include "auth/creds.h"
#include "auth/creds_internal.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
		return creds_fail(why, "no credential helper output");
	root = json_loads(json_text, 0, &err);
	if (!root)
		return creds_fail(why, "credential helper output is not valid JSON (line %d column %d)",
			    err.line, err.column);
	if (!json_is_object(root) || creds_json_string(root, "Username", &user) < 0 ||
	    creds_json_string(root, "Secret", &secret) < 0 || !secret) {
		creds_fail(why, "credential helper output is not an object with string Username and Secret");
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
	long timeout_ms;           /* its time limit */
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
	deadline = clock_now_ms() + h->timeout_ms;
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
		return creds_fail(why, "credential helper %s is not installed (not found on PATH)", h->prog);
	if (h->exec_errno)
		return creds_fail(why, "cannot run credential helper %s: %s", h->prog, strerror(h->exec_errno));
	if (h->end == HELPER_TIMEOUT && h->timeout_ms % 1000)
		return creds_fail(why, "credential helper %s timed out after %.3g s", h->prog,
			    (double)h->timeout_ms / 1000);
	if (h->end == HELPER_TIMEOUT)
		return creds_fail(why, "credential helper %s timed out after %ld s", h->prog,
			    h->timeout_ms / 1000);
	if (h->end == HELPER_OVERFLOW)
		return creds_fail(why, "credential helper %s wrote more than %zu KiB", h->prog,
			    HELPER_OUT_MAX >> 10);
	if (h->end != HELPER_DONE)
		return creds_fail(why, "cannot read from credential helper %s", h->prog);
	if (strstr(h->output.data, "credentials not found"))
		return 0;
	if (WIFSIGNALED(h->status))
		return creds_fail(why, "credential helper %s was killed by signal %d", h->prog,
			    WTERMSIG(h->status));
	if (!WIFEXITED(h->status) || WEXITSTATUS(h->status) != 0)
		return creds_fail(why, "credential helper %s failed (exit %d)", h->prog,
			    WIFEXITED(h->status) ? WEXITSTATUS(h->status) : -1);
	ret = creds_from_helper_output(out, h->output.data, &inner);
	if (ret < 0)
		creds_fail(why, "credential helper %s: %s", h->prog, inner);
	free(inner);
	return ret;
}

/*
 * Runs `docker-credential-NAME get` for server. Returns 0 with out
 * filled, or CRED_NONE when the helper knows no credential; -1 on error.
 */
int cred_helper_run(struct creds *out, const char *name, const char *server, long timeout_ms,
		    char **why)
{
	struct helper_run h;
	int ret = -1;

	memset(&h, 0, sizeof(h));
	h.timeout_ms = timeout_ms > 0 ? timeout_ms : HELPER_TIMEOUT_MS;
	h.in[0] = h.in[1] = h.out[0] = h.out[1] = h.st[0] = h.st[1] = -1;
	buf_init_secret(&h.output, HELPER_OUT_MAX);
	h.prog = xstrfmt("docker-credential-%s", name);
	if (strnlen(server, HOST_MAX + 1) > HOST_MAX) {
		creds_fail(why, "registry host is too long for credential helper %s", h.prog);
		goto done;
	}
	if (spawn_and_collect(&h, server) < 0) {
		creds_fail(why, "cannot start credential helper %s: %s", h.prog, strerror(errno));
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

/* ---- the per-process cache ---- */

struct helper_entry {
	char *name;
	char *server;
	int fetching;        /* the first caller is running the helper */
	long at_ms;          /* clock_now_ms() when the answer came */
	int ret;
	struct creds creds;  /* the answer (source, username, password, identity token, origin) */
	char *why;
	struct helper_entry *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cache_cond = PTHREAD_COND_INITIALIZER;
static struct helper_entry *cache;
static long runs;

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void copy_creds(struct creds *to, const struct creds *from)
{
	to->source = from->source;
	to->username = dup_or_null(from->username);
	to->password = dup_or_null(from->password);
	to->identity_token = dup_or_null(from->identity_token);
	to->origin = dup_or_null(from->origin);
}

static void entry_free(struct helper_entry *e)
{
	free(e->name);
	free(e->server);
	creds_release(&e->creds);
	free(e->why);
	free(e);
}

/* The entry for (name, server), after unlinking and freeing it when it is too old. Locked. */
static struct helper_entry *find_entry(const char *name, const char *server)
{
	struct helper_entry **p, *e;

	for (p = &cache; (e = *p); p = &e->next) {
		if (strcmp(e->name, name) || strcmp(e->server, server))
			continue;
		if (!e->fetching && clock_now_ms() - e->at_ms > CRED_HELPER_CACHE_TTL_MS) {
			*p = e->next;
			entry_free(e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

int cred_helper_get(struct creds *out, const char *name, const char *server, long timeout_ms,
		    char **why)
{
	struct helper_entry *e;
	int ret;

	pthread_mutex_lock(&cache_lock);
	while ((e = find_entry(name, server)) && e->fetching)
		pthread_cond_wait(&cache_cond, &cache_lock);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->name = xstrdup(name);
		e->server = xstrdup(server);
		e->fetching = 1;
		e->next = cache;
		cache = e;
		runs++;
		pthread_mutex_unlock(&cache_lock);
		ret = cred_helper_run(&e->creds, name, server, timeout_ms, &e->why);
		pthread_mutex_lock(&cache_lock);
		e->ret = ret;
		e->at_ms = clock_now_ms();
		e->fetching = 0;
		pthread_cond_broadcast(&cache_cond);
	}
	ret = e->ret;
	if (ret < 0)
		creds_fail(why, "%s", e->why ? e->why : "credential helper failed");
	else
		copy_creds(out, &e->creds);
	pthread_mutex_unlock(&cache_lock);
	return ret;
}

long cred_helper_runs(void)
{
	long n;

	pthread_mutex_lock(&cache_lock);
	n = runs;
	pthread_mutex_unlock(&cache_lock);
	return n;
}

static int any_fetching(void)
{
	struct helper_entry *e;

	for (e = cache; e; e = e->next)
		if (e->fetching)
			return 1;
	return 0;
}

void cred_helper_cache_clear(void)
{
	struct helper_entry *e, *next;

	pthread_mutex_lock(&cache_lock);
	while (any_fetching()) /* never while a helper is being run */
		pthread_cond_wait(&cache_cond, &cache_lock);
	for (e = cache; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	cache = NULL;
	pthread_mutex_unlock(&cache_lock);
}
