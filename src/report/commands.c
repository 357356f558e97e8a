/*
 * commands: a knowledge-base command made ready to paste (report.h,
 * report_command). The placeholders are filled (report_fill); then each
 * tool the command line runs gets the flags it needs to reach this
 * registry the way the run did: its scheme, CA, client certificate,
 * TLS verification, proxy, credentials source, and for ocidoctor itself
 * the test image and writes mode. Only secrets stay placeholders.
 */
#include "doctor/doctor.h"
#include "report/report.h"
#include "util/buf.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT 30

/* ---- the placeholders (report_fill) ----------------------------------- */

static int word_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether word starts at s, as a whole word (start is where s's text begins). */
static int word_at(const char *start, const char *s, const char *word)
{
	size_t n = strlen(word);

	return !strncmp(s, word, n) && !word_char((unsigned char)s[n]) &&
	       (s == start || !word_char((unsigned char)s[-1]));
}

char *report_fill(const struct run_results *c, const char *text)
{
	const char *digest = c->manifest_digest;
	struct registry_url u;
	char *hostport = NULL, *base = NULL, *host = NULL;
	const char *s;
	struct buf b;
	int port = 0;

	if (registry_url_parse(&u, c->registry, NULL) == 0) {
		hostport = registry_url_hostport(&u);
		base = xstrdup(u.base);
		host = xstrdup(u.host);
		port = u.port ? u.port : strcmp(u.scheme, "http") ? 443 : 80;
		registry_url_release(&u);
	}
	buf_init(&b, BUF_TEXT_MAX);
	for (s = text; *s;) {
		if (base && (!strncmp(s, "https://", 8) || !strncmp(s, "http://", 7)) &&
		    word_at(text, s + (s[4] == 's' ? 8 : 7), "REGISTRY")) {
			buf_adds(&b, base);
			s += (s[4] == 's' ? 8 : 7) + 8;
		} else if (base && !strncmp(s, "--registry REGISTRY", 19) &&
			   !word_char((unsigned char)s[19])) {
			buf_addf(&b, "--registry %s", base);
			s += 19;
		} else if (host && word_at(text, s, "HOST")) {
			/* an IPv6 address in front of :PORT goes in brackets */
			int v6 = strchr(host, ':') && !strncmp(s + 4, ":PORT", 5);

			buf_addf(&b, v6 ? "[%s]" : "%s", host);
			s += 4;
		} else if (port && word_at(text, s, "PORT")) {
			buf_addf(&b, "%d", port);
			s += 4;
		} else if (hostport && word_at(text, s, "REGISTRY")) {
			buf_adds(&b, hostport);
			s += 8;
		} else if (c->repository && word_at(text, s, "REPOSITORY")) {
			buf_adds(&b, c->repository);
			s += 10;
		} else if (c->tag && word_at(text, s, "TAG")) {
			buf_adds(&b, c->tag);
			s += 3;
		} else if (!digest && c->tag && !strncmp(s, "@DIGEST", 7) &&
			   !word_char((unsigned char)s[7])) {
			/* no digest known: the reference by the run's tag (or digest) */
			buf_addf(&b, "%s%s", strchr(c->tag, ':') ? "@" : ":", c->tag);
			s += 7;
		} else if (digest && word_at(text, s, "DIGEST")) {
			buf_adds(&b, digest);
			s += 6;
		} else {
			buf_add(&b, s, 1);
			s++;
		}
	}
	free(hostport);
	free(base);
	free(host);
	return buf_detach(&b);
}

/* ---- the flags each tool needs ----------------------------------------- */

/* What the run reached the registry with, as the commands need it. */
struct reach {
	const struct run_results *r;
	const struct run_invocation *inv;
	int plain_http;
	char *hostport;
};

/* One command of a line: [start, end) between separators. */
struct segment {
	const char *start, *end;
	int piped;               /* standard input comes from the previous command */
};

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The end of the shell word at s (quotes kept together), at most end. */
static const char *word_end(const char *s, const char *end)
{
	char quote = 0;

	for (; s < end; s++) {
		if (quote) {
			if (*s == quote)
				quote = 0;
		} else if (*s == '\'' || *s == '"') {
			quote = *s;
		} else if (is_space(*s) || *s == '\n' || *s == '\\') {
			break;
		}
	}
	return s;
}

/* The start of the next word at or after s, or end. */
static const char *skip_space(const char *s, const char *end)
{
	while (s < end && (is_space(*s) || *s == '\n' || (*s == '\\' && s + 1 < end && s[1] == '\n')))
		s += *s == '\\' ? 2 : 1;
	return s;
}

/* The n-th word of seg (0 is the first that is not a VAR=value), as [*ws, *we); 0 if none. */
static int seg_word(const struct segment *seg, int n, const char **ws, const char **we)
{
	const char *s = seg->start;
	int i = 0, env = 1;

	for (;;) {
		s = skip_space(s, seg->end);
		if (s >= seg->end)
			return 0;
		*ws = s;
		*we = word_end(s, seg->end);
		if (*we == s) /* a lone backslash */
			*we = s + 1;
		s = *we;
		if (env && memchr(*ws, '=', (size_t)(*we - *ws)) && **ws != '-')
			continue;
		env = 0;
		if (i++ == n)
			return 1;
	}
}

static int seg_word_is(const struct segment *seg, int n, const char *word)
{
	const char *ws, *we;

	return seg_word(seg, n, &ws, &we) && (size_t)(we - ws) == strlen(word) &&
	       !strncmp(ws, word, (size_t)(we - ws));
}

/* Whether the command has option flag (alone or as flag=value). */
static int seg_has(const struct segment *seg, const char *flag)
{
	size_t n = strlen(flag);
	const char *ws, *we;
	int i;

	for (i = 0; seg_word(seg, i, &ws, &we); i++)
		if ((size_t)(we - ws) >= n && !strncmp(ws, flag, n) &&
		    ((size_t)(we - ws) == n || ws[n] == '='))
			return 1;
	return 0;
}

/* Whether the command's text holds s. */
static int seg_contains(const struct segment *seg, const char *s)
{
	size_t n = strlen(s);
	const char *p;

	for (p = seg->start; p + n <= seg->end; p++)
		if (!strncmp(p, s, n))
			return 1;
	return 0;
}

/* Adds one shell word: as is when it is safe, else in single quotes. */
static void add_word(struct buf *b, const char *s)
{
	const char *p;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "@%+=:,./_-") == strlen(s)) {
		buf_adds(b, s);
		return;
	}
	buf_adds(b, "'");
	for (p = s; *p; p++) {
		if (*p == '\'')
			buf_adds(b, "'\\''");
		else
			buf_add(b, p, 1);
	}
	buf_adds(b, "'");
}

/* Adds " flag value" (value NULL: the flag alone). */
static void add_flag(struct buf *b, const char *flag, const char *value)
{
	buf_adds(b, " ");
	buf_adds(b, flag);
	if (value) {
		buf_adds(b, " ");
		add_word(b, value);
	}
}

/* The text of a command's additions: before it, after its subcommand, at its end. */
struct additions {
	struct buf pre, mid, post;
	int mid_word;            /* mid goes after this word: 0 the tool, 1 its subcommand */
};

static int sends_to_registry(const struct segment *seg, const char *tool)
{
	if (!strcmp(tool, "ocidoctor"))
		return seg_word_is(seg, 1, "run");
	return !strcmp(tool, "oras") || !strcmp(tool, "crane") || !strcmp(tool, "regctl") ||
	       !strcmp(tool, "skopeo") || !strcmp(tool, "curl");
}

static void add_password_stdin_prefix(struct additions *a, const struct segment *seg)
{
	if (!seg->piped)
		buf_adds(&a->pre, "printf '%s' \"$PASSWORD\" | ");
}

static void ocidoctor_run(const struct reach *re, const struct segment *seg, struct additions *a)
{
	const struct run_results *r = re->r;
	const struct run_invocation *inv = re->inv;

	if (!seg_has(seg, "--repository") && !seg_has(seg, "--image")) {
		if (r->repository && strcmp(r->repository, DOCTOR_DEFAULT_REPOSITORY))
			add_flag(&a->post, "--repository", r->repository);
		if (r->tag && strcmp(r->tag, DOCTOR_DEFAULT_TAG) && !seg_has(seg, "--tag"))
			add_flag(&a->post, "--tag", r->tag);
	}
	if (inv->ca_file && !seg_has(seg, "--ca-file"))
		add_flag(&a->post, "--ca-file", inv->ca_file);
	if (inv->cert && !seg_has(seg, "--cert"))
		add_flag(&a->post, "--cert", inv->cert);
	if (inv->key && !seg_has(seg, "--key"))
		add_flag(&a->post, "--key", inv->key);
	if (r->insecure && !seg_has(seg, "--insecure"))
		add_flag(&a->post, "--insecure", NULL);
	if (inv->docker_config && !seg_has(seg, "--docker-config"))
		add_flag(&a->post, "--docker-config", inv->docker_config);
	if (inv->username && !seg_has(seg, "--username")) {
		add_flag(&a->post, "--username", inv->username);
		if (inv->password_file) {
			add_flag(&a->post, "--password-file", inv->password_file);
		} else if (inv->password_stdin) {
			add_flag(&a->post, "--password-stdin", NULL);
			add_password_stdin_prefix(a, seg);
		}
	}
	if (!seg_has(seg, "--writes") && !seg_has(seg, "--no-writes")) {
		if (r->no_writes)
			add_flag(&a->post, "--writes", "none");
		else if (inv->writes && strcmp(inv->writes, "probe"))
			add_flag(&a->post, "--writes", inv->writes);
	}
	if (inv->keep_artifacts && !r->no_writes && !seg_has(seg, "--keep-artifacts"))
		add_flag(&a->post, "--keep-artifacts", NULL);
	if (r->scratch_repository && !seg_has(seg, "--scratch-repository"))
		add_flag(&a->post, "--scratch-repository", r->scratch_repository);
	if (inv->timeout && inv->timeout != DEFAULT_TIMEOUT && !seg_has(seg, "--timeout")) {
		char t[32];

		snprintf(t, sizeof(t), "%ld", inv->timeout);
		add_flag(&a->post, "--timeout", t);
	}
}

static void oras(const struct reach *re, const struct segment *seg, struct additions *a)
{
	const struct run_invocation *inv = re->inv;

	if (re->plain_http && !seg_has(seg, "--plain-http"))
		add_flag(&a->post, "--plain-http", NULL);
	if (re->r->insecure && !seg_has(seg, "--insecure"))
		add_flag(&a->post, "--insecure", NULL);
	if (inv->ca_file && !seg_has(seg, "--ca-file"))
		add_flag(&a->post, "--ca-file", inv->ca_file);
	if (inv->cert && inv->key && !seg_has(seg, "--cert-file")) {
		add_flag(&a->post, "--cert-file", inv->cert);
		add_flag(&a->post, "--key-file", inv->key);
	}
	if (inv->docker_config && !seg_has(seg, "--registry-config")) {
		char *path = xstrfmt("%s/config.json", inv->docker_config);

		add_flag(&a->post, "--registry-config", path);
		free(path);
	}
	if (inv->username && !seg_has(seg, "--username") && !seg_has(seg, "-u")) {
		add_flag(&a->post, "--username", inv->username);
		add_flag(&a->post, "--password-stdin", NULL);
		add_password_stdin_prefix(a, seg);
	}
}

/* Go clients (crane, regctl) read credentials from $DOCKER_CONFIG/config.json. */
static void add_docker_config(const struct reach *re, struct additions *a)
{
	if (re->inv->docker_config) {
		buf_adds(&a->pre, "DOCKER_CONFIG=");
		add_word(&a->pre, re->inv->docker_config);
		buf_adds(&a->pre, " ");
	}
}

static void crane(const struct reach *re, const struct segment *seg, struct additions *a)
{
	const struct run_invocation *inv = re->inv;

	if ((re->plain_http || re->r->insecure) && !seg_has(seg, "--insecure"))
		add_flag(&a->post, "--insecure", NULL);
	/* crane has no CA flag: Go reads SSL_CERT_FILE */
	if (inv->ca_file && !re->plain_http) {
		buf_adds(&a->pre, "SSL_CERT_FILE=");
		add_word(&a->pre, inv->ca_file);
		buf_adds(&a->pre, " ");
	}
	add_docker_config(re, a);
}

/* regctl keeps TLS settings per registry: one `regctl registry set` first. */
static void regctl(const struct reach *re, const struct segment *seg, struct additions *a)
{
	const struct run_invocation *inv = re->inv;
	struct buf set;

	if (seg_word_is(seg, 1, "registry") || !re->hostport)
		return;
	buf_init(&set, BUF_TEXT_MAX);
	if (re->plain_http)
		add_flag(&set, "--tls", "disabled");
	else if (re->r->insecure)
		add_flag(&set, "--tls", "insecure");
	if (!re->plain_http && inv->ca_file) {
		buf_adds(&set, " --cacert \"$(cat ");
		add_word(&set, inv->ca_file);
		buf_adds(&set, ")\"");
	}
	if (!re->plain_http && inv->cert && inv->key) {
		buf_adds(&set, " --client-cert \"$(cat ");
		add_word(&set, inv->cert);
		buf_adds(&set, ")\" --client-key \"$(cat ");
		add_word(&set, inv->key);
		buf_adds(&set, ")\"");
	}
	if (set.len) {
		add_docker_config(re, a); /* the set pings the registry too */
		buf_adds(&a->pre, "regctl registry set ");
		add_word(&a->pre, re->hostport);
		buf_add(&a->pre, set.data, set.len);
		buf_adds(&a->pre, " && ");
	}
	buf_release(&set);
	add_docker_config(re, a);
}

/* skopeo: TLS flags for the side of a copy that is this registry (--dest-, --src-). */
static void skopeo(const struct reach *re, const struct segment *seg, struct additions *a)
{
	const struct run_invocation *inv = re->inv;
	char *ours = re->hostport ? xstrfmt("docker://%s/", re->hostport) : NULL;
	const char *side = "";
	const char *ws, *we;
	int i, refs = 0, ours_at = -1;
	char *flag;

	if (!ours)
		return;
	for (i = 2; seg_word(seg, i, &ws, &we); i++) {
		if (!strncmp(ws, "docker://", 9)) {
			if (!strncmp(ws, ours, strlen(ours)) && ours_at < 0)
				ours_at = refs;
			refs++;
		}
	}
	free(ours);
	if (ours_at < 0)
		return;
	if (seg_word_is(seg, 1, "copy") || seg_word_is(seg, 1, "sync"))
		side = ours_at == refs - 1 ? "dest-" : "src-";
	if (re->plain_http || re->r->insecure) {
		flag = xstrfmt("--%stls-verify=false", side);
		if (!seg_has(seg, flag))
			add_flag(&a->mid, flag, NULL);
		free(flag);
	} else if (inv->ca_file) {
		/* skopeo reads every *.crt of a directory as a CA */
		const char *slash = strrchr(inv->ca_file, '/');
		size_t n = strlen(inv->ca_file);

		if (n > 4 && !strcmp(inv->ca_file + n - 4, ".crt")) {
			char *dir = slash ? xstrndup(inv->ca_file, (size_t)(slash - inv->ca_file)) :
					    xstrdup(".");

			flag = xstrfmt("--%scert-dir", side);
			add_flag(&a->mid, flag, slash == inv->ca_file ? "/" : dir);
			free(flag);
			free(dir);
		}
	}
	if (inv->docker_config) {
		char *path = xstrfmt("%s/config.json", inv->docker_config);

		flag = xstrfmt("--%sauthfile", *side == 'd' ? "dest-" : *side == 's' ? "src-" : "");
		add_flag(&a->mid, flag, path);
		free(flag);
		free(path);
	}
}

static void curl(const struct reach *re, const struct segment *seg, struct additions *a)
{
	const struct run_invocation *inv = re->inv;

	if (!re->hostport || seg_contains(seg, "http://") ||
	    !(seg_contains(seg, re->hostport) || seg_contains(seg, "HOST")))
		return; /* a command that switches the scheme says so itself */
	a->mid_word = 0;
	if (inv->ca_file && !seg_has(seg, "--cacert"))
		add_flag(&a->mid, "--cacert", inv->ca_file);
	if (inv->cert && inv->key && !seg_has(seg, "--cert")) {
		add_flag(&a->mid, "--cert", inv->cert);
		add_flag(&a->mid, "--key", inv->key);
	}
	if (re->r->insecure && !seg_has(seg, "-k") && !seg_has(seg, "--insecure"))
		add_flag(&a->mid, "--insecure", NULL);
}

static void adapt(const struct reach *re, const struct segment *seg, struct additions *a)
{
	const char *ws, *we;
	char *tool;

	if (!seg_word(seg, 0, &ws, &we))
		return;
	tool = xstrndup(ws, (size_t)(we - ws));
	if (!strcmp(tool, "ocidoctor") && seg_word_is(seg, 1, "run"))
		ocidoctor_run(re, seg, a);
	else if (!strcmp(tool, "oras"))
		oras(re, seg, a);
	else if (!strcmp(tool, "crane"))
		crane(re, seg, a);
	else if (!strcmp(tool, "regctl"))
		regctl(re, seg, a);
	else if (!strcmp(tool, "skopeo"))
		skopeo(re, seg, a);
	else if (!strcmp(tool, "curl"))
		curl(re, seg, a);
	/* last, so that it goes to the tool itself (not to a command before it) */
	if (re->inv->proxy && re->inv->proxy_var && sends_to_registry(seg, tool) &&
	    !seg_contains(seg, re->inv->proxy_var)) {
		buf_adds(&a->pre, re->inv->proxy_var);
		buf_adds(&a->pre, "=");
		add_word(&a->pre, re->inv->proxy);
		buf_adds(&a->pre, " ");
	}
	free(tool);
}

/* Where a command's separator starts at s (| || && ; newline), with its length; 0 if none. */
static size_t separator_at(const char *s)
{
	if (!strncmp(s, "&&", 2) || !strncmp(s, "||", 2))
		return 2;
	if (*s == '|' || *s == ';' || *s == '\n')
		return 1;
	return 0;
}

/* The end of the command that starts at s: its separator or the end of the text. */
static const char *segment_end(const char *s)
{
	char quote = 0;
	int paren = 0;

	for (; *s; s++) {
		if (quote) {
			if (*s == quote)
				quote = 0;
		} else if (*s == '\'' || *s == '"') {
			quote = *s;
		} else if (*s == '\\' && s[1]) {
			s++;
		} else if (*s == '(') {
			paren++;
		} else if (*s == ')' && paren) {
			paren--;
		} else if (!paren && separator_at(s)) {
			break;
		}
	}
	return s;
}

/* Writes one command with its additions: [pre]command[mid after its 2nd word][post]. */
static void put_segment(struct buf *b, const struct segment *seg, const struct additions *a)
{
	const char *lead = skip_space(seg->start, seg->end), *tail = seg->end;
	const char *mid_at = NULL, *ws, *we;

	while (tail > lead && is_space(tail[-1]))
		tail--;
	if (a->mid.len && (seg_word(seg, a->mid_word, &ws, &we) || seg_word(seg, 0, &ws, &we)))
		mid_at = we;
	buf_add(b, seg->start, (size_t)(lead - seg->start));
	buf_add(b, a->pre.data, a->pre.len);
	if (mid_at) {
		buf_add(b, lead, (size_t)(mid_at - lead));
		buf_add(b, a->mid.data, a->mid.len);
		buf_add(b, mid_at, (size_t)(tail - mid_at));
	} else {
		buf_add(b, lead, (size_t)(tail - lead));
	}
	buf_add(b, a->post.data, a->post.len);
	buf_add(b, tail, (size_t)(seg->end - tail));
}

static void reach_init(struct reach *re, const struct run_results *r)
{
	struct registry_url u;

	memset(re, 0, sizeof(*re));
	re->r = r;
	re->inv = &r->invocation;
	if (r->registry && registry_url_parse(&u, r->registry, NULL) == 0) {
		re->plain_http = !strcmp(u.scheme, "http");
		re->hostport = registry_url_hostport(&u);
		registry_url_release(&u);
	}
}

char *report_command(const struct run_results *r, const char *text)
{
	char *filled = report_fill(r, text);
	const char *s = filled;
	struct reach re;
	struct buf b;
	int piped = 0;

	reach_init(&re, r);
	buf_init(&b, BUF_TEXT_MAX);
	for (;;) {
		struct segment seg = { .start = s, .end = segment_end(s), .piped = piped };
		struct additions a;
		size_t sep;

		buf_init(&a.pre, BUF_TEXT_MAX);
		buf_init(&a.mid, BUF_TEXT_MAX);
		buf_init(&a.post, BUF_TEXT_MAX);
		a.mid_word = 1;
		adapt(&re, &seg, &a);
		put_segment(&b, &seg, &a);
		buf_release(&a.pre);
		buf_release(&a.mid);
		buf_release(&a.post);
		if (!*seg.end)
			break;
		sep = separator_at(seg.end);
		piped = sep == 1 && *seg.end == '|';
		buf_add(&b, seg.end, sep);
		s = seg.end + sep;
	}
	free(re.hostport);
	free(filled);
	return buf_detach(&b);
}
