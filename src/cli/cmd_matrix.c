/*
 * ocidoctor matrix: the checks against a fleet of registries and
 * repositories, at most --parallel at a time over one engine (so targets
 * on the same registry share connections), streaming a row per target
 * as it finishes. The targets file is read once, whole (at most 16 MiB,
 * lines of at most 4096 bytes), and every target is validated before any
 * request; after that memory follows --parallel, not the number of
 * targets: each target's run is freed once its row is written.
 */
#include "checks/run.h"
#include "doctor/doctor.h"
#include "cli/cli.h"
#include "cli/settings.h"
#include "report/matrix.h"
#include "util/thread.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#define MATRIX_DEFAULT_PARALLEL 16
#define MATRIX_MAX_PARALLEL 256

struct matrix_args {
	char *targets;
	long parallel;
	char *format;
	char *output;
	struct opt_list checks;
	long timeout;
	char *docker_config;
	char *ca_file;
	char *cert;
	char *key;
	int insecure;
	int no_writes;
	int no_progress;
	int progress;
	int help;
};

#define MARG(field) offsetof(struct matrix_args, field)

static const struct opt matrix_opts[] = {
	{ .long_name = "targets", .type = OPT_STRING, .offset = MARG(targets), .arg = "FILE",
	  .help = "one target a line: 'registry-url [repository[:tag]]', or a YAML list" },
	{ .long_name = "parallel", .type = OPT_LONG, .offset = MARG(parallel), .arg = "N",
	  .help = "targets probed at the same time (default 16)" },
	{ .long_name = "format", .type = OPT_STRING, .offset = MARG(format), .arg = "FMT",
	  .help = "text (default), json (one line per target), csv, html, junit (a testsuite per target), markdown (a CI summary table) or prometheus",
	  .values = (const char *const[]){ "text", "json", "csv", "html", "junit", "markdown", "prometheus", NULL } },
	{ .long_name = "output", .short_name = 'o', .type = OPT_STRING, .offset = MARG(output),
	  .arg = "FILE", .help = "write the table to FILE instead of stdout" },
	{ .long_name = "check", .type = OPT_LIST, .offset = MARG(checks), .arg = "ID",
	  .help = "run only matching checks; globs allowed (default all)" },
	{ .long_name = "timeout", .type = OPT_LONG, .offset = MARG(timeout), .arg = "SECONDS",
	  .help = "deadline for each target (default 30, at most 86400)", .max = TIMEOUT_MAX_SECONDS },
	{ .long_name = "docker-config", .type = OPT_STRING, .offset = MARG(docker_config),
	  .arg = "DIR", .help = "credentials for every target from this docker config directory" },
	{ .long_name = "ca-file", .type = OPT_STRING, .offset = MARG(ca_file), .arg = "PEM",
	  .help = "trust this CA bundle as well as the system's" },
	{ .long_name = "cert", .type = OPT_STRING, .offset = MARG(cert), .arg = "PEM",
	  .help = "client certificate for TLS (with --key)" },
	{ .long_name = "key", .type = OPT_STRING, .offset = MARG(key), .arg = "PEM",
	  .help = "the client certificate's private key" },
	{ .long_name = "insecure", .type = OPT_BOOL, .offset = MARG(insecure),
	  .help = "skip TLS certificate verification" },
	{ .long_name = "no-writes", .type = OPT_BOOL, .offset = MARG(no_writes),
	  .help = "skip every probe that writes to a registry" },
	{ .long_name = "no-progress", .type = OPT_BOOL, .offset = MARG(no_progress),
	  .help = "no progress bar (by default it is drawn on stderr when stdout and stderr are terminals)" },
	{ .long_name = "progress", .type = OPT_BOOL, .offset = MARG(progress),
	  .help = "draw the progress bar on stderr even when stdout is not a terminal" },
	{ .long_name = "help", .short_name = 'h', .type = OPT_BOOL, .offset = MARG(help),
	  .help = "show this help" },
	OPT_END
};

/* One target as read from the file. */
struct target {
	char *registry;
	char *repository;
	char *tag;
	int line;
};

static void target_release(struct target *t)
{
	free(t->registry);
	free(t->repository);
	free(t->tag);
	memset(t, 0, sizeof(*t));
}

/*
 * Splits "repository[:tag]" (the tag after the last ':' past the last '/')
 * or "repository@digest".
 */
static void split_reference(struct target *t, const char *ref)
{
	const char *at = strchr(ref, '@');
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');

	if (at) {
		t->repository = xstrndup(ref, (size_t)(at - ref));
		t->tag = xstrdup(at + 1);
	} else if (colon) {
		t->repository = xstrndup(ref, (size_t)(colon - ref));
		t->tag = xstrdup(colon + 1);
	} else {
		t->repository = xstrdup(ref);
		t->tag = xstrdup("latest");
	}
}

/* Parses "registry-url [repository[:tag]]"; returns 0, 1 for a blank or comment line, -1 bad. */
static int parse_target_line(struct target *t, char *line, const char **why)
{
	char *fields[3];
	int n = 0;
	char *p = line;

	memset(t, 0, sizeof(*t));
	while (n < 3) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			break;
		fields[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (*p)
			*p++ = '\0';
	}
	if (!n)
		return 1;
	if (n == 3) {
		*why = "a target line is 'registry-url [repository[:tag]]'";
		return -1;
	}
	t->registry = xstrdup(fields[0]);
	split_reference(t, n == 2 ? fields[1] : "library/alpine:latest");
	return 0;
}

static int target_valid(const struct target *t, const char **why)
{
	struct registry_url u;

	if (registry_url_parse(&u, t->registry, why) < 0)
		return -1;
	registry_url_release(&u);
	if (repository_name_valid(t->repository, why) < 0)
		return -1;
	return reference_valid(t->tag, why);
}

/* ---- the target source: text lines, or a YAML list ---------------------- */

/* The targets file is read once, whole, before any request. */
#define TARGETS_MAX_BYTES ((size_t)16 << 20)
#define TARGET_LINE_MAX 4096

struct target_source {
	const char *path;
	struct target *list;    /* every target, validated */
	size_t nr, alloc, next;
};

static int is_yaml(const char *path, const struct buf *text)
{
	size_t n = strlen(path);
	const char *p = text->data;

	if ((n > 5 && !strcmp(path + n - 5, ".yaml")) || (n > 4 && !strcmp(path + n - 4, ".yml")))
		return 1;
	/* standard input or a pipe: a YAML list starts with "- " or "---"; a target line never does */
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return !strncmp(p, "---", 3) || !strncmp(p, "- ", 2) || !strncmp(p, "-\n", 2);
}

/* Validates t and appends it to the list (taking it); -1 with *why on a bad target. */
static int add_target(struct target_source *src, struct target *t, char **why)
{
	const char *bad = NULL;

	if (target_valid(t, &bad) < 0) {
		*why = xstrfmt("%s:%d: %s", src->path, t->line, bad);
		target_release(t);
		return -1;
	}
	ALLOC_GROW(src->list, src->nr + 1, src->alloc);
	src->list[src->nr++] = *t;
	memset(t, 0, sizeof(*t));
	return 0;
}

/* YAML: a sequence of "url repo:tag" strings or {registry, repository, tag} maps. */
static int load_yaml(struct target_source *src, const struct buf *text, char **why)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_item_t *item;
	int ret = -1;

	if (!yaml_parser_initialize(&parser))
		xdie("out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text->data, text->len);
	if (!yaml_parser_load(&parser, &doc)) {
		*why = xstrfmt("%s:%lu: invalid YAML", src->path,
			       (unsigned long)parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_SEQUENCE_NODE) {
		*why = xstrfmt("%s: a YAML targets file is a list", src->path);
		goto done;
	}
	for (item = root->data.sequence.items.start; item < root->data.sequence.items.top; item++) {
		yaml_node_t *n = yaml_document_get_node(&doc, *item);
		struct target t = { 0 };
		const char *bad = NULL;

		if (n->type == YAML_SCALAR_NODE) {
			if (parse_target_line(&t, (char *)n->data.scalar.value, &bad) != 0)
				bad = bad ? bad : "an empty target";
		} else if (n->type == YAML_MAPPING_NODE) {
			yaml_node_pair_t *p;
			const char *repo = "library/alpine", *tag = NULL;

			for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *k = yaml_document_get_node(&doc, p->key);
				yaml_node_t *v = yaml_document_get_node(&doc, p->value);
				const char *key = k->type == YAML_SCALAR_NODE ? (char *)k->data.scalar.value : "";
				const char *val = v->type == YAML_SCALAR_NODE ? (char *)v->data.scalar.value : NULL;

				if (!val)
					bad = "target values are plain strings";
				else if (!strcmp(key, "registry"))
					t.registry = xstrdup(val);
				else if (!strcmp(key, "repository"))
					repo = val;
				else if (!strcmp(key, "tag"))
					tag = val;
				else
					bad = "a target has the keys registry, repository and tag";
			}
			if (!t.registry && !bad)
				bad = "a target needs a registry";
			if (!bad) {
				split_reference(&t, repo);
				if (tag) {
					free(t.tag);
					t.tag = xstrdup(tag);
				}
			}
		} else {
			bad = "a target is a string or a mapping";
		}
		if (bad) {
			*why = xstrfmt("%s:%lu: %s", src->path, (unsigned long)n->start_mark.line + 1, bad);
			target_release(&t);
			goto done;
		}
		t.line = (int)n->start_mark.line + 1;
		if (add_target(src, &t, why) < 0)
			goto done;
	}
	ret = 0;
done:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

/* Text: one target a line; blank lines and '#' comments are skipped. */
static int load_lines(struct target_source *src, struct buf *text, char **why)
{
	char *p = text->data, *end = text->data + text->len;
	int line = 0;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *bad = NULL;
		struct target t;
		int ret;

		line++;
		if (len > TARGET_LINE_MAX) {
			*why = xstrfmt("%s:%d: a line is longer than %d bytes", src->path, line,
				       TARGET_LINE_MAX);
			return -1;
		}
		if (memchr(p, '\0', len)) {
			*why = xstrfmt("%s:%d: a line holds a NUL byte", src->path, line);
			return -1;
		}
		p[len] = '\0';
		ret = parse_target_line(&t, p, &bad);
		p += len + 1;
		if (ret == 1)
			continue;
		if (ret < 0) {
			*why = xstrfmt("%s:%d: %s", src->path, line, bad);
			return -1;
		}
		t.line = line;
		if (add_target(src, &t, why) < 0)
			return -1;
	}
	return 0;
}

/* Reads fd to its end into text; -1 with errno, or with text->overflow set. */
static int read_all(int fd, struct buf *text)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (buf_add(text, chunk, (size_t)n) < 0)
			return -1;
	}
}

/*
 * Reads the targets file once ("-" is standard input; a FIFO, /dev/stdin
 * and a process substitution work too) and validates every target.
 * Returns 0 with at least one target, or -1 with *why.
 */
static int source_load(struct target_source *src, const char *path, char **why)
{
	/* /dev/stdin is read as such too: opening it anew fails for a socket */
	int is_stdin = !strcmp(path, "-") || !strcmp(path, "/dev/stdin");
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	const char *name = !strcmp(path, "-") ? "standard input" : path;
	struct stat st;
	struct buf text;
	int ret = -1;

	memset(src, 0, sizeof(*src));
	src->path = name;
	buf_init(&text, TARGETS_MAX_BYTES);
	if (fd < 0) {
		*why = xstrfmt("cannot read the targets file '%s': %s", path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		*why = xstrfmt("the targets file '%s' is a directory", path);
		goto done;
	}
	if (read_all(fd, &text) < 0) {
		*why = text.overflow ? xstrfmt("the targets file '%s' is larger than %zu MiB", name,
					       TARGETS_MAX_BYTES >> 20)
				     : xstrfmt("cannot read the targets file '%s': %s", name,
					       strerror(errno));
		goto done;
	}
	if (is_yaml(path, &text) ? load_yaml(src, &text, why) : load_lines(src, &text, why))
		goto done;
	if (!src->nr) {
		*why = xstrfmt("the targets file '%s' has no targets", name);
		goto done;
	}
	ret = 0;
done:
	if (fd > STDIN_FILENO)
		close(fd);
	buf_release(&text);
	return ret;
}

/* The next target, taken out of the list; 0 at the end. */
static int source_next(struct target_source *src, struct target *t)
{
	if (src->next >= src->nr)
		return 0;
	*t = src->list[src->next];
	memset(&src->list[src->next++], 0, sizeof(*t));
	return 1;
}

static void source_close(struct target_source *src)
{
	size_t i;

	for (i = 0; i < src->nr; i++)
		target_release(&src->list[i]);
	free(src->list);
	memset(src, 0, sizeof(*src));
}

/* ---- the fleet run ------------------------------------------------------- */

struct fleet {
	struct matrix_args *args;
	const struct matrix_writer *writer;
	struct matrix_out mo;
	struct engine *engine;
	const int *selected;
	FILE *out;
	int total, done, active, progress;
	int bar_drawn;            /* the bar is on stderr's last line */
	int started;              /* targets handed to jobs so far: the next job's index */
	struct matrix_row **ring; /* finished rows waiting for the ones before them, --parallel slots */
	char started_at[32];
	int counts[STATUS_COUNT];
	enum check_status worst;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/*
	 * Job threads are joined, never detached, so none of them can still be
	 * touching the fleet when fleet_run returns: a job that is done puts its
	 * own handle here, and the dispatcher joins it.
	 */
	int threads;              /* job threads started and not yet joined */
	pthread_t *exited;        /* handles of jobs that are done, to join */
	size_t nr_exited, alloc_exited;
};

struct job {
	struct fleet *fleet;
	int index;                /* the target's place in the file, from 0 */
	struct target target;
	struct creds creds;
	struct run_config config;
};

/*
 * The bar lives on stderr's last line. It is erased before a row is
 * written, so that on a terminal shared by stdout and stderr a row never
 * lands in the middle of it, and drawn again after.
 */
static void bar_clear(struct fleet *f)
{
	if (!f->bar_drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	f->bar_drawn = 0;
}

static void bar_draw(struct fleet *f)
{
	int width = 30, filled = f->total ? f->done * width / f->total : width;

	if (f->done >= f->total)
		return; /* finished: nothing is left on the line */
	fprintf(stderr, "\r[%.*s%*s] %d/%d targets, %d failing", filled,
		"##############################", width - filled, "", f->done, f->total,
		f->counts[STATUS_FAIL]);
	fflush(stderr);
	f->bar_drawn = 1;
}

/* Writes every finished row whose predecessors are written, in file order. Holds f->lock. */
static void flush_rows(struct fleet *f)
{
	int slots = (int)f->args->parallel;
	struct matrix_row *row;

	while ((row = f->ring[f->done % slots])) {
		f->ring[f->done % slots] = NULL;
		if (f->progress)
			bar_clear(f);
		f->writer->row(&f->mo, row);
		fflush(f->out);
		f->done++;
		f->counts[row->worst]++;
		if (row->worst > f->worst)
			f->worst = row->worst;
		matrix_row_free(row);
		f->active--; /* the slot is free once its row is out */
		if (f->progress)
			bar_draw(f);
	}
	pthread_cond_broadcast(&f->cond);
}

static void resolve_creds(struct job *j)
{
	struct registry_url u;
	struct creds_options co = { 0 };
	char *host, *why = NULL;

	if (registry_url_parse(&u, j->target.registry, NULL) < 0)
		return;
	host = registry_url_hostport(&u);
	co.docker_config = j->fleet->args->docker_config;
	co.registry_host = host;
	co.repository = j->target.repository;
	if (creds_resolve(&j->creds, &co, &why) < 0)
		creds_release(&j->creds); /* a broken source: probe anonymously */
	free(why);
	free(host);
	registry_url_release(&u);
}

static void job_free(struct job *j)
{
	creds_release(&j->creds);
	target_release(&j->target);
	free(j);
}

/* Runs one target, writes its row, frees everything it had, then gives its slot back. */
static void *job_main(void *arg)
{
	struct job *j = arg;
	struct fleet *f = j->fleet;
	struct registry_options ro = { .url = j->target.registry, .creds = &j->creds,
				       .timeout_ms = f->args->timeout * 1000 };
	struct registry *registry = NULL;
	struct matrix_row row, *copy;
	const char *why;
	struct run_results results;
	struct run run;
	int index;

	j->config = (struct run_config){ .registry = j->target.registry,
		.repository = j->target.repository, .tag = j->target.tag,
		.insecure = f->args->insecure, .creds = &j->creds, .no_writes = f->args->no_writes };
	if (registry_new(&registry, f->engine, &ro, &why) < 0)
		xdie("a validated target was refused");
	run_init(&run, &j->config, f->engine, registry, f->selected);
	run_start(&run);
	run_finish(&run);
	doctor_results_take(&results, &run);
	run_release(&run);
	matrix_row_from_results(&row, &results);
	copy = matrix_row_dup(&row);
	matrix_row_release(&row);
	run_results_release(&results);
	index = j->index;

	registry_free(registry);
	job_free(j);

	pthread_mutex_lock(&f->lock);
	f->ring[index % (int)f->args->parallel] = copy;
	flush_rows(f);
	ALLOC_GROW(f->exited, f->nr_exited + 1, f->alloc_exited);
	f->exited[f->nr_exited++] = pthread_self();
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* Joins the jobs that are done. Called and returns with f->lock held. */
static void reap_jobs(struct fleet *f)
{
	while (f->nr_exited) {
		pthread_t t = f->exited[--f->nr_exited];

		pthread_mutex_unlock(&f->lock);
		pthread_join(t, NULL);
		pthread_mutex_lock(&f->lock);
		f->threads--;
	}
}

struct dispatcher {
	struct fleet *fleet;
	struct target_source *src;
	pthread_t tid;
};

/* Starts a job whenever fewer than --parallel run, then waits for the last. */
static void *dispatch_main(void *arg)
{
	struct dispatcher *d = arg;
	struct fleet *f = d->fleet;

	for (;;) {
		struct job *j = xcalloc(1, sizeof(*j));
		pthread_t tid;

		if (!source_next(d->src, &j->target)) {
			free(j);
			break;
		}
		j->fleet = f;
		resolve_creds(j);
		pthread_mutex_lock(&f->lock);
		reap_jobs(f);
		while (f->active >= f->args->parallel) {
			pthread_cond_wait(&f->cond, &f->lock);
			reap_jobs(f);
		}
		f->active++;
		f->threads++;
		j->index = f->started++;
		pthread_mutex_unlock(&f->lock);
		thread_start(&tid, job_main, j); /* j may be gone once this returns */
	}
	pthread_mutex_lock(&f->lock);
	for (reap_jobs(f); f->threads; reap_jobs(f))
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
	engine_unhold(f->engine);
	return NULL;
}

/* Checks every input, the targets file included (read here, once); EXIT_OK or EXIT_USAGE. */
static int validate(struct matrix_args *a, int *selected, struct target_source *src)
{
	char *why = NULL;

	if (!a->targets)
		return cli_usage_error("matrix needs --targets FILE");
	if (!a->format)
		a->format = xstrdup("text");
	if (!matrix_writer_find(a->format))
		return cli_usage_error("unknown --format '%s' (text, json, csv, html, junit, markdown or prometheus)",
				       a->format);
	if (a->progress && a->no_progress)
		return cli_usage_error("--progress and --no-progress contradict each other");
	if (!a->parallel)
		a->parallel = MATRIX_DEFAULT_PARALLEL;
	if (a->parallel > MATRIX_MAX_PARALLEL)
		return cli_usage_error("--parallel is at most %d", MATRIX_MAX_PARALLEL);
	if (!a->timeout)
		a->timeout = 30;
	if (!!a->cert != !!a->key)
		return cli_usage_error("--cert and --key go together");
	if (a->cert && http_check_client_pair(a->cert, a->key, &why) < 0) {
		cli_usage_error("%s", why);
		free(why);
		return EXIT_USAGE;
	}
	if (cli_select_checks(&a->checks, &(const struct opt_list){ 0 }, selected) != EXIT_OK)
		return EXIT_USAGE;
	if (source_load(src, a->targets, &why) < 0) {
		cli_usage_error("%s", why);
		free(why);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}


static int fleet_run(struct matrix_args *a, const int *selected, struct target_source *src)
{
	struct engine_options eo = {
		.timeout_ms = 24L * 3600 * 1000, .ca_file = a->ca_file, .cert = a->cert,
		.key = a->key, .insecure = a->insecure,
	};
	struct fleet f = { .args = a, .selected = selected, .total = (int)src->nr,
			   .writer = matrix_writer_find(a->format) };
	struct dispatcher d = { .fleet = &f, .src = src };
	char *why = NULL;
	int ret = EXIT_OK;

	struct tm tm;
	time_t now = time(NULL);

	f.out = a->output ? cli_open_output(a->output, &why) : stdout;
	if (!f.out) {
		ret = cli_usage_error("%s", why);
		free(why);
		return ret;
	}
	/* no bar unless both ends are a terminal, or it is asked for */
	f.progress = a->progress ||
		     (!a->no_progress && isatty(STDERR_FILENO) && isatty(STDOUT_FILENO));
	f.ring = xcalloc((size_t)a->parallel, sizeof(*f.ring));
	gmtime_r(&now, &tm);
	strftime(f.started_at, sizeof(f.started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	f.mo = (struct matrix_out){ .out = f.out, .started_at = f.started_at, .total = f.total };
	if (engine_new(&f.engine, &eo) < 0)
		xdie("cannot start the fleet run");
	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.cond, NULL);
	if (f.writer->begin)
		f.writer->begin(&f.mo);
	if (f.progress)
		bar_draw(&f);
	engine_hold(f.engine);
	thread_start(&d.tid, dispatch_main, &d);
	engine_loop(f.engine);
	pthread_join(d.tid, NULL);
	bar_clear(&f);
	if (f.writer->end)
		f.writer->end(&f.mo, f.done, f.worst);
	free(f.ring);
	free(f.exited);
	errno = 0;
	ret = cli_finish_output(f.out, a->output, "table", 0);
	engine_free(f.engine);
	pthread_mutex_destroy(&f.lock);
	pthread_cond_destroy(&f.cond);
	if (ret == EXIT_OK)
		ret = cli_exit_status(f.worst, NULL);
	return ret;
}

static int matrix_main(int argc, char **argv)
{
	struct matrix_args a = { 0 };
	struct opt_list positional = { 0 };
	int *selected = xcalloc(check_table_size, sizeof(*selected));
	struct target_source src = { 0 };
	char *why = NULL;
	int ret;

	if (opt_parse(matrix_opts, argc, argv, &a, &positional, NULL, &why) < 0)
		ret = cli_usage_error("%s", why);
	else if (a.help)
		ret = (opt_usage(stdout, cmd_matrix.usage, cmd_matrix.about, matrix_opts), EXIT_OK);
	else if (positional.nr)
		ret = cli_usage_error("unexpected argument '%s'", positional.items[0]);
	else if ((ret = validate(&a, selected, &src)) == EXIT_OK) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		ret = fleet_run(&a, selected, &src);
		curl_global_cleanup();
	}
	source_close(&src);
	opt_release(matrix_opts, &a);
	opt_list_release(&positional);
	free(selected);
	free(why);
	return ret;
}

const struct command cmd_matrix = {
	.name = "matrix",
	.usage = "ocidoctor matrix --targets FILE [--parallel N] [--format text|json|csv|html|junit|markdown|prometheus] [OPTIONS]",
	.about = "Run the checks against many registries and repositories; print a registry x capability table.",
	.opts = matrix_opts,
	.fn = matrix_main,
};
